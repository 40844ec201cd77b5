package formats

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func date(s string) time.Time {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// readAll validates in and reads every record.
func readAll(t *testing.T, in string) (FileType, []Record) {
	t.Helper()
	if _, issues, err := Validate(strings.NewReader(in), testOpt); err != nil || len(issues) > 0 {
		t.Fatalf("not valid: %v\n%s", err, dumpIssues(issues))
	}
	r, err := NewReader(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var recs []Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return r.Type(), recs
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
}

func TestReaderRecords(t *testing.T) {
	tests := []struct {
		name string
		in   string
		typ  FileType
		want []Record
	}{
		{"FORMATS.md example, defaults applied", formatsExample(t), Payments, []Record{
			Payment{Line: 4, Reference: "PAY-0001", Amount: 3999, MandateRef: "UMR-0001", MandateSigned: date("2025-03-14"),
				DebtorName: "Jeanne Martin", DebtorIBAN: "FR7630006000011234567890189", SequenceType: "RCUR", Scheme: SchemeCore, Label: "November subscription"},
			Payment{Line: 5, Reference: "PAY-0002", Amount: 5000, MandateRef: "UMR-0002", MandateSigned: date("2024-11-02"),
				DebtorName: "Paul Durand", DebtorIBAN: "DE89370400440532013000", SequenceType: "RCUR", Scheme: SchemeCore, Label: "November subscription"},
		}},
		{"every column, normalised, quoted, CRLF, blank end", "\xEF\xBB\xBF" + strings.ReplaceAll(build(Payments,
			"LABEL;SCHEME;SEQUENCE_TYPE;CURRENCY;PAYMENT_DIRECTION;DEBTOR_BIC;INVOICE_REFERENCE;CLIENT_REFERENCE;EXECUTION_DATE;"+payTitles,
			`"the ""best""; plan";SEPA.DIRECT_DEBIT.B2B;FRST;EUR;IN;cobadeff xxx;INV-1;C-42;2026-12-01;PAY-1;12.3;UMR-1;2025-03-14;Martin, Jeanne;de89 3704 0044 0532 0130 00`),
			"\n", "\r\n") + "\r\n\r\n", Payments, []Record{
			Payment{Line: 4, Reference: "PAY-1", Amount: 1230, MandateRef: "UMR-1", MandateSigned: date("2025-03-14"),
				DebtorName: "Martin, Jeanne", DebtorIBAN: "DE89370400440532013000", DebtorBIC: "COBADEFFXXX",
				SequenceType: "FRST", Scheme: SchemeB2B, ExecutionDate: date("2026-12-01"),
				Label: `the "best"; plan`, ClientRef: "C-42", InvoiceRef: "INV-1"},
		}},
		{"refunds", build(Refunds, refTitles, "REF-1;PAY-1;5.00;Partial refund;", "REF-2;PAY-1;0.99;;"), Refunds, []Record{
			Refund{Line: 4, Reference: "REF-1", PaymentRef: "PAY-1", Amount: 500, Label: "Partial refund"},
			Refund{Line: 5, Reference: "REF-2", PaymentRef: "PAY-1", Amount: 99},
		}},
		{"mandates", build(Mandates, manTitles+"SCHEME;CLIENT_REFERENCE;",
			"CREATE;UMR-1;2025-03-14;Jeanne Martin;fr76 3000 6000 0112 3456 7890 189;;;C-1;",
			"AMEND;UMR-1;;;DE89370400440532013000;;;;",
			"REVOKE;UMR-2;;;;;;;"), Mandates, []Record{
			MandateLine{Line: 4, Action: ActionCreate, MandateRef: "UMR-1", MandateSigned: date("2025-03-14"), DebtorName: "Jeanne Martin",
				DebtorIBAN: "FR7630006000011234567890189", Scheme: SchemeCore, ClientRef: "C-1"},
			MandateLine{Line: 5, Action: ActionAmend, MandateRef: "UMR-1", DebtorIBAN: "DE89370400440532013000"},
			MandateLine{Line: 6, Action: ActionRevoke, MandateRef: "UMR-2"},
		}},
		{"no records", build(Refunds, refTitles), Refunds, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ, got := readAll(t, tt.in)
			if typ != tt.typ {
				t.Errorf("type %s, want %s", typ, tt.typ)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestReaderRefusesWhatValidateRejects(t *testing.T) {
	tests := map[string]string{
		"unknown type":  "hello\n",
		"empty":         "",
		"no titles":     "0;REFUNDS;acme-creditor;ACME SAS;\n1;OUT;0;0;EUR;\n",
		"bad amount":    build(Refunds, refTitles, "REF-1;PAY-1;abc;;"),
		"bad date":      build(Payments, payTitles, "PAY-1;10.00;UMR-1;2025-02-30;Jeanne;FR7630006000011234567890189;"),
		"field count":   build(Refunds, refTitles, "REF-1;PAY-1;"),
		"bad quote":     build(Refunds, refTitles, `REF-1;"PAY-1;5.00;;`),
		"line too long": build(Refunds, refTitles, "REF-1;PAY-1;5.00;"+strings.Repeat("x", 5000)),
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(in))
			for err == nil {
				_, err = r.Next()
			}
			if !errors.Is(err, ErrInvalidFile) {
				t.Errorf("error %v, want ErrInvalidFile", err)
			}
		})
	}
}

func TestReaderReportsIOErrors(t *testing.T) {
	boom := errors.New("read failed")
	in := io.MultiReader(strings.NewReader(build(Refunds, refTitles, "REF-1;PAY-1;5.00;;")), &errReader{boom})
	r, err := NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Errorf("got %v, want the read error", err)
	}
	if _, _, err := Validate(io.MultiReader(strings.NewReader(build(Refunds, refTitles)), &errReader{boom}), testOpt); !errors.Is(err, boom) {
		t.Errorf("Validate: %v, want the read error", err)
	}
}

type errReader struct{ err error }

func (e *errReader) Read([]byte) (int, error) { return 0, e.err }

func TestDetect(t *testing.T) {
	const v02 = `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"><CstmrDrctDbtInitn/></Document>`
	tests := []struct {
		name string
		in   string
		typ  FileType
		code string // whole-file issue
	}{
		{"payments", "0;PAYMENTS;x;y;\n", Payments, ""},
		{"refunds with BOM", "\xEF\xBB\xBF0;REFUNDS;x;y;\n", Refunds, ""},
		{"mandates without line end", "0;MANDATES;", Mandates, ""},
		{"pain.008.001.02", `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + v02, Pain008, ""},
		{"pain.008.001.08 prefixed, comment first", `<?xml version="1.0"?><!-- generated --><p:Document xmlns:p="urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"><p:CstmrDrctDbtInitn/></p:Document>`, Pain008, ""},
		{"no declaration, leading blank", "\n  " + v02, Pain008, ""},
		{"BOM before XML", "\xEF\xBB\xBF" + v02, Pain008, CodeEncoding},
		{"Latin-1 declared", `<?xml version="1.0" encoding="ISO-8859-1"?>` + v02, Pain008, CodeEncoding},
		{"pain.001", `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"/>`, "", CodeUnknownFileType},
		{"Swiss pain.008", `<Document xmlns="http://www.six-interbank-clearing.com/de/pain.008.001.02.ch.03.xsd"/>`, "", CodeUnknownFileType},
		{"no namespace", `<Document><CstmrDrctDbtInitn/></Document>`, "", CodeUnknownFileType},
		{"other root", `<Foo xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"/>`, "", CodeUnknownFileType},
		{"broken XML", `<<<`, "", CodeUnknownFileType},
		{"empty", "", "", CodeEmptyFile},
		{"blank", " \n\r\n", "", CodeEmptyFile},
		{"text", "PAYMENTS;x\n", "", CodeUnknownFileType},
		{"Latin-1 text", "caf\xe9\n", "", CodeEncoding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReaderSize(strings.NewReader(tt.in), bufSize)
			d, err := detect(br)
			if err != nil {
				t.Fatal(err)
			}
			code := ""
			if d.issue != nil {
				code = d.issue.Code
			}
			if d.typ != tt.typ || code != tt.code {
				t.Errorf("got %q/%q (%v), want %q/%q", d.typ, code, d.issue, tt.typ, tt.code)
			}
			// Detection consumes nothing.
			if rest, _ := io.ReadAll(br); string(rest) != tt.in {
				t.Errorf("detect consumed input")
			}
		})
	}
	// The real vectors.
	for name, want := range map[string]string{
		"phpsepaxml_pain.008.001.02.xml":              "",
		"phpsepaxml_pain.008.001.08.xml":              "",
		"sepaking_pain.008.001.02.xml":                "",
		"moov_pain008-musterfile_ch.xml":              CodeUnknownFileType,
		"hbci4java_invalid_pain_namespace_latin1.xml": CodeUnknownFileType,
		"moov_invalid_pain002_nonamespace.xml":        CodeUnknownFileType,
		"phpsepaxml_pain.001.001.03.xml":              CodeUnknownFileType,
	} {
		br := bufio.NewReaderSize(strings.NewReader(readShared(t, "vectors/sepa/"+name)), bufSize)
		d, err := detect(br)
		if err != nil {
			t.Fatal(err)
		}
		code := ""
		if d.issue != nil {
			code = d.issue.Code
		}
		if code != want || (want == "" && d.typ != Pain008) {
			t.Errorf("%s: %s %v, want %q", name, d.typ, d.issue, want)
		}
	}
}

func TestSplitter(t *testing.T) {
	tests := []struct {
		line string
		want []string
		bad  int // field number of a quoting error
	}{
		{"a;b;c", []string{"a", "b", "c"}, 0},
		{"a;b;c;", []string{"a", "b", "c", ""}, 0},
		{"", []string{""}, 0},
		{" a ;\tb\t; c", []string{"a", "b", "c"}, 0},
		{`"a;b";c`, []string{"a;b", "c"}, 0},
		{`"say ""hi""";""`, []string{`say "hi"`, ""}, 0},
		{` "a" ; "b" `, []string{"a", "b"}, 0},
		{`x;"a`, nil, 2},
		{`x;a"b`, nil, 2},
		{`"a"b;c`, nil, 1},
		{`"";"";`, []string{"", "", ""}, 0},
	}
	var sp splitter
	for _, tt := range tests {
		n, err := sp.split([]byte(tt.line))
		if tt.bad > 0 {
			if err == nil || n != tt.bad {
				t.Errorf("%q: got %d, %v; want quoting error in field %d", tt.line, n, err, tt.bad)
			}
			continue
		}
		var got []string
		for _, f := range sp.fields {
			got = append(got, string(f))
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: got %q, %v; want %q", tt.line, got, err, tt.want)
		}
	}
}

func TestLineScanner(t *testing.T) {
	in := "\xEF\xBB\xBFone\r\ntwo\n\n" + strings.Repeat("x", 70000) + "\nfour\r\nfive"
	sc := newLineScanner(bufio.NewReaderSize(strings.NewReader(in), bufSize))
	want := []physLine{{no: 1, data: []byte("one")}, {no: 2, data: []byte("two")}, {no: 3, data: []byte{}}, {no: 4, tooLong: 70000}, {no: 5, data: []byte("four")}, {no: 6, data: []byte("five")}}
	for _, w := range want {
		l, err := sc.next()
		if err != nil {
			t.Fatal(err)
		}
		if l.no != w.no || string(l.data) != string(w.data) || l.tooLong != w.tooLong {
			t.Errorf("got %d %q %d, want %d %q %d", l.no, l.data, l.tooLong, w.no, w.data, w.tooLong)
		}
	}
	if _, err := sc.next(); err != io.EOF {
		t.Errorf("got %v, want EOF", err)
	}
}

// TestReaderDispatchesPain008: NewReader hands a pain.008 document to the
// pain.008 reader and returns its transactions as Payments.
func TestReaderDispatchesPain008(t *testing.T) {
	for _, name := range []string{"pain008_v02.xml", "pain008_v08.xml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "golden", name))
		if err != nil {
			t.Fatal(err)
		}
		typ, recs := readAll(t, string(b))
		if typ != Pain008 || len(recs) != 2 {
			t.Fatalf("%s: %s, %d records", name, typ, len(recs))
		}
		var total int64
		for i, rec := range recs {
			p, ok := rec.(Payment)
			if !ok || p.Line != i+1 || p.Reference == "" {
				t.Errorf("%s: record %d = %+v", name, i, rec)
			}
			total += p.Amount
		}
		if total != 8999 {
			t.Errorf("%s: total %d", name, total)
		}
	}
}
