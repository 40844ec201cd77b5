package batch

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.etcd.io/bbolt"

	"fileapi/audit"
	"fileapi/formats"
	"fileapi/keys"
	"fileapi/sftpd"
)

// Pickup takes over a complete upload in/name of merchant (sftpd calls it
// before answering the client's CLOSE or RENAME, so it only does what makes
// the file durable and known): it hard-links the file into the originals
// store, records the batch RECEIVED under a new file ID in one bbolt
// transaction, and queues it for validation. The .ack or .err follows
// within milliseconds to seconds, written by an intake worker.
func (s *Service) Pickup(merchant, name string) error {
	if name == "" || filepath.Base(name) != name || strings.HasPrefix(name, sftpd.InternalPrefix) {
		return fmt.Errorf("batch: bad upload name %q", name)
	}
	in := filepath.Join(s.inDir(merchant), name)
	fi, err := os.Lstat(in)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("batch: in/%s is not a regular file", name)
	}
	now := s.Now()
	id := s.ids.next(now)
	tmpDir := filepath.Join(s.cfg.DataDir, "originals", "tmp")
	tmp := filepath.Join(tmpDir, id)
	if err := os.Link(in, tmp); err != nil {
		// Another file system, or links not supported: copy.
		if err := copyFile(in, tmp); err != nil {
			return fmt.Errorf("batch: storing the original: %w", err)
		}
	}
	if err := syncDir(tmpDir); err != nil {
		os.Remove(tmp)
		return err
	}
	rec := &batchRec{
		BatchInfo: BatchInfo{FileID: id, Merchant: merchant, Name: name, ReceivedAt: now.UTC(), Size: fi.Size()},
		Original:  filepath.Join("originals", "tmp", id),
	}
	rec.InDev, rec.InIno, rec.InMtime = identity(fi)
	already := false
	// Batched: concurrent pick-ups (many sessions closing at once) share
	// one commit instead of queueing for one synced commit each. Batch
	// returns once the commit is on disk, so a pick-up is as durable as
	// before. The function may run twice: it starts from scratch.
	err = s.batchUpdate(func(tx *wtx) error {
		already, rec.Status = false, ""
		// The same upload handed over twice (sftpd and the start-up scan
		// of in/ racing, or a client retrying): one pick-up only.
		if id := tx.Bucket(bInNames).Get(mkey(merchant, []byte(name))); id != nil {
			if prev, err := getBatch(tx.Tx, string(id)); err == nil && s.sameUpload(fi, prev) {
				already = true
				return nil
			}
		}
		if err := setStatus(tx, rec, StatusReceived); err != nil {
			return err
		}
		if err := putBatch(tx.Tx, rec); err != nil {
			return err
		}
		if err := tx.Bucket(bInbox).Put([]byte(id), nil); err != nil {
			return err
		}
		if err := tx.Bucket(bByMerchant).Put(mkey(merchant, []byte(id)), nil); err != nil {
			return err
		}
		return tx.Bucket(bInNames).Put(mkey(merchant, []byte(name)), []byte(id))
	})
	if err != nil || already {
		os.Remove(tmp)
	}
	if err != nil {
		return fmt.Errorf("batch: recording the pick-up: %w", err)
	}
	if already {
		return nil
	}
	s.enqueue(merchant, id, time.Now())
	return nil
}

func identity(fi os.FileInfo) (dev, ino uint64, mtime int64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), uint64(st.Ino), fi.ModTime().UnixNano()
	}
	return 0, 0, fi.ModTime().UnixNano()
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	return out.Close()
}

// intakeQueue is an unbounded FIFO: Pickup never blocks on it. Each
// merchant always goes to the same queue, so a merchant's files are
// answered in the order they arrived (a rejected name uploaded again gets
// its .ack after the old .err, never before).
type intakeQueue struct {
	mu     sync.Mutex
	items  []intakeItem
	signal chan struct{}
	closed bool
}

type intakeItem struct {
	merchant, fileID string
	at               time.Time // real time of the pick-up, for the latency metric
}

func newIntakeQueue() *intakeQueue { return &intakeQueue{signal: make(chan struct{}, 1)} }

func (q *intakeQueue) push(it intakeItem) {
	q.mu.Lock()
	if q.closed {
		// Stopping: the batch is RECEIVED in the store, the next Start
		// takes it up.
		q.mu.Unlock()
		return
	}
	q.items = append(q.items, it)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (q *intakeQueue) pop() (intakeItem, bool) {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return intakeItem{}, false
		}
		if len(q.items) > 0 {
			it := q.items[0]
			q.items = q.items[1:]
			q.mu.Unlock()
			return it, true
		}
		q.mu.Unlock()
		<-q.signal
	}
}

func (q *intakeQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (s *Service) enqueue(merchant, fileID string, at time.Time) {
	h := fnv.New32a()
	h.Write([]byte(merchant))
	s.queues[int(h.Sum32()%uint32(len(s.queues)))].push(intakeItem{merchant, fileID, at})
}

func (s *Service) intakeWorker(q *intakeQueue) {
	defer s.wg.Done()
	for {
		it, ok := q.pop()
		if !ok {
			return
		}
		if err := s.intake(it); err != nil {
			// The batch stays RECEIVED and is retried at the next start.
			s.log.Error("intake failed", "merchant", it.merchant, "file_id", it.fileID, "err", err)
			s.metrics.pickup("error")
		}
	}
}

// intake validates a RECEIVED batch and answers it with .ack or .err.
func (s *Service) intake(it intakeItem) error {
	var rec *batchRec
	if err := s.db.View(func(tx *bbolt.Tx) (err error) {
		rec, err = getBatch(tx, it.fileID)
		return err
	}); err != nil {
		return err
	}
	if rec.Status != StatusReceived {
		return nil
	}
	m, err := s.cfg.Keys.Merchant(rec.Merchant)
	if err != nil && !errors.Is(err, keys.ErrNotFound) {
		return err // the store, not the merchant: retry at the next start
	}
	var issues []formats.Issue
	var sum formats.Summary
	orig := filepath.Join(s.cfg.DataDir, rec.Original)
	f, err2 := os.Open(orig)
	if err2 != nil {
		return fmt.Errorf("opening the original: %w", err2)
	}
	h := sha256.New()
	tee := io.TeeReader(bufio.NewReaderSize(f, 256<<10), h)
	if err != nil {
		issues = []formats.Issue{{Code: formats.CodeCreditorMismatch, Message: "the merchant is not registered"}}
	} else {
		opt := formats.Options{CreditorRef: m.CreditorRef, CreditorID: m.ICS, Today: Date(rec.ReceivedAt, s.loc)}
		var verr error
		sum, issues, verr = formats.Validate(tee, opt)
		if verr != nil {
			f.Close()
			return fmt.Errorf("reading the original: %w", verr)
		}
	}
	if _, err := io.Copy(io.Discard, tee); err != nil {
		f.Close()
		return fmt.Errorf("reading the original: %w", err)
	}
	// Nothing is acknowledged that is not on disk.
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	f.Close()
	sha := hex.EncodeToString(h.Sum(nil))

	// Content-address the original: link it under its hash now, switch the
	// record to that name in the decision's transaction, and drop the
	// temporary name after the commit (a crash in between leaves a
	// temporary link that Start removes).
	tmpOrig := ""
	if strings.HasPrefix(rec.Original, filepath.Join("originals", "tmp")) {
		dir := filepath.Join(s.cfg.DataDir, "originals", sha[:2])
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		final := filepath.Join(dir, sha)
		if err := os.Link(orig, final); err != nil && !errors.Is(err, os.ErrExist) {
			if err := copyFile(orig, final); err != nil {
				return err
			}
		}
		if err := syncDir(dir); err != nil {
			return err
		}
		tmpOrig = orig
		rec.Original = filepath.Join("originals", sha[:2], sha)
	}
	if err := s.hook("intake:decide"); err != nil {
		return err
	}

	var outName string
	// Batched: the decisions of concurrent intake workers share one
	// commit (and its syncs). The function may run more than once, so it
	// only reads the outer variables.
	err = s.batchUpdate(func(tx *wtx) error {
		cur, err := getBatch(tx.Tx, rec.FileID)
		if err != nil {
			return err
		}
		if cur.Status != StatusReceived {
			return nil
		}
		r := rec
		r.Status = cur.Status
		r.SHA256 = sha
		st := stem(r.Name)
		var dups []formats.Issue
		if id := tx.Bucket(bHashes).Get(mkey(r.Merchant, []byte(sha))); id != nil {
			dups = append(dups, formats.Issue{Code: formats.CodeDuplicateFile, Message: "the same content was already acknowledged as file " + string(id)})
		}
		if id := tx.Bucket(bNames).Get(mkey(r.Merchant, []byte(st))); id != nil {
			dups = append(dups, formats.Issue{Code: formats.CodeDuplicateFileName, Message: "the name " + st + " was already acknowledged as file " + string(id)})
		}
		all := append(dups, issues...)
		r.AcknowledgedAt = s.Now().UTC()
		if len(all) == 0 {
			r.Type, r.Lines, r.Total, r.Currency = sum.Type, sum.Lines, sum.Total, sum.Currency
			if r.Currency == "" {
				r.Currency = "EUR"
			}
			if err := setStatus(tx, r, StatusAcknowledged); err != nil {
				return err
			}
			if err := tx.Bucket(bNames).Put(mkey(r.Merchant, []byte(st)), []byte(r.FileID)); err != nil {
				return err
			}
			if err := tx.Bucket(bHashes).Put(mkey(r.Merchant, []byte(sha)), []byte(r.FileID)); err != nil {
				return err
			}
			if err := tx.Bucket(bQueue).Put([]byte(r.FileID), nil); err != nil {
				return err
			}
			outName = st + ".ack"
			if err := owe(tx.Tx, r.Merchant, outName, outboxRec{Kind: "ack", FileID: r.FileID, RemoveErr: true}); err != nil {
				return err
			}
		} else {
			r.Type = sum.Type
			r.Errors = len(all)
			r.ErrorCode = all[0].Code
			if err := setStatus(tx, r, StatusRejected); err != nil {
				return err
			}
			v, err := json.Marshal(all)
			if err != nil {
				return err
			}
			if err := tx.Bucket(bErrs).Put([]byte(r.FileID), v); err != nil {
				return err
			}
			outName = st + ".err"
			if err := owe(tx.Tx, r.Merchant, outName, outboxRec{Kind: "err", FileID: r.FileID}); err != nil {
				return err
			}
		}
		if err := putBatch(tx.Tx, r); err != nil {
			return err
		}
		return tx.Bucket(bInbox).Delete([]byte(r.FileID))
	})
	if err != nil {
		return err
	}
	if tmpOrig != "" {
		os.Remove(tmpOrig)
	}
	if outName == "" {
		return nil
	}
	if err := s.deliver(rec.Merchant, outName); err != nil {
		return err
	}
	if !it.at.IsZero() {
		s.metrics.ackLatency.Observe(time.Since(it.at).Seconds())
	}
	s.removeIn(rec)
	outcome := "acknowledged"
	if rec.Status == StatusRejected {
		outcome = "rejected"
	}
	s.metrics.pickup(outcome)
	detail := ""
	if rec.Status == StatusRejected {
		detail = rec.ErrorCode
	}
	// The audit log runs on its own (wall) clock, like every other audit
	// event: the sandbox clock is a payment-calendar fiction.
	if err := s.cfg.Audit.Record(audit.Event{Action: "pickup", Merchant: rec.Merchant, Path: "/in/" + rec.Name,
		Bytes: rec.Size, FileID: rec.FileID, Outcome: outcome, Detail: detail}); err != nil {
		s.log.Warn("audit", "err", err)
	}
	s.log.Info("file picked up", "merchant", rec.Merchant, "name", rec.Name, "file_id", rec.FileID, "outcome", outcome, "lines", rec.Lines)
	return nil
}

// removeIn removes in/NAME once answered, but only if it is still the file
// that was picked up: the merchant may have uploaded a new file under that
// name meanwhile, and that one must stay (it has its own pick-up).
func (s *Service) removeIn(rec *batchRec) {
	in := filepath.Join(s.inDir(rec.Merchant), rec.Name)
	fi, err := os.Lstat(in)
	if err != nil {
		return
	}
	if !s.sameUpload(fi, rec) {
		return
	}
	if err := os.Remove(in); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Warn("removing a picked-up file", "merchant", rec.Merchant, "name", rec.Name, "err", err)
	}
}

func (s *Service) sameUpload(fi os.FileInfo, rec *batchRec) bool {
	dev, ino, mtime := identity(fi)
	if rec.InIno != 0 {
		return dev == rec.InDev && ino == rec.InIno && mtime == rec.InMtime
	}
	return fi.Size() == rec.Size && mtime == rec.InMtime
}

// recoverIntake queues the batches picked up but not answered, removes
// in/ files already answered, and picks up completed uploads whose pick-up
// was never recorded (the process died between the upload's rename and
// the pick-up's commit).
func (s *Service) recoverIntake() error {
	type item struct{ merchant, id string }
	var pending []item
	if err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bInbox).ForEach(func(k, _ []byte) error {
			r, err := getBatch(tx, string(k))
			if err != nil {
				return err
			}
			pending = append(pending, item{r.Merchant, r.FileID})
			return nil
		})
	}); err != nil {
		return err
	}
	for _, p := range pending {
		s.enqueue(p.merchant, p.id, time.Time{})
	}
	// Temporary links of originals whose batch was answered (the process
	// stopped between the answer's commit and their removal).
	tmpDir := filepath.Join(s.cfg.DataDir, "originals", "tmp")
	// Only answered batches' links go: a pick-up running concurrently has
	// its link before its record.
	if ents, err := os.ReadDir(tmpDir); err == nil {
		for _, e := range ents {
			var answered bool
			_ = s.db.View(func(tx *bbolt.Tx) error {
				r, err := getBatch(tx, e.Name())
				answered = err == nil && r.Status != StatusReceived
				return nil
			})
			if answered {
				os.Remove(filepath.Join(tmpDir, e.Name()))
			}
		}
	}
	root := filepath.Join(s.cfg.DataDir, "merchants")
	merchants, err := os.ReadDir(root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	for _, md := range merchants {
		if !md.IsDir() {
			continue
		}
		m := md.Name()
		entries, err := os.ReadDir(s.inDir(m))
		if err != nil {
			continue
		}
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, sftpd.InternalPrefix) || !e.Type().IsRegular() {
				continue
			}
			low := strings.ToLower(name)
			if !strings.HasSuffix(low, ".csv") && !strings.HasSuffix(low, ".xml") {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				continue
			}
			var rec *batchRec
			_ = s.db.View(func(tx *bbolt.Tx) error {
				if id := tx.Bucket(bInNames).Get(mkey(m, []byte(name))); id != nil {
					rec, _ = getBatch(tx, string(id))
				}
				return nil
			})
			switch {
			case rec != nil && s.sameUpload(fi, rec):
				if rec.Status != StatusReceived {
					s.removeIn(rec)
				}
			default:
				if err := s.Pickup(m, name); err != nil {
					s.log.Error("recovering an upload", "merchant", m, "name", name, "err", err)
				}
			}
		}
	}
	return nil
}
