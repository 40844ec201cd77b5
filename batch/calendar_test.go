package batch

import (
	"testing"
	"time"
)

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestEasterVectors(t *testing.T) {
	// SEPA.md §3.1 table, plus well-known dates outside it.
	tests := []struct {
		year                      int
		easter, goodFri, easterMo string
	}{
		{2024, "2024-03-31", "2024-03-29", "2024-04-01"},
		{2025, "2025-04-20", "2025-04-18", "2025-04-21"},
		{2026, "2026-04-05", "2026-04-03", "2026-04-06"},
		{2027, "2027-03-28", "2027-03-26", "2027-03-29"},
		{2028, "2028-04-16", "2028-04-14", "2028-04-17"},
		{2029, "2029-04-01", "2029-03-30", "2029-04-02"},
		{2030, "2030-04-21", "2030-04-19", "2030-04-22"},
		{1818, "1818-03-22", "1818-03-20", "1818-03-23"}, // earliest possible date
		{1943, "1943-04-25", "1943-04-23", "1943-04-26"}, // latest possible date
		{2038, "2038-04-25", "2038-04-23", "2038-04-26"},
		{2285, "2285-03-22", "2285-03-20", "2285-03-23"},
	}
	for _, tt := range tests {
		e := Easter(tt.year)
		if !e.Equal(day(tt.easter)) {
			t.Errorf("Easter(%d) = %s, want %s", tt.year, e.Format(time.DateOnly), tt.easter)
		}
		if e.Weekday() != time.Sunday {
			t.Errorf("Easter(%d) is a %s", tt.year, e.Weekday())
		}
		for _, closed := range []string{tt.goodFri, tt.easterMo} {
			if IsBusinessDay(day(closed)) {
				t.Errorf("%s should be closed", closed)
			}
		}
	}
}

func TestEasterRangeManyYears(t *testing.T) {
	for y := 1583; y <= 4099; y++ {
		e := Easter(y)
		if e.Weekday() != time.Sunday || e.Before(time.Date(y, 3, 22, 0, 0, 0, 0, time.UTC)) || e.After(time.Date(y, 4, 25, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("Easter(%d) = %s out of range", y, e)
		}
	}
}

func TestBusinessDaysPerYear(t *testing.T) {
	want := map[int]int{2025: 255, 2026: 256, 2027: 258}
	for y := 2000; y <= 2100; y++ {
		n := 0
		for d := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == y; d = d.AddDate(0, 0, 1) {
			if IsBusinessDay(d) {
				n++
			}
		}
		// Every year has 260 or 261 weekdays, minus at most 6 closing days
		// (Good Friday and Easter Monday are always weekdays).
		if n < 254 || n > 259 {
			t.Errorf("%d: %d business days", y, n)
		}
		if w, ok := want[y]; ok && n != w {
			t.Errorf("%d: %d business days, want %d", y, n, w)
		}
	}
}

func TestIsBusinessDay(t *testing.T) {
	tests := []struct {
		d    string
		want bool
	}{
		{"2026-01-01", false}, {"2026-01-02", true}, {"2026-05-01", false},
		{"2026-12-24", true}, {"2026-12-25", false}, {"2026-12-26", false},
		{"2026-12-31", true}, {"2026-11-28", false}, {"2026-11-29", false},
		{"2026-11-30", true}, {"2026-07-14", true}, {"2026-05-14", true}, // national holidays are open
		{"2026-04-03", false}, {"2026-04-06", false}, {"2026-04-07", true},
	}
	for _, tt := range tests {
		if got := IsBusinessDay(day(tt.d)); got != tt.want {
			t.Errorf("IsBusinessDay(%s) = %v, want %v", tt.d, got, tt.want)
		}
	}
}

func TestBusinessDayArithmetic(t *testing.T) {
	// SEPA.md §3.4 worked examples: settlement date, D-1, D+5, D+3.
	tests := []struct {
		reqd, settle, dMinus1, dPlus5, dPlus3 string
	}{
		{"2026-04-07", "2026-04-07", "2026-04-02", "2026-04-14", "2026-04-10"},
		{"2026-04-03", "2026-04-07", "2026-04-02", "2026-04-14", "2026-04-10"},
		{"2026-05-01", "2026-05-04", "2026-04-30", "2026-05-11", "2026-05-07"},
		{"2026-12-28", "2026-12-28", "2026-12-24", "2027-01-05", "2026-12-31"},
		{"2027-01-04", "2027-01-04", "2026-12-31", "2027-01-11", "2027-01-07"},
	}
	for _, tt := range tests {
		s := BusinessDayOnOrAfter(day(tt.reqd))
		if !s.Equal(day(tt.settle)) {
			t.Errorf("settlement of %s = %s, want %s", tt.reqd, s.Format(time.DateOnly), tt.settle)
		}
		for _, c := range []struct {
			n    int
			want string
		}{{-1, tt.dMinus1}, {5, tt.dPlus5}, {3, tt.dPlus3}} {
			if got := AddBusinessDays(s, c.n); !got.Equal(day(c.want)) {
				t.Errorf("AddBusinessDays(%s, %d) = %s, want %s", tt.settle, c.n, got.Format(time.DateOnly), c.want)
			}
		}
	}
	// Earliest due date by submission day (§3.4): first business day after
	// the presentment day P (today if open, else the next business day).
	earliest := map[string]string{
		"2026-04-02": "2026-04-07", "2026-04-03": "2026-04-08",
		"2026-12-24": "2026-12-28", "2026-12-31": "2027-01-04",
	}
	for sub, want := range earliest {
		if got := earliestCollection(day(sub)); !got.Equal(day(want)) {
			t.Errorf("earliest collection for %s = %s, want %s", sub, got.Format(time.DateOnly), want)
		}
	}
	if got := AddBusinessDays(day("2026-11-27"), 0); !got.Equal(day("2026-11-27")) {
		t.Errorf("AddBusinessDays(d, 0) = %s", got)
	}
	if got := NextBusinessDay(day("2026-11-27")); !got.Equal(day("2026-11-30")) {
		t.Errorf("NextBusinessDay(Fri) = %s", got)
	}
}

func TestAddBusinessDaysInverse(t *testing.T) {
	for d := day("2020-01-01"); d.Before(day("2032-01-01")); d = d.AddDate(0, 0, 1) {
		if !IsBusinessDay(d) {
			continue
		}
		for _, n := range []int{1, 2, 3, 5, 20} {
			if back := AddBusinessDays(AddBusinessDays(d, n), -n); !back.Equal(d) {
				t.Fatalf("AddBusinessDays(AddBusinessDays(%s, %d), -%d) = %s", d.Format(time.DateOnly), n, n, back.Format(time.DateOnly))
			}
		}
	}
}

func TestDateInLocation(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	// 23:30 UTC on 27 Nov is already 28 Nov in Paris.
	got := Date(time.Date(2026, 11, 27, 23, 30, 0, 0, time.UTC), paris)
	if !got.Equal(day("2026-11-28")) {
		t.Errorf("Date = %s", got)
	}
}
