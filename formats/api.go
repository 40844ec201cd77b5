// Package formats parses, validates and writes every file fileapi exchanges
// with merchants (FORMATS.md). It is pure: it takes readers and writers and
// knows nothing of storage, time zones, SFTP or a merchant's history.
//
// This file holds the types shared with the batch package. The contract:
//   - Validate streams a whole input file once, in constant memory, and
//     returns its Summary plus every Issue found (capped at MaxIssues, then one
//     TOO_MANY_ERRORS issue). A file with no issue is acknowledged.
//   - NewReader streams the records of a file that Validate accepted, one at
//     a time, for processing. Records carry input line numbers (for pain.008,
//     the 1-based position of the transaction in the file).
//   - The writers produce .ack, .err and .res files byte for byte as
//     FORMATS.md §3 shows.
package formats

import "time"

// FileType is what the content of a file says it is.
type FileType string

// File types, as written in the FILE_TYPE column of an .ack.
const (
	Payments FileType = "PAYMENTS"
	Refunds  FileType = "REFUNDS"
	Mandates FileType = "MANDATES"
	Pain008  FileType = "PAIN008" // pain.008.001.02 or pain.008.001.08
)

// MaxIssues is how many errors a validation collects before it stops with
// TOO_MANY_ERRORS.
const MaxIssues = 1000

// Issue is one validation error, one row of an .err file.
type Issue struct {
	Line    int    // 1-based input line; 0 for errors of the whole file
	Column  string // column title, or XML element path; "" when none
	Code    string // a code of FORMATS.md §2.5, e.g. "INVALID_IBAN"
	Message string // one readable sentence, no trailing period needed
}

// Error codes of FORMATS.md §2.5.
const (
	CodeEncoding          = "ENCODING"
	CodeEmptyFile         = "EMPTY_FILE"
	CodeUnknownFileType   = "UNKNOWN_FILE_TYPE"
	CodeHeader            = "HEADER"
	CodeCreditorMismatch  = "CREDITOR_MISMATCH"
	CodeTotalsLine        = "TOTALS_LINE"
	CodeCountMismatch     = "COUNT_MISMATCH"
	CodeTotalMismatch     = "TOTAL_MISMATCH"
	CodeUnknownColumn     = "UNKNOWN_COLUMN"
	CodeDuplicateColumn   = "DUPLICATE_COLUMN"
	CodeMissingColumn     = "MISSING_COLUMN"
	CodeFieldCount        = "FIELD_COUNT"
	CodeMissingValue      = "MISSING_VALUE"
	CodeTooLong           = "TOO_LONG"
	CodeInvalidAmount     = "INVALID_AMOUNT"
	CodeInvalidDate       = "INVALID_DATE"
	CodeInvalidIBAN       = "INVALID_IBAN"
	CodeInvalidBIC        = "INVALID_BIC"
	CodeInvalidCharset    = "INVALID_CHARSET"
	CodeInvalidValue      = "INVALID_VALUE"
	CodeDuplicateRef      = "DUPLICATE_REFERENCE"
	CodeLineTooLong       = "LINE_TOO_LONG"
	CodeXMLSyntax         = "XML_SYNTAX"
	CodeXMLStructure      = "XML_STRUCTURE"
	CodeDuplicateFile     = "DUPLICATE_FILE"      // set by batch, not by Validate
	CodeDuplicateFileName = "DUPLICATE_FILE_NAME" // set by batch
	CodeFileTooLarge      = "FILE_TOO_LARGE"      // set by batch/sftpd
	CodeTooManyErrors     = "TOO_MANY_ERRORS"
)

// Options are the facts about the uploading merchant and the day that
// validation needs. Validation never looks at a clock itself.
type Options struct {
	CreditorRef string    // the merchant's creditor reference (header line must match)
	CreditorID  string    // the merchant's SEPA creditor identifier (ICS); "" = not registered
	Today       time.Time // the upload day (a date; only Y-M-D is used): signature dates may not be after it
	MaxIssues   int       // errors collected before TOO_MANY_ERRORS; 0 = MaxIssues
}

// Summary describes a valid file: what an .ack reports.
type Summary struct {
	Type     FileType
	Lines    int   // number of records (debits, refunds or mandate lines)
	Total    int64 // sum of the amounts in cents (0 for MANDATES)
	Currency string
}

// Record is one of Payment, Refund or MandateLine.
type Record interface{ record() }

// Payment is one direct debit: a PAYMENTS line or a pain.008 DrctDbtTxInf.
type Payment struct {
	Line          int // input line (pain.008: 1-based transaction position)
	Reference     string
	Amount        int64 // cents
	MandateRef    string
	MandateSigned time.Time // date, UTC midnight
	DebtorName    string
	DebtorIBAN    string // normalised: no spaces, upper case
	DebtorBIC     string
	SequenceType  string    // FRST, RCUR, OOFF, FNAL (default RCUR)
	Scheme        string    // SEPA.DIRECT_DEBIT.CORE or SEPA.DIRECT_DEBIT.B2B
	ExecutionDate time.Time // requested collection date, UTC midnight; zero = as soon as possible
	Label         string
	ClientRef     string
	InvoiceRef    string
}

// Refund is one REFUNDS line.
type Refund struct {
	Line       int
	Reference  string
	PaymentRef string
	Amount     int64 // cents
	Label      string
}

// MandateLine is one MANDATES line.
type MandateLine struct {
	Line          int
	Action        string // CREATE, AMEND, REVOKE
	MandateRef    string
	MandateSigned time.Time
	DebtorName    string
	DebtorIBAN    string
	DebtorBIC     string
	Scheme        string
	ClientRef     string
}

func (Payment) record()     {}
func (Refund) record()      {}
func (MandateLine) record() {}

// Schemes.
const (
	SchemeCore = "SEPA.DIRECT_DEBIT.CORE"
	SchemeB2B  = "SEPA.DIRECT_DEBIT.B2B"
)

// Ack is the content of an .ack file (FORMATS.md §3.1).
type Ack struct {
	FileID     string
	FileName   string
	Type       FileType
	ReceivedAt time.Time // written as RFC 3339 UTC
	SHA256     string    // hex
	Lines      int
	Total      int64 // cents
	Currency   string
	Status     string // ACKNOWLEDGED
}

// ErrHeader identifies the file an .err file is about (FORMATS.md §3.2).
type ErrHeader struct {
	FileID     string
	FileName   string
	ReceivedAt time.Time
}

// ResLine is one row of a .res file (FORMATS.md §3.3).
type ResLine struct {
	Line          int
	Reference     string
	Status        string // ACCEPTED or REFUSED
	ReasonCode    string
	Reason        string
	TransactionID string
	Amount        int64     // cents
	ExecutionDate time.Time // zero = empty column
}
