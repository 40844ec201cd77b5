package batch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"go.etcd.io/bbolt"

	"fileapi/formats"
	"fileapi/sftpd"
)

// The outbox. Outputs follow the store: the transaction that decides an
// output (an acknowledgement, a rejection, the end of processing) also
// records "merchant/name is owed, of this kind, for this file" in
// batch.outbox. The file is then generated from the store, written under a
// hidden temporary name, synced and renamed, the folder synced, and only
// then the record is deleted. On Start every record still present is
// written again. So a crash never loses an output, and an output whose
// write was confirmed is never written twice: a merchant who deleted a
// .ack does not get it back at the next restart (decision: the merchant's
// deletion is respected; support can regenerate on request).

type outboxRec struct {
	Kind      string // "ack", "err", "res"
	FileID    string
	RemoveErr bool // ack: remove the stem's old .err (a rejected name uploaded again)
}

func (s *Service) outDir(merchant string) string {
	return filepath.Join(sftpd.MerchantDir(s.cfg.DataDir, merchant), "out")
}

func (s *Service) inDir(merchant string) string {
	return filepath.Join(sftpd.MerchantDir(s.cfg.DataDir, merchant), "in")
}

// WriteOutput writes out/name for merchant whole or not at all: the content
// goes to a hidden temporary file (sftpd.InternalPrefix, never listed to
// merchants), is synced, renamed over name, and the folder is synced.
func (s *Service) WriteOutput(merchant, name string, write func(io.Writer) error) error {
	if name == "" || filepath.Base(name) != name || name[0] == '.' {
		return fmt.Errorf("batch: bad output name %q", name)
	}
	dir := s.outDir(merchant)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, sftpd.InternalPrefix+"tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 256<<10)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	ok = true
	return syncDir(dir)
}

// sweepOutputTemps removes the temporary files of WriteOutput that a crash
// (kill -9, power loss) left in the merchants' out/ folders. Merchants never
// see them (sftpd hides InternalPrefix), but they would pile up on disk with
// every crash during a write; the outputs they were meant to become are
// still owed (outbox, report intents) and are written again. It runs at
// Start, before any writer of this process, and bbolt's lock keeps other
// processes out, so no temporary file in use is removed.
func (s *Service) sweepOutputTemps() {
	pattern := filepath.Join(filepath.Dir(sftpd.MerchantDir(s.cfg.DataDir, "m")), "*", "out", sftpd.InternalPrefix+"tmp-*")
	left, _ := filepath.Glob(pattern)
	for _, p := range left {
		if err := os.Remove(p); err != nil {
			s.log.Warn("removing a temporary output left by a crash", "path", p, "err", err)
		}
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// owe records in tx that out/name is owed.
func owe(tx *bbolt.Tx, merchant, name string, r outboxRec) error {
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return tx.Bucket(bOutbox).Put(mkey(merchant, []byte(name)), v)
}

// deliver writes an owed output and confirms it.
func (s *Service) deliver(merchant, name string) error {
	k := mkey(merchant, []byte(name))
	var raw []byte
	var r outboxRec
	if err := s.db.View(func(tx *bbolt.Tx) error {
		raw = bytes.Clone(tx.Bucket(bOutbox).Get(k))
		return nil
	}); err != nil {
		return err
	}
	if raw == nil {
		return nil
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return err
	}
	if err := s.hook("deliver:" + r.Kind); err != nil {
		return err
	}
	if err := s.generate(merchant, name, r); err != nil {
		return fmt.Errorf("writing out/%s for %s: %w", name, merchant, err)
	}
	if r.RemoveErr {
		errName := stem(name) + ".err"
		if err := os.Remove(filepath.Join(s.outDir(merchant), errName)); err == nil {
			_ = syncDir(s.outDir(merchant))
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if r.Kind == "ack" || r.Kind == "err" {
		// The answer is in out/: the upload leaves in/ (if unchanged).
		var rec *batchRec
		if err := s.db.View(func(tx *bbolt.Tx) (err error) { rec, err = getBatch(tx, r.FileID); return err }); err == nil {
			s.removeIn(rec)
		}
	}
	// Batched with the other workers' commits: losing this deletion in a
	// crash only means writing the same file again at the next start.
	return s.db.Batch(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bOutbox)
		// Another decision may have re-owed the same name meanwhile: then
		// it is that one's to confirm.
		if bytes.Equal(b.Get(k), raw) {
			return b.Delete(k)
		}
		return nil
	})
}

// generate rebuilds an output from the store.
func (s *Service) generate(merchant, name string, r outboxRec) error {
	var rec *batchRec
	var issues []formats.Issue
	if err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		if rec, err = getBatch(tx, r.FileID); err != nil {
			return err
		}
		if r.Kind == "err" {
			if v := tx.Bucket(bErrs).Get([]byte(r.FileID)); v != nil {
				return json.Unmarshal(v, &issues)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	switch r.Kind {
	case "ack":
		return s.WriteOutput(merchant, name, func(w io.Writer) error {
			return formats.WriteAck(w, formats.Ack{
				FileID: rec.FileID, FileName: rec.Name, Type: rec.Type, ReceivedAt: rec.ReceivedAt,
				SHA256: rec.SHA256, Lines: rec.Lines, Total: rec.Total, Currency: rec.Currency, Status: StatusAcknowledged,
			})
		})
	case "err":
		return s.WriteOutput(merchant, name, func(w io.Writer) error {
			return formats.WriteErr(w, formats.ErrHeader{FileID: rec.FileID, FileName: rec.Name, ReceivedAt: rec.ReceivedAt}, issues)
		})
	case "res":
		return s.WriteOutput(merchant, name, func(w io.Writer) error {
			rw := formats.NewResWriter(w)
			// Stream the stored line results: constant memory.
			err := s.db.View(func(tx *bbolt.Tx) error {
				p := []byte(rec.FileID)
				c := tx.Bucket(bLines).Cursor()
				for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
					if err := forEachResLine(v, rw.Write); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			return rw.Flush()
		})
	}
	return fmt.Errorf("unknown output kind %q", r.Kind)
}

// flushOutbox writes every owed output (at Start).
func (s *Service) flushOutbox() error {
	type owed struct{ merchant, name string }
	var list []owed
	if err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bOutbox).ForEach(func(k, _ []byte) error {
			i := bytes.IndexByte(k, 0)
			list = append(list, owed{string(k[:i]), string(k[i+1:])})
			return nil
		})
	}); err != nil {
		return err
	}
	for _, o := range list {
		if err := s.deliver(o.merchant, o.name); err != nil {
			s.log.Error("rewriting an output failed", "merchant", o.merchant, "name", o.name, "err", err)
		}
	}
	return nil
}
