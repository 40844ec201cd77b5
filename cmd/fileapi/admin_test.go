package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

func TestCLIOnALockedStoreWithoutSocketSaysInUse(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	os.Mkdir(data, 0o700)
	// This test process holds the store, as a server that is starting (or
	// a stuck one without its socket) would.
	db, err := bbolt.Open(filepath.Join(data, "fileapi.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	r := fileapi(t, dir, "", "merchant", "list", "--data", data)
	if r.code != 1 || r.stderr != "fileapi: the data directory "+data+" is in use by another process\n" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Fatalf("took %v: the CLI must fail fast, not hang on the lock", d)
	}
}

func TestSandboxClockCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	srv := startTestServer(t, data)
	if out := mustRun(t, dir, "clock", "show", "--data", data); !strings.Contains(out, "sandbox clock:") || !strings.Contains(out, "ahead of real time by 0s") {
		t.Fatalf("clock show: %q", out)
	}
	out := mustRun(t, dir, "clock", "advance", "2d", "--data", data)
	if !strings.Contains(out, "the jobs are catching up") {
		t.Fatalf("clock advance: %q", out)
	}
	if out := mustRun(t, dir, "clock", "show", "--data", data); !strings.Contains(out, "ahead of real time by 2d") {
		t.Fatalf("clock show after advance: %q", out)
	}
	far := time.Now().AddDate(1, 0, 0).Format("2006-01-02")
	if out := mustRun(t, dir, "clock", "set", far, "--data", data); !strings.Contains(out, "sandbox clock now "+far+" 00:00:00") {
		t.Fatalf("clock set: %q", out)
	}
	r := fileapi(t, dir, "", "clock", "set", time.Now().Format("2006-01-02"), "--data", data)
	if r.code != 1 || !strings.Contains(r.stderr, "the sandbox clock only moves forward") {
		t.Fatalf("clock set backward: exit %d %q", r.code, r.stderr)
	}
	for _, args := range [][]string{{"clock", "advance", "-5h"}, {"clock", "advance", "soon"}, {"clock", "set", "tomorrow"}} {
		if r := fileapi(t, dir, "", append(args, "--data", data)...); r.code != 2 {
			t.Errorf("%v: exit %d %q, want a usage error", args, r.code, r.stderr)
		}
	}
	// The move survives a restart, and is read the same without a server.
	srv.stop()
	if out := mustRun(t, dir, "clock", "show", "--data", data); !strings.Contains(out, "sandbox clock: "+far) {
		t.Fatalf("clock show without server after restart: %q", out)
	}
	auditLog, _ := os.ReadFile(filepath.Join(data, "audit.log"))
	if !strings.Contains(string(auditLog), `"action":"clock_advance"`) || !strings.Contains(string(auditLog), `"action":"clock_set"`) {
		t.Fatalf("clock moves not audited:\n%s", auditLog)
	}
}

func TestProductionModeRefusesClockMoves(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	srv := startTestServer(t, data, "--mode", "production")
	check := func(how string) {
		t.Helper()
		r := fileapi(t, dir, "", "clock", "advance", "1h", "--data", data)
		if r.code != 1 || !strings.Contains(r.stderr, "the clock cannot be moved in production mode") {
			t.Fatalf("%s: exit %d %q", how, r.code, r.stderr)
		}
		if out := mustRun(t, dir, "clock", "show", "--data", data); !strings.HasPrefix(out, "production mode: real clock") {
			t.Fatalf("%s: clock show %q", how, out)
		}
	}
	check("through the server")
	srv.stop()
	check("without a server") // the mode recorded by the last serve applies
}

func TestJobsAndBatchesCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	os.Mkdir(data, 0o700)
	if out := mustRun(t, dir, "jobs", "run", "process", "--data", data); !strings.HasPrefix(out, "job process done (now)") {
		t.Fatalf("jobs run: %q", out)
	}
	if out := mustRun(t, dir, "jobs", "run", "reports", "--date", "2026-01-02", "--data", data); !strings.HasPrefix(out, "job reports done (as of 2026-01-02)") {
		t.Fatalf("jobs run --date: %q", out)
	}
	if out := mustRun(t, dir, "batches", "list", "--data", data); out != "no files uploaded yet\n" {
		t.Fatalf("batches list: %q", out)
	}
	usage := [][]string{{"jobs", "run", "settle"}, {"jobs", "run", "process", "--date", "02/01/2026"}, {"batches", "show"}}
	for _, args := range usage {
		if r := fileapi(t, dir, "", append(args, "--data", data)...); r.code != 2 {
			t.Errorf("%v: exit %d %q, want a usage error", args, r.code, r.stderr)
		}
	}
	r := fileapi(t, dir, "", "batches", "show", "01NOPE", "--data", data)
	if r.code != 1 || !strings.Contains(r.stderr, `no file with ID "01NOPE"`) {
		t.Fatalf("batches show unknown: %d %q", r.code, r.stderr)
	}
	r = fileapi(t, dir, "", "batches", "list", "--merchant", "ghost", "--data", data)
	if r.code != 1 || !strings.Contains(r.stderr, `no merchant "ghost"`) {
		t.Fatalf("batches list unknown merchant: %d %q", r.code, r.stderr)
	}
}

func TestKeyExpiry(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	os.Mkdir(data, 0o700)
	mustRun(t, dir, "merchant", "add", "acme", "--name", "ACME", "--creditor-ref", "acme-cr", "--data", data)
	pub := newKey(t, dir, "k", "exp")
	r := fileapi(t, dir, "", "keys", "add", "acme", pub, "--expires", "2020-01-01", "--data", data)
	if r.code != 1 || !strings.Contains(r.stderr, "the expiry 2020-01-01 is in the past") {
		t.Fatalf("past expiry: %d %q", r.code, r.stderr)
	}
	if r := fileapi(t, dir, "", "keys", "add", "acme", pub, "--expires", "someday", "--data", data); r.code != 2 {
		t.Fatalf("bad expiry: %d %q", r.code, r.stderr)
	}
	next := time.Now().AddDate(1, 0, 0).Format("2006-01-02")
	mustRun(t, dir, "keys", "add", "acme", pub, "--expires", next, "--data", data)
	if out := mustRun(t, dir, "keys", "list", "acme", "--data", data); !strings.Contains(out, "active (expires "+next+")") {
		t.Fatalf("keys list: %q", out)
	}
}

func TestBackupWhileServing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	startTestServer(t, data)
	mustRun(t, dir, "merchant", "add", "acme", "--name", "ACME", "--creditor-ref", "acme-cr", "--data", data)
	out := mustRun(t, dir, "backup", "copy.db", "--data", data) // relative to the caller, not the server
	want := filepath.Join(dir, "copy.db")
	if !strings.HasPrefix(out, "store copied to "+want) {
		t.Fatalf("backup: %q", out)
	}
	db, err := bbolt.Open(want, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	found := false
	db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("keys.merchants"))
		found = b != nil && b.Get([]byte("acme")) != nil
		return nil
	})
	if !found {
		t.Fatal("the backup lacks the merchant")
	}
	if r := fileapi(t, dir, "", "backup", "copy.db", "--data", data); r.code != 1 || !strings.Contains(r.stderr, "already exists") {
		t.Fatalf("backup over an existing file: %d %q", r.code, r.stderr)
	}
}

func TestSIGHUPReopensTheAuditLog(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	srv := startTestServer(t, data)
	mustRun(t, dir, "merchant", "add", "acme", "--name", "ACME", "--creditor-ref", "acme-cr", "--data", data)
	logPath := filepath.Join(data, "audit.log")
	if err := os.Rename(logPath, logPath+".1"); err != nil {
		t.Fatal(err)
	}
	srv.signal(syscall.SIGHUP)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(srv.logText(), "audit log reopened") {
		if time.Now().After(deadline) {
			t.Fatalf("no reopen:\n%s", srv.logText())
		}
		time.Sleep(20 * time.Millisecond)
	}
	mustRun(t, dir, "merchant", "suspend", "acme", "--data", data)
	old, _ := os.ReadFile(logPath + ".1")
	cur, err := os.ReadFile(logPath)
	if err != nil || !strings.Contains(string(cur), "merchant_suspend") || strings.Contains(string(cur), "merchant_add") {
		t.Fatalf("new audit.log (%v):\n%s", err, cur)
	}
	if !strings.Contains(string(old), "merchant_add") || strings.Contains(string(old), "merchant_suspend") {
		t.Fatalf("rotated audit.log.1:\n%s", old)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(cur)), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
	}
}

func TestSecondSignalExitsAtOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	srv := startTestServer(t, data, "--shutdown-grace", "60s")
	signer := merchantWithKey(t, dir, data, "acme")
	_, c := sftpClient(t, srv.sftpAddr, "acme", signer, nil)
	f, err := c.Create("/in/held-open.txt")
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("a transfer that never ends keeps the server in its grace period"))
	srv.signal(syscall.SIGTERM)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(srv.logText(), `"msg":"shutting down"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no shutdown:\n%s", srv.logText())
		}
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	srv.signal(syscall.SIGTERM)
	code := srv.wait(5 * time.Second)
	if code != 1 || time.Since(start) > 3*time.Second {
		t.Fatalf("exit %d after %v", code, time.Since(start))
	}
	if !regexp.MustCompile(`second signal: exiting now`).MatchString(srv.logText()) {
		t.Fatalf("log:\n%s", srv.logText())
	}
}

// A data directory deeper than a unix socket address allows still gets its
// admin socket, reached relative to the working directory.
func TestAdminSocketInADeepDataDirectory(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 60), strings.Repeat("e", 60))
	os.MkdirAll(dir, 0o700)
	data := filepath.Join(dir, "data") // absolute, too long for a socket address
	if len(filepath.Join(data, "admin.sock")) <= 108 {
		t.Fatalf("test path too short: %d", len(data))
	}
	srv := startServerIn(t, dir, "--data", data)
	mustRun(t, dir, "merchant", "add", "acme", "--name", "ACME", "--creditor-ref", "acme-cr", "--data", data)
	if !strings.Contains(srv.logText(), `"msg":"admin command"`) {
		t.Fatalf("the command did not go through the server:\n%s", srv.logText())
	}
}

func TestServeFailsCleanlyWhenThePortIsTaken(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r := fileapi(t, dir, "", "serve", "--data", data, "--sftp-addr", ln.Addr().String(), "--http-addr", "127.0.0.1:0")
	want := "fileapi: cannot listen for SFTP on " + ln.Addr().String() + ": bind: address already in use\n"
	if r.code != 1 || r.stderr != want {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	// The store was released: the CLI can open it.
	mustRun(t, dir, "merchant", "list", "--data", data)
}

func TestMerchantAddRefusesBadData(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	os.Mkdir(data, 0o700)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"Acme!", "--name", "A", "--creditor-ref", "a"}, `invalid merchant ID "Acme!"`},
		{[]string{"ab", "--name", "A", "--creditor-ref", "a"}, `invalid merchant ID "ab"`},
		{[]string{"acme", "--name", "A", "--creditor-ref", "has space"}, `creditor reference "has space" must be 1 to 35 of`},
		{[]string{"acme", "--name", "A", "--creditor-ref", "a", "--ics", "FR73ZZZ123456"}, "--ics FR73ZZZ123456: creditor identifier check digits do not match"},
	}
	for _, tt := range tests {
		r := fileapi(t, dir, "", append(append([]string{"merchant", "add"}, tt.args...), "--data", data)...)
		if r.code != 1 || !strings.Contains(r.stderr, tt.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q, want %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
	if r := fileapi(t, dir, "", "merchant", "add", "acme", "--name", "A", "--creditor-ref", "a", "--max-amount", "lots", "--data", data); r.code != 2 {
		t.Errorf("bad --max-amount: exit %d %q", r.code, r.stderr)
	}
	mustRun(t, dir, "merchant", "add", "acme", "--name", "A", "--creditor-ref", "a", "--ics", "FR72ZZZ123456", "--max-amount", "5000", "--data", data)
	out := mustRun(t, dir, "merchant", "show", "acme", "--data", data)
	if !strings.Contains(out, "FR72ZZZ123456") || !strings.Contains(out, "5000.00 EUR") {
		t.Fatalf("merchant show:\n%s", out)
	}
	for _, sub := range []string{"in", "out"} {
		if st, err := os.Stat(filepath.Join(data, "merchants", "acme", sub)); err != nil || !st.IsDir() {
			t.Errorf("merchant folder %s: %v", sub, err)
		}
	}
}

// An admin command run without a server holds the store for a moment; a
// server starting meanwhile waits for it instead of failing.
func TestServeWaitsForABriefLock(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	os.Mkdir(data, 0o700)
	db, err := bbolt.Open(filepath.Join(data, "fileapi.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(1500 * time.Millisecond)
		db.Close()
	}()
	srv := startTestServer(t, data)
	if code, _ := srv.get("/healthz"); code != 200 {
		t.Fatalf("/healthz %d", code)
	}
}

// The server checks requests that did not come from the CLI's parser.
func TestAdminSocketRefusesMalformedRequests(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	srv := startTestServer(t, data)
	ask := func(req string) adminResponse {
		t.Helper()
		c, err := net.Dial("unix", filepath.Join(data, "admin.sock"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte(req + "\n"))
		c.(*net.UnixConn).CloseWrite()
		var resp adminResponse
		if err := json.NewDecoder(c).Decode(&resp); err != nil {
			t.Fatalf("%s: %v", req, err)
		}
		return resp
	}
	tests := []struct{ req, want string }{
		{`{"command":"keys add","args":["acme"]}`, "keys add: wrong number of arguments"},
		{`{"command":"serve"}`, `the server does not run "serve"`},
		{`{"command":"merchant list","args":["x","y"]}`, "merchant list: wrong number of arguments"},
		{`not json`, "bad admin request"},
	}
	for _, tt := range tests {
		if r := ask(tt.req); r.Code != 2 || !strings.Contains(r.Error, tt.want) {
			t.Errorf("%s: %+v, want code 2 and %q", tt.req, r, tt.want)
		}
	}
	if code, _ := srv.get("/healthz"); code != 200 {
		t.Fatal("server unhealthy after malformed requests")
	}
}
