package sftpd

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"fileapi/keys"

	"github.com/pkg/sftp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/crypto/ssh"
)

func TestLogin(t *testing.T) {
	ts := newTestServer(t)
	acme := ts.addMerchant("acme")
	revoked := ts.addKey("acme")
	globex := ts.addMerchant("globex")
	suspended := ts.addMerchant("suspended")
	if _, err := ts.reg.Revoke(revoked.fp); err != nil {
		t.Fatal(err)
	}
	if err := ts.reg.SetSuspended("suspended", true); err != nil {
		t.Fatal(err)
	}
	expired := ts.addKeyExpiring("acme", ts.clock.Now().Add(-time.Minute))

	tests := []struct {
		name   string
		user   string
		auth   ssh.AuthMethod
		ok     bool
		detail string // of the login_failed audit event
	}{
		{"registered key", "acme", ssh.PublicKeys(acme.signer), true, ""},
		{"revoked key", "acme", ssh.PublicKeys(revoked.signer), false, keys.ErrRevoked.Error()},
		{"expired key", "acme", ssh.PublicKeys(expired.signer), false, keys.ErrExpired.Error()},
		{"suspended merchant", "suspended", ssh.PublicKeys(suspended.signer), false, keys.ErrSuspended.Error()},
		{"another merchant's key", "acme", ssh.PublicKeys(globex.signer), false, "unknown key"},
		{"unknown merchant", "nobody", ssh.PublicKeys(acme.signer), false, "unknown merchant"},
		{"password", "acme", ssh.Password("secret"), false, "no public key offered"},
		{"keyboard-interactive", "acme", ssh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) { return []string{"x"}, nil }), false, "no public key offered"},
	}
	failures := 0
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ts.dial(tc.user, tc.auth)
			if tc.ok {
				if err != nil {
					t.Fatalf("login refused: %v", err)
				}
				c.Close()
				return
			}
			if err == nil {
				c.Close()
				t.Fatal("login accepted")
			}
			failures++
			eventually(t, func() bool { return len(ts.auditActions("login_failed")) == failures })
			e := ts.auditActions("login_failed")[failures-1]
			if e.Detail != tc.detail || e.Merchant != tc.user || !strings.HasPrefix(e.Source, "127.0.0.1:") {
				t.Fatalf("login_failed audit = %+v, want detail %q", e, tc.detail)
			}
		})
	}
	// The server finishes a login (audit, last use) after the client sees it.
	eventually(t, func() bool { return len(ts.auditActions("login")) > 0 })
	logins := ts.auditActions("login")
	if len(logins) != 1 || logins[0].Merchant != "acme" || logins[0].Fingerprint != acme.fp || !strings.HasPrefix(logins[0].Source, "127.0.0.1:") {
		t.Fatalf("login audit = %+v", logins)
	}
	eventually(t, func() bool { return len(ts.auditActions("login_failed")) == len(tests)-1 })
	k, _ := ts.reg.Key(acme.fp)
	if !k.LastUsed.Equal(ts.clock.Now()) {
		t.Errorf("LastUsed = %v, want %v", k.LastUsed, ts.clock.Now())
	}
	if got := testutil.ToFloat64(ts.srv.metrics.authFailures); got != float64(len(tests)-1) {
		t.Errorf("auth failures metric = %v", got)
	}
}

func TestExpiredKeyRefused(t *testing.T) {
	ts := newTestServer(t)
	if _, err := ts.reg.AddMerchant(keys.Merchant{ID: "acme", Name: "Acme", CreditorRef: "ACME"}); err != nil {
		t.Fatal(err)
	}
	m := ts.addKeyExpiring("acme", ts.clock.Now().Add(time.Hour))
	c, err := ts.dial("acme", ssh.PublicKeys(m.signer))
	if err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	c.Close()
	// The server finishes the login (audit, last use) before time moves.
	eventually(t, func() bool { return len(ts.auditActions("login")) == 1 })
	ts.clock.Add(time.Hour)
	if c, err := ts.dial("acme", ssh.PublicKeys(m.signer)); err == nil {
		c.Close()
		t.Fatal("expired key accepted")
	}
	eventually(t, func() bool { return len(ts.auditActions("login_failed")) == 1 })
	if fails := ts.auditActions("login_failed"); fails[0].Detail != keys.ErrExpired.Error() || fails[0].Merchant != "acme" {
		t.Fatalf("login_failed audit = %+v", fails)
	}
}

func (ts *testServer) addKeyExpiring(id string, expires time.Time) merchant {
	ts.t.Helper()
	signer := newEd25519(ts.t)
	ks, err := ts.reg.AddKey(id, ssh.MarshalAuthorizedKey(signer.PublicKey()), expires)
	if err != nil {
		ts.t.Fatal(err)
	}
	return merchant{id: id, signer: signer, fp: ks[0].Fingerprint}
}

func TestRSASHA1SignatureRefused(t *testing.T) {
	ts := newTestServer(t)
	if _, err := ts.reg.AddMerchant(keys.Merchant{ID: "acme", Name: "Acme", CreditorRef: "ACME"}); err != nil {
		t.Fatal(err)
	}
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := ssh.NewSignerFromKey(priv)
	if _, err := ts.reg.AddKey("acme", ssh.MarshalAuthorizedKey(signer.PublicKey()), time.Time{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		algo string
		ok   bool
	}{{ssh.KeyAlgoRSA, false}, {ssh.KeyAlgoRSASHA256, true}, {ssh.KeyAlgoRSASHA512, true}} {
		t.Run(tc.algo, func(t *testing.T) {
			as, err := ssh.NewSignerWithAlgorithms(signer.(ssh.AlgorithmSigner), []string{tc.algo})
			if err != nil {
				t.Fatal(err)
			}
			c, err := ts.dial("acme", ssh.PublicKeys(as))
			if (err == nil) != tc.ok {
				t.Fatalf("login with %s signature: err = %v, want ok=%v", tc.algo, err, tc.ok)
			}
			if !tc.ok {
				eventually(t, func() bool { return len(ts.auditActions("login_failed")) == 1 })
				if d := ts.auditActions("login_failed")[0].Detail; !strings.Contains(d, `"ssh-rsa" not accepted`) {
					t.Errorf("login_failed detail %q", d)
				}
			}
			if c != nil {
				c.Close()
			}
		})
	}
}

func TestOnlySFTPSubsystem(t *testing.T) {
	ts := newTestServer(t)
	acme := ts.addMerchant("acme")
	c, err := ts.dial("acme", ssh.PublicKeys(acme.signer))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tests := []struct {
		name string
		try  func(s *ssh.Session) error
	}{
		{"shell", func(s *ssh.Session) error { return s.Shell() }},
		{"exec", func(s *ssh.Session) error { return s.Start("id") }},
		{"pty", func(s *ssh.Session) error { return s.RequestPty("xterm", 80, 24, ssh.TerminalModes{}) }},
		{"env", func(s *ssh.Session) error { return s.Setenv("LANG", "C") }},
		{"other subsystem", func(s *ssh.Session) error { return s.RequestSubsystem("netconf") }},
		{"x11", func(s *ssh.Session) error {
			ok, err := s.SendRequest("x11-req", true, ssh.Marshal(struct {
				Single        bool
				Proto, Cookie string
				Screen        uint32
			}{false, "MIT-MAGIC-COOKIE-1", "00", 0}))
			if err == nil && !ok {
				err = errors.New("refused")
			}
			if ok {
				return nil
			}
			return err
		}},
		{"agent", func(s *ssh.Session) error {
			ok, _ := s.SendRequest("auth-agent-req@openssh.com", true, nil)
			if ok {
				return nil
			}
			return errors.New("refused")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := c.NewSession()
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := tc.try(s); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	t.Run("local forwarding", func(t *testing.T) {
		if conn, err := c.Dial("tcp", ts.addr); err == nil {
			conn.Close()
			t.Fatal("direct-tcpip accepted")
		}
	})
	t.Run("remote forwarding", func(t *testing.T) {
		if ln, err := c.Listen("tcp", "127.0.0.1:0"); err == nil {
			ln.Close()
			t.Fatal("tcpip-forward accepted")
		}
	})
	// After all that the connection still serves sftp.
	sc, err := sftp.NewClient(c)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	if _, err := sc.ReadDir("/"); err != nil {
		t.Fatal(err)
	}
}

func TestBanAfterFailedLogins(t *testing.T) {
	ts := newTestServer(t)
	acme := ts.addMerchant("acme")
	stranger := newEd25519(t)
	for i := 0; i < 10; i++ {
		if c, err := ts.dial("acme", ssh.PublicKeys(stranger)); err == nil {
			c.Close()
			t.Fatal("unknown key accepted")
		}
	}
	eventually(t, func() bool { return testutil.ToFloat64(ts.srv.metrics.bans) == 1 })
	// Banned: even the right key is dropped before the handshake.
	raw, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := raw.Read(make([]byte, 64)); err == nil || n > 0 {
		t.Fatalf("banned address got %d bytes of banner (err %v)", n, err)
	}
	raw.Close()
	if c, err := ts.dial("acme", ssh.PublicKeys(acme.signer)); err == nil {
		c.Close()
		t.Fatal("banned address logged in")
	}
	if len(ts.auditActions("ban")) != 1 {
		t.Fatalf("ban not audited: %+v", ts.audit.events())
	}
	ts.clock.Add(15 * time.Minute)
	c, err := ts.dial("acme", ssh.PublicKeys(acme.signer))
	if err != nil {
		t.Fatalf("after the ban: %v", err)
	}
	c.Close()
}

func TestFailuresOutsideWindowDoNotBan(t *testing.T) {
	ts := newTestServer(t)
	acme := ts.addMerchant("acme")
	stranger := newEd25519(t)
	for i := 0; i < 12; i++ {
		if c, err := ts.dial("acme", ssh.PublicKeys(stranger)); err == nil {
			c.Close()
		}
		ts.clock.Add(40 * time.Second) // 9 failures per 5 minutes at most
	}
	c, err := ts.dial("acme", ssh.PublicKeys(acme.signer))
	if err != nil {
		t.Fatalf("login refused: %v", err)
	}
	c.Close()
}

func TestRevokeAndSuspendCloseLiveSessions(t *testing.T) {
	for _, kind := range []string{"revoke", "suspend"} {
		t.Run(kind, func(t *testing.T) {
			ts := newTestServer(t)
			acme := ts.addMerchant("acme")
			other := ts.addKey("acme")
			c := ts.sftp(acme)
			c2 := ts.sftp(other)
			// An upload in progress when the key dies is discarded.
			f, err := c.Create("/in/pay.csv")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write([]byte("partial")); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if kind == "revoke" {
				if _, err := ts.reg.Revoke(acme.fp); err != nil {
					t.Fatal(err)
				}
			} else if err := ts.reg.SetSuspended("acme", true); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- c.Wait() }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("session still open 5s after " + kind)
			}
			t.Logf("closed after %v", time.Since(start))
			_, err = c2.ReadDir("/in")
			if kind == "revoke" && err != nil {
				t.Fatalf("another key's session was closed by revoke: %v", err)
			}
			if kind == "suspend" && err == nil {
				t.Fatal("suspended merchant's other session still works")
			}
			eventually(t, func() bool {
				ups := ts.auditActions("upload")
				return len(ups) == 1 && ups[0].Outcome == outcomeAborted
			})
			if got := ts.pickup.list(); len(got) != 0 {
				t.Fatalf("pick-ups = %v", got)
			}
			if _, err := os.Stat(ts.disk("acme", "in/pay.csv")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("partial upload published: %v", err)
			}
			// One logout per cut session, saying why.
			want := map[string]string{"revoke": "closed by the server: key revoked", "suspend": "closed by the server: merchant suspended"}[kind]
			eventually(t, func() bool {
				n := 0
				for _, e := range ts.auditActions("logout") {
					if e.Fingerprint == acme.fp {
						n++
						if e.Detail != want {
							t.Fatalf("logout detail %q, want %q", e.Detail, want)
						}
					}
				}
				return n == 1
			})
		})
	}
}

func TestSessionLimit(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MaxSessionsPerMerchant = 2 })
	acme := ts.addMerchant("acme")
	globex := ts.addMerchant("globex")
	ts.sftp(acme)
	ts.sftp(acme)
	c, err := ts.dial("acme", ssh.PublicKeys(acme.signer))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := sftp.NewClient(c); err == nil {
		t.Fatal("third session accepted")
	}
	ts.sftp(globex) // other merchants are not affected
}

func TestConnectionLimit(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MaxConnections = 1 })
	acme := ts.addMerchant("acme")
	ts.sftp(acme)
	if c, err := ts.dial("acme", ssh.PublicKeys(acme.signer)); err == nil {
		c.Close()
		t.Fatal("second connection accepted")
	}
}

func TestHandshakeTimeout(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.HandshakeTimeout = 200 * time.Millisecond })
	raw, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	// Read the server banner, then say nothing: the server must hang up.
	if _, err := io.ReadAll(raw); err != nil {
		t.Fatalf("server did not close the silent connection: %v", err)
	}
}

func TestIdleTimeout(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.IdleTimeout = 300 * time.Millisecond })
	acme := ts.addMerchant("acme")
	c := ts.sftp(acme)
	// Traffic keeps a session alive well past the idle timeout.
	f, err := c.Create("/in/slow.csv")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		if _, err := f.Write([]byte("line\n")); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("slow upload cut: %v", err)
	}
	// Silence ends it.
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("idle session not closed")
	}
}

func TestShutdownLetsTransfersFinish(t *testing.T) {
	ts := newTestServer(t)
	acme := ts.addMerchant("acme")
	c := ts.sftp(acme)
	idle := ts.sftp(acme)
	f, err := c.Create("/in/pay.csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("first half,")); err != nil {
		t.Fatal(err)
	}
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- ts.srv.Shutdown(ctx)
	}()
	idleDone := make(chan error, 1)
	go func() { idleDone <- idle.Wait() }()
	select {
	case <-idleDone:
	case <-time.After(5 * time.Second):
		t.Fatal("idle connection not closed by shutdown")
	}
	eventually(t, func() bool { return !ts.srv.Ready() })
	if _, err := net.DialTimeout("tcp", ts.addr, time.Second); err == nil {
		t.Error("still accepting connections during shutdown")
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) with a transfer open", err)
	case <-time.After(200 * time.Millisecond):
	}
	if _, err := f.Write([]byte("second half")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	got, err := os.ReadFile(ts.disk("acme", "in/pay.csv"))
	if err != nil || string(got) != "first half,second half" {
		t.Fatalf("upload = %q, %v", got, err)
	}
	mustEqual(t, "pick-ups", strings.Join(ts.pickup.list(), ","), "acme/pay.csv")
}

func TestHostKeysPersist(t *testing.T) {
	dir := t.TempDir()
	first, err := LoadOrCreateHostKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	second, err := LoadOrCreateHostKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 2 || len(second) != 2 {
		t.Fatalf("got %d and %d keys", len(first), len(second))
	}
	wantTypes := []string{ssh.KeyAlgoED25519, ssh.KeyAlgoRSA}
	for i := range first {
		if got := first[i].PublicKey().Type(); got != wantTypes[i] {
			t.Errorf("key %d type %s, want %s", i, got, wantTypes[i])
		}
		if ssh.FingerprintSHA256(first[i].PublicKey()) != ssh.FingerprintSHA256(second[i].PublicKey()) {
			t.Errorf("key %d fingerprint changed across restarts", i)
		}
	}
	for _, name := range []string{hostKeyEd25519, hostKeyRSA} {
		fi, err := os.Stat(dir + "/" + hostKeyDir + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
	// A key left readable by others is tightened on load.
	os.Chmod(dir+"/"+hostKeyDir+"/"+hostKeyEd25519, 0o644)
	if _, err := LoadOrCreateHostKeys(dir); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(dir + "/" + hostKeyDir + "/" + hostKeyEd25519); fi.Mode().Perm() != 0o600 {
		t.Errorf("loose host key left with mode %v", fi.Mode().Perm())
	}
	// The RSA host key never signs with SHA-1; and a client pinning the
	// fingerprint reaches a server restarted on the same data.
	if as, ok := first[1].(ssh.AlgorithmSigner); ok {
		if _, err := as.SignWithAlgorithm(rand.Reader, []byte("x"), ssh.KeyAlgoRSA); err == nil {
			t.Error("RSA host key signs with ssh-rsa (SHA-1)")
		}
	}
	for round := 0; round < 2; round++ {
		keys, err := LoadOrCreateHostKeys(dir)
		if err != nil {
			t.Fatal(err)
		}
		ts := newTestServer(t, func(c *Config) { c.HostKeys = keys })
		acme := ts.addMerchant("acme")
		for _, algo := range []string{ssh.KeyAlgoED25519, ssh.KeyAlgoRSASHA512} {
			c, err := ssh.Dial("tcp", ts.addr, &ssh.ClientConfig{
				User: "acme", Auth: []ssh.AuthMethod{ssh.PublicKeys(acme.signer)},
				HostKeyAlgorithms: []string{algo},
				HostKeyCallback:   ssh.FixedHostKey(first[map[string]int{ssh.KeyAlgoED25519: 0, ssh.KeyAlgoRSASHA512: 1}[algo]].PublicKey()),
			})
			if err != nil {
				t.Fatalf("round %d, %s: %v", round, algo, err)
			}
			c.Close()
		}
	}
}

func TestMetrics(t *testing.T) {
	ts := newTestServer(t)
	acme := ts.addMerchant("acme")
	c := ts.sftp(acme)
	if err := putFile(t, c, "/in/a.csv", []byte("12345")); err != nil {
		t.Fatal(err)
	}
	ts.writeOut("acme", "a.ack", "ok")
	f, err := c.Open("/out/a.ack")
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(f)
	f.Close()
	n, err := testutil.GatherAndCount(ts.prom,
		"fileapi_sftp_connections", "fileapi_sftp_connections_total", "fileapi_auth_failures_total",
		"fileapi_bans_total", "fileapi_uploads_total", "fileapi_upload_bytes_total", "fileapi_download_bytes_total")
	if err != nil {
		t.Fatal(err)
	}
	if n != 9 { // uploads_total has three outcomes
		t.Errorf("%d metric series, want 9", n)
	}
	mustEqual(t, "connections", testutil.ToFloat64(ts.srv.metrics.connections), 1)
	mustEqual(t, "uploads complete", testutil.ToFloat64(ts.srv.metrics.uploads.WithLabelValues(outcomeComplete)), 1)
	mustEqual(t, "upload bytes", testutil.ToFloat64(ts.srv.metrics.uploadBytes), 5)
	eventually(t, func() bool { return testutil.ToFloat64(ts.srv.metrics.downloadBytes) == 2 })
}

func newEd25519(t testing.TB) ssh.Signer {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestExpiryClosesLiveSession(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.RecheckInterval = 50 * time.Millisecond })
	if _, err := ts.reg.AddMerchant(mustMerchant("acme")); err != nil {
		t.Fatal(err)
	}
	m := ts.addKeyExpiring("acme", ts.clock.Now().Add(time.Hour))
	c := ts.sftp(m)
	if _, err := c.ReadDir("/"); err != nil {
		t.Fatal(err)
	}
	ts.clock.Add(time.Hour)
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("session of an expired key still open")
	}
}

// TestKeySourceRestriction: a key registered with from="..." logs in only
// from those addresses.
func TestKeySourceRestriction(t *testing.T) {
	ts := newTestServer(t)
	if _, err := ts.reg.AddMerchant(mustMerchant("acme")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		from string
		ok   bool
	}{{"10.0.0.0/8,192.0.2.1", false}, {"10.0.0.0/8,127.0.0.0/8", true}, {"127.0.0.1", true}} {
		t.Run(tc.from, func(t *testing.T) {
			signer := newEd25519(t)
			line := `from="` + tc.from + `" ` + string(ssh.MarshalAuthorizedKey(signer.PublicKey()))
			if _, err := ts.reg.AddKey("acme", []byte(line), time.Time{}); err != nil {
				t.Fatal(err)
			}
			c, err := ts.dial("acme", ssh.PublicKeys(signer))
			if (err == nil) != tc.ok {
				t.Fatalf("login from 127.0.0.1 with from=%q: %v, want ok=%v", tc.from, err, tc.ok)
			}
			if c != nil {
				c.Close()
			}
		})
	}
}

// TestShutdownDeadlineCutsTransfers: transfers still open when the
// shutdown context ends are cut, discarded and never picked up.
func TestShutdownDeadlineCutsTransfers(t *testing.T) {
	ts := newTestServer(t)
	acme := ts.addMerchant("acme")
	c := ts.sftp(acme)
	f, err := c.Create("/in/pay.csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("half")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := ts.srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Shutdown took %v", d)
	}
	if err := f.Close(); err == nil {
		t.Fatal("close after the shutdown deadline succeeded")
	}
	eventually(t, func() bool { return len(ts.auditActions("upload")) == 1 })
	if up := ts.auditActions("upload")[0]; up.Outcome != outcomeAborted {
		t.Fatalf("upload audit = %+v", up)
	}
	if got := ts.pickup.list(); len(got) != 0 {
		t.Fatalf("pick-ups = %v", got)
	}
	if _, err := os.Stat(ts.disk("acme", "in/pay.csv")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("cut upload published")
	}
}
