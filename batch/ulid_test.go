package batch

import (
	"testing"
	"time"
)

func TestIDsSortAndAreUnique(t *testing.T) {
	var g ids
	t0 := time.Date(2026, 11, 27, 9, 14, 3, 0, time.UTC)
	prev := ""
	seen := map[string]bool{}
	for i := 0; i < 10000; i++ {
		// The clock stands still, moves, and steps back: ids keep increasing.
		at := t0.Add(time.Duration(i%7-3) * time.Millisecond * time.Duration(i/1000))
		id := g.next(at)
		if len(id) != 26 {
			t.Fatalf("id %q has %d chars", id, len(id))
		}
		if id <= prev {
			t.Fatalf("id %s after %s does not increase", id, prev)
		}
		if seen[id] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[id] = true
		prev = id
	}
}

func TestULIDTimePrefix(t *testing.T) {
	// The 10 leading characters encode the millisecond time (ULID spec
	// example: 1469918176385 ms -> 01ARYZ6S41).
	if got := encodeULID(1469918176385, 0, 0)[:10]; got != "01ARYZ6S41" {
		t.Errorf("time prefix = %s, want 01ARYZ6S41", got)
	}
	if got := encodeULID(0, 0, 0); got != "00000000000000000000000000" {
		t.Errorf("zero = %s", got)
	}
	if got := encodeULID(1<<48-1, 0xffff, ^uint64(0)); got != "7ZZZZZZZZZZZZZZZZZZZZZZZZZ" {
		t.Errorf("max = %s", got)
	}
	var g ids
	a := g.next(time.UnixMilli(1000))
	b := g.next(time.UnixMilli(2000))
	if a[:10] >= b[:10] {
		t.Errorf("later time does not sort after: %s %s", a, b)
	}
}
