package batch

import "time"

// OP codes of ledger entries (FORMATS.md §4.1).
const (
	OpSDD    = "SDD"     // debit executed: credit to the merchant
	OpRET    = "RET"     // debit returned, or refunded at the debtor's request (MD06)
	OpREB    = "REB"     // refund executed: debit
	OpFeeSDD = "FEE-SDD" // fees, booked as separate entries
	OpFeeRET = "FEE-RET"
	OpFeeREB = "FEE-REB"
)

// Entry is one movement of a merchant's balance, as settlement books it and
// the daily statement reports it. Entries of a merchant and booking day are
// read back in booking order (Seq).
type Entry struct {
	Merchant             string
	Seq                  uint64    // booking order within the merchant's ledger, strictly increasing
	BookingDate          time.Time // business day booked (a date in the service's time zone, stored as UTC midnight)
	ValueDate            time.Time // date, UTC midnight
	OpCode               string    // one of the Op* constants
	Amount               int64     // cents, always > 0; the side is Credit
	Credit               bool      // true: balance goes up (SDD); false: down (RET, REB, fees)
	TransactionID        string    // the transaction this movement is about (for fees: the fee's own id)
	InitialTransactionID string    // for RET/REB/fees: the original debit's transaction id
	Reference            string    // payment reference (EndToEndId) or refund reference
	MandateRef           string
	ClientRef            string
	InvoiceRef           string
	DebtorName           string
	Label                string // remittance label; for RET the reason ("AM04 insufficient funds")
	ReasonCode           string // for RET: the return or refund-request code
}

// Issue kinds of the payment-issues report (FORMATS.md §4.3).
const (
	IssueReject        = "REJECT"
	IssueReturn        = "RETURN"
	IssueRefundRequest = "REFUND_REQUEST"
)

// IssueEvent is one reject, return or refund request that happened on a day.
type IssueEvent struct {
	ID             string // issue id, unique, time-sortable
	Merchant       string
	Kind           string // IssueReject, IssueReturn, IssueRefundRequest
	PaymentRef     string
	TransactionID  string
	MandateRef     string
	ClientRef      string
	DebtorName     string
	DebtorIBAN     string
	Amount         int64     // cents
	CollectionDate time.Time // date
	IssueDate      time.Time // date the issue happened (the report day)
	ReasonCode     string
	ReasonLabel    string
}
