package formats

// Amounts and dates (SEPA.md §1.5-1.6, FORMATS.md §1). Money is integer
// cents from the first byte read to the last byte written: no float64.

import (
	"errors"
	"strconv"
	"time"
)

// Sentinels wrapped by ParseAmount and ParseDate.
var (
	ErrAmount = errors.New("amount")
	ErrDate   = errors.New("date")
)

// Amount limits of SEPA.md AMT-02, in cents.
const (
	MinAmount int64 = 1
	MaxAmount int64 = 99999999999 // 999999999.99
)

// ParseAmount reads a SEPA amount: digits, optionally a dot and one or two
// decimals ("89.99", "100", "0.5"), from 0.01 to 999999999.99; no sign,
// exponent or thousands separator (AMT-02..04). Leading zeros are accepted.
func ParseAmount(s string) (int64, error) {
	c, err := parseCents(s, 9)
	if err != nil {
		return 0, err
	}
	if c < MinAmount {
		return 0, ruleErr(ErrAmount, "amount must be at least 0.01")
	}
	return c, nil
}

// parseCents is ParseAmount without the lower bound (a totals line of a
// MANDATES file says 0) and with at most maxWhole significant digits before
// the dot: 9 for one amount, more for the total of a file, which can pass
// a billion.
func parseCents(s string, maxWhole int) (int64, error) {
	if s == "" {
		return 0, ruleErr(ErrAmount, "amount is empty")
	}
	var whole, frac int64
	i, sig := 0, 0
	for ; i < len(s) && isDigit(s[i]); i++ {
		if whole != 0 || s[i] != '0' {
			sig++
		}
		if sig > maxWhole {
			return 0, ruleErr(ErrAmount, "amount %s is above %s", quoteShort(s), FormatAmount(pow10(maxWhole+2)-1))
		}
		whole = whole*10 + int64(s[i]-'0')
	}
	if i == 0 {
		return 0, badAmount(s)
	}
	if i < len(s) {
		if s[i] != '.' {
			return 0, badAmount(s)
		}
		i++
		n := 0
		for ; i < len(s) && isDigit(s[i]); i++ {
			n++
			if n > 2 {
				return 0, ruleErr(ErrAmount, "amount %s has more than 2 decimals", quoteShort(s))
			}
			frac = frac*10 + int64(s[i]-'0')
		}
		if n == 0 || i < len(s) {
			return 0, badAmount(s)
		}
		if n == 1 {
			frac *= 10
		}
	}
	return whole*100 + frac, nil
}

func badAmount(s string) error {
	return ruleErr(ErrAmount, "amount %s is not a number like 89.99 (digits, a dot, up to 2 decimals)", quoteShort(s))
}

// quoteShort quotes a value for a message, cutting very long values so an
// .err row stays readable.
func quoteShort(s string) string {
	const max = 40
	if len(s) > max {
		cut := max
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strconv.Quote(s)
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// FormatAmount writes cents with exactly two decimals and a dot: 8999 →
// "89.99", 5 → "0.05". Negative amounts get a leading "-".
func FormatAmount(cents int64) string {
	var buf [24]byte
	return string(appendAmount(buf[:0], cents))
}

// appendAmount is FormatAmount without the allocation.
func appendAmount(b []byte, cents int64) []byte {
	u := uint64(cents)
	if cents < 0 {
		b = append(b, '-')
		u = uint64(-cents)
	}
	b = strconv.AppendUint(b, u/100, 10)
	f := u % 100
	return append(b, '.', byte('0'+f/10), byte('0'+f%10))
}

// ParseDate reads an ISO date YYYY-MM-DD that exists in the calendar
// (2025-02-29 is refused) and returns it at UTC midnight.
func ParseDate(s string) (time.Time, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, ruleErr(ErrDate, "date %s is not in the form YYYY-MM-DD", quoteShort(s))
	}
	num := func(a, b int) (int, bool) {
		n := 0
		for i := a; i < b; i++ {
			if !isDigit(s[i]) {
				return 0, false
			}
			n = n*10 + int(s[i]-'0')
		}
		return n, true
	}
	y, ok1 := num(0, 4)
	m, ok2 := num(5, 7)
	d, ok3 := num(8, 10)
	if !ok1 || !ok2 || !ok3 {
		return time.Time{}, ruleErr(ErrDate, "date %s is not in the form YYYY-MM-DD", quoteShort(s))
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if y == 0 || m < 1 || m > 12 || t.Day() != d || int(t.Month()) != m {
		return time.Time{}, ruleErr(ErrDate, "date %s does not exist", s)
	}
	return t, nil
}

// FormatDate writes a date as YYYY-MM-DD, the calendar day in t's own
// location (dates here are UTC midnight; a caller's local midnight keeps its
// day); the zero time gives "".
func FormatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}
