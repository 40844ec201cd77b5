package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestUsageErrorsExit2WithOneLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		args []string
		want string // substring of the one-line message
	}{
		{nil, "Usage:"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"keys"}, "keys: missing subcommand (one of add, list, revoke)"},
		{[]string{"keys", "remove"}, `keys: unknown subcommand "remove"`},
		{[]string{"keys", "add", "acme"}, "keys add: missing FILE"},
		{[]string{"keys", "add"}, "keys add: missing MERCHANT"},
		{[]string{"keys", "revoke", "a", "b"}, `keys revoke: unexpected argument "b"`},
		{[]string{"merchant", "add", "acme", "--creditor-ref", "x"}, "merchant add: --name is required"},
		{[]string{"merchant", "add", "acme", "--name", "ACME"}, "merchant add: --creditor-ref is required"},
		{[]string{"merchant", "list", "--bogus"}, "merchant list: unknown flag --bogus"},
		{[]string{"merchant", "add", "acme", "--name"}, "flag --name needs a value"},
		{[]string{"serve", "--max-file-size", "huge"}, "--max-file-size: must be a positive size"},
		{[]string{"serve", "--mode", "prod"}, `--mode: must be "sandbox" or "production"`},
		{[]string{"serve", "extra"}, `serve: unexpected argument "extra"`},
		{[]string{"version", "now"}, `version: unexpected argument "now"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, "_"), func(t *testing.T) {
			r := fileapi(t, dir, "", tt.args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2; stderr %q", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("stderr %q does not say %q", r.stderr, tt.want)
			}
			if tt.args != nil && (strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "fileapi: ")) {
				t.Fatalf("want one line starting with 'fileapi: ', got %q", r.stderr)
			}
		})
	}
}

func TestEveryCommandHasHelp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, c := range commands {
		args := append(strings.Fields(c.name), "--help")
		r := fileapi(t, dir, "", args...)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "Usage: fileapi "+c.name) {
			t.Errorf("fileapi %s: exit %d, stdout %q", strings.Join(args, " "), r.code, r.stdout)
		}
	}
	r := fileapi(t, dir, "", "--help")
	for _, c := range commands {
		if !strings.Contains(r.stdout, "fileapi "+c.name) {
			t.Errorf("main help does not list %q", c.name)
		}
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	if out := mustRun(t, t.TempDir(), "version"); !strings.HasPrefix(out, "fileapi ") {
		t.Fatalf("version printed %q", out)
	}
}

func TestAdminCommandsNeedAnExistingDataDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := fileapi(t, dir, "", "merchant", "list", "--data", "nowhere")
	if r.code != 1 || !strings.Contains(r.stderr, "the data directory nowhere does not exist") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "nowhere")); err == nil {
		t.Fatal("a mistyped --data created a directory")
	}
}

func TestDataDirFromEnvironment(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "envdata")
	os.Mkdir(data, 0o700)
	cmd := exec.Command(binary, "merchant", "add", "acme", "--name", "ACME", "--creditor-ref", "acme-cr")
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), "FILEAPI_DATA="+data)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if out := mustRun(t, dir, "merchant", "list", "--data", data); !strings.Contains(out, "acme") {
		t.Fatalf("merchant not stored in $FILEAPI_DATA: %q", out)
	}
}

// adminSession is the sequence of admin commands run with and without a
// server; their outputs must be the same.
func adminSession(t *testing.T, dir, data string) []string {
	t.Helper()
	pub := newKey(t, dir, "k1", "support@example")
	pub2 := newKey(t, dir, "k2", "second")
	pubBytes, _ := os.ReadFile(pub2)
	var outs []string
	run := func(stdin string, args ...string) string {
		r := fileapi(t, dir, stdin, args...)
		outs = append(outs, r.stdout+"|"+strings.TrimSpace(r.stderr)+"|"+string(rune('0'+r.code)))
		return r.stdout
	}
	// Flags after positional arguments, as SPEC §1 shows.
	run("", "merchant", "add", "acme", "--name", "ACME SAS", "--creditor-ref", "acme-creditor", "--data", data)
	run("", "merchant", "add", "acme", "--name", "Again", "--creditor-ref", "other", "--data", data)
	run("", "merchant", "add", "--data", data, "beta", "--name", "Beta", "--creditor-ref", "acme-creditor")
	fp := strings.TrimSpace(run("", "keys", "add", "acme", pub, "--data", data))
	if !regexp.MustCompile(`^SHA256:[A-Za-z0-9+/]{43}$`).MatchString(fp) {
		t.Fatalf("keys add printed %q, want one SHA256 fingerprint", fp)
	}
	if want := sshKeygenFingerprint(t, pub); fp != want {
		t.Fatalf("fingerprint %s, ssh-keygen says %s", fp, want)
	}
	// From standard input.
	run(string(pubBytes), "keys", "add", "--data", data, "acme", "-")
	run(string(pubBytes), "keys", "add", "--data", data, "acme", "-")
	run("", "keys", "add", "ghost", pub, "--data", data)
	run("", "merchant", "suspend", "acme", "--data", data)
	run("", "merchant", "resume", "acme", "--data", data)
	run("", "keys", "revoke", fp, "--data", data)
	run("", "keys", "revoke", "SHA256:nope", "--data", data)
	run("", "merchant", "show", "ghost", "--data", data)
	return outs
}

// stable removes what legitimately differs between two runs: times and
// fingerprints of freshly generated keys.
func stable(s string) string {
	s = regexp.MustCompile(`SHA256:[A-Za-z0-9+/]{43}`).ReplaceAllString(s, "SHA256:X")
	return regexp.MustCompile(`\d{4}-\d\d-\d\d( \d\d:\d\d \w+)?`).ReplaceAllString(s, "T")
}

func TestAdminCommandsSameWithAndWithoutServer(t *testing.T) {
	t.Parallel()
	// Without a server: the CLI opens the store itself.
	dirA := t.TempDir()
	dataA := filepath.Join(dirA, "data")
	os.Mkdir(dataA, 0o700)
	local := adminSession(t, dirA, dataA)
	listA := mustRun(t, dirA, "keys", "list", "--data", dataA)

	// With a server on the data directory: through the admin socket.
	dirB := t.TempDir()
	dataB := filepath.Join(dirB, "data")
	srv := startTestServer(t, dataB)
	remote := adminSession(t, dirB, dataB)
	listB := mustRun(t, dirB, "keys", "list", "--data", dataB)
	if !strings.Contains(srv.logText(), `"msg":"admin command"`) {
		t.Fatalf("the commands did not go through the server:\n%s", srv.logText())
	}
	for i := range local {
		if stable(local[i]) != stable(remote[i]) {
			t.Errorf("command %d differs:\nlocal:  %q\nserver: %q", i, local[i], remote[i])
		}
	}
	if stable(listA) != stable(listB) {
		t.Errorf("keys list differs:\nlocal:\n%s\nserver:\n%s", listA, listB)
	}
	for _, want := range []string{"FINGERPRINT", "TYPE", "BITS", "COMMENT", "ADDED", "LAST_USED", "STATE", "revoked", "active", "support@example", "ssh-ed25519"} {
		if !strings.Contains(listB, want) {
			t.Errorf("keys list lacks %q:\n%s", want, listB)
		}
	}
	// Spot-check a few outcomes, so that "same" also means "right".
	wants := []struct {
		i    int
		text string
	}{
		{0, "merchant acme added"},
		{1, `merchant "acme" already exists|1`},
		{2, `creditor reference "acme-creditor" already belongs to merchant "acme"|1`},
		{5, "already registered"},
		{6, `no merchant "ghost"|1`},
		{9, "revoked; its sessions are closed"},
		{10, "no key with fingerprint SHA256:nope|1"},
	}
	for _, w := range wants {
		if !strings.Contains(remote[w.i], w.text) {
			t.Errorf("command %d: %q does not say %q", w.i, remote[w.i], w.text)
		}
	}
	// The audit log records the changes, made by the CLI.
	auditLog, _ := os.ReadFile(filepath.Join(dataB, "audit.log"))
	for _, action := range []string{"merchant_add", "key_add", "merchant_suspend", "merchant_resume", "key_revoke"} {
		if !strings.Contains(string(auditLog), `"action":"`+action+`","merchant":"acme"`) {
			t.Errorf("audit log lacks %s:\n%s", action, auditLog)
		}
	}
	if !strings.Contains(string(auditLog), `"source":"cli"`) {
		t.Errorf("audit events are not marked as from the CLI")
	}
	// They name the user who ran the command, as the kernel saw it on the
	// admin socket.
	if by := " by " + describeUID(os.Getuid()); !strings.Contains(string(auditLog), `"action":"key_revoke","merchant":"acme"`) || !strings.Contains(string(auditLog), by+`"}`) {
		t.Errorf("audit events do not say %q:\n%s", by, auditLog)
	}
}

func TestStaleSocketDoesNotBreakTheCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	srv := startTestServer(t, data)
	mustRun(t, dir, "merchant", "add", "acme", "--name", "ACME", "--creditor-ref", "acme-cr", "--data", data)
	srv.signal(os.Kill) // no chance to remove the socket
	srv.wait(10 * 1e9)
	if _, err := os.Stat(filepath.Join(data, "admin.sock")); err != nil {
		t.Fatalf("expected a stale socket after kill -9: %v", err)
	}
	if out := mustRun(t, dir, "merchant", "list", "--data", data); !strings.Contains(out, "acme") {
		t.Fatalf("merchant list after a crash: %q", out)
	}
	// And a new server starts over the stale socket.
	startTestServer(t, data)
	if out := mustRun(t, dir, "merchant", "show", "acme", "--data", data); !strings.Contains(out, "ACME") {
		t.Fatalf("merchant show through the new server: %q", out)
	}
}

func TestSecondServerOnSameDataDirIsRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	startTestServer(t, data)
	r := fileapi(t, dir, "", "serve", "--data", data, "--sftp-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0")
	if r.code != 1 || !strings.Contains(r.stderr, "the data directory "+data+" is in use by another process") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}

func newKey(t *testing.T, dir, name, comment string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	return path + ".pub"
}

func sshKeygenFingerprint(t *testing.T, pub string) string {
	t.Helper()
	out, err := exec.Command("ssh-keygen", "-l", "-E", "sha256", "-f", pub).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(out))[1]
}
