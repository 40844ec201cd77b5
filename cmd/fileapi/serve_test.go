package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// merchantWithKey registers merchant id with a fresh ed25519 key through
// the CLI and returns the key's signer.
func merchantWithKey(t *testing.T, dir, data, id string) ssh.Signer {
	t.Helper()
	mustRun(t, dir, "merchant", "add", id, "--name", strings.ToUpper(id)+" SAS", "--creditor-ref", id+"-creditor", "--data", data)
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	r := fileapi(t, dir, string(ssh.MarshalAuthorizedKey(signer.PublicKey())), "keys", "add", id, "-", "--data", data)
	if r.code != 0 {
		t.Fatalf("keys add: %s", r.stderr)
	}
	return signer
}

// sftpClient logs in as merchant with signer; hostKey, when set, must be
// the key the server presents.
func sftpClient(t *testing.T, addr, merchant string, signer ssh.Signer, hostKey *ssh.PublicKey) (*ssh.Client, *sftp.Client) {
	t.Helper()
	cfg := &ssh.ClientConfig{
		User: merchant,
		Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
			if hostKey != nil {
				*hostKey = key
			}
			return nil
		},
		Timeout: 10 * time.Second,
	}
	raw, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	raw.SetDeadline(time.Now().Add(10 * time.Second)) // a hung handshake fails the test, not the run
	sc, chans, reqs, err := ssh.NewClientConn(raw, addr, cfg)
	if err != nil {
		raw.Close()
		t.Fatalf("ssh handshake: %v", err)
	}
	raw.SetDeadline(time.Time{})
	conn := ssh.NewClient(sc, chans, reqs)
	c, err := sftp.NewClient(conn)
	if err != nil {
		conn.Close()
		t.Fatalf("sftp: %v", err)
	}
	t.Cleanup(func() { c.Close(); conn.Close() })
	return conn, c
}

// metric reads one sample's value from a /metrics text body.
func metric(body, name string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` ([0-9.e+-]+)$`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

func TestHealthAndMetricsFollowRealTraffic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	srv := startTestServer(t, data)
	if code, body := srv.get("/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("/healthz: %d %q", code, body)
	}
	_, before := srv.get("/metrics")
	for _, name := range []string{"fileapi_sftp_connections_total", "fileapi_auth_failures_total", "go_goroutines", "process_open_fds"} {
		if metric(before, name) < 0 {
			t.Fatalf("/metrics lacks %s:\n%s", name, before)
		}
	}
	signer := merchantWithKey(t, dir, data, "acme")
	_, c := sftpClient(t, srv.sftpAddr, "acme", signer, nil)
	payload := bytes.Repeat([]byte("x"), 4096)
	f, err := c.Create("/in/notes.txt") // not .csv: stays in in/, no batch needed
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(payload); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	// A valid payments file: picked up, acknowledged, counted by batch.
	sample, err := os.ReadFile("../../testdata/quickstart/payments.csv")
	if err != nil {
		t.Fatal(err)
	}
	pf, err := c.Create("/in/payments.csv")
	if err != nil {
		t.Fatal(err)
	}
	pf.Write(sample)
	if err := pf.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, filepath.Join(data, "merchants", "acme", "out", "payments.ack"), 5*time.Second, srv)
	// A failed login too.
	_, stranger, _ := ed25519.GenerateKey(rand.Reader)
	ss, _ := ssh.NewSignerFromKey(stranger)
	if conn, err := ssh.Dial("tcp", srv.sftpAddr, &ssh.ClientConfig{User: "acme", Auth: []ssh.AuthMethod{ssh.PublicKeys(ss)}, HostKeyCallback: ssh.InsecureIgnoreHostKey()}); err == nil {
		conn.Close()
		t.Fatal("an unregistered key logged in")
	}
	checks := []struct {
		name string
		min  float64
	}{
		{"fileapi_sftp_connections_total", metric(before, "fileapi_sftp_connections_total") + 2},
		{"fileapi_auth_failures_total", metric(before, "fileapi_auth_failures_total") + 1},
		{`fileapi_uploads_total{outcome="complete"}`, 2},
		{"fileapi_upload_bytes_total", float64(len(payload) + len(sample))},
		{`fileapi_pickups_total{outcome="acknowledged"}`, 1},
		{"fileapi_ack_latency_seconds_count", 1},
		{`fileapi_job_runs_total{job="process",outcome="ok"}`, 1},
	}
	// The counters move just after the events the test saw (the .ack file
	// is renamed into place before the pick-up is counted), so poll until
	// every one has caught up, then report those that never did.
	var after string
	var short []string
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, after = srv.get("/metrics")
		short = short[:0]
		for _, ch := range checks {
			if got := metric(after, ch.name); got < ch.min {
				short = append(short, fmt.Sprintf("%s = %v, want >= %v", ch.name, got, ch.min))
			}
		}
		if n := max(metric(after, `fileapi_batches{status="ACKNOWLEDGED"}`), 0) + max(metric(after, `fileapi_batches{status="PROCESSED"}`), 0); n < 1 {
			short = append(short, "fileapi_batches counts no acknowledged or processed batch")
		}
		if len(short) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, s := range short {
		t.Error(s)
	}
}

func TestHealthIs503WhenStopping(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	srv := startTestServer(t, data, "--shutdown-grace", "3s")
	signer := merchantWithKey(t, dir, data, "acme")
	_, c := sftpClient(t, srv.sftpAddr, "acme", signer, nil)
	f, err := c.Create("/in/slow.txt")
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("open transfer keeps the server draining"))
	srv.signal(syscall.SIGTERM)
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if code, _ := srv.get("/healthz"); code == 503 {
			f.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("/healthz did not turn 503 while draining")
}

func TestSIGTERMLetsARunningUploadFinish(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	srv := startTestServer(t, data, "--shutdown-grace", "10s")
	signer := merchantWithKey(t, dir, data, "acme")
	_, c := sftpClient(t, srv.sftpAddr, "acme", signer, nil)
	f, err := c.Create("/in/big.txt")
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	if _, err := f.Write(chunk); err != nil {
		t.Fatal(err)
	}
	srv.signal(syscall.SIGTERM)
	// New connections are refused soon after the signal...
	deadline := time.Now().Add(3 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", srv.sftpAddr, time.Second)
		if err != nil {
			break
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("the SFTP listener still accepts after SIGTERM")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// ...while the running transfer goes on to the end.
	for i := 0; i < 15; i++ {
		if _, err := f.Write(chunk); err != nil {
			t.Fatalf("write %d after SIGTERM: %v", i, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("close after SIGTERM: %v", err)
	}
	c.Close()
	if code := srv.wait(15 * time.Second); code != 0 {
		t.Fatalf("exit code %d\n%s", code, srv.logText())
	}
	got, err := os.ReadFile(filepath.Join(data, "merchants", "acme", "in", "big.txt"))
	if err != nil || len(got) != 16*len(chunk) {
		t.Fatalf("upload after SIGTERM: %d bytes, %v", len(got), err)
	}
	if _, err := os.Stat(filepath.Join(data, "admin.sock")); err == nil {
		t.Error("admin socket left behind by a clean stop")
	}
}

func TestHostKeysMatchWhatClientsSeeAndSurviveRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	srv := startTestServer(t, data)
	out := mustRun(t, dir, "hostkeys", "--data", data)
	fps := regexp.MustCompile(`SHA256:[A-Za-z0-9+/]{43}`).FindAllString(out, -1)
	if len(fps) < 2 || !strings.Contains(out, "ED25519") || !strings.Contains(out, "RSA") {
		t.Fatalf("hostkeys printed:\n%s", out)
	}
	// What OpenSSH sees.
	host, port, _ := net.SplitHostPort(srv.sftpAddr)
	scan, err := exec.Command("ssh-keyscan", "-p", port, "-t", "ed25519,rsa", host).Output()
	if err != nil {
		t.Fatalf("ssh-keyscan: %v", err)
	}
	lf := exec.Command("ssh-keygen", "-l", "-E", "sha256", "-f", "-")
	lf.Stdin = bytes.NewReader(scan)
	listed, err := lf.Output()
	if err != nil {
		t.Fatalf("ssh-keygen -lf: %v (scan %q)", err, scan)
	}
	for _, fp := range fps {
		if !strings.Contains(string(listed), fp) {
			t.Errorf("ssh-keyscan does not show %s:\n%s", fp, listed)
		}
	}
	// What a Go client sees.
	signer := merchantWithKey(t, dir, data, "acme")
	var seen ssh.PublicKey
	sftpClient(t, srv.sftpAddr, "acme", signer, &seen)
	if !strings.Contains(out, ssh.FingerprintSHA256(seen)) {
		t.Errorf("client saw %s, not in\n%s", ssh.FingerprintSHA256(seen), out)
	}
	// Restart: same keys, also when read without a server.
	srv.stop()
	if again := mustRun(t, dir, "hostkeys", "--data", data); again != out {
		t.Errorf("host keys changed after stop:\n%s\nvs\n%s", out, again)
	}
	srv2 := startTestServer(t, data)
	if again := mustRun(t, dir, "hostkeys", "--data", data); again != out {
		t.Errorf("host keys changed after restart:\n%s\nvs\n%s", out, again)
	}
	var seen2 ssh.PublicKey
	sftpClient(t, srv2.sftpAddr, "acme", signer, &seen2)
	if !bytes.Equal(seen.Marshal(), seen2.Marshal()) {
		t.Error("the server presents another host key after restart")
	}
	for _, name := range []string{"ssh_host_ed25519_key", "ssh_host_rsa_key"} {
		st, err := os.Stat(filepath.Join(data, "hostkeys", name))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", name, st.Mode(), err)
		}
	}
}

func TestServeCreatesItsDataDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "fresh", "data")
	startServerIn(t, dir, "--data", data) // no seeded host keys: generated here
	for _, p := range []string{"", "fileapi.db", "audit.log", "merchants", "admin.sock", "hostkeys/ssh_host_ed25519_key", "hostkeys/ssh_host_rsa_key"} {
		st, err := os.Stat(filepath.Join(data, p))
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if perm := st.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s has mode %v, want no access for others", p, perm)
		}
	}
}

// The config file's settings reach the running parts: a file size limit
// set in the file refuses a bigger upload.
func TestConfigFileReachesTheSFTPServer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfg := filepath.Join(dir, "fileapi.json")
	os.WriteFile(cfg, []byte(`{"sftp_addr": ":1", "limits": {"max_file_size": "1KiB"}, "mode": "production"}`), 0o600)
	// --sftp-addr from startServerIn wins over the file's ":1".
	srv := startTestServer(t, data, "--config", cfg)
	if !strings.Contains(srv.logText(), `"mode":"production"`) {
		t.Fatalf("mode from the file not applied:\n%s", srv.logText())
	}
	signer := merchantWithKey(t, dir, data, "acme")
	_, c := sftpClient(t, srv.sftpAddr, "acme", signer, nil)
	small, err := c.Create("/in/small.txt")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := small.Write(make([]byte, 1000)); err != nil {
		t.Fatalf("1000 bytes under a 1 KiB limit: %v", err)
	}
	if err := small.Close(); err != nil {
		t.Fatal(err)
	}
	big, err := c.Create("/in/big.txt")
	if err != nil {
		t.Fatal(err)
	}
	_, werr := big.Write(make([]byte, 4096))
	cerr := big.Close()
	if werr == nil && cerr == nil {
		t.Fatal("a 4 KiB upload passed a 1 KiB limit")
	}
}

// Revoking a key with the CLI closes the sessions it opened: the command
// runs inside the server, on the registry sftpd watches.
func TestKeysRevokeClosesLiveSessions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	srv := startTestServer(t, data)
	signer := merchantWithKey(t, dir, data, "acme")
	conn, c := sftpClient(t, srv.sftpAddr, "acme", signer, nil)
	if _, err := c.ReadDir("/out"); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() { conn.Wait(); close(closed) }()
	mustRun(t, dir, "keys", "revoke", ssh.FingerprintSHA256(signer.PublicKey()), "--data", data)
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the session of a revoked key is still open after 5 s")
	}
	if _, err := ssh.Dial("tcp", srv.sftpAddr, &ssh.ClientConfig{User: "acme", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second}); err == nil {
		t.Fatal("a revoked key logged in")
	}
}
