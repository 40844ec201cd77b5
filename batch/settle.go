package batch

import (
	"bytes"
	"context"
	"encoding/binary"
	"time"

	"go.etcd.io/bbolt"
)

// Settlement. Every accepted debit has an event in batch.due on its
// collection date; executing it may schedule a return or refund request
// on a later business day. The job takes the events in date order, one
// day at a time (new events always fall on later days, so the order holds
// while catching up a month), in chunks of ChunkSize per bbolt transaction.
// Each event is deleted in the same transaction that books its ledger
// entries and changes the transaction's state: an entry is booked exactly
// once whatever the moment of a crash.

// Settlement event kinds, in the order they happen within a day.
const (
	evCollect       = '1' // collection date: execute or reject
	evReturn        = '2' // sandbox return
	evRefundRequest = '3' // sandbox refund at the debtor's request (MD06)
)

// Sandbox delays (SPEC §5), in business days after the collection date.
const (
	returnDelay        = 2
	refundRequestDelay = 3
)

// dueKey is the key of a single event (returns, refund requests); its
// value is the transaction id.
func dueKey(d time.Time, kind byte, txID string) []byte {
	k := make([]byte, 0, 5+len(txID))
	k = append(k, dayKey(d)...)
	k = append(k, kind)
	return append(k, txID...)
}

// dueBlobKey is the key of the collections one processing chunk scheduled
// on a day; it sorts in processing order within the day.
func dueBlobKey(day []byte, kind byte, fileID string, chunk int) []byte {
	k := make([]byte, 0, 5+len(fileID)+4)
	k = append(k, day...)
	k = append(k, kind)
	k = append(k, fileID...)
	return binary.BigEndian.AppendUint32(k, uint32(chunk))
}

// settle handles every event due on or before upTo (a date).
func (s *Service) settle(ctx context.Context, upTo time.Time) error {
	limit := dayKey(upTo)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Look before taking the write lock: an empty commit still syncs.
		due := false
		if err := s.db.View(func(tx *bbolt.Tx) error {
			k, _ := tx.Bucket(bDue).Cursor().First()
			due = k != nil && bytes.Compare(k[:4], limit) <= 0
			return nil
		}); err != nil {
			return err
		}
		if !due {
			return nil
		}
		done := false
		err := s.update(func(tx *wtx) error {
			appendMostly(tx.Tx)
			b := tx.Bucket(bDue)
			c := b.Cursor()
			k, _ := c.First()
			if k == nil || bytes.Compare(k[:4], limit) > 0 {
				done = true
				return nil
			}
			// Take whole records of one day, up to about ChunkSize events.
			day := bytes.Clone(k[:4])
			type rec struct{ k, ids []byte }
			var recs []rec
			events := 0
			for v := b.Get(k); k != nil && bytes.Equal(k[:4], day) && (events == 0 || events+len(v)/26 <= s.cfg.ChunkSize); k, v = c.Next() {
				recs = append(recs, rec{bytes.Clone(k), bytes.Clone(v)})
				events += len(v) / 26
			}
			d := dayFromKey(day)
			now := s.Now()
			for _, r := range recs {
				if len(r.ids)%26 != 0 {
					return errCorrupt
				}
				for i := 0; i < len(r.ids); i += 26 {
					if err := s.settleEvent(tx, d, r.k[4], string(r.ids[i:i+26]), now); err != nil {
						return err
					}
				}
				if err := b.Delete(r.k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		if err := s.hook("settle:chunk"); err != nil {
			return err
		}
	}
}

func (s *Service) settleEvent(tx *wtx, day time.Time, kind byte, txID string, now time.Time) error {
	t, err := getTx(tx.Tx, txID)
	if err != nil {
		return err
	}
	prev := t.State
	trig, code := "", ""
	if len(t.Trigger) == 8 && s.sandboxMode() {
		trig, code = t.Trigger[:3], t.Trigger[4:]
	}
	switch kind {
	case evCollect:
		if t.State != TxPending {
			return nil
		}
		if trig == trigReject {
			t.State = TxRejected
			t.ReasonCode = code
			if err := putTx(tx, t, prev); err != nil {
				return err
			}
			return s.issue(tx, t, IssueReject, day, code, t.Amount, now)
		}
		t.State = TxExecuted
		t.ExecutedDate = day
		if err := putTx(tx, t, prev); err != nil {
			return err
		}
		e := &Entry{Merchant: t.Merchant, BookingDate: day, ValueDate: NextBusinessDay(day), OpCode: OpSDD, Amount: t.Amount,
			Credit: true, TransactionID: t.ID, Reference: t.Reference, MandateRef: t.MandateRef, ClientRef: t.ClientRef,
			InvoiceRef: t.InvoiceRef, DebtorName: t.DebtorName, Label: t.Label}
		if err := tx.book(e); err != nil {
			return err
		}
		if err := s.bookFee(tx, OpSDD, day, NextBusinessDay(day), t, now); err != nil {
			return err
		}
		switch trig {
		case trigReturn:
			return tx.Bucket(bDue).Put(dueKey(AddBusinessDays(day, returnDelay), evReturn, t.ID), []byte(t.ID))
		case trigRefund:
			return tx.Bucket(bDue).Put(dueKey(AddBusinessDays(day, refundRequestDelay), evRefundRequest, t.ID), []byte(t.ID))
		}
		return nil
	case evReturn, evRefundRequest:
		// At most one R-transaction after settlement (SEPA.md §4.2).
		if t.State != TxExecuted {
			return nil
		}
		// The debtor is never paid back twice (SEPA.md §4.2): what the
		// merchant already refunded through a REFUNDS file is not returned
		// again, and a debit refunded in full has no R-transaction.
		amount := t.Amount - t.Refunded
		if amount <= 0 {
			return nil
		}
		issueKind := IssueReturn
		t.State = TxReturned
		if kind == evRefundRequest {
			issueKind = IssueRefundRequest
			t.State = TxRefunded
		}
		t.ReasonCode = code
		if err := putTx(tx, t, prev); err != nil {
			return err
		}
		e := &Entry{Merchant: t.Merchant, BookingDate: day, ValueDate: day, OpCode: OpRET, Amount: amount,
			TransactionID: s.ids.next(now), InitialTransactionID: t.ID, Reference: t.Reference, MandateRef: t.MandateRef,
			ClientRef: t.ClientRef, InvoiceRef: t.InvoiceRef, DebtorName: t.DebtorName, Label: code + " " + reasonLabels[code],
			ReasonCode: code}
		if err := tx.book(e); err != nil {
			return err
		}
		if err := s.bookFee(tx, OpRET, day, day, t, now); err != nil {
			return err
		}
		return s.issue(tx, t, issueKind, day, code, amount, now)
	}
	return nil
}

func (s *Service) issue(tx *wtx, t *txRec, kind string, day time.Time, code string, amount int64, now time.Time) error {
	return putIssue(tx.Tx, &IssueEvent{
		ID: s.ids.next(now), Merchant: t.Merchant, Kind: kind, PaymentRef: t.Reference, TransactionID: t.ID,
		MandateRef: t.MandateRef, ClientRef: t.ClientRef, DebtorName: t.DebtorName, DebtorIBAN: t.DebtorIBAN,
		Amount: amount, CollectionDate: t.CollectionDate, IssueDate: day, ReasonCode: code, ReasonLabel: reasonLabels[code],
	})
}

// feeFor is the configured fee for an OP code ("SDD" or "FEE-SDD" keys).
func (s *Service) feeFor(op string) int64 {
	if v, ok := s.cfg.Fees[op]; ok {
		return v
	}
	return s.cfg.Fees["FEE-"+op]
}

// bookFee books the fee of an operation on t as its own debit entry.
func (s *Service) bookFee(tx *wtx, op string, day, value time.Time, t *txRec, now time.Time) error {
	fee := s.feeFor(op)
	if fee <= 0 {
		return nil
	}
	return tx.book(&Entry{Merchant: t.Merchant, BookingDate: day, ValueDate: value, OpCode: "FEE-" + op, Amount: fee,
		TransactionID: s.ids.next(now), InitialTransactionID: t.ID, Reference: t.Reference, MandateRef: t.MandateRef,
		ClientRef: t.ClientRef, InvoiceRef: t.InvoiceRef, DebtorName: t.DebtorName, Label: "fee " + op})
}
