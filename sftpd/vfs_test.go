package sftpd

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

func isDenied(err error) bool {
	return errors.Is(err, os.ErrPermission) || statusCode(err) == 3
}

func isNotExist(err error) bool {
	return errors.Is(err, os.ErrNotExist) || statusCode(err) == 2
}

func names(fis []os.FileInfo) []string {
	var out []string
	for _, fi := range fis {
		out = append(out, fi.Name())
	}
	return out
}

func TestVirtualTree(t *testing.T) {
	ts := newTestServer(t)
	acme := ts.addMerchant("acme")
	c := ts.sftp(acme)

	root, err := c.ReadDir("/")
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "root listing", strings.Join(names(root), ","), "in,out")
	for _, fi := range root {
		if !fi.IsDir() {
			t.Errorf("%s is not a folder", fi.Name())
		}
	}
	if wd, err := c.Getwd(); err != nil || wd != "/" {
		t.Fatalf("Getwd = %q, %v", wd, err)
	}
	if rp, err := c.RealPath("in/../out/./x"); err != nil || rp != "/out/x" {
		t.Fatalf("RealPath = %q, %v", rp, err)
	}

	// in/: write, list, never read.
	if err := putFile(t, c, "/in/notes.txt", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(ts.disk("acme", "in/notes.txt")); string(got) != "hello" {
		t.Fatalf("on disk: %q", got)
	}
	in, err := c.ReadDir("/in")
	if err != nil || strings.Join(names(in), ",") != "notes.txt" || in[0].Size() != 5 {
		t.Fatalf("in/ = %v, %v", names(in), err)
	}
	if _, err := c.Open("/in/notes.txt"); !isDenied(err) {
		t.Fatalf("read from in/: %v, want permission denied", err)
	}
	if f, err := c.OpenFile("/in/rw.txt", os.O_RDWR|os.O_CREATE|os.O_TRUNC); err != nil {
		t.Fatalf("read-write open for upload: %v", err)
	} else {
		if _, err := f.Write([]byte("abc")); err != nil {
			t.Fatal(err)
		}
		if _, err := f.ReadAt(make([]byte, 3), 0); err == nil {
			t.Fatal("read back through a read-write handle in in/")
		}
		f.Close()
	}

	// out/: read, list, remove; never write.
	ts.writeOut("acme", "pay.ack", "ACK")
	f, err := c.Open("/out/pay.ack")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(f); string(got) != "ACK" {
		t.Fatalf("read %q", got)
	}
	f.Close()
	if err := putFile(t, c, "/out/evil.csv", []byte("x")); !isDenied(err) {
		t.Fatalf("write into out/: %v", err)
	}
	if _, err := c.OpenFile("/out/pay.ack", os.O_RDWR); !isDenied(err) {
		t.Fatalf("read-write open in out/: %v", err)
	}
	if err := c.Rename("/out/pay.ack", "/in/pay.csv"); !isDenied(err) {
		t.Fatalf("rename out/ to in/: %v", err)
	}
	if err := c.Rename("/in/notes.txt", "/out/notes.txt"); !isDenied(err) {
		t.Fatalf("rename in/ to out/: %v", err)
	}
	if err := c.Remove("/out/pay.ack"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ts.disk("acme", "out/pay.ack")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("out/pay.ack still on disk")
	}

	// No other path; no folders, links or symlinks.
	for _, p := range []string{"/x.csv", "/tmp/x.csv", "/in/sub/x.csv"} {
		if err := putFile(t, c, p, []byte("x")); err == nil {
			t.Errorf("upload to %s accepted", p)
		}
	}
	if _, err := c.Stat("/etc"); !isNotExist(err) {
		t.Errorf("stat /etc: %v", err)
	}
	refused := map[string]error{
		"mkdir in/": c.Mkdir("/in/sub"),
		"mkdir /":   c.Mkdir("/new"),
		"rmdir":     c.RemoveDirectory("/in"),
		"remove in": c.Remove("/in"),
		"symlink":   c.Symlink("/out", "/in/link"),
		"link":      c.Link("/in/notes.txt", "/in/hard"),
	}
	for what, err := range refused {
		if err == nil {
			t.Errorf("%s accepted", what)
		}
	}
	if _, err := c.ReadLink("/in/notes.txt"); err == nil {
		t.Error("readlink accepted")
	}
	if entries, _ := os.ReadDir(ts.disk("acme", "in")); len(entries) != 2 {
		t.Errorf("in/ on disk holds %d entries, want 2", len(entries))
	}

	// setstat is accepted and ignored.
	mtime := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := c.Chtimes("/in/notes.txt", mtime, mtime); err != nil {
		t.Fatalf("chtimes: %v", err)
	}
	if err := c.Chmod("/in/notes.txt", 0o777); err != nil {
		t.Fatalf("chmod: %v", err)
	}
	if fi, _ := os.Stat(ts.disk("acme", "in/notes.txt")); fi.Mode().Perm() == 0o777 || fi.ModTime().Equal(mtime) {
		t.Error("setstat was applied to the host file")
	}
}

func TestInternalFilesInvisible(t *testing.T) {
	ts := newTestServer(t)
	acme := ts.addMerchant("acme")
	c := ts.sftp(acme)
	hidden := InternalPrefix + "up-123"
	for _, dir := range []string{"in", "out"} {
		if err := os.WriteFile(ts.disk("acme", dir+"/"+hidden), []byte("internal"), 0o640); err != nil {
			t.Fatal(err)
		}
		p := "/" + dir + "/" + hidden
		fis, err := c.ReadDir("/" + dir)
		if err != nil || len(fis) != 0 {
			t.Errorf("%s listing = %v, %v", dir, names(fis), err)
		}
		if _, err := c.Stat(p); !isNotExist(err) {
			t.Errorf("stat %s: %v", p, err)
		}
		if _, err := c.Open(p); err == nil {
			t.Errorf("open %s accepted", p)
		}
		if err := c.Remove(p); err == nil {
			t.Errorf("remove %s accepted", p)
		}
		if err := putFile(t, c, p, []byte("x")); err == nil {
			t.Errorf("write %s accepted", p)
		}
		if err := c.PosixRename(p, "/in/x.txt"); err == nil {
			t.Errorf("rename %s accepted", p)
		}
		if got, _ := os.ReadFile(ts.disk("acme", dir+"/"+hidden)); string(got) != "internal" {
			t.Errorf("%s changed: %q", p, got)
		}
		os.Remove(ts.disk("acme", dir+"/"+hidden)) // the cleanup check would flag it
	}
}

// TestConfinement sends every hostile path we know of, from merchant acme,
// at merchant globex's files and the host: nothing may be read, listed,
// written, renamed or removed, and error texts never show host paths.
func TestConfinement(t *testing.T) {
	ts := newTestServer(t)
	acme := ts.addMerchant("acme")
	globex := ts.addMerchant("globex")
	ts.sftp(globex) // creates globex's folders
	ts.writeOut("globex", "secret.ack", "GLOBEX SECRET")
	if err := os.WriteFile(ts.disk("globex", "in/waiting.txt"), []byte("GLOBEX WAITING"), 0o640); err != nil {
		t.Fatal(err)
	}
	c := ts.sftp(acme)
	gdir := MerchantDir(ts.dataDir, "globex")
	paths := []string{
		"../globex/out/secret.ack",
		"/../globex/out/secret.ack",
		"/out/../../globex/out/secret.ack",
		"/in/../../../globex/in/waiting.txt",
		"out/..\\..\\globex\\out\\secret.ack",
		"\\..\\globex\\out\\secret.ack",
		"/out/..\\..\\globex/out/secret.ack",
		gdir + "/out/secret.ack",
		"/merchants/globex/out/secret.ack",
		"/out/secret.ack\x00.txt",
		"/out/secret\x00",
		"/out/" + strings.Repeat("a", 256),
		"/in/" + strings.Repeat("b", 300) + ".csv",
		"/out/a\nb",
		"/etc/passwd",
		"/../../../../etc/passwd",
		"~globex/out/secret.ack",
		"/out/../../../" + filepath.Base(ts.dataDir) + "/merchants/globex/out/secret.ack",
		"/in/a\x7fb.csv",
	}
	check := func(what, p string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s %q accepted", what, p)
			return
		}
		// The client library may repeat the path it sent; the rest of the
		// text comes from the server.
		msg := strings.ReplaceAll(err.Error(), p, "")
		if strings.Contains(msg, ts.dataDir) || strings.Contains(msg, "merchants") {
			t.Errorf("%s %q: error reveals a host path: %v", what, p, err)
		}
	}
	for _, p := range paths {
		if f, err := c.Open(p); err == nil {
			b, _ := io.ReadAll(f)
			f.Close()
			if bytes.Contains(b, []byte("GLOBEX")) {
				t.Fatalf("read globex's file through %q", p)
			}
		}
		_, err := c.ReadDir(p)
		if !strings.HasSuffix(p, "secret.ack") {
			check("list", p, err)
		}
		if fi, err := c.Stat(p); err == nil && strings.Contains(p, "globex") && !fi.IsDir() {
			t.Errorf("stat %q reached a file: %v", p, fi.Name())
		}
		check("write", p, putFile(t, c, p, []byte("ACME WAS HERE")))
		check("remove", p, c.Remove(p))
		check("rename from", p, c.PosixRename(p, "/in/stolen.txt"))
		c.Rename("/in/x.txt", p)
	}
	for _, p := range []string{"/in", "/out"} {
		if fis, err := c.ReadDir(p); err != nil || len(fis) != 0 {
			t.Errorf("acme's %s = %v, %v (nothing should have landed)", p, names(fis), err)
		}
	}
	if got, _ := os.ReadFile(ts.disk("globex", "out/secret.ack")); string(got) != "GLOBEX SECRET" {
		t.Fatal("globex's out/ file changed")
	}
	if got, _ := os.ReadFile(ts.disk("globex", "in/waiting.txt")); string(got) != "GLOBEX WAITING" {
		t.Fatal("globex's in/ file changed")
	}
	// A symlink planted on disk (not possible through SFTP) is neither
	// listed nor followed.
	if err := os.Symlink(ts.disk("globex", "out/secret.ack"), ts.disk("acme", "out/link.ack")); err != nil {
		t.Fatal(err)
	}
	if fis, _ := c.ReadDir("/out"); len(fis) != 0 {
		t.Errorf("symlink listed: %v", names(fis))
	}
	if f, err := c.Open("/out/link.ack"); err == nil {
		b, _ := io.ReadAll(f)
		f.Close()
		t.Fatalf("symlink followed: %q", b)
	}
	if got := ts.pickup.list(); len(got) != 0 {
		t.Fatalf("pick-ups = %v", got)
	}
}

func TestUploadAndPickup(t *testing.T) {
	ts := newTestServer(t)
	acme := ts.addMerchant("acme")
	c := ts.sftp(acme)

	steps := []struct {
		name string
		do   func() error
		want []string // pick-ups after this step, in total
	}{
		{"csv closed", func() error { return putFile(t, c, "/in/a.csv", []byte("a")) }, []string{"acme/a.csv"}},
		{"upper-case XML closed", func() error { return putFile(t, c, "/in/B.XML", []byte("<b/>")) }, []string{"acme/a.csv", "acme/B.XML"}},
		{"other name waits", func() error { return putFile(t, c, "/in/c.txt", []byte("c")) }, []string{"acme/a.csv", "acme/B.XML"}},
		{".part waits", func() error { return putFile(t, c, "/in/d.csv.part", []byte("d")) }, []string{"acme/a.csv", "acme/B.XML"}},
		{".part renamed (posix)", func() error { return c.PosixRename("/in/d.csv.part", "/in/d.csv") }, []string{"acme/a.csv", "acme/B.XML", "acme/d.csv"}},
		{".filepart renamed (SFTPv3)", func() error {
			if err := putFile(t, c, "/in/e.xml.filepart", []byte("<e/>")); err != nil {
				return err
			}
			return c.Rename("/in/e.xml.filepart", "/in/e.xml")
		}, []string{"acme/a.csv", "acme/B.XML", "acme/d.csv", "acme/e.xml"}},
		{"rename between waiting names", func() error { return c.Rename("/in/c.txt", "/in/c2.txt") }, []string{"acme/a.csv", "acme/B.XML", "acme/d.csv", "acme/e.xml"}},
		{"re-upload replaces", func() error { return putFile(t, c, "/in/a.csv", []byte("a2")) }, []string{"acme/a.csv", "acme/B.XML", "acme/d.csv", "acme/e.xml", "acme/a.csv"}},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := ts.pickup.list(); !slices.Equal(got, st.want) {
			t.Fatalf("after %s: pick-ups %v, want %v", st.name, got, st.want)
		}
	}
	if got, _ := os.ReadFile(ts.disk("acme", "in/a.csv")); string(got) != "a2" {
		t.Fatalf("a.csv = %q", got)
	}
	if _, err := os.Stat(ts.disk("acme", "in/d.csv.part")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("d.csv.part still there")
	}

	// Picked-up files belong to the service until their .ack/.err.
	if err := c.Remove("/in/a.csv"); !isDenied(err) {
		t.Fatalf("remove picked-up file: %v", err)
	}
	if err := c.PosixRename("/in/a.csv", "/in/a.txt"); !isDenied(err) {
		t.Fatalf("rename picked-up file: %v", err)
	}
	// A waiting file can be removed; plain RENAME does not overwrite.
	if err := putFile(t, c, "/in/f.txt", []byte("f")); err != nil {
		t.Fatal(err)
	}
	if err := c.Rename("/in/f.txt", "/in/c2.txt"); err == nil {
		t.Fatal("SFTPv3 rename overwrote an existing file")
	}
	if err := c.Remove("/in/f.txt"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Stat("/in/f.txt"); !isNotExist(err) {
		t.Fatalf("stat removed file: %v", err)
	}

	// Resume is refused: APPEND, or an existing file without TRUNC.
	if err := putFile(t, c, "/in/g.txt", []byte("g")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.OpenFile("/in/g.txt", os.O_WRONLY|os.O_APPEND); !isDenied(err) {
		t.Fatalf("append: %v", err)
	}
	if _, err := c.OpenFile("/in/g.txt", os.O_WRONLY); !isDenied(err) {
		t.Fatalf("open existing without TRUNC: %v", err)
	}
	if _, err := c.OpenFile("/in/g.txt", os.O_WRONLY|os.O_CREATE|os.O_EXCL); err == nil {
		t.Fatal("EXCL on an existing file accepted")
	}

	ups := ts.auditActions("upload")
	if len(ups) != 8 || ups[0].Path != "/in/a.csv" || ups[0].Bytes != 1 || ups[0].Fingerprint != acme.fp || ups[0].Outcome != outcomeComplete {
		t.Fatalf("upload audit = %+v", ups)
	}
	if rm := ts.auditActions("remove"); len(rm) != 1 || rm[0].Path != "/in/f.txt" {
		t.Fatalf("remove audit = %+v", rm)
	}
}

// TestStatAfterPickup: batch removes in/NAME right after the pick-up; the
// client's stat and setstat after its upload must still succeed.
func TestStatAfterPickup(t *testing.T) {
	ts := newTestServer(t)
	ts.pickup.onPickup = func(merchant, name string) error {
		return os.Remove(ts.disk(merchant, "in/"+name))
	}
	acme := ts.addMerchant("acme")
	c := ts.sftp(acme)
	other := ts.sftp(acme)
	if err := putFile(t, c, "/in/pay.csv", []byte("12345")); err != nil {
		t.Fatal(err)
	}
	fi, err := c.Stat("/in/pay.csv")
	if err != nil || fi.Size() != 5 {
		t.Fatalf("stat after pick-up: %v, %v", fi, err)
	}
	if _, err := c.Lstat("/in/pay.csv"); err != nil {
		t.Fatalf("lstat after pick-up: %v", err)
	}
	now := time.Now()
	if err := c.Chtimes("/in/pay.csv", now, now); err != nil {
		t.Fatalf("setstat after pick-up: %v", err)
	}
	// Other connections see the truth; so does a listing.
	if _, err := other.Stat("/in/pay.csv"); !isNotExist(err) {
		t.Fatalf("other connection stat: %v", err)
	}
	if fis, _ := c.ReadDir("/in"); len(fis) != 0 {
		t.Fatalf("listing = %v", names(fis))
	}
	// Same through a rename into a final name.
	if err := putFile(t, c, "/in/r.part", []byte("abc")); err != nil {
		t.Fatal(err)
	}
	if err := c.PosixRename("/in/r.part", "/in/r.xml"); err != nil {
		t.Fatal(err)
	}
	if fi, err := c.Stat("/in/r.xml"); err != nil || fi.Size() != 3 {
		t.Fatalf("stat renamed after pick-up: %v, %v", fi, err)
	}
	if _, err := c.Stat("/in/r.part"); !isNotExist(err) {
		t.Fatalf("stat of the old name: %v", err)
	}
}

func TestPickupErrorFailsClose(t *testing.T) {
	ts := newTestServer(t)
	ts.pickup.onPickup = func(string, string) error { return errors.New("store down at /var/secret/path") }
	acme := ts.addMerchant("acme")
	c := ts.sftp(acme)
	err := putFile(t, c, "/in/pay.csv", []byte("x"))
	if err == nil {
		t.Fatal("close succeeded although the pick-up failed")
	}
	if strings.Contains(err.Error(), "/var/secret") {
		t.Fatalf("internal error leaked: %v", err)
	}
}

func TestConcurrentOutOfOrderWrites(t *testing.T) {
	ts := newTestServer(t)
	acme := ts.addMerchant("acme")
	c := ts.sftp(acme, sftp.UseConcurrentWrites(true), sftp.MaxPacket(4096))
	data := make([]byte, 1<<20+123)
	rand.Read(data)
	f, err := c.Create("/in/big.csv")
	if err != nil {
		t.Fatal(err)
	}
	// Chunks written from several goroutines, last chunk first.
	const chunk = 64 << 10
	var wg sync.WaitGroup
	for off := (len(data) / chunk) * chunk; off >= 0; off -= chunk {
		wg.Add(1)
		go func(off int) {
			defer wg.Done()
			end := min(off+chunk, len(data))
			if _, err := f.WriteAt(data[off:end], int64(off)); err != nil {
				t.Error(err)
			}
		}(off)
	}
	wg.Wait()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(ts.disk("acme", "in/big.csv"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("content differs (%d bytes, %v)", len(got), err)
	}
	// And once more through the streaming path.
	f, err = c.Create("/in/big2.csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.ReadFrom(bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got, _ := os.ReadFile(ts.disk("acme", "in/big2.csv")); !bytes.Equal(got, data) {
		t.Fatal("streamed content differs")
	}
	mustEqual(t, "pick-ups", len(ts.pickup.list()), 2)
}

func TestUploadTooLarge(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MaxFileSize = 1000 })
	acme := ts.addMerchant("acme")
	c := ts.sftp(acme)
	if err := putFile(t, c, "/in/ok.csv", make([]byte, 1000)); err != nil {
		t.Fatalf("file at the limit: %v", err)
	}
	err := putFile(t, c, "/in/big.csv", make([]byte, 1001))
	if err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("file over the limit: %v", err)
	}
	if _, err := os.Stat(ts.disk("acme", "in/big.csv")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("oversized file published")
	}
	mustEqual(t, "pick-ups", strings.Join(ts.pickup.list(), ","), "acme/ok.csv")
	// Writing far past the limit (a sparse offset) fails, and so does
	// every write after it, even one within the limit.
	f, err := c.Create("/in/sparse.csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("x"), 1<<40); err == nil {
		t.Fatal("write at 1 TiB accepted")
	}
	if _, err := f.WriteAt([]byte("x"), 0); err == nil {
		t.Fatal("write after a refused write accepted")
	}
	if err := f.Close(); err == nil {
		t.Fatal("close of a refused upload succeeded")
	}
	ups := ts.auditActions("upload")
	if len(ups) != 3 || ups[1].Outcome != outcomeRefused || ups[2].Outcome != outcomeRefused {
		t.Fatalf("upload audit = %+v", ups)
	}
}

// TestConnectionKilledMidUpload cuts the TCP connection while a file is
// open: no file, no temporary file, no pick-up.
func TestConnectionKilledMidUpload(t *testing.T) {
	ts := newTestServer(t)
	acme := ts.addMerchant("acme")
	raw, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	sc, chans, reqs, err := ssh.NewClientConn(raw, ts.addr, &ssh.ClientConfig{
		User: "acme", Auth: []ssh.AuthMethod{ssh.PublicKeys(acme.signer)}, HostKeyCallback: ssh.FixedHostKey(ts.hostKey),
	})
	if err != nil {
		t.Fatal(err)
	}
	client, err := sftp.NewClient(ssh.NewClient(sc, chans, reqs))
	if err != nil {
		t.Fatal(err)
	}
	f, err := client.Create("/in/pay.csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(bytes.Repeat([]byte("line;"), 10000)); err != nil {
		t.Fatal(err)
	}
	raw.Close() // no CLOSE ever reaches the server
	eventually(t, func() bool { return len(ts.auditActions("upload")) == 1 })
	if ups := ts.auditActions("upload"); ups[0].Outcome != outcomeAborted {
		t.Fatalf("upload audit = %+v", ups)
	}
	entries, _ := os.ReadDir(ts.disk("acme", "in"))
	if len(entries) != 0 {
		t.Fatalf("in/ holds %v", entries)
	}
	if got := ts.pickup.list(); len(got) != 0 {
		t.Fatalf("pick-ups = %v", got)
	}
}

// TestSameNameTwoSessions: two sessions upload the same name at once; the
// last rename wins and each upload gets its own pick-up.
func TestSameNameTwoSessions(t *testing.T) {
	ts := newTestServer(t)
	acme := ts.addMerchant("acme")
	c1, c2 := ts.sftp(acme), ts.sftp(acme)
	f1, err := c1.Create("/in/pay.csv")
	if err != nil {
		t.Fatal(err)
	}
	f2, err := c2.Create("/in/pay.csv")
	if err != nil {
		t.Fatal(err)
	}
	f1.Write([]byte("first"))
	f2.Write([]byte("second"))
	if err := f1.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f2.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(ts.disk("acme", "in/pay.csv")); string(got) != "second" {
		t.Fatalf("in/pay.csv = %q, want the last closed", got)
	}
	mustEqual(t, "pick-ups", strings.Join(ts.pickup.list(), ","), "acme/pay.csv,acme/pay.csv")
}

func TestDownloadAudited(t *testing.T) {
	ts := newTestServer(t)
	acme := ts.addMerchant("acme")
	c := ts.sftp(acme)
	ts.writeOut("acme", "STATEMENT_REF_20260301.csv", strings.Repeat("x", 10000))
	f, err := c.Open("/out/STATEMENT_REF_20260301.csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	eventually(t, func() bool { return len(ts.auditActions("download")) == 1 })
	d := ts.auditActions("download")[0]
	if d.Bytes != 10000 || d.Path != "/out/STATEMENT_REF_20260301.csv" || d.Merchant != "acme" || d.Fingerprint != acme.fp {
		t.Fatalf("download audit = %+v", d)
	}
}

// TestFstatDuringUpload: FSTAT on an upload's handle describes the upload
// (its data is still under a hidden name).
func TestFstatDuringUpload(t *testing.T) {
	ts := newTestServer(t)
	acme := ts.addMerchant("acme")
	c := ts.sftp(acme, sftp.UseFstat(true))
	f, err := c.Create("/in/pay.txt")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("12345")); err != nil {
		t.Fatal(err)
	}
	fi, err := f.Stat()
	if err != nil || fi.Size() != 5 {
		t.Fatalf("fstat during upload: %v, %v", fi, err)
	}
	if err := f.Chmod(0o600); err != nil {
		t.Fatalf("fsetstat during upload: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := c.Stat("/in/pay.txt"); err != nil || fi.Size() != 5 {
		t.Fatalf("stat after upload: %v, %v", fi, err)
	}
}

func TestOpenFilesLimit(t *testing.T) {
	ts := newTestServer(t)
	acme := ts.addMerchant("acme")
	c := ts.sftp(acme)
	ts.writeOut("acme", "r.ack", "r")
	var open []*sftp.File
	for i := 0; i < maxOpenFiles; i++ {
		f, err := c.Open("/out/r.ack")
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		open = append(open, f)
	}
	if _, err := c.Open("/out/r.ack"); err == nil {
		t.Fatal("open beyond the limit accepted")
	}
	if _, err := c.Create("/in/x.csv"); err == nil {
		t.Fatal("upload beyond the limit accepted")
	}
	open[0].Close()
	f, err := c.Open("/out/r.ack")
	if err != nil {
		t.Fatalf("open after closing one: %v", err)
	}
	f.Close()
	for _, f := range open[1:] {
		f.Close()
	}
}
