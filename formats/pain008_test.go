package formats

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
