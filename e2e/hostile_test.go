package e2e

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The hostile-client suite: requests a merchant's client can send but
// should not, sent raw so that nothing on the client side tidies them up.

// hostileSetup is a server with two merchants: alpha (the attacker) and
// beta, whose files alpha must never reach, plus a file at the top of the
// data directory.
type hostileSetup struct {
	srv         *server
	data        string
	alpha, beta merchant
}

const betaSecret = "BETA-SECRET-CONTENT"

func newHostileSetup(t *testing.T, extra ...string) hostileSetup {
	t.Helper()
	data := filepath.Join(t.TempDir(), "data")
	h := hostileSetup{data: data}
	h.srv = startServer(t, data, extra...)
	h.alpha = addMerchant(t, data, "alpha")
	h.beta = addMerchant(t, data, "beta")
	// beta logs in once so that its folders exist, then gets files.
	sftpClient(t, h.srv.sftpAddr, h.beta).Close()
	for path, content := range map[string]string{
		merchantPath(data, "beta", "out", "secret.ack"):  betaSecret,
		merchantPath(data, "beta", "in", "pending.txt"):  betaSecret,
		filepath.Join(data, "outside.txt"):               betaSecret,
		merchantPath(data, "alpha", "out", "report.csv"): "alpha's own report\n",
	} {
		os.MkdirAll(filepath.Dir(path), 0o750)
		if err := os.WriteFile(path, []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// snapshot is every file under the data directory that a merchant's
// request could change, with its content.
func (h hostileSetup) snapshot(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(h.data, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(h.data, p)
		switch {
		case rel == "fileapi.db", rel == "audit.log", strings.HasPrefix(rel, "hostkeys"), rel == "admin.sock":
			return nil // the service's own, changing with every login
		}
		b, _ := os.ReadFile(p)
		out[rel] = string(b)
		return nil
	})
	return out
}

func TestHostilePathsInEveryRequest(t *testing.T) {
	h := newHostileSetup(t)
	conn := sshConn(t, h.srv.sftpAddr, h.alpha)
	r := newRawSFTP(t, conn)
	// One file of alpha's own in in/, as a rename source.
	hd := r.must(t, fxpOpen, openReq("/in/mine.txt", flagWrite|flagCreat|flagTrunc)).handle()
	if hd == "" {
		t.Fatal("cannot upload in/mine.txt")
	}
	r.must(t, fxpWrite, writeReq(hd, 0, []byte("mine")))
	if rep := r.must(t, fxpClose, str(hd)); rep.status != fxOK {
		t.Fatalf("close: %s", rep.code())
	}
	before := h.snapshot(t)

	const (
		bad     = "PERMISSION_DENIED" // a name that is refused as such
		outside = "NO_SUCH_FILE"      // a path outside in/ and out/: nothing there
	)
	paths := []struct {
		name, path, want string
	}{
		{"dotdot relative", "../beta/out/secret.ack", outside},
		{"dotdot from in", "/in/../../beta/out/secret.ack", outside},
		{"dotdot deep", "/out/../../../../../../../../etc/passwd", outside},
		{"dotdot to data dir", "/in/../../../outside.txt", outside},
		{"absolute host path", filepath.Join(h.data, "merchants", "beta", "out", "secret.ack"), outside},
		{"absolute /etc", "/etc/passwd", outside},
		{"other merchant root", "/beta/out/secret.ack", outside},
		{"backslash traversal", `/out/..\..\beta\out\secret.ack`, bad},
		{"backslash relative", `..\beta\out\secret.ack`, bad},
		{"backslash inside name", `/in/a\b.csv`, bad},
		{"NUL in name", "/out/secret.ack\x00", bad},
		{"NUL then extension", "/in/x.csv\x00.txt", bad},
		{"control character", "/in/x\x07.csv", bad},
		{"over-long name", "/in/" + strings.Repeat("a", 256), bad},
		{"over-long multibyte", "/out/" + strings.Repeat("é", 128), bad},
		{"huge path", "/in/" + strings.Repeat("a", 200000), bad},
		{"dotdot inside name", "/in/..hidden.csv", bad},
		{"deep path", "/in/" + strings.Repeat("a/", 1000) + "x", outside},
		{"internal temp name", "/in/.fileapi-up-0123", outside},
	}
	type op struct {
		name string
		req  func(p string) (byte, []byte)
		want func(class string) string // expected status for a path of that class
	}
	same := func(c string) string { return c }
	ops := []op{
		{"open read", func(p string) (byte, []byte) { return fxpOpen, openReq(p, flagRead) }, same},
		{"open write", func(p string) (byte, []byte) { return fxpOpen, openReq(p, flagWrite|flagCreat|flagTrunc) }, same},
		{"stat", func(p string) (byte, []byte) { return fxpStat, pathReq(p) }, same},
		{"lstat", func(p string) (byte, []byte) { return fxpLstat, pathReq(p) }, same},
		{"setstat", func(p string) (byte, []byte) { return fxpSetstat, setstatReq(p) }, same},
		{"rename from", func(p string) (byte, []byte) { return fxpRename, twoPathReq(p, "/in/renamed.txt") }, same},
		{"rename to", func(p string) (byte, []byte) { return fxpRename, twoPathReq("/in/mine.txt", p) }, same},
		{"posix-rename from", func(p string) (byte, []byte) { return fxpExtended, posixRenameReq(p, "/in/renamed.txt") }, same},
		{"posix-rename to", func(p string) (byte, []byte) { return fxpExtended, posixRenameReq("/in/mine.txt", p) }, same},
		{"remove", func(p string) (byte, []byte) { return fxpRemove, pathReq(p) }, same},
		{"opendir", func(p string) (byte, []byte) { return fxpOpendir, pathReq(p) }, same},
		{"mkdir", func(p string) (byte, []byte) { return fxpMkdir, mkdirReq(p) }, same},
		{"rmdir", func(p string) (byte, []byte) { return fxpRmdir, pathReq(p) }, same},
		{"readlink", func(p string) (byte, []byte) { return fxpReadlink, pathReq(p) }, same},
		// Links are not supported at all, whatever the paths.
		{"symlink target", func(p string) (byte, []byte) { return fxpSymlink, twoPathReq("/in/link", p) }, func(string) string { return "OP_UNSUPPORTED" }},
		{"symlink link", func(p string) (byte, []byte) { return fxpSymlink, twoPathReq(p, "/out/report.csv") }, func(string) string { return "OP_UNSUPPORTED" }},
	}
	for _, o := range ops {
		for _, p := range paths {
			typ, body := o.req(p.path)
			rep := r.must(t, typ, body)
			if got, want := rep.code(), o.want(p.want); got != want {
				t.Errorf("%s %s (%q): %s %q, want %s", o.name, p.name, p.path, got, rep.message, want)
			}
			if rep.typ == fxpHandle {
				r.call(fxpClose, str(rep.handle()))
			}
			if strings.Contains(rep.message, h.data) || strings.Contains(rep.message, "merchants") {
				t.Errorf("%s %s: the error reveals a host path: %q", o.name, p.name, rep.message)
			}
		}
	}

	// realpath answers with virtual paths only: whatever comes in, what
	// goes out is absolute, clean and never the disk location.
	for _, p := range paths {
		rep := r.must(t, fxpRealpath, pathReq(p.path))
		if rep.typ != fxpName {
			if rep.typ != fxpStatus || rep.status == fxOK {
				t.Errorf("realpath %s: %s", p.name, rep.code())
			}
			continue
		}
		names := rep.names()
		if len(names) != 1 || !strings.HasPrefix(names[0], "/") || strings.Contains(names[0], "/../") ||
			(strings.Contains(names[0], h.data) && !strings.Contains(p.path, h.data)) {
			t.Errorf("realpath %s: %q", p.name, names)
		}
	}
	for _, p := range []string{".", "", "/", "..", "/../../..", "in/../../.."} {
		rep := r.must(t, fxpRealpath, pathReq(p))
		if n := rep.names(); len(n) != 1 || n[0] != "/" {
			t.Errorf("realpath %q = %q, want /", p, n)
		}
	}

	// readdir through a traversal that cleans to the root lists only the
	// two folders.
	for _, p := range []string{"/in/../..", "../../..", "/out/../../../.."} {
		hd := r.must(t, fxpOpendir, pathReq(p)).handle()
		if hd == "" {
			t.Fatalf("opendir %q refused", p)
		}
		var all []string
		for {
			rep := r.must(t, fxpReaddir, str(hd))
			if rep.typ != fxpName {
				if rep.status != fxEOF {
					t.Errorf("readdir %q: %s", p, rep.code())
				}
				break
			}
			all = append(all, rep.names()...)
		}
		r.call(fxpClose, str(hd))
		var visible []string
		for _, n := range all {
			if n != "." && n != ".." {
				visible = append(visible, n)
			}
		}
		if fmt.Sprint(visible) != "[in out]" {
			t.Errorf("listing %q: %q", p, all)
		}
	}

	// Nothing changed anywhere, and nothing of beta's was served.
	after := h.snapshot(t)
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Errorf("the data directory changed:\nbefore %q\nafter  %q", before, after)
	}
	if s := strayFiles(t, h.data); len(s) > 0 {
		t.Errorf("stray files: %v", s)
	}
	if !h.srv.alive() {
		t.Fatalf("server died:\n%s", h.srv.logText())
	}
}

// TestFolderRulesGiveClearStatuses: out/ cannot be written, in/ cannot be
// read back, with statuses clients understand, and beta's files stay
// invisible under alpha's own folder names.
func TestFolderRulesGiveClearStatuses(t *testing.T) {
	h := newHostileSetup(t)
	r := newRawSFTP(t, sshConn(t, h.srv.sftpAddr, h.alpha))
	hd := r.must(t, fxpOpen, openReq("/in/note.txt", flagWrite|flagCreat|flagTrunc)).handle()
	r.must(t, fxpWrite, writeReq(hd, 0, []byte("note")))
	r.must(t, fxpClose, str(hd))

	cases := []struct {
		name string
		typ  byte
		body []byte
		want string
	}{
		{"write over an out/ file", fxpOpen, openReq("/out/report.csv", flagWrite|flagTrunc), "PERMISSION_DENIED"},
		{"create a file in out/", fxpOpen, openReq("/out/new.csv", flagWrite|flagCreat|flagTrunc), "PERMISSION_DENIED"},
		{"open an out/ file read-write", fxpOpen, openReq("/out/report.csv", flagRead|flagWrite), "PERMISSION_DENIED"},
		{"read back an in/ file", fxpOpen, openReq("/in/note.txt", flagRead), "PERMISSION_DENIED"},
		{"write into the root (no such folder)", fxpOpen, openReq("/x.csv", flagWrite|flagCreat|flagTrunc), "NO_SUCH_FILE"},
		{"open a folder for write", fxpOpen, openReq("/in", flagWrite|flagCreat|flagTrunc), "PERMISSION_DENIED"},
		{"resume an in/ file (no TRUNC)", fxpOpen, openReq("/in/note.txt", flagWrite), "PERMISSION_DENIED"},
		{"beta's file under alpha's out/", fxpOpen, openReq("/out/secret.ack", flagRead), "NO_SUCH_FILE"},
		{"beta's file under alpha's in/", fxpStat, pathReq("/in/pending.txt"), "NO_SUCH_FILE"},
		{"rename out/ to in/", fxpRename, twoPathReq("/out/report.csv", "/in/report.csv"), "PERMISSION_DENIED"},
		{"rename in/ to out/", fxpRename, twoPathReq("/in/note.txt", "/out/note.txt"), "PERMISSION_DENIED"},
		{"remove a folder", fxpRemove, pathReq("/out"), "PERMISSION_DENIED"},
		{"rmdir in/", fxpRmdir, pathReq("/in"), "PERMISSION_DENIED"},
		{"mkdir in in/", fxpMkdir, mkdirReq("/in/sub"), "PERMISSION_DENIED"},
		{"hard link", fxpExtended, cat(str("hardlink@openssh.com"), str("/out/report.csv"), str("/in/x.csv")), "OP_UNSUPPORTED"},
	}
	for _, c := range cases {
		rep := r.must(t, c.typ, c.body)
		if rep.code() != c.want {
			t.Errorf("%s: %s %q, want %s", c.name, rep.code(), rep.message, c.want)
		}
		if rep.typ == fxpHandle {
			// Even if opened, no byte of it may come back.
			d := r.must(t, fxpRead, readReq(rep.handle(), 0, 1024))
			if d.typ == fxpData {
				t.Errorf("%s: data served: %q", c.name, d.payload)
			}
			r.call(fxpClose, str(rep.handle()))
		}
	}
	if b, _ := os.ReadFile(merchantPath(h.data, "alpha", "out", "report.csv")); string(b) != "alpha's own report\n" {
		t.Errorf("out/report.csv changed: %q", b)
	}
	if b, _ := os.ReadFile(merchantPath(h.data, "beta", "out", "secret.ack")); string(b) != betaSecret {
		t.Errorf("beta's file changed: %q", b)
	}
	// alpha's own out/ file is readable.
	hd = r.must(t, fxpOpen, openReq("/out/report.csv", flagRead)).handle()
	if d := r.must(t, fxpRead, readReq(hd, 0, 1024)); d.typ != fxpData || !bytes.Contains(d.payload, []byte("alpha's own report")) {
		t.Errorf("reading out/report.csv: %s", d.code())
	}
	r.must(t, fxpClose, str(hd))
	if s := strayFiles(t, h.data); len(s) > 0 {
		t.Errorf("stray files: %v", s)
	}
}

// TestMalformedPacketsEndTheSessionNotTheServer: packet lengths of 4 GiB,
// 0 and cut short, unknown packet types and garbage after the hello end
// (at worst) that one session; nothing piles up and everyone else goes on.
func TestMalformedPacketsEndTheSessionNotTheServer(t *testing.T) {
	h := newHostileSetup(t)
	time.Sleep(200 * time.Millisecond)
	base := h.srv.metric("go_goroutines")
	garbage := [][]byte{
		{0xff, 0xff, 0xff, 0xff, fxpOpen},                              // claims 4 GiB
		{0, 0, 0, 0},                                                   // empty packet
		{0, 0, 0, 100, fxpOpen, 0, 0, 0, 1},                            // cut short, then EOF
		cat(u32(9), []byte{0xee}, u32(7), u32(0xffffffff)),             // unknown type
		cat(u32(13), []byte{fxpOpen}, u32(1), u32(0x7fffffff), u32(0)), // string longer than the packet
		bytes.Repeat([]byte{0x41}, 70000),                              // text, not packets
	}
	for i, g := range garbage {
		conn, err := dialSSH(h.srv.sftpAddr, h.alpha.id, h.alpha.signer)
		if err != nil {
			t.Fatalf("case %d: login: %v", i, err)
		}
		r := newRawSFTP(t, conn)
		r.ch.Write(g)
		r.ch.CloseWrite()
		// The server answers what it can and ends the session; reading
		// until EOF must not hang.
		done := make(chan struct{})
		go func() {
			io.Copy(io.Discard, r.ch)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("case %d: session still open 10s after garbage", i)
		}
		conn.Close()
	}
	// Everyone else goes on: a normal client works.
	c := sftpClient(t, h.srv.sftpAddr, h.alpha)
	if _, err := c.ReadDir("out"); err != nil {
		t.Fatalf("after malformed packets: %v", err)
	}
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		g := h.srv.metric("go_goroutines")
		if g <= base+5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines %v, was %v before the malformed sessions", g, base)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !h.srv.alive() {
		t.Fatalf("server died:\n%s", h.srv.logText())
	}
	if s := strayFiles(t, h.data); len(s) > 0 {
		t.Errorf("stray files: %v", s)
	}
}
