package formats

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
)

// p8Vectors is the shared folder of external SEPA samples (CI clones the
// repository with shared/ beside it).
const p8Vectors = "../../shared/vectors/sepa/"

// p8Base returns a valid pain.008 of the given version ("02" or "08") with
// one PmtInf of two transactions. Every value is distinct so a test can
// break exactly one by string replacement.
func p8Base(v string) string {
	bic := "BIC"
	if v == "08" {
		bic = "BICFI"
	}
	return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.` + v + `" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <CstmrDrctDbtInitn>
    <GrpHdr>
      <MsgId>MSG-0001</MsgId>
      <CreDtTm>2026-11-27T09:14:03</CreDtTm>
      <NbOfTxs>2</NbOfTxs>
      <CtrlSum>89.99</CtrlSum>
      <InitgPty>
        <Nm>ACME SAS</Nm>
      </InitgPty>
    </GrpHdr>
    <PmtInf>
      <PmtInfId>PMTINF-1</PmtInfId>
      <PmtMtd>DD</PmtMtd>
      <NbOfTxs>2</NbOfTxs>
      <CtrlSum>89.99</CtrlSum>
      <PmtTpInf>
        <SvcLvl>
          <Cd>SEPA</Cd>
        </SvcLvl>
        <LclInstrm>
          <Cd>CORE</Cd>
        </LclInstrm>
        <SeqTp>RCUR</SeqTp>
      </PmtTpInf>
      <ReqdColltnDt>2026-12-03</ReqdColltnDt>
      <Cdtr>
        <Nm>ACME SAS</Nm>
      </Cdtr>
      <CdtrAcct>
        <Id>
          <IBAN>DE89370400440532013000</IBAN>
        </Id>
      </CdtrAcct>
      <CdtrAgt>
        <FinInstnId>
          <` + bic + `>COBADEFFXXX</` + bic + `>
        </FinInstnId>
      </CdtrAgt>
      <ChrgBr>SLEV</ChrgBr>
      <CdtrSchmeId>
        <Id>
          <PrvtId>
            <Othr>
              <Id>DE98ZZZ09999999999</Id>
              <SchmeNm>
                <Prtry>SEPA</Prtry>
              </SchmeNm>
            </Othr>
          </PrvtId>
        </Id>
      </CdtrSchmeId>
      <DrctDbtTxInf>
        <PmtId>
          <EndToEndId>PAY-0001</EndToEndId>
        </PmtId>
        <InstdAmt Ccy="EUR">39.99</InstdAmt>
        <DrctDbtTx>
          <MndtRltdInf>
            <MndtId>UMR-0001</MndtId>
            <DtOfSgntr>2025-03-14</DtOfSgntr>
          </MndtRltdInf>
        </DrctDbtTx>
        <DbtrAgt>
          <FinInstnId>
            <` + bic + `>BNPAFRPPXXX</` + bic + `>
          </FinInstnId>
        </DbtrAgt>
        <Dbtr>
          <Nm>Jeanne Martin</Nm>
        </Dbtr>
        <DbtrAcct>
          <Id>
            <IBAN>FR7630006000011234567890189</IBAN>
          </Id>
        </DbtrAcct>
        <RmtInf>
          <Ustrd>November subscription</Ustrd>
        </RmtInf>
      </DrctDbtTxInf>
      <DrctDbtTxInf>
        <PmtId>
          <EndToEndId>PAY-0002</EndToEndId>
        </PmtId>
        <InstdAmt Ccy="EUR">50.00</InstdAmt>
        <DrctDbtTx>
          <MndtRltdInf>
            <MndtId>UMR-0002</MndtId>
            <DtOfSgntr>2024-11-02</DtOfSgntr>
          </MndtRltdInf>
        </DrctDbtTx>
        <DbtrAgt>
          <FinInstnId>
            <Othr>
              <Id>NOTPROVIDED</Id>
            </Othr>
          </FinInstnId>
        </DbtrAgt>
        <Dbtr>
          <Nm>Paul Durand</Nm>
        </Dbtr>
        <DbtrAcct>
          <Id>
            <IBAN>DE21500500009876543210</IBAN>
          </Id>
        </DbtrAcct>
      </DrctDbtTxInf>
    </PmtInf>
  </CstmrDrctDbtInitn>
</Document>
`
}

// p8CIBlock is the PmtInf-level creditor identifier of p8Base.
const p8CIBlock = `      <CdtrSchmeId>
        <Id>
          <PrvtId>
            <Othr>
              <Id>DE98ZZZ09999999999</Id>
              <SchmeNm>
                <Prtry>SEPA</Prtry>
              </SchmeNm>
            </Othr>
          </PrvtId>
        </Id>
      </CdtrSchmeId>
`

// p8TxCI is a transaction-level creditor identifier (SEPA.md P8-20).
func p8TxCI(ci string) string {
	return "</MndtRltdInf>\n<CdtrSchmeId><Id><PrvtId><Othr><Id>" + ci + "</Id><SchmeNm><Prtry>SEPA</Prtry></SchmeNm></Othr></PrvtId></Id></CdtrSchmeId>"
}

func TestPain008TxLevelCreditorID(t *testing.T) {
	noPmtInfCI := strings.Replace(p8Base("02"), p8CIBlock, "", 1)
	both := strings.ReplaceAll(noPmtInfCI, "</MndtRltdInf>", p8TxCI("DE98ZZZ09999999999"))
	if _, issues := p8Validate(t, both, Options{CreditorID: "DE98ZZZ09999999999"}); len(issues) > 0 {
		t.Fatalf("CI in every transaction refused:%s", fmtIssues(issues))
	}
	cases := []struct {
		name string
		doc  string
		opt  Options
		code string
		path string
	}{
		{"only in the first", strings.Replace(noPmtInfCI, "</MndtRltdInf>", p8TxCI("DE98ZZZ09999999999"), 1), Options{},
			CodeMissingValue, "PmtInf[1]/DrctDbtTxInf[2]/DrctDbtTx/CdtrSchmeId/Id/PrvtId/Othr/Id"},
		{"differs from PmtInf", strings.Replace(p8Base("02"), "</MndtRltdInf>", p8TxCI("FR72ZZZ123456"), 1), Options{},
			CodeInvalidValue, "PmtInf[1]/DrctDbtTxInf[1]/DrctDbtTx/CdtrSchmeId/Id/PrvtId/Othr[1]/Id"},
		{"not the merchant's", both, Options{CreditorID: "FR72ZZZ123456"},
			CodeCreditorMismatch, "PmtInf[1]/DrctDbtTxInf[1]/DrctDbtTx/CdtrSchmeId/Id/PrvtId/Othr[1]/Id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, issues := p8Validate(t, c.doc, c.opt)
			if len(issues) == 0 || issues[0].Code != c.code || issues[0].Column != c.path {
				t.Fatalf("want %s %s first:%s", c.code, c.path, fmtIssues(issues))
			}
		})
	}
}

// TestPain008VersionHint: the other version's BIC element name is
// explained, not just refused.
func TestPain008VersionHint(t *testing.T) {
	doc := strings.ReplaceAll(p8Base("08"), "BICFI>", "BIC>")
	_, issues := p8Validate(t, doc, Options{})
	if len(issues) != 2 || !strings.Contains(issues[0].Message, "where the BIC element is BICFI") {
		t.Fatalf("want two hinted issues:%s", fmtIssues(issues))
	}
}

// p8Today is the upload day of the tests.
var p8Today = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func p8Validate(t testing.TB, doc string, opt Options) (Summary, []Issue) {
	t.Helper()
	s, issues, err := validatePain008(strings.NewReader(doc), opt)
	if err != nil {
		t.Fatalf("validatePain008: %v", err)
	}
	return s, issues
}

func fmtIssues(is []Issue) string {
	var b strings.Builder
	for _, i := range is {
		fmt.Fprintf(&b, "\n  %d %s %s %s", i.Line, i.Column, i.Code, i.Message)
	}
	return b.String()
}

// lineOf is the 1-based line of the first occurrence of s in doc.
func lineOf(t *testing.T, doc, s string) int {
	t.Helper()
	i := strings.Index(doc, s)
	if i < 0 {
		t.Fatalf("%q not in document", s)
	}
	return strings.Count(doc[:i], "\n") + 1
}

func TestPain008ValidBase(t *testing.T) {
	for _, v := range []string{"02", "08"} {
		t.Run(v, func(t *testing.T) {
			s, issues := p8Validate(t, p8Base(v), Options{CreditorID: "DE98ZZZ09999999999", Today: p8Today})
			if len(issues) > 0 {
				t.Fatalf("valid document refused:%s", fmtIssues(issues))
			}
			want := Summary{Type: Pain008, Lines: 2, Total: 8999, Currency: "EUR"}
			if s != want {
				t.Errorf("summary = %+v, want %+v", s, want)
			}
		})
	}
}

func TestPain008Reader(t *testing.T) {
	for _, v := range []string{"02", "08"} {
		t.Run(v, func(t *testing.T) {
			r, err := newPain008Reader(strings.NewReader(p8Base(v)))
			if err != nil {
				t.Fatal(err)
			}
			var got []Payment
			for {
				pay, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, pay)
			}
			exec := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
			want := []Payment{{
				Line: 1, Reference: "PAY-0001", Amount: 3999, MandateRef: "UMR-0001",
				MandateSigned: time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC),
				DebtorName:    "Jeanne Martin", DebtorIBAN: "FR7630006000011234567890189", DebtorBIC: "BNPAFRPPXXX",
				SequenceType: "RCUR", Scheme: SchemeCore, ExecutionDate: exec, Label: "November subscription",
			}, {
				Line: 2, Reference: "PAY-0002", Amount: 5000, MandateRef: "UMR-0002",
				MandateSigned: time.Date(2024, 11, 2, 0, 0, 0, 0, time.UTC),
				DebtorName:    "Paul Durand", DebtorIBAN: "DE21500500009876543210",
				SequenceType: "RCUR", Scheme: SchemeCore, ExecutionDate: exec,
			}}
			if len(got) != len(want) {
				t.Fatalf("got %d payments, want %d: %+v", len(got), len(want), got)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("payment %d:\n got %+v\nwant %+v", i+1, got[i], want[i])
				}
			}
			// io.EOF again after the end.
			if _, err := r.Next(); err != io.EOF {
				t.Errorf("Next after end = %v, want io.EOF", err)
			}
		})
	}
}

func TestPain008ReaderMapping(t *testing.T) {
	doc := p8Base("08")
	doc = strings.Replace(doc, "<Cd>CORE</Cd>", "<Cd>B2B</Cd>", 1)
	doc = strings.Replace(doc, "<SeqTp>RCUR</SeqTp>", "<SeqTp>FRST</SeqTp>", 1)
	// The .08 <ReqdColltnDt><Dt> form some generators write is tolerated.
	doc = strings.Replace(doc, "<ReqdColltnDt>2026-12-03</ReqdColltnDt>", "<ReqdColltnDt>\n        <Dt>2026-12-04</Dt>\n      </ReqdColltnDt>", 1)
	if _, issues := p8Validate(t, doc, Options{}); len(issues) > 0 {
		t.Fatalf("refused:%s", fmtIssues(issues))
	}
	r, _ := newPain008Reader(strings.NewReader(doc))
	pay, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if pay.Scheme != SchemeB2B || pay.SequenceType != "FRST" || !pay.ExecutionDate.Equal(time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("got scheme %s seq %s date %v", pay.Scheme, pay.SequenceType, pay.ExecutionDate)
	}
}

func TestPain008ReaderRefusesInvalid(t *testing.T) {
	doc := strings.Replace(p8Base("02"), "<InstdAmt Ccy=\"EUR\">50.00</InstdAmt>", "<InstdAmt Ccy=\"EUR\">50.001</InstdAmt>", 1)
	r, _ := newPain008Reader(strings.NewReader(doc))
	if _, err := r.Next(); err != nil {
		t.Fatalf("first transaction is valid: %v", err)
	}
	if _, err := r.Next(); !errors.Is(err, ErrPain008Invalid) {
		t.Fatalf("second transaction: err = %v, want ErrPain008Invalid", err)
	}
}

// TestPain008Vectors runs every pain.008 sample of the shared vectors
// (vectors/sepa/README.md gives the expected findings).
func TestPain008Vectors(t *testing.T) {
	type finding struct{ code, path string }
	cases := []struct {
		file  string
		opt   Options
		want  []finding
		lines int
		total int64
	}{
		{
			file: "phpsepaxml_pain.008.001.02.xml", lines: 1, total: 1234,
			want: []finding{
				{CodeInvalidIBAN, "PmtInf[1]/CdtrAcct/Id/IBAN"},                  // BG87… fails MOD 97
				{CodeInvalidValue, "PmtInf[1]/CdtrSchmeId/Id/PrvtId/Othr[1]/Id"}, // BG40ZZZ507778 check digits
			},
		},
		{
			file: "phpsepaxml_pain.008.001.08.xml", lines: 1, total: 1234,
			want: []finding{
				{CodeInvalidIBAN, "PmtInf[1]/CdtrAcct/Id/IBAN"},
				{CodeInvalidValue, "PmtInf[1]/CdtrSchmeId/Id/PrvtId/Othr[1]/Id"},
			},
		},
		{
			// A registered merchant sees its own CI compared instead.
			file: "phpsepaxml_pain.008.001.08.xml", lines: 1, total: 1234,
			opt: Options{CreditorID: "DE98ZZZ09999999999"},
			want: []finding{
				{CodeInvalidIBAN, "PmtInf[1]/CdtrAcct/Id/IBAN"},
				{CodeCreditorMismatch, "PmtInf[1]/CdtrSchmeId/Id/PrvtId/Othr[1]/Id"},
			},
		},
		{
			file: "sepaking_pain.008.001.02.xml", lines: 2, total: 665586,
			want: []finding{
				{CodeInvalidValue, "PmtInf[1]/CdtrSchmeId/Id/PrvtId/Othr[1]/Id"}, // DE00ZZZ… check digits
				{CodeInvalidValue, "PmtInf[1]/DrctDbtTxInf[1]/DrctDbtTx/MndtRltdInf/AmdmntInfDtls/OrgnlCdtrSchmeId/Id/PrvtId/Othr[1]/Id"},
			},
		},
		{
			// German DK namespace: not a version we accept (decision in
			// pain008.go).
			file: "sepaking_pain.008.003.02.xml",
			want: []finding{{CodeUnknownFileType, "Document"}},
		},
		{
			// Swiss CH-DD (CHF, SvcLvl CHDD): not a SEPA file at all.
			file: "moov_pain008-musterfile_ch.xml",
			want: []finding{{CodeUnknownFileType, "Document"}},
		},
		{
			// ISO-8859-1 declaration and a version-less namespace.
			file: "hbci4java_invalid_pain_namespace_latin1.xml",
			want: []finding{{CodeEncoding, ""}},
		},
		{
			file: "moov_invalid_pain002_nonamespace.xml",
			want: []finding{{CodeUnknownFileType, "Document"}},
		},
		{
			// A pain.001 is not a pain.008.
			file: "phpsepaxml_pain.001.001.03.xml",
			want: []finding{{CodeUnknownFileType, "Document"}},
		},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(p8Vectors, c.file))
			if err != nil {
				t.Fatalf("vector missing (shared/ must sit beside the repository): %v", err)
			}
			s, issues := p8Validate(t, string(data), c.opt)
			if len(issues) != len(c.want) {
				t.Fatalf("got %d issues, want %d:%s", len(issues), len(c.want), fmtIssues(issues))
			}
			for i, w := range c.want {
				if issues[i].Code != w.code || issues[i].Column != w.path {
					t.Errorf("issue %d = %s %s, want %s %s", i, issues[i].Code, issues[i].Column, w.code, w.path)
				}
			}
			if s.Lines != c.lines || s.Total != c.total {
				t.Errorf("summary lines %d total %d, want %d %d", s.Lines, s.Total, c.lines, c.total)
			}
		})
	}
}

// TestPain008Codes breaks the valid base document one way at a time and
// checks the one issue it must give: code, element path and line.
func TestPain008Codes(t *testing.T) {
	const tx2 = "PmtInf[1]/DrctDbtTxInf[2]/"
	cases := []struct {
		name     string
		v        string // "02", "08" or "" for both
		old, new string
		opt      Options
		code     string
		path     string
		at       string // the line of the first occurrence of at in the broken document
	}{
		{"group count", "", "<NbOfTxs>2</NbOfTxs>\n      <CtrlSum>89.99</CtrlSum>\n      <InitgPty>", "<NbOfTxs>3</NbOfTxs>\n      <CtrlSum>89.99</CtrlSum>\n      <InitgPty>", Options{}, CodeCountMismatch, "GrpHdr/NbOfTxs", "<NbOfTxs>3"},
		{"group count leading zeros ok", "", "<NbOfTxs>2</NbOfTxs>\n      <CtrlSum>89.99</CtrlSum>\n      <InitgPty>", "<NbOfTxs>002</NbOfTxs>\n      <CtrlSum>89.99</CtrlSum>\n      <InitgPty>", Options{}, "", "", ""},
		{"group total", "", "<CtrlSum>89.99</CtrlSum>\n      <InitgPty>", "<CtrlSum>89.98</CtrlSum>\n      <InitgPty>", Options{}, CodeTotalMismatch, "GrpHdr/CtrlSum", "<CtrlSum>89.98"},
		{"group total trailing zeros ok", "", "<CtrlSum>89.99</CtrlSum>\n      <InitgPty>", "<CtrlSum>89.9900</CtrlSum>\n      <InitgPty>", Options{}, "", "", ""},
		{"group total 3 decimals", "", "<CtrlSum>89.99</CtrlSum>\n      <InitgPty>", "<CtrlSum>89.991</CtrlSum>\n      <InitgPty>", Options{}, CodeInvalidAmount, "GrpHdr/CtrlSum", "<CtrlSum>89.991"},
		{"group total optional", "", "<CtrlSum>89.99</CtrlSum>\n      <InitgPty>", "<InitgPty>", Options{}, "", "", ""},
		{"pmtinf count", "", "<NbOfTxs>2</NbOfTxs>\n      <CtrlSum>89.99</CtrlSum>\n      <PmtTpInf>", "<NbOfTxs>1</NbOfTxs>\n      <CtrlSum>89.99</CtrlSum>\n      <PmtTpInf>", Options{}, CodeCountMismatch, "PmtInf[1]/NbOfTxs", "<NbOfTxs>1"},
		{"pmtinf total", "", "<CtrlSum>89.99</CtrlSum>\n      <PmtTpInf>", "<CtrlSum>90</CtrlSum>\n      <PmtTpInf>", Options{}, CodeTotalMismatch, "PmtInf[1]/CtrlSum", "<CtrlSum>90"},
		{"payment method", "", "<PmtMtd>DD</PmtMtd>", "<PmtMtd>TRF</PmtMtd>", Options{}, CodeInvalidValue, "PmtInf[1]/PmtMtd", "<PmtMtd>"},
		{"service level", "02", "<Cd>SEPA</Cd>", "<Cd>NURG</Cd>", Options{}, CodeInvalidValue, "PmtInf[1]/PmtTpInf/SvcLvl/Cd", "<Cd>NURG"},
		{"service level", "08", "<Cd>SEPA</Cd>", "<Cd>NURG</Cd>", Options{}, CodeInvalidValue, "PmtInf[1]/PmtTpInf/SvcLvl[1]/Cd", "<Cd>NURG"}, // SvcLvl may repeat in .08
		{"service level proprietary", "02", "<Cd>SEPA</Cd>", "<Prtry>CHDD</Prtry>", Options{}, CodeInvalidValue, "PmtInf[1]/PmtTpInf/SvcLvl/Prtry", "<Prtry>CHDD"},
		{"service level proprietary", "08", "<Cd>SEPA</Cd>", "<Prtry>CHDD</Prtry>", Options{}, CodeInvalidValue, "PmtInf[1]/PmtTpInf/SvcLvl[1]/Prtry", "<Prtry>CHDD"},
		{"service level missing", "", "<SvcLvl>\n          <Cd>SEPA</Cd>\n        </SvcLvl>\n", "", Options{}, CodeMissingValue, "PmtInf[1]/PmtTpInf/SvcLvl/Cd", "<PmtInf>"},
		{"local instrument", "", "<Cd>CORE</Cd>", "<Cd>COR1</Cd>", Options{}, CodeInvalidValue, "PmtInf[1]/PmtTpInf/LclInstrm/Cd", "<Cd>COR1"},
		{"sequence type", "", "<SeqTp>RCUR</SeqTp>", "<SeqTp>LAST</SeqTp>", Options{}, CodeInvalidValue, "PmtInf[1]/PmtTpInf/SeqTp", "<SeqTp>"},
		{"sequence type missing", "", "<SeqTp>RCUR</SeqTp>", "", Options{}, CodeMissingValue, "PmtInf[1]/PmtTpInf/SeqTp", "<PmtInf>"},
		{"currency", "", `<InstdAmt Ccy="EUR">50.00</InstdAmt>`, `<InstdAmt Ccy="CHF">50.00</InstdAmt>`, Options{}, CodeInvalidValue, tx2 + "InstdAmt@Ccy", `Ccy="CHF"`},
		{"currency not a code", "", `<InstdAmt Ccy="EUR">50.00</InstdAmt>`, `<InstdAmt Ccy="eur">50.00</InstdAmt>`, Options{}, CodeInvalidValue, tx2 + "InstdAmt@Ccy", `Ccy="eur"`},
		{"currency missing", "", `<InstdAmt Ccy="EUR">50.00</InstdAmt>`, `<InstdAmt>50.00</InstdAmt>`, Options{}, CodeXMLStructure, tx2 + "InstdAmt@Ccy", `<InstdAmt>50.00`},
		{"creditor mismatch", "", "", "", Options{CreditorID: "FR72ZZZ123456"}, CodeCreditorMismatch, "PmtInf[1]/CdtrSchmeId/Id/PrvtId/Othr[1]/Id", "DE98ZZZ"},
		{"creditor id business code ignored", "", "DE98ZZZ09999999999", "DE98ABC09999999999", Options{CreditorID: "DE98ZZZ09999999999"}, "", "", ""},
		{"creditor id check digits", "", "DE98ZZZ09999999999", "DE97ZZZ09999999999", Options{}, CodeInvalidValue, "PmtInf[1]/CdtrSchmeId/Id/PrvtId/Othr[1]/Id", "DE97ZZZ"},
		{"creditor scheme name", "", "<Prtry>SEPA</Prtry>", "<Prtry>XSEPA</Prtry>", Options{}, CodeInvalidValue, "PmtInf[1]/CdtrSchmeId/Id/PrvtId/Othr[1]/SchmeNm/Prtry", "XSEPA"},
		{"duplicate end-to-end id", "", "<EndToEndId>PAY-0002</EndToEndId>", "<EndToEndId>PAY-0001</EndToEndId>", Options{}, CodeDuplicateRef, tx2 + "PmtId/EndToEndId", "<EndToEndId>PAY-0001</EndToEndId>\n        </PmtId>\n        <InstdAmt Ccy=\"EUR\">50"},
		{"end-to-end NOTPROVIDED", "", "<EndToEndId>PAY-0002</EndToEndId>", "<EndToEndId>NOTPROVIDED</EndToEndId>", Options{}, CodeInvalidValue, tx2 + "PmtId/EndToEndId", "NOTPROVIDED</End"},
		{"end-to-end charset", "", "<EndToEndId>PAY-0002</EndToEndId>", "<EndToEndId>PAY_0002</EndToEndId>", Options{}, CodeInvalidCharset, tx2 + "PmtId/EndToEndId", "PAY_0002"},
		{"end-to-end slash", "", "<EndToEndId>PAY-0002</EndToEndId>", "<EndToEndId>/PAY-0002</EndToEndId>", Options{}, CodeInvalidCharset, tx2 + "PmtId/EndToEndId", "/PAY-0002"},
		{"end-to-end too long", "", "<EndToEndId>PAY-0002</EndToEndId>", "<EndToEndId>" + strings.Repeat("X", 36) + "</EndToEndId>", Options{}, CodeTooLong, tx2 + "PmtId/EndToEndId", "XXXX"},
		{"end-to-end empty", "", "<EndToEndId>PAY-0002</EndToEndId>", "<EndToEndId></EndToEndId>", Options{}, CodeMissingValue, tx2 + "PmtId/EndToEndId", "<EndToEndId></"},
		{"mandate charset", "", "<MndtId>UMR-0002</MndtId>", "<MndtId>UMR#0002</MndtId>", Options{}, CodeInvalidCharset, tx2 + "DrctDbtTx/MndtRltdInf/MndtId", "UMR#"},
		{"mandate missing", "", "<MndtId>UMR-0002</MndtId>", "", Options{}, CodeMissingValue, tx2 + "DrctDbtTx/MndtRltdInf/MndtId", "<DrctDbtTxInf>\n        <PmtId>\n          <EndToEndId>PAY-0002"},
		{"amount 3 decimals", "", ">50.00<", ">50.001<", Options{}, CodeInvalidAmount, tx2 + "InstdAmt", "50.001"},
		{"amount zero", "", ">50.00<", ">0.00<", Options{}, CodeInvalidAmount, tx2 + "InstdAmt", ">0.00<"},
		{"amount not a number", "", ">50.00<", ">5O.00<", Options{}, CodeInvalidAmount, tx2 + "InstdAmt", "5O.00"},
		{"amount too large", "", ">50.00<", ">1000000000.00<", Options{}, CodeInvalidAmount, tx2 + "InstdAmt", "1000000000"},
		{"signature date invalid", "", "<DtOfSgntr>2024-11-02</DtOfSgntr>", "<DtOfSgntr>2024-02-30</DtOfSgntr>", Options{}, CodeInvalidDate, tx2 + "DrctDbtTx/MndtRltdInf/DtOfSgntr", "2024-02-30"},
		{"signature date after upload day", "", "<DtOfSgntr>2024-11-02</DtOfSgntr>", "<DtOfSgntr>2026-11-28</DtOfSgntr>", Options{Today: p8Today}, CodeInvalidDate, tx2 + "DrctDbtTx/MndtRltdInf/DtOfSgntr", "2026-11-28"},
		{"signature date the upload day", "", "<DtOfSgntr>2024-11-02</DtOfSgntr>", "<DtOfSgntr>2026-11-27</DtOfSgntr>", Options{Today: p8Today}, "", "", ""},
		{"collection date", "", "<ReqdColltnDt>2026-12-03</ReqdColltnDt>", "<ReqdColltnDt>2026-13-03</ReqdColltnDt>", Options{}, CodeInvalidDate, "PmtInf[1]/ReqdColltnDt", "2026-13-03"},
		{"creation date time", "", "<CreDtTm>2026-11-27T09:14:03</CreDtTm>", "<CreDtTm>2026-11-27 09:14</CreDtTm>", Options{}, CodeInvalidDate, "GrpHdr/CreDtTm", "<CreDtTm>"},
		{"creation date time with offset ok", "", "<CreDtTm>2026-11-27T09:14:03</CreDtTm>", "<CreDtTm>2026-11-27T09:14:03.123+01:00</CreDtTm>", Options{}, "", "", ""},
		{"debtor IBAN check digits", "", "DE21500500009876543210", "DE22500500009876543210", Options{}, CodeInvalidIBAN, tx2 + "DbtrAcct/Id/IBAN", "DE2250"},
		{"debtor IBAN with spaces", "", "DE21500500009876543210", "DE21 5005 0000 9876 5432 10", Options{}, CodeInvalidIBAN, tx2 + "DbtrAcct/Id/IBAN", "DE21 "},
		{"debtor IBAN not SEPA", "", "DE21500500009876543210", "US64SVBKUS6S3300958879", Options{}, CodeInvalidIBAN, tx2 + "DbtrAcct/Id/IBAN", "US64"},
		{"debtor account not IBAN", "", "<IBAN>DE21500500009876543210</IBAN>", "<Othr><Id>12345</Id></Othr>", Options{}, CodeInvalidIBAN, tx2 + "DbtrAcct/Id/Othr", "<Othr><Id>12345"},
		{"creditor IBAN", "", "DE89370400440532013000", "DE89370400440532013001", Options{}, CodeInvalidIBAN, "PmtInf[1]/CdtrAcct/Id/IBAN", "DE8937"},
		{"debtor BIC", "02", "BNPAFRPPXXX", "BNPAFR1PXXX", Options{}, CodeInvalidBIC, "PmtInf[1]/DrctDbtTxInf[1]/DbtrAgt/FinInstnId/BIC", "BNPAFR1P"},
		{"debtor BIC length", "08", "BNPAFRPPXXX", "BNPAFRPPXX", Options{}, CodeInvalidBIC, "PmtInf[1]/DrctDbtTxInf[1]/DbtrAgt/FinInstnId/BICFI", "BNPAFRPPXX<"},
		{"BIC element of the other version", "02", "<BIC>BNPAFRPPXXX</BIC>", "<BICFI>BNPAFRPPXXX</BICFI>", Options{}, CodeXMLStructure, "PmtInf[1]/DrctDbtTxInf[1]/DbtrAgt/FinInstnId/BICFI", "<BICFI>BNPA"},
		{"debtor agent other id", "", "<Id>NOTPROVIDED</Id>", "<Id>SOMEBANK</Id>", Options{}, CodeInvalidValue, tx2 + "DbtrAgt/FinInstnId/Othr/Id", "SOMEBANK"},
		{"debtor name too long", "", "<Nm>Paul Durand</Nm>", "<Nm>" + strings.Repeat("Paul ", 15) + "</Nm>", Options{}, CodeTooLong, tx2 + "Dbtr/Nm", "Paul Paul"},
		{"debtor name control char", "", "<Nm>Paul Durand</Nm>", "<Nm>Paul&#x9;Durand</Nm>", Options{}, CodeInvalidCharset, tx2 + "Dbtr/Nm", "Paul&#x9;"},
		{"debtor name accents ok", "", "<Nm>Paul Durand</Nm>", "<Nm>Paul Durand-Müller &amp; Fils</Nm>", Options{}, "", "", ""},
		{"debtor name missing", "", "<Dbtr>\n          <Nm>Paul Durand</Nm>\n        </Dbtr>", "<Dbtr>\n        </Dbtr>", Options{}, CodeMissingValue, tx2 + "Dbtr/Nm", "<DrctDbtTxInf>\n        <PmtId>\n          <EndToEndId>PAY-0002"},
		{"debtor missing", "", "<Dbtr>\n          <Nm>Paul Durand</Nm>\n        </Dbtr>\n", "", Options{}, CodeXMLStructure, tx2 + "Dbtr", "<DbtrAcct>\n          <Id>\n            <IBAN>DE2150"},
		{"creditor name missing", "", "<Cdtr>\n        <Nm>ACME SAS</Nm>\n      </Cdtr>", "<Cdtr>\n      </Cdtr>", Options{}, CodeMissingValue, "PmtInf[1]/Cdtr/Nm", "<Cdtr>"},
		{"remittance too long", "", "<Ustrd>November subscription</Ustrd>", "<Ustrd>" + strings.Repeat("x", 141) + "</Ustrd>", Options{}, CodeTooLong, "PmtInf[1]/DrctDbtTxInf[1]/RmtInf/Ustrd[1]", "<Ustrd>"},
		{"two Ustrd", "", "<Ustrd>November subscription</Ustrd>", "<Ustrd>November</Ustrd>\n<Ustrd>subscription</Ustrd>", Options{}, CodeInvalidValue, "PmtInf[1]/DrctDbtTxInf[1]/RmtInf/Ustrd[2]", "<Ustrd>subscription"},
		{"charge bearer", "", "<ChrgBr>SLEV</ChrgBr>", "<ChrgBr>SHAR</ChrgBr>", Options{}, CodeInvalidValue, "PmtInf[1]/ChrgBr", "SHAR"},
		{"creditor account currency", "", "<IBAN>DE89370400440532013000</IBAN>\n        </Id>", "<IBAN>DE89370400440532013000</IBAN>\n        </Id>\n        <Ccy>USD</Ccy>", Options{}, CodeInvalidValue, "PmtInf[1]/CdtrAcct/Ccy", "<Ccy>USD"},
		{"creditor id missing", "", p8CIBlock, "", Options{}, CodeMissingValue, "PmtInf[1]/DrctDbtTxInf[1]/DrctDbtTx/CdtrSchmeId/Id/PrvtId/Othr/Id", "<DrctDbtTxInf>"},
		{"amendment without details", "", "<DtOfSgntr>2024-11-02</DtOfSgntr>", "<DtOfSgntr>2024-11-02</DtOfSgntr>\n<AmdmntInd>true</AmdmntInd>", Options{}, CodeMissingValue, tx2 + "DrctDbtTx/MndtRltdInf/AmdmntInfDtls", "<AmdmntInd>"},
		{"amendment SMNDA", "", "<DtOfSgntr>2024-11-02</DtOfSgntr>", "<DtOfSgntr>2024-11-02</DtOfSgntr>\n<AmdmntInd>true</AmdmntInd><AmdmntInfDtls><OrgnlDbtrAgt><FinInstnId><Othr><Id>SMNDA</Id></Othr></FinInstnId></OrgnlDbtrAgt></AmdmntInfDtls>", Options{}, "", "", ""},
		{"amendment other code", "", "<DtOfSgntr>2024-11-02</DtOfSgntr>", "<DtOfSgntr>2024-11-02</DtOfSgntr>\n<AmdmntInd>true</AmdmntInd><AmdmntInfDtls><OrgnlDbtrAgt><FinInstnId><Othr><Id>XMNDA</Id></Othr></FinInstnId></OrgnlDbtrAgt></AmdmntInfDtls>", Options{}, CodeInvalidValue, tx2 + "DrctDbtTx/MndtRltdInf/AmdmntInfDtls/OrgnlDbtrAgt/FinInstnId/Othr/Id", "XMNDA"},
		{"unknown element", "", "<ChrgBr>SLEV</ChrgBr>", "<ChrgBr>SLEV</ChrgBr><Foo>x</Foo>", Options{}, CodeXMLStructure, "PmtInf[1]/Foo", "<Foo>"},
		{"element out of order", "", "<PmtMtd>DD</PmtMtd>\n      <NbOfTxs>2</NbOfTxs>", "<NbOfTxs>2</NbOfTxs>\n      <PmtMtd>DD</PmtMtd>", Options{}, CodeXMLStructure, "PmtInf[1]/PmtMtd", "<PmtMtd>"},
		{"required element missing", "", "<MsgId>MSG-0001</MsgId>", "", Options{}, CodeXMLStructure, "GrpHdr/MsgId", "<CreDtTm>"},
		{"element repeated", "", "<PmtMtd>DD</PmtMtd>", "<PmtMtd>DD</PmtMtd><PmtMtd>DD</PmtMtd>", Options{}, CodeXMLStructure, "PmtInf[1]/PmtMtd", "<PmtMtd>"},
		{"text in a complex element", "", "<PmtTpInf>", "<PmtTpInf>oops", Options{}, CodeXMLStructure, "PmtInf[1]/PmtTpInf", "oops"},
		{"element in a value", "", "<PmtMtd>DD</PmtMtd>", "<PmtMtd>DD<X/></PmtMtd>", Options{}, CodeXMLStructure, "PmtInf[1]/PmtMtd/X", "<X/>"},
		{"foreign namespace element", "", "<ChrgBr>SLEV</ChrgBr>", `<ChrgBr>SLEV</ChrgBr><x:Note xmlns:x="urn:other">x</x:Note>`, Options{}, CodeXMLStructure, "PmtInf[1]/Note", "<x:Note"},
		{"choice with two", "", "<IBAN>DE21500500009876543210</IBAN>", "<IBAN>DE21500500009876543210</IBAN><Othr><Id>1</Id></Othr>", Options{}, CodeXMLStructure, tx2 + "DbtrAcct/Id/Othr", "<Othr><Id>1</Id>"},
		{"choice with none", "", "<IBAN>DE21500500009876543210</IBAN>", "", Options{}, CodeXMLStructure, tx2 + "DbtrAcct/Id", "</Id>\n        </DbtrAcct>\n      </DrctDbtTxInf>\n    </PmtInf>"},
		{"control sum not a number", "", "<CtrlSum>89.99</CtrlSum>\n      <InitgPty>", "<CtrlSum>8,99</CtrlSum>\n      <InitgPty>", Options{}, CodeInvalidAmount, "GrpHdr/CtrlSum", "8,99"},
		{"control sum negative", "", "<CtrlSum>89.99</CtrlSum>\n      <InitgPty>", "<CtrlSum>-89.99</CtrlSum>\n      <InitgPty>", Options{}, CodeInvalidAmount, "GrpHdr/CtrlSum", "-89.99"},
		{"control sum too many digits", "", "<CtrlSum>89.99</CtrlSum>\n      <InitgPty>", "<CtrlSum>1234567890123456789</CtrlSum>\n      <InitgPty>", Options{}, CodeInvalidAmount, "GrpHdr/CtrlSum", "12345678901"},
		{"control sum too large for SEPA", "", "<CtrlSum>89.99</CtrlSum>\n      <InitgPty>", "<CtrlSum>1234567890123456.5</CtrlSum>\n      <InitgPty>", Options{}, CodeInvalidAmount, "GrpHdr/CtrlSum", "12345678901"},
		{"control sum with spaces ok", "", "<CtrlSum>89.99</CtrlSum>\n      <InitgPty>", "<CtrlSum> 89.99\n</CtrlSum>\n      <InitgPty>", Options{}, "", "", ""},
		{"count not a number", "", "<NbOfTxs>2</NbOfTxs>\n      <CtrlSum>89.99</CtrlSum>\n      <InitgPty>", "<NbOfTxs>two</NbOfTxs>\n      <CtrlSum>89.99</CtrlSum>\n      <InitgPty>", Options{}, CodeInvalidValue, "GrpHdr/NbOfTxs", "two"},
		{"creation hour 25", "", "<CreDtTm>2026-11-27T09:14:03</CreDtTm>", "<CreDtTm>2026-11-27T25:14:03</CreDtTm>", Options{}, CodeInvalidDate, "GrpHdr/CreDtTm", "<CreDtTm>"},
		{"creation offset 15h", "", "<CreDtTm>2026-11-27T09:14:03</CreDtTm>", "<CreDtTm>2026-11-27T09:14:03+15:00</CreDtTm>", Options{}, CodeInvalidDate, "GrpHdr/CreDtTm", "<CreDtTm>"},
		{"creation empty fraction", "", "<CreDtTm>2026-11-27T09:14:03</CreDtTm>", "<CreDtTm>2026-11-27T09:14:03.Z</CreDtTm>", Options{}, CodeInvalidDate, "GrpHdr/CreDtTm", "<CreDtTm>"},
		{"creation in UTC ok", "", "<CreDtTm>2026-11-27T09:14:03</CreDtTm>", "<CreDtTm>2026-11-27T09:14:03Z</CreDtTm>", Options{}, "", "", ""},
		{"boolean", "", "<DtOfSgntr>2024-11-02</DtOfSgntr>", "<DtOfSgntr>2024-11-02</DtOfSgntr>\n<AmdmntInd>yes</AmdmntInd>", Options{}, CodeInvalidValue, tx2 + "DrctDbtTx/MndtRltdInf/AmdmntInd", "<AmdmntInd>"},
		{"unknown attribute", "", "<PmtMtd>DD</PmtMtd>", `<PmtMtd foo="1">DD</PmtMtd>`, Options{}, CodeXMLStructure, "PmtInf[1]/PmtMtd", `foo="1"`},
	}
	for _, c := range cases {
		for _, v := range []string{"02", "08"} {
			if c.v != "" && c.v != v {
				continue
			}
			t.Run(c.name+"/"+v, func(t *testing.T) {
				base := p8Base(v)
				doc := base
				if c.old != "" {
					i := strings.Index(base, c.old)
					if i < 0 {
						t.Fatalf("%q not in base", c.old)
					}
					doc = base[:i] + c.new + base[i+len(c.old):]
				}
				_, issues := p8Validate(t, doc, c.opt)
				if c.code == "" {
					if len(issues) > 0 {
						t.Fatalf("want no issue:%s", fmtIssues(issues))
					}
					return
				}
				if len(issues) != 1 {
					t.Fatalf("want exactly one %s issue:%s", c.code, fmtIssues(issues))
				}
				is := issues[0]
				if is.Code != c.code || is.Column != c.path {
					t.Errorf("issue = %s %s (%s), want %s %s", is.Code, is.Column, is.Message, c.code, c.path)
				}
				if want := lineOf(t, doc, c.at); is.Line != want {
					t.Errorf("issue line = %d, want %d (%s)", is.Line, want, is.Message)
				}
				if is.Message == "" {
					t.Error("empty message")
				}
			})
		}
	}
}

// p8Gen streams a valid pain.008.001.02 of n transactions without holding
// it in memory: the benchmark and the bound-memory tests read hundreds of
// megabytes from it.
type p8Gen struct {
	n, i  int
	stage int // 0 header, 1 transactions, 2 footer, 3 done
	buf   []byte
	off   int
	mut   func(i int, tx []byte) []byte // optional: change transaction i
}

func newP8Gen(n int) *p8Gen { return &p8Gen{n: n} }

// p8GenAmount is the amount of transaction i in cents: 1.00 to 10.99 EUR.
func p8GenAmount(i int) int64 { return 100 + int64(i%1000) }

func (g *p8Gen) fill() {
	g.buf, g.off = g.buf[:0], 0
	switch g.stage {
	case 0:
		var sum int64
		for i := 0; i < g.n; i++ {
			sum += p8GenAmount(i)
		}
		g.buf = fmt.Appendf(g.buf, `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.02">
<CstmrDrctDbtInitn>
<GrpHdr><MsgId>GEN-1</MsgId><CreDtTm>2026-11-27T09:00:00</CreDtTm><NbOfTxs>%d</NbOfTxs><CtrlSum>%s</CtrlSum><InitgPty><Nm>ACME SAS</Nm></InitgPty></GrpHdr>
<PmtInf><PmtInfId>GEN-PI-1</PmtInfId><PmtMtd>DD</PmtMtd><NbOfTxs>%d</NbOfTxs><CtrlSum>%s</CtrlSum>
<PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl><LclInstrm><Cd>CORE</Cd></LclInstrm><SeqTp>RCUR</SeqTp></PmtTpInf>
<ReqdColltnDt>2026-12-03</ReqdColltnDt><Cdtr><Nm>ACME SAS</Nm></Cdtr>
<CdtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></CdtrAcct><CdtrAgt><FinInstnId><BIC>COBADEFFXXX</BIC></FinInstnId></CdtrAgt><ChrgBr>SLEV</ChrgBr>
<CdtrSchmeId><Id><PrvtId><Othr><Id>DE98ZZZ09999999999</Id><SchmeNm><Prtry>SEPA</Prtry></SchmeNm></Othr></PrvtId></Id></CdtrSchmeId>
`, g.n, FormatAmount(sum), g.n, FormatAmount(sum))
		g.stage = 1
		if g.n == 0 {
			g.stage = 2
		}
	case 1:
		// Several transactions per fill keep Read calls cheap.
		for k := 0; k < 64 && g.i < g.n; k++ {
			start := len(g.buf)
			g.buf = fmt.Appendf(g.buf, `<DrctDbtTxInf>
  <PmtId><EndToEndId>E2E-%08d</EndToEndId></PmtId>
  <InstdAmt Ccy="EUR">%s</InstdAmt>
  <DrctDbtTx><MndtRltdInf><MndtId>UMR-%08d</MndtId><DtOfSgntr>2025-03-14</DtOfSgntr></MndtRltdInf></DrctDbtTx>
  <DbtrAgt><FinInstnId><BIC>BNPAFRPPXXX</BIC></FinInstnId></DbtrAgt>
  <Dbtr><Nm>Jeanne Martin</Nm></Dbtr>
  <DbtrAcct><Id><IBAN>FR7630006000011234567890189</IBAN></Id></DbtrAcct>
  <RmtInf><Ustrd>November subscription %d</Ustrd></RmtInf>
</DrctDbtTxInf>
`, g.i, FormatAmount(p8GenAmount(g.i)), g.i, g.i)
			if g.mut != nil {
				tx := g.mut(g.i, append([]byte(nil), g.buf[start:]...))
				g.buf = append(g.buf[:start], tx...)
			}
			g.i++
		}
		if g.i == g.n {
			g.stage = 2
		}
	case 2:
		g.buf = append(g.buf, "</PmtInf>\n</CstmrDrctDbtInitn>\n</Document>\n"...)
		g.stage = 3
	}
}

func (g *p8Gen) Read(p []byte) (int, error) {
	for g.off == len(g.buf) {
		if g.stage == 3 {
			return 0, io.EOF
		}
		g.fill()
	}
	n := copy(p, g.buf[g.off:])
	g.off += n
	return n, nil
}

// p8PeakHeap samples the live heap (runtime/metrics, which does not stop
// the world as runtime.ReadMemStats does) every few milliseconds while f
// runs, and returns the peak above the heap before f.
func p8PeakHeap(f func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	base := read()
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var top uint64
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			top = max(top, read())
			select {
			case <-done:
				if top < base {
					top = base
				}
				peak <- top - base
				return
			case <-t.C:
			}
		}
	}()
	f()
	close(done)
	return <-peak
}

func TestPain008Generated(t *testing.T) {
	s, issues, err := validatePain008(newP8Gen(3000), Options{CreditorID: "DE98ZZZ09999999999", Today: p8Today})
	if err != nil || len(issues) > 0 {
		t.Fatalf("err %v, issues:%s", err, fmtIssues(issues))
	}
	var want int64
	for i := 0; i < 3000; i++ {
		want += p8GenAmount(i)
	}
	if s.Lines != 3000 || s.Total != want {
		t.Errorf("summary %+v, want 3000 lines total %d", s, want)
	}
	r, _ := newPain008Reader(newP8Gen(3000))
	n := 0
	for {
		pay, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		if pay.Line != n || pay.Reference != fmt.Sprintf("E2E-%08d", n-1) || pay.Amount != p8GenAmount(n-1) {
			t.Fatalf("payment %d = %+v", n, pay)
		}
	}
	if n != 3000 {
		t.Errorf("read %d payments", n)
	}
}

// TestPain008TooManyErrors: 1,500 bad IBANs give 1,000 issues then
// TOO_MANY_ERRORS, and the check stops reading.
func TestPain008TooManyErrors(t *testing.T) {
	g := newP8Gen(1500)
	g.mut = func(i int, tx []byte) []byte {
		return bytes.Replace(tx, []byte("FR7630006000011234567890189"), []byte("FR7630006000011234567890188"), 1)
	}
	_, issues, err := validatePain008(g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(issues) != MaxIssues+1 {
		t.Fatalf("got %d issues, want %d", len(issues), MaxIssues+1)
	}
	for i, is := range issues[:MaxIssues] {
		if is.Code != CodeInvalidIBAN || is.Column != fmt.Sprintf("PmtInf[1]/DrctDbtTxInf[%d]/DbtrAcct/Id/IBAN", i+1) {
			t.Fatalf("issue %d = %+v", i, is)
		}
		if i > 0 && is.Line <= issues[i-1].Line {
			t.Fatalf("issues not in line order at %d", i)
		}
	}
	if last := issues[MaxIssues]; last.Code != CodeTooManyErrors || last.Line != issues[MaxIssues-1].Line {
		t.Errorf("last issue = %+v", last)
	}
	// Duplicates, found once the document is read, are capped the same way.
	g = newP8Gen(1500)
	g.mut = func(i int, tx []byte) []byte {
		// Pairs of transactions share an id: 750 duplicates in hash order.
		return bytes.Replace(tx, fmt.Appendf(nil, "E2E-%08d", i), fmt.Appendf(nil, "E2E-%08d", i/2), 1)
	}
	_, issues, _ = validatePain008(g, Options{MaxIssues: 100})
	if len(issues) != 101 || issues[100].Code != CodeTooManyErrors {
		t.Fatalf("%d issues, last %+v", len(issues), issues[len(issues)-1])
	}
	for k, is := range issues[:100] {
		tx := 2*k + 2 // the second of each pair, the earliest first
		if is.Code != CodeDuplicateRef || is.Column != fmt.Sprintf("PmtInf[1]/DrctDbtTxInf[%d]/PmtId/EndToEndId", tx) ||
			!strings.Contains(is.Message, fmt.Sprintf("transaction %d (line ", tx-1)) {
			t.Fatalf("issue %d = %+v", k, is)
		}
	}
	// Options.MaxIssues lowers the cap.
	g = newP8Gen(50)
	g.mut = func(i int, tx []byte) []byte { return bytes.Replace(tx, []byte(`Ccy="EUR"`), []byte(`Ccy="USD"`), 1) }
	_, issues, _ = validatePain008(g, Options{MaxIssues: 3})
	if len(issues) != 4 || issues[3].Code != CodeTooManyErrors {
		t.Errorf("MaxIssues 3:%s", fmtIssues(issues))
	}
	if g.i >= 1500 {
		t.Errorf("the check read all %d transactions after TOO_MANY_ERRORS", g.i)
	}
}

// BenchmarkValidatePain008_100k validates a 100,000-transaction document
// (about 55 MB) generated on the fly and reports the peak live heap.
func BenchmarkValidatePain008_100k(b *testing.B) {
	const n = 100_000
	var size int64
	if c, err := io.Copy(io.Discard, newP8Gen(n)); err == nil {
		size = c
	}
	b.SetBytes(size)
	b.ReportAllocs()
	var peak uint64
	for b.Loop() {
		p := p8PeakHeap(func() {
			s, issues, err := validatePain008(newP8Gen(n), Options{CreditorID: "DE98ZZZ09999999999", Today: p8Today})
			if err != nil || len(issues) > 0 || s.Lines != n {
				b.Fatalf("err %v lines %d issues:%s", err, s.Lines, fmtIssues(issues))
			}
		})
		peak = max(peak, p)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// p8Repeat streams s n times, then tail: hostile documents of any size
// without holding them in memory.
func p8Repeat(head, s string, n int64, tail string) io.Reader {
	return io.MultiReader(strings.NewReader(head), &p8RepeatReader{s: s, left: n}, strings.NewReader(tail))
}

type p8RepeatReader struct {
	s    string
	left int64
	off  int
}

func (r *p8RepeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && r.left > 0 {
		c := copy(p[n:], r.s[r.off:])
		n += c
		r.off += c
		if r.off == len(r.s) {
			r.off = 0
			r.left--
		}
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// TestPain008Hostile feeds malformed and hostile documents: each is refused
// with the expected code, fast and with a small heap, never a panic.
func TestPain008Hostile(t *testing.T) {
	const head = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"><CstmrDrctDbtInitn><GrpHdr><MsgId>`
	base := p8Base("02")
	paulLine := strings.Count(base[:strings.Index(base, "Paul Durand")], "\n") + 1
	cases := []struct {
		name string
		r    func() io.Reader
		code string
		line int // 0: not checked
	}{
		{"billion laughs", func() io.Reader {
			return strings.NewReader(`<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"><CstmrDrctDbtInitn><GrpHdr><MsgId>&lol3;</MsgId></GrpHdr></CstmrDrctDbtInitn></Document>`)
		}, CodeXMLStructure, 2},
		{"external entity", func() io.Reader {
			return strings.NewReader(`<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Document>&xxe;</Document>`)
		}, CodeXMLStructure, 1},
		{"undefined entity", func() io.Reader {
			return strings.NewReader(strings.Replace(base, "MSG-0001", "MSG&lol;", 1))
		}, CodeXMLSyntax, 5},
		{"huge DOCTYPE", func() io.Reader {
			return p8Repeat(`<?xml version="1.0"?><!DOCTYPE d [`, `<!ENTITY a "aaaaaaaaaaaaaaaaaaaa">`, 20_000_000, `]><Document/>`)
		}, CodeXMLStructure, 1},
		{"deep nesting", func() io.Reader {
			return p8Repeat(head[:strings.Index(head, "<CstmrDrctDbtInitn>")], "<a>", 10_000_000, "")
		}, CodeXMLStructure, 2},
		{"deep nesting in known elements", func() io.Reader {
			return p8Repeat(head, "<Nm>", 10_000_000, "")
		}, CodeXMLStructure, 2},
		{"500 MB text node", func() io.Reader { return p8Repeat(head, "x", 500<<20, "</MsgId>") }, CodeTooLong, 2},
		{"500 MB text with > characters", func() io.Reader { return p8Repeat(head, "a>", 250<<20, "</MsgId>") }, CodeTooLong, 2},
		{"500 MB of CDATA sections", func() io.Reader { return p8Repeat(head, "<![CDATA[abcdefgh]]>", 25<<20, "</MsgId>") }, CodeTooLong, 2},
		{"huge CDATA", func() io.Reader { return p8Repeat(head+"<![CDATA[", "<>", 250<<20, "]]></MsgId>") }, CodeTooLong, 2},
		{"huge comment", func() io.Reader { return p8Repeat(head+"<!--", "<a>", 100<<20, "--></MsgId>") }, CodeXMLStructure, 2},
		{"huge attribute", func() io.Reader { return p8Repeat(head+`</MsgId><CreDtTm a="`, "x>", 250<<20, `">`) }, CodeXMLStructure, 2},
		{"many attributes", func() io.Reader { return p8Repeat(head+`</MsgId><CreDtTm `, `a="1" `, 50<<20, `>`) }, CodeXMLStructure, 2},
		{"huge processing instruction", func() io.Reader { return p8Repeat("<?pi ", "<>", 250<<20, "?>") }, CodeXMLStructure, 1},
		{"huge tag name", func() io.Reader { return p8Repeat("<", "D", 500<<20, ">") }, CodeXMLStructure, 1},
		{"endless whitespace", func() io.Reader { return p8Repeat("", " ", 500<<20, "<Document/>") }, CodeTooLong, 1},
		{"latin-1 declared", func() io.Reader {
			return strings.NewReader(strings.Replace(base, `encoding="UTF-8"`, `encoding="ISO-8859-1"`, 1))
		}, CodeEncoding, 0},
		{"utf-16 declared", func() io.Reader {
			return strings.NewReader(strings.Replace(base, `encoding="UTF-8"`, `encoding="UTF-16"`, 1))
		}, CodeEncoding, 0},
		{"byte-order mark", func() io.Reader { return strings.NewReader("\uFEFF" + base) }, CodeEncoding, 0},
		{"invalid UTF-8", func() io.Reader {
			return strings.NewReader(strings.Replace(base, "Paul Durand", "Paul \xff Durand", 1))
		}, CodeEncoding, paulLine},
		{"control character", func() io.Reader {
			return strings.NewReader(strings.Replace(base, "Paul Durand", "Paul \x01 Durand", 1))
		}, CodeXMLSyntax, paulLine},
		{"control character reference", func() io.Reader {
			return strings.NewReader(strings.Replace(base, "Paul Durand", "Paul &#1; Durand", 1))
		}, CodeXMLSyntax, paulLine},
		{"truncated", func() io.Reader { return strings.NewReader(base[:len(base)/2]) }, CodeXMLSyntax, 0},
		{"mismatched end tag", func() io.Reader { return strings.NewReader(strings.Replace(base, "</PmtMtd>", "</PmtMtdX>", 1)) }, CodeXMLSyntax, 15},
		{"undeclared prefix", func() io.Reader {
			return strings.NewReader(strings.Replace(base, "<PmtMtd>DD</PmtMtd>", "<q:PmtMtd>DD</q:PmtMtd>", 1))
		}, CodeXMLSyntax, 15},
		{"prefix mismatch in end tag", func() io.Reader {
			return strings.NewReader(strings.Replace(base, "<PmtMtd>DD</PmtMtd>", `<q:PmtMtd xmlns:q="urn:iso:std:iso:20022:tech:xsd:pain.008.001.02">DD</PmtMtd>`, 1))
		}, CodeXMLSyntax, 15},
		{"stray end tag", func() io.Reader { return strings.NewReader("</Document>") }, CodeXMLSyntax, 1},
		{"second root", func() io.Reader { return strings.NewReader(base + "<Document/>") }, CodeXMLSyntax, 0},
		{"text after root", func() io.Reader { return strings.NewReader(base + "junk") }, CodeXMLSyntax, 0},
		{"empty", func() io.Reader { return strings.NewReader("") }, CodeEmptyFile, 0},
		{"only blanks", func() io.Reader { return strings.NewReader("  \n\n ") }, CodeEmptyFile, 0},
		{"only a declaration", func() io.Reader { return strings.NewReader(`<?xml version="1.0"?>`) }, CodeXMLStructure, 0},
		{"binary", func() io.Reader { return strings.NewReader("\x00\x01\x02PK\x03\x04") }, CodeXMLSyntax, 0},
		{"not XML", func() io.Reader { return strings.NewReader("0;PAYMENTS;acme;ACME;\n") }, CodeXMLSyntax, 0},
		{"wrong root", func() io.Reader {
			return strings.NewReader(`<Doc xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"/>`)
		}, CodeUnknownFileType, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var issues []Issue
			start := time.Now()
			peak := p8PeakHeap(func() {
				var err error
				_, issues, err = validatePain008(c.r(), Options{})
				if err != nil {
					t.Fatalf("I/O error: %v", err)
				}
			})
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			if peak > 16<<20 {
				t.Errorf("peak heap %d MiB", peak>>20)
			}
			if len(issues) == 0 || issues[len(issues)-1].Code != c.code {
				t.Fatalf("want %s (last):%s", c.code, fmtIssues(issues))
			}
			if c.line != 0 && issues[len(issues)-1].Line != c.line {
				t.Errorf("line %d, want %d:%s", issues[len(issues)-1].Line, c.line, fmtIssues(issues))
			}
			// The reader refuses the same documents.
			r, err := newPain008Reader(c.r())
			if err != nil {
				t.Fatal(err)
			}
			for {
				_, err := r.Next()
				if err == io.EOF {
					t.Fatal("reader reached io.EOF on a refused document")
				}
				if err != nil {
					break
				}
			}
		})
	}
}

// FuzzPain008 checks that no input makes the validator or the reader panic,
// hang or disagree: a document with no issue streams exactly Summary.Lines
// payments adding up to Summary.Total. Seeds: testdata/fuzz/FuzzPain008.
func FuzzPain008(f *testing.F) {
	f.Add([]byte(p8Base("02")))
	f.Add([]byte(p8Base("08")))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, issues, err := validatePain008(bytes.NewReader(data), Options{Today: p8Today})
		if err != nil {
			t.Fatalf("I/O error from a bytes.Reader: %v", err)
		}
		if len(issues) > MaxIssues+1 {
			t.Fatalf("%d issues", len(issues))
		}
		for _, is := range issues {
			if is.Code == "" || is.Message == "" || is.Line < 0 {
				t.Fatalf("malformed issue %+v", is)
			}
		}
		if len(issues) > 0 {
			// The reader must not panic either, and must fail on the
			// problems it checks too (it skips the checks that need
			// Options or the duplicate set).
			mustFail := false
			for _, is := range issues {
				switch is.Code {
				case CodeXMLSyntax, CodeXMLStructure, CodeEncoding, CodeEmptyFile, CodeUnknownFileType,
					CodeInvalidAmount, CodeInvalidIBAN, CodeCountMismatch, CodeTotalMismatch:
					mustFail = true
				}
			}
			r, _ := newPain008Reader(bytes.NewReader(data))
			for {
				_, err := r.Next()
				if err == io.EOF {
					if mustFail {
						t.Fatalf("reader reached io.EOF on a document with issues:%s", fmtIssues(issues))
					}
					return
				}
				if err != nil {
					return
				}
			}
		}
		r, err := newPain008Reader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		n, total := 0, int64(0)
		for {
			pay, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("reader refused a valid document: %v", err)
			}
			n++
			total += pay.Amount
			if pay.Line != n || pay.Reference == "" || pay.DebtorIBAN == "" || pay.MandateRef == "" {
				t.Fatalf("payment %d = %+v", n, pay)
			}
		}
		if n != s.Lines || total != s.Total {
			t.Fatalf("reader gave %d payments for %d, total %d for %d", n, s.Lines, total, s.Total)
		}
	})
}

// p8Prefixed writes the base document with a namespace prefix on every
// element, which is the same XML to a namespace-aware reader.
func p8Prefixed(v string) string {
	b := p8Base(v)
	b = strings.Replace(b, `xmlns="urn`, `xmlns:p="urn`, 1)
	b = strings.ReplaceAll(b, "</", "\x00")
	b = strings.ReplaceAll(b, "<?", "\x01")
	b = strings.ReplaceAll(b, "<", "<p:")
	b = strings.ReplaceAll(b, "\x00", "</p:")
	return strings.ReplaceAll(b, "\x01", "<?")
}

func TestPain008PrefixedNamespace(t *testing.T) {
	s, issues := p8Validate(t, p8Prefixed("08"), Options{})
	if len(issues) > 0 || s.Lines != 2 {
		t.Fatalf("lines %d:%s", s.Lines, fmtIssues(issues))
	}
	// An element in no namespace inside a prefixed document is foreign.
	doc := strings.Replace(p8Prefixed("02"), "<p:ChrgBr>SLEV</p:ChrgBr>", "<ChrgBr>SLEV</ChrgBr>", 1)
	_, issues = p8Validate(t, doc, Options{})
	if len(issues) != 1 || issues[0].Code != CodeXMLStructure || issues[0].Column != "PmtInf[1]/ChrgBr" {
		t.Fatalf("want one XML_STRUCTURE:%s", fmtIssues(issues))
	}
}

// TestPain008ReadError: a failing input is an error, not a file problem.
func TestPain008ReadError(t *testing.T) {
	boom := errors.New("disk gone")
	in := func() io.Reader { return io.MultiReader(strings.NewReader(p8Base("02")[:900]), p8ErrReader{boom}) }
	if _, issues, err := validatePain008(in(), Options{}); !errors.Is(err, boom) {
		t.Fatalf("err = %v, issues:%s", err, fmtIssues(issues))
	}
	r, _ := newPain008Reader(in())
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Fatalf("reader err = %v", err)
	}
}

type p8ErrReader struct{ err error }

func (e p8ErrReader) Read([]byte) (int, error) { return 0, e.err }

// TestPain008Models: the bundled schemas load, and their namespaces are the
// ones detection dispatches to validatePain008.
func TestPain008Models(t *testing.T) {
	models, err := pain008Models()
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{NamespacePain008V02, NamespacePain008V08} {
		m := models[ns]
		if m == nil {
			t.Fatalf("no model for %s", ns)
		}
		msg := m.root.typ.kids[0]
		if msg.name != "CstmrDrctDbtInitn" {
			t.Fatalf("%s: first element %s", ns, msg.name)
		}
		pmtInf := msg.typ.kids[msg.typ.kidIdx["PmtInf"]]
		if pmtInf.min != 1 || pmtInf.max != -1 {
			t.Errorf("%s: PmtInf [%d..%d]", ns, pmtInf.min, pmtInf.max)
		}
		tx := pmtInf.typ.kids[pmtInf.typ.kidIdx["DrctDbtTxInf"]]
		amt := tx.typ.kids[tx.typ.kidIdx["InstdAmt"]]
		if amt.typ.simple == nil || len(amt.typ.attrs) != 1 || amt.typ.attrs[0].name != "Ccy" || !amt.typ.attrs[0].required {
			t.Errorf("%s: InstdAmt type %+v", ns, amt.typ)
		}
	}
	if len(models) != 2 {
		t.Errorf("%d models", len(models))
	}
}

// TestPain008FullDocuments: documents using every optional element SEPA
// allows (both checked with xmllint against the ISO schemas) are valid, and
// map to the payments they describe.
func TestPain008FullDocuments(t *testing.T) {
	d := func(s string) time.Time { t, _ := ParseDate(s); return t }
	want := []Payment{
		{Line: 1, Reference: "ACME-INV-2026-0001", Amount: 20000, MandateRef: "ACME-MANDATE-0001", MandateSigned: d("2026-10-01"),
			DebtorName: "Jeanne Martin", DebtorIBAN: "FR7630006000011234567890189", DebtorBIC: "BNPAFRPPXXX",
			SequenceType: "FRST", Scheme: SchemeCore, ExecutionDate: d("2026-12-03")},
		{Line: 2, Reference: "ACME-INV-2026-0002", Amount: 3456, MandateRef: "ACME-MANDATE-0002", MandateSigned: d("2026-10-02"),
			DebtorName: "Zoë Müller-Łukasz", DebtorIBAN: "DE89370400440532013000",
			SequenceType: "FRST", Scheme: SchemeCore, ExecutionDate: d("2026-12-03"), Label: "Invoice 2026-0002 (November) / thank you"},
		{Line: 3, Reference: "ACME-B2B-0001", Amount: 100000, MandateRef: "ACME-B2B-MANDATE-1", MandateSigned: d("2026-11-27"),
			DebtorName: "Beispiel GmbH", DebtorIBAN: "DE21500500009876543210", DebtorBIC: "COBADEFFXXX",
			SequenceType: "OOFF", Scheme: SchemeB2B, ExecutionDate: d("2026-12-04")},
	}
	for _, name := range []string{"full_v02.xml", "full_v08.xml"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "pain008", name))
			if err != nil {
				t.Fatal(err)
			}
			s, issues := p8Validate(t, string(data), Options{CreditorID: "FR72ZZZ123456", Today: p8Today})
			if len(issues) > 0 {
				t.Fatalf("refused:%s", fmtIssues(issues))
			}
			if s.Lines != 3 || s.Total != 123456 {
				t.Errorf("summary %+v", s)
			}
			// Through the package entry points, as batch uses them.
			r, err := NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if r.Type() != Pain008 {
				t.Fatalf("type %s", r.Type())
			}
			for i := 0; ; i++ {
				rec, err := r.Next()
				if err == io.EOF {
					if i != len(want) {
						t.Fatalf("%d payments", i)
					}
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if got := rec.(Payment); got != want[i] {
					t.Errorf("payment %d:\n got %+v\nwant %+v", i+1, got, want[i])
				}
			}
		})
	}
}

// TestPain008Envelope: SplmtryData/Envlp (xs:any) takes exactly one element
// of any namespace, unchecked.
func TestPain008Envelope(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "pain008", "full_v08.xml"))
	if err != nil {
		t.Fatal(err)
	}
	env := `<acme:Note xmlns:acme="urn:example:acme">Anything &amp; everything, not checked</acme:Note>`
	for _, c := range []struct{ name, by, path string }{
		{"two elements", env + "<Other/>", "PmtInf[1]/DrctDbtTxInf[1]/SplmtryData[1]/Envlp/Other"},
		{"none", "", "PmtInf[1]/DrctDbtTxInf[1]/SplmtryData[1]/Envlp"},
	} {
		doc := strings.Replace(string(data), env, c.by, 1)
		_, issues := p8Validate(t, doc, Options{})
		if len(issues) != 1 || issues[0].Code != CodeXMLStructure || issues[0].Column != c.path {
			t.Errorf("%s:%s", c.name, fmtIssues(issues))
		}
	}
}

// TestXMLGuardFastPath: the guard's fast paths (text and tags scanned in
// bulk) let through the same bytes and refuse at the same place as the
// byte-by-byte reference, whatever the chunking.
func TestXMLGuardFastPath(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"<a>", "</a>", "<b x=\"1>2\">", "text", "\n", "<!-- c -->", "<![CDATA[x]]>", "<?p i?>", "<!DOCTYPE", "'", "\"", ">", "<", "]]>", "--",
		strings.Repeat("t", 3000), strings.Repeat("<x y='", 10), strings.Repeat("\n", 7)}
	drain := func(data []byte, slow bool, chunk int) (int, string) {
		g := newXMLGuard(&p8Chunked{data: data, chunk: chunk})
		g.slow = slow
		total := 0
		buf := make([]byte, 4096)
		for {
			n, err := g.Read(buf)
			total += n
			if err == io.EOF {
				return total, ""
			}
			if err != nil {
				return total, err.Error()
			}
		}
	}
	for k := 0; k < 3000; k++ {
		var b strings.Builder
		for range rng.IntN(40) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		data := []byte(b.String())
		chunk := 1 + rng.IntN(5000)
		n1, e1 := drain(data, true, chunk)
		n2, e2 := drain(data, false, chunk)
		if n1 != n2 || e1 != e2 {
			t.Fatalf("input %q chunk %d: slow (%d, %q), fast (%d, %q)", data, chunk, n1, e1, n2, e2)
		}
	}
}

// p8Chunked reads data at most chunk bytes at a time.
type p8Chunked struct {
	data  []byte
	chunk int
}

func (c *p8Chunked) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.chunk)], c.data)
	c.data = c.data[n:]
	return n, nil
}

// TestPain008TwoPmtInf: identifiers are unique across blocks, counts are
// per block and for the whole file.
func TestPain008TwoPmtInf(t *testing.T) {
	base := p8Base("08")
	start, end := strings.Index(base, "    <PmtInf>"), strings.Index(base, "  </CstmrDrctDbtInitn>")
	block := base[start:end]
	second := strings.NewReplacer("PAY-0001", "PAY-0003", "PAY-0002", "PAY-0004").Replace(block)
	doc := base[:end] + second + base[end:]
	doc = strings.Replace(doc, "<NbOfTxs>2</NbOfTxs>", "<NbOfTxs>4</NbOfTxs>", 1)
	doc = strings.Replace(doc, "<CtrlSum>89.99</CtrlSum>", "<CtrlSum>179.98</CtrlSum>", 1)
	_, issues := p8Validate(t, doc, Options{})
	if len(issues) != 1 || issues[0].Code != CodeDuplicateRef || issues[0].Column != "PmtInf[2]/PmtInfId" {
		t.Fatalf("want the second PmtInfId as duplicate:%s", fmtIssues(issues))
	}
	doc = strings.Replace(doc, "<PmtInfId>PMTINF-1</PmtInfId>", "<PmtInfId>PMTINF-2</PmtInfId>", 1)
	s, issues := p8Validate(t, doc, Options{})
	if len(issues) != 0 || s.Lines != 4 || s.Total != 17998 {
		t.Fatalf("summary %+v:%s", s, fmtIssues(issues))
	}
	// An end-to-end id of block 1 reused in block 2.
	dup := strings.Replace(doc, "PAY-0004", "PAY-0002", 1)
	_, issues = p8Validate(t, dup, Options{})
	if len(issues) != 1 || issues[0].Code != CodeDuplicateRef || issues[0].Column != "PmtInf[2]/DrctDbtTxInf[2]/PmtId/EndToEndId" ||
		!strings.Contains(issues[0].Message, "transaction 2") {
		t.Fatalf("want duplicate end-to-end id:%s", fmtIssues(issues))
	}
	// The group count is over both blocks.
	bad := strings.Replace(doc, "<NbOfTxs>4</NbOfTxs>", "<NbOfTxs>2</NbOfTxs>", 1)
	_, issues = p8Validate(t, bad, Options{})
	if len(issues) != 1 || issues[0].Code != CodeCountMismatch || issues[0].Column != "GrpHdr/NbOfTxs" {
		t.Fatalf("want group count mismatch:%s", fmtIssues(issues))
	}
}

// TestPain008SchemaLoader: a schema using a construct the loader does not
// know fails to load instead of being half understood.
func TestPain008SchemaLoader(t *testing.T) {
	const head = `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t"><xs:element name="Document" type="Document"/>`
	cases := map[string]string{
		"no Document":       `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"/>`,
		"unknown type":      head + `<xs:complexType name="Document"><xs:sequence><xs:element name="A" type="Nope"/></xs:sequence></xs:complexType></xs:schema>`,
		"nested group":      head + `<xs:complexType name="Document"><xs:sequence><xs:element name="A" type="xs:string"/><xs:choice><xs:element name="B" type="xs:string"/></xs:choice></xs:sequence></xs:complexType></xs:schema>`,
		"two models":        head + `<xs:complexType name="Document"><xs:sequence/><xs:choice/></xs:complexType></xs:schema>`,
		"unsupported base":  head + `<xs:complexType name="Document"><xs:sequence><xs:element name="A" type="T"/></xs:sequence></xs:complexType><xs:simpleType name="T"><xs:restriction base="xs:gYear"/></xs:simpleType></xs:schema>`,
		"bad pattern":       head + `<xs:complexType name="Document"><xs:sequence><xs:element name="A" type="T"/></xs:sequence></xs:complexType><xs:simpleType name="T"><xs:restriction base="xs:string"><xs:pattern value="[a-"/></xs:restriction></xs:simpleType></xs:schema>`,
		"bad maxOccurs":     head + `<xs:complexType name="Document"><xs:sequence><xs:element name="A" type="xs:string" maxOccurs="many"/></xs:sequence></xs:complexType></xs:schema>`,
		"duplicate element": head + `<xs:complexType name="Document"><xs:sequence><xs:element name="A" type="xs:string"/><xs:element name="A" type="xs:string"/></xs:sequence></xs:complexType></xs:schema>`,
		"any with elements": head + `<xs:complexType name="Document"><xs:sequence><xs:element name="A" type="xs:string"/><xs:any/></xs:sequence></xs:complexType></xs:schema>`,
		"not XML":           `<xs:schema`,
	}
	for name, xsd := range cases {
		if _, err := loadP8Model([]byte(xsd)); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
	ok := head + `<xs:complexType name="Document"><xs:sequence><xs:element name="A" type="T" minOccurs="0" maxOccurs="unbounded"/></xs:sequence></xs:complexType>` +
		`<xs:simpleType name="T"><xs:restriction base="xs:string"><xs:length value="2"/></xs:restriction></xs:simpleType></xs:schema>`
	m, err := loadP8Model([]byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	a := m.root.typ.kids[0]
	if m.ns != "urn:t" || a.min != 0 || a.max != -1 || a.typ.simple.minLen != 2 || a.typ.simple.maxLen != 2 {
		t.Errorf("model %+v, A %+v %+v", m, a, a.typ.simple)
	}
}

// TestPain008Concurrent: validations share only the read-only schema
// models and rule tree (go test -race checks it).
func TestPain008Concurrent(t *testing.T) {
	done := make(chan []Issue)
	for i := range 4 {
		go func() {
			doc := p8Base([]string{"02", "08"}[i%2])
			if i >= 2 {
				doc = strings.Replace(doc, "PAY-0002", "PAY-0001", 1)
			}
			_, issues, _ := validatePain008(strings.NewReader(doc), Options{})
			done <- issues
		}()
	}
	dups := 0
	for range 4 {
		for _, is := range <-done {
			if is.Code != CodeDuplicateRef {
				t.Errorf("unexpected %+v", is)
			}
			dups++
		}
	}
	if dups != 2 {
		t.Errorf("%d duplicates, want 2", dups)
	}
}

// TestPain008CRLF: Windows line ends change nothing, lines included.
func TestPain008CRLF(t *testing.T) {
	doc := strings.ReplaceAll(p8Base("02"), "\n", "\r\n")
	if _, issues := p8Validate(t, doc, Options{}); len(issues) > 0 {
		t.Fatalf("refused:%s", fmtIssues(issues))
	}
	bad := strings.Replace(doc, "DE21500500009876543210", "DE21500500009876543211", 1)
	_, issues := p8Validate(t, bad, Options{})
	if len(issues) != 1 || issues[0].Line != lineOf(t, bad, "DE2150") {
		t.Fatalf("want one issue on line %d:%s", lineOf(t, bad, "DE2150"), fmtIssues(issues))
	}
}
