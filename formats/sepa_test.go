package formats

import (
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sharedDir is the product contract beside the repository root (as in CI).
func sharedDir(t testing.TB) string {
	t.Helper()
	d, err := filepath.Abs(filepath.Join("..", "..", "shared"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d); err != nil {
		t.Fatalf("shared contract not found beside the repository: %v", err)
	}
	return d
}

// TestIdentifierVectors runs every IBAN, CI and BIC row of
// vectors/sepa/identifiers_compiled.csv.
func TestIdentifierVectors(t *testing.T) {
	f, err := os.Open(filepath.Join(sharedDir(t), "vectors", "sepa", "identifiers_compiled.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, row := range rows[1:] {
		kind, value, expected, reason := row[0], row[1], row[2], row[3]
		seen[kind]++
		t.Run(kind+"/"+value, func(t *testing.T) {
			var err error
			switch kind {
			case "IBAN":
				if expected == "invalid-or-normalise" {
					// Raw (XML) form is refused; the CSV form is normalised and valid.
					if ValidateIBAN(value) == nil {
						t.Errorf("raw %q accepted", value)
					}
					err = ValidateIBAN(NormalizeIBAN(value))
					expected = "valid"
				} else {
					err = ValidateIBAN(value)
				}
			case "CI":
				err = ValidateCreditorID(value)
			case "BIC":
				err = ValidateBIC(value)
				if expected == "invalid-2009-only" {
					if e := ValidateBIC2009(value); e == nil {
						t.Errorf("2009 pattern accepted %q", value)
					}
					expected = "valid"
				}
			default:
				t.Fatalf("unknown kind %q", kind)
			}
			switch expected {
			case "valid":
				if err != nil {
					t.Errorf("%s: %v (%s)", value, err, reason)
				}
			case "invalid":
				if err == nil {
					t.Errorf("%s accepted, want rejected: %s", value, reason)
				}
			default:
				t.Fatalf("unknown expectation %q", expected)
			}
		})
	}
	if seen["IBAN"] < 40 || seen["CI"] < 8 || seen["BIC"] < 5 {
		t.Errorf("vector file looks truncated: %v", seen)
	}
}

// TestSEPATableExamples checks the example IBAN of every row of the
// SEPA.md §1.1 country table, so the length table cannot drift from it.
func TestSEPATableExamples(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(sharedDir(t), "SEPA.md"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 8 || len(strings.TrimSpace(cells[2])) != 2 {
			continue
		}
		cc, example := strings.TrimSpace(cells[2]), strings.TrimSpace(cells[6])
		if cc == "CC" {
			continue
		}
		n++
		if err := ValidateIBAN(example); err != nil {
			t.Errorf("%s %s: %v", cc, example, err)
		}
		if got, want := ibanLengths[cc], len(example); got != want {
			t.Errorf("length table %s = %d, example has %d", cc, got, want)
		}
	}
	if n != len(ibanLengths) {
		t.Errorf("SEPA.md table has %d countries, code has %d", n, len(ibanLengths))
	}
}

func TestValidateIBANMessages(t *testing.T) {
	tests := []struct {
		iban string
		kind error
		msg  string
	}{
		{"DE89370400440532013000", nil, ""},
		{"DE89370400440532013001", ErrIBANCheck, "check digits do not match"},
		{"DE8937040044053201300", ErrIBANLength, "length 21 is wrong for DE, expected 22"},
		{"DE1234567890", ErrIBANLength, "length 12 is wrong for DE, expected 22"},
		{"DE00370400440532013000", ErrIBANCheck, "check digits 00 are never valid"},
		{"DE99370400440532013000", ErrIBANCheck, "check digits 99 are never valid"},
		{"TR330006100519786457841326", ErrIBANCountry, "country TR is not a SEPA country"},
		{"GF7630006000011234567890189", ErrIBANCountry, "country GF is not a SEPA country"},
		{"de89370400440532013000", ErrIBANFormat, "IBAN must be upper case"},
		{"DE89 3704 0044 0532 0130 00", ErrIBANFormat, "IBAN must not contain spaces here (electronic form)"},
		{"", ErrIBANFormat, "IBAN is empty"},
		{"DE89-370400440532013000", ErrIBANFormat, `IBAN may contain only letters and digits, found '-'`},
		{"1E89370400440532013000", ErrIBANFormat, "IBAN must start with a 2-letter country code"},
		{"DEX9370400440532013000", ErrIBANFormat, "IBAN must have 2 check digits after the country code"},
		{"DE", ErrIBANFormat, "IBAN must start with a 2-letter country code"},
	}
	for _, tt := range tests {
		err := ValidateIBAN(tt.iban)
		if tt.kind == nil {
			if err != nil {
				t.Errorf("%q: %v", tt.iban, err)
			}
			continue
		}
		if err == nil || !errors.Is(err, tt.kind) || err.Error() != tt.msg {
			t.Errorf("%q: got %v, want %q (%v)", tt.iban, err, tt.msg, tt.kind)
		}
	}
}

func TestNormalizeIBAN(t *testing.T) {
	tests := map[string]string{
		"DE89370400440532013000":                 "DE89370400440532013000",
		" de89 3704 0044 0532 0130 00 ":          "DE89370400440532013000",
		"fr76\u00a03000 6000 0112 3456 7890 189": "FR7630006000011234567890189",
		"\tDE89370400440532013000\r":             "DE89370400440532013000",
		"":                                       "",
	}
	for in, want := range tests {
		if got := NormalizeIBAN(in); got != want {
			t.Errorf("NormalizeIBAN(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidateBIC(t *testing.T) {
	tests := []struct {
		bic     string
		ok2014  bool
		ok2009  bool
		message string
	}{
		{"DEUTDEFF", true, true, ""},
		{"DEUTDEFF500", true, true, ""},
		{"BANKDEFFXXX", true, true, ""},
		{"DEUTDE0F", true, false, ""},
		{"DEUTDE1F", true, false, ""},
		{"DEUTDEFO", true, false, ""},
		{"1234DEFF", true, false, ""},
		{"DEUTDEF", false, false, "BIC must have 8 or 11 characters, not 7"},
		{"DEUTDEFF50", false, false, "BIC must have 8 or 11 characters, not 10"},
		{"deutdeff", false, false, "BIC must be upper case"},
		{"DEUT1EFF", false, false, "BIC characters 5-6 must be a country code (letters)"},
		{"TEST1234", false, false, "BIC characters 5-6 must be a country code (letters)"},
		{"DEUT-EFF", false, false, "BIC may contain only letters and digits, found '-'"},
	}
	for _, tt := range tests {
		err := ValidateBIC(tt.bic)
		if (err == nil) != tt.ok2014 {
			t.Errorf("ValidateBIC(%q) = %v, want ok=%v", tt.bic, err, tt.ok2014)
		}
		if err != nil && (!errors.Is(err, ErrBIC) || err.Error() != tt.message) {
			t.Errorf("ValidateBIC(%q) = %q, want %q", tt.bic, err, tt.message)
		}
		if err := ValidateBIC2009(tt.bic); (err == nil) != tt.ok2009 {
			t.Errorf("ValidateBIC2009(%q) = %v, want ok=%v", tt.bic, err, tt.ok2009)
		}
	}
}

func TestValidateCreditorID(t *testing.T) {
	tests := []struct {
		ci  string
		msg string // "" = valid
	}{
		{"FR72ZZZ123456", ""}, // SEPA.md §1.3 worked example
		{"DE98ZZZ09999999999", ""},
		{"DE98ABC09999999999", ""},
		{"de98zzz09999999999", ""}, // pattern allows lower case; the check is case-insensitive
		{"IT66ZZZA1B2C3D4E5F6G7H8", ""},
		{"FR72ZZZ123457", "creditor identifier check digits do not match"},
		{"DE00ZZZ00099999999", "creditor identifier check digits do not match"},
		{"DE10ZZZ00099999999", ""}, // the correction SEPA.md gives
		{"BG40ZZZ507778", "creditor identifier check digits do not match"},
		{"BG22ZZZ507778", ""},
		{"AA00ZZZOriginalCreditorID", "creditor identifier country AA is not a SEPA country"},
		{"FR72ZZZ", "creditor identifier must have 8 to 35 characters, not 7"},
		{"FR72ZZZ12345678901234567890123456789", "creditor identifier must have 8 to 35 characters, not 36"},
		{"FR72ZZZ12_456", `creditor identifier contains '_', which is not allowed`},
		{"F172ZZZ123456", "creditor identifier must start with a 2-letter country code"},
		{"FRX2ZZZ123456", "creditor identifier must have 2 check digits after the country code"},
	}
	for _, tt := range tests {
		err := ValidateCreditorID(tt.ci)
		if tt.msg == "" {
			if err != nil {
				t.Errorf("%q: %v", tt.ci, err)
			}
			continue
		}
		if err == nil || err.Error() != tt.msg || !errors.Is(err, ErrCreditorID) {
			t.Errorf("%q: got %v, want %q", tt.ci, err, tt.msg)
		}
	}
	if !SameCreditorID("DE98ZZZ09999999999", "de98ABC09999999999") {
		t.Error("business code must be ignored when comparing")
	}
	if SameCreditorID("DE98ZZZ09999999999", "DE98ZZZ09999999998") {
		t.Error("different national ids compare equal")
	}
}

func TestValidateSEPAText(t *testing.T) {
	tests := []struct {
		s    string
		kind error
		msg  string
	}{
		{"PAY-0001", nil, ""},
		{"a-z A-Z 0-9 /-?:().,'+", nil, ""},
		{"INV/2026/11", nil, ""},
		{"", nil, ""},
		{"PAY_0001", ErrCharset, `character "_" is not allowed (SEPA character set)`},
		{"Café", ErrCharset, `character "é" is not allowed (SEPA character set)`},
		{"A&B", ErrCharset, `character "&" is not allowed (SEPA character set)`},
		{"A;B", ErrCharset, `character ";" is not allowed (SEPA character set)`},
		{"A\tB", ErrCharset, `character TAB is not allowed (SEPA character set)`},
		{"A\nB", ErrCharset, `character U+000A is not allowed (SEPA character set)`},
		{"A\xffB", ErrCharset, `character (invalid UTF-8) is not allowed (SEPA character set)`},
		{"/PAY", ErrSlash, "must not start or end with /"},
		{"PAY/", ErrSlash, "must not start or end with /"},
		{"/", ErrSlash, "must not start or end with /"},
		{"PAY//1", ErrSlash, "must not contain //"},
	}
	for _, tt := range tests {
		err := ValidateSEPAText(tt.s)
		if tt.kind == nil {
			if err != nil {
				t.Errorf("%q: %v", tt.s, err)
			}
			continue
		}
		if err == nil || !errors.Is(err, tt.kind) || err.Error() != tt.msg {
			t.Errorf("%q: got %v, want %q", tt.s, err, tt.msg)
		}
	}
}

func readShared(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sharedDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
