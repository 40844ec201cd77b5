package formats

import (
	"bytes"
	"io"
	"testing"
	"time"
)

// FuzzValidateCSV feeds arbitrary bytes to Validate: it must never panic,
// never fail on an in-memory reader, report issues within the cap, and
// agree with the Reader: a file Validate accepts reads back as exactly
// Summary.Lines records without error.
func FuzzValidateCSV(f *testing.F) {
	for _, s := range []string{
		build(Payments, payTitles, payRow(1), payRow(2)),
		build(Refunds, refTitles, "REF-1;PAY-1;5.00;;"),
		build(Mandates, manTitles, "CREATE;UMR-1;2025-03-14;Jeanne Martin;FR7630006000011234567890189;;"),
		"\xEF\xBB\xBF0;PAYMENTS;acme-creditor;ACME SAS\r\n1;IN;1;1;EUR\r\nAMOUNT;PAYMENT_REFERENCE\r\n\"1\";\"a\"\"b\"\r\n",
		"", "0;REFUNDS;", "<Document/>",
	} {
		f.Add([]byte(s))
	}
	opt := Options{CreditorRef: "acme-creditor", Today: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), MaxIssues: 50}
	f.Fuzz(func(t *testing.T, data []byte) {
		sum, issues, err := Validate(bytes.NewReader(data), opt)
		if isXML(data) {
			return // XML is the pain.008 validator's, with its own fuzz target
		}
		if err != nil {
			t.Fatalf("error on an in-memory reader: %v", err)
		}
		if len(issues) > opt.MaxIssues+1 {
			t.Fatalf("%d issues, cap %d", len(issues), opt.MaxIssues)
		}
		for i, is := range issues {
			if is.Code == "" || is.Message == "" {
				t.Fatalf("issue without code or message: %+v", is)
			}
			if i > 0 && is.Code != CodeTooManyErrors && is.Line < issues[i-1].Line {
				t.Fatalf("issues out of line order: %+v", issues)
			}
		}
		if len(issues) > 0 || sum.Type == Pain008 {
			return
		}
		n := readRecords(t, data)
		if n != sum.Lines {
			t.Fatalf("Validate counted %d lines, Reader read %d", sum.Lines, n)
		}
	})
}

// FuzzReader feeds arbitrary bytes to NewReader and Next: whatever the
// input they must return records or errors, never panic or loop.
func FuzzReader(f *testing.F) {
	for _, s := range []string{
		build(Payments, payTitles+"EXECUTION_DATE;SEQUENCE_TYPE;", payRow(1)+"2026-12-01;FRST;"),
		build(Refunds, refTitles, "REF-1;PAY-1;5.00;;", "REF-2;PAY-1;x;;"),
		build(Mandates, manTitles, "AMEND;UMR-1;;;DE89370400440532013000;;"),
		"0;PAYMENTS;x;y;\n1;IN;1;1;EUR;\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if isXML(data) {
			return // pain.008 documents belong to the pain.008 fuzz target
		}
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		for range len(data) + 1 { // every record takes at least one line
			if _, err := r.Next(); err != nil {
				return
			}
		}
		t.Fatal("Reader returned more records than the input has lines")
	})
}

// readRecords reads a file Validate accepted and counts its records.
func readRecords(t *testing.T, data []byte) int {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("NewReader on a valid file: %v", err)
	}
	n := 0
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatalf("Next on a valid file: %v", err)
		}
		switch p := rec.(type) {
		case Payment:
			if p.Amount < MinAmount || p.Amount > MaxAmount || p.Reference == "" {
				t.Fatalf("bad record from a valid file: %+v", p)
			}
		case Refund:
			if p.Amount < MinAmount || p.Reference == "" {
				t.Fatalf("bad record from a valid file: %+v", p)
			}
		}
		n++
	}
}

// isXML tells the inputs detection hands to the XML side, as detect does.
func isXML(data []byte) bool {
	data = bytes.TrimLeft(bytes.TrimPrefix(data, utf8BOM), " \t\r\n")
	return len(data) > 0 && data[0] == '<'
}
