package formats

// Column definitions of the three CSV types (FORMATS.md §2.1-2.3) and the
// check of one value against its column.

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// colKind is the format of a column's values.
type colKind uint8

const (
	kSEPAText colKind = iota // reference or identifier: SEPA set + slash rules
	kText                    // names and labels: any printable UTF-8
	kAmount
	kDate     // any real date
	kSignDate // a date not after Options.Today
	kIBAN     // CSV form: spaces and lower case allowed, normalised first
	kBIC
	kEnum
)

// column describes one column title.
type column struct {
	name     string
	required bool // the column must be present and every value non-empty
	max      int  // characters (IBAN and BIC: after normalisation)
	kind     colKind
	values   []string // kEnum
}

// Column titles.
const (
	colPaymentRef    = "PAYMENT_REFERENCE"
	colAmount        = "AMOUNT"
	colMandateRef    = "MANDATE_REFERENCE"
	colSignDate      = "MANDATE_SIGNATURE_DATE"
	colDebtorName    = "DEBTOR_NAME"
	colDebtorIBAN    = "DEBTOR_IBAN"
	colDebtorBIC     = "DEBTOR_BIC"
	colDirection     = "PAYMENT_DIRECTION"
	colCurrency      = "CURRENCY"
	colSequenceType  = "SEQUENCE_TYPE"
	colScheme        = "SCHEME"
	colExecutionDate = "EXECUTION_DATE"
	colLabel         = "LABEL"
	colClientRef     = "CLIENT_REFERENCE"
	colInvoiceRef    = "INVOICE_REFERENCE"
	colRefundRef     = "REFUND_REFERENCE"
	colAction        = "ACTION"
)

// Mandate actions.
const (
	ActionCreate = "CREATE"
	ActionAmend  = "AMEND"
	ActionRevoke = "REVOKE"
)

var (
	sequenceTypes = []string{"FRST", "RCUR", "OOFF", "FNAL"}
	schemes       = []string{SchemeCore, SchemeB2B}
	actions       = []string{ActionCreate, ActionAmend, ActionRevoke}
)

// schema is one CSV file type.
type schema struct {
	typ       FileType
	direction string // second field of the totals line
	columns   []column
	unique    int // index in columns of the column unique in the file; -1 none
	amount    int // index of AMOUNT; -1 none
	byName    map[string]int
}

// colIndex is col through a map built with the schema (for per-record
// lookups); -1 when the schema has no such column.
func (s *schema) colIndex(name string) int {
	if i, ok := s.byName[name]; ok {
		return i
	}
	return -1
}

func (s *schema) col(name string) int {
	for i, c := range s.columns {
		if c.name == name {
			return i
		}
	}
	return -1
}

var paymentsSchema = newSchema(Payments, "IN", colPaymentRef, []column{
	{name: colPaymentRef, required: true, max: 35, kind: kSEPAText},
	{name: colAmount, required: true, max: 12, kind: kAmount},
	{name: colMandateRef, required: true, max: 35, kind: kSEPAText},
	{name: colSignDate, required: true, max: 10, kind: kSignDate},
	{name: colDebtorName, required: true, max: 70, kind: kText},
	{name: colDebtorIBAN, required: true, max: 34, kind: kIBAN},
	{name: colDebtorBIC, max: 11, kind: kBIC},
	{name: colDirection, max: 35, kind: kEnum, values: []string{"IN"}},
	{name: colCurrency, max: 3, kind: kEnum, values: []string{"EUR"}},
	{name: colSequenceType, max: 4, kind: kEnum, values: sequenceTypes},
	{name: colScheme, max: 35, kind: kEnum, values: schemes},
	{name: colExecutionDate, max: 10, kind: kDate},
	{name: colLabel, max: 140, kind: kText},
	{name: colClientRef, max: 35, kind: kSEPAText},
	{name: colInvoiceRef, max: 35, kind: kSEPAText},
})

var refundsSchema = newSchema(Refunds, "OUT", colRefundRef, []column{
	{name: colRefundRef, required: true, max: 35, kind: kSEPAText},
	{name: colPaymentRef, required: true, max: 35, kind: kSEPAText},
	{name: colAmount, required: true, max: 12, kind: kAmount},
	{name: colCurrency, max: 3, kind: kEnum, values: []string{"EUR"}},
	{name: colLabel, max: 140, kind: kText},
})

// MANDATES: the columns CREATE needs are optional as columns (a file of
// REVOKE lines does not need them); each line is checked for what its
// action needs.
var mandatesSchema = newSchema(Mandates, "MANDATE", "", []column{
	{name: colAction, required: true, max: 6, kind: kEnum, values: actions},
	{name: colMandateRef, required: true, max: 35, kind: kSEPAText},
	{name: colSignDate, max: 10, kind: kSignDate},
	{name: colDebtorName, max: 70, kind: kText},
	{name: colDebtorIBAN, max: 34, kind: kIBAN},
	{name: colDebtorBIC, max: 11, kind: kBIC},
	{name: colScheme, max: 35, kind: kEnum, values: schemes},
	{name: colClientRef, max: 35, kind: kSEPAText},
})

func newSchema(t FileType, dir, unique string, cols []column) *schema {
	s := &schema{typ: t, direction: dir, columns: cols, byName: make(map[string]int, len(cols))}
	for i, c := range cols {
		s.byName[c.name] = i
	}
	s.unique = s.col(unique)
	s.amount = s.col(colAmount)
	return s
}

func schemaFor(t FileType) *schema {
	switch t {
	case Payments:
		return paymentsSchema
	case Refunds:
		return refundsSchema
	case Mandates:
		return mandatesSchema
	}
	return nil
}

// valueIssue checks one non-empty value v of column c and returns the code
// and message of its first problem ("" when valid). cents is set for a
// valid amount.
func valueIssue(c *column, v []byte, today time.Time, cents *int64) (code, msg string) {
	s := bytesString(v)
	switch c.kind {
	case kIBAN:
		s = NormalizeIBAN(s)
		if n := utf8.RuneCountInString(s); n > c.max {
			return CodeTooLong, fmt.Sprintf("%d characters, at most %d allowed", n, c.max)
		}
		if err := ValidateIBAN(s); err != nil {
			return CodeInvalidIBAN, err.Error()
		}
		return "", ""
	case kBIC:
		s = NormalizeIBAN(s) // same CSV leniency: blanks dropped, upper case
		if n := utf8.RuneCountInString(s); n > c.max {
			return CodeTooLong, fmt.Sprintf("%d characters, at most %d allowed", n, c.max)
		}
		if err := ValidateBIC(s); err != nil {
			return CodeInvalidBIC, err.Error()
		}
		return "", ""
	}
	// Enumerations: "RCURR" is better told it is not a sequence type.
	if len(v) > c.max && c.kind != kEnum { // bytes ≥ characters: count only when it can matter
		if n := utf8.RuneCount(v); n > c.max {
			return CodeTooLong, fmt.Sprintf("%d characters, at most %d allowed", n, c.max)
		}
	}
	switch c.kind {
	case kSEPAText:
		if err := ValidateSEPAText(s); err != nil {
			return CodeInvalidCharset, err.Error()
		}
	case kText:
		if r, ok := controlRune(v); ok {
			return CodeInvalidCharset, fmt.Sprintf("character %s is not allowed", describeRune(r))
		}
	case kAmount:
		a, err := ParseAmount(s)
		if err != nil {
			return CodeInvalidAmount, err.Error()
		}
		*cents = a
	case kDate, kSignDate:
		d, err := ParseDate(s)
		if err != nil {
			return CodeInvalidDate, err.Error()
		}
		if c.kind == kSignDate && !today.IsZero() && d.After(dayOf(today)) {
			return CodeInvalidDate, fmt.Sprintf("signature date %s is after the upload day %s", s, dayOf(today).Format(time.DateOnly))
		}
	case kEnum:
		for _, e := range c.values {
			if s == e {
				return "", ""
			}
		}
		if len(c.values) == 1 {
			return CodeInvalidValue, fmt.Sprintf("%s must be %s, not %s", c.name, c.values[0], quoteShort(s))
		}
		return CodeInvalidValue, fmt.Sprintf("%s must be one of %s, not %s", c.name, strings.Join(c.values, ", "), quoteShort(s))
	}
	return "", ""
}

// dayOf is the calendar day of t (in t's location) at UTC midnight.
func dayOf(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// controlRune finds a control character (C0, DEL, C1) in valid UTF-8 text:
// names and labels may hold any printable character, but a tab or a stray
// carriage return is never meant.
func controlRune(v []byte) (rune, bool) {
	for i := 0; i < len(v); {
		c := v[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return rune(c), true
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(v[i:])
		if r >= 0x80 && r < 0xA0 {
			return r, true
		}
		i += n
	}
	return 0, false
}
