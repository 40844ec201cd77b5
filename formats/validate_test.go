package formats

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

var testOpt = Options{
	CreditorRef: "acme-creditor",
	CreditorID:  "FR72ZZZ123456",
	Today:       time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC),
}

const (
	payTitles = "PAYMENT_REFERENCE;AMOUNT;MANDATE_REFERENCE;MANDATE_SIGNATURE_DATE;DEBTOR_NAME;DEBTOR_IBAN;"
	refTitles = "REFUND_REFERENCE;PAYMENT_REFERENCE;AMOUNT;LABEL;"
	manTitles = "ACTION;MANDATE_REFERENCE;MANDATE_SIGNATURE_DATE;DEBTOR_NAME;DEBTOR_IBAN;DEBTOR_BIC;"
)

// payRow is a valid PAYMENTS row for payTitles with reference n.
func payRow(n int) string {
	return fmt.Sprintf("PAY-%04d;10.00;UMR-%04d;2025-03-14;Jeanne Martin;FR7630006000011234567890189;", n, n)
}

// build makes a CSV file of type t with a correct totals line: the count
// of rows and the sum of the parseable values of the AMOUNT column.
func build(t FileType, titles string, rows ...string) string {
	dir := map[FileType]string{Payments: "IN", Refunds: "OUT", Mandates: "MANDATE"}[t]
	col := slices.Index(strings.Split(titles, ";"), "AMOUNT")
	var total int64
	for _, r := range rows {
		if col < 0 {
			break
		}
		var sp splitter
		if _, err := sp.split([]byte(r)); err == nil && col < len(sp.fields) {
			if c, err := ParseAmount(string(sp.fields[col])); err == nil {
				total += c
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "0;%s;acme-creditor;ACME SAS;\n1;%s;%d;%s;EUR;\n%s\n", t, dir, len(rows), FormatAmount(total), titles)
	for _, r := range rows {
		b.WriteString(r + "\n")
	}
	return b.String()
}

// want is an expected issue; an empty msg is not compared.
type want struct {
	line int
	col  string
	code string
	msg  string
}

func checkIssues(t *testing.T, got []Issue, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("got %d issues, want %d:\n%s", len(got), len(wants), dumpIssues(got))
	}
	for i, w := range wants {
		g := got[i]
		if g.Line != w.line || g.Column != w.col || g.Code != w.code || (w.msg != "" && g.Message != w.msg) {
			t.Errorf("issue %d = %d/%s/%s %q, want %d/%s/%s %q", i, g.Line, g.Column, g.Code, g.Message, w.line, w.col, w.code, w.msg)
		}
	}
}

func dumpIssues(is []Issue) string {
	var b strings.Builder
	for _, i := range is {
		fmt.Fprintf(&b, "  %d;%s;%s;%s\n", i.Line, i.Column, i.Code, i.Message)
	}
	return b.String()
}

// codesTested collects the codes TestValidateErrors expects, for
// TestEveryCodeTested.
var codesTested = map[string]bool{}

func TestValidateErrors(t *testing.T) {
	long := strings.Repeat("x", 5000)
	tests := []struct {
		name  string
		in    string
		opt   *Options
		wants []want
	}{
		// Whole file.
		{"empty", "", nil, []want{{0, "", CodeEmptyFile, "the file is empty"}}},
		{"only BOM and blank lines", "\xEF\xBB\xBF\r\n\n  \n", nil, []want{{0, "", CodeEmptyFile, ""}}},
		{"UTF-16", "\xFF\xFE0\x00;\x00", nil, []want{{0, "", CodeEncoding, "the file is UTF-16, save it as UTF-8"}}},
		{"binary", "PK\x03\x04\x14\x00\x00\x00\x08\x00\xb0\xc1", nil, []want{{1, "", CodeEncoding, ""}}},
		{"Latin-1 line", build(Payments, payTitles, "PAY-1;10.00;UMR-1;2025-03-14;Jos\xe9 Martin;FR7630006000011234567890189;"), nil,
			[]want{{4, "", CodeEncoding, "line is not valid UTF-8 at byte 33, save the file as UTF-8"}}},
		{"unknown", "hello;world\n", nil, []want{{0, "", CodeUnknownFileType, ""}}},
		{"lower-case type", "0;payments;acme-creditor;ACME SAS;\n", nil, []want{{0, "", CodeUnknownFileType, ""}}},
		{"XML not pain.008", `<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt/></Document>`, nil,
			[]want{{0, "", CodeUnknownFileType, "XML root element Document with namespace urn:iso:std:iso:20022:tech:xsd:camt.053.001.08 is not a supported pain.008 document (pain.008.001.02 or pain.008.001.08)"}}},

		{"CR line ends", strings.ReplaceAll(build(Payments, payTitles, payRow(1)), "\n", "\r"), nil,
			[]want{{1, "", CodeHeader, "lines end with a carriage return alone (old Mac format), they must end with LF or CRLF"}}},

		// Merchant line.
		{"header missing reference", strings.Replace(build(Payments, payTitles, payRow(1)), "acme-creditor", "", 1), nil,
			[]want{{1, "", CodeHeader, "the creditor reference (third value of line 1) is missing"}}},
		{"header missing company", strings.Replace(build(Payments, payTitles, payRow(1)), "ACME SAS", "", 1), nil,
			[]want{{1, "", CodeHeader, "the company name (fourth value of line 1) is missing"}}},
		{"header too many values", strings.Replace(build(Payments, payTitles, payRow(1)), "ACME SAS;", "ACME SAS;extra;", 1), nil,
			[]want{{1, "", CodeHeader, "the merchant line must be 0;PAYMENTS;<creditor reference>;<company name>; with 4 values, found 5"}}},
		{"creditor mismatch", strings.Replace(build(Payments, payTitles, payRow(1)), "acme-creditor", "globex", 1), nil,
			[]want{{1, "", CodeCreditorMismatch, `creditor reference "globex" is not this account's (acme-creditor)`}}},

		// Totals line.
		{"totals direction", strings.Replace(build(Payments, payTitles, payRow(1)), "1;IN;", "1;OUT;", 1), nil,
			[]want{{2, "", CodeTotalsLine, `the second value of line 2 must be IN for a PAYMENTS file, not "OUT"`}}},
		{"totals count", strings.Replace(build(Payments, payTitles, payRow(1)), "1;IN;1;", "1;IN;one;", 1), nil,
			[]want{{2, "", CodeTotalsLine, `the number of lines "one" is not a whole number`}}},
		{"totals amount", strings.Replace(build(Payments, payTitles, payRow(1)), ";10.00;EUR", ";10,00;EUR", 1), nil,
			[]want{{2, "", CodeTotalsLine, `the total: amount "10,00" is not a number like 89.99 (digits, a dot, up to 2 decimals)`}}},
		{"totals currency", strings.Replace(build(Payments, payTitles, payRow(1)), ";10.00;EUR", ";10.00;USD", 1), nil,
			[]want{{2, "", CodeTotalsLine, `the currency of line 2 must be EUR, not "USD"`}}},
		{"totals shape", strings.Replace(build(Payments, payTitles, payRow(1)), "1;IN;1;10.00;EUR;", "2;IN;1;10.00;EUR;", 1), nil,
			[]want{{2, "", CodeTotalsLine, "line 2 must be 1;IN;<number of lines>;<total amount>;EUR;"}}},
		{"mandates total not zero", strings.Replace(build(Mandates, manTitles, "REVOKE;UMR-1;;;;;"), ";0.00;EUR", ";5.00;EUR", 1), nil,
			[]want{{2, "", CodeTotalsLine, "the total of a MANDATES file must be 0, not 5.00"}}},
		{"no totals line", "0;PAYMENTS;acme-creditor;ACME SAS;\n", nil,
			[]want{{2, "", CodeTotalsLine, "line 2, the totals line, is missing"}}},
		{"no titles", "0;PAYMENTS;acme-creditor;ACME SAS;\n1;IN;0;0;EUR;\n", nil,
			[]want{{3, "", CodeMissingColumn, "line 3, the column titles, is missing"}}},
		{"count mismatch", strings.Replace(build(Payments, payTitles, payRow(1), payRow(2)), "1;IN;2;", "1;IN;3;", 1), nil,
			[]want{{2, "", CodeCountMismatch, "totals line says 3 lines, the file has 2"}}},
		{"total mismatch (FORMATS.md §3.2)", strings.Replace(build(Payments, payTitles,
			"PAY-0001;39.99;UMR-0001;2025-03-14;Jeanne Martin;FR7630006000011234567890189;",
			"PAY-0002;40.00;UMR-0002;2024-11-02;Paul Durand;DE89370400440532013000;"), ";79.99;EUR", ";89.99;EUR", 1), nil,
			[]want{{2, "", CodeTotalMismatch, "totals line says 89.99, lines add up to 79.99"}}},

		// Column titles.
		{"lower-case title", build(Payments, strings.Replace(payTitles, "LABEL", "label", 1)+"label;", payRow(1)+"x;"), nil,
			[]want{{3, "label", CodeUnknownColumn, `unknown column "label", column titles are upper case: LABEL`}}},
		{"unknown title", build(Refunds, refTitles+"DEBTOR_IBAN;", "REF-1;PAY-1;5.00;;FR7630006000011234567890189;"), nil,
			[]want{{3, "DEBTOR_IBAN", CodeUnknownColumn, `unknown column "DEBTOR_IBAN" for a REFUNDS file`}}},
		{"empty title", build(Refunds, "REFUND_REFERENCE;;PAYMENT_REFERENCE;AMOUNT;", "REF-1;x;PAY-1;5.00;"), nil,
			[]want{{3, "", CodeUnknownColumn, "column 2 has no title"}}},
		{"duplicate title", build(Refunds, refTitles+"AMOUNT;", "REF-1;PAY-1;5.00;;5.00;"), nil,
			[]want{{3, "AMOUNT", CodeDuplicateColumn, "column AMOUNT appears twice (columns 3 and 5)"}}},
		{"missing title", build(Payments, strings.Replace(payTitles, "DEBTOR_IBAN;", "", 1), "PAY-1;10.00;UMR-1;2025-03-14;Jeanne Martin;"), nil,
			[]want{{3, "DEBTOR_IBAN", CodeMissingColumn, "required column DEBTOR_IBAN is missing"}}},

		// Line structure.
		{"too few values", build(Payments, payTitles, payRow(1), "PAY-2;10.00;UMR-2;2025-03-14;Jeanne Martin"), nil,
			[]want{{5, "", CodeFieldCount, "line has 5 values, the title line has 6 columns"}}},
		{"too many values", build(Payments, payTitles, payRow(1)+"extra;"), nil,
			[]want{{4, "", CodeFieldCount, "line has 7 values, the title line has 6 columns"}}},
		{"unclosed quote", build(Payments, payTitles, `PAY-1;10.00;UMR-1;2025-03-14;"Jeanne Martin;FR7630006000011234567890189;`), nil,
			[]want{{4, "", CodeFieldCount, `field 5 has a quote that is not closed or not alone (quote a whole value, and write "" for a quote inside it)`}}},
		{"quote inside a bare value", build(Payments, payTitles, `PAY-1;10.00;UMR-1;2025-03-14;Jeanne "JM" Martin;FR7630006000011234567890189;`), nil,
			[]want{{4, "", CodeFieldCount, ""}}},
		{"text after closing quote", build(Payments, payTitles, `PAY-1;10.00;UMR-1;2025-03-14;"Jeanne" Martin;FR7630006000011234567890189;`), nil,
			[]want{{4, "", CodeFieldCount, ""}}},
		{"blank line in the middle", build(Payments, payTitles, payRow(1), "", payRow(2)), &Options{CreditorRef: "acme-creditor", Today: testOpt.Today},
			[]want{{2, "", CodeCountMismatch, "totals line says 3 lines, the file has 2"}, {5, "", CodeFieldCount, "empty line, blank lines are allowed only at the end of the file"}}},
		{"line of 4097 bytes", build(Refunds, refTitles, "REF-1;PAY-1;5.00;label"+strings.Repeat(" ", 4097-len("REF-1;PAY-1;5.00;label"))), nil,
			[]want{{4, "", CodeLineTooLong, "line is 4097 bytes long, at most 4096 allowed"}}},
		{"line too long", build(Payments, payTitles, payRow(1), "PAY-2;10.00;UMR-2;2025-03-14;"+long+";FR7630006000011234567890189;"), nil,
			[]want{{5, "", CodeLineTooLong, "line is 5058 bytes long, at most 4096 allowed"}}},

		// Values.
		{"missing value", build(Payments, payTitles, "PAY-1;10.00;UMR-1;2025-03-14;;FR7630006000011234567890189;"), nil,
			[]want{{4, "DEBTOR_NAME", CodeMissingValue, "DEBTOR_NAME is required"}}},
		{"blank value", build(Payments, payTitles, "PAY-1;10.00;UMR-1;2025-03-14;  ;FR7630006000011234567890189;"), nil,
			[]want{{4, "DEBTOR_NAME", CodeMissingValue, "DEBTOR_NAME is required"}}},
		{"mandate CREATE needs IBAN", build(Mandates, manTitles, "CREATE;UMR-1;2025-03-14;Jeanne Martin;;;"), nil,
			[]want{{4, "DEBTOR_IBAN", CodeMissingValue, "DEBTOR_IBAN is required to CREATE a mandate"}}},
		{"mandate CREATE without columns", build(Mandates, "ACTION;MANDATE_REFERENCE;", "CREATE;UMR-1;"), nil,
			[]want{
				{4, "MANDATE_SIGNATURE_DATE", CodeMissingValue, ""},
				{4, "DEBTOR_NAME", CodeMissingValue, ""},
				{4, "DEBTOR_IBAN", CodeMissingValue, ""},
			}},
		{"mandate AMEND with nothing", build(Mandates, manTitles, "AMEND;UMR-1;;;;;"), nil,
			[]want{{4, "DEBTOR_IBAN", CodeMissingValue, ""}}},
		{"reference too long", build(Payments, payTitles, "PAY-"+strings.Repeat("0", 32)+";10.00;UMR-1;2025-03-14;Jeanne Martin;FR7630006000011234567890189;"), nil,
			[]want{{4, "PAYMENT_REFERENCE", CodeTooLong, "36 characters, at most 35 allowed"}}},
		{"name too long in characters", build(Payments, payTitles, "PAY-1;10.00;UMR-1;2025-03-14;"+strings.Repeat("é", 71)+";FR7630006000011234567890189;"), nil,
			[]want{{4, "DEBTOR_NAME", CodeTooLong, "71 characters, at most 70 allowed"}}},
		{"IBAN too long", build(Payments, payTitles, "PAY-1;10.00;UMR-1;2025-03-14;Jeanne;FR76300060000112345678901891234567890;"), nil,
			[]want{{4, "DEBTOR_IBAN", CodeTooLong, "37 characters, at most 34 allowed"}}},
		{"amount comma", build(Payments, payTitles, "PAY-1;1,50;UMR-1;2025-03-14;Jeanne Martin;FR7630006000011234567890189;"), nil,
			[]want{{4, "AMOUNT", CodeInvalidAmount, `amount "1,50" is not a number like 89.99 (digits, a dot, up to 2 decimals)`}}},
		{"amount zero", build(Refunds, refTitles, "REF-1;PAY-1;0.00;;"), nil,
			[]want{{4, "AMOUNT", CodeInvalidAmount, "amount must be at least 0.01"}}},
		{"date does not exist", build(Payments, payTitles, "PAY-1;10.00;UMR-1;2025-02-29;Jeanne Martin;FR7630006000011234567890189;"), nil,
			[]want{{4, "MANDATE_SIGNATURE_DATE", CodeInvalidDate, "date 2025-02-29 does not exist"}}},
		{"signature after upload day", build(Payments, payTitles, "PAY-1;10.00;UMR-1;2026-11-28;Jeanne Martin;FR7630006000011234567890189;"), nil,
			[]want{{4, "MANDATE_SIGNATURE_DATE", CodeInvalidDate, "signature date 2026-11-28 is after the upload day 2026-11-27"}}},
		{"execution date form", build(Payments, payTitles+"EXECUTION_DATE;", payRow(1)+"30/11/2026;"), nil,
			[]want{{4, "EXECUTION_DATE", CodeInvalidDate, `date "30/11/2026" is not in the form YYYY-MM-DD`}}},
		{"IBAN check digits", build(Payments, payTitles, "PAY-1;10.00;UMR-1;2025-03-14;Jeanne Martin;DE89370400440532013001;"), nil,
			[]want{{4, "DEBTOR_IBAN", CodeInvalidIBAN, "check digits do not match"}}},
		{"IBAN length", build(Payments, payTitles, "PAY-1;10.00;UMR-1;2025-03-14;Jeanne Martin;DE89 3704 0044 0532 0130 0;"), nil,
			[]want{{4, "DEBTOR_IBAN", CodeInvalidIBAN, "length 21 is wrong for DE, expected 22"}}},
		{"IBAN outside SEPA", build(Mandates, manTitles, "CREATE;UMR-1;2025-03-14;Jeanne Martin;TR330006100519786457841326;;"), nil,
			[]want{{4, "DEBTOR_IBAN", CodeInvalidIBAN, "country TR is not a SEPA country"}}},
		{"BIC", build(Payments, payTitles+"DEBTOR_BIC;", payRow(1)+"DEUTDEF;"), nil,
			[]want{{4, "DEBTOR_BIC", CodeInvalidBIC, "BIC must have 8 or 11 characters, not 7"}}},
		{"reference charset", build(Payments, payTitles, "PAY_1;10.00;UMR-1;2025-03-14;Jeanne Martin;FR7630006000011234567890189;"), nil,
			[]want{{4, "PAYMENT_REFERENCE", CodeInvalidCharset, `character "_" is not allowed (SEPA character set)`}}},
		{"reference slashes", build(Refunds, refTitles, "REF//1;PAY-1;5.00;;"), nil,
			[]want{{4, "REFUND_REFERENCE", CodeInvalidCharset, "must not contain //"}}},
		{"name control character", build(Payments, payTitles, "PAY-1;10.00;UMR-1;2025-03-14;Jeanne\tMartin;FR7630006000011234567890189;"), nil,
			[]want{{4, "DEBTOR_NAME", CodeInvalidCharset, "character TAB is not allowed"}}},
		{"sequence type", build(Payments, payTitles+"SEQUENCE_TYPE;", payRow(1)+"rcur;"), nil,
			[]want{{4, "SEQUENCE_TYPE", CodeInvalidValue, `SEQUENCE_TYPE must be one of FRST, RCUR, OOFF, FNAL, not "rcur"`}}},
		{"currency", build(Refunds, refTitles+"CURRENCY;", "REF-1;PAY-1;5.00;;CHF;"), nil,
			[]want{{4, "CURRENCY", CodeInvalidValue, `CURRENCY must be EUR, not "CHF"`}}},
		{"action", build(Mandates, manTitles, "DELETE;UMR-1;;;;;"), nil,
			[]want{{4, "ACTION", CodeInvalidValue, `ACTION must be one of CREATE, AMEND, REVOKE, not "DELETE"`}}},
		{"duplicate payment reference", build(Payments, payTitles, payRow(1), payRow(2), payRow(1), payRow(1)), nil,
			[]want{
				{6, "PAYMENT_REFERENCE", CodeDuplicateRef, "PAYMENT_REFERENCE is already used on line 4"},
				{7, "PAYMENT_REFERENCE", CodeDuplicateRef, "PAYMENT_REFERENCE is already used on line 4"},
			}},
		{"duplicate refund reference", build(Refunds, refTitles, "REF-1;PAY-1;5.00;;", "REF-1;PAY-2;5.00;;"), nil,
			[]want{{5, "REFUND_REFERENCE", CodeDuplicateRef, "REFUND_REFERENCE is already used on line 4"}}},
		{"several errors in line order", build(Payments, payTitles, "PAY_1;x;UMR-1;2025-03-14;Jeanne Martin;DE00;", payRow(2), payRow(2)), nil,
			[]want{
				{4, "PAYMENT_REFERENCE", CodeInvalidCharset, ""},
				{4, "AMOUNT", CodeInvalidAmount, ""},
				{4, "DEBTOR_IBAN", CodeInvalidIBAN, ""},
				{6, "PAYMENT_REFERENCE", CodeDuplicateRef, "PAYMENT_REFERENCE is already used on line 5"},
			}},
		{"too many errors", build(Payments, payTitles, "PAY_1;x;UMR-1;2025-03-14;Jeanne Martin;DE00;", "PAY_2;x;UMR-1;2025-03-14;Jeanne Martin;DE00;"), &Options{CreditorRef: "acme-creditor", MaxIssues: 4},
			[]want{
				{4, "PAYMENT_REFERENCE", CodeInvalidCharset, ""},
				{4, "AMOUNT", CodeInvalidAmount, ""},
				{4, "DEBTOR_IBAN", CodeInvalidIBAN, ""},
				{5, "PAYMENT_REFERENCE", CodeInvalidCharset, ""},
				{5, "", CodeTooManyErrors, "more than 4 errors, the check stopped at line 5"},
			}},
		{"too many errors with late duplicates", build(Payments, payTitles, payRow(1), payRow(1), payRow(1), "PAY_1;10.00;UMR-1;2025-03-14;Jeanne Martin;FR7630006000011234567890189;"), &Options{CreditorRef: "acme-creditor", MaxIssues: 2},
			[]want{
				{5, "PAYMENT_REFERENCE", CodeDuplicateRef, ""},
				{6, "PAYMENT_REFERENCE", CodeDuplicateRef, ""},
				{6, "", CodeTooManyErrors, "more than 2 errors, the check stopped at line 6"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := testOpt
			if tt.opt != nil {
				opt = *tt.opt
			}
			_, issues, err := Validate(strings.NewReader(tt.in), opt)
			if err != nil {
				t.Fatal(err)
			}
			checkIssues(t, issues, tt.wants)
		})
		for _, w := range tt.wants {
			codesTested[w.code] = true
		}
	}
}

func TestTooManyErrorsDefault(t *testing.T) {
	rows := make([]string, 0, 1200)
	for i := range 1200 {
		rows = append(rows, fmt.Sprintf("PAY-%d;x;UMR-1;2025-03-14;Jeanne Martin;FR7630006000011234567890189;", i))
	}
	_, issues, err := Validate(strings.NewReader(build(Payments, payTitles, rows...)), testOpt)
	if err != nil {
		t.Fatal(err)
	}
	if len(issues) != MaxIssues+1 {
		t.Fatalf("got %d issues, want %d", len(issues), MaxIssues+1)
	}
	last := issues[MaxIssues]
	if last.Code != CodeTooManyErrors || last.Line != MaxIssues+4 {
		t.Errorf("last issue %+v", last)
	}
	for _, is := range issues[:MaxIssues] {
		if is.Code != CodeInvalidAmount {
			t.Fatalf("unexpected %+v", is)
		}
	}
}

func TestValidateAccepts(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		typ   FileType
		lines int
		total int64
	}{
		{"FORMATS.md §2.1 example", formatsExample(t), Payments, 2, 8999},
		{"every PAYMENTS column, any order", build(Payments,
			"LABEL;SCHEME;SEQUENCE_TYPE;CURRENCY;PAYMENT_DIRECTION;DEBTOR_BIC;INVOICE_REFERENCE;CLIENT_REFERENCE;EXECUTION_DATE;"+payTitles,
			"Abo;SEPA.DIRECT_DEBIT.B2B;FRST;EUR;IN;COBADEFFXXX;INV-1;C-42;2026-12-01;"+payRow(1),
			";;;;;;;;;"+payRow(2)), Payments, 2, 2000},
		{"quotes, CRLF, BOM, no trailing separator, blank end", "\xEF\xBB\xBF" + strings.ReplaceAll(build(Payments, "PAYMENT_REFERENCE;AMOUNT;MANDATE_REFERENCE;MANDATE_SIGNATURE_DATE;DEBTOR_NAME;DEBTOR_IBAN;LABEL",
			`PAY-1;10.00;UMR-1;2025-03-14;"Martin; Jeanne";fr76 3000 6000 0112 3456 7890 189;"the ""best"" plan"`,
			`"PAY-2" ; 0.5 ;UMR-2;2025-03-14;Paul;DE89370400440532013000;`), "\n", "\r\n") + "\r\n;;;;\r\n  \r\n", Payments, 2, 1050},
		{"signature date on the upload day", build(Payments, payTitles, "PAY-1;10.00;UMR-1;2026-11-27;Jeanne Martin;FR7630006000011234567890189;"), Payments, 1, 1000},
		{"refunds", build(Refunds, refTitles+"CURRENCY;", "REF-1;PAY-1;5.00;Partial refund;EUR;", "REF-2;PAY-1;0.99;;;"), Refunds, 2, 599},
		{"mandates", build(Mandates, manTitles+"SCHEME;CLIENT_REFERENCE;",
			"CREATE;UMR-1;2025-03-14;Jeanne Martin;FR7630006000011234567890189;;;C-1;",
			"AMEND;UMR-1;;;DE89370400440532013000;;;;",
			"REVOKE;UMR-1;;;;;;;",
			"CREATE;UMR-2;2025-03-14;Paul Durand;DE89370400440532013000;COBADEFF;SEPA.DIRECT_DEBIT.B2B;;"), Mandates, 4, 0},
		{"no data lines", build(Refunds, refTitles), Refunds, 0, 0},
		{"file total above a billion", build(Refunds, refTitles, "REF-1;PAY-1;999999999.99;;", "REF-2;PAY-2;999999999.99;;"), Refunds, 2, 199999999998},
		{"long name in characters", build(Payments, payTitles, "PAY-1;10.00;UMR-1;2025-03-14;"+strings.Repeat("é", 70)+";FR7630006000011234567890189;"), Payments, 1, 1000},
		{"line of exactly 4096 bytes", build(Refunds, refTitles, "REF-1;PAY-1;5.00;label"+strings.Repeat(" ", 4096-len("REF-1;PAY-1;5.00;label"))), Refunds, 1, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, issues, err := Validate(strings.NewReader(tt.in), testOpt)
			if err != nil {
				t.Fatal(err)
			}
			if len(issues) != 0 {
				t.Fatalf("rejected:\n%s", dumpIssues(issues))
			}
			if s != (Summary{Type: tt.typ, Lines: tt.lines, Total: tt.total, Currency: "EUR"}) {
				t.Errorf("summary %+v", s)
			}
		})
	}
}

// formatsExample is the PAYMENTS example of FORMATS.md §2.1, read from the
// contract itself.
func formatsExample(t testing.TB) string {
	t.Helper()
	b := readShared(t, "FORMATS.md")
	const marker = "Example:\n```\n"
	i := strings.Index(b, marker)
	if i < 0 {
		t.Fatal("FORMATS.md: PAYMENTS example not found")
	}
	rest := b[i+len(marker):]
	return rest[:strings.Index(rest, "```")]
}

// TestEveryCodeTested fails when Validate can produce a code that no test
// triggers: every code of FORMATS.md §2.5 that Validate (not the batch,
// sftpd or the pain.008 reader) reports.
func TestEveryCodeTested(t *testing.T) {
	t.Run("errors", TestValidateErrors)
	produced := []string{
		CodeEncoding, CodeEmptyFile, CodeUnknownFileType, CodeHeader, CodeCreditorMismatch,
		CodeTotalsLine, CodeCountMismatch, CodeTotalMismatch, CodeUnknownColumn,
		CodeDuplicateColumn, CodeMissingColumn, CodeFieldCount, CodeMissingValue, CodeTooLong,
		CodeInvalidAmount, CodeInvalidDate, CodeInvalidIBAN, CodeInvalidBIC, CodeInvalidCharset,
		CodeInvalidValue, CodeDuplicateRef, CodeLineTooLong, CodeTooManyErrors,
	}
	for _, c := range produced {
		if !codesTested[c] {
			t.Errorf("no test triggers %s", c)
		}
	}
}
