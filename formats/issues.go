package formats

// Payment-issues report (FORMATS.md §4.3): a 0 header line, one 1 line per
// reject, return or refund request of the day, a 9 trailer line. Like the
// statement it streams: the count and total go in the header up front and
// Close checks them against the lines written.

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// IssueLine is one reject, return or refund request, a 1 line of an ISSUES
// report.
type IssueLine struct {
	ID             string // issue id
	Kind           string // REJECT, RETURN or REFUND_REQUEST
	PaymentRef     string
	TransactionID  string
	MandateRef     string
	ClientRef      string
	DebtorName     string
	DebtorIBAN     string
	Amount         int64     // cents
	CollectionDate time.Time // a date
	IssueDate      time.Time // a date
	ReasonCode     string
	ReasonLabel    string
}

// IssuesHeader is what the 0 and 9 lines say.
type IssuesHeader struct {
	CreditorRef string
	CompanyName string
	Date        time.Time // the business day reported
	Count       int       // number of issues
	Total       int64     // sum of their amounts, cents
}

// IssuesFileName is ISSUES_<creditor reference>_<YYYYMMDD>.csv.
func IssuesFileName(creditorRef string, day time.Time) string {
	return "ISSUES_" + creditorRef + "_" + day.Format("20060102") + ".csv"
}

// IssuesFileRef is the file reference of the header line:
// ISS-<YYYYMMDD>-<creditor reference>.
func IssuesFileRef(creditorRef string, day time.Time) string {
	return "ISS-" + day.Format("20060102") + "-" + creditorRef
}

// IssuesWriter streams an ISSUES_*.csv file.
type IssuesWriter struct {
	w      *bufio.Writer
	h      IssuesHeader
	n      int
	total  int64
	buf    []byte
	closed bool
	err    error
}

// NewIssuesWriter writes the header line; then call Write for every issue
// and Close.
func NewIssuesWriter(w io.Writer, h IssuesHeader) (*IssuesWriter, error) {
	iw := &IssuesWriter{w: bufio.NewWriterSize(w, 32<<10), h: h, buf: make([]byte, 0, 512)}
	b := append(iw.buf[:0], "0;"...)
	b = repCSVField(b, h.CreditorRef)
	b = append(b, ';')
	b = repCSVField(b, IssuesFileRef(h.CreditorRef, h.Date))
	b = append(b, ';')
	b = repCSVField(b, h.CompanyName)
	b = append(b, ";;;;"...)
	b = append(b, FormatDate(h.Date)...)
	b = append(b, ';')
	b = strconv.AppendInt(b, int64(h.Count), 10)
	b = append(b, ";\n"...)
	iw.buf = b
	if _, err := iw.w.Write(b); err != nil {
		return nil, err
	}
	return iw, nil
}

// Write writes one issue line.
func (iw *IssuesWriter) Write(l IssueLine) error {
	if iw.closed {
		return ErrStatementClosed
	}
	if iw.err != nil {
		return iw.err
	}
	iw.n++
	iw.total += l.Amount
	b := append(iw.buf[:0], "1;"...)
	for _, v := range [...]string{l.ID, l.Kind, l.PaymentRef, l.TransactionID, l.MandateRef, l.ClientRef, l.DebtorName, l.DebtorIBAN} {
		b = repCSVField(b, v)
		b = append(b, ';')
	}
	b = appendAmount(b, l.Amount)
	b = append(b, ";EUR;"...)
	b = append(b, FormatDate(l.CollectionDate)...)
	b = append(b, ';')
	b = append(b, FormatDate(l.IssueDate)...)
	b = append(b, ';')
	b = repCSVField(b, l.ReasonCode)
	b = append(b, ';')
	b = repCSVField(b, l.ReasonLabel)
	b = append(b, ";\n"...)
	iw.buf = b
	_, iw.err = iw.w.Write(b)
	return iw.err
}

// Close writes the trailer line and flushes. It fails with
// ErrStatementTotals when the issues written differ from the header's count
// or total.
func (iw *IssuesWriter) Close() error {
	if iw.closed {
		return ErrStatementClosed
	}
	iw.closed = true
	if iw.err != nil {
		return iw.err
	}
	if iw.n != iw.h.Count || iw.total != iw.h.Total {
		return fmt.Errorf("%w: header %d issues for %d cents, written %d for %d", ErrStatementTotals, iw.h.Count, iw.h.Total, iw.n, iw.total)
	}
	b := append(iw.buf[:0], "9;"...)
	b = strconv.AppendInt(b, int64(iw.n), 10)
	b = append(b, ';')
	b = appendAmount(b, iw.total)
	b = append(b, ";\n"...)
	if _, err := iw.w.Write(b); err != nil {
		return err
	}
	return iw.w.Flush()
}

// repCSVField appends v for an output CSV that quotes only where needed: a
// value holding ';' or '"' is double-quoted with '"' doubled; control
// characters become spaces so a value never splits a line.
func repCSVField(b []byte, v string) []byte {
	if !strings.ContainsAny(v, ";\"") {
		return repAppendText(b, v, 0)
	}
	b = append(b, '"')
	b = repAppendText(b, v, '"')
	return append(b, '"')
}
