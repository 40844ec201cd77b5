package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// socketName is the admin socket inside the data directory.
const socketName = "admin.sock"

// maxRequest bounds what one admin request may carry (a key file, an
// argument list): the socket is local and 0600, but a bound costs nothing.
const maxRequest = 8 << 20

// adminRequest is what the CLI sends over the admin socket: the command
// already parsed client side (so a usage error never needs a server) and
// the bytes of its input file.
type adminRequest struct {
	Command string   `json:"command"`
	Args    []string `json:"args"`
	Opts    cmdOpts  `json:"opts"`
	Input   []byte   `json:"input,omitempty"`
}

// adminResponse is the command's output and outcome as run by the server.
type adminResponse struct {
	Stdout string `json:"stdout"`
	Error  string `json:"error,omitempty"`
	Code   int    `json:"code"`
}

// runAdmin runs an admin command: through the server when one answers on
// the admin socket, else locally on the store.
func runAdmin(inv *invocation, stdin io.Reader, stdout, stderr io.Writer) error {
	if n := inv.cmd.inputArg; n > 0 && n <= len(inv.args) {
		b, err := readInput(inv.args[n-1], stdin)
		if err != nil {
			return err
		}
		inv.input = b
	}
	if inv.cmd.prepare != nil {
		if err := inv.cmd.prepare(inv); err != nil {
			return err
		}
	}
	sock := filepath.Join(inv.data, socketName)
	if resp, ok, err := callServer(sock, inv); ok || err != nil {
		if err != nil {
			return err
		}
		io.WriteString(stdout, resp.Stdout)
		if resp.Code != exitOK {
			return &exitError{code: resp.Code, msg: resp.Error}
		}
		return nil
	}
	e, err := openLocal(inv.data)
	if errors.Is(err, errInUse) {
		// A server may be starting: its socket comes up once its store,
		// host keys and listeners are ready. Wait a little for it.
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if resp, ok, err2 := callServer(sock, inv); ok {
				if err2 != nil {
					return err2
				}
				io.WriteString(stdout, resp.Stdout)
				if resp.Code != exitOK {
					return &exitError{code: resp.Code, msg: resp.Error}
				}
				return nil
			}
		}
	}
	if err != nil {
		return err
	}
	defer e.close()
	inv.env = e
	inv.actor = localActor()
	return inv.cmd.run(inv)
}

// readInput reads the file an admin command takes ("-" is stdin).
func readInput(name string, stdin io.Reader) ([]byte, error) {
	var r io.Reader
	if name == "-" {
		r = stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", name, pathErrReason(err))
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxRequest/2+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", name, pathErrReason(err))
	}
	if len(b) > maxRequest/2 {
		return nil, fmt.Errorf("%s is too large", name)
	}
	return b, nil
}

// pathErrReason strips the path from an *os.PathError: the caller names
// the file itself.
func pathErrReason(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// socketAddr returns the address to bind or dial for the socket file at
// path. A unix socket address holds at most 107 bytes; a deeper data
// directory is reached by a path relative to the working directory when
// that one is short enough.
func socketAddr(path string) string {
	const max = 100
	if len(path) <= max {
		return path
	}
	abs, err1 := filepath.Abs(path)
	wd, err2 := os.Getwd()
	if err1 != nil || err2 != nil {
		return path
	}
	if rel, err := filepath.Rel(wd, abs); err == nil && len(rel) < len(path) {
		return rel
	}
	return path
}

// callServer sends inv to the server listening on sock. ok is false when
// no server answers (no socket, or a stale one): the caller runs locally.
func callServer(sock string, inv *invocation) (resp adminResponse, ok bool, err error) {
	conn, err := net.DialTimeout("unix", socketAddr(sock), 2*time.Second)
	if err != nil {
		return resp, false, nil
	}
	defer conn.Close()
	req := adminRequest{Command: inv.cmd.name, Args: inv.args, Opts: inv.opts, Input: inv.input}
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return resp, true, fmt.Errorf("admin socket %s: %v", sock, err)
	}
	if uc, ok := conn.(*net.UnixConn); ok {
		uc.CloseWrite()
	}
	// Jobs can run a while (a month of sandbox time); no read deadline.
	if err := json.NewDecoder(bufio.NewReader(conn)).Decode(&resp); err != nil {
		return resp, true, fmt.Errorf("the server on %s closed the connection before answering (%v)", sock, err)
	}
	return resp, true, nil
}

// adminServer serves admin commands on the unix socket, running them with
// the server's services.
type adminServer struct {
	env    *env
	ln     net.Listener
	log    *slog.Logger
	mu     sync.Mutex // one admin command at a time: they are short, and it keeps outputs ordered
	wg     sync.WaitGroup
	closed chan struct{}
}

// listenAdmin creates DATA/admin.sock with mode 0600. A socket file left
// by a server that died is removed first; one that answers means another
// server runs here (bbolt's lock normally says so before we get here).
func listenAdmin(dataDir string, e *env, log *slog.Logger) (*adminServer, error) {
	sock := filepath.Join(dataDir, socketName)
	if c, err := net.DialTimeout("unix", socketAddr(sock), time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("another fileapi server answers on %s", sock)
	}
	if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("cannot remove stale admin socket: %w", err)
	}
	ln, err := net.Listen("unix", socketAddr(sock))
	if err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	if err := os.Chmod(sock, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	// Closing the listener removes the file; that is what we want.
	s := &adminServer{env: e, ln: ln, log: log, closed: make(chan struct{})}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

func (s *adminServer) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.closed:
				return
			default:
			}
			s.log.Error("admin socket accept", "err", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			s.handle(c)
		}()
	}
}

func (s *adminServer) handle(c net.Conn) {
	var req adminRequest
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if err := json.NewDecoder(io.LimitReader(c, maxRequest)).Decode(&req); err != nil {
		json.NewEncoder(c).Encode(adminResponse{Code: exitUsage, Error: "bad admin request: " + err.Error()})
		return
	}
	c.SetReadDeadline(time.Time{})
	json.NewEncoder(c).Encode(s.execute(req, peerActor(c)))
}

// execute runs one admin request with the server's services.
func (s *adminServer) execute(req adminRequest, actor string) (resp adminResponse) {
	var cmd *command
	for _, c := range commands {
		if c.name == req.Command && c.admin {
			cmd = c
		}
	}
	if cmd == nil {
		return adminResponse{Code: exitUsage, Error: fmt.Sprintf("the server does not run %q", req.Command)}
	}
	// The CLI checked the arguments already; a request from anything else
	// is checked again so that no command runs with missing arguments.
	if len(req.Args) < cmd.minArgs || (cmd.maxArgs >= 0 && len(req.Args) > cmd.maxArgs) {
		return adminResponse{Code: exitUsage, Error: fmt.Sprintf("%s: wrong number of arguments (usage: fileapi %s %s)", cmd.name, cmd.name, cmd.args)}
	}
	var out bytes.Buffer
	inv := &invocation{cmd: cmd, args: req.Args, opts: req.Opts, input: req.Input, stdout: &out, env: s.env, data: s.env.dataDir, actor: actor}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("admin command panicked", "command", req.Command, "panic", p)
			resp = adminResponse{Stdout: out.String(), Code: exitFail, Error: "internal error in the server (see its log)"}
		}
	}()
	s.log.Info("admin command", "command", req.Command, "args", req.Args, "by", actor)
	err := cmd.run(inv)
	resp = adminResponse{Stdout: out.String()}
	if err != nil {
		resp.Error = err.Error()
		resp.Code = exitFail
		var ue *usageError
		if errors.As(err, &ue) {
			resp.Code = exitUsage
		}
	}
	return resp
}

// Close stops accepting and waits for running commands.
func (s *adminServer) Close(ctx context.Context) {
	close(s.closed)
	s.ln.Close()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
