package formats

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// formatsBlock returns the code block of FORMATS.md that starts with the
// given title line.
func formatsBlock(t *testing.T, title string) string {
	t.Helper()
	doc := readShared(t, "FORMATS.md")
	i := strings.Index(doc, "```\n"+title)
	if i < 0 {
		t.Fatalf("FORMATS.md: no block starting with %q", title)
	}
	rest := doc[i+4:]
	return rest[:strings.Index(rest, "```")]
}

func TestWriteAckMatchesFormats(t *testing.T) {
	want := formatsBlock(t, "FILE_ID;FILE_NAME;FILE_TYPE;")
	var buf bytes.Buffer
	err := WriteAck(&buf, Ack{
		FileID:     "01JDQ4ZK8M3V7R0N5T2W9XG6HB",
		FileName:   "payments-1127.csv",
		Type:       Payments,
		ReceivedAt: time.Date(2026, 11, 27, 10, 14, 3, 500e6, time.FixedZone("CET", 3600)),
		SHA256:     "9f2c…",
		Lines:      2,
		Total:      8999,
	})
	if err != nil {
		t.Fatal(err)
	}
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestWriteErrMatchesFormats(t *testing.T) {
	want := formatsBlock(t, "FILE_ID;FILE_NAME;RECEIVED_AT;LINE;")
	var buf bytes.Buffer
	h := ErrHeader{FileID: "01JDQ5…", FileName: "payments-1127.csv", ReceivedAt: time.Date(2026, 11, 27, 9, 20, 11, 0, time.UTC)}
	// Given out of order: the .err lists errors in line order.
	err := WriteErr(&buf, h, []Issue{
		{Line: 5, Column: "DEBTOR_IBAN", Code: CodeInvalidIBAN, Message: "check digits do not match"},
		{Line: 2, Code: CodeTotalMismatch, Message: "totals line says 89.99, lines add up to 79.99"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestWriteErrWholeFileAndQuoting(t *testing.T) {
	var buf bytes.Buffer
	h := ErrHeader{FileID: "F1", FileName: `odd;"name".csv`, ReceivedAt: time.Date(2026, 11, 27, 9, 20, 11, 0, time.UTC)}
	err := WriteErr(&buf, h, []Issue{
		{Line: 9, Code: CodeTooManyErrors, Message: "more than 1 errors; the check stopped at line 9"},
		{Line: 4, Column: "PAYMENT_REFERENCE", Code: CodeInvalidCharset, Message: `character ";" is not allowed (SEPA character set)`},
		{Code: CodeDuplicateFile, Message: "same content as file 01JDQ4"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "FILE_ID;FILE_NAME;RECEIVED_AT;LINE;COLUMN;CODE;MESSAGE;\n" +
		`F1;"odd;""name"".csv";2026-11-27T09:20:11Z;;;DUPLICATE_FILE;same content as file 01JDQ4;` + "\n" +
		`F1;"odd;""name"".csv";2026-11-27T09:20:11Z;4;PAYMENT_REFERENCE;INVALID_CHARSET;"character "";"" is not allowed (SEPA character set)";` + "\n" +
		`F1;"odd;""name"".csv";2026-11-27T09:20:11Z;9;;TOO_MANY_ERRORS;more than 1 errors; the check stopped at line 9;`
	want = strings.Replace(want, "more than 1 errors; the check stopped at line 9;", `"more than 1 errors; the check stopped at line 9";`, 1) + "\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestResWriterMatchesFormats(t *testing.T) {
	want := formatsBlock(t, "LINE;REFERENCE;STATUS;")
	var buf bytes.Buffer
	rw := NewResWriter(&buf)
	rows := []ResLine{
		{Line: 4, Reference: "PAY-0001", Status: StatusAccepted, TransactionID: "01JDQ6…", Amount: 3999, ExecutionDate: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)},
		{Line: 5, Reference: "PAY-0002", Status: StatusRefused, ReasonCode: "AM05", Reason: "duplicate payment reference", Amount: 5000},
	}
	for _, r := range rows {
		if err := rw.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := rw.Flush(); err != nil {
		t.Fatal(err)
	}
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestResWriterEmpty(t *testing.T) {
	var buf bytes.Buffer
	rw := NewResWriter(&buf)
	if buf.Len() != 0 {
		t.Fatal("title written before Write or Flush")
	}
	if err := rw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := rw.Flush(); err != nil {
		t.Fatal(err)
	}
	if buf.String() != resTitle {
		t.Errorf("got %q", buf.String())
	}
}

type brokenWriter struct{ n int }

var errBroken = errors.New("disk full")

func (f *brokenWriter) Write(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errBroken
	}
	f.n--
	return len(p), nil
}

func TestWritersReportWriteErrors(t *testing.T) {
	if err := WriteAck(&brokenWriter{}, Ack{}); !errors.Is(err, errBroken) {
		t.Errorf("WriteAck: %v", err)
	}
	if err := WriteErr(&brokenWriter{}, ErrHeader{}, []Issue{{Code: CodeEmptyFile}}); !errors.Is(err, errBroken) {
		t.Errorf("WriteErr: %v", err)
	}
	rw := NewResWriter(&brokenWriter{})
	for range 1000 { // more than the buffer holds
		if err := rw.Write(ResLine{Line: 1, Reference: strings.Repeat("x", 35)}); err != nil {
			break
		}
	}
	if err := rw.Flush(); !errors.Is(err, errBroken) {
		t.Errorf("ResWriter: %v", err)
	}
	if err := rw.Write(ResLine{}); !errors.Is(err, errBroken) {
		t.Errorf("ResWriter error not sticky: %v", err)
	}
}

func TestFormatTimestamp(t *testing.T) {
	tests := map[time.Time]string{
		time.Date(2026, 11, 27, 9, 14, 3, 999e6, time.UTC):                "2026-11-27T09:14:03Z",
		time.Date(2026, 11, 27, 0, 30, 0, 0, time.FixedZone("CET", 3600)): "2026-11-26T23:30:00Z",
	}
	for in, want := range tests {
		if got := FormatTimestamp(in); got != want {
			t.Errorf("%v: %q, want %q", in, got, want)
		}
	}
}
