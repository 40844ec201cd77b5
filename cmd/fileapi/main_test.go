package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the fileapi binary built once for all tests: they drive it as
// a user would.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fileapi-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "fileapi")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	// One set of host keys for the servers of the tests: an RSA 3072 key
	// per server start is CPU the whole project's test run pays for.
	// The quickstart and the first-start test still generate their own.
	seedHostKeys = filepath.Join(dir, "seed")
	os.Mkdir(seedHostKeys, 0o700)
	if out, err := exec.Command(binary, "hostkeys", "--data", seedHostKeys).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "seeding host keys: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	seedHostKeys = filepath.Join(seedHostKeys, "hostkeys")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// seedHostKeys is a DATA/hostkeys folder made once by TestMain.
var seedHostKeys string

// seedData gives the data directory data (created if needed) the seed
// host keys, unless it has keys already.
func seedData(t *testing.T, data string) {
	t.Helper()
	dst := filepath.Join(data, "hostkeys")
	if _, err := os.Stat(dst); err == nil {
		return
	}
	if err := os.MkdirAll(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(seedHostKeys)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(seedHostKeys, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// result is one run of the binary.
type result struct {
	stdout, stderr string
	code           int
}

// fileapi runs the binary with args in dir (the working directory), with
// stdin as standard input, and FILEAPI_DATA unset.
func fileapi(t *testing.T, dir string, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running fileapi %v: %v", args, err)
	}
	return result{out.String(), errb.String(), code}
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FILEAPI_") {
			env = append(env, kv)
		}
	}
	return env
}

// mustRun runs the binary and fails the test unless it exits 0.
func mustRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	r := fileapi(t, dir, "", args...)
	if r.code != 0 {
		t.Fatalf("fileapi %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// testServer is a `fileapi serve` process on loopback ports picked by the
// kernel, with its addresses read from its JSON start-up log line.
type testServer struct {
	t        *testing.T
	cmd      *exec.Cmd
	data     string
	sftpAddr string
	httpAddr string
	logMu    sync.Mutex
	log      bytes.Buffer
	exited   chan struct{}
	exitErr  error
}

// startTestServer starts `fileapi serve --data data` plus extra flags and
// waits for it to be up.
func startTestServer(t *testing.T, data string, extra ...string) *testServer {
	t.Helper()
	os.MkdirAll(data, 0o700)
	seedData(t, data)
	return startServerIn(t, t.TempDir(), append([]string{"--data", data}, extra...)...)
}

// startServerIn starts `fileapi serve` in directory dir on loopback ports
// picked by the kernel, with JSON logs, and waits for it to be up.
func startServerIn(t *testing.T, dir string, extra ...string) *testServer {
	t.Helper()
	args := append([]string{"serve", "--sftp-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--log-format", "json"}, extra...)
	s := &testServer{t: t, exited: make(chan struct{})}
	s.cmd = exec.Command(binary, args...)
	s.cmd.Dir = dir
	s.cmd.Env = cleanEnv()
	stderr, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stderr = s.cmd.Stdout
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := make(chan map[string]any, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.logMu.Lock()
			s.log.WriteString(line + "\n")
			s.logMu.Unlock()
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "fileapi started" {
				started <- m
			}
		}
	}()
	go func() {
		s.exitErr = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() { s.stop() })
	select {
	case m := <-started:
		s.sftpAddr, _ = m["sftp_addr"].(string)
		s.httpAddr, _ = m["http_addr"].(string)
		s.data, _ = m["data"].(string)
	case <-s.exited:
		t.Fatalf("fileapi serve exited: %v\n%s", s.exitErr, s.logText())
	case <-time.After(20 * time.Second):
		t.Fatalf("fileapi serve did not start\n%s", s.logText())
	}
	return s
}

func (s *testServer) logText() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.log.String()
}

// signal sends sig to the server.
func (s *testServer) signal(sig os.Signal) {
	s.cmd.Process.Signal(sig)
}

// wait waits for the server to exit and returns its exit code.
func (s *testServer) wait(d time.Duration) int {
	s.t.Helper()
	select {
	case <-s.exited:
	case <-time.After(d):
		s.cmd.Process.Kill()
		<-s.exited
		s.t.Fatalf("server did not exit within %v\n%s", d, s.logText())
	}
	return s.cmd.ProcessState.ExitCode()
}

// stop stops the server with SIGTERM (SIGKILL after 10 s).
func (s *testServer) stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// get fetches an HTTP path from the server.
func (s *testServer) get(path string) (int, string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+s.httpAddr+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
