package sftpd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"fileapi/audit"
	"fileapi/keys"

	"github.com/pkg/sftp"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/ssh"
)

// Config configures a Server. Zero limits take the defaults of SPEC §2.
type Config struct {
	DataDir  string
	HostKeys []ssh.Signer // see LoadOrCreateHostKeys
	Keys     *keys.Registry
	// Pickup receives completed uploads; nil leaves them waiting in in/.
	Pickup Pickup
	Audit  *audit.Log       // nil: no audit
	Logger *slog.Logger     // nil: discard
	Now    func() time.Time // nil: time.Now; drives bans, key expiry and audit times

	MaxFileSize            int64         // bytes, default 512 MiB
	MaxSessionsPerMerchant int           // default 10
	MaxConnections         int           // default 1000
	HandshakeTimeout       time.Duration // default 10s
	IdleTimeout            time.Duration // default 15m

	// SendWindow is how much download data a session keeps in flight
	// (sent, not yet acknowledged by the client's SSH window adjustments)
	// while the client adjusts promptly; 0: DefaultSendWindow; negative:
	// as much as the client's window allows. Only for OpenSSH clients;
	// see docs/DECISIONS.md (Performance, "Send window") and
	// third_party/xcrypto.patch.
	SendWindow int64
	// sendWindowPatience overrides ssh.Config.SendWindowPatience, and
	// roundTrip the measure of a connection's round trip (tests).
	sendWindowPatience time.Duration
	roundTrip          func(net.Conn) (time.Duration, bool)

	// RecheckInterval is how often live sessions are checked against the
	// registry (a key that expired during a session); revocations and
	// suspensions close sessions at once through keys.Watch. Default 5s.
	RecheckInterval time.Duration

	BanThreshold int           // failed logins from one address, default 10
	BanWindow    time.Duration // within this window, default 5m
	BanDuration  time.Duration // ban this long, default 15m

	// Registerer receives the server's metrics; nil: no metrics.
	Registerer prometheus.Registerer
}

func (c *Config) setDefaults() {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.MaxFileSize <= 0 {
		c.MaxFileSize = 512 << 20
	}
	if c.SendWindow == 0 {
		c.SendWindow = DefaultSendWindow
	}
	if c.roundTrip == nil {
		c.roundTrip = roundTrip
	}
	def(&c.MaxSessionsPerMerchant, 10)
	def(&c.MaxConnections, 1000)
	def(&c.BanThreshold, 10)
	defD(&c.HandshakeTimeout, 10*time.Second)
	defD(&c.IdleTimeout, 15*time.Minute)
	defD(&c.BanWindow, 5*time.Minute)
	defD(&c.RecheckInterval, 5*time.Second)
	defD(&c.BanDuration, 15*time.Minute)
}

// DefaultSendWindow is Config.SendWindow's default: OpenSSH's sftp client
// downloads fastest when its ssh process is not sent much more than it
// has drained into sftp (512 KiB and 256 KiB measured alike, 1 MiB
// slower, its whole 2 MiB window about half as fast; docs/BENCHMARKS.md).
const DefaultSendWindow = 512 << 10

// Identity travels from authentication to the session in these
// ssh.Permissions extensions, set by the callbacks for the key whose
// signature was verified (CVE-2024-45337: never from callback state).
const (
	extMerchant    = "fileapi-merchant"
	extFingerprint = "fileapi-fingerprint"
)

// Server is the SFTP server. Create it with New.
type Server struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	bans    *banList

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	sessions  map[string]int // live sftp sessions per merchant
	shutdown  bool
	connWG    sync.WaitGroup

	used          lastUse
	serving       atomic.Int32
	cancelWatch   func()
	closeListener sync.Once
	startSweep    sync.Once
	stopSweep     chan struct{}

	limitsAnswered atomic.Int64 // limits@openssh.com requests answered (limits.go)
}

// conn is one authenticated (or authenticating) SSH connection.
type conn struct {
	raw         net.Conn
	sc          *ssh.ServerConn // nil until authenticated
	merchant    string
	fingerprint string
	source      string
	cutWhy      atomic.Value // string: why the server closed it, for the logout audit
	transfers   atomic.Int64 // open file handles: a shutdown waits for them
	lastDone    atomic.Int64 // wall-clock UnixNano when the last transfer ended
	recent      *recentUploads
}

// New checks cfg and builds a server; it starts nothing.
func New(cfg Config) (*Server, error) {
	cfg.setDefaults()
	if cfg.DataDir == "" {
		return nil, errors.New("sftpd: no data directory")
	}
	if len(cfg.HostKeys) == 0 {
		return nil, errors.New("sftpd: no host keys")
	}
	if cfg.Keys == nil {
		return nil, errors.New("sftpd: no key registry")
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg,
		log:       cfg.Logger,
		metrics:   m,
		bans:      newBanList(cfg.BanThreshold, cfg.BanWindow, cfg.BanDuration),
		listeners: map[net.Listener]struct{}{},
		conns:     map[*conn]struct{}{},
		sessions:  map[string]int{},
		stopSweep: make(chan struct{}),
	}
	s.cancelWatch = cfg.Keys.Watch(s.onKeyEvent)
	return s, nil
}

// onKeyEvent closes the live connections a revocation or suspension
// concerns. Closing the SSH connection aborts its transfers: uploads in
// progress are discarded (TransferError), never picked up.
func (s *Server) onKeyEvent(ev keys.Event) {
	s.mu.Lock()
	var victims []*conn
	for c := range s.conns {
		if c.sc == nil {
			continue
		}
		switch ev.Kind {
		case keys.EventRevoked:
			if c.fingerprint == ev.Fingerprint {
				victims = append(victims, c)
			}
		case keys.EventSuspended:
			if c.merchant == ev.Merchant {
				victims = append(victims, c)
			}
		}
	}
	s.mu.Unlock()
	for _, c := range victims {
		s.log.Info("closing session", "merchant", c.merchant, "fingerprint", c.fingerprint, "reason", ev.Kind)
		c.cut("closed by the server: " + map[string]string{keys.EventRevoked: "key revoked", keys.EventSuspended: "merchant suspended"}[ev.Kind])
	}
}

// sweep closes sessions whose key or merchant is no longer valid: keys
// that expired during the session, or changes Watch did not report.
func (s *Server) sweep() {
	t := time.NewTicker(s.cfg.RecheckInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stopSweep:
			return
		case <-t.C:
		}
		s.mu.Lock()
		live := make([]*conn, 0, len(s.conns))
		for c := range s.conns {
			if c.sc != nil {
				live = append(live, c)
			}
		}
		s.mu.Unlock()
		for _, c := range live {
			if err := s.stillValid(c.merchant, c.fingerprint); err != nil {
				s.log.Info("closing session", "merchant", c.merchant, "fingerprint", c.fingerprint, "reason", reasonOf(err))
				c.cut("closed by the server: " + reasonOf(err))
			}
		}
	}
}

// Ready reports whether the server is accepting connections (for /healthz).
func (s *Server) Ready() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.shutdown && s.serving.Load() > 0
}

// Serve accepts connections on ln until Shutdown or Close, then returns
// nil; any other accept failure is returned.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	s.serving.Add(1)
	defer s.serving.Add(-1)
	s.startSweep.Do(func() { go s.sweep() })
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()

	var backoff time.Duration
	for {
		raw, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			down := s.shutdown
			s.mu.Unlock()
			if down {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("accept failed, retrying", "err", err, "in", backoff)
				time.Sleep(backoff)
				continue
			}
			return fmt.Errorf("sftpd: accept: %w", err)
		}
		backoff = 0
		s.accept(raw)
	}
}

func (s *Server) accept(raw net.Conn) {
	host := hostOf(raw.RemoteAddr())
	if s.bans.banned(host, s.cfg.Now()) {
		// Dropped before the handshake: a banned address costs us no crypto.
		raw.Close()
		return
	}
	c := &conn{raw: raw, source: raw.RemoteAddr().String(), recent: newRecentUploads(recentUploadsKept)}
	s.mu.Lock()
	if s.shutdown || len(s.conns) >= s.cfg.MaxConnections {
		full := !s.shutdown
		s.mu.Unlock()
		if full {
			s.log.Warn("connection refused: too many connections", "source", c.source)
		}
		raw.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.connWG.Add(1)
	s.mu.Unlock()
	s.metrics.connections.Inc()
	s.metrics.connectionsTotal.Inc()
	go func() {
		defer s.connWG.Done()
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic in connection", "source", c.source, "panic", p)
			}
			raw.Close()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			s.metrics.connections.Dec()
		}()
		s.handle(c)
	}()
}

// authState records, per connection, whether authentication failed and
// why: only for the audit log and the ban list, never for identity.
type authState struct {
	mu       sync.Mutex
	failed   bool
	reason   string
	user     string
	lastKey  string
	verified bool
}

// sendWindowLimit is the send window limit (ssh.Config.SendWindowLimit) of
// a connection with round trip rtt: base, raised so that it never holds a
// download below 1 GB/s (1 MB a millisecond of round trip; past 2 ms this
// is more than OpenSSH's 2 MiB window, so no limit); 0 when base is not
// positive.
func sendWindowLimit(base int64, rtt time.Duration) uint32 {
	if base <= 0 {
		return 0
	}
	w := max(base, rtt.Microseconds()*1000)
	if w > math.MaxUint32 {
		return 0
	}
	return uint32(w)
}

// openSSHClient reports whether a client version string is OpenSSH's ssh
// (its sftp, scp, and programs that run it, such as lftp and sshfs).
func openSSHClient(version []byte) bool {
	return strings.HasPrefix(string(version), "SSH-2.0-OpenSSH")
}

func (s *Server) sshConfig(st *authState, raw net.Conn) *ssh.ServerConfig {
	cfg := &ssh.ServerConfig{
		Config: ssh.Config{
			KeyExchanges: []string{
				ssh.KeyExchangeCurve25519, ssh.KeyExchangeMLKEM768X25519,
				ssh.KeyExchangeECDHP256, ssh.KeyExchangeECDHP384, ssh.KeyExchangeECDHP521,
				ssh.KeyExchangeDH16SHA512, ssh.KeyExchangeDH14SHA256,
			},
			Ciphers: []string{
				ssh.CipherAES128GCM, ssh.CipherAES256GCM, ssh.CipherChaCha20Poly1305,
				ssh.CipherAES128CTR, ssh.CipherAES192CTR, ssh.CipherAES256CTR,
			},
			MACs: []string{ssh.HMACSHA256ETM, ssh.HMACSHA512ETM, ssh.HMACSHA256, ssh.HMACSHA512},
			// Only OpenSSH's ssh is known to slow down when sent more
			// than it drains (docs/DECISIONS.md, "Send window"); Go's
			// client, for one, is faster with its whole window. The
			// round trip is measured after the handshake's. A client
			// slow to give its window back gets it all after 500 ms
			// (third_party/xcrypto.patch).
			SendWindowLimit: func(cm ssh.ConnMetadata) uint32 {
				if !openSSHClient(cm.ClientVersion()) {
					return 0
				}
				rtt, _ := s.cfg.roundTrip(raw)
				return sendWindowLimit(s.cfg.SendWindow, rtt)
			},
			SendWindowPatience: s.cfg.sendWindowPatience,
		},
		// No ssh-rsa: RSA keys must sign with SHA-2 (SPEC §2).
		PublicKeyAuthAlgorithms: []string{
			ssh.KeyAlgoED25519, ssh.KeyAlgoSKED25519, ssh.KeyAlgoSKECDSA256,
			ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521,
			ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSASHA512,
		},
		MaxAuthTries:  6,
		ServerVersion: "SSH-2.0-fileapi",
		PublicKeyCallback: func(cm ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			// Called for keys merely offered: decide, but record nothing
			// as "the" identity here.
			k, err := s.cfg.Keys.Authenticate(cm.User(), key)
			st.mu.Lock()
			st.user, st.lastKey = cm.User(), keys.Fingerprint(key)
			st.mu.Unlock()
			if err != nil {
				return nil, err
			}
			perms := &ssh.Permissions{Extensions: map[string]string{
				extMerchant: cm.User(), extFingerprint: k.Fingerprint,
			}}
			if len(k.From) > 0 {
				// Enforced by the ssh package before the client signs.
				perms.CriticalOptions = map[string]string{"source-address": strings.Join(k.From, ",")}
			}
			return perms, nil
		},
		// Runs only once the client proved it holds the private key; the
		// state may have changed since the offer (revoked meanwhile), so
		// check again, and check the permissions belong to this very key.
		VerifiedPublicKeyCallback: func(cm ssh.ConnMetadata, key ssh.PublicKey, perms *ssh.Permissions, _ string) (*ssh.Permissions, error) {
			if perms == nil || perms.Extensions[extFingerprint] != keys.Fingerprint(key) || perms.Extensions[extMerchant] != cm.User() {
				return nil, errors.New("sftpd: permissions do not match the verified key")
			}
			if _, err := s.cfg.Keys.Authenticate(cm.User(), key); err != nil {
				return nil, err
			}
			return perms, nil
		},
		// Any authentication attempt that does not end in a login counts
		// as a failed login, even a bare "none" (a password-only client
		// gives up after it): only connections that never reach
		// authentication (scanners reading the banner) do not count.
		AuthLogCallback: func(cm ssh.ConnMetadata, method string, err error) {
			if err == nil {
				return
			}
			st.mu.Lock()
			st.failed = true
			st.user = cm.User()
			switch {
			case method == "publickey":
				st.reason = reasonOf(err)
			case method != "none":
				st.reason = method + " authentication is not offered"
			case st.reason == "":
				st.reason = "no public key offered"
			}
			st.mu.Unlock()
		},
	}
	for _, k := range s.cfg.HostKeys {
		cfg.AddHostKey(k)
	}
	return cfg
}

func reasonOf(err error) string {
	for _, e := range []error{keys.ErrUnknownKey, keys.ErrRevoked, keys.ErrExpired, keys.ErrSuspended, keys.ErrNotFound} {
		if errors.Is(err, e) {
			switch e {
			case keys.ErrNotFound:
				return "unknown merchant"
			case keys.ErrUnknownKey:
				return "unknown key"
			}
			return e.Error()
		}
	}
	// Refused by the ssh package before the registry was asked, e.g. an
	// ssh-rsa (SHA-1) signature: its text names the algorithm.
	return "key refused: " + strings.TrimPrefix(err.Error(), "ssh: ")
}

func (s *Server) handle(c *conn) {
	st := &authState{}
	// The handshake deadline uses the wall clock: it is a network timeout,
	// not business time.
	ic := &idleConn{Conn: c.raw}
	c.raw.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	sc, chans, reqs, err := ssh.NewServerConn(ic, s.sshConfig(st, c.raw))
	if err != nil {
		st.mu.Lock()
		failed, reason, user, fp := st.failed, st.reason, st.user, st.lastKey
		st.mu.Unlock()
		if failed {
			s.metrics.authFailures.Inc()
			s.audit(audit.Event{Action: "login_failed", Merchant: user, Fingerprint: fp, Source: c.source, Outcome: "refused", Detail: reason})
			s.log.Info("login failed", "user", user, "fingerprint", fp, "source", c.source, "reason", reason)
			if s.bans.fail(hostOf(c.raw.RemoteAddr()), s.cfg.Now()) {
				s.metrics.bans.Inc()
				s.audit(audit.Event{Action: "ban", Source: c.source, Detail: fmt.Sprintf("%d failed logins within %s", s.cfg.BanThreshold, s.cfg.BanWindow)})
				s.log.Warn("address banned", "source", c.source, "for", s.cfg.BanDuration)
			}
		} else {
			s.log.Debug("handshake failed", "source", c.source, "err", err)
		}
		return
	}
	defer sc.Close()
	c.raw.SetDeadline(time.Time{})
	ic.startIdle(s.cfg.IdleTimeout)

	merchant, fp := sc.Permissions.Extensions[extMerchant], sc.Permissions.Extensions[extFingerprint]
	if merchant == "" || fp == "" || merchant != sc.User() {
		s.log.Error("authenticated connection without identity", "source", c.source)
		return
	}
	s.mu.Lock()
	c.sc, c.merchant, c.fingerprint = sc, merchant, fp
	s.mu.Unlock()
	// A revocation may have landed between the verification and now, when
	// the watcher could not yet see this connection's identity.
	if err := s.stillValid(merchant, fp); err != nil {
		s.audit(audit.Event{Action: "login_failed", Merchant: merchant, Fingerprint: fp, Source: c.source, Outcome: "refused", Detail: reasonOf(err)})
		return
	}
	now := s.cfg.Now()
	if s.used.due(fp, now) {
		if err := s.cfg.Keys.MarkUsed(fp, now); err != nil {
			s.log.Warn("cannot record key use", "fingerprint", fp, "err", err)
		}
	}
	s.audit(audit.Event{Time: now, Action: "login", Merchant: merchant, Fingerprint: fp, Source: c.source, Outcome: "ok"})
	s.log.Info("login", "merchant", merchant, "fingerprint", fp, "source", c.source)

	root, err := s.openMerchantRoot(merchant)
	if err != nil {
		s.log.Error("cannot open merchant folders", "merchant", merchant, "err", err)
		return
	}
	defer root.Close()

	go ssh.DiscardRequests(reqs) // refuses tcpip-forward (-R) and every other global request
	var wg sync.WaitGroup
	defer wg.Wait()
	for nc := range chans {
		if nc.ChannelType() != "session" {
			// direct-tcpip (-L), x11, agent forwarding...
			nc.Reject(ssh.Prohibited, "only the sftp subsystem is available")
			continue
		}
		if !s.takeSession(merchant) {
			nc.Reject(ssh.ResourceShortage, "too many sessions for this merchant")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			s.releaseSession(merchant)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer s.releaseSession(merchant)
			s.session(c, root, ch, chReqs)
		}()
	}
	s.audit(audit.Event{Action: "logout", Merchant: merchant, Fingerprint: fp, Source: c.source, Detail: c.cutReason()})
}

// markUsedEvery is how stale a key's "last used" (keys list) may be.
// Recording it is a synced bbolt write: on every login it held new
// connections to 100-140 a second on the benchmark machine, against
// 260-320 with it once a minute (docs/BENCHMARKS.md); a client that
// reconnects every second does not need a disk write each time to show
// that it is in use.
const markUsedEvery = time.Minute

// lastUse remembers when each key's use was last recorded.
type lastUse struct {
	mu sync.Mutex
	at map[string]time.Time
}

// due says whether fp's use at now should be recorded, and if so counts
// it as recorded.
func (l *lastUse) due(fp string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, ok := l.at[fp]; ok && now.Sub(t) < markUsedEvery && !now.Before(t) {
		return false
	}
	if l.at == nil || len(l.at) >= 100000 {
		l.at = map[string]time.Time{} // bound memory; costs one write per key
	}
	l.at[fp] = now
	return true
}

// stillValid re-checks a live session's key and merchant (revoked,
// expired, suspended since login).
func (s *Server) stillValid(merchant, fingerprint string) error {
	k, err := s.cfg.Keys.Key(fingerprint)
	if err != nil {
		return err
	}
	if k.Merchant != merchant {
		return keys.ErrUnknownKey
	}
	switch k.State(s.cfg.Now()) {
	case keys.StateRevoked:
		return keys.ErrRevoked
	case keys.StateExpired:
		return keys.ErrExpired
	}
	m, err := s.cfg.Keys.Merchant(merchant)
	if err != nil {
		return err
	}
	if m.Suspended {
		return keys.ErrSuspended
	}
	return nil
}

func (s *Server) takeSession(merchant string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown || s.sessions[merchant] >= s.cfg.MaxSessionsPerMerchant {
		return false
	}
	s.sessions[merchant]++
	return true
}

func (s *Server) releaseSession(merchant string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions[merchant]--; s.sessions[merchant] <= 0 {
		delete(s.sessions, merchant)
	}
}

// session serves one session channel: it accepts exactly one request,
// "subsystem sftp", and refuses shell, exec, pty, env, x11, agent and the
// rest.
func (s *Server) session(c *conn, root *os.Root, ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	started := make(chan struct{})
	var once sync.Once
	for req := range reqs {
		ok := false
		if req.Type == "subsystem" {
			var p struct{ Name string }
			if ssh.Unmarshal(req.Payload, &p) == nil && p.Name == "sftp" {
				once.Do(func() { ok = true })
			}
		}
		if req.WantReply {
			req.Reply(ok, nil)
		}
		if !ok {
			continue
		}
		go func() {
			for r := range reqs { // later requests: refused
				if r.WantReply {
					r.Reply(false, nil)
				}
			}
		}()
		close(started)
		break
	}
	select {
	case <-started:
	default:
		return // channel closed without asking for sftp
	}
	h := &handler{s: s, c: c, root: root}
	// WithRSAllocator reuses the 32 KiB packet buffers instead of
	// allocating two per request: downloads take about half the CPU per
	// GB (docs/BENCHMARKS.md). Our handlers copy what they are given
	// (WriteAt) or fill what they are lent (ReadAt) and keep neither.
	// limitsFilter answers OpenSSH's limits@openssh.com so its sftp
	// client uses 255 KiB requests, and WithRSMaxTxPacket lets reads
	// return that much (limits.go). Clients that do not ask keep their
	// own sizes (pkg/sftp's and OpenSSH's default: 32 KiB).
	// The packer sends the stream in whole SSH packets (packer.go).
	pk := newPacker(ch, packSize, packDelay)
	rs := sftp.NewRequestServer(newLimitsFilter(pk, &s.limitsAnswered), sftp.Handlers{FileGet: h, FilePut: h, FileCmd: h, FileList: h},
		sftp.WithStartDirectory("/"), sftp.WithRSAllocator(), sftp.WithRSMaxTxPacket(limitsMaxData))
	err := rs.Serve()
	pk.Flush()
	if err == nil || errors.Is(err, io.EOF) {
		// Clients wait for an exit status before they report success
		// (OpenSSH scp exits 1 without one). It must go out before
		// rs.Close, which closes the channel.
		ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{0}))
	}
	rs.Close()
}

// openMerchantRoot creates DATA/merchants/M/{in,out} on first login and
// opens M's folder as an os.Root, the boundary no request can cross.
func (s *Server) openMerchantRoot(merchant string) (*os.Root, error) {
	if !keys.ValidMerchantID(merchant) {
		return nil, errors.New("invalid merchant ID")
	}
	dir := MerchantDir(s.cfg.DataDir, merchant)
	for _, sub := range []string{"in", "out"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o750); err != nil {
			return nil, err
		}
	}
	return os.OpenRoot(dir)
}

// Shutdown stops accepting connections and new sessions, closes idle
// connections, lets open transfers finish until ctx ends, then closes
// everything. It returns ctx.Err() if it had to cut transfers.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopListening()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		n := 0
		for c := range s.conns {
			// A client that just closed a file often sends a SETSTAT or
			// STAT next (put -p): give it a moment before hanging up.
			if c.transfers.Load() == 0 && time.Since(time.Unix(0, c.lastDone.Load())) > shutdownGrace {
				closeConn(c)
			} else {
				n++
			}
		}
		s.mu.Unlock()
		if n == 0 {
			s.connWG.Wait()
			return nil
		}
		select {
		case <-ctx.Done():
			s.Close()
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Close closes the listeners and every connection at once; uploads in
// progress are discarded.
func (s *Server) Close() error {
	s.stopListening()
	s.mu.Lock()
	for c := range s.conns {
		closeConn(c)
	}
	s.mu.Unlock()
	s.connWG.Wait()
	return nil
}

// cut closes an authenticated connection, recording why for its logout
// audit event (written once, when the connection ends).
func (c *conn) cut(why string) {
	c.cutWhy.CompareAndSwap(nil, why)
	c.sc.Close()
}

func (c *conn) cutReason() string {
	why, _ := c.cutWhy.Load().(string)
	return why
}

// shutdownGrace is how long after its last transfer a connection stays
// open during a shutdown.
const shutdownGrace = 500 * time.Millisecond

func closeConn(c *conn) {
	if c.sc != nil {
		c.sc.Close()
	} else {
		c.raw.Close()
	}
}

func (s *Server) stopListening() {
	s.mu.Lock()
	s.shutdown = true
	for ln := range s.listeners {
		ln.Close()
	}
	s.mu.Unlock()
	s.closeListener.Do(func() {
		if s.cancelWatch != nil {
			s.cancelWatch()
		}
		close(s.stopSweep)
	})
}

func (s *Server) audit(e audit.Event) {
	if e.Time.IsZero() {
		e.Time = s.cfg.Now()
	}
	if err := s.cfg.Audit.Record(e); err != nil {
		s.log.Error("audit log write failed", "err", err, "action", e.Action)
	}
}

func hostOf(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	h, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return h
}

// idleConn closes the connection after IdleTimeout without traffic in
// either direction, once startIdle has been called (the handshake has its
// own deadline).
type idleConn struct {
	net.Conn
	idle atomic.Int64 // nanoseconds; 0 = not armed
}

func (c *idleConn) startIdle(d time.Duration) {
	c.idle.Store(int64(d))
	c.Conn.SetDeadline(time.Now().Add(d))
}

func (c *idleConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if d := c.idle.Load(); d > 0 && n > 0 {
		c.Conn.SetDeadline(time.Now().Add(time.Duration(d)))
	}
	return n, err
}

func (c *idleConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if d := c.idle.Load(); d > 0 && n > 0 {
		c.Conn.SetDeadline(time.Now().Add(time.Duration(d)))
	}
	return n, err
}
