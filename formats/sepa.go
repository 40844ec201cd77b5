package formats

// SEPA primitive values (SEPA.md §1): IBAN, BIC, creditor identifier and the
// SEPA Latin character set. Every validator returns nil or an error whose
// text is the human sentence that goes into the MESSAGE column of an .err
// row; the error wraps one of the Err* sentinels below so callers can branch
// with errors.Is without parsing text.

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sentinels wrapped by the validators of this file.
var (
	ErrIBANFormat  = errors.New("IBAN format")       // characters or layout (IBAN-01/02)
	ErrIBANCountry = errors.New("IBAN country")      // not a SEPA country (IBAN-03)
	ErrIBANLength  = errors.New("IBAN length")       // wrong length for its country (IBAN-04)
	ErrIBANCheck   = errors.New("IBAN check digits") // 00/01/99 or MOD 97-10 mismatch (IBAN-05)
	ErrBIC         = errors.New("BIC")               // not an ISO 9362 BIC
	ErrCreditorID  = errors.New("creditor identifier")
	ErrCharset     = errors.New("SEPA character set") // CHR-02
	ErrSlash       = errors.New("SEPA slash rule")    // CHR-03
)

// ruleError is a human message that unwraps to a sentinel.
type ruleError struct {
	kind error
	msg  string
}

func (e *ruleError) Error() string { return e.msg }
func (e *ruleError) Unwrap() error { return e.kind }

func ruleErr(kind error, format string, args ...any) error {
	return &ruleError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// ibanLengths is the SEPA country table of SEPA.md §1.1: country code → total
// IBAN length. It also serves as the list of SEPA countries for creditor
// identifiers. Territories with their own ISO code but the parent's IBAN
// prefix (GF, GP, RE, ...) are deliberately absent.
var ibanLengths = map[string]int{
	"AD": 24, "AT": 20, "BE": 16, "BG": 22, "HR": 21, "CY": 28, "CZ": 24,
	"DK": 18, "EE": 20, "FI": 18, "FR": 27, "DE": 22, "GI": 23, "GR": 27,
	"HU": 28, "IS": 26, "IE": 22, "IT": 27, "LV": 21, "LI": 21, "LT": 20,
	"LU": 20, "MT": 31, "MC": 27, "NL": 18, "NO": 15, "PL": 28, "PT": 25,
	"RO": 24, "SM": 27, "SK": 24, "SI": 19, "ES": 24, "SE": 24, "CH": 21,
	"GB": 22, "VA": 22, "AL": 28, "ME": 22, "MD": 24, "MK": 19, "RS": 22,
}

// IsSEPACountry reports whether cc (two upper-case letters) is in the SEPA
// scope of SEPA.md §1.1.
func IsSEPACountry(cc string) bool {
	_, ok := ibanLengths[cc]
	return ok
}

// NormalizeIBAN turns an IBAN typed by a person (CSV input) into its
// electronic form: surrounding blanks trimmed, every space dropped, upper
// case. Never apply it to XML values, which must already be electronic.
func NormalizeIBAN(s string) string {
	// Fast path: already electronic (the common case in machine-made files).
	clean := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if unicode.IsSpace(r) { // includes the no-break space spreadsheets insert
			continue
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

// ValidateIBAN checks an IBAN in electronic form (no spaces, upper case):
// characters, SEPA country, the country's exact length, check digits 02..98
// and ISO 7064 MOD 97-10 (SEPA.md §1.1 IBAN-01..05).
func ValidateIBAN(iban string) error {
	if iban == "" {
		return ruleErr(ErrIBANFormat, "IBAN is empty")
	}
	for i := 0; i < len(iban); i++ {
		c := iban[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == ' ':
			return ruleErr(ErrIBANFormat, "IBAN must not contain spaces here (electronic form)")
		case c >= 'a' && c <= 'z':
			return ruleErr(ErrIBANFormat, "IBAN must be upper case")
		default:
			return ruleErr(ErrIBANFormat, "IBAN may contain only letters and digits, found %q", firstRune(iban[i:]))
		}
	}
	if len(iban) < 4 || !isUpper(iban[0]) || !isUpper(iban[1]) {
		return ruleErr(ErrIBANFormat, "IBAN must start with a 2-letter country code")
	}
	if !isDigit(iban[2]) || !isDigit(iban[3]) {
		return ruleErr(ErrIBANFormat, "IBAN must have 2 check digits after the country code")
	}
	cc := iban[:2]
	want, ok := ibanLengths[cc]
	if !ok {
		return ruleErr(ErrIBANCountry, "country %s is not a SEPA country", cc)
	}
	if len(iban) != want {
		return ruleErr(ErrIBANLength, "length %d is wrong for %s, expected %d", len(iban), cc, want)
	}
	if kk := iban[2:4]; kk == "00" || kk == "01" || kk == "99" {
		return ruleErr(ErrIBANCheck, "check digits %s are never valid", kk)
	}
	if mod97(iban[4:], iban[:4]) != 1 {
		return ruleErr(ErrIBANCheck, "check digits do not match")
	}
	return nil
}

// mod97 folds a then b (letters A=10..Z=35, case-insensitive, other
// characters skipped) through MOD 97-10 without building a big integer: the
// remainder is taken whenever the accumulator could overflow on the next
// step, which gives the same result as folding one digit at a time.
func mod97(a, b string) int {
	const limit = 1e17 // r*100+35 stays below 2^64
	var r uint64
	for _, s := range [2]string{a, b} {
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c >= '0' && c <= '9':
				r = r*10 + uint64(c-'0')
			case c >= 'A' && c <= 'Z':
				r = r*100 + uint64(c-'A') + 10
			case c >= 'a' && c <= 'z':
				r = r*100 + uint64(c-'a') + 10
			default:
				continue
			}
			if r >= limit {
				r %= 97
			}
		}
	}
	return int(r % 97)
}

// ValidateBIC checks an ISO 9362 BIC of 8 or 11 characters with the 2014
// layout (SEPA.md §1.2, pattern BICFIDec2014Identifier): 4 alphanumerics
// (institution), 2 letters (country), 2 alphanumerics (location), then an
// optional 3-alphanumeric branch. Use ValidateBIC2009 for the stricter
// pain.008.001.02 pattern.
func ValidateBIC(bic string) error {
	if len(bic) != 8 && len(bic) != 11 {
		return ruleErr(ErrBIC, "BIC must have 8 or 11 characters, not %d", utf8.RuneCountInString(bic))
	}
	for i := 0; i < len(bic); i++ {
		c := bic[i]
		if c >= 'a' && c <= 'z' {
			return ruleErr(ErrBIC, "BIC must be upper case")
		}
		if !isUpper(c) && !isDigit(c) {
			return ruleErr(ErrBIC, "BIC may contain only letters and digits, found %q", firstRune(bic[i:]))
		}
	}
	if !isUpper(bic[4]) || !isUpper(bic[5]) {
		return ruleErr(ErrBIC, "BIC characters 5-6 must be a country code (letters)")
	}
	return nil
}

// ValidateBIC2009 applies ValidateBIC and then the 2009 BICIdentifier
// pattern of pain.008.001.02: letters only in the institution code, and a
// location code whose first character is not 0 or 1 and whose second is not
// the letter O.
func ValidateBIC2009(bic string) error {
	if err := ValidateBIC(bic); err != nil {
		return err
	}
	for i := 0; i < 4; i++ {
		if !isUpper(bic[i]) {
			return ruleErr(ErrBIC, "BIC institution code must be letters in this message version")
		}
	}
	if bic[6] == '0' || bic[6] == '1' || bic[7] == 'O' {
		return ruleErr(ErrBIC, "BIC location code %s is not allowed in this message version", bic[6:8])
	}
	return nil
}

// isCIChar is the character class of the SEPA-restricted creditor
// identifier pattern (SEPA.md §1.3): alphanumerics and +?/-:().,'
func isCIChar(c byte) bool {
	return isUpper(c) || isDigit(c) || c >= 'a' && c <= 'z' || strings.IndexByte("+?/-:().,'", c) >= 0
}

// ValidateCreditorID checks a SEPA creditor identifier (SEPA.md §1.3 CI-01..03):
// country code of a SEPA country, 2 check digits, a 3-character business code
// that the check ignores, and a national identifier of 1 to 28 characters;
// MOD 97-10 over national identifier + country + check digits must give 1.
func ValidateCreditorID(ci string) error {
	n := len(ci)
	if n < 8 || n > 35 {
		return ruleErr(ErrCreditorID, "creditor identifier must have 8 to 35 characters, not %d", utf8.RuneCountInString(ci))
	}
	for i := 0; i < n; i++ {
		if !isCIChar(ci[i]) {
			return ruleErr(ErrCreditorID, "creditor identifier contains %q, which is not allowed", firstRune(ci[i:]))
		}
	}
	cc := strings.ToUpper(ci[:2])
	if !isUpper(cc[0]) || !isUpper(cc[1]) {
		return ruleErr(ErrCreditorID, "creditor identifier must start with a 2-letter country code")
	}
	if !isDigit(ci[2]) || !isDigit(ci[3]) {
		return ruleErr(ErrCreditorID, "creditor identifier must have 2 check digits after the country code")
	}
	if !IsSEPACountry(cc) {
		return ruleErr(ErrCreditorID, "creditor identifier country %s is not a SEPA country", cc)
	}
	if mod97(ci[7:], cc+ci[2:4]) != 1 {
		return ruleErr(ErrCreditorID, "creditor identifier check digits do not match")
	}
	return nil
}

// SameCreditorID reports whether two creditor identifiers name the same
// creditor: the business code (positions 5-7) is ignored and letters are
// compared without case (SEPA.md §1.3, "compare CIs with pos 5-7 masked").
func SameCreditorID(a, b string) bool {
	if len(a) != len(b) || len(a) < 8 {
		return strings.EqualFold(a, b)
	}
	return strings.EqualFold(a[:4], b[:4]) && strings.EqualFold(a[7:], b[7:])
}

// isSEPAChar reports whether c belongs to the SEPA Latin character set
// (SEPA.md §1.4): a-z A-Z 0-9 / - ? : ( ) . , ' + and space.
func isSEPAChar(c byte) bool { return sepaChars[c] }

var sepaChars = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "/-?:().,'+ " {
		t[c] = true
	}
	return t
}()

// ValidateSEPAText checks a reference or identifier (end-to-end id, mandate
// reference, client and invoice references, ...): only the SEPA Latin
// character set (CHR-02), and it must not start or end with "/" nor contain
// "//" (CHR-03).
func ValidateSEPAText(s string) error {
	for i := 0; i < len(s); i++ {
		if !isSEPAChar(s[i]) {
			r := firstRune(s[i:])
			return ruleErr(ErrCharset, "character %s is not allowed (SEPA character set)", describeRune(r))
		}
	}
	if len(s) > 0 && (s[0] == '/' || s[len(s)-1] == '/') {
		return ruleErr(ErrSlash, "must not start or end with /")
	}
	if strings.Contains(s, "//") {
		return ruleErr(ErrSlash, "must not contain //")
	}
	return nil
}

// describeRune quotes a rune for a message, naming invisible ones.
func describeRune(r rune) string {
	switch {
	case r == utf8.RuneError:
		return "(invalid UTF-8)"
	case r == '\t':
		return "TAB"
	case r < 0x20 || r == 0x7f:
		return fmt.Sprintf("U+%04X", r)
	default:
		return fmt.Sprintf("%q", string(r))
	}
}

func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
