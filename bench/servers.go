package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// NewKey makes an ed25519 key and writes its OpenSSH private key file to
// path (for the sftp command line client).
func NewKey(path string) (ssh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, "sftpbench")
	if err != nil {
		return nil, err
	}
	return s, os.WriteFile(path, pem.EncodeToMemory(block), 0o600)
}

// Process is a server started by the benchmark.
type Process struct {
	cmd    *exec.Cmd
	exited chan struct{}
	mu     sync.Mutex
	log    bytes.Buffer
}

func (p *Process) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.log.Len() < 1<<20 {
		p.log.Write(b)
	}
	return len(b), nil
}

// Log is what the process wrote (its first MiB).
func (p *Process) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// Pid is the process ID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Stop sends SIGTERM and waits up to 15 s, then kills.
func (p *Process) Stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

func start(cmd *exec.Cmd) (*Process, error) {
	p := &Process{cmd: cmd, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p, p
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { cmd.Wait(); close(p.exited) }()
	return p, nil
}

// Fileapi is a running `fileapi serve`.
type Fileapi struct {
	*Process
	Bin, Data          string
	SFTPAddr, HTTPAddr string
}

// StartFileapi runs bin serve on loopback ports the kernel picks, with
// data as its data directory and extra flags; env is added to the
// environment (FILEAPI_PPROF=1 for profiles).
func StartFileapi(bin, data string, env []string, extra ...string) (*Fileapi, error) {
	args := append([]string{"serve", "--data", data, "--sftp-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0",
		"--log-format", "json", "--shutdown-grace", "5s"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(cleanEnv(), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p := &Process{cmd: cmd, exited: make(chan struct{})}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	f := &Fileapi{Process: p, Bin: bin, Data: data}
	started := make(chan map[string]any, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			p.Write(append(sc.Bytes(), '\n'))
			var m map[string]any
			if bytes.Contains(sc.Bytes(), []byte(`"fileapi started"`)) && json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == "fileapi started" {
				started <- m
			}
		}
	}()
	go func() { cmd.Wait(); close(p.exited) }()
	select {
	case m := <-started:
		f.SFTPAddr, _ = m["sftp_addr"].(string)
		f.HTTPAddr, _ = m["http_addr"].(string)
		return f, nil
	case <-p.exited:
		return nil, fmt.Errorf("fileapi serve exited:\n%s", p.Log())
	case <-time.After(60 * time.Second):
		p.Stop()
		return nil, fmt.Errorf("fileapi serve did not start:\n%s", p.Log())
	}
}

// AddMerchant registers a merchant and its key through the admin CLI, as
// an operator would.
func (f *Fileapi) AddMerchant(m Merchant) error {
	if err := f.admin("", "merchant", "add", m.ID, "--name", strings.ToUpper(m.ID)+" SAS", "--creditor-ref", m.CreditorRef); err != nil {
		return err
	}
	return f.admin(string(ssh.MarshalAuthorizedKey(m.Signer.PublicKey())), "keys", "add", m.ID, "-")
}

func (f *Fileapi) admin(stdin string, args ...string) error {
	cmd := exec.Command(f.Bin, append(args, "--data", f.Data)...)
	cmd.Env = cleanEnv()
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("fileapi %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// CPUProfile fetches a CPU profile of d from /debug/pprof (the server must
// run with FILEAPI_PPROF=1) into path.
func (f *Fileapi) CPUProfile(ctx context.Context, d time.Duration, path string) error {
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", f.HTTPAddr, int(d.Seconds()))
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s: %s: %s", url, resp.Status, b)
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, resp.Body); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FILEAPI_") && !strings.HasPrefix(kv, "SSH_AUTH_SOCK=") {
			env = append(env, kv)
		}
	}
	return env
}

// SSHD is a throwaway OpenSSH server: its own config, host key and
// authorized_keys in dir, on a loopback port, never /etc/ssh.
type SSHD struct {
	*Process
	Addr string
	User string
}

// StartSSHD starts sshdBin (Debian's /usr/sbin/sshd) in the foreground
// with internal-sftp for the current user, authorizing pub.
func StartSSHD(sshdBin, dir string, pub ssh.PublicKey) (*SSHD, error) {
	u, err := user.Current()
	if err != nil {
		return nil, err
	}
	hostKey := filepath.Join(dir, "ssh_host_ed25519_key")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ssh-keygen: %v: %s", err, out)
	}
	ak := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(ak, ssh.MarshalAuthorizedKey(pub), 0o600); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	// sshd refuses to start without its privilege separation directory.
	if os.Geteuid() == 0 {
		os.MkdirAll("/run/sshd", 0o755)
	}
	cfg := filepath.Join(dir, "sshd_config")
	conf := fmt.Sprintf(`ListenAddress 127.0.0.1
Port %d
HostKey %s
PidFile %s
AuthorizedKeysFile %s
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
MaxStartups 200:30:400
MaxSessions 100
LogLevel ERROR
`, port, hostKey, filepath.Join(dir, "sshd.pid"), ak)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	p, err := start(exec.Command(sshdBin, "-D", "-e", "-f", cfg))
	if err != nil {
		return nil, err
	}
	s := &SSHD{Process: p, Addr: fmt.Sprintf("127.0.0.1:%d", port), User: u.Username}
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err == nil {
			c.Close()
			return s, nil
		}
		select {
		case <-p.exited:
			return nil, fmt.Errorf("sshd exited:\n%s", p.Log())
		default:
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, fmt.Errorf("sshd did not listen on %s:\n%s", s.Addr, p.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// CLI drives OpenSSH's sftp client in batch mode against a server.
type CLI struct {
	Bin     string // sftp
	Addr    string
	User    string
	KeyFile string
}

// Run runs one sftp process with commands as its batch file, with only
// cipher (and the pinned key exchange and host key algorithms).
func (c CLI) Run(ctx context.Context, cipher, commands string) error {
	host, port, _ := net.SplitHostPort(c.Addr)
	cmd := exec.CommandContext(ctx, c.Bin, "-q", "-b", "-", "-P", port, "-i", c.KeyFile,
		"-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "LogLevel=ERROR",
		"-o", "Ciphers="+cipher, "-o", "KexAlgorithms="+KEX, "-o", "HostKeyAlgorithms="+HostKeyAlgo,
		"-o", "Compression=no",
		c.User+"@"+host)
	cmd.Env = cleanEnv()
	cmd.Stdin = strings.NewReader(commands)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("sftp: %v: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// Parallel runs one sftp process per batch (one stream each) at once and
// times them from the start to the last exit; bytes is what they move.
func (c CLI) Parallel(ctx context.Context, cipher string, batches []string, bytes int64) (Result, error) {
	errs := make([]error, len(batches))
	var wg sync.WaitGroup
	start := time.Now()
	for i, b := range batches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.Run(ctx, cipher, b)
		}()
	}
	wg.Wait()
	return Result{Bytes: bytes, Elapsed: time.Since(start)}, errors.Join(errs...)
}

// ConnRate is ConnRate with one sftp process per connection (it connects,
// logs in, opens the subsystem and quits).
func (c CLI) ConnRate(ctx context.Context, cipher string, d time.Duration, workers int) (ok, failed int64, err error) {
	ctx2, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx2.Err() == nil {
				e := c.Run(ctx, cipher, "bye\n")
				mu.Lock()
				if e != nil {
					failed++
					if err == nil {
						err = e
					}
				} else {
					ok++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return ok, failed, err
}

// LoadAvg is the first three fields of /proc/loadavg.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// ProcCPU is the CPU time (user + system) of process pid and of its
// children that have exited and been waited for (sshd's per-connection
// processes), from /proc/PID/stat.
func ProcCPU(pid int) (self, children time.Duration, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// Fields after the command name (which may hold spaces) in ")".
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, errors.New("bad /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 15 {
		return 0, 0, errors.New("bad /proc stat")
	}
	// utime, stime, cutime, cstime are fields 14-17 (1-based), here 11-14.
	var v [4]int64
	for k := range v {
		fmt.Sscan(f[11+k], &v[k])
	}
	tick := time.Second / 100 // USER_HZ is 100 on Linux
	return time.Duration(v[0]+v[1]) * tick, time.Duration(v[2]+v[3]) * tick, nil
}
