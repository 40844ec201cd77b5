package batch

import "strings"

// Sandbox test triggers (SPEC §5): the debtor name drives the outcome.

const (
	trigReject = "REJ"
	trigReturn = "RET"
	trigRefund = "REF"
)

// reasonLabels are the SEPA DD reason codes of SEPA.md §4.3 with the short
// label statements and issue reports show.
var reasonLabels = map[string]string{
	"AC01": "incorrect account number",
	"AC04": "closed account number",
	"AC06": "blocked account",
	"AC13": "invalid debtor account type",
	"AG01": "transaction forbidden",
	"AG02": "invalid bank operation code",
	"AM04": "insufficient funds",
	"AM05": "duplication",
	"BE05": "unrecognised initiating party",
	"CNOR": "creditor bank is not registered",
	"DNOR": "debtor bank is not registered",
	"ED05": "settlement failed",
	"FF01": "invalid file format",
	"MD01": "no mandate",
	"MD02": "missing mandatory information in mandate",
	"MD06": "refund request by end customer",
	"MD07": "end customer deceased",
	"MS02": "not specified reason customer generated",
	"MS03": "not specified reason agent generated",
	"RC01": "bank identifier incorrect",
	"RR01": "missing debtor account or identification",
	"RR02": "missing debtor name or address",
	"RR03": "missing creditor name or address",
	"RR04": "regulatory reason",
	"SL01": "specific service offered by debtor agent",
}

// parseTrigger returns "REJ-<CODE>", "RET-<CODE>", "REF-MD06" or "" for a
// debtor name. The code must be a SEPA reason code of SEPA.md (a refund
// request only MD06, the one code for an authorised refund; MD06 is not a
// reject or return reason); anything else executes normally.
func parseTrigger(name string) string {
	const p = "ISSUE-SEPA-"
	if !strings.HasPrefix(name, p) || len(name) < len(p)+8 {
		return ""
	}
	kind, code := name[len(p):len(p)+3], name[len(p)+4:len(p)+8]
	if name[len(p)+3] != '-' {
		return ""
	}
	if rest := name[len(p)+8:]; rest != "" {
		c := rest[0]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			return "" // ISSUE-SEPA-REJ-AM045 is not AM04
		}
	}
	if _, ok := reasonLabels[code]; !ok {
		return ""
	}
	switch kind {
	case trigReject, trigReturn:
		if code == "MD06" {
			return ""
		}
	case trigRefund:
		if code != "MD06" {
			return ""
		}
	default:
		return ""
	}
	return kind + "-" + code
}

// refusal reasons of .res lines (FORMATS.md §3.3).
const (
	refDuplicateRef    = "AM05"
	refRevoked         = "MD01"
	refMandateMismatch = "MD02"
	refMandateFinal    = "AG02"
	refTooFar          = "DT01"
	refAboveMax        = "AM02"
	refOrigNotFound    = "ORIGINAL_NOT_FOUND"
	refOrigNotExecuted = "ORIGINAL_NOT_EXECUTED"
	refOrigReturned    = "ORIGINAL_RETURNED"
	refExceedsOriginal = "REFUND_EXCEEDS_ORIGINAL"
	refOrigTooOld      = "ORIGINAL_TOO_OLD"
	refInsufficient    = "AM04"
	refMandateExists   = "MANDATE_EXISTS"
	refMandateNotFound = "MANDATE_NOT_FOUND"
	resAccepted        = "ACCEPTED"
	resRefused         = "REFUSED"
)

var refusalTexts = map[string]string{
	refDuplicateRef:    "reference already used",
	refRevoked:         "the mandate is revoked",
	refMandateMismatch: "the mandate is known with another signature date or scheme",
	refMandateFinal:    "the mandate was already used with OOFF or FNAL",
	refTooFar:          "the requested date is more than 365 days ahead",
	refAboveMax:        "the amount is above the merchant's maximum",
	refOrigNotFound:    "no debit with that payment reference",
	refOrigNotExecuted: "the debit is not executed",
	refOrigReturned:    "the debit was returned",
	refExceedsOriginal: "refunds would exceed the debit's amount",
	refOrigTooOld:      "the debit is more than 14 months old",
	refInsufficient:    "the balance does not cover the refund",
	refMandateExists:   "the mandate already exists",
	refMandateNotFound: "no such mandate",
}

func reasonText(code string) string { return refusalTexts[code] }
