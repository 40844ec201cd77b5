package formats

// The daily statement as ISO 20022 camt.053.001.08 (FORMATS.md §4.2,
// SEPA.md §5.1 and §5.4), valid against the official schema
// (testdata/reports/camt.053.001.08.xsd).
//
// Choices where the schema leaves room:
//   - One message, one Stmt. MsgId and Stmt/Id are StatementID(ref, day):
//     stable, so a statement rebuilt from the store is the same file.
//   - The account is Acct/Id/Othr/Id = the creditor reference with
//     SchmeNm/Prtry CREDITOR_REFERENCE. Othr/Id holds at most 34 characters
//     while a creditor reference may have 35: Acct/Nm always carries the
//     whole reference, Othr/Id its first 34 characters.
//   - OPBD and CLBD are both dated the statement day (opening and closing of
//     that day); a negative balance is its absolute value with DBIT.
//   - Every entry has BkTxCd/Prtry/Cd = the OP code (Issr FILEAPI) and, where
//     the ISO bank transaction code list has one, the Domn code: SDD
//     PMNT/IDDT/ESDD, RET PMNT/IDDT/UPDD, REB PMNT/ICDT/ESCT, fees
//     PMNT/IDDT/CHRG (PMNT/ICDT/CHRG for FEE-REB).
//   - The CSV columns without an ISO element (client reference, invoice
//     reference, initial transaction id) go into TxDtls/Refs/Prtry with the
//     CSV column name as type, so both files carry the same facts.
//   - RET entries have RvslInd true and RtrInf/Rsn/Cd = the reason code
//     (Prtry when it is not a 1-4 character code) with the label as
//     AddtlInf; other labels go to RmtInf/Ustrd.

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"
)

// Camt053Namespace is the XML namespace of the statements written.
const Camt053Namespace = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"

// StatementID is the identifier of a merchant's statement for a day, used
// as GrpHdr/MsgId and Stmt/Id (at most 35 characters):
// STMT-<YYYYMMDD>-<ref>, or, when the reference is too long for that,
// STMT-<YYYYMMDD>-<first 8 characters of ref>-<12 hex digits of its SHA-256>
// so that it stays unique.
func StatementID(creditorRef string, day time.Time) string {
	id := "STMT-" + day.Format("20060102") + "-"
	if len(id)+len(creditorRef) <= 35 {
		return id + creditorRef
	}
	sum := sha256.Sum256([]byte(creditorRef))
	return id + creditorRef[:8] + "-" + hex.EncodeToString(sum[:6])
}

// Camt053Writer streams a STATEMENT_*.xml file.
type Camt053Writer struct {
	w      *bufio.Writer
	h      StatementHeader
	got    StatementTotals
	buf    []byte
	closed bool
	err    error
}

// NewCamt053Writer writes the document up to the last balance and the
// transaction summary; then call Write for every movement, in booking
// order, and Close.
func NewCamt053Writer(w io.Writer, h StatementHeader) (*Camt053Writer, error) {
	if h.MessageID == "" {
		h.MessageID = StatementID(h.CreditorRef, h.Date)
	}
	if n := utf8.RuneCountInString(h.MessageID); n > 35 {
		return nil, fmt.Errorf("formats: camt.053 message id %q is longer than 35 characters", h.MessageID)
	}
	if h.CreatedAt.IsZero() {
		return nil, fmt.Errorf("formats: camt.053 needs a creation time")
	}
	cw := &Camt053Writer{w: bufio.NewWriterSize(w, 64<<10), h: h, buf: make([]byte, 0, 4096)}
	created := h.CreatedAt.Format(time.RFC3339)
	b := cw.buf[:0]
	b = append(b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<Document xmlns="`+Camt053Namespace+`">`+"\n  <BkToCstmrStmt>\n    <GrpHdr>\n"...)
	b = camtElem(b, 6, "MsgId", h.MessageID, 35)
	b = camtElem(b, 6, "CreDtTm", created, 0)
	b = append(b, "      <MsgPgntn>\n        <PgNb>1</PgNb>\n        <LastPgInd>true</LastPgInd>\n      </MsgPgntn>\n    </GrpHdr>\n    <Stmt>\n"...)
	b = camtElem(b, 6, "Id", h.MessageID, 35)
	if h.SeqNb > 0 {
		b = camtElem(b, 6, "ElctrncSeqNb", strconv.FormatUint(h.SeqNb, 10), 0)
	}
	b = camtElem(b, 6, "CreDtTm", created, 0)
	if !h.From.IsZero() && !h.To.IsZero() {
		b = append(b, "      <FrToDt>\n"...)
		b = camtElem(b, 8, "FrDtTm", h.From.Format(time.RFC3339), 0)
		b = camtElem(b, 8, "ToDtTm", h.To.Format(time.RFC3339), 0)
		b = append(b, "      </FrToDt>\n"...)
	}
	b = append(b, "      <Acct>\n        <Id>\n          <Othr>\n"...)
	b = camtElem(b, 12, "Id", h.CreditorRef, 34)
	b = append(b, "            <SchmeNm>\n              <Prtry>CREDITOR_REFERENCE</Prtry>\n            </SchmeNm>\n          </Othr>\n        </Id>\n        <Ccy>EUR</Ccy>\n"...)
	b = camtElem(b, 8, "Nm", h.CreditorRef, 70)
	if h.CompanyName != "" {
		b = append(b, "        <Ownr>\n"...)
		b = camtElem(b, 10, "Nm", h.CompanyName, 140)
		b = append(b, "        </Ownr>\n"...)
	}
	b = append(b, "      </Acct>\n"...)
	b = camtBalance(b, "OPBD", h.PreviousBalance, h.Date)
	b = camtBalance(b, "CLBD", h.NewBalance(), h.Date)

	t := h.Totals
	net := t.CreditSum - t.DebitSum
	b = append(b, "      <TxsSummry>\n        <TtlNtries>\n"...)
	b = camtElem(b, 10, "NbOfNtries", strconv.Itoa(t.Count()), 0)
	b = camtAmount(b, 10, "Sum", t.CreditSum+t.DebitSum, false)
	b = append(b, "          <TtlNetNtry>\n"...)
	b = camtAmount(b, 12, "Amt", repAbs(net), false)
	b = camtElem(b, 12, "CdtDbtInd", camtCdtDbt(net >= 0), 0)
	b = append(b, "          </TtlNetNtry>\n        </TtlNtries>\n        <TtlCdtNtries>\n"...)
	b = camtElem(b, 10, "NbOfNtries", strconv.Itoa(t.CreditCount), 0)
	b = camtAmount(b, 10, "Sum", t.CreditSum, false)
	b = append(b, "        </TtlCdtNtries>\n        <TtlDbtNtries>\n"...)
	b = camtElem(b, 10, "NbOfNtries", strconv.Itoa(t.DebitCount), 0)
	b = camtAmount(b, 10, "Sum", t.DebitSum, false)
	b = append(b, "        </TtlDbtNtries>\n      </TxsSummry>\n"...)
	cw.buf = b
	if _, err := cw.w.Write(b); err != nil {
		return nil, err
	}
	return cw, nil
}

// Write writes one Ntry.
func (cw *Camt053Writer) Write(m Movement) error {
	if cw.closed {
		return ErrStatementClosed
	}
	if cw.err != nil {
		return cw.err
	}
	cw.got.Add(m)
	ret := m.OpCode == "RET"
	b := cw.buf[:0]
	b = append(b, "      <Ntry>\n"...)
	b = camtAmount(b, 8, "Amt", m.Amount, true)
	b = camtElem(b, 8, "CdtDbtInd", camtCdtDbt(m.Credit), 0)
	if ret {
		b = append(b, "        <RvslInd>true</RvslInd>\n"...)
	}
	b = append(b, "        <Sts>\n          <Cd>BOOK</Cd>\n        </Sts>\n        <BookgDt>\n"...)
	b = camtDate(b, m.ExecutionDate)
	b = append(b, "        </BookgDt>\n        <ValDt>\n"...)
	b = camtDate(b, m.ValueDate)
	b = append(b, "        </ValDt>\n"...)
	b = camtElem(b, 8, "AcctSvcrRef", m.TransactionID, 35)
	b = camtBkTxCd(b, m.OpCode)
	b = append(b, "        <NtryDtls>\n          <TxDtls>\n            <Refs>\n"...)
	b = camtElem(b, 14, "AcctSvcrRef", m.TransactionID, 35)
	b = camtElem(b, 14, "EndToEndId", m.Reference, 35)
	b = camtElem(b, 14, "MndtId", m.MandateRef, 35)
	b = camtPrtryRef(b, "CLIENT_REFERENCE", m.ClientRef)
	b = camtPrtryRef(b, "INVOICE_REFERENCE", m.InvoiceRef)
	b = camtPrtryRef(b, "INITIAL_TRANSACTION_ID", m.InitialTransactionID)
	b = append(b, "            </Refs>\n"...)
	b = camtAmount(b, 12, "Amt", m.Amount, true)
	b = camtElem(b, 12, "CdtDbtInd", camtCdtDbt(m.Credit), 0)
	if m.DebtorName != "" {
		// The debtor of the original debit; for a refund (REB) it is
		// the creditor of the transfer that pays it back.
		party := "Dbtr"
		if m.OpCode == "REB" {
			party = "Cdtr"
		}
		b = append(b, "            <RltdPties>\n              <"...)
		b = append(b, party...)
		b = append(b, ">\n                <Pty>\n"...)
		b = camtElem(b, 18, "Nm", m.DebtorName, 140)
		b = append(b, "                </Pty>\n              </"...)
		b = append(b, party...)
		b = append(b, ">\n            </RltdPties>\n"...)
	}
	if !ret && m.Label != "" {
		b = append(b, "            <RmtInf>\n"...)
		b = camtElem(b, 14, "Ustrd", m.Label, 140)
		b = append(b, "            </RmtInf>\n"...)
	}
	if ret && (m.ReasonCode != "" || m.Label != "") {
		b = append(b, "            <RtrInf>\n"...)
		if m.ReasonCode != "" {
			b = append(b, "              <Rsn>\n"...)
			if n := utf8.RuneCountInString(m.ReasonCode); n <= 4 {
				b = camtElem(b, 16, "Cd", m.ReasonCode, 4)
			} else {
				b = camtElem(b, 16, "Prtry", m.ReasonCode, 35)
			}
			b = append(b, "              </Rsn>\n"...)
		}
		b = camtElem(b, 14, "AddtlInf", m.Label, 105)
		b = append(b, "            </RtrInf>\n"...)
	}
	b = append(b, "          </TxDtls>\n        </NtryDtls>\n      </Ntry>\n"...)
	cw.buf = b
	_, cw.err = cw.w.Write(b)
	return cw.err
}

// Close ends the document and flushes. It fails with ErrStatementTotals
// when the movements written differ from the header's totals; the caller
// must then discard the output.
func (cw *Camt053Writer) Close() error {
	if cw.closed {
		return ErrStatementClosed
	}
	cw.closed = true
	if cw.err != nil {
		return cw.err
	}
	if cw.got != cw.h.Totals {
		return fmt.Errorf("%w: header %+v, written %+v", ErrStatementTotals, cw.h.Totals, cw.got)
	}
	if _, err := cw.w.WriteString("    </Stmt>\n  </BkToCstmrStmt>\n</Document>\n"); err != nil {
		return err
	}
	return cw.w.Flush()
}

func camtBalance(b []byte, code string, balance int64, day time.Time) []byte {
	b = append(b, "      <Bal>\n        <Tp>\n          <CdOrPrtry>\n            <Cd>"...)
	b = append(b, code...)
	b = append(b, "</Cd>\n          </CdOrPrtry>\n        </Tp>\n"...)
	b = camtAmount(b, 8, "Amt", repAbs(balance), true)
	b = camtElem(b, 8, "CdtDbtInd", camtCdtDbt(balance >= 0), 0)
	b = append(b, "        <Dt>\n"...)
	b = camtDate(b, day)
	return append(b, "        </Dt>\n      </Bal>\n"...)
}

// camtDomains maps OP codes to ISO bank transaction codes (domain, family,
// sub-family).
var camtDomains = map[string][3]string{
	"SDD":     {"PMNT", "IDDT", "ESDD"},
	"RET":     {"PMNT", "IDDT", "UPDD"},
	"REB":     {"PMNT", "ICDT", "ESCT"},
	"FEE-SDD": {"PMNT", "IDDT", "CHRG"},
	"FEE-RET": {"PMNT", "IDDT", "CHRG"},
	"FEE-REB": {"PMNT", "ICDT", "CHRG"},
}

func camtBkTxCd(b []byte, op string) []byte {
	b = append(b, "        <BkTxCd>\n"...)
	if d, ok := camtDomains[op]; ok {
		b = append(b, "          <Domn>\n            <Cd>"...)
		b = append(b, d[0]...)
		b = append(b, "</Cd>\n            <Fmly>\n              <Cd>"...)
		b = append(b, d[1]...)
		b = append(b, "</Cd>\n              <SubFmlyCd>"...)
		b = append(b, d[2]...)
		b = append(b, "</SubFmlyCd>\n            </Fmly>\n          </Domn>\n"...)
	}
	if op != "" {
		b = append(b, "          <Prtry>\n"...)
		b = camtElem(b, 12, "Cd", op, 35)
		b = append(b, "            <Issr>FILEAPI</Issr>\n          </Prtry>\n"...)
	}
	return append(b, "        </BkTxCd>\n"...)
}

// camtDate appends a <Dt> element at the depth of entries and balances.
func camtDate(b []byte, d time.Time) []byte {
	if d.IsZero() {
		return b
	}
	b = append(b, "          <Dt>"...)
	b = repAppendDate(b, d)
	return append(b, "</Dt>\n"...)
}

func camtPrtryRef(b []byte, tp, ref string) []byte {
	if ref == "" {
		return b
	}
	b = append(b, "              <Prtry>\n                <Tp>"...)
	b = append(b, tp...)
	b = append(b, "</Tp>\n"...)
	b = camtElem(b, 16, "Ref", ref, 35)
	return append(b, "              </Prtry>\n"...)
}

func camtCdtDbt(credit bool) string {
	if credit {
		return "CRDT"
	}
	return "DBIT"
}

func repAbs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

const camtIndent = "                                " // 32 spaces

// camtElem appends <name>v</name> on its own line, indented, with v escaped
// and cut to max characters (0 = no limit). An empty v writes nothing: the
// schema's text types need at least one character.
func camtElem(b []byte, indent int, name, v string, max int) []byte {
	if v == "" {
		return b
	}
	b = append(b, camtIndent[:indent]...)
	b = append(b, '<')
	b = append(b, name...)
	b = append(b, '>')
	b = repAppendXML(b, v, max)
	b = append(b, '<', '/')
	b = append(b, name...)
	return append(b, '>', '\n')
}

// camtAmount appends an amount in cents with two decimals, with the
// Ccy="EUR" attribute when ccy is set.
func camtAmount(b []byte, indent int, name string, cents int64, ccy bool) []byte {
	b = append(b, camtIndent[:indent]...)
	b = append(b, '<')
	b = append(b, name...)
	if ccy {
		b = append(b, ` Ccy="EUR"`...)
	}
	b = append(b, '>')
	b = appendAmount(b, cents)
	b = append(b, '<', '/')
	b = append(b, name...)
	return append(b, '>', '\n')
}

// repAppendXML appends v as XML character data: &, < and > escaped,
// characters XML 1.0 forbids (control characters, U+FFFE, U+FFFF) and
// invalid UTF-8 replaced, at most max characters (0 = all).
func repAppendXML(b []byte, v string, max int) []byte {
	if max == 0 || len(v) <= max {
		// Fast path: plain ASCII needs no work (and its length in bytes
		// is its length in characters).
		plain := true
		for i := 0; i < len(v); i++ {
			if c := v[i]; c < 0x20 || c >= 0x7f || c == '&' || c == '<' || c == '>' {
				plain = false
				break
			}
		}
		if plain {
			return append(b, v...)
		}
	}
	n := 0
	for i := 0; i < len(v); {
		if max > 0 && n == max {
			break
		}
		n++
		r, size := rune(v[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(v[i:])
		}
		switch {
		case r == '&':
			b = append(b, "&amp;"...)
		case r == '<':
			b = append(b, "&lt;"...)
		case r == '>':
			b = append(b, "&gt;"...)
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
			b = append(b, ' ')
		case r == utf8.RuneError && size == 1, r == 0xFFFE, r == 0xFFFF:
			b = utf8.AppendRune(b, utf8.RuneError)
		default:
			b = append(b, v[i:i+size]...)
		}
		i += size
	}
	return b
}
