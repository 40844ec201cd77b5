package formats

// Reader streams the typed records of a file that Validate accepted.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"time"
)

// ErrInvalidFile is wrapped by Reader errors caused by the content of the
// file (it was not validated, or changed since): the caller should have
// rejected it with Validate.
var ErrInvalidFile = errors.New("formats: file does not pass validation")

// Defaults applied to optional PAYMENTS values.
const (
	DefaultSequenceType = "RCUR"
	DefaultScheme       = SchemeCore
	DefaultCurrency     = "EUR"
)

// Reader streams the records of a file that Validate accepted.
type Reader struct {
	typ FileType
	csv *csvReader
	p8  *pain008Reader
}

// NewReader detects the file type and prepares to stream its records. It
// reads the merchant, totals and title lines of a CSV file; a file whose
// type cannot be told gives an error wrapping ErrInvalidFile.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(r, bufSize)
	d, err := detect(br)
	if err != nil {
		return nil, err
	}
	if d.issue != nil {
		return nil, fmt.Errorf("%w: %s: %s", ErrInvalidFile, d.issue.Code, d.issue.Message)
	}
	if d.typ == Pain008 {
		p, err := newPain008Reader(br)
		if err != nil {
			return nil, err
		}
		return &Reader{typ: Pain008, p8: p}, nil
	}
	c, err := newCSVReader(br, schemaFor(d.typ))
	if err != nil {
		return nil, err
	}
	return &Reader{typ: d.typ, csv: c}, nil
}

// Type is the detected file type.
func (r *Reader) Type() FileType { return r.typ }

// Next returns the next record, or io.EOF after the last: a Payment for
// PAYMENTS and pain.008, a Refund for REFUNDS, a MandateLine for MANDATES.
func (r *Reader) Next() (Record, error) {
	if r.p8 != nil {
		p, err := r.p8.Next()
		if err != nil {
			return nil, err
		}
		return p, nil
	}
	return r.csv.next()
}

// csvReader turns the data lines of a CSV file into records.
type csvReader struct {
	s    *schema
	sc   *lineScanner
	sp   splitter
	idx  []int
	n    int
	vals []string // by schema column; "" when absent or empty
}

func newCSVReader(br *bufio.Reader, s *schema) (*csvReader, error) {
	c := &csvReader{s: s, sc: newLineScanner(br), vals: make([]string, len(s.columns))}
	for c.sc.no < 3 {
		l, err := c.sc.next()
		if err == io.EOF {
			return nil, fmt.Errorf("%w: the file ends before its column titles", ErrInvalidFile)
		}
		if err != nil {
			return nil, err
		}
		if l.no < 3 {
			continue
		}
		if l.tooLong > 0 {
			return nil, fmt.Errorf("%w: line 3 is too long", ErrInvalidFile)
		}
		if _, err := c.sp.split(l.data); err != nil {
			return nil, fmt.Errorf("%w: line 3: bad quoting", ErrInvalidFile)
		}
		f := c.sp.fields
		if n := len(f); n > 1 && len(f[n-1]) == 0 && !c.sp.quoted[n-1] {
			f = f[:n-1]
		}
		c.n = len(f)
		c.idx = make([]int, len(s.columns))
		for i := range c.idx {
			c.idx[i] = -1
		}
		for i, t := range f {
			if k := s.col(string(t)); k >= 0 && c.idx[k] < 0 {
				c.idx[k] = i
			}
		}
	}
	return c, nil
}

func (c *csvReader) next() (Record, error) {
	for {
		l, err := c.sc.next()
		if err != nil {
			return nil, err // io.EOF at the end
		}
		if l.tooLong > 0 {
			return nil, fmt.Errorf("%w: line %d is too long", ErrInvalidFile, l.no)
		}
		if isBlankLine(l.data) {
			continue
		}
		if _, err := c.sp.split(l.data); err != nil {
			return nil, fmt.Errorf("%w: line %d: bad quoting", ErrInvalidFile, l.no)
		}
		c.sp.dropTrailing(c.n)
		if len(c.sp.fields) != c.n {
			return nil, fmt.Errorf("%w: line %d has %d values, expected %d", ErrInvalidFile, l.no, len(c.sp.fields), c.n)
		}
		// One string for the line; unquoted values are substrings of it
		// (a field's offset in the line follows from its capacity), so a
		// record costs one allocation for its text, not one per value.
		line := string(l.data)
		for k := range c.vals {
			c.vals[k] = ""
			i := c.idx[k]
			if i < 0 {
				continue
			}
			f := c.sp.fields[i]
			if c.sp.quoted[i] {
				c.vals[k] = string(f)
				continue
			}
			off := cap(l.data) - cap(f)
			c.vals[k] = line[off : off+len(f)]
		}
		return c.build(l.no)
	}
}

// val is the value of a column of the current line; colIndex is resolved
// once per schema and column name, not per line.
func (c *csvReader) val(name string) string { return c.vals[c.s.colIndex(name)] }

func (c *csvReader) build(line int) (Record, error) {
	var firstErr error
	amount := func() int64 {
		a, err := ParseAmount(c.val(colAmount))
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("%w: line %d: AMOUNT: %v", ErrInvalidFile, line, err)
		}
		return a
	}
	date := func(name string) time.Time {
		s := c.val(name)
		if s == "" {
			return time.Time{}
		}
		d, err := ParseDate(s)
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("%w: line %d: %s: %v", ErrInvalidFile, line, name, err)
		}
		return d
	}
	or := func(s, def string) string {
		if s == "" {
			return def
		}
		return s
	}
	var rec Record
	switch c.s.typ {
	case Payments:
		rec = Payment{
			Line:          line,
			Reference:     c.val(colPaymentRef),
			Amount:        amount(),
			MandateRef:    c.val(colMandateRef),
			MandateSigned: date(colSignDate),
			DebtorName:    c.val(colDebtorName),
			DebtorIBAN:    NormalizeIBAN(c.val(colDebtorIBAN)),
			DebtorBIC:     NormalizeIBAN(c.val(colDebtorBIC)),
			SequenceType:  or(c.val(colSequenceType), DefaultSequenceType),
			Scheme:        or(c.val(colScheme), DefaultScheme),
			ExecutionDate: date(colExecutionDate),
			Label:         c.val(colLabel),
			ClientRef:     c.val(colClientRef),
			InvoiceRef:    c.val(colInvoiceRef),
		}
	case Refunds:
		rec = Refund{
			Line:       line,
			Reference:  c.val(colRefundRef),
			PaymentRef: c.val(colPaymentRef),
			Amount:     amount(),
			Label:      c.val(colLabel),
		}
	case Mandates:
		action := c.val(colAction)
		scheme := c.val(colScheme)
		if action == ActionCreate {
			scheme = or(scheme, DefaultScheme) // AMEND: empty = unchanged
		}
		rec = MandateLine{
			Line:          line,
			Action:        action,
			MandateRef:    c.val(colMandateRef),
			MandateSigned: date(colSignDate),
			DebtorName:    c.val(colDebtorName),
			DebtorIBAN:    NormalizeIBAN(c.val(colDebtorIBAN)),
			DebtorBIC:     NormalizeIBAN(c.val(colDebtorBIC)),
			Scheme:        scheme,
			ClientRef:     c.val(colClientRef),
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return rec, nil
}
