package formats

import (
	"errors"
	"testing"
	"time"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in    string
		cents int64
		msg   string // "" = valid
	}{
		{"89.99", 8999, ""},
		{"100", 10000, ""},
		{"0.5", 50, ""},
		{"12.3", 1230, ""},
		{"0.01", 1, ""},
		{"007.10", 710, ""},
		{"999999999.99", 99999999999, ""},
		{"000999999999.99", 99999999999, ""},
		{"0", 0, "amount must be at least 0.01"},
		{"0.00", 0, "amount must be at least 0.01"},
		{"1000000000", 0, `amount "1000000000" is above 999999999.99`},
		{"99999999999999999999999", 0, `amount "99999999999999999999999" is above 999999999.99`},
		{"12.345", 0, `amount "12.345" has more than 2 decimals`},
		{"", 0, "amount is empty"},
		{"-1.00", 0, `amount "-1.00" is not a number like 89.99 (digits, a dot, up to 2 decimals)`},
		{"+1.00", 0, `amount "+1.00" is not a number like 89.99 (digits, a dot, up to 2 decimals)`},
		{"1,50", 0, `amount "1,50" is not a number like 89.99 (digits, a dot, up to 2 decimals)`},
		{"1 000.00", 0, `amount "1 000.00" is not a number like 89.99 (digits, a dot, up to 2 decimals)`},
		{"1.", 0, `amount "1." is not a number like 89.99 (digits, a dot, up to 2 decimals)`},
		{".5", 0, `amount ".5" is not a number like 89.99 (digits, a dot, up to 2 decimals)`},
		{"1e3", 0, `amount "1e3" is not a number like 89.99 (digits, a dot, up to 2 decimals)`},
		{"1.5x", 0, `amount "1.5x" is not a number like 89.99 (digits, a dot, up to 2 decimals)`},
		{"EUR 5", 0, `amount "EUR 5" is not a number like 89.99 (digits, a dot, up to 2 decimals)`},
	}
	for _, tt := range tests {
		got, err := ParseAmount(tt.in)
		if tt.msg == "" {
			if err != nil || got != tt.cents {
				t.Errorf("ParseAmount(%q) = %d, %v; want %d", tt.in, got, err, tt.cents)
			}
			continue
		}
		if err == nil || err.Error() != tt.msg || !errors.Is(err, ErrAmount) {
			t.Errorf("ParseAmount(%q) error = %v, want %q", tt.in, err, tt.msg)
		}
	}
}

func TestFormatAmount(t *testing.T) {
	tests := map[int64]string{
		8999: "89.99", 5000: "50.00", 5: "0.05", 0: "0.00", 1230: "12.30",
		99999999999: "999999999.99", -150: "-1.50", -5: "-0.05",
	}
	for cents, want := range tests {
		if got := FormatAmount(cents); got != want {
			t.Errorf("FormatAmount(%d) = %q, want %q", cents, got, want)
		}
		if cents > 0 {
			back, err := ParseAmount(want)
			if err != nil || back != cents {
				t.Errorf("round trip %d → %q → %d, %v", cents, want, back, err)
			}
		}
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in  string
		y   int
		m   time.Month
		d   int
		msg string
	}{
		{"2025-03-14", 2025, 3, 14, ""},
		{"2024-02-29", 2024, 2, 29, ""},
		{"2000-02-29", 2000, 2, 29, ""},
		{"2025-02-29", 0, 0, 0, "date 2025-02-29 does not exist"},
		{"1900-02-29", 0, 0, 0, "date 1900-02-29 does not exist"},
		{"2025-04-31", 0, 0, 0, "date 2025-04-31 does not exist"},
		{"2025-13-01", 0, 0, 0, "date 2025-13-01 does not exist"},
		{"2025-00-10", 0, 0, 0, "date 2025-00-10 does not exist"},
		{"2025-01-00", 0, 0, 0, "date 2025-01-00 does not exist"},
		{"0000-01-01", 0, 0, 0, "date 0000-01-01 does not exist"},
		{"2025-3-14", 0, 0, 0, `date "2025-3-14" is not in the form YYYY-MM-DD`},
		{"14/03/2025", 0, 0, 0, `date "14/03/2025" is not in the form YYYY-MM-DD`},
		{"2025-03-1x", 0, 0, 0, `date "2025-03-1x" is not in the form YYYY-MM-DD`},
		{"2025-03-14T00:00:00Z", 0, 0, 0, `date "2025-03-14T00:00:00Z" is not in the form YYYY-MM-DD`},
		{"", 0, 0, 0, `date "" is not in the form YYYY-MM-DD`},
	}
	for _, tt := range tests {
		got, err := ParseDate(tt.in)
		if tt.msg == "" {
			want := time.Date(tt.y, tt.m, tt.d, 0, 0, 0, 0, time.UTC)
			if err != nil || !got.Equal(want) || got.Location() != time.UTC {
				t.Errorf("ParseDate(%q) = %v, %v; want %v", tt.in, got, err, want)
			}
			if FormatDate(got) != tt.in {
				t.Errorf("FormatDate(ParseDate(%q)) = %q", tt.in, FormatDate(got))
			}
			continue
		}
		if err == nil || err.Error() != tt.msg || !errors.Is(err, ErrDate) {
			t.Errorf("ParseDate(%q) error = %v, want %q", tt.in, err, tt.msg)
		}
	}
	if FormatDate(time.Time{}) != "" {
		t.Error("zero date must format empty")
	}
}
