package formats_test

import (
	"fmt"
	"io"
	"strings"

	"fileapi/formats"
)

// A pain.008 document goes through the same Validate and NewReader as the
// CSV files: issues carry the line of the element and its path.
func Example_pain008() {
	doc := `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.08">
 <CstmrDrctDbtInitn>
  <GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2026-11-27T09:00:00</CreDtTm><NbOfTxs>1</NbOfTxs><CtrlSum>39.99</CtrlSum><InitgPty><Nm>ACME SAS</Nm></InitgPty></GrpHdr>
  <PmtInf>
   <PmtInfId>PI-1</PmtInfId><PmtMtd>DD</PmtMtd>
   <PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl><LclInstrm><Cd>CORE</Cd></LclInstrm><SeqTp>FRST</SeqTp></PmtTpInf>
   <ReqdColltnDt>2026-12-03</ReqdColltnDt>
   <Cdtr><Nm>ACME SAS</Nm></Cdtr>
   <CdtrAcct><Id><IBAN>FR7630006000011234567890189</IBAN></Id></CdtrAcct>
   <CdtrAgt><FinInstnId/></CdtrAgt>
   <CdtrSchmeId><Id><PrvtId><Othr><Id>FR72ZZZ123456</Id><SchmeNm><Prtry>SEPA</Prtry></SchmeNm></Othr></PrvtId></Id></CdtrSchmeId>
   <DrctDbtTxInf>
    <PmtId><EndToEndId>PAY-0001</EndToEndId></PmtId>
    <InstdAmt Ccy="EUR">39.99</InstdAmt>
    <DrctDbtTx><MndtRltdInf><MndtId>UMR-0001</MndtId><DtOfSgntr>2025-03-14</DtOfSgntr></MndtRltdInf></DrctDbtTx>
    <DbtrAgt><FinInstnId/></DbtrAgt>
    <Dbtr><Nm>Jeanne Martin</Nm></Dbtr>
    <DbtrAcct><Id><IBAN>DE89370400440532013001</IBAN></Id></DbtrAcct>
   </DrctDbtTxInf>
  </PmtInf>
 </CstmrDrctDbtInitn>
</Document>
`
	_, issues, err := formats.Validate(strings.NewReader(doc), formats.Options{CreditorID: "FR72ZZZ123456"})
	if err != nil {
		panic(err)
	}
	for _, is := range issues {
		fmt.Println(is.Line, is.Column, is.Code, is.Message)
	}

	fixed := strings.Replace(doc, "DE89370400440532013001", "DE89370400440532013000", 1)
	r, err := formats.NewReader(strings.NewReader(fixed))
	if err != nil {
		panic(err)
	}
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		p := rec.(formats.Payment)
		fmt.Println(r.Type(), p.Line, p.Reference, formats.FormatAmount(p.Amount), p.SequenceType, p.Scheme, formats.FormatDate(p.ExecutionDate))
	}
	// Output:
	// 19 PmtInf[1]/DrctDbtTxInf[1]/DbtrAcct/Id/IBAN INVALID_IBAN check digits do not match
	// PAIN008 1 PAY-0001 39.99 FRST SEPA.DIRECT_DEBIT.CORE 2026-12-03
}
