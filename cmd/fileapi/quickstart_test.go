package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// readmeQuickstart returns the code blocks of README.md's Quickstart
// section, each as its lines.
func readmeQuickstart(t *testing.T) [][]string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\n## Quickstart\n")
	if i < 0 {
		t.Fatal("README.md has no Quickstart section")
	}
	s = s[i+1:]
	if j := strings.Index(s[3:], "\n## "); j >= 0 {
		s = s[:j+3]
	}
	var blocks [][]string
	parts := strings.Split(s, "```")
	for k := 1; k < len(parts); k += 2 {
		var lines []string
		for _, l := range strings.Split(strings.TrimSpace(strings.TrimPrefix(parts[k], "\n")), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				lines = append(lines, l)
			}
		}
		blocks = append(blocks, lines)
	}
	return blocks
}

// TestQuickstartFollowsTheREADME types the README's quickstart commands,
// word for word, in a fresh directory laid out like the repository root
// (bin/fileapi, testdata/quickstart/payments.csv). Only what a test must
// change is changed: `make run` becomes the same `fileapi serve` on ports
// the kernel picks, the sftp port follows, and OpenSSH's known_hosts is a
// temporary file rather than the user's own.
func TestQuickstartFollowsTheREADME(t *testing.T) {
	t.Parallel()
	blocks := readmeQuickstart(t)
	if len(blocks) != 4 {
		t.Fatalf("expected 4 code blocks in the Quickstart (make run; setup; sftp session; next steps), got %d: %q", len(blocks), blocks)
	}
	if len(blocks[0]) != 1 || blocks[0][0] != "make run" {
		t.Fatalf("first block should be `make run`, is %q", blocks[0])
	}
	mk, _ := os.ReadFile("../../Makefile")
	if !regexp.MustCompile(`(?m)^run: build\n\t\./\$\(BIN\) serve$`).Match(mk) || !strings.Contains(string(mk), "BIN       := bin/fileapi") {
		t.Fatal("`make run` no longer runs `bin/fileapi serve` with the defaults: update this test")
	}

	root := t.TempDir()
	os.Mkdir(filepath.Join(root, "bin"), 0o755)
	if err := os.Symlink(binary, filepath.Join(root, "bin", "fileapi")); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(root, "testdata", "quickstart"), 0o755)
	sample, err := os.ReadFile("../../testdata/quickstart/payments.csv")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "testdata", "quickstart", "payments.csv"), sample, 0o644)

	// Terminal 1: make run (the defaults: ./data, sandbox, Europe/Paris).
	srv := startServerIn(t, root)
	if srv.data != "./data" {
		t.Fatalf("server data dir %q, want the default ./data", srv.data)
	}
	_, port, _ := net.SplitHostPort(srv.sftpAddr)
	knownHosts := filepath.Join(root, "known_hosts")
	out := filepath.Join(root, "data", "merchants", "acme", "out")

	shell := func(line string) string {
		t.Helper()
		cmd := exec.Command("bash", "-c", line)
		cmd.Dir = root
		cmd.Env = cleanEnv()
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s\nserver log:\n%s", line, err, b, srv.logText())
		}
		return string(b)
	}
	// sftpSession runs the README's sftp command line with the session's
	// commands as a batch.
	sftpSession := func(line string, cmds []string) string {
		t.Helper()
		batch := filepath.Join(root, "sftp-batch")
		os.WriteFile(batch, []byte(strings.Join(cmds, "\n")+"\n"), 0o644)
		if !strings.Contains(line, " -P 2022 ") || !strings.HasSuffix(line, " acme@localhost") {
			t.Fatalf("unexpected sftp line %q", line)
		}
		line = strings.Replace(line, " -P 2022 ", " -P "+port+" ", 1)
		line = strings.TrimSuffix(line, " acme@localhost") + " -o UserKnownHostsFile=" + knownHosts + " -b " + batch + " acme@localhost"
		return shell(line)
	}

	// Terminal 2: the setup block, line by line.
	var sftpLine, fingerprint string
	for _, line := range blocks[1] {
		if strings.HasPrefix(line, "sftp ") {
			sftpLine = line
			continue
		}
		o := shell(line)
		if strings.Contains(line, "keys add") {
			fingerprint = strings.TrimSpace(o)
		}
	}
	if sftpLine == "" {
		t.Fatal("the setup block has no sftp line")
	}
	if want := sshKeygenFingerprint(t, filepath.Join(root, "acme_key.pub")); fingerprint != want {
		t.Fatalf("keys add printed %q, ssh-keygen says %s", fingerprint, want)
	}

	// The sftp session: put, then (as a person typing) the .ack is there by
	// the time of `ls out` and `get`.
	session := blocks[2]
	if len(session) < 3 || !strings.HasPrefix(session[0], "put ") {
		t.Fatalf("unexpected sftp session block %q", session)
	}
	sftpSession(sftpLine, session[:1])
	waitFor(t, filepath.Join(out, "payments.ack"), 2*time.Second+3*time.Second, srv)
	listing := sftpSession(sftpLine, session[1:])
	if !strings.Contains(listing, "payments.ack") {
		t.Errorf("`ls out` did not show payments.ack:\n%s", listing)
	}
	ack, err := os.ReadFile(filepath.Join(root, "payments.ack"))
	if err != nil {
		t.Fatalf("`get out/payments.ack` fetched nothing: %v", err)
	}
	if !regexp.MustCompile(`\n[0-9A-Z]{26};payments\.csv;PAYMENTS;[^;]+;[0-9a-f]{64};3;114\.99;EUR;ACKNOWLEDGED;\n`).Match(ack) {
		t.Fatalf("payments.ack:\n%s", ack)
	}

	// Next steps: processing, the batch list, a week of sandbox time.
	for _, line := range blocks[3] {
		o := shell(line)
		if strings.Contains(line, "batches list") && !strings.Contains(o, "PROCESSED") {
			t.Errorf("batches list after jobs run process:\n%s", o)
		}
	}
	res, err := os.ReadFile(filepath.Join(out, "payments.res"))
	if err != nil || strings.Count(string(res), ";ACCEPTED;") != 3 {
		t.Fatalf("payments.res (%v):\n%s", err, res)
	}
	// The week's reports arrive, and the AM04 trigger shows as a reject.
	defer func() {
		if t.Failed() {
			return
		}
		// Two debits collected, the third rejected: 89.99 EUR booked.
		deadline := time.Now().Add(10 * time.Second)
		for {
			out := shell("./bin/fileapi merchant show acme")
			if strings.Contains(out, "Balance:       89.99 EUR") {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("merchant show after a week:\n%s", out)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
	deadline := time.Now().Add(15 * time.Second)
	for {
		stmts, _ := filepath.Glob(filepath.Join(out, "STATEMENT_acme-creditor_*.csv"))
		issues, _ := filepath.Glob(filepath.Join(out, "ISSUES_acme-creditor_*.csv"))
		rejected := false
		for _, f := range issues {
			b, _ := os.ReadFile(f)
			rejected = rejected || strings.Contains(string(b), ";REJECT;QS-PAY-0003;")
		}
		if len(stmts) >= 3 && rejected { // 7 days hold at least 3 business days, even at Christmas
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after clock advance 7d: %d statements, reject reported %v\nserver log:\n%s", len(stmts), rejected, srv.logText())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitFor waits until path exists.
func waitFor(t *testing.T, path string, d time.Duration, srv *testServer) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear within %v\nserver log:\n%s", filepath.Base(path), d, srv.logText())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
