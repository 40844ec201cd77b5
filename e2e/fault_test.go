package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Faults: a full disk, a second server on the same data, broken uploads.

// mountTmpfs mounts a tmpfs of size on dir (we run as root here and in
// CI) and unmounts it at the end of the test.
func mountTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput()
	if err != nil {
		msg := fmt.Sprintf("mount tmpfs (needs root): %v %s", err, out)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() {
		// The server is stopped first (cleanups run last-in first-out,
		// and the server was started after the mount).
		if err := syscall.Unmount(dir, 0); err != nil {
			syscall.Unmount(dir, syscall.MNT_DETACH)
		}
	})
}

func TestFullDiskFailsTheUploadAndAcknowledgesNothing(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	mountTmpfs(t, data, "2m")
	srv := startServer(t, data)
	m := addMerchant(t, data, "acme")
	c := sftpClient(t, srv.sftpAddr, m)

	// A 3 MiB upload into a 2 MiB file system: a PAYMENTS file whose
	// payment lines would all be fine.
	var b bytes.Buffer
	b.WriteString(paymentsFile(m, "FULL"))
	for b.Len() < 3<<20 {
		b.WriteString("FULL-X;1.00;UMR-X;2025-03-14;Jeanne Martin;FR7630006000011234567890189;padding line;\n")
	}
	err := putFile(c, "in/full.csv", b.Bytes())
	if code := sftpStatus(err); code != fxFailure {
		t.Fatalf("upload on a full disk: %v (status %d), want an SFTP FAILURE", err, code)
	}
	if !strings.Contains(err.Error(), "no space") {
		t.Errorf("the error does not say the disk is full: %v", err)
	}
	// No partial file, nothing picked up or acknowledged.
	ents, _ := os.ReadDir(merchantPath(data, "acme", "in"))
	for _, e := range ents {
		t.Errorf("left in in/: %s", e.Name())
	}
	if ents, _ := os.ReadDir(merchantPath(data, "acme", "out")); len(ents) != 0 {
		t.Errorf("out/ holds %d files after a failed upload", len(ents))
	}
	if n := countPickups(t, data, "acme"); n != 0 {
		t.Errorf("%d pick-ups of a failed upload", n)
	}
	if s := strayFiles(t, data); len(s) > 0 {
		t.Errorf("stray files: %v", s)
	}
	// The space is given back: the next (small) upload goes through.
	if err := putFile(c, "in/small.csv", []byte(paymentsFile(m, "SMALL"))); err != nil {
		t.Fatalf("small upload after the full disk: %v", err)
	}
	ack := waitFile(t, merchantPath(data, "acme", "out", "small.ack"), 10*time.Second)
	if !strings.Contains(string(ack), "ACKNOWLEDGED") {
		t.Errorf("small.ack: %q", ack)
	}
	if !srv.alive() {
		t.Fatalf("server died:\n%s", srv.logText())
	}
}

func TestSecondServerOnTheSameDataFailsClearly(t *testing.T) {
	t.Parallel() // mostly waiting: overlaps with the others
	data := filepath.Join(t.TempDir(), "data")
	first := startServer(t, data)
	start := time.Now()
	second, err := tryStartServer(t, data)
	if err == nil {
		t.Fatal("a second fileapi serve started on the same data directory")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the second server took %v to give up", d)
	}
	if code := second.cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if log := second.logText(); !strings.Contains(log, "in use by another process") {
		t.Errorf("the start error does not say the data is in use:\n%s", log)
	}
	// The first one is unharmed.
	if code, _ := first.get("/healthz"); code != 200 || !first.alive() {
		t.Fatalf("first server after the second's attempt: /healthz %d", code)
	}
}

// TestStoreLockedByAnotherProgramFailsClearly: not a second fileapi but
// any process holding the store's lock (a backup tool, a stuck admin
// command) stops serve from starting, with a sentence saying so.
func TestStoreLockedByAnotherProgramFailsClearly(t *testing.T) {
	t.Parallel() // mostly waiting: overlaps with the others
	data := filepath.Join(t.TempDir(), "data")
	startServer(t, data).stop() // creates the store
	f, err := os.OpenFile(filepath.Join(data, "fileapi.db"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	s, err := tryStartServer(t, data)
	if err == nil {
		t.Fatal("serve started on a locked store")
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if log := s.logText(); !strings.Contains(log, "in use by another process") {
		t.Errorf("the start error does not say the store is in use:\n%s", log)
	}
	// Released, it starts.
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	startServer(t, data)
}

func TestBrokenUploadsGetAnErr(t *testing.T) {
	t.Parallel() // mostly waiting: overlaps with the others
	data := filepath.Join(t.TempDir(), "data")
	srv := startServer(t, data)
	m := addMerchant(t, data, "acme")
	c := sftpClient(t, srv.sftpAddr, m)

	full := paymentsFile(m, "CUT")
	xmlDoc, err := os.ReadFile("../formats/testdata/pain008/full_v08.xml")
	if err != nil {
		t.Fatal(err)
	}
	bomb := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
		`<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>` +
		`<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"><CstmrDrctDbtInitn><GrpHdr><MsgId>&lol4;</MsgId></GrpHdr></CstmrDrctDbtInitn></Document>`
	cases := []struct {
		name    string
		content string
	}{
		{"cut-mid-line.csv", full[:len(full)-40]},
		{"cut-in-header.csv", full[:30]},
		{"cut-mid-element.xml", string(xmlDoc[:len(xmlDoc)*2/3])},
		{"cut-mid-tag.xml", strings.TrimRight(string(xmlDoc[:len(xmlDoc)/2]), "\n") + "<Dbtr"},
		{"empty.csv", ""},
		{"binary.csv", string(bytes.Repeat([]byte{0xff, 0x00, 0xfe, 0x01}, 4096))},
		{"broken-utf8.csv", strings.Replace(full, "Jeanne", "Je\xc3\x28nne", 1)},
		{"xml-bomb.xml", bomb},
		{"long-line.csv", "0;PAYMENTS;" + strings.Repeat("A", 5<<20) + "\n"},
	}
	for _, tc := range cases {
		if err := putFile(c, "in/"+tc.name, []byte(tc.content)); err != nil {
			t.Fatalf("upload %s: %v", tc.name, err)
		}
	}
	for _, tc := range cases {
		base := strings.TrimSuffix(tc.name, filepath.Ext(tc.name))
		errFile := waitFile(t, merchantPath(data, "acme", "out", base+".err"), 15*time.Second)
		if len(bytes.TrimSpace(errFile)) == 0 {
			t.Errorf("%s.err is empty", base)
		}
		if _, err := os.Stat(merchantPath(data, "acme", "out", base+".ack")); err == nil {
			t.Errorf("%s was acknowledged", tc.name)
		}
	}
	// The complete version of the cut file is still welcome (a rejected
	// name may be uploaded again).
	if err := putFile(c, "in/cut-mid-line.csv", []byte(full)); err != nil {
		t.Fatal(err)
	}
	ack := waitFile(t, merchantPath(data, "acme", "out", "cut-mid-line.ack"), 10*time.Second)
	if !strings.Contains(string(ack), "ACKNOWLEDGED") {
		t.Errorf("cut-mid-line.ack: %q", ack)
	}
	waitGone(t, merchantPath(data, "acme", "out", "cut-mid-line.err"), 5*time.Second)
	if !srv.alive() {
		t.Fatalf("server died:\n%s", srv.logText())
	}
	if s := strayFiles(t, data); len(s) > 0 {
		t.Errorf("stray files: %v", s)
	}
}
