package e2e

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// Limits: size, many files, stalled clients, slow handshakes, password
// guessers. Each test runs its own server so that its limits and bans
// touch nothing else (every test connects from 127.0.0.1).

// sftpStatus is the SFTP status code inside err, or -1.
func sftpStatus(err error) int {
	var se *sftp.StatusError
	if errors.As(err, &se) {
		return int(se.Code)
	}
	return -1
}

// largestFile is the size of the largest file under dir.
func largestFile(dir string) (string, int64) {
	var name string
	var max int64
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil && fi.Size() > max {
				name, max = p, fi.Size()
			}
		}
		return nil
	})
	return name, max
}

func TestUploadSizeLimitIsEnforcedByOffsets(t *testing.T) {
	const limit = 1 << 20
	data := filepath.Join(t.TempDir(), "data")
	srv := startServer(t, data, "--max-file-size", "1MiB")
	m := addMerchant(t, data, "acme")
	c := sftpClient(t, srv.sftpAddr, m)

	// Exactly the limit is fine.
	if err := putFile(c, "in/exact.txt", bytes.Repeat([]byte("x"), limit)); err != nil {
		t.Fatalf("upload of exactly the limit: %v", err)
	}
	// An honest client sending 2 MiB gets an SFTP failure.
	err := putFile(c, "in/big.csv", bytes.Repeat([]byte("y"), 2*limit))
	if code := sftpStatus(err); code != fxFailure {
		t.Fatalf("2 MiB upload: %v (status %d), want FAILURE", err, code)
	}

	// A dishonest one writes far past the limit without sending the bytes
	// before it: refused by offset, no sparse file.
	r := newRawSFTP(t, sshConn(t, srv.sftpAddr, m))
	hd := r.must(t, fxpOpen, openReq("/in/sparse.csv", flagWrite|flagCreat|flagTrunc)).handle()
	if hd == "" {
		t.Fatal("open refused")
	}
	for _, w := range []struct {
		off uint64
		n   int
	}{{2 << 30, 16}, {1<<63 - 8, 16}, {limit - 4, 8}, {limit, 1}} {
		if rep := r.must(t, fxpWrite, writeReq(hd, w.off, make([]byte, w.n))); rep.code() != "FAILURE" {
			t.Errorf("write %d bytes at %d: %s, want FAILURE", w.n, w.off, rep.code())
		}
	}
	if rep := r.must(t, fxpClose, str(hd)); rep.code() != "FAILURE" {
		t.Errorf("close after refused writes: %s %q, want FAILURE", rep.code(), rep.message)
	}
	// Nothing kept: no file, no sparse temporary, no pick-up.
	for _, name := range []string{"big.csv", "sparse.csv"} {
		if _, err := os.Stat(merchantPath(data, "acme", "in", name)); !os.IsNotExist(err) {
			t.Errorf("in/%s exists after a refused upload (%v)", name, err)
		}
	}
	for _, dir := range []string{filepath.Join(data, "merchants"), filepath.Join(data, "originals")} {
		if name, size := largestFile(dir); size > limit {
			t.Errorf("%s is %d bytes, over the limit", name, size)
		}
	}
	if n := countPickups(t, data, "acme"); n != 0 {
		t.Errorf("%d pick-ups of refused uploads", n)
	}
	if s := strayFiles(t, data); len(s) > 0 {
		t.Errorf("stray files: %v", s)
	}
}

func TestThousandFilesInOneSession(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	srv := startServer(t, data)
	m := addMerchant(t, data, "acme")
	c := sftpClient(t, srv.sftpAddr, m)
	fdsBefore := srv.metric("process_open_fds")
	goroutinesBefore := srv.metric("go_goroutines")
	const n = 1000
	for i := 0; i < n; i++ {
		if err := putFile(c, fmt.Sprintf("in/note-%04d.txt", i), []byte(fmt.Sprintf("note %d\n", i))); err != nil {
			t.Fatalf("file %d: %v", i, err)
		}
	}
	ents, err := c.ReadDir("in")
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != n {
		t.Fatalf("in/ lists %d files, want %d", len(ents), n)
	}
	for i, e := range ents { // sorted, complete, sizes right
		if want := fmt.Sprintf("note-%04d.txt", i); e.Name() != want || e.Size() != int64(len(fmt.Sprintf("note %d\n", i))) {
			t.Fatalf("entry %d: %s %d, want %s", i, e.Name(), e.Size(), want)
		}
	}
	// Handles are not kept open on the server, nor goroutines per file.
	if fds := srv.metric("process_open_fds"); fds > fdsBefore+20 {
		t.Errorf("open fds grew from %v to %v after %d uploads", fdsBefore, fds, n)
	}
	if g := srv.metric("go_goroutines"); g > goroutinesBefore+20 {
		t.Errorf("goroutines grew from %v to %v after %d uploads", goroutinesBefore, g, n)
	}
	for i := 0; i < n; i++ {
		if err := c.Remove(fmt.Sprintf("in/note-%04d.txt", i)); err != nil {
			t.Fatalf("remove %d: %v", i, err)
		}
	}
	if ents, _ := os.ReadDir(merchantPath(data, "acme", "in")); len(ents) != 0 {
		t.Errorf("%d files left in in/", len(ents))
	}
}

// stallDownload opens out/big.bin and asks for many blocks without ever
// reading the answers: the server's writes block on the SSH window.
func stallDownload(t *testing.T, addr string, m merchant) *ssh.Client {
	t.Helper()
	conn, err := dialSSH(addr, m.id, m.signer)
	if err != nil {
		t.Fatal(err)
	}
	r := newRawSFTP(t, conn)
	hd := r.must(t, fxpOpen, openReq("/out/big.bin", flagRead)).handle()
	if hd == "" {
		t.Fatal("cannot open out/big.bin")
	}
	for i := 0; i < 128; i++ {
		if _, err := r.send(fxpRead, readReq(hd, uint64(i)*32768, 32768)); err != nil {
			t.Fatal(err)
		}
	}
	return conn
}

func TestStalledDownloadsNeitherLeakNorBlockShutdown(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	srv := startServer(t, data, "--shutdown-grace", "2s")
	m := addMerchant(t, data, "acme")
	sftpClient(t, srv.sftpAddr, m).Close()                 // creates the folders
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<19) // 8 MiB
	if err := os.WriteFile(merchantPath(data, "acme", "out", "big.bin"), big, 0o640); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	base := srv.metric("go_goroutines")

	const stalled = 5
	var conns []*ssh.Client
	for i := 0; i < stalled; i++ {
		conns = append(conns, stallDownload(t, srv.sftpAddr, m))
	}
	time.Sleep(500 * time.Millisecond)
	during := srv.metric("go_goroutines")
	// A session costs a bounded number of goroutines (SSH mux, request
	// server workers), not one per outstanding read.
	if during > base+stalled*40 {
		t.Errorf("goroutines: %v with %d stalled downloads, from %v", during, stalled, base)
	}
	// Other merchants' work goes on meanwhile.
	c := sftpClient(t, srv.sftpAddr, m)
	if _, err := c.ReadDir("out"); err != nil {
		t.Fatalf("listing beside stalled downloads: %v", err)
	}
	c.Close()
	for _, conn := range conns {
		conn.Close()
	}
	// Leaked sessions would keep several goroutines each (5 × ≥4); a small
	// margin absorbs the server's own transient ones (HTTP scrape, timers)
	// on a loaded machine.
	deadline := time.Now().Add(20 * time.Second)
	for {
		g := srv.metric("go_goroutines")
		if g <= base+10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines did not come back: %v, was %v before the stalled downloads", g, base)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// A download stalled at shutdown: the server still stops, within the
	// grace period plus a margin.
	stallDownload(t, srv.sftpAddr, m)
	start := time.Now()
	srv.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-srv.exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("server still running %v after SIGTERM with a stalled download\n%s", time.Since(start), srv.logText())
	}
	if d := time.Since(start); d > 6*time.Second {
		t.Errorf("shutdown took %v with a stalled download (grace 2s)", d)
	}
}

func TestSlowHandshakesAreCut(t *testing.T) {
	t.Parallel() // mostly waiting: overlaps with the others
	data := filepath.Join(t.TempDir(), "data")
	srv := startServer(t, data, "--handshake-timeout", "2s")
	m := addMerchant(t, data, "acme")

	// closedAfter connects, runs feed (which writes slowly or not at
	// all) and returns when the server closes the connection.
	closedAfter := func(feed func(net.Conn)) (time.Duration, error) {
		conn, err := net.Dial("tcp", srv.sftpAddr)
		if err != nil {
			return 0, err
		}
		defer conn.Close()
		start := time.Now()
		go feed(conn)
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err = io.Copy(io.Discard, conn) // the banner, then EOF or reset
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return time.Since(start), errors.New("not closed within 10s")
		}
		return time.Since(start), nil
	}
	silent := func(net.Conn) {}
	trickle := func(c net.Conn) { // one byte a second
		for _, b := range []byte("SSH-2.0-slowloris\r\n") {
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(time.Second)
		}
	}
	var wg sync.WaitGroup
	results := make([]struct {
		d   time.Duration
		err error
	}, 20)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			feed := silent
			if i%2 == 1 {
				feed = trickle
			}
			results[i].d, results[i].err = closedAfter(feed)
		}()
	}
	// While 20 slow connections hang on, a real client still logs in.
	time.Sleep(300 * time.Millisecond)
	c := sftpClient(t, srv.sftpAddr, m)
	if _, err := c.ReadDir("in"); err != nil {
		t.Fatalf("login beside slow handshakes: %v", err)
	}
	wg.Wait()
	for i, r := range results {
		if r.err != nil || r.d < 1500*time.Millisecond || r.d > 5*time.Second {
			t.Errorf("slow connection %d closed after %v (%v), want about 2s", i, r.d, r.err)
		}
	}
	// The logged-in client, idle for longer than the handshake timeout,
	// is not cut by it.
	if _, err := c.ReadDir("out"); err != nil {
		t.Errorf("the established session was cut: %v", err)
	}
}

func TestParallelFailedLoginsBanTheAddress(t *testing.T) {
	t.Parallel() // mostly waiting: overlaps with the others
	data := filepath.Join(t.TempDir(), "data")
	srv := startServer(t, data, "--ban-threshold", "10", "--ban-window", "5m", "--ban-duration", "6s")
	m := addMerchant(t, data, "acme")

	var wg sync.WaitGroup
	var mu sync.Mutex
	logins := 0
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, priv, _ := ed25519.GenerateKey(rand.Reader)
			signer, _ := ssh.NewSignerFromKey(priv)
			user := m.id
			if i%3 == 0 {
				user = "nobody"
			}
			if conn, err := dialSSH(srv.sftpAddr, user, signer); err == nil {
				conn.Close()
				mu.Lock()
				logins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if logins > 0 {
		t.Fatalf("%d logins with unknown keys", logins)
	}
	if !srv.alive() {
		t.Fatalf("server died:\n%s", srv.logText())
	}
	if code, _ := srv.get("/healthz"); code != 200 {
		t.Fatalf("/healthz %d after the attack", code)
	}
	if bans := auditEvents(t, data, "ban"); len(bans) == 0 {
		t.Error("no ban in the audit log")
	}
	// The address is banned: even the right key is refused now (every
	// test client is 127.0.0.1).
	if conn, err := dialSSH(srv.sftpAddr, m.id, m.signer); err == nil {
		conn.Close()
		t.Fatal("a banned address logged in")
	}
	// The ban ends after --ban-duration; the merchant logs in again.
	// (Connections refused during a ban never reach authentication, so
	// polling does not prolong it.)
	deadline := time.Now().Add(20 * time.Second)
	for {
		conn, err := dialSSH(srv.sftpAddr, m.id, m.signer)
		if err == nil {
			conn.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("login after the ban expired: %v", err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
