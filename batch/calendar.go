package batch

import "time"

// The TARGET2 calendar (SEPA.md §3.1): inter-bank business days are every
// day except Saturdays, Sundays, 1 January, Good Friday, Easter Monday,
// 1 May, 25 and 26 December. Nothing else (no national holidays).
//
// The functions take and return dates: only the year, month and day of the
// argument (in its own location) count, and results are UTC midnight of the
// civil date, which is how the whole package stores dates.

// Date returns the civil date of t in loc as UTC midnight.
func Date(t time.Time, loc *time.Location) time.Time {
	if loc != nil {
		t = t.In(loc)
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func civil(d time.Time) time.Time {
	y, m, dd := d.Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)
}

// Easter returns Easter Sunday of the Gregorian year (anonymous
// Meeus/Jones/Butcher algorithm, integer arithmetic only).
func Easter(year int) time.Time {
	a := year % 19
	b := year / 100
	c := year % 100
	d := b / 4
	e := b % 4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i := c / 4
	k := c % 4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
}

// IsBusinessDay reports whether d is a TARGET2 day.
func IsBusinessDay(d time.Time) bool {
	d = civil(d)
	switch d.Weekday() {
	case time.Saturday, time.Sunday:
		return false
	}
	_, m, day := d.Date()
	switch {
	case m == time.January && day == 1,
		m == time.May && day == 1,
		m == time.December && (day == 25 || day == 26):
		return false
	}
	if m == time.March || m == time.April {
		e := Easter(d.Year())
		if d.Equal(e.AddDate(0, 0, -2)) || d.Equal(e.AddDate(0, 0, 1)) {
			return false
		}
	}
	return true
}

// NextBusinessDay returns the first business day strictly after d.
func NextBusinessDay(d time.Time) time.Time {
	d = civil(d).AddDate(0, 0, 1)
	for !IsBusinessDay(d) {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

// PrevBusinessDay returns the last business day strictly before d.
func PrevBusinessDay(d time.Time) time.Time {
	d = civil(d).AddDate(0, 0, -1)
	for !IsBusinessDay(d) {
		d = d.AddDate(0, 0, -1)
	}
	return d
}

// AddBusinessDays returns the n-th business day after d (n > 0) or before d
// (n < 0); d itself need not be a business day. n == 0 returns d.
func AddBusinessDays(d time.Time, n int) time.Time {
	d = civil(d)
	for ; n > 0; n-- {
		d = NextBusinessDay(d)
	}
	for ; n < 0; n++ {
		d = PrevBusinessDay(d)
	}
	return d
}

// BusinessDayOnOrAfter returns d when it is a business day, else the next
// one.
func BusinessDayOnOrAfter(d time.Time) time.Time {
	d = civil(d)
	if IsBusinessDay(d) {
		return d
	}
	return NextBusinessDay(d)
}
