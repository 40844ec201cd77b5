package formats

// The SEPA rules of a pain.008 (FORMATS.md §2.4, SEPA.md §2.2-2.4) beyond
// what the ISO schema says, attached to element paths, and the mapping of
// each DrctDbtTxInf to a Payment. The schema check of pain008.go has run on
// every value before its rule sees it (ok reports whether it passed), so a
// value is reported once, by its first failure.

import (
	"encoding/xml"
	"fmt"
	"hash/maphash"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unsafe"
)

// p8Rule is what happens at an element: when it opens, when its value is
// complete, when it closes. kids are the rules of its children by name.
type p8Rule struct {
	kids  map[string]*p8Rule
	start func(p *p8Parser, t xml.StartElement)
	value func(p *p8Parser, v string, ok bool)
	end   func(p *p8Parser)
}

// p8DocumentRule is the rule of the Document element; the paths below are
// relative to Document/CstmrDrctDbtInitn.
var p8DocumentRule = buildP8Rules()

func buildP8Rules() *p8Rule {
	doc := &p8Rule{kids: map[string]*p8Rule{}}
	msg := &p8Rule{kids: map[string]*p8Rule{}}
	doc.kids["CstmrDrctDbtInitn"] = msg
	on := func(path string, r p8Rule) {
		n := msg
		for _, name := range strings.Split(path, "/") {
			k := n.kids[name]
			if k == nil {
				k = &p8Rule{kids: map[string]*p8Rule{}}
				n.kids[name] = k
			}
			n = k
		}
		if r.start != nil {
			n.start = r.start
		}
		if r.value != nil {
			n.value = r.value
		}
		if r.end != nil {
			n.end = r.end
		}
	}
	value := func(f func(p *p8Parser, v string, ok bool)) p8Rule { return p8Rule{value: f} }
	start := func(f func(p *p8Parser, t xml.StartElement)) p8Rule { return p8Rule{start: f} }
	end := func(f func(p *p8Parser)) p8Rule { return p8Rule{end: f} }
	ident := value(func(p *p8Parser, v string, ok bool) {
		if ok {
			p.ident(v)
		}
	})
	name70 := value(func(p *p8Parser, v string, ok bool) {
		if ok {
			p.name70(v)
		}
	})
	iban := value(func(p *p8Parser, v string, ok bool) {
		if ok {
			p.iban(v)
		}
	})
	eur := value(func(p *p8Parser, v string, ok bool) {
		if ok && v != "EUR" {
			p.here(CodeInvalidValue, fmt.Sprintf("currency %s: SEPA direct debits are in EUR only", quoteShort(v)))
		}
	})
	slev := value(func(p *p8Parser, v string, ok bool) {
		if ok && v != "SLEV" {
			p.here(CodeInvalidValue, fmt.Sprintf("charge bearer %s: SEPA requires SLEV", v))
		}
	})
	schemeName := value(func(p *p8Parser, v string, ok bool) {
		if ok && v != "SEPA" {
			p.here(CodeInvalidValue, fmt.Sprintf("creditor identifier scheme %s: it must be SEPA", quoteShort(v)))
		}
	})
	notSEPAScheme := start(func(p *p8Parser, _ xml.StartElement) {
		p.here(CodeInvalidValue, "the creditor identifier scheme must be SchmeNm/Prtry SEPA")
	})

	// Group header.
	on("GrpHdr/MsgId", ident)
	on("GrpHdr/NbOfTxs", value(func(p *p8Parser, v string, ok bool) { p.grpNb = p.declaredCount(v, ok) }))
	on("GrpHdr/CtrlSum", value(func(p *p8Parser, v string, ok bool) { p.grpSum = p.declaredSum(v, ok) }))
	on("GrpHdr/InitgPty/Nm", name70)
	msg.end = func(p *p8Parser) {
		p.reportDuplicateEndToEndIDs()
		if p.grpNb.set && p.grpNb.n != int64(p.nTx) {
			p.issue(p.grpNb.line, p.grpNb.path, CodeCountMismatch, fmt.Sprintf("GrpHdr NbOfTxs says %d, the file has %d transactions", p.grpNb.n, p.nTx))
		}
		if p.grpSum.set && !p.badAmount && p.grpSum.n != p.total {
			p.issue(p.grpSum.line, p.grpSum.path, CodeTotalMismatch, fmt.Sprintf("GrpHdr CtrlSum says %s, the transactions add up to %s", FormatAmount(p.grpSum.n), FormatAmount(p.total)))
		}
	}

	// Payment information blocks.
	on("PmtInf", p8Rule{
		start: func(p *p8Parser, _ xml.StartElement) {
			f := p.top()
			p.pi = p8PmtInf{line: f.line, path: p.path("")}
			p.pmtInfTx = append(p.pmtInfTx, p.nTx)
		},
		end: func(p *p8Parser) {
			pi := &p.pi
			if pi.nb.set && pi.nb.n != int64(pi.nTx) {
				p.issue(pi.nb.line, pi.nb.path, CodeCountMismatch, fmt.Sprintf("PmtInf NbOfTxs says %d, the block has %d transactions", pi.nb.n, pi.nTx))
			}
			if pi.sum.set && !pi.badAmount && pi.sum.n != pi.total {
				p.issue(pi.sum.line, pi.sum.path, CodeTotalMismatch, fmt.Sprintf("PmtInf CtrlSum says %s, its transactions add up to %s", FormatAmount(pi.sum.n), FormatAmount(pi.total)))
			}
		},
	})
	on("PmtInf/PmtInfId", value(func(p *p8Parser, v string, ok bool) {
		if !ok {
			return
		}
		if !p.ident(v) || p.reader {
			return
		}
		h := maphash.String(p.seed, v)
		if n, dup := p.pmtInfIDs[h]; dup {
			p.here(CodeDuplicateRef, fmt.Sprintf("PmtInfId %s is already used by PmtInf %d", quoteShort(v), n))
			return
		}
		p.pmtInfIDs[h] = p.top().index
	}))
	on("PmtInf/NbOfTxs", value(func(p *p8Parser, v string, ok bool) { p.pi.nb = p.declaredCount(v, ok) }))
	on("PmtInf/CtrlSum", value(func(p *p8Parser, v string, ok bool) { p.pi.sum = p.declaredSum(v, ok) }))
	for _, pre := range []string{"PmtInf/PmtTpInf/", "PmtInf/DrctDbtTxInf/PmtTpInf/"} {
		txLevel := strings.Contains(pre, "DrctDbtTxInf")
		on(pre+"SvcLvl", start(func(p *p8Parser, _ xml.StartElement) {
			if !txLevel {
				p.pi.svcLvl = true
			}
		}))
		on(pre+"SvcLvl/Cd", value(func(p *p8Parser, v string, ok bool) {
			if ok && v != "SEPA" {
				p.here(CodeInvalidValue, fmt.Sprintf("service level %s: it must be SEPA", quoteShort(v)))
			}
		}))
		on(pre+"SvcLvl/Prtry", start(func(p *p8Parser, _ xml.StartElement) {
			p.here(CodeInvalidValue, "the service level must be Cd SEPA, not a proprietary code")
		}))
		on(pre+"LclInstrm", start(func(p *p8Parser, _ xml.StartElement) {
			if !txLevel {
				p.pi.lclInstrm = true
			}
		}))
		on(pre+"LclInstrm/Cd", value(func(p *p8Parser, v string, ok bool) {
			if !ok {
				return
			}
			var scheme string
			switch v {
			case "CORE":
				scheme = SchemeCore
			case "B2B":
				scheme = SchemeB2B
			case "COR1":
				p.here(CodeInvalidValue, "local instrument COR1 ended in November 2017: use CORE")
				return
			default:
				p.here(CodeInvalidValue, fmt.Sprintf("local instrument %s: it must be CORE or B2B", quoteShort(v)))
				return
			}
			if txLevel {
				p.tx.tpScheme = scheme
			} else {
				p.pi.scheme = scheme
			}
		}))
		on(pre+"LclInstrm/Prtry", start(func(p *p8Parser, _ xml.StartElement) {
			p.here(CodeInvalidValue, "the local instrument must be Cd CORE or B2B, not a proprietary code")
		}))
		on(pre+"SeqTp", value(func(p *p8Parser, v string, ok bool) {
			switch {
			case txLevel:
				if ok {
					p.tx.tpSeqTp = v
				}
			default:
				p.pi.seqTpSeen = true
				if ok {
					p.pi.seqTp = v
				}
			}
		}))
	}
	on("PmtInf/ReqdColltnDt", value(func(p *p8Parser, v string, ok bool) {
		if ok {
			p.pi.execDate, _ = ParseDate(v)
		}
	}))
	on("PmtInf/Cdtr", end(func(p *p8Parser) {
		if !p.pi.cdtrNm {
			p.issue(p.top().line, p.path("Nm"), CodeMissingValue, "the creditor name is required")
		}
	}))
	on("PmtInf/Cdtr/Nm", value(func(p *p8Parser, v string, ok bool) {
		p.pi.cdtrNm = true
		if ok {
			p.name70(v)
		}
	}))
	on("PmtInf/CdtrAcct/Id/IBAN", iban)
	on("PmtInf/CdtrAcct/Id/Othr", start(func(p *p8Parser, _ xml.StartElement) {
		p.here(CodeInvalidIBAN, "the creditor account must be given as an IBAN")
	}))
	on("PmtInf/CdtrAcct/Ccy", eur)
	on("PmtInf/CdtrAgt/FinInstnId/BIC", value(func(p *p8Parser, v string, ok bool) {
		if ok {
			p.bic(v, true)
		}
	}))
	on("PmtInf/CdtrAgt/FinInstnId/BICFI", value(func(p *p8Parser, v string, ok bool) {
		if ok {
			p.bic(v, false)
		}
	}))
	on("PmtInf/UltmtCdtr/Nm", name70)
	on("PmtInf/ChrgBr", slev)
	on("PmtInf/CdtrSchmeId", end(func(p *p8Parser) {
		if !p.pi.ciSeen {
			p.issue(p.top().line, p.path("Id/PrvtId/Othr/Id"), CodeMissingValue, "the creditor identifier is missing")
			p.pi.ciSeen = true
		}
	}))
	on("PmtInf/CdtrSchmeId/Id/OrgId", start(func(p *p8Parser, _ xml.StartElement) {
		p.pi.ciSeen = true
		p.here(CodeInvalidValue, "the creditor identifier must be given in Id/PrvtId/Othr/Id")
	}))
	on("PmtInf/CdtrSchmeId/Id/PrvtId/Othr/Id", value(func(p *p8Parser, v string, ok bool) {
		p.pi.ciSeen = true
		if ok {
			p.pi.ci = v
			p.creditorID(v)
		}
	}))
	on("PmtInf/CdtrSchmeId/Id/PrvtId/Othr/SchmeNm/Prtry", schemeName)
	on("PmtInf/CdtrSchmeId/Id/PrvtId/Othr/SchmeNm/Cd", notSEPAScheme)

	// Transactions.
	const tx = "PmtInf/DrctDbtTxInf/"
	on("PmtInf/DrctDbtTxInf", p8Rule{start: (*p8Parser).txStart, end: (*p8Parser).txEnd})
	on(tx+"PmtId/InstrId", ident)
	on(tx+"PmtId/EndToEndId", value(func(p *p8Parser, v string, ok bool) {
		if !ok {
			return
		}
		p.tx.pay.Reference = v
		if !p.ident(v) {
			return
		}
		if v == "NOTPROVIDED" {
			p.here(CodeInvalidValue, "EndToEndId NOTPROVIDED is not accepted: every debit needs its own payment reference")
			return
		}
		if !p.reader {
			p.addEndToEndID(v)
		}
	}))
	on(tx+"InstdAmt", p8Rule{
		start: func(p *p8Parser, t xml.StartElement) {
			// A Ccy that is not a currency code at all was reported by
			// the schema check of the attribute.
			if c, ok := attrValue(t, "Ccy"); ok && c != "EUR" && isCurrencyCode(c) {
				p.issue(p.top().line, p.path("")+"@Ccy", CodeInvalidValue, fmt.Sprintf("currency %s: SEPA direct debits are in EUR only", quoteShort(c)))
			}
		},
		value: func(p *p8Parser, v string, ok bool) {
			if !ok {
				return
			}
			c, err := ParseAmount(v)
			if err != nil {
				p.here(CodeInvalidAmount, err.Error())
				return
			}
			p.tx.pay.Amount, p.tx.amountOK = c, true
		},
	})
	on(tx+"ChrgBr", slev)
	const mndt = tx + "DrctDbtTx/MndtRltdInf/"
	on(mndt+"MndtId", value(func(p *p8Parser, v string, ok bool) {
		p.tx.mndtID = true
		if ok && p.ident(v) {
			p.tx.pay.MandateRef = v
		}
	}))
	on(mndt+"DtOfSgntr", value(func(p *p8Parser, v string, ok bool) {
		p.tx.dtOfSgntr = true
		if !ok {
			return
		}
		d, _ := ParseDate(v)
		if !p.today.IsZero() && d.After(p.today) {
			p.here(CodeInvalidDate, fmt.Sprintf("mandate signature date %s is after the upload day %s", v, FormatDate(p.today)))
			return
		}
		p.tx.pay.MandateSigned = d
	}))
	on(mndt+"AmdmntInd", value(func(p *p8Parser, v string, ok bool) {
		if ok && (v == "true" || v == "1") {
			p.tx.amdmntInd, p.tx.amdmntLine = true, p.top().line
		}
	}))
	on(mndt+"AmdmntInfDtls", start(func(p *p8Parser, _ xml.StartElement) {
		p.tx.amdmntDtls, p.tx.amdmntDtLine = true, p.top().line
	}))
	on(tx+"DrctDbtTx/MndtRltdInf", end(func(p *p8Parser) {
		switch {
		case p.tx.amdmntInd && !p.tx.amdmntDtls:
			p.issue(p.tx.amdmntLine, p.path("AmdmntInfDtls"), CodeMissingValue, "AmdmntInd is true: AmdmntInfDtls must say what changed")
		case !p.tx.amdmntInd && p.tx.amdmntDtls:
			p.issue(p.tx.amdmntDtLine, p.path("AmdmntInfDtls"), CodeInvalidValue, "AmdmntInfDtls is given but AmdmntInd is not true")
		}
	}))
	on(mndt+"AmdmntInfDtls/OrgnlMndtId", ident)
	on(mndt+"AmdmntInfDtls/OrgnlCdtrSchmeId/Nm", name70)
	on(mndt+"AmdmntInfDtls/OrgnlCdtrSchmeId/Id/PrvtId/Othr/Id", value(func(p *p8Parser, v string, ok bool) {
		if !ok {
			return
		}
		if err := ValidateCreditorID(v); err != nil {
			p.here(CodeInvalidValue, "original "+err.Error())
		}
	}))
	on(mndt+"AmdmntInfDtls/OrgnlDbtrAcct/Id/IBAN", iban)
	on(mndt+"AmdmntInfDtls/OrgnlDbtrAgt/FinInstnId/Othr/Id", value(func(p *p8Parser, v string, ok bool) {
		if ok && v != "SMNDA" {
			p.here(CodeInvalidValue, fmt.Sprintf("%s: the only code allowed here is SMNDA (same mandate, new debtor account)", quoteShort(v)))
		}
	}))
	on(tx+"DrctDbtTx/CdtrSchmeId/Id/OrgId", start(func(p *p8Parser, _ xml.StartElement) {
		p.here(CodeInvalidValue, "the creditor identifier must be given in Id/PrvtId/Othr/Id")
	}))
	on(tx+"DrctDbtTx/CdtrSchmeId/Id/PrvtId/Othr/Id", value(func(p *p8Parser, v string, ok bool) {
		if ok {
			f := p.top()
			p.tx.ci, p.tx.ciLine, p.tx.ciPath = v, f.line, p.path("")
			p.creditorID(v)
		}
	}))
	on(tx+"DrctDbtTx/CdtrSchmeId/Id/PrvtId/Othr/SchmeNm/Prtry", schemeName)
	on(tx+"DrctDbtTx/CdtrSchmeId/Id/PrvtId/Othr/SchmeNm/Cd", notSEPAScheme)
	on(tx+"UltmtCdtr/Nm", name70)
	on(tx+"UltmtDbtr/Nm", name70)
	on(tx+"DbtrAgt/FinInstnId/BIC", value(func(p *p8Parser, v string, ok bool) {
		if ok && p.bic(v, true) {
			p.tx.pay.DebtorBIC = v
		}
	}))
	on(tx+"DbtrAgt/FinInstnId/BICFI", value(func(p *p8Parser, v string, ok bool) {
		if ok && p.bic(v, false) {
			p.tx.pay.DebtorBIC = v
		}
	}))
	on(tx+"DbtrAgt/FinInstnId/Othr/Id", value(func(p *p8Parser, v string, ok bool) {
		if ok && v != "NOTPROVIDED" {
			p.here(CodeInvalidValue, fmt.Sprintf("%s: give the debtor bank as a BIC, or Othr/Id NOTPROVIDED", quoteShort(v)))
		}
	}))
	on(tx+"Dbtr", start(func(p *p8Parser, _ xml.StartElement) { p.tx.dbtr = true }))
	on(tx+"Dbtr/Nm", value(func(p *p8Parser, v string, ok bool) {
		p.tx.dbtrNm = true
		if ok && p.name70(v) {
			p.tx.pay.DebtorName = v
		}
	}))
	on(tx+"DbtrAcct/Id/IBAN", value(func(p *p8Parser, v string, ok bool) {
		if ok && p.iban(v) {
			p.tx.pay.DebtorIBAN = v
		}
	}))
	on(tx+"DbtrAcct/Id/Othr", start(func(p *p8Parser, _ xml.StartElement) {
		p.here(CodeInvalidIBAN, "the debtor account must be given as an IBAN")
	}))
	on(tx+"DbtrAcct/Ccy", eur)
	on(tx+"RmtInf/Ustrd", p8Rule{
		start: func(p *p8Parser, _ xml.StartElement) {
			p.tx.ustrd++
			if p.tx.ustrd == 2 {
				p.here(CodeInvalidValue, "SEPA allows one Ustrd of at most 140 characters")
			}
		},
		value: func(p *p8Parser, v string, ok bool) {
			if ok && p.freeText(v) && p.tx.ustrd == 1 {
				p.tx.pay.Label = v
			}
		},
	})
	on(tx+"RmtInf/Strd", start(func(p *p8Parser, _ xml.StartElement) {
		p.tx.strd++
		if p.tx.strd == 2 {
			p.here(CodeInvalidValue, "SEPA allows one Strd")
		}
	}))
	on(tx+"RmtInf", end(func(p *p8Parser) {
		if p.tx.ustrd > 0 && p.tx.strd > 0 {
			p.issue(p.top().line, p.path(""), CodeInvalidValue, "give either Ustrd or Strd, not both")
		}
	}))
	return doc
}

// txStart opens a transaction. By then its PmtInf has given its payment
// type (the schema puts PmtTpInf before the transactions).
func (p *p8Parser) txStart(_ xml.StartElement) {
	f := p.top()
	p.tx = p8Tx{line: f.line}
	pi := &p.pi
	if !pi.tpInfChecked {
		pi.tpInfChecked = true
		for _, m := range []struct {
			seen       bool
			path, what string
		}{
			{pi.svcLvl, "PmtTpInf/SvcLvl/Cd", "the service level (SEPA) is required in PmtInf"},
			{pi.lclInstrm, "PmtTpInf/LclInstrm/Cd", "the local instrument (CORE or B2B) is required in PmtInf"},
			{pi.seqTpSeen, "PmtTpInf/SeqTp", "the sequence type (FRST, RCUR, OOFF or FNAL) is required in PmtInf"},
		} {
			if !m.seen {
				p.issue(pi.line, pi.path+"/"+m.path, CodeMissingValue, m.what)
			}
		}
	}
}

// txEnd closes a transaction: SEPA-required values, creditor identifier,
// totals, and the Payment handed to the reader.
func (p *p8Parser) txEnd() {
	tx, pi := &p.tx, &p.pi
	line := tx.line
	if !tx.mndtID {
		p.issue(line, p.path("DrctDbtTx/MndtRltdInf/MndtId"), CodeMissingValue, "the mandate reference is required")
	}
	if !tx.dtOfSgntr {
		p.issue(line, p.path("DrctDbtTx/MndtRltdInf/DtOfSgntr"), CodeMissingValue, "the mandate signature date is required")
	}
	if !tx.dbtrNm && tx.dbtr { // a missing Dbtr is already a structure error
		p.issue(line, p.path("Dbtr/Nm"), CodeMissingValue, "the debtor name is required")
	}
	switch {
	case tx.ci != "" && pi.ci != "" && !SameCreditorID(tx.ci, pi.ci):
		p.issue(tx.ciLine, tx.ciPath, CodeInvalidValue, fmt.Sprintf("creditor identifier %s differs from the one of its PmtInf (%s)", quoteShort(tx.ci), quoteShort(pi.ci)))
	case tx.ci == "" && !pi.ciSeen && !pi.ciMissingSaid:
		pi.ciMissingSaid = true
		p.issue(line, p.path("DrctDbtTx/CdtrSchmeId/Id/PrvtId/Othr/Id"), CodeMissingValue, "the creditor identifier is missing (give it in PmtInf/CdtrSchmeId or in every transaction)")
	}
	if tx.tpScheme != "" && pi.scheme != "" && tx.tpScheme != pi.scheme {
		p.issue(line, p.path("PmtTpInf/LclInstrm/Cd"), CodeInvalidValue, "the local instrument differs from the one of its PmtInf")
	}
	if tx.tpSeqTp != "" && pi.seqTp != "" && tx.tpSeqTp != pi.seqTp {
		p.issue(line, p.path("PmtTpInf/SeqTp"), CodeInvalidValue, "the sequence type differs from the one of its PmtInf")
	}
	if p.e2e != nil {
		p.keepEndToEndLine()
	}
	p.nTx++
	pi.nTx++
	if tx.amountOK {
		p.total += tx.pay.Amount
		pi.total += tx.pay.Amount
	} else {
		p.badAmount, pi.badAmount = true, true
	}
	pay := tx.pay
	pay.Line = p.nTx
	pay.SequenceType = firstNonEmpty(tx.tpSeqTp, pi.seqTp, "RCUR")
	pay.Scheme = firstNonEmpty(tx.tpScheme, pi.scheme, SchemeCore)
	pay.ExecutionDate = pi.execDate
	p.out, p.ready = pay, true
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// declaredCount reads a NbOfTxs (the schema checked [0-9]{1,15}).
func (p *p8Parser) declaredCount(v string, ok bool) p8Declared {
	if !ok {
		return p8Declared{}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return p8Declared{}
	}
	f := p.top()
	return p8Declared{set: true, n: n, line: f.line, path: p.path("")}
}

// declaredSum reads a CtrlSum in cents: at most 2 significant decimals
// (SEPA.md P8-04); trailing zeros beyond them are harmless.
func (p *p8Parser) declaredSum(v string, ok bool) p8Declared {
	if !ok {
		return p8Declared{}
	}
	intPart, frac, _ := strings.Cut(strings.TrimPrefix(v, "+"), ".")
	frac = strings.TrimRight(frac, "0")
	intPart = strings.TrimLeft(intPart, "0")
	switch {
	case strings.HasPrefix(v, "-"):
		p.here(CodeInvalidAmount, fmt.Sprintf("control sum %s is negative", quoteShort(v)))
		return p8Declared{}
	case len(frac) > 2:
		p.here(CodeInvalidAmount, fmt.Sprintf("control sum %s has more than 2 decimals", quoteShort(v)))
		return p8Declared{}
	case len(intPart) > 15:
		p.here(CodeInvalidAmount, fmt.Sprintf("control sum %s is too large", quoteShort(v)))
		return p8Declared{}
	}
	var n int64
	for _, c := range intPart + (frac + "00")[:2] {
		n = n*10 + int64(c-'0')
	}
	f := p.top()
	return p8Declared{set: true, n: n, line: f.line, path: p.path("")}
}

// ident checks a reference or identifier (SEPA.md §1.4 CHR-02/03).
func (p *p8Parser) ident(v string) bool {
	if err := ValidateSEPAText(v); err != nil {
		p.here(CodeInvalidCharset, err.Error())
		return false
	}
	return true
}

// freeText checks a name or remittance text. SEPA.md §1.4 lets banks carry
// more than the Latin set in free text (it is transliterated downstream),
// so only control characters are refused.
func (p *p8Parser) freeText(v string) bool {
	for _, r := range v {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			p.here(CodeInvalidCharset, fmt.Sprintf("character %s is not allowed in a name or text", describeRune(r)))
			return false
		}
	}
	return true
}

// name70 checks a party name: SEPA limits names to 70 characters (P8-32),
// where ISO allows 140.
func (p *p8Parser) name70(v string) bool {
	if n := len([]rune(v)); n > 70 {
		p.here(CodeTooLong, fmt.Sprintf("%d characters, at most 70 allowed for a name in SEPA", n))
		return false
	}
	return p.freeText(v)
}

func (p *p8Parser) iban(v string) bool {
	if err := ValidateIBAN(v); err != nil {
		p.here(CodeInvalidIBAN, err.Error())
		return false
	}
	return true
}

// bic checks a BIC with the pattern of the message version.
func (p *p8Parser) bic(v string, v2009 bool) bool {
	check := ValidateBIC
	if v2009 {
		check = ValidateBIC2009
	}
	if err := check(v); err != nil {
		p.here(CodeInvalidBIC, err.Error())
		return false
	}
	return true
}

// creditorID checks a CdtrSchmeId: the merchant's own when one is
// registered (CREDITOR_MISMATCH), else a valid SEPA creditor identifier.
// The reader trusts the validation it follows and checks neither.
func (p *p8Parser) creditorID(v string) {
	if p.reader {
		return
	}
	if p.opt.CreditorID != "" {
		if !SameCreditorID(v, p.opt.CreditorID) {
			p.here(CodeCreditorMismatch, fmt.Sprintf("creditor identifier %s is not the one registered for your account (%s)", quoteShort(v), p.opt.CreditorID))
		}
		return
	}
	if err := ValidateCreditorID(v); err != nil {
		p.here(CodeInvalidValue, err.Error())
	}
}

func isCurrencyCode(c string) bool {
	return len(c) == 3 && isUpper(c[0]) && isUpper(c[1]) && isUpper(c[2])
}

// p8LineChunk is how many end-to-end id lines a chunk holds (16 KiB), so
// the list grows without copying.
const p8LineChunk = 4096

// addEndToEndID records the end-to-end id of the transaction being read
// (number p.nTx+1) for the duplicate check at the end of the document.
func (p *p8Parser) addEndToEndID(v string) {
	// refSet only hashes the bytes: no copy of v is needed.
	p.e2e.add(unsafe.Slice(unsafe.StringData(v), len(v)), p.nTx+1)
	p.tx.e2eLine = p.top().line
}

// keepEndToEndLine files the line of the transaction's end-to-end id (0
// when it was not recorded) under its transaction number.
func (p *p8Parser) keepEndToEndLine() {
	if n := len(p.e2eLines); n == 0 || len(p.e2eLines[n-1]) == p8LineChunk {
		p.e2eLines = append(p.e2eLines, make([]uint32, 0, p8LineChunk))
	}
	last := &p.e2eLines[len(p.e2eLines)-1]
	*last = append(*last, uint32(p.tx.e2eLine))
}

func (p *p8Parser) endToEndLine(tx int) int {
	return int(p.e2eLines[(tx-1)/p8LineChunk][(tx-1)%p8LineChunk])
}

// reportDuplicateEndToEndIDs reports every end-to-end id used before in the
// file, on its own line, naming the transaction that used it first. refSet
// finds them in hash order; the earliest ones are kept (at most twice the
// issue cap at a time) so a file with more duplicates than the cap reports
// its first ones.
func (p *p8Parser) reportDuplicateEndToEndIDs() {
	if p.e2e == nil {
		return
	}
	type dup struct{ tx, first int }
	var dups []dup
	keep := p.issueLimit()
	byTx := func(a, b dup) int { return a.tx - b.tx }
	p.e2e.duplicates(func(tx, first int) {
		dups = append(dups, dup{tx, first})
		if len(dups) >= 2*keep {
			slices.SortFunc(dups, byTx)
			dups = dups[:keep]
		}
	})
	p.e2e = nil
	slices.SortFunc(dups, byTx)
	for _, d := range dups {
		pi := sort.Search(len(p.pmtInfTx), func(i int) bool { return p.pmtInfTx[i] >= d.tx }) - 1
		path := fmt.Sprintf("PmtInf[%d]/DrctDbtTxInf[%d]/PmtId/EndToEndId", pi+1, d.tx-p.pmtInfTx[pi])
		p.issue(p.endToEndLine(d.tx), path, CodeDuplicateRef,
			fmt.Sprintf("this EndToEndId is already used by transaction %d (line %d)", d.first, p.endToEndLine(d.first)))
	}
}
