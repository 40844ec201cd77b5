package sftpd

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"fileapi/audit"
	"fileapi/keys"

	"github.com/pkg/sftp"
	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/bbolt"
	"golang.org/x/crypto/ssh"
)

// testClock is a settable clock for bans, expiry and audit times.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// recordingPickup records every pick-up; onPickup, if set, runs inside it
// (e.g. to remove the file as batch does).
type recordingPickup struct {
	mu       sync.Mutex
	got      []string // "merchant/name"
	onPickup func(merchant, name string) error
}

func (p *recordingPickup) Pickup(merchant, name string) error {
	p.mu.Lock()
	p.got = append(p.got, merchant+"/"+name)
	fn := p.onPickup
	p.mu.Unlock()
	if fn != nil {
		return fn(merchant, name)
	}
	return nil
}

func (p *recordingPickup) list() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.got)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) events() []audit.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []audit.Event
	for _, line := range bytes.Split(l.b.Bytes(), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var e audit.Event
		if err := json.Unmarshal(line, &e); err == nil {
			out = append(out, e)
		}
	}
	return out
}

type testServer struct {
	t       testing.TB
	srv     *Server
	addr    string
	port    string
	dataDir string
	reg     *keys.Registry
	db      *bbolt.DB
	clock   *testClock
	pickup  *recordingPickup
	audit   *lockedBuffer
	prom    *prometheus.Registry
	hostKey ssh.PublicKey
}

// newTestServer starts a real server on a loopback port, with a real bbolt
// store and key registry, a recording Pickup and an in-memory audit log.
// mod may change the configuration before the server is built.
func newTestServer(t testing.TB, mod ...func(*Config)) *testServer {
	t.Helper()
	dir := t.TempDir()
	db, err := bbolt.Open(filepath.Join(dir, "fileapi.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	reg, err := keys.Open(db, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	_, hk, _ := ed25519.GenerateKey(rand.Reader)
	hostSigner, err := ssh.NewSignerFromKey(hk)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{t: t, dataDir: dir, reg: reg, db: db, clock: clock, pickup: &recordingPickup{},
		audit: &lockedBuffer{}, prom: prometheus.NewRegistry(), hostKey: hostSigner.PublicKey()}
	cfg := Config{
		DataDir:    dir,
		HostKeys:   []ssh.Signer{hostSigner},
		Keys:       reg,
		Pickup:     ts.pickup,
		Audit:      audit.New(ts.audit, clock.Now),
		Now:        clock.Now,
		Registerer: ts.prom,
	}
	for _, m := range mod {
		m(&cfg)
	}
	ts.srv, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = ln.Addr().String()
	_, ts.port, _ = net.SplitHostPort(ts.addr)
	served := make(chan error, 1)
	go func() { served <- ts.srv.Serve(ln) }()
	t.Cleanup(func() {
		ts.srv.Close()
		if err := <-served; err != nil {
			t.Errorf("Serve returned %v", err)
		}
		// No upload may leave a temporary file behind.
		filepath.WalkDir(filepath.Join(dir, "merchants"), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && bytes.HasPrefix([]byte(d.Name()), []byte(InternalPrefix)) {
				t.Errorf("temporary file left behind: %s", p)
			}
			return nil
		})
		db.Close()
	})
	eventually(t, ts.srv.Ready)
	return ts
}

// merchant is a registered merchant with one ed25519 key.
type merchant struct {
	id      string
	signer  ssh.Signer
	keyFile string // OpenSSH private key file, for the ssh and sftp binaries
	fp      string
}

func (ts *testServer) addMerchant(id string) merchant {
	ts.t.Helper()
	if _, err := ts.reg.AddMerchant(keys.Merchant{ID: id, Name: id, CreditorRef: "REF-" + id}); err != nil {
		ts.t.Fatal(err)
	}
	return ts.addKey(id)
}

func (ts *testServer) addKey(id string) merchant {
	ts.t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		ts.t.Fatal(err)
	}
	ks, err := ts.reg.AddKey(id, ssh.MarshalAuthorizedKey(signer.PublicKey()), time.Time{})
	if err != nil {
		ts.t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		ts.t.Fatal(err)
	}
	keyFile := filepath.Join(ts.t.TempDir(), "id_"+id)
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		ts.t.Fatal(err)
	}
	return merchant{id: id, signer: signer, keyFile: keyFile, fp: ks[0].Fingerprint}
}

func (ts *testServer) dial(user string, auth ...ssh.AuthMethod) (*ssh.Client, error) {
	return ssh.Dial("tcp", ts.addr, &ssh.ClientConfig{
		User:            user,
		Auth:            auth,
		HostKeyCallback: ssh.FixedHostKey(ts.hostKey),
		Timeout:         5 * time.Second,
	})
}

// sftp logs m in and returns an SFTP client closed at the end of the test.
func (ts *testServer) sftp(m merchant, opts ...sftp.ClientOption) *sftp.Client {
	ts.t.Helper()
	c, err := ts.dial(m.id, ssh.PublicKeys(m.signer))
	if err != nil {
		ts.t.Fatalf("login as %s: %v", m.id, err)
	}
	sc, err := sftp.NewClient(c, opts...)
	if err != nil {
		c.Close()
		ts.t.Fatalf("sftp as %s: %v", m.id, err)
	}
	ts.t.Cleanup(func() { sc.Close(); c.Close() })
	return sc
}

// disk is the on-disk path of a merchant's file, for assertions.
func (ts *testServer) disk(merchant, rel string) string {
	return filepath.Join(MerchantDir(ts.dataDir, merchant), filepath.FromSlash(rel))
}

func (ts *testServer) writeOut(merchant, name, content string) {
	ts.t.Helper()
	p := ts.disk(merchant, "out/"+name)
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		ts.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o640); err != nil {
		ts.t.Fatal(err)
	}
}

func (ts *testServer) auditActions(action string) []audit.Event {
	var out []audit.Event
	for _, e := range ts.audit.events() {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

func eventually(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func putFile(t *testing.T, c *sftp.Client, p string, data []byte) error {
	t.Helper()
	f, err := c.Create(p)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// statusCode extracts the SFTP status code of a client error (0 if none).
func statusCode(err error) uint32 {
	var se *sftp.StatusError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

func mustEqual[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

func mustMerchant(id string) keys.Merchant {
	return keys.Merchant{ID: id, Name: id, CreditorRef: "REF-" + id}
}
