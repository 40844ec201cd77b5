package formats

// Writers of the files fileapi answers with (FORMATS.md §3): .ack, .err and
// .res. UTF-8 without BOM, LF line ends, ';' after every value including the
// last, and quotes only around a value that needs them.

import (
	"bufio"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Title lines of the output files.
const (
	ackTitle = "FILE_ID;FILE_NAME;FILE_TYPE;RECEIVED_AT;SHA256;LINES;TOTAL_AMOUNT;CURRENCY;STATUS;\n"
	errTitle = "FILE_ID;FILE_NAME;RECEIVED_AT;LINE;COLUMN;CODE;MESSAGE;\n"
	resTitle = "LINE;REFERENCE;STATUS;REASON_CODE;REASON;TRANSACTION_ID;AMOUNT;EXECUTION_DATE;\n"
)

// StatusAcknowledged is the STATUS of every .ack.
const StatusAcknowledged = "ACKNOWLEDGED"

// .res statuses.
const (
	StatusAccepted = "ACCEPTED"
	StatusRefused  = "REFUSED"
)

// FormatTimestamp writes t as RFC 3339 in UTC with whole seconds,
// "2026-11-27T09:14:03Z", the RECEIVED_AT form.
func FormatTimestamp(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05Z")
}

// rowWriter appends values to a line buffer and writes whole lines.
type rowWriter struct {
	buf []byte
}

// field appends one value and its ';', quoting it only when it holds ';',
// '"', CR or LF ("" doubles a quote inside).
func (r *rowWriter) field(s string) {
	if strings.ContainsAny(s, ";\"\r\n") {
		r.buf = append(r.buf, '"')
		for i := 0; i < len(s); i++ {
			if s[i] == '"' {
				r.buf = append(r.buf, '"')
			}
			r.buf = append(r.buf, s[i])
		}
		r.buf = append(r.buf, '"', ';')
		return
	}
	r.buf = append(r.buf, s...)
	r.buf = append(r.buf, ';')
}

func (r *rowWriter) int(n int) {
	r.buf = strconv.AppendInt(r.buf, int64(n), 10)
	r.buf = append(r.buf, ';')
}

func (r *rowWriter) amount(cents int64) {
	r.buf = appendAmount(r.buf, cents)
	r.buf = append(r.buf, ';')
}

func (r *rowWriter) end() { r.buf = append(r.buf, '\n') }

// WriteAck writes an .ack file: the title line and one row. An empty
// Status is written as ACKNOWLEDGED and an empty Currency as EUR.
func WriteAck(w io.Writer, a Ack) error {
	var r rowWriter
	r.buf = append(r.buf, ackTitle...)
	status, ccy := a.Status, a.Currency
	if status == "" {
		status = StatusAcknowledged
	}
	if ccy == "" {
		ccy = "EUR"
	}
	r.field(a.FileID)
	r.field(a.FileName)
	r.field(string(a.Type))
	r.field(FormatTimestamp(a.ReceivedAt))
	r.field(a.SHA256)
	r.int(a.Lines)
	r.amount(a.Total)
	r.field(ccy)
	r.field(status)
	r.end()
	_, err := w.Write(r.buf)
	return err
}

// WriteErr writes an .err file: the title line then one row per issue, in
// line order (issues of the whole file, Line 0, first with an empty LINE;
// the order among issues of one line is kept).
func WriteErr(w io.Writer, h ErrHeader, issues []Issue) error {
	sorted := slices.Clone(issues)
	slices.SortStableFunc(sorted, func(a, b Issue) int {
		// TOO_MANY_ERRORS closes the file whatever its line.
		if (a.Code == CodeTooManyErrors) != (b.Code == CodeTooManyErrors) {
			if a.Code == CodeTooManyErrors {
				return 1
			}
			return -1
		}
		return a.Line - b.Line
	})
	bw := bufio.NewWriter(w)
	var r rowWriter
	r.buf = append(r.buf, errTitle...)
	at := FormatTimestamp(h.ReceivedAt)
	for _, is := range sorted {
		r.field(h.FileID)
		r.field(h.FileName)
		r.field(at)
		if is.Line > 0 {
			r.int(is.Line)
		} else {
			r.field("")
		}
		r.field(is.Column)
		r.field(is.Code)
		r.field(is.Message)
		r.end()
		if _, err := bw.Write(r.buf); err != nil {
			return err
		}
		r.buf = r.buf[:0]
	}
	if _, err := bw.Write(r.buf); err != nil {
		return err
	}
	return bw.Flush()
}

// ResWriter writes a .res file row by row through a buffer. The first
// error is sticky: later calls return it.
type ResWriter struct {
	bw     *bufio.Writer
	r      rowWriter
	titled bool
	err    error
}

// NewResWriter writes the title line on the first Write or Flush.
func NewResWriter(w io.Writer) *ResWriter { return &ResWriter{bw: bufio.NewWriter(w)} }

func (rw *ResWriter) title() {
	if !rw.titled && rw.err == nil {
		rw.titled = true
		_, rw.err = rw.bw.WriteString(resTitle)
	}
}

// Write writes one row: AMOUNT with 2 decimals, EXECUTION_DATE as
// YYYY-MM-DD or empty for the zero time.
func (rw *ResWriter) Write(l ResLine) error {
	rw.title()
	if rw.err != nil {
		return rw.err
	}
	r := &rw.r
	r.buf = r.buf[:0]
	r.int(l.Line)
	r.field(l.Reference)
	r.field(l.Status)
	r.field(l.ReasonCode)
	r.field(l.Reason)
	r.field(l.TransactionID)
	r.amount(l.Amount)
	r.field(FormatDate(l.ExecutionDate))
	r.end()
	_, rw.err = rw.bw.Write(r.buf)
	return rw.err
}

// Flush writes buffered rows (and the title line if nothing was written).
func (rw *ResWriter) Flush() error {
	rw.title()
	if rw.err != nil {
		return rw.err
	}
	rw.err = rw.bw.Flush()
	return rw.err
}
