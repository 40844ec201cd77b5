package sftpd

import (
	"sync"
	"time"
)

// banList counts failed logins per source address and bans an address
// that fails threshold times within window, for duration.
type banList struct {
	mu        sync.Mutex
	threshold int
	window    time.Duration
	duration  time.Duration
	fails     map[string][]time.Time
	until     map[string]time.Time
}

func newBanList(threshold int, window, duration time.Duration) *banList {
	return &banList{threshold: threshold, window: window, duration: duration,
		fails: map[string][]time.Time{}, until: map[string]time.Time{}}
}

func (b *banList) banned(host string, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	u, ok := b.until[host]
	if !ok {
		return false
	}
	if now.Before(u) {
		return true
	}
	delete(b.until, host)
	return false
}

// fail records a failed login and reports whether it banned the address.
func (b *banList) fail(host string, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	cut := now.Add(-b.window)
	keep := b.fails[host][:0]
	for _, t := range b.fails[host] {
		if t.After(cut) {
			keep = append(keep, t)
		}
	}
	keep = append(keep, now)
	if len(keep) >= b.threshold {
		delete(b.fails, host)
		b.until[host] = now.Add(b.duration)
		return true
	}
	b.fails[host] = keep
	// Bound memory under a spray of addresses: forget stale counters.
	if len(b.fails) > 10000 {
		for h, ts := range b.fails {
			if len(ts) == 0 || !ts[len(ts)-1].After(cut) {
				delete(b.fails, h)
			}
		}
		for h, u := range b.until {
			if !now.Before(u) {
				delete(b.until, h)
			}
		}
	}
	return false
}
