package sftpd

import (
	"testing"
	"time"
)

func TestBanList(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		fails     []time.Duration // offsets of failed logins from t0
		at        time.Duration   // when banned() is asked
		wantBan   bool
		wantFired int // index of the failure that bans, -1 for none
	}{
		{"nine in the window", repeat(9, 10*time.Second), 2 * time.Minute, false, -1},
		{"ten in the window", repeat(10, 10*time.Second), 2 * time.Minute, true, 9},
		{"ten spread over more than the window", repeat(10, 34*time.Second), 6 * time.Minute, false, -1},
		{"ban ends after its duration", repeat(10, time.Second), 10*time.Second + 15*time.Minute, false, 9},
		{"ban still on just before", repeat(10, time.Second), 9*time.Second + 15*time.Minute - time.Nanosecond, true, 9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBanList(10, 5*time.Minute, 15*time.Minute)
			fired := -1
			for i, d := range tc.fails {
				if b.fail("192.0.2.1", t0.Add(d)) {
					fired = i
				}
			}
			if fired != tc.wantFired {
				t.Fatalf("ban fired at failure %d, want %d", fired, tc.wantFired)
			}
			if got := b.banned("192.0.2.1", t0.Add(tc.at)); got != tc.wantBan {
				t.Fatalf("banned = %v, want %v", got, tc.wantBan)
			}
			if b.banned("192.0.2.2", t0.Add(tc.at)) {
				t.Fatal("another address is banned")
			}
		})
	}
}

func repeat(n int, every time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i) * every
	}
	return out
}
