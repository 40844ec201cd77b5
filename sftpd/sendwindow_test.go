package sftpd

import (
	"bytes"
	"crypto/rand"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

func TestSendWindowLimit(t *testing.T) {
	for _, c := range []struct {
		base int64
		rtt  time.Duration
		want uint32
	}{
		{512 << 10, 0, 512 << 10},
		{512 << 10, 50 * time.Microsecond, 512 << 10}, // loopback
		{512 << 10, time.Millisecond, 1_000_000},      // 1 GB/s at 1 ms
		{512 << 10, 20 * time.Millisecond, 20_000_000},
		{512 << 10, time.Hour, 0}, // past 4 GiB: no limit
		{-1, 0, 0},
		{0, time.Millisecond, 0},
	} {
		if got := sendWindowLimit(c.base, c.rtt); got != c.want {
			t.Errorf("sendWindowLimit(%d, %v) = %d, want %d", c.base, c.rtt, got, c.want)
		}
	}
}

// countingProxy forwards one TCP connection at a time to target and
// counts the bytes the server sends towards the client.
type countingProxy struct {
	addr string
	down atomic.Int64
}

func newCountingProxy(t *testing.T, target string) *countingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			wg.Add(2)
			go func() { defer wg.Done(); io.Copy(s, c); s.Close() }()
			go func() {
				defer wg.Done()
				buf := make([]byte, 32<<10)
				for {
					n, err := s.Read(buf)
					if n > 0 {
						if _, werr := c.Write(buf[:n]); werr != nil {
							break
						}
						p.down.Add(int64(n))
					}
					if err != nil {
						break
					}
				}
				c.Close()
			}()
		}
	}()
	return p
}

// drainingReader is a client's SSH channel read by its SFTP client at a
// pace: it records the most data that was sent by the server and not yet
// consumed, and can stop reading for a while, as a client that is slow to
// give its window back.
type drainingReader struct {
	r        io.Reader
	proxy    *countingProxy
	base     atomic.Int64 // proxy.down - consumed when the download started
	consumed atomic.Int64
	maxAhead atomic.Int64
	pauseAt  int64 // consumed bytes after which to pause once (0: never)
	pause    time.Duration
	paused   bool
}

func (d *drainingReader) Read(p []byte) (int, error) {
	if len(p) > 16<<10 {
		p = p[:16<<10]
	}
	n, err := d.r.Read(p)
	consumed := d.consumed.Add(int64(n))
	if base := d.base.Load(); base != 0 {
		if ahead := d.proxy.down.Load() - consumed - base; ahead > d.maxAhead.Load() {
			d.maxAhead.Store(ahead) // one reader: no lost update
		}
	}
	if d.pauseAt > 0 && !d.paused && consumed >= d.pauseAt {
		d.paused = true
		time.Sleep(d.pause)
	}
	time.Sleep(250 * time.Microsecond) // about 60 MB/s: slower than the server
	return n, err
}

// downloadThrough downloads out/name over a session through a counting
// proxy and returns the data and the most bytes the server had sent ahead
// of what the client had read.
func downloadThrough(t *testing.T, ts *testServer, m merchant, version, name string, pauseAt int64, pause time.Duration) ([]byte, int64) {
	t.Helper()
	proxy := newCountingProxy(t, ts.addr)
	nc, err := net.Dial("tcp", proxy.addr)
	if err != nil {
		t.Fatal(err)
	}
	// A download that stalls for good fails the test instead of hanging it.
	stuck := time.AfterFunc(time.Minute, func() { nc.Close() })
	defer stuck.Stop()
	conn, chans, reqs, err := ssh.NewClientConn(nc, proxy.addr, &ssh.ClientConfig{
		User: m.id, Auth: []ssh.AuthMethod{ssh.PublicKeys(m.signer)},
		HostKeyCallback: ssh.FixedHostKey(ts.hostKey), Timeout: 5 * time.Second,
		ClientVersion: version,
	})
	if err != nil {
		t.Fatal(err)
	}
	client := ssh.NewClient(conn, chans, reqs)
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	w, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	r, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestSubsystem("sftp"); err != nil {
		t.Fatal(err)
	}
	dr := &drainingReader{r: r, proxy: proxy, pauseAt: pauseAt, pause: pause}
	sc, err := sftp.NewClientPipe(dr, w, sftp.UseConcurrentReads(true), sftp.MaxConcurrentRequestsPerFile(64))
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	f, err := sc.Open("out/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dr.base.Store(proxy.down.Load() - dr.consumed.Load())
	var got bytes.Buffer
	if _, err := f.WriteTo(&got); err != nil {
		t.Fatalf("download: %v", err)
	}
	return got.Bytes(), dr.maxAhead.Load()
}

// An OpenSSH client that drains slower than the server sends is never
// more than the send window ahead, as long as it gives its window back
// promptly: that is what keeps OpenSSH's ssh from buffering
// (DefaultSendWindow). Other clients get their whole window.
func TestSendWindowBoundsDataInFlight(t *testing.T) {
	const openssh, golang = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10", "SSH-2.0-Go"
	data := make([]byte, 8<<20)
	rand.Read(data)
	for _, c := range []struct {
		version       string
		window        int64
		rtt           time.Duration
		atMost, above int64
	}{
		{openssh, 0, 0, DefaultSendWindow + 96<<10, 0},                // default: 512 KiB and a little
		{openssh, 0, 50 * time.Microsecond, 608 << 10, 0},             // loopback: still 512 KiB
		{openssh, 0, 1200 * time.Microsecond, 1400 << 10, 1100 << 10}, // 1.2 ms away: 1.2 MB
		{openssh, -1, 0, 0, 3 << 19},                                  // no limit: most of the client's 2 MiB
		{golang, 0, 0, 0, 3 << 19},                                    // not OpenSSH: no limit
	} {
		ts := newTestServer(t, func(cfg *Config) {
			cfg.SendWindow = c.window
			// A busy machine must not make a pause in the reader look
			// like a client that does not give its window back, nor a
			// slow loopback look like a long round trip.
			cfg.sendWindowPatience = 5 * time.Second
			cfg.roundTrip = func(net.Conn) (time.Duration, bool) { return c.rtt, true }
		})
		m := ts.addMerchant("acme")
		ts.writeOut("acme", "big.bin", string(data))
		got, ahead := downloadThrough(t, ts, m, c.version, "big.bin", 0, 0)
		if !bytes.Equal(got, data) {
			t.Fatalf("%s, window %d: downloaded %d bytes that differ from the %d on disk", c.version, c.window, len(got), len(data))
		}
		if c.atMost > 0 && ahead > c.atMost {
			t.Errorf("%s, window %d, round trip %v: server ran %d KiB ahead of the client, want at most %d KiB", c.version, c.window, c.rtt, ahead>>10, c.atMost>>10)
		}
		if ahead <= c.above {
			t.Errorf("%s, window %d, round trip %v: server ran only %d KiB ahead of the client, want more than %d KiB", c.version, c.window, c.rtt, ahead>>10, c.above>>10)
		}
		t.Logf("%s, send window %d, round trip %v: at most %d KiB ahead of the client", c.version, c.window, c.rtt, ahead>>10)
	}
}

// A client that stops giving its window back (as clients that adjust only
// when the window is nearly used up) does not stall the download: after
// the patience the server uses the client's whole window.
func TestSendWindowLetsGoOfAStalledClient(t *testing.T) {
	data := make([]byte, 6<<20)
	rand.Read(data)
	ts := newTestServer(t)
	m := ts.addMerchant("acme")
	ts.writeOut("acme", "big.bin", string(data))
	got, ahead := downloadThrough(t, ts, m, "SSH-2.0-OpenSSH_9.2p1", "big.bin", 1<<20, 1500*time.Millisecond)
	if !bytes.Equal(got, data) {
		t.Fatalf("downloaded %d bytes that differ from the %d on disk", len(got), len(data))
	}
	if ahead <= 3<<19 {
		t.Errorf("while the client read nothing the server sent only %d KiB ahead, want the client's whole window (2 MiB)", ahead>>10)
	}
}

func TestOpenSSHClient(t *testing.T) {
	for v, want := range map[string]bool{
		"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10": true, // sftp, scp, lftp, sshfs
		"SSH-2.0-OpenSSH_for_Windows_9.5":         true,
		"SSH-2.0-Go":                              false, // pkg/sftp, rclone
		"SSH-2.0-paramiko_3.4.0":                  false,
		"SSH-2.0-PuTTY_Release_0.81":              false, // WinSCP, FileZilla say other things
		"SSH-2.0-OpenSSL":                         false,
	} {
		if got := openSSHClient([]byte(v)); got != want {
			t.Errorf("openSSHClient(%q) = %v, want %v", v, got, want)
		}
	}
}
