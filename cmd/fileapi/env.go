package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"fileapi/audit"
)

// Files inside the data directory.
const (
	dbName    = "fileapi.db"
	auditName = "audit.log"
)

// errInUse: the store is locked by another process and no server answers
// on the admin socket.
var errInUse = errors.New("data directory in use")

type inUseError struct{ dir string }

func (e *inUseError) Error() string {
	return fmt.Sprintf("the data directory %s is in use by another process", e.dir)
}
func (e *inUseError) Is(target error) bool { return target == errInUse }

// env is what admin commands run against: the store and the services built
// on it, either the running server's or ones the CLI opened for itself.
type env struct {
	dataDir  string
	db       *bbolt.DB
	audit    *audit.Log
	settings storedSettings
	loc      *time.Location
	// wall is the real clock. Key expiry, bans and audit times use it; the
	// sandbox clock is for payment dates only.
	wall   func() time.Time
	server bool // true inside `serve`
	log    *slog.Logger
	svc    *services
	// closers run in reverse order by close.
	closers []func() error
}

func (e *env) close() error {
	var first error
	for i := len(e.closers) - 1; i >= 0; i-- {
		if err := e.closers[i](); err != nil && first == nil {
			first = err
		}
	}
	e.closers = nil
	return first
}

// storedSettings are the serve settings admin commands need when they run
// without a server (mode for the clock, time zone for dates, fees for
// jobs): the last `serve` records them in the store.
type storedSettings struct {
	Mode     string           `json:"mode"`
	TimeZone string           `json:"time_zone"`
	Fees     map[string]int64 `json:"fees,omitempty"`
}

// cmdBucket is the one bucket package main owns.
var cmdBucket = []byte("cmd")

func defaultSettings() storedSettings {
	return storedSettings{Mode: modeSandbox, TimeZone: "Europe/Paris"}
}

func loadSettings(db *bbolt.DB) (storedSettings, error) {
	s := defaultSettings()
	err := db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(cmdBucket)
		if b == nil {
			return nil
		}
		if v := b.Get([]byte("settings")); v != nil {
			return json.Unmarshal(v, &s)
		}
		return nil
	})
	return s, err
}

func saveSettings(db *bbolt.DB, s storedSettings) error {
	v, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(cmdBucket)
		if err != nil {
			return err
		}
		return b.Put([]byte("settings"), v)
	})
}

// openStore opens DATA/fileapi.db, failing after wait when another
// process holds it (bbolt's file lock) rather than hanging.
func openStore(dataDir string, wait time.Duration) (*bbolt.DB, error) {
	db, err := bbolt.Open(filepath.Join(dataDir, dbName), 0o600, &bbolt.Options{Timeout: wait})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, &inUseError{dir: dataDir}
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open the store in %s: %v", dataDir, err)
	}
	return db, nil
}

// openLocal opens the data directory for an admin command run without a
// server. The directory must exist: a mistyped --data should not quietly
// create an empty service.
func openLocal(dataDir string) (*env, error) {
	st, err := os.Stat(dataDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("the data directory %s does not exist (start 'fileapi serve --data %s' once, or check --data)", dataDir, dataDir)
	}
	if err != nil {
		return nil, fmt.Errorf("the data directory %s: %v", dataDir, pathErrReason(err))
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dataDir)
	}
	db, err := openStore(dataDir, time.Second)
	if err != nil {
		return nil, err
	}
	e := &env{dataDir: dataDir, db: db, wall: time.Now, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	e.closers = append(e.closers, db.Close)
	if e.settings, err = loadSettings(db); err != nil {
		e.close()
		return nil, fmt.Errorf("cannot read the settings in the store: %v", err)
	}
	if e.loc, err = time.LoadLocation(e.settings.TimeZone); err != nil {
		e.loc = time.UTC
	}
	al, err := openAuditLog(filepath.Join(dataDir, auditName), e.wall)
	if err != nil {
		e.close()
		return nil, err
	}
	e.audit = al.Log
	e.closers = append(e.closers, al.Close)
	if err := wireServices(e, nil); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

// record writes an audit event for an admin change. A failing audit disk is
// reported, since support must know its action was not traced.
func (e *env) record(ev audit.Event) {
	ev.Source = "cli"
	if err := e.audit.Record(ev); err != nil {
		e.log.Error("audit log write failed", "err", err, "action", ev.Action)
	}
}
