// Package audit writes the audit log: one JSON object a line, appended to
// DATA/audit.log, for every login, failed login, upload, pick-up, download,
// removal and key change (SPEC §2). It is separate from the service log so
// that it can be kept, rotated and shipped on its own.
package audit

import (
	"encoding/json"
	"io"
	"os"
	"sync"
	"time"
)

// Event is one audit record. Empty fields are left out of the JSON line.
type Event struct {
	Time        time.Time `json:"time"`
	Action      string    `json:"action"` // login, login_failed, upload, pickup, download, remove, key_add, key_revoke, ...
	Merchant    string    `json:"merchant,omitempty"`
	Fingerprint string    `json:"fingerprint,omitempty"`
	Source      string    `json:"source,omitempty"` // remote address, or "cli"
	Path        string    `json:"path,omitempty"`   // virtual path as the merchant sees it
	Bytes       int64     `json:"bytes,omitempty"`
	FileID      string    `json:"file_id,omitempty"`
	Outcome     string    `json:"outcome,omitempty"`
	Detail      string    `json:"detail,omitempty"`
}

// Log appends events to a writer, one JSON line each; safe for concurrent use.
// A nil *Log discards everything, so tests and tools may pass nil.
type Log struct {
	mu  sync.Mutex
	w   io.Writer
	c   io.Closer
	now func() time.Time
}

// Open appends to the file at path (created with mode 0600).
func Open(path string, now func() time.Time) (*Log, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	return &Log{w: f, c: f, now: now}, nil
}

// New writes to w; now stamps events that carry no time (nil: time.Now).
func New(w io.Writer, now func() time.Time) *Log {
	return &Log{w: w, now: now}
}

// Record writes one event. Errors are returned but callers usually only log
// them: a failing audit disk must not stop payments being acknowledged.
func (l *Log) Record(e Event) error {
	if l == nil {
		return nil
	}
	if e.Time.IsZero() {
		if l.now != nil {
			e.Time = l.now()
		} else {
			e.Time = time.Now()
		}
	}
	e.Time = e.Time.UTC()
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err = l.w.Write(b)
	return err
}

// Close closes the underlying file, if Open created it.
func (l *Log) Close() error {
	if l == nil || l.c == nil {
		return nil
	}
	return l.c.Close()
}
