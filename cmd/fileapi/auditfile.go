package main

import (
	"fmt"
	"os"
	"sync"
	"time"

	"fileapi/audit"
)

// reopenFile is an append-only file that can be reopened under the same
// name, so that logrotate can move DATA/audit.log away and send SIGHUP
// (docs/OPERATIONS in README): no line is lost or cut, unlike copytruncate.
type reopenFile struct {
	path string
	mu   sync.Mutex
	f    *os.File
}

func (r *reopenFile) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.f.Write(p)
}

// Reopen closes the current file and opens path again (creating it).
func (r *reopenFile) Reopen() error {
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	r.mu.Lock()
	old := r.f
	r.f = f
	r.mu.Unlock()
	return old.Close()
}

func (r *reopenFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.f.Close()
}

// auditLog is the audit log with its reopenable file.
type auditLog struct {
	*audit.Log
	file *reopenFile
}

func openAuditLog(path string, now func() time.Time) (*auditLog, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot open the audit log: %v", err)
	}
	rf := &reopenFile{path: path, f: f}
	return &auditLog{Log: audit.New(rf, now), file: rf}, nil
}

func (a *auditLog) Close() error { return a.file.Close() }
