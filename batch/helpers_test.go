package batch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/bbolt"

	"fileapi/audit"
	"fileapi/formats"
	"fileapi/keys"
	"fileapi/sftpd"
)

// testEnv is a real service on a temporary data directory: real bbolt,
// real keys registry, a sandbox clock whose underlying "real" time starts
// at a fixed instant (so dates are deterministic) and runs at normal speed.
type testEnv struct {
	t     testing.TB
	dir   string
	db    *bbolt.DB
	keys  *keys.Registry
	clock *SandboxClock
	svc   *Service
	base  time.Time
	start time.Time
	fees  map[string]int64
	chunk int
	reg   *prometheus.Registry // set by startSvc: a fresh registry per start
	// startHook, if set, runs between Open and Start (to install a crash
	// hook before the start-up catch-up runs).
	startHook func(*Service)
	audit     lockedBuffer // the audit log
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var paris = func() *time.Location {
	l, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err)
	}
	return l
}()

const (
	acme       = "acme"
	acmeCredit = "acme-creditor"
)

// newEnv starts a service whose clock reads start (Paris time).
func newEnv(t testing.TB, start string) *testEnv {
	t.Helper()
	base, err := time.ParseInLocation("2006-01-02 15:04", start, paris)
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, dir: t.TempDir(), base: base, start: time.Now()}
	e.open()
	if _, err := e.keys.AddMerchant(keys.Merchant{ID: acme, Name: "ACME SAS", CreditorRef: acmeCredit}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"in", "out"} {
		if err := os.MkdirAll(filepath.Join(sftpd.MerchantDir(e.dir, acme), d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	e.startSvc()
	t.Cleanup(func() { e.close() })
	return e
}

func (e *testEnv) realNow() time.Time { return e.base.Add(time.Since(e.start)) }

func (e *testEnv) open() {
	e.t.Helper()
	db, err := bbolt.Open(filepath.Join(e.dir, "fileapi.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		e.t.Fatal(err)
	}
	e.db = db
	if e.keys, err = keys.Open(db, e.realNow); err != nil {
		e.t.Fatal(err)
	}
	if e.clock, err = OpenSandboxClock(db, e.realNow); err != nil {
		e.t.Fatal(err)
	}
}

func (e *testEnv) startSvc() {
	e.t.Helper()
	e.reg = prometheus.NewRegistry()
	svc, err := Open(Config{DataDir: e.dir, DB: e.db, Keys: e.keys, Clock: e.clock, Location: paris, Sandbox: true,
		ProcessSchedule: "@every 1h", ReportsSchedule: "@every 1h", Fees: e.fees, ChunkSize: e.chunk, Registerer: e.reg,
		Audit: audit.New(&e.audit, nil)})
	if err != nil {
		e.t.Fatal(err)
	}
	e.svc = svc
	if e.startHook != nil {
		e.startHook(svc)
	}
	if err := svc.Start(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	// Let the start-up catch-up finish, so that tests know what ran.
	svc.waitKicks()
}

func (e *testEnv) close() {
	if e.svc != nil {
		e.svc.Close()
		e.svc = nil
	}
	if e.db != nil {
		e.db.Close()
		e.db = nil
	}
}

// restart closes the service and the store and opens them again.
func (e *testEnv) restart() {
	e.t.Helper()
	e.close()
	e.open()
	e.startSvc()
}

func (e *testEnv) inPath(name string) string {
	return filepath.Join(sftpd.MerchantDir(e.dir, acme), "in", name)
}
func (e *testEnv) outPath(name string) string {
	return filepath.Join(sftpd.MerchantDir(e.dir, acme), "out", name)
}

// put writes in/name the way sftpd does (hidden temporary name, then
// rename) and hands it over.
func (e *testEnv) put(name, content string) {
	e.t.Helper()
	tmp := e.inPath(sftpd.InternalPrefix + "up-" + name)
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		e.t.Fatal(err)
	}
	if err := os.Rename(tmp, e.inPath(name)); err != nil {
		e.t.Fatal(err)
	}
	if err := e.svc.Pickup(acme, name); err != nil {
		e.t.Fatal(err)
	}
}

// waitOut waits for out/name and returns its content.
func (e *testEnv) waitOut(name string) string {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(e.outPath(name))
		if err == nil {
			return string(b)
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("out/%s did not appear", name)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitAnswer waits for out/STEM.ack (true) or out/STEM.err (false).
func (e *testEnv) waitAnswer(st string) bool {
	e.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(e.outPath(st + ".ack")); err == nil {
			return true
		}
		if _, err := os.Stat(e.outPath(st + ".err")); err == nil {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	e.t.Fatalf("no answer for %s", st)
	return false
}

// upload puts a file and waits for its answer: the .ack or .err content.
func (e *testEnv) upload(name, content string) (ack bool, out string) {
	e.t.Helper()
	st := stem(name)
	// The answer is the .ack or .err that changes (outputs are replaced
	// atomically, so a read sees the old or the new content).
	oldAck, _ := os.ReadFile(e.outPath(st + ".ack"))
	oldErr, _ := os.ReadFile(e.outPath(st + ".err"))
	e.put(name, content)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(e.outPath(st + ".ack")); err == nil && string(b) != string(oldAck) {
			return true, string(b)
		}
		if b, err := os.ReadFile(e.outPath(st + ".err")); err == nil && string(b) != string(oldErr) {
			return false, string(b)
		}
		time.Sleep(2 * time.Millisecond)
	}
	e.t.Fatalf("no answer for %s", name)
	return false, ""
}

func (e *testEnv) mustAck(name, content string) string {
	e.t.Helper()
	ok, out := e.upload(name, content)
	if !ok {
		e.t.Fatalf("%s rejected:\n%s", name, out)
	}
	return fileIDOf(out)
}

func fileIDOf(ackOrErr string) string {
	lines := strings.Split(ackOrErr, "\n")
	if len(lines) < 2 {
		return ""
	}
	return strings.SplitN(lines[1], ";", 2)[0]
}

func (e *testEnv) run(job string) {
	e.t.Helper()
	if err := e.svc.RunJob(context.Background(), job, time.Time{}); err != nil {
		e.t.Fatalf("RunJob(%s): %v", job, err)
	}
}

// setClock moves the sandbox clock to a Paris time and runs processing.
func (e *testEnv) setClock(s string) {
	e.t.Helper()
	t, err := time.ParseInLocation("2006-01-02 15:04", s, paris)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.clock.Set(t); err != nil {
		e.t.Fatal(err)
	}
	e.run("process")
}

// res parses out/STEM.res into reference -> line fields.
func (e *testEnv) res(name string) map[string][]string {
	e.t.Helper()
	out := map[string][]string{}
	for i, l := range strings.Split(strings.TrimSuffix(e.waitOut(stem(name)+".res"), "\n"), "\n") {
		if i == 0 {
			continue
		}
		f := strings.Split(l, ";")
		k := f[1]
		for n := 2; out[k] != nil; n++ {
			k = fmt.Sprintf("%s#%d", f[1], n) // the same reference on several lines
		}
		out[k] = f
	}
	return out
}

func (e *testEnv) balance() int64 {
	e.t.Helper()
	b, err := e.svc.Balance(acme)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *testEnv) ledger(d string) []Entry {
	e.t.Helper()
	var out []Entry
	if err := e.svc.LedgerDay(acme, day(d), func(x Entry) error { out = append(out, x); return nil }); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *testEnv) issues(d string) []IssueEvent {
	e.t.Helper()
	var out []IssueEvent
	if err := e.svc.IssuesDay(acme, day(d), func(x IssueEvent) error { out = append(out, x); return nil }); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// pay is one PAYMENTS line.
type pay struct {
	ref, amount, umr, signed, name, iban, seq, scheme, exec string
}

// payments builds a PAYMENTS file.
func payments(lines ...pay) string {
	var b strings.Builder
	var total int64
	for _, l := range lines {
		c, err := formats.ParseAmount(l.amount)
		if err != nil {
			panic(err)
		}
		total += c
	}
	fmt.Fprintf(&b, "0;PAYMENTS;%s;ACME SAS;\n1;IN;%d;%s;EUR;\n", acmeCredit, len(lines), formats.FormatAmount(total))
	b.WriteString("PAYMENT_REFERENCE;AMOUNT;MANDATE_REFERENCE;MANDATE_SIGNATURE_DATE;DEBTOR_NAME;DEBTOR_IBAN;SEQUENCE_TYPE;SCHEME;EXECUTION_DATE;LABEL;\n")
	for _, l := range lines {
		if l.umr == "" {
			l.umr = "UMR-" + l.ref
		}
		if l.signed == "" {
			l.signed = "2025-01-15"
		}
		if l.name == "" {
			l.name = "Jeanne Martin"
		}
		if l.iban == "" {
			l.iban = "FR7630006000011234567890189"
		}
		fmt.Fprintf(&b, "%s;%s;%s;%s;%s;%s;%s;%s;%s;label %s;\n", l.ref, l.amount, l.umr, l.signed, l.name, l.iban, l.seq, l.scheme, l.exec, l.ref)
	}
	return b.String()
}

type refund struct{ ref, payRef, amount string }

func refunds(lines ...refund) string {
	var b strings.Builder
	var total int64
	for _, l := range lines {
		c, _ := formats.ParseAmount(l.amount)
		total += c
	}
	fmt.Fprintf(&b, "0;REFUNDS;%s;ACME SAS;\n1;OUT;%d;%s;EUR;\nREFUND_REFERENCE;PAYMENT_REFERENCE;AMOUNT;LABEL;\n", acmeCredit, len(lines), formats.FormatAmount(total))
	for _, l := range lines {
		fmt.Fprintf(&b, "%s;%s;%s;refund;\n", l.ref, l.payRef, l.amount)
	}
	return b.String()
}

type mline struct{ action, umr, signed, name, iban string }

func mandates(lines ...mline) string {
	var b strings.Builder
	fmt.Fprintf(&b, "0;MANDATES;%s;ACME SAS;\n1;MANDATE;%d;0;EUR;\nACTION;MANDATE_REFERENCE;MANDATE_SIGNATURE_DATE;DEBTOR_NAME;DEBTOR_IBAN;\n", acmeCredit, len(lines))
	for _, l := range lines {
		fmt.Fprintf(&b, "%s;%s;%s;%s;%s;\n", l.action, l.umr, l.signed, l.name, l.iban)
	}
	return b.String()
}

func sleepMs(n int) { time.Sleep(time.Duration(n) * time.Millisecond) }
