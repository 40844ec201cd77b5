package batch

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"fileapi/formats"
	"fileapi/sftpd"
)

// repNormalize makes a report produced by the real service comparable
// with a golden file: transaction and issue ids (random ULIDs) become
// ID-1, ID-2... in order of first appearance, and creation times (the
// service clock runs on during the test) become a fixed text.
func repNormalize(data []byte) []byte {
	ids := map[string]string{}
	out := repULID.ReplaceAllStringFunc(string(data), func(id string) string {
		if n, ok := ids[id]; ok {
			return n
		}
		ids[id] = "ID-" + strconv.Itoa(len(ids)+1)
		return ids[id]
	})
	out = repCreDtTm.ReplaceAllString(out, "<CreDtTm>CREATED</CreDtTm>")
	return []byte(out)
}

var (
	repULID    = regexp.MustCompile(`\b[0-9A-HJKMNP-TV-Z]{26}\b`)
	repCreDtTm = regexp.MustCompile(`<CreDtTm>[^<]*</CreDtTm>`)
)

// TestReportsFromRealSettlement drives the whole service: payments and
// refunds uploaded, processed and settled by the sandbox rules (executed
// debits, a reject, a return, a refund request, a refund, fees), over a
// weekend, Christmas, and two stretches with the service down. The reports
// are compared byte for byte (ids and creation times normalised) with
// testdata/reports/service/, every camt.053 is validated, and the balance
// chain is checked against the ledger's balance.
func TestReportsFromRealSettlement(t *testing.T) {
	e := newEnv(t, "2026-12-17 09:00") // Thursday; acme is created now
	e.fees = map[string]int64{"SDD": 25, "RET": 50, "REB": 10}
	e.restart()
	e.mustAck("p1.csv", payments(
		pay{ref: "PAY-0001", amount: "39.99", exec: "2026-12-18"},
		pay{ref: "PAY-0002", amount: "50.00", exec: "2026-12-18", name: "ISSUE-SEPA-RET-AM04 Paul Durand"},
		pay{ref: "PAY-0003", amount: "12.50", exec: "2026-12-18", name: "ISSUE-SEPA-REJ-AC04 Anne Leroy"},
		pay{ref: "PAY-0004", amount: "1000.00", exec: "2026-12-18", name: "ISSUE-SEPA-REF-MD06 Luc"},
	))
	e.run("process")
	e.run("reports") // the 17th has not ended: nothing yet
	out := filepath.Join(sftpd.MerchantDir(e.dir, acme), "out")
	reports := func() []string {
		var names []string
		ents, _ := os.ReadDir(out)
		for _, d := range ents {
			if strings.HasPrefix(d.Name(), "STATEMENT_") || strings.HasPrefix(d.Name(), "ISSUES_") {
				names = append(names, d.Name())
			}
		}
		return names
	}
	if got := reports(); len(got) != 0 {
		t.Fatalf("reports before the day ended: %v", got)
	}

	// Monday: the 17th and 18th are reported (the weekend is not).
	e.setClock("2026-12-21 10:00")
	e.run("reports")
	if got, want := reports(), reportNames(acmeCredit, "2026-12-17", "2026-12-18"); !slices.Equal(got, want) {
		t.Fatalf("Monday: %v, want %v", got, want)
	}
	e.mustAck("r1.csv", refunds(refund{ref: "REF-0001", payRef: "PAY-0001", amount: "10.00"}))
	e.run("process")

	// Down from Monday to Thursday morning: 21, 22 (return) and 23
	// (refund request) are caught up in order at the restart.
	e.close()
	e.open()
	if err := e.clock.Set(mustParis(t, "2026-12-24 07:00")); err != nil {
		t.Fatal(err)
	}
	e.startSvc()
	e.run("reports")
	// Down again over Christmas; Monday 28 brings the 24th only.
	e.setClock("2026-12-28 08:00")
	e.run("reports")
	days := []string{"2026-12-17", "2026-12-18", "2026-12-21", "2026-12-22", "2026-12-23", "2026-12-24"}
	if got, want := reports(), reportNames(acmeCredit, days...); !slices.Equal(got, want) {
		t.Fatalf("after Christmas: %v, want %v", got, want)
	}

	gdir := filepath.Join("testdata", "reports", "service")
	if *updateReports {
		_ = os.RemoveAll(gdir)
		if err := os.MkdirAll(gdir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var xmls []string
	for _, name := range reports() {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, ".xml") {
			xmls = append(xmls, filepath.Join(out, name))
		}
		got = repNormalize(got)
		if *updateReports {
			if err := os.WriteFile(filepath.Join(gdir, name), got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(filepath.Join(gdir, name))
		if err != nil {
			t.Fatalf("%v (run go test ./batch -run Report -update-reports)", err)
		}
		if string(got) != string(want) {
			t.Errorf("%s differs from its golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
		}
	}
	repXmllint(t, xmls...)
	// 39.99 + 50.00 + 1000.00 executed, fees 3 × 0.25; refund 10.00 + 0.10;
	// return 50.00 + 0.50; refund request 1000.00 + 0.50 (MD06 is a RET).
	want := int64(3999 + 5000 + 100000 - 75 - 1000 - 10 - 5000 - 50 - 100000 - 50)
	repCheckChainIn(t, e.db, out, acme, acmeCredit, days, want, day("2026-12-16"))
	if b := e.balance(); b != want {
		t.Errorf("ledger balance %d, last statement %d", b, want)
	}
	rd, err := e.svc.ReportedDays(acme)
	if err != nil || len(rd) != len(days) {
		t.Fatalf("ReportedDays = %d days, %v", len(rd), err)
	}

	// Support rewrites a day the merchant deleted: the same bytes.
	d22 := day("2026-12-22")
	saved := map[string][]byte{}
	for _, name := range reportNames(acmeCredit, "2026-12-22") {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		saved[name] = b
		if err := os.Remove(filepath.Join(out, name)); err != nil {
			t.Fatal(err)
		}
	}
	names, err := e.svc.RewriteReports(acme, d22)
	if err != nil || len(names) != 3 {
		t.Fatalf("RewriteReports = %v, %v", names, err)
	}
	for name, want := range saved {
		if got, err := os.ReadFile(filepath.Join(out, name)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s rewritten differently (err %v):\n%s\nwas\n%s", name, err, got, want)
		}
	}
	if _, err := e.svc.RewriteReports(acme, day("2026-12-28")); !errors.Is(err, ErrNotReported) {
		t.Errorf("RewriteReports of a day not reported = %v, want ErrNotReported", err)
	}
}

func mustParis(t *testing.T, s string) (tm time.Time) {
	t.Helper()
	tm, err := time.ParseInLocation("2006-01-02 15:04", s, paris)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// TestReportsCrashInServiceCompletesOnce kills the real service's report
// run after the day's statements are confirmed and while its issues report
// is being confirmed, over and over (scheduled and manual runs alike), then
// restarts it: the set is completed, the confirmed files are never
// rewritten (same inode), and the catch-up goes on in order.
func TestReportsCrashInServiceCompletesOnce(t *testing.T) {
	e := newEnv(t, "2026-12-17 09:00")
	e.mustAck("p1.csv", payments(
		pay{ref: "PAY-0001", amount: "39.99", exec: "2026-12-18"},
		pay{ref: "PAY-0003", amount: "12.50", exec: "2026-12-18", name: "ISSUE-SEPA-REJ-AC04 Anne Leroy"},
	))
	e.run("process")
	d18 := day("2026-12-18")
	csv18, xml18 := formats.StatementFileName(acmeCredit, d18, ".csv"), formats.StatementFileName(acmeCredit, d18, ".xml")
	iss18 := formats.IssuesFileName(acmeCredit, d18)
	e.svc.setHook(func(p string) error {
		if p == "reports:written:"+iss18 {
			return errCrash
		}
		return nil
	})
	if err := e.clock.Set(mustParis(t, "2026-12-22 10:00")); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.RunJob(t.Context(), "reports", time.Time{}); !errors.Is(err, errCrash) {
		t.Fatalf("RunJob = %v, want the simulated crash", err)
	}
	before := map[string]os.FileInfo{}
	for _, name := range append(reportNames(acmeCredit, "2026-12-17"), csv18, xml18) {
		fi, err := os.Stat(e.outPath(name))
		if err != nil {
			t.Fatalf("%s missing after the crash: %v", name, err)
		}
		before[name] = fi
	}
	if _, err := os.Stat(e.outPath(formats.StatementFileName(acmeCredit, day("2026-12-21"), ".csv"))); err == nil {
		t.Fatal("the 21st was reported before the 18th was complete")
	}
	issBefore, err := os.ReadFile(e.outPath(iss18))
	if err != nil {
		t.Fatal(err)
	}

	e.restart() // Start runs the jobs at once; so does RunJob
	e.run("reports")
	for name, fi := range before {
		now, err := os.Stat(e.outPath(name))
		if err != nil || !os.SameFile(fi, now) {
			t.Errorf("%s was rewritten after the restart (err %v)", name, err)
		}
	}
	issAfter, err := os.ReadFile(e.outPath(iss18))
	if err != nil || !bytes.Equal(issBefore, issAfter) || !strings.Contains(string(issAfter), ";REJECT;PAY-0003;") {
		t.Errorf("issues of the 18th after restart (err %v):\n%s\nwas\n%s", err, issAfter, issBefore)
	}
	rd, err := e.svc.ReportedDays(acme)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rd {
		got = append(got, r.Day.Format(time.DateOnly))
	}
	if want := []string{"2026-12-17", "2026-12-18", "2026-12-21"}; !slices.Equal(got, want) {
		t.Errorf("reported days %v, want %v", got, want)
	}
}
