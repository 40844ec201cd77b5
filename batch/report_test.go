package batch

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"fileapi/formats"
	"fileapi/keys"
)

var updateReports = flag.Bool("update-reports", false, "rewrite the report golden files under testdata/reports")

// repDay is a date at UTC midnight, as the package stores dates.
func repDay(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

var repParis = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err)
	}
	return loc
}()

// repParisTime is a wall-clock time in Paris.
func repParisTime(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, repParis)
	if err != nil {
		panic(err)
	}
	return t
}

// repLedger is the test's ledger and issue store: what settlement books,
// held in memory so the report job can be tested before and apart from
// settlement. The store and the outbox under test are real.
type repLedger struct {
	mu      sync.Mutex
	entries map[string][]Entry
	issues  map[string][]IssueEvent
	seq     uint64
}

func (l *repLedger) book(e Entry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.entries == nil {
		l.entries = map[string][]Entry{}
	}
	l.seq++
	e.Seq = l.seq
	l.entries[e.Merchant] = append(l.entries[e.Merchant], e)
}

func (l *repLedger) issue(ev IssueEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.issues == nil {
		l.issues = map[string][]IssueEvent{}
	}
	l.issues[ev.Merchant] = append(l.issues[ev.Merchant], ev)
}

func (l *repLedger) ledgerDay(merchant string, day time.Time, fn func(Entry) error) error {
	l.mu.Lock()
	es := slices.Clone(l.entries[merchant])
	l.mu.Unlock()
	for _, e := range es {
		if e.BookingDate.Equal(day) {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

func (l *repLedger) issuesDay(merchant string, day time.Time, fn func(IssueEvent) error) error {
	l.mu.Lock()
	evs := slices.Clone(l.issues[merchant])
	l.mu.Unlock()
	for _, ev := range evs {
		if ev.IssueDate.Equal(day) {
			if err := fn(ev); err != nil {
				return err
			}
		}
	}
	return nil
}

// repEnv is a report job over a real bbolt store, a real merchant registry
// and real out/ folders.
type repEnv struct {
	t      *testing.T
	dir    string
	db     *bbolt.DB
	keys   *keys.Registry
	ledger *repLedger
	now    time.Time
	hook   func(point string) error
	// failWrite makes writeOutput fail while writing the named file.
	failWrite string
	writes    map[string]int // name -> confirmed writes
}

func newRepEnv(t *testing.T) *repEnv {
	t.Helper()
	dir := t.TempDir()
	db, err := bbolt.Open(filepath.Join(dir, "store.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &repEnv{t: t, dir: dir, db: db, ledger: &repLedger{}, writes: map[string]int{}}
	e.keys, err = keys.Open(db, func() time.Time { return e.now })
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *repEnv) addMerchant(id, name, ref string, created time.Time) {
	e.t.Helper()
	e.now = created
	if _, err := e.keys.AddMerchant(keys.Merchant{ID: id, Name: name, CreditorRef: ref}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *repEnv) outDir(merchant string) string { return filepath.Join(e.dir, merchant, "out") }

// writeOutput writes out/name whole or not at all (temporary name, sync,
// rename), like the service's outbox.
func (e *repEnv) writeOutput(merchant, name string, write func(io.Writer) error) error {
	dir := e.outDir(merchant)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	var w io.Writer = f
	if name == e.failWrite {
		w = &repFailingWriter{w: f, left: 300}
	}
	if err := write(w); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, name)); err != nil {
		return err
	}
	e.writes[name]++
	return nil
}

// repFailingWriter fails once left bytes are written: a full disk.
type repFailingWriter struct {
	w    io.Writer
	left int
}

var errRepDiskFull = errors.New("no space left on device")

func (f *repFailingWriter) Write(p []byte) (int, error) {
	if len(p) > f.left {
		n, _ := f.w.Write(p[:f.left])
		f.left = 0
		return n, errRepDiskFull
	}
	f.left -= len(p)
	return f.w.Write(p)
}

// run is one report run at e.now for what is due at asOf (zero: e.now), as
// after a (re)start: a fresh reporter over the same store.
func (e *repEnv) run(asOf time.Time) error {
	if asOf.IsZero() {
		asOf = e.now
	}
	r := &reporter{
		db: e.db, loc: repParis, now: func() time.Time { return e.now },
		merchants: e.keys.Merchants, ledgerDay: e.ledger.ledgerDay, issuesDay: e.ledger.issuesDay,
		writeOutput: e.writeOutput, hook: e.hook,
	}
	return r.run(context.Background(), asOf)
}

func (e *repEnv) mustRun(at time.Time) {
	e.t.Helper()
	e.now = at
	if err := e.run(time.Time{}); err != nil {
		e.t.Fatalf("report run at %s: %v", at, err)
	}
}

// outFiles lists the files of merchant's out/, hidden ones included.
func (e *repEnv) outFiles(merchant string) []string {
	e.t.Helper()
	ents, err := os.ReadDir(e.outDir(merchant))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		e.t.Fatal(err)
	}
	var names []string
	for _, d := range ents {
		names = append(names, d.Name())
	}
	return names
}

// reportNames are the three files of a merchant and day.
func reportNames(ref string, days ...string) []string {
	var out []string
	for _, d := range days {
		day := repDay(d)
		out = append(out, formats.StatementFileName(ref, day, ".csv"), formats.StatementFileName(ref, day, ".xml"),
			formats.IssuesFileName(ref, day))
	}
	slices.Sort(out)
	return out
}

// repScenario books two merchants' weeks around Christmas 2026: acme is
// created on Thursday 17 December; 19-20 are a weekend, 25-26 December
// TARGET2 holidays. It covers executed debits, a reject, a return, a refund
// request (MD06), a refund, fees and a negative balance.
func repScenario(e *repEnv) {
	e.addMerchant("acme", "ACME SAS", "acme-creditor", repParisTime("2026-12-17 09:00"))
	e.addMerchant("beta", "Béta & Fils; \"Lyon\"", "BETA.01", repParisTime("2026-12-19 11:00")) // a Saturday
	l := e.ledger
	sdd := func(m, id, ref, debtor string, cents int64, day, value string) {
		l.book(Entry{Merchant: m, BookingDate: repDay(day), ValueDate: repDay(value), OpCode: OpSDD, Amount: cents, Credit: true,
			TransactionID: id, Reference: ref, MandateRef: "UMR-" + ref, ClientRef: "C-" + ref, InvoiceRef: "INV-" + ref,
			DebtorName: debtor, Label: "December subscription"})
	}
	fee := func(m, id, op, initial string, cents int64, day string) {
		l.book(Entry{Merchant: m, BookingDate: repDay(day), ValueDate: repDay(day), OpCode: op, Amount: cents,
			TransactionID: id, InitialTransactionID: initial, Label: "fee"})
	}
	// Thu 17: two debits executed, each with a fee.
	sdd("acme", "01TX0000000000000000000001", "PAY-0001", "Jeanne Martin", 3999, "2026-12-17", "2026-12-18")
	fee("acme", "01FE0000000000000000000001", OpFeeSDD, "01TX0000000000000000000001", 25, "2026-12-17")
	sdd("acme", "01TX0000000000000000000002", "PAY-0002", "ISSUE-SEPA-RET-AM04 Paul Durand", 5000, "2026-12-17", "2026-12-18")
	fee("acme", "01FE0000000000000000000002", OpFeeSDD, "01TX0000000000000000000002", 25, "2026-12-17")
	// Fri 18: a reject (an issue, no movement) and a large debit.
	l.issue(IssueEvent{ID: "01IS0000000000000000000001", Merchant: "acme", Kind: IssueReject, PaymentRef: "PAY-0003",
		TransactionID: "01TX0000000000000000000003", MandateRef: "UMR-PAY-0003", ClientRef: "C-PAY-0003",
		DebtorName: "ISSUE-SEPA-REJ-AC04 Anne", DebtorIBAN: "FR7630006000011234567890189", Amount: 1250,
		CollectionDate: repDay("2026-12-18"), IssueDate: repDay("2026-12-18"), ReasonCode: "AC04", ReasonLabel: "closed account"})
	sdd("acme", "01TX0000000000000000000004", "PAY-0004", "ISSUE-SEPA-REF-MD06 Luc", 100000, "2026-12-18", "2026-12-21")
	// Mon 21: a refund of the first debit, with its fee.
	l.book(Entry{Merchant: "acme", BookingDate: repDay("2026-12-21"), ValueDate: repDay("2026-12-21"), OpCode: OpREB,
		Amount: 1000, TransactionID: "01RF0000000000000000000001", InitialTransactionID: "01TX0000000000000000000001",
		Reference: "REF-0001", ClientRef: "C-PAY-0001", DebtorName: "Jeanne Martin", Label: "partial refund"})
	fee("acme", "01FE0000000000000000000003", OpFeeREB, "01RF0000000000000000000001", 10, "2026-12-21")
	// Tue 22: PAY-0002 returned (AM04), fee; Wed 23: PAY-0004 refunded on request (MD06).
	ret := func(id, initial, ref, debtor, code, label string, cents int64, day, collected string) {
		l.book(Entry{Merchant: "acme", BookingDate: repDay(day), ValueDate: repDay(day), OpCode: OpRET, Amount: cents,
			TransactionID: id, InitialTransactionID: initial, Reference: ref, MandateRef: "UMR-" + ref,
			ClientRef: "C-" + ref, DebtorName: debtor, Label: code + " " + label, ReasonCode: code})
		kind := IssueReturn
		if code == "MD06" {
			kind = IssueRefundRequest
		}
		l.issue(IssueEvent{ID: "01IR" + id[4:], Merchant: "acme", Kind: kind, PaymentRef: ref, TransactionID: initial,
			MandateRef: "UMR-" + ref, ClientRef: "C-" + ref, DebtorName: debtor, DebtorIBAN: "DE89370400440532013000",
			Amount: cents, CollectionDate: repDay(collected), IssueDate: repDay(day), ReasonCode: code, ReasonLabel: label})
	}
	ret("01RT0000000000000000000001", "01TX0000000000000000000002", "PAY-0002", "ISSUE-SEPA-RET-AM04 Paul Durand",
		"AM04", "insufficient funds", 5000, "2026-12-22", "2026-12-17")
	fee("acme", "01FE0000000000000000000004", OpFeeRET, "01RT0000000000000000000001", 50, "2026-12-22")
	ret("01RT0000000000000000000002", "01TX0000000000000000000004", "PAY-0004", "ISSUE-SEPA-REF-MD06 Luc",
		"MD06", "refund requested by the debtor", 100000, "2026-12-23", "2026-12-18")
	// beta: one debit on Mon 28, returned Thu 31 below its balance: the
	// balance goes negative after a fee.
	l.book(Entry{Merchant: "beta", BookingDate: repDay("2026-12-28"), ValueDate: repDay("2026-12-29"), OpCode: OpSDD,
		Amount: 700, Credit: true, TransactionID: "01TB0000000000000000000001", Reference: "B-1", DebtorName: "Zoë <Z>"})
	l.book(Entry{Merchant: "beta", BookingDate: repDay("2026-12-31"), ValueDate: repDay("2026-12-31"), OpCode: OpRET,
		Amount: 700, TransactionID: "01TB0000000000000000000002", InitialTransactionID: "01TB0000000000000000000001",
		Reference: "B-1", DebtorName: "Zoë <Z>", Label: "AC04 closed account", ReasonCode: "AC04"})
	l.book(Entry{Merchant: "beta", BookingDate: repDay("2026-12-31"), ValueDate: repDay("2026-12-31"), OpCode: OpFeeRET,
		Amount: 150, TransactionID: "01TB0000000000000000000003", InitialTransactionID: "01TB0000000000000000000002"})
}

// repRuns plays the scenario's report runs: nightly at 00:30, except that
// the service is down from the 19th to the morning of the 24th and again
// over Christmas.
var repRuns = []string{
	"2026-12-17 23:59", // day 17 has not ended: nothing
	"2026-12-18 00:30", // 17
	"2026-12-19 00:30", // 18
	"2026-12-24 07:00", // down since the 19th: 21, 22, 23 caught up in order
	"2026-12-25 00:30", // 24
	"2027-01-02 00:30", // 28, 29, 30, 31 (1 January is a holiday)
}

func TestReportScenarioGolden(t *testing.T) {
	e := newRepEnv(t)
	repScenario(e)
	want := map[string][]string{
		"2026-12-17 23:59": nil,
		"2026-12-18 00:30": reportNames("acme-creditor", "2026-12-17"),
		"2026-12-19 00:30": reportNames("acme-creditor", "2026-12-17", "2026-12-18"),
		"2026-12-24 07:00": reportNames("acme-creditor", "2026-12-17", "2026-12-18", "2026-12-21", "2026-12-22", "2026-12-23"),
	}
	for _, at := range repRuns {
		e.mustRun(repParisTime(at))
		if w, ok := want[at]; ok {
			if got := e.outFiles("acme"); !slices.Equal(got, w) {
				t.Fatalf("after the run at %s, out/ holds\n%v\nwant\n%v", at, got, w)
			}
		}
	}
	acmeDays := []string{"2026-12-17", "2026-12-18", "2026-12-21", "2026-12-22", "2026-12-23", "2026-12-24",
		"2026-12-28", "2026-12-29", "2026-12-30", "2026-12-31"}
	if got, w := e.outFiles("acme"), reportNames("acme-creditor", acmeDays...); !slices.Equal(got, w) {
		t.Fatalf("acme out/ holds\n%v\nwant\n%v", got, w)
	}
	// beta was created on a Saturday: its first business day is Monday 21.
	betaDays := acmeDays[2:]
	if got, w := e.outFiles("beta"), reportNames("BETA.01", betaDays...); !slices.Equal(got, w) {
		t.Fatalf("beta out/ holds\n%v\nwant\n%v", got, w)
	}
	for name, n := range e.writes {
		if n != 1 {
			t.Errorf("%s written %d times", name, n)
		}
	}
	// Running again changes nothing.
	e.mustRun(repParisTime("2027-01-02 09:00"))
	for name, n := range e.writes {
		if n != 1 {
			t.Errorf("%s written %d times after a second run", name, n)
		}
	}
	repCheckGolden(t, e, "scenario", true)
	repCheckChain(t, e, "acme", acmeDays, 2889, repDay("2026-12-16"))
	repCheckChain(t, e, "beta", betaDays, -150, repDay("2026-12-18"))
}

// repCheckGolden compares every report of the scenario with
// testdata/reports/<dir>/<merchant>/, validates every camt.053 against the
// schema if asked, and checks that no temporary file is left.
func repCheckGolden(t *testing.T, e *repEnv, dir string, schema bool) {
	t.Helper()
	// Only the scenario test (which validates) may rewrite the golden files.
	update := *updateReports && schema
	var xmls []string
	defer func() { repXmllint(t, xmls...) }()
	for _, m := range []string{"acme", "beta"} {
		gdir := filepath.Join("testdata", "reports", dir, m)
		if update {
			if err := os.RemoveAll(gdir); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(gdir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for _, name := range e.outFiles(m) {
			if strings.HasPrefix(name, ".") {
				t.Errorf("temporary file %s left in out/", name)
				continue
			}
			got, err := os.ReadFile(filepath.Join(e.outDir(m), name))
			if err != nil {
				t.Fatal(err)
			}
			if update {
				if err := os.WriteFile(filepath.Join(gdir, name), got, 0o644); err != nil {
					t.Fatal(err)
				}
			} else if want, err := os.ReadFile(filepath.Join(gdir, name)); err != nil {
				t.Errorf("%v (run go test ./batch -run Report -update-reports)", err)
			} else if !bytes.Equal(got, want) {
				t.Errorf("%s/%s differs from its golden file:\n--- got\n%s\n--- want\n%s", m, name, got, want)
			}
			if schema && strings.HasSuffix(name, ".xml") {
				xmls = append(xmls, filepath.Join(e.outDir(m), name))
			}
		}
	}
}

// repXmllint validates camt.053 files with xmllint against the official
// schema, in one run. Without xmllint it fails under CI=true and skips
// elsewhere.
func repXmllint(t *testing.T, files ...string) {
	t.Helper()
	if len(files) == 0 {
		return
	}
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("xmllint is missing: install libxml2-utils")
		}
		t.Skip("xmllint not installed (apt-get install libxml2-utils)")
	}
	xsd := filepath.Join("..", "formats", "testdata", "reports", "camt.053.001.08.xsd")
	out, err := exec.Command(bin, append([]string{"--noout", "--schema", xsd}, files...)...).CombinedOutput()
	if err != nil || bytes.Count(out, []byte(" validates\n")) != len(files) {
		t.Errorf("xmllint: %v\n%s", err, out)
	}
}

// repCheckChain reads the statements back: each previous balance is the
// last one's new balance (with its date), previous + credits − debits = new
// to the cent, the CSV and the camt.053 agree, and the store agrees.
func repCheckChain(t *testing.T, e *repEnv, merchant string, days []string, wantLast int64, firstPrev time.Time) {
	t.Helper()
	m, err := e.keys.Merchant(merchant)
	if err != nil {
		t.Fatal(err)
	}
	repCheckChainIn(t, e.db, e.outDir(merchant), merchant, m.CreditorRef, days, wantLast, firstPrev)
}

// repCheckChainIn is repCheckChain for the reports of merchant in outDir.
func repCheckChainIn(t *testing.T, db *bbolt.DB, outDir, merchant, ref string, days []string, wantLast int64, firstPrev time.Time) {
	t.Helper()
	prev, prevDate := int64(0), firstPrev
	for _, d := range days {
		day := repDay(d)
		csv, err := os.ReadFile(filepath.Join(outDir, formats.StatementFileName(ref, day, ".csv")))
		if err != nil {
			t.Fatal(err)
		}
		st := repParseStatement(t, csv)
		if st.prev != prev || st.prevDate != prevDate.Format(time.DateOnly) {
			t.Errorf("%s %s: previous balance %d on %s, want %d on %s", merchant, d, st.prev, st.prevDate, prev, prevDate.Format(time.DateOnly))
		}
		if st.prev+st.credits-st.debits != st.next {
			t.Errorf("%s %s: %d + %d - %d != %d", merchant, d, st.prev, st.credits, st.debits, st.next)
		}
		xml, err := os.ReadFile(filepath.Join(outDir, formats.StatementFileName(ref, day, ".xml")))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			"<Cd>OPBD</Cd>\n          </CdOrPrtry>\n        </Tp>\n        <Amt Ccy=\"EUR\">" + repCents(st.prev) + "</Amt>\n        <CdtDbtInd>" + repSide(st.prev) + "</CdtDbtInd>",
			"<Cd>CLBD</Cd>\n          </CdOrPrtry>\n        </Tp>\n        <Amt Ccy=\"EUR\">" + repCents(st.next) + "</Amt>\n        <CdtDbtInd>" + repSide(st.next) + "</CdtDbtInd>",
		} {
			if !strings.Contains(string(xml), want) {
				t.Errorf("%s %s: camt.053 lacks %q", merchant, d, want)
			}
		}
		if n := strings.Count(string(xml), "<Ntry>"); n != st.lines {
			t.Errorf("%s %s: %d camt entries, %d CSV lines", merchant, d, n, st.lines)
		}
		prev, prevDate = st.next, day
	}
	if prev != wantLast {
		t.Errorf("%s: last balance %d, want %d", merchant, prev, wantLast)
	}
	rd, err := reportedDays(db, merchant)
	if err != nil {
		t.Fatal(err)
	}
	if len(rd) != len(days) {
		t.Fatalf("%s: store lists %d reported days, want %d", merchant, len(rd), len(days))
	}
	for i, r := range rd {
		if r.Day.Format(time.DateOnly) != days[i] || r.Seq != uint64(i+1) || (i > 0 && r.PrevBalance != rd[i-1].NewBalance) {
			t.Errorf("%s: reported day %d = %+v", merchant, i, r)
		}
	}
}

type repStatement struct {
	prev, next, credits, debits int64
	prevDate                    string
	lines                       int
}

// repParseStatement reads a statement CSV the way a finance team's import
// would: semicolon fields, quotes stripped.
func repParseStatement(t *testing.T, data []byte) repStatement {
	t.Helper()
	var st repStatement
	cents := func(s string) int64 {
		if s == "" {
			return 0
		}
		var u, f int64
		if _, err := fmt.Sscanf(s, "%d.%d", &u, &f); err != nil {
			t.Fatalf("amount %q: %v", s, err)
		}
		return u*100 + f
	}
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		f := strings.Split(strings.ReplaceAll(line, `"`, ""), ";")
		if len(f) < 10 {
			continue
		}
		switch f[4] {
		case "Previous balance":
			st.prev, st.prevDate = cents(f[8])-cents(f[9]), f[7]
		case "New balance":
			st.next = cents(f[8]) - cents(f[9])
		default:
			if f[0] == "Line" {
				continue
			}
			st.lines++
			st.credits += cents(f[8])
			st.debits += cents(f[9])
		}
	}
	return st
}

func repCents(v int64) string {
	if v < 0 {
		v = -v
	}
	return fmt.Sprintf("%d.%02d", v/100, v%100)
}

func repSide(v int64) string {
	if v < 0 {
		return "DBIT"
	}
	return "CRDT"
}

// TestReportCrashLeavesNoPartialSet kills the job between files and in the
// middle of a file, then restarts it: the set is completed, every file is
// written once (the interrupted one whole), and the result is byte for
// byte what an uninterrupted run produces.
func TestReportCrashLeavesNoPartialSet(t *testing.T) {
	errKilled := errors.New("killed")
	xml21 := formats.StatementFileName("acme-creditor", repDay("2026-12-21"), ".xml")
	issues22 := formats.IssuesFileName("acme-creditor", repDay("2026-12-22"))
	csv23 := formats.StatementFileName("acme-creditor", repDay("2026-12-23"), ".csv")
	for _, tc := range []struct {
		name    string
		crash   func(e *repEnv)
		rewrite string // the file written twice, if any
	}{
		{"after intent", func(e *repEnv) {
			e.hook = func(p string) error {
				if p == "reports:planned" {
					return errKilled
				}
				return nil
			}
		}, ""},
		{"between files", func(e *repEnv) {
			e.hook = func(p string) error {
				if p == "reports:confirmed:"+xml21 {
					return errKilled
				}
				return nil
			}
		}, ""},
		{"before the day completes", func(e *repEnv) {
			// Killed between the rename of the last file and the
			// transaction that confirms it: the one window where a
			// file is written again, with the same name and bytes.
			e.hook = func(p string) error {
				if p == "reports:written:"+issues22 {
					return errKilled
				}
				return nil
			}
		}, issues22},
		{"disk full in a file", func(e *repEnv) { e.failWrite = csv23 }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newRepEnv(t)
			repScenario(e)
			for _, at := range repRuns[:3] {
				e.mustRun(repParisTime(at))
			}
			tc.crash(e)
			e.now = repParisTime("2026-12-24 07:00")
			if err := e.run(time.Time{}); err == nil {
				t.Fatal("the crashing run reported no error")
			}
			// Whatever the crash, out/ holds only whole files, and
			// complete days before the crash have their whole set.
			for _, name := range e.outFiles("acme") {
				if strings.HasPrefix(name, ".") {
					t.Errorf("temporary file %s left in out/", name)
				}
			}
			if e.failWrite != "" {
				if slices.Contains(e.outFiles("acme"), csv23) {
					t.Errorf("%s exists after its write failed", csv23)
				}
			}
			// Restart.
			e.hook, e.failWrite = nil, ""
			for _, at := range repRuns[3:] {
				e.mustRun(repParisTime(at))
			}
			for name, n := range e.writes {
				if want := 1 + repBtoi(name == tc.rewrite); n != want {
					t.Errorf("%s written %d times, want %d", name, n, want)
				}
			}
			repCheckGolden(t, e, "scenario", false) // validated by TestReportScenarioGolden
		})
	}
}

// TestReportIntentPinsContent: files rewritten after a crash carry the
// creation time recorded with the intent, not the restart's.
func TestReportIntentPinsContent(t *testing.T) {
	e := newRepEnv(t)
	repScenario(e)
	xml17 := formats.StatementFileName("acme-creditor", repDay("2026-12-17"), ".xml")
	e.hook = func(p string) error {
		if p == "reports:written:"+formats.StatementFileName("acme-creditor", repDay("2026-12-17"), ".csv") {
			return errors.New("killed")
		}
		return nil
	}
	e.now = repParisTime("2026-12-18 00:30")
	if err := e.run(time.Time{}); err == nil {
		t.Fatal("no error from the crashing run")
	}
	e.hook = nil
	e.mustRun(repParisTime("2026-12-18 06:45"))
	got, err := os.ReadFile(filepath.Join(e.outDir("acme"), xml17))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(got, []byte("<CreDtTm>2026-12-18T00:30:00+01:00</CreDtTm>")) {
		t.Errorf("the resumed statement does not carry the planned creation time:\n%s", got[:600])
	}
}

// TestReportDueOnlyAfterDayEnds checks the time-zone boundary (day D is due
// from midnight after D in Paris, not in UTC, in winter and summer time)
// and that only TARGET2 days get reports (Easter 2027).
func TestReportDueOnlyAfterDayEnds(t *testing.T) {
	for _, tc := range []struct {
		created string
		now     time.Time
		want    []string
	}{
		// Winter: Paris is UTC+1.
		{"2026-12-17 09:00", time.Date(2026, 12, 17, 22, 59, 59, 0, time.UTC), nil}, // 23:59:59 in Paris
		{"2026-12-17 09:00", time.Date(2026, 12, 17, 23, 0, 0, 0, time.UTC), reportNames("acme-creditor", "2026-12-17")},
		// Summer: UTC+2; the day after the switch to summer time (Sunday 28
		// March 2027) is an ordinary Monday.
		{"2027-06-15 09:00", time.Date(2027, 6, 15, 21, 59, 59, 0, time.UTC), nil},
		{"2027-06-15 09:00", time.Date(2027, 6, 15, 22, 0, 0, 0, time.UTC), reportNames("acme-creditor", "2027-06-15")},
		// Easter 2027 across the switch: Good Friday 26 March, the
		// weekend, Easter Monday 29 March are not reported.
		{"2027-03-25 09:00", time.Date(2027, 3, 29, 22, 0, 0, 0, time.UTC), reportNames("acme-creditor", "2027-03-25")},
		{"2027-03-25 09:00", time.Date(2027, 3, 30, 22, 0, 0, 0, time.UTC), reportNames("acme-creditor", "2027-03-25", "2027-03-30")},
		// Created on Good Friday: the first statement is Tuesday's.
		{"2027-03-26 09:00", time.Date(2027, 3, 30, 22, 0, 0, 0, time.UTC), reportNames("acme-creditor", "2027-03-30")},
	} {
		e := newRepEnv(t)
		e.addMerchant("acme", "ACME SAS", "acme-creditor", repParisTime(tc.created))
		e.mustRun(tc.now)
		if got := e.outFiles("acme"); !slices.Equal(got, tc.want) {
			t.Errorf("at %s: out/ holds %v, want %v", tc.now, got, tc.want)
		}
	}
}

// TestReportThroughDate is `jobs run reports --date D`, which runs the job
// as of the start of D+1: days up to D only, the rest at the next run,
// still in order.
func TestReportThroughDate(t *testing.T) {
	e := newRepEnv(t)
	repScenario(e)
	e.now = repParisTime("2026-12-24 07:00")
	if err := e.run(repParisTime("2026-12-19 00:00")); err != nil {
		t.Fatal(err)
	}
	if got, want := e.outFiles("acme"), reportNames("acme-creditor", "2026-12-17", "2026-12-18"); !slices.Equal(got, want) {
		t.Fatalf("through the 18th: %v, want %v", got, want)
	}
	// A date in the future produces only what has ended.
	if err := e.run(repParisTime("2027-06-01 00:00")); err != nil {
		t.Fatal(err)
	}
	want := reportNames("acme-creditor", "2026-12-17", "2026-12-18", "2026-12-21", "2026-12-22", "2026-12-23")
	if got := e.outFiles("acme"); !slices.Equal(got, want) {
		t.Fatalf("through a future date: %v, want %v", got, want)
	}
}

// TestReportLedgerChangedUnderneath: a movement booked into a day after it
// was planned is caught by the writers' totals check; no file is written
// and the day stays pending.
func TestReportLedgerChangedUnderneath(t *testing.T) {
	e := newRepEnv(t)
	repScenario(e)
	e.hook = func(p string) error {
		if p == "reports:planned" {
			e.ledger.book(Entry{Merchant: "acme", BookingDate: repDay("2026-12-17"), ValueDate: repDay("2026-12-17"),
				OpCode: OpFeeSDD, Amount: 1, TransactionID: "late"})
			e.hook = nil
		}
		return nil
	}
	e.now = repParisTime("2026-12-18 00:30")
	if err := e.run(time.Time{}); !errors.Is(err, ErrReportChanged) {
		t.Fatalf("run = %v, want ErrReportChanged", err)
	}
	if got := e.outFiles("acme"); len(got) != 0 {
		t.Errorf("out/ holds %v after a failed check", got)
	}
}

func repBtoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestReportOneMerchantFailingDoesNotBlockOthers: a merchant whose reports
// cannot be produced (here: no creation time) gets an error naming it; the
// others get their reports.
func TestReportOneMerchantFailingDoesNotBlockOthers(t *testing.T) {
	e := newRepEnv(t)
	e.addMerchant("acme", "ACME SAS", "acme-creditor", repParisTime("2026-12-17 09:00"))
	e.now = repParisTime("2026-12-18 00:30")
	r := &reporter{
		db: e.db, loc: repParis, now: func() time.Time { return e.now },
		merchants: func() ([]keys.Merchant, error) {
			ms, err := e.keys.Merchants()
			return append([]keys.Merchant{{ID: "aaa", Name: "Broken", CreditorRef: "broken"}}, ms...), err
		},
		ledgerDay: e.ledger.ledgerDay, issuesDay: e.ledger.issuesDay, writeOutput: e.writeOutput,
	}
	err := r.run(context.Background(), e.now)
	if err == nil || !strings.Contains(err.Error(), "reports for aaa") {
		t.Errorf("run = %v, want an error for aaa", err)
	}
	if got, want := e.outFiles("acme"), reportNames("acme-creditor", "2026-12-17"); !slices.Equal(got, want) {
		t.Errorf("acme out/ = %v, want %v", got, want)
	}
}
