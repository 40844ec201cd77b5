package batch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.etcd.io/bbolt"
)

// Clock is where every time the service uses comes from.
type Clock interface{ Now() time.Time }

// realClock is the machine's clock.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// ErrClockBackward is returned when a sandbox clock move would go back in
// time: collections, returns and reports already produced cannot be undone.
var ErrClockBackward = errors.New("the sandbox clock only moves forward")

var bucketMeta = []byte("batch.meta")

var keyClockOffset = []byte("clock.offset")

// SandboxClock is the real clock plus an offset stored in bbolt, so that a
// move survives restarts and the clock keeps running at normal speed from
// the new time (SPEC §5). Safe for concurrent use.
type SandboxClock struct {
	db   *bbolt.DB
	real func() time.Time

	mu      sync.Mutex
	offset  time.Duration
	onMove  []func()
	highest time.Time // never hand out a time before one already handed out
}

// OpenSandboxClock loads the clock's offset from db (zero when never moved).
// real is the underlying clock (nil: time.Now).
func OpenSandboxClock(db *bbolt.DB, real func() time.Time) (*SandboxClock, error) {
	if real == nil {
		real = time.Now
	}
	c := &SandboxClock{db: db, real: real}
	err := db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if v := b.Get(keyClockOffset); len(v) == 8 {
			c.offset = time.Duration(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sandbox clock: %w", err)
	}
	return c, nil
}

// Now returns the sandbox time.
func (c *SandboxClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.real().Add(c.offset)
	if t.Before(c.highest) {
		// The machine clock stepped back (NTP): keep sandbox time monotonic.
		return c.highest
	}
	c.highest = t
	return t
}

// Offset is how far the sandbox clock is ahead of the real one.
func (c *SandboxClock) Offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset
}

// Set moves the clock to t; t must not be before the current sandbox time.
func (c *SandboxClock) Set(t time.Time) error {
	c.mu.Lock()
	now := c.real()
	cur := now.Add(c.offset)
	if cur.Before(c.highest) {
		cur = c.highest
	}
	if t.Before(cur) {
		c.mu.Unlock()
		return fmt.Errorf("%w: %s is before the current sandbox time %s", ErrClockBackward, t.Format(time.RFC3339), cur.Format(time.RFC3339))
	}
	return c.store(t.Sub(now))
}

// Advance moves the clock forward by d (d >= 0).
func (c *SandboxClock) Advance(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("%w: cannot advance by %s", ErrClockBackward, d)
	}
	c.mu.Lock()
	return c.store(c.offset + d)
}

// store persists a new offset; called with c.mu held, releases it, then
// runs the move hooks (which may read the clock).
func (c *SandboxClock) store(off time.Duration) error {
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], uint64(off))
	err := c.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		return b.Put(keyClockOffset, v[:])
	})
	if err == nil {
		c.offset = off
	}
	hooks := append([]func(){}, c.onMove...)
	c.mu.Unlock()
	if err != nil {
		return fmt.Errorf("sandbox clock: %w", err)
	}
	for _, h := range hooks {
		h()
	}
	return nil
}

// OnMove registers fn to run after every successful Set or Advance (the
// service uses it to run the jobs at once).
func (c *SandboxClock) OnMove(fn func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.onMove = append(c.onMove, fn)
}
