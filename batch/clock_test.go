package batch

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

func TestSandboxClockForwardOnlyAndPersistent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	real := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	realNow := func() time.Time { return real }
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := OpenSandboxClock(db, realNow)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Now().Equal(real) {
		t.Fatalf("fresh clock = %s, want the real time", c.Now())
	}
	moves := 0
	c.OnMove(func() { moves++ })
	target := time.Date(2026, 12, 24, 0, 0, 0, 0, time.UTC)
	if err := c.Set(target); err != nil {
		t.Fatal(err)
	}
	if err := c.Advance(72 * time.Hour); err != nil {
		t.Fatal(err)
	}
	want := target.Add(72 * time.Hour)
	if !c.Now().Equal(want) {
		t.Fatalf("Now = %s, want %s", c.Now(), want)
	}
	if err := c.Set(target); !errors.Is(err, ErrClockBackward) {
		t.Fatalf("Set backwards: err = %v, want ErrClockBackward", err)
	}
	if err := c.Advance(-time.Second); !errors.Is(err, ErrClockBackward) {
		t.Fatalf("Advance(-1s): err = %v", err)
	}
	if moves != 2 {
		t.Fatalf("move hooks ran %d times, want 2", moves)
	}
	// The clock keeps running at normal speed from the new time.
	real = real.Add(90 * time.Minute)
	if !c.Now().Equal(want.Add(90 * time.Minute)) {
		t.Fatalf("after 90 real minutes Now = %s", c.Now())
	}
	// The move survives a restart.
	db.Close()
	db, err = bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c2, err := OpenSandboxClock(db, realNow)
	if err != nil {
		t.Fatal(err)
	}
	if !c2.Now().Equal(want.Add(90 * time.Minute)) {
		t.Fatalf("after reopen Now = %s, want %s", c2.Now(), want.Add(90*time.Minute))
	}
	// A machine clock stepping back does not move the sandbox time back.
	real = real.Add(-time.Hour)
	if c2.Now().Before(want.Add(90 * time.Minute)) {
		t.Fatalf("sandbox time went back with the machine clock")
	}
	// Set to exactly now is allowed (not backward).
	if err := c2.Set(c2.Now()); err != nil {
		t.Fatalf("Set(now): %v", err)
	}
}
