package formats

// Daily account statement, CSV (FORMATS.md §4.1), in SlimPay's layout.
//
// The statement names its movement count on line 2 and its new balance on
// the last line, yet a day may hold a million movements: the writers stream
// them and take the totals up front in the StatementHeader (the caller reads
// its ledger twice: once to sum, once to write). Close checks that the
// movements written add up to what the header announced, so a ledger that
// changed between the two passes yields an error instead of a statement
// whose balances do not match its lines.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"
)

// ErrStatementTotals is returned by Close when the movements written do not
// match the counts and sums of the StatementHeader.
var ErrStatementTotals = errors.New("formats: statement movements do not match the header totals")

// ErrStatementClosed is returned when Write is called after Close, or
// Close twice.
var ErrStatementClosed = errors.New("formats: statement writer is closed")

// Movement is one line of a statement: one booked movement of the
// merchant's balance. Amount is unsigned; Credit gives the side.
type Movement struct {
	ExecutionDate        time.Time // booking day (a date)
	ValueDate            time.Time // a date
	TransactionID        string
	ClientRef            string
	DebtorName           string
	OpCode               string // SDD, RET, REB, FEE-SDD, FEE-RET, FEE-REB
	Amount               int64  // cents, > 0
	Credit               bool   // true: the balance goes up
	Label                string // remittance label; for RET the reason ("AM04 insufficient funds")
	InvoiceRef           string
	InitialTransactionID string // RET, REB, fees: the original debit's transaction id
	Reference            string // EndToEndId: payment or refund reference (camt only)
	MandateRef           string // camt only
	ReasonCode           string // RET: return or refund-request reason code (camt RtrInf)
}

// StatementTotals are the counts and sums of a day's movements. Add every
// movement to get them in a first pass over the ledger.
type StatementTotals struct {
	CreditCount int
	CreditSum   int64 // cents
	DebitCount  int
	DebitSum    int64 // cents
}

// Add counts one movement.
func (t *StatementTotals) Add(m Movement) {
	if m.Credit {
		t.CreditCount++
		t.CreditSum += m.Amount
	} else {
		t.DebitCount++
		t.DebitSum += m.Amount
	}
}

// Count is the number of movements.
func (t StatementTotals) Count() int { return t.CreditCount + t.DebitCount }

// StatementHeader is what a statement says besides its movements. The CSV
// writer uses the first six fields; the camt.053 writer uses them all.
type StatementHeader struct {
	CreditorRef     string    // identifies the merchant's account
	CompanyName     string    // the merchant's name
	Date            time.Time // the business day reported (a date)
	PreviousBalance int64     // cents, signed: the new balance of the previous statement
	PreviousDate    time.Time // the previous statement's day (the day before creation for the first)
	Totals          StatementTotals

	// camt.053 only.
	MessageID string    // GrpHdr/MsgId, 1-35 characters; "" = StatementID(CreditorRef, Date)
	CreatedAt time.Time // GrpHdr/CreDtTm and Stmt/CreDtTm; written with its own offset
	SeqNb     uint64    // Stmt/ElctrncSeqNb: 1 for the merchant's first statement; 0 = omitted
	From, To  time.Time // Stmt/FrToDt: the booking period (start and end of the day); zero = omitted
}

// NewBalance is the previous balance plus credits minus debits.
func (h StatementHeader) NewBalance() int64 {
	return h.PreviousBalance + h.Totals.CreditSum - h.Totals.DebitSum
}

// StatementFileName is STATEMENT_<creditor reference>_<YYYYMMDD> plus ext
// (".csv" or ".xml").
func StatementFileName(creditorRef string, day time.Time, ext string) string {
	return "STATEMENT_" + creditorRef + "_" + day.Format("20060102") + ext
}

// statementColumns is the title line, byte for byte as FORMATS.md §4.1.
const statementColumns = `"Line";"Execution_Date";"Transaction_ID";"Client_Reference";"Debtor_Name";"OP_Code";"Amount";"Value_Date";"Credit_value";"Debit_value";"Label";"Invoice_Reference";"Initial_Transaction_ID";` + "\n"

// StatementCSVWriter streams a STATEMENT_*.csv file.
type StatementCSVWriter struct {
	w      *bufio.Writer
	h      StatementHeader
	got    StatementTotals
	line   int
	buf    []byte
	closed bool
	err    error
}

// NewStatementCSVWriter writes the title, the summary line and the previous
// balance; then call Write for every movement, in booking order, and Close.
func NewStatementCSVWriter(w io.Writer, h StatementHeader) (*StatementCSVWriter, error) {
	sw := &StatementCSVWriter{w: bufio.NewWriterSize(w, 64<<10), h: h, buf: make([]byte, 0, 512)}
	b := append(sw.buf[:0], statementColumns...)
	// Line 2: number of movements, report date, empty, company name.
	b = repQuoted(b, strconv.Itoa(h.Totals.Count()))
	b = append(b, ';')
	b = repQuoted(b, FormatDate(h.Date))
	b = append(b, ';', ';')
	b = repQuoted(b, h.CompanyName)
	b = append(b, ";\n\n"...)
	b = repBalanceLine(b, "Previous balance", h.PreviousDate, h.PreviousBalance)
	b = append(b, '\n')
	sw.buf = b
	if _, err := sw.w.Write(b); err != nil {
		return nil, err
	}
	return sw, nil
}

// Write writes one movement line.
func (sw *StatementCSVWriter) Write(m Movement) error {
	if sw.closed {
		return ErrStatementClosed
	}
	if sw.err != nil {
		return sw.err
	}
	sw.line++
	sw.got.Add(m)
	b := sw.buf[:0]
	b = append(b, '"')
	b = strconv.AppendInt(b, int64(sw.line), 10)
	b = append(b, '"', ';')
	b = repQuotedDate(b, m.ExecutionDate)
	for _, v := range [...]string{m.TransactionID, m.ClientRef, m.DebtorName, m.OpCode} {
		b = append(b, ';')
		b = repQuoted(b, v)
	}
	b = append(b, ';')
	b = repQuotedCents(b, m.Amount)
	b = append(b, ';')
	b = repQuotedDate(b, m.ValueDate)
	b = append(b, ';')
	if m.Credit {
		b = repQuotedCents(b, m.Amount)
		b = append(b, ';')
	} else {
		b = append(b, ';')
		b = repQuotedCents(b, m.Amount)
	}
	for _, v := range [...]string{m.Label, m.InvoiceRef, m.InitialTransactionID} {
		b = append(b, ';')
		b = repQuoted(b, v)
	}
	b = append(b, ";\n"...)
	sw.buf = b
	_, sw.err = sw.w.Write(b)
	return sw.err
}

// Close writes the new balance line and flushes. It fails with
// ErrStatementTotals when the movements written differ from the header's
// totals; the caller must then discard the output.
func (sw *StatementCSVWriter) Close() error {
	if sw.closed {
		return ErrStatementClosed
	}
	sw.closed = true
	if sw.err != nil {
		return sw.err
	}
	if sw.got != sw.h.Totals {
		return fmt.Errorf("%w: header %+v, written %+v", ErrStatementTotals, sw.h.Totals, sw.got)
	}
	b := repBalanceLine(sw.buf[:0], "New balance", sw.h.Date, sw.h.NewBalance())
	if _, err := sw.w.Write(b); err != nil {
		return err
	}
	return sw.w.Flush()
}

// repBalanceLine is the previous or new balance line. A balance sits in the
// Credit_value column, as in the example; a negative balance (returns
// exceeding credits) sits unsigned in the Debit_value column, the same
// side convention as the movements.
func repBalanceLine(b []byte, label string, day time.Time, balance int64) []byte {
	b = append(b, ";;;;"...)
	b = repQuoted(b, label)
	b = append(b, ";;;"...)
	b = repQuoted(b, FormatDate(day))
	b = append(b, ';')
	if balance >= 0 {
		b = repQuotedCents(b, balance)
		b = append(b, ';')
	} else {
		b = append(b, ';')
		b = repQuotedCents(b, -balance)
		b = append(b, ';')
	}
	return append(b, '\n')
}

// repQuoted appends v double-quoted ("" inside for "), or nothing for an
// empty value: the statement quotes every value and leaves empty fields
// bare. Control characters (a line break in a label would split the line
// for naive readers) become spaces.
func repQuoted(b []byte, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, '"')
	b = repAppendText(b, v, '"')
	return append(b, '"')
}

// repAppendText appends v with control characters turned into spaces,
// invalid UTF-8 into U+FFFD, and quote (if not 0) doubled.
func repAppendText(b []byte, v string, quote byte) []byte {
	plain := true
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x7f || c == quote {
			plain = false
			break
		}
	}
	if plain {
		return append(b, v...)
	}
	for i := 0; i < len(v); {
		c := v[i]
		if c < utf8.RuneSelf {
			switch {
			case c < 0x20 || c == 0x7f:
				b = append(b, ' ')
			case c == quote:
				b = append(b, c, c)
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(v[i:])
		if r == utf8.RuneError && n == 1 || r >= 0x80 && r < 0xa0 {
			if r == utf8.RuneError {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, ' ')
			}
		} else {
			b = append(b, v[i:i+n]...)
		}
		i += n
	}
	return b
}

func repQuotedCents(b []byte, cents int64) []byte {
	b = append(b, '"')
	b = appendAmount(b, cents)
	return append(b, '"')
}

// repQuotedDate appends "YYYY-MM-DD", or nothing for the zero time.
func repQuotedDate(b []byte, d time.Time) []byte {
	if d.IsZero() {
		return b
	}
	b = append(b, '"')
	b = repAppendDate(b, d)
	return append(b, '"')
}

// repAppendDate appends YYYY-MM-DD of the calendar day in d's own location,
// without time.Format's allocation (two dates on each of a million lines).
func repAppendDate(b []byte, d time.Time) []byte {
	y, m, dd := d.Date()
	if y < 0 || y > 9999 {
		return append(b, FormatDate(d)...)
	}
	return append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+int(m)/10), byte('0'+int(m)%10), '-', byte('0'+dd/10), byte('0'+dd%10))
}
