package batch

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"

	"fileapi/formats"
)

// Processing. Every ACKNOWLEDGED batch is processed, oldest first, as of
// the day it was acknowledged (its processing day): with the service
// running the job every minute that is the day it would be processed
// anyway, and after a sandbox clock jump or downtime it replays history in
// the order it would have happened: settlement is first brought up to the
// processing day, then the batch is applied, then the next batch.
//
// A batch is applied in chunks of ChunkSize lines per bbolt transaction.
// Each chunk stores its line results and the checkpoint (records done) in
// the same transaction as its effects, so a crash resumes at the last
// committed chunk and no line is applied twice. The last chunk marks the
// batch PROCESSED and owes the .res, which is then generated from the
// stored line results.

// earliestCollection is the first acceptable collection date for a batch
// processed on day p: the presentment day is p when p is a business day,
// else the next one (SEPA.md §3.3); collection is at least one business
// day after it.
func earliestCollection(p time.Time) time.Time {
	return NextBusinessDay(BusinessDayOnOrAfter(p))
}

// collectionDate applies SPEC §4: the requested date when it is a business
// day at least one business day after the processing day, else the next
// business day that satisfies this.
func collectionDate(requested, processingDay time.Time) time.Time {
	earliest := earliestCollection(processingDay)
	if requested.IsZero() {
		return earliest
	}
	c := BusinessDayOnOrAfter(requested)
	if c.Before(earliest) {
		return earliest
	}
	return c
}

func (s *Service) process(ctx context.Context, asOf time.Time) error {
	today := Date(asOf, s.loc)
	// Outputs whose write failed (a full disk, say) are retried here, not
	// only at the next start.
	if err := s.flushOutbox(); err != nil {
		return err
	}
	// A batch that fails (its original unreadable, say) is left for the
	// next run and reported, but does not hold up the other batches.
	failed := map[string]bool{}
	var errs []error
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var rec *batchRec
		if err := s.db.View(func(tx *bbolt.Tx) error {
			c := tx.Bucket(bQueue).Cursor()
			for k, _ := c.First(); k != nil; k, _ = c.Next() {
				r, err := getBatch(tx, string(k))
				if err != nil {
					return err
				}
				if !r.AcknowledgedAt.After(asOf) && !failed[r.FileID] {
					rec = r
					return nil
				}
			}
			return nil
		}); err != nil {
			return err
		}
		if rec == nil {
			break
		}
		pday := Date(rec.AcknowledgedAt, s.loc)
		if rec.Checkpoint == 0 {
			if err := s.settle(ctx, pday); err != nil {
				return err
			}
		} else {
			pday = rec.ProcessingDay
		}
		if err := s.processBatch(ctx, rec, pday); err != nil {
			if ctx.Err() != nil {
				return err
			}
			s.log.Error("processing a batch failed", "merchant", rec.Merchant, "file_id", rec.FileID, "err", err)
			failed[rec.FileID] = true
			errs = append(errs, fmt.Errorf("processing %s: %w", rec.FileID, err))
		}
	}
	if err := s.settle(ctx, today); err != nil {
		return err
	}
	return errors.Join(errs...)
}

// procState carries what processing one batch needs.
type procState struct {
	merchant  string
	maxAmount int64
	pday      time.Time // processing day (calendar)
	bday      time.Time // processing business day: bookings of refunds
	now       time.Time
	due       map[string][]byte // collection day key -> transaction ids (26 bytes each) of this chunk
}

func (s *Service) processBatch(ctx context.Context, rec *batchRec, pday time.Time) error {
	m, err := s.cfg.Keys.Merchant(rec.Merchant)
	if err != nil {
		return fmt.Errorf("merchant %s: %w", rec.Merchant, err)
	}
	st := &procState{merchant: rec.Merchant, maxAmount: m.MaxAmount, pday: pday, bday: BusinessDayOnOrAfter(pday)}
	f, err := os.Open(filepath.Join(s.cfg.DataDir, rec.Original))
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := formats.NewReader(bufio.NewReaderSize(f, 256<<10))
	if err != nil {
		return err
	}
	// Skip what earlier runs committed.
	for i := 0; i < rec.Checkpoint; i++ {
		if _, err := r.Next(); err != nil {
			return fmt.Errorf("skipping to the checkpoint: %w", err)
		}
	}
	// Parse the next chunk while the current one is applied and committed
	// (the second core is otherwise idle during fsync).
	chunks := make(chan readChunk, 1)
	done := make(chan struct{})
	defer close(done)
	go func() {
		defer close(chunks)
		for {
			c := readChunk{recs: make([]formats.Record, 0, s.cfg.ChunkSize)}
			for len(c.recs) < s.cfg.ChunkSize {
				x, err := r.Next()
				if errors.Is(err, io.EOF) {
					c.eof = true
					break
				}
				if err != nil {
					c.err = err
					break
				}
				c.recs = append(c.recs, x)
			}
			select {
			case chunks <- c:
			case <-done:
				return
			}
			if c.eof || c.err != nil {
				return
			}
		}
	}()
	finished := false
	for c := range chunks {
		if err := ctx.Err(); err != nil {
			return err
		}
		if c.err != nil {
			return c.err
		}
		chunk, eof := c.recs, c.eof
		st.now = s.Now()
		err := s.update(func(tx *wtx) error {
			appendMostly(tx.Tx)
			cur, err := getBatch(tx.Tx, rec.FileID)
			if err != nil {
				return err
			}
			if cur.Checkpoint != rec.Checkpoint || cur.Status == StatusProcessed {
				return fmt.Errorf("batch %s changed under the processing job", rec.FileID)
			}
			// One record per chunk for the line results and one per
			// collection day for the settlement events: a million lines
			// cost a hundred writes there, not two million.
			var resBlob []byte
			st.due = map[string][]byte{}
			for _, x := range chunk {
				var res formats.ResLine
				switch v := x.(type) {
				case formats.Payment:
					res, err = s.applyPayment(tx, st, rec, &v)
				case *formats.Payment:
					res, err = s.applyPayment(tx, st, rec, v)
				case formats.Refund:
					res, err = s.applyRefund(tx, st, &v)
				case *formats.Refund:
					res, err = s.applyRefund(tx, st, v)
				case formats.MandateLine:
					res, err = s.applyMandate(tx, st, &v)
				case *formats.MandateLine:
					res, err = s.applyMandate(tx, st, v)
				default:
					err = fmt.Errorf("unexpected record %T", x)
				}
				if err != nil {
					return err
				}
				if res.Status == resAccepted {
					cur.Accepted++
					cur.AcceptedTotal += res.Amount
				} else {
					cur.Refused++
				}
				resBlob = appendResLine(resBlob, &res)
			}
			if len(chunk) > 0 {
				if err := tx.Bucket(bLines).Put(lineKey(rec.FileID, cur.Checkpoint), resBlob); err != nil {
					return err
				}
			}
			for day, ids := range st.due {
				if err := tx.Bucket(bDue).Put(dueBlobKey([]byte(day), evCollect, rec.FileID, cur.Checkpoint), ids); err != nil {
					return err
				}
			}
			cur.Checkpoint += len(chunk)
			cur.ProcessingDay = pday
			status := StatusProcessing
			if eof {
				status = StatusProcessed
				cur.ProcessedAt = st.now.UTC()
				if err := tx.Bucket(bQueue).Delete([]byte(rec.FileID)); err != nil {
					return err
				}
				if err := owe(tx.Tx, rec.Merchant, stem(rec.Name)+".res", outboxRec{Kind: "res", FileID: rec.FileID}); err != nil {
					return err
				}
			}
			if cur.Status != status {
				if err := setStatus(tx, cur, status); err != nil {
					return err
				}
			}
			if err := putBatch(tx.Tx, cur); err != nil {
				return err
			}
			*rec = *cur
			return nil
		})
		if err != nil {
			return err
		}
		if err := s.hook("process:chunk"); err != nil {
			return err
		}
		if eof {
			finished = true
			break
		}
	}
	if !finished {
		return fmt.Errorf("batch %s: the reader stopped early", rec.FileID)
	}
	s.log.Info("batch processed", "merchant", rec.Merchant, "file_id", rec.FileID, "accepted", rec.Accepted, "refused", rec.Refused)
	return s.deliver(rec.Merchant, stem(rec.Name)+".res")
}

type readChunk struct {
	recs []formats.Record
	eof  bool
	err  error
}

func refused(res formats.ResLine, code string) (formats.ResLine, error) {
	res.Status = resRefused
	res.ReasonCode = code
	res.Reason = reasonText(code)
	return res, nil
}

func (s *Service) applyPayment(tx *wtx, st *procState, rec *batchRec, p *formats.Payment) (formats.ResLine, error) {
	res := formats.ResLine{Line: p.Line, Reference: p.Reference, Amount: p.Amount}
	refKey := mkey(st.merchant, []byte(p.Reference))
	refs := tx.Bucket(bPayRefs)
	if refs.Get(refKey) != nil {
		return refused(res, refDuplicateRef)
	}
	scheme := p.Scheme
	if scheme == "" {
		scheme = formats.SchemeCore
	}
	seq := p.SequenceType
	if seq == "" {
		seq = "RCUR"
	}
	mk := mkey(st.merchant, []byte(p.MandateRef))
	mandates := tx.Bucket(bMandates)
	var md *mandate
	if v := mandates.Get(mk); v != nil {
		var err error
		if md, err = decodeMandate(v); err != nil {
			return res, err
		}
		if md.Revoked {
			return refused(res, refRevoked)
		}
		if !md.Signed.Equal(civil(p.MandateSigned)) || md.Scheme != scheme {
			return refused(res, refMandateMismatch)
		}
		if md.LastSeq == "OOFF" || md.LastSeq == "FNAL" {
			return refused(res, refMandateFinal)
		}
	}
	if !p.ExecutionDate.IsZero() && civil(p.ExecutionDate).After(st.pday.AddDate(0, 0, 365)) {
		return refused(res, refTooFar)
	}
	if st.maxAmount > 0 && p.Amount > st.maxAmount {
		return refused(res, refAboveMax)
	}
	if md == nil {
		md = &mandate{Ref: p.MandateRef, Signed: civil(p.MandateSigned), Scheme: scheme, IBAN: p.DebtorIBAN, BIC: p.DebtorBIC,
			DebtorName: p.DebtorName, ClientRef: p.ClientRef}
	} else if p.DebtorIBAN != "" && p.DebtorIBAN != md.IBAN {
		// A known mandate with another IBAN: an amendment (FORMATS.md §3.3).
		md.IBAN, md.BIC = p.DebtorIBAN, p.DebtorBIC
		md.Amendments++
	}
	md.LastSeq = seq
	if err := mandates.Put(mk, md.encode()); err != nil {
		return res, err
	}
	t := &txRec{
		ID: s.ids.next(st.now), Kind: kindDebit, State: TxPending, Merchant: st.merchant, FileID: rec.FileID, Line: p.Line,
		Reference: p.Reference, Amount: p.Amount, MandateRef: p.MandateRef, DebtorName: p.DebtorName, DebtorIBAN: p.DebtorIBAN,
		DebtorBIC: p.DebtorBIC, ClientRef: p.ClientRef, InvoiceRef: p.InvoiceRef, Label: p.Label, Scheme: scheme, SeqType: seq,
		CollectionDate: collectionDate(p.ExecutionDate, st.pday),
	}
	if s.sandboxMode() {
		t.Trigger = parseTrigger(p.DebtorName)
	}
	if err := putTx(tx, t, ""); err != nil {
		return res, err
	}
	if err := refs.Put(refKey, []byte(t.ID)); err != nil {
		return res, err
	}
	dk := string(dayKey(t.CollectionDate))
	st.due[dk] = append(st.due[dk], t.ID...)
	res.Status = resAccepted
	res.TransactionID = t.ID
	res.ExecutionDate = t.CollectionDate
	return res, nil
}

func (s *Service) sandboxMode() bool { return s.cfg.Sandbox || s.sandbox != nil }

func (s *Service) applyRefund(tx *wtx, st *procState, r *formats.Refund) (formats.ResLine, error) {
	res := formats.ResLine{Line: r.Line, Reference: r.Reference, Amount: r.Amount}
	refKey := mkey(st.merchant, []byte(r.Reference))
	if tx.Bucket(bRefundRefs).Get(refKey) != nil {
		return refused(res, refDuplicateRef)
	}
	origID := tx.Bucket(bPayRefs).Get(mkey(st.merchant, []byte(r.PaymentRef)))
	if origID == nil {
		return refused(res, refOrigNotFound)
	}
	orig, err := getTx(tx.Tx, string(origID))
	if err != nil {
		return res, err
	}
	switch orig.State {
	case TxPending, TxRejected:
		return refused(res, refOrigNotExecuted)
	case TxReturned, TxRefunded:
		return refused(res, refOrigReturned)
	}
	if orig.Refunded+r.Amount > orig.Amount {
		return refused(res, refExceedsOriginal)
	}
	if !st.bday.Before(orig.ExecutedDate.AddDate(0, 14, 0)) {
		return refused(res, refOrigTooOld)
	}
	if tx.acct(st.merchant).bal < r.Amount {
		return refused(res, refInsufficient)
	}
	label := r.Label
	if label == "" {
		label = orig.Label
	}
	t := &txRec{
		ID: s.ids.next(st.now), Kind: kindRefund, State: TxExecuted, Merchant: st.merchant, Line: r.Line, Reference: r.Reference,
		Amount: r.Amount, MandateRef: orig.MandateRef, DebtorName: orig.DebtorName, DebtorIBAN: orig.DebtorIBAN, DebtorBIC: orig.DebtorBIC,
		ClientRef: orig.ClientRef, InvoiceRef: orig.InvoiceRef, Label: label, Scheme: orig.Scheme,
		CollectionDate: st.bday, ExecutedDate: st.bday, Original: orig.ID,
	}
	if err := putTx(tx, t, ""); err != nil {
		return res, err
	}
	if err := tx.Bucket(bRefundRefs).Put(refKey, []byte(t.ID)); err != nil {
		return res, err
	}
	orig.Refunded += r.Amount
	if err := putTx(tx, orig, orig.State); err != nil {
		return res, err
	}
	e := &Entry{Merchant: st.merchant, BookingDate: st.bday, ValueDate: st.bday, OpCode: OpREB, Amount: r.Amount,
		TransactionID: t.ID, InitialTransactionID: orig.ID, Reference: r.Reference, MandateRef: orig.MandateRef,
		ClientRef: orig.ClientRef, InvoiceRef: orig.InvoiceRef, DebtorName: orig.DebtorName, Label: label}
	if err := tx.book(e); err != nil {
		return res, err
	}
	if err := s.bookFee(tx, OpREB, st.bday, st.bday, orig, st.now); err != nil {
		return res, err
	}
	res.Status = resAccepted
	res.TransactionID = t.ID
	res.ExecutionDate = st.bday
	return res, nil
}

func (s *Service) applyMandate(tx *wtx, st *procState, l *formats.MandateLine) (formats.ResLine, error) {
	res := formats.ResLine{Line: l.Line, Reference: l.MandateRef}
	mk := mkey(st.merchant, []byte(l.MandateRef))
	b := tx.Bucket(bMandates)
	var md *mandate
	if v := b.Get(mk); v != nil {
		var err error
		if md, err = decodeMandate(v); err != nil {
			return res, err
		}
	}
	switch l.Action {
	case "CREATE":
		if md != nil {
			return refused(res, refMandateExists)
		}
		scheme := l.Scheme
		if scheme == "" {
			scheme = formats.SchemeCore
		}
		md = &mandate{Ref: l.MandateRef, Signed: civil(l.MandateSigned), Scheme: scheme, IBAN: l.DebtorIBAN, BIC: l.DebtorBIC,
			DebtorName: l.DebtorName, ClientRef: l.ClientRef}
	case "AMEND":
		if md == nil {
			return refused(res, refMandateNotFound)
		}
		if md.Revoked {
			return refused(res, refRevoked)
		}
		if l.DebtorIBAN != "" {
			md.IBAN, md.BIC = l.DebtorIBAN, l.DebtorBIC
		}
		if l.DebtorName != "" {
			md.DebtorName = l.DebtorName
		}
		if l.ClientRef != "" {
			md.ClientRef = l.ClientRef
		}
		md.Amendments++
	case "REVOKE":
		if md == nil {
			return refused(res, refMandateNotFound)
		}
		if md.Revoked {
			return refused(res, refRevoked)
		}
		md.Revoked = true
	default:
		return res, fmt.Errorf("unknown mandate action %q", l.Action)
	}
	if err := b.Put(mk, md.encode()); err != nil {
		return res, err
	}
	res.Status = resAccepted
	return res, nil
}
