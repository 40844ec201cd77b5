package formats

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// golden compares got with testdata/reports/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "reports", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// camtXSD is the camt.053.001.08 schema tests validate against.
var camtXSD = filepath.Join("testdata", "reports", "camt.053.001.08.xsd")

// xmllintValidate validates the camt.053 document in data with xmllint.
func xmllintValidate(t *testing.T, data []byte) {
	t.Helper()
	if out, err := xmllint(t, data); err != nil {
		t.Fatalf("xmllint: %v\n%s", err, out)
	}
}

// xmllint runs xmllint --schema on data. Without xmllint the test fails
// under CI=true (CI installs libxml2-utils) and is skipped elsewhere.
func xmllint(t *testing.T, data []byte) ([]byte, error) {
	t.Helper()
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("xmllint is missing: install libxml2-utils")
		}
		t.Skip("xmllint not installed (apt-get install libxml2-utils)")
	}
	f := filepath.Join(t.TempDir(), "statement.xml")
	if err := os.WriteFile(f, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--noout", "--schema", camtXSD, f).CombinedOutput()
	if err == nil && !bytes.Contains(out, []byte("validates")) {
		err = errors.New("xmllint did not confirm validity")
	}
	return out, err
}

func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

// exampleMovements are the two movements of FORMATS.md §4.1.
func exampleMovements() (StatementHeader, []Movement) {
	ms := []Movement{
		{ExecutionDate: day("2026-11-30"), ValueDate: day("2026-12-01"), TransactionID: "01JDQ6…", ClientRef: "C-42",
			DebtorName: "Jeanne Martin", OpCode: "SDD", Amount: 3999, Credit: true, Label: "November subscription",
			InvoiceRef: "INV-9", Reference: "PAY-0001", MandateRef: "UMR-0001"},
		{ExecutionDate: day("2026-11-30"), ValueDate: day("2026-11-30"), TransactionID: "01JDQ9…", ClientRef: "C-17",
			DebtorName: "Paul Durand", OpCode: "RET", Amount: 5000, Label: "AM04 insufficient funds",
			InitialTransactionID: "01JDQ7…", Reference: "PAY-0002", MandateRef: "UMR-0002", ReasonCode: "AM04"},
	}
	h := StatementHeader{CreditorRef: "acme-creditor", CompanyName: "ACME SAS", Date: day("2026-11-30"),
		PreviousBalance: 438308, PreviousDate: day("2026-11-27"),
		CreatedAt: time.Date(2026, 12, 1, 0, 30, 0, 0, time.FixedZone("CET", 3600)), SeqNb: 42,
		From: time.Date(2026, 11, 30, 0, 0, 0, 0, time.FixedZone("CET", 3600)),
		To:   time.Date(2026, 11, 30, 23, 59, 59, 0, time.FixedZone("CET", 3600))}
	for _, m := range ms {
		h.Totals.Add(m)
	}
	return h, ms
}

// mixedMovements cover every OP code, a negative closing balance, text
// that needs quoting or escaping, and a 35-character creditor reference.
func mixedMovements() (StatementHeader, []Movement) {
	d := day("2026-12-24")
	ms := []Movement{
		{ExecutionDate: d, ValueDate: day("2026-12-28"), TransactionID: "01KA0000000000000000000001", ClientRef: "C;1",
			DebtorName: `Zoë "Zed" <O'Brien> & Sons; Ltd`, OpCode: "SDD", Amount: 1, Credit: true,
			Label: "line\nbreak\ttab", Reference: "PAY-1", MandateRef: "UMR-1"},
		{ExecutionDate: d, ValueDate: d, TransactionID: "01KA0000000000000000000002", OpCode: "FEE-SDD", Amount: 25,
			InitialTransactionID: "01KA0000000000000000000001", Label: "fee"},
		{ExecutionDate: d, ValueDate: d, TransactionID: "01KA0000000000000000000003", DebtorName: "Jürgen Müller",
			OpCode: "RET", Amount: 100000, Label: "MD06 refund requested by the debtor", ReasonCode: "MD06",
			InitialTransactionID: "01KA0000000000000000000000", Reference: "PAY-0", MandateRef: "UMR-0"},
		{ExecutionDate: d, ValueDate: d, TransactionID: "01KA0000000000000000000004", OpCode: "FEE-RET", Amount: 50,
			InitialTransactionID: "01KA0000000000000000000000"},
		{ExecutionDate: d, ValueDate: d, TransactionID: "01KA0000000000000000000005", DebtorName: "Anne Leroy",
			OpCode: "REB", Amount: 999, Label: "partial refund", Reference: "REF-77", InitialTransactionID: "01KA0000000000000000000009"},
		{ExecutionDate: d, ValueDate: d, TransactionID: "01KA0000000000000000000006", OpCode: "FEE-REB", Amount: 10,
			InitialTransactionID: "01KA0000000000000000000005"},
		{ExecutionDate: d, ValueDate: d, TransactionID: "01KA0000000000000000000007", DebtorName: "Bad Code",
			OpCode: "RET", Amount: 700, Label: "weird", ReasonCode: "NOT-A-CODE", Reference: "PAY-9"},
	}
	h := StatementHeader{CreditorRef: strings.Repeat("R", 30) + "-35ch", CompanyName: "Café & Co; \"Paris\"",
		Date: d, PreviousBalance: 50000, PreviousDate: day("2026-12-23"),
		CreatedAt: time.Date(2026, 12, 24, 23, 30, 0, 0, time.UTC)}
	for _, m := range ms {
		h.Totals.Add(m)
	}
	return h, ms
}

// statementWriter is what both statement writers offer.
type statementWriter interface {
	Write(Movement) error
	Close() error
}

// writeStatement writes a whole statement with the writer newW makes.
func writeStatement[W statementWriter](t *testing.T, newW func(io.Writer, StatementHeader) (W, error), h StatementHeader, ms []Movement) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := newW(&buf, h)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if err := w.Write(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeStatementCSV(t *testing.T, h StatementHeader, ms []Movement) []byte {
	t.Helper()
	return writeStatement(t, NewStatementCSVWriter, h, ms)
}

// specExample is the code block of FORMATS.md §4.1, read from the shared
// contract so that the test follows the spec, not a copy of it.
func specExample(t *testing.T) []byte {
	t.Helper()
	spec, err := os.ReadFile(filepath.Join("..", "..", "shared", "FORMATS.md"))
	if err != nil {
		t.Fatalf("the contract must sit beside the repo: %v", err)
	}
	s := string(spec)
	i := strings.Index(s, "### 4.1")
	if i < 0 {
		t.Fatal("FORMATS.md has no §4.1")
	}
	s = s[i:]
	start := strings.Index(s, "```\n") + 4
	end := strings.Index(s[start:], "```")
	return []byte(s[start : start+end])
}

func TestStatementCSVMatchesSpecExample(t *testing.T) {
	h, ms := exampleMovements()
	got := writeStatementCSV(t, h, ms)
	if want := specExample(t); !bytes.Equal(got, want) {
		t.Errorf("statement differs from FORMATS.md §4.1:\n--- got\n%s\n--- want\n%s", got, want)
	}
}

func TestStatementCSVGolden(t *testing.T) {
	empty := StatementHeader{CreditorRef: "acme-creditor", CompanyName: "ACME SAS", Date: day("2026-11-02"),
		PreviousDate: day("2026-11-01"), CreatedAt: time.Date(2026, 11, 3, 0, 30, 0, 0, time.UTC)}
	hm, mm := mixedMovements()
	he, me := exampleMovements()
	for _, tc := range []struct {
		name string
		h    StatementHeader
		ms   []Movement
	}{
		{"statement_example.csv", he, me},
		{"statement_empty_first.csv", empty, nil},
		{"statement_mixed.csv", hm, mm},
	} {
		t.Run(tc.name, func(t *testing.T) {
			golden(t, tc.name, writeStatementCSV(t, tc.h, tc.ms))
		})
	}
}

func TestStatementCSVBalances(t *testing.T) {
	h, ms := mixedMovements()
	got := string(writeStatementCSV(t, h, ms))
	// 500.00 + 0.01 − (0.25 + 1000.00 + 0.50 + 9.99 + 0.10 + 7.00) = −517.83:
	// a negative balance goes unsigned into Debit_value.
	if !strings.HasSuffix(got, `;;;;"New balance";;;"2026-12-24";;"517.83";`+"\n") {
		t.Errorf("new balance line wrong:\n%s", got)
	}
	if !strings.Contains(got, `"7";"2026-12-24";"01KA0000000000000000000007";;"Bad Code";"RET";"7.00";"2026-12-24";;"7.00";"weird";;;`+"\n") {
		t.Errorf("debit line wrong:\n%s", got)
	}
	if !strings.Contains(got, `"Zoë ""Zed"" <O'Brien> & Sons; Ltd"`) || !strings.Contains(got, `"line break tab"`) {
		t.Errorf("quoting or control characters wrong:\n%s", got)
	}
	if n := strings.Count(got, "\n"); n != 2+1+1+1+len(ms)+1 {
		t.Errorf("%d lines, want %d", n, 6+len(ms))
	}
}

func TestStatementWritersCheckTotals(t *testing.T) {
	h, ms := exampleMovements()
	for _, tc := range []struct {
		name  string
		write []Movement
	}{
		{"one missing", ms[:1]},
		{"one extra", append(append([]Movement{}, ms...), ms[0])},
		{"amount changed", []Movement{ms[0], {OpCode: "RET", Amount: 4999}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cw, err := NewStatementCSVWriter(&bytes.Buffer{}, h)
			if err != nil {
				t.Fatal(err)
			}
			xw, err := NewCamt053Writer(&bytes.Buffer{}, h)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range tc.write {
				if err := cw.Write(m); err != nil {
					t.Fatal(err)
				}
				if err := xw.Write(m); err != nil {
					t.Fatal(err)
				}
			}
			if err := cw.Close(); !errors.Is(err, ErrStatementTotals) {
				t.Errorf("csv Close = %v, want ErrStatementTotals", err)
			}
			if err := xw.Close(); !errors.Is(err, ErrStatementTotals) {
				t.Errorf("xml Close = %v, want ErrStatementTotals", err)
			}
			if err := cw.Write(ms[0]); !errors.Is(err, ErrStatementClosed) {
				t.Errorf("Write after Close = %v, want ErrStatementClosed", err)
			}
		})
	}
}

// failWriter fails every write after n bytes.
type failWriter struct{ n int }

var errDiskFull = errors.New("disk full")

func (f *failWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		return 0, errDiskFull
	}
	f.n -= len(p)
	return len(p), nil
}

func TestStatementWritersReportWriteErrors(t *testing.T) {
	h, ms := exampleMovements()
	cw, err := NewStatementCSVWriter(&failWriter{n: 10}, h)
	if err != nil {
		t.Fatal(err) // buffered: the failure shows at the latest on Close
	}
	for _, m := range ms {
		_ = cw.Write(m)
	}
	if err := cw.Close(); !errors.Is(err, errDiskFull) {
		t.Errorf("csv Close = %v, want the write error", err)
	}
	xw, err := NewCamt053Writer(&failWriter{n: 10}, h)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		_ = xw.Write(m)
	}
	if err := xw.Close(); !errors.Is(err, errDiskFull) {
		t.Errorf("xml Close = %v, want the write error", err)
	}
}

func TestStatementFileNames(t *testing.T) {
	d := day("2026-11-30")
	for _, tc := range []struct{ got, want string }{
		{StatementFileName("acme-creditor", d, ".csv"), "STATEMENT_acme-creditor_20261130.csv"},
		{StatementFileName("acme-creditor", d, ".xml"), "STATEMENT_acme-creditor_20261130.xml"},
		{IssuesFileName("acme-creditor", d), "ISSUES_acme-creditor_20261130.csv"},
		{IssuesFileRef("acme-creditor", d), "ISS-20261130-acme-creditor"},
		{StatementID("acme-creditor", d), "STMT-20261130-acme-creditor"},
		{StatementID(strings.Repeat("x", 21), d), "STMT-20261130-" + strings.Repeat("x", 21)},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	long1, long2 := StatementID(strings.Repeat("x", 22), d), StatementID(strings.Repeat("x", 21)+"y", d)
	if len(long1) != 35 || long1 == long2 || !strings.HasPrefix(long1, "STMT-20261130-xxxxxxxx-") {
		t.Errorf("long ids %q %q: want 35 characters, distinct", long1, long2)
	}
}
