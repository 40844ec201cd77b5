package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// fileapiBin is the fileapi binary, built once in TestMain: every test drives
// the real `fileapi serve` process as a merchant's client would.
var fileapiBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fileapi-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fileapiBin = filepath.Join(dir, "fileapi")
	out, err := exec.Command("go", "build", "-o", fileapiBin, "fileapi/cmd/fileapi").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// needTool returns the path of an external client. Under CI=true a missing
// client fails the test (.ci/run installs them all); elsewhere it skips with
// a message saying what to install.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found: install the Debian package %s (CI must run every client)", name, pkg)
		}
		t.Skipf("%s not found: apt-get install %s to run this interoperability test", name, pkg)
	}
	return p
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FILEAPI_") && !strings.HasPrefix(kv, "SSH_AUTH_SOCK=") && !strings.HasPrefix(kv, "RCLONE_") {
			env = append(env, kv)
		}
	}
	return env
}

// admin runs an admin command of the fileapiBin on data and returns stdout,
// failing the test unless it exits 0.
func admin(t *testing.T, data string, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(fileapiBin, append(args, "--data", data)...)
	cmd.Env = cleanEnv()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("fileapi %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

// server is a `fileapi serve` process on loopback ports the kernel picked.
type server struct {
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

// startServer starts `fileapi serve` on data with extra flags and waits
// until it is up. The process is stopped at the end of the test.
func startServer(t *testing.T, data string, extra ...string) *server {
	t.Helper()
	s, err := tryStartServer(t, data, extra...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tryStartServer is startServer returning start failures (with the log).
func tryStartServer(t *testing.T, data string, extra ...string) (*server, error) {
	t.Helper()
	args := append([]string{"serve", "--data", data, "--sftp-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0",
		"--log-format", "json", "--shutdown-grace", "3s"}, extra...)
	s := &server{t: t, data: data, exited: make(chan struct{})}
	s.cmd = exec.Command(fileapiBin, args...)
	s.cmd.Env = cleanEnv()
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s.cmd.Stderr = s.cmd.Stdout
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	started := make(chan map[string]any, 1)
	// os/exec: Wait must not be called before the reads from the pipe are
	// done, or a server that exits at once loses its last log lines.
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer io.Copy(io.Discard, out) // keep draining past an over-long line
		sc := bufio.NewScanner(out)
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
		<-readDone
		s.exitErr = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(s.stop)
	select {
	case m := <-started:
		s.sftpAddr, _ = m["sftp_addr"].(string)
		s.httpAddr, _ = m["http_addr"].(string)
		return s, nil
	case <-s.exited:
		return s, fmt.Errorf("fileapi serve exited: %v\n%s", s.exitErr, s.logText())
	case <-time.After(30 * time.Second):
		return s, fmt.Errorf("fileapi serve did not start\n%s", s.logText())
	}
}

func (s *server) logText() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.log.String()
}

func (s *server) port() string {
	_, p, _ := net.SplitHostPort(s.sftpAddr)
	return p
}

// alive says whether the process is still running.
func (s *server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// stop stops the server with SIGTERM, SIGKILL after 10 s.
func (s *server) stop() {
	if !s.alive() {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// get fetches an HTTP path of the server.
func (s *server) get(path string) (int, string) {
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

// metric reads one sample from the server's /metrics.
func (s *server) metric(name string) float64 {
	s.t.Helper()
	_, body := s.get("/metrics")
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` ([0-9.e+-]+)$`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		s.t.Fatalf("/metrics has no %s", name)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// merchant is a registered merchant with one ed25519 key, also written as
// an OpenSSH private key file for the external clients.
type merchant struct {
	id, creditorRef string
	signer          ssh.Signer
	keyFile         string
}

// addMerchant registers merchant id and a fresh key through the CLI.
func addMerchant(t *testing.T, data, id string) merchant {
	t.Helper()
	m := merchant{id: id, creditorRef: id + "-creditor"}
	admin(t, data, "", "merchant", "add", id, "--name", strings.ToUpper(id)+" SAS", "--creditor-ref", m.creditorRef)
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if m.signer, err = ssh.NewSignerFromKey(priv); err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, id+"@e2e")
	if err != nil {
		t.Fatal(err)
	}
	m.keyFile = filepath.Join(t.TempDir(), id+"_ed25519")
	if err := os.WriteFile(m.keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	admin(t, data, string(ssh.MarshalAuthorizedKey(m.signer.PublicKey())), "keys", "add", id, "-")
	return m
}

// paymentsFile is a valid PAYMENTS file for m whose payment references
// derive from tag, so that every call gives new content (no duplicate).
func paymentsFile(m merchant, tag string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "0;PAYMENTS;%s;%s SAS;\n1;IN;2;89.99;EUR;\n", m.creditorRef, strings.ToUpper(m.id))
	b.WriteString("PAYMENT_REFERENCE;AMOUNT;MANDATE_REFERENCE;MANDATE_SIGNATURE_DATE;DEBTOR_NAME;DEBTOR_IBAN;LABEL;\n")
	fmt.Fprintf(&b, "%s-1;39.99;UMR-%s-1;2025-03-14;Jeanne Martin;FR7630006000011234567890189;November subscription;\n", tag, tag)
	fmt.Fprintf(&b, "%s-2;50.00;UMR-%s-2;2024-11-02;Paul Durand;DE89370400440532013000;November subscription;\n", tag, tag)
	return b.String()
}

// merchantPath is a path inside m's folders on disk.
func merchantPath(data, id string, parts ...string) string {
	return filepath.Join(append([]string{data, "merchants", id}, parts...)...)
}

// waitFile waits until path exists and returns its content.
func waitFile(t *testing.T, path string, d time.Duration) []byte {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear within %v", path, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitGone waits until path no longer exists.
func waitGone(t *testing.T, path string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if _, err := os.Stat(path); os.IsNotExist(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still there after %v", path, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sshConn logs in as m over a real SSH connection.
func sshConn(t *testing.T, addr string, m merchant) *ssh.Client {
	t.Helper()
	c, err := dialSSH(addr, m.id, m.signer)
	if err != nil {
		t.Fatalf("login as %s: %v", m.id, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func dialSSH(addr, user string, signer ssh.Signer) (*ssh.Client, error) {
	cfg := &ssh.ClientConfig{
		User:            user,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		Timeout:         10 * time.Second,
	}
	raw, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	raw.SetDeadline(time.Now().Add(15 * time.Second))
	sc, chans, reqs, err := ssh.NewClientConn(raw, addr, cfg)
	if err != nil {
		raw.Close()
		return nil, err
	}
	raw.SetDeadline(time.Time{})
	return ssh.NewClient(sc, chans, reqs), nil
}

// sftpClient opens a pkg/sftp client session as m.
func sftpClient(t *testing.T, addr string, m merchant) *sftp.Client {
	t.Helper()
	c, err := sftp.NewClient(sshConn(t, addr, m))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// putFile uploads content to name with pkg/sftp.
func putFile(c *sftp.Client, name string, content []byte) error {
	f, err := c.Create(name)
	if err != nil {
		return err
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// auditEvents reads the audit log's events of one action.
func auditEvents(t *testing.T, data, action string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(data, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range strings.Split(string(b), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["action"] == action {
			out = append(out, m)
		}
	}
	return out
}

// strayFiles lists what should not be in a quiet data directory: hidden
// temporary files (uploads or outputs) left in a merchant's folders,
// anything created outside in/ and out/, and pick-ups stuck half-way.
func strayFiles(t *testing.T, data string) []string {
	t.Helper()
	var stray []string
	root := filepath.Join(data, "merchants")
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == root {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		parts := strings.Split(rel, string(filepath.Separator))
		switch {
		case len(parts) == 1 && d.IsDir():
		case len(parts) == 2 && d.IsDir() && (parts[1] == "in" || parts[1] == "out"):
		case len(parts) == 3 && d.Type().IsRegular() && !strings.HasPrefix(parts[2], ".fileapi-"):
		default:
			stray = append(stray, rel)
		}
		return nil
	})
	// Uploads being picked up pass through originals/tmp; once quiet it is empty.
	if ents, err := os.ReadDir(filepath.Join(data, "originals", "tmp")); err == nil {
		for _, e := range ents {
			stray = append(stray, filepath.Join("originals", "tmp", e.Name()))
		}
	}
	return stray
}
