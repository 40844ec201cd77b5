package batch

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"fileapi/formats"
)

// Buckets owned by batch. Keys are designed for the scans the jobs need.
var (
	bFiles      = []byte("batch.files")      // fileID -> JSON batchRec
	bInbox      = []byte("batch.inbox")      // fileID -> "" : RECEIVED, waiting for intake
	bQueue      = []byte("batch.queue")      // fileID -> "" : ACKNOWLEDGED, waiting for processing
	bNames      = []byte("batch.names")      // merchant\0stem -> fileID of the acknowledged file
	bHashes     = []byte("batch.hashes")     // merchant\0sha256 -> fileID of the acknowledged file
	bInNames    = []byte("batch.innames")    // merchant\0name -> fileID of the last pick-up of in/name
	bByMerchant = []byte("batch.bymerchant") // merchant\0fileID -> ""
	bErrs       = []byte("batch.errs")       // fileID -> JSON []formats.Issue
	bLines      = []byte("batch.lines")      // fileID + uint32 first index -> the chunk's line results
	bOutbox     = []byte("batch.outbox")     // merchant\0name -> JSON outboxRec : outputs not yet confirmed written
	bTx         = []byte("batch.tx")         // txID -> encoded txRec
	bPayRefs    = []byte("batch.payrefs")    // merchant\0payment reference -> txID
	bRefundRefs = []byte("batch.refundrefs") // merchant\0refund reference -> txID
	bMandates   = []byte("batch.mandates")   // merchant\0UMR -> encoded mandate
	bDue        = []byte("batch.due")        // day + event kind + source -> txIDs (26 bytes each): settlement events
	bLedger     = []byte("batch.ledger")     // merchant\0day+seq -> encoded Entry
	bAccounts   = []byte("batch.accounts")   // merchant -> seq(8) balance(8)
	bIssues     = []byte("batch.issues")     // merchant\0day+issueID -> JSON IssueEvent
)

var allBuckets = [][]byte{bucketMeta, bFiles, bInbox, bQueue, bNames, bHashes, bInNames, bByMerchant, bErrs, bLines,
	bOutbox, bTx, bPayRefs, bRefundRefs, bMandates, bDue, bLedger, bAccounts, bIssues}

// Batch statuses.
const (
	StatusReceived     = "RECEIVED"     // picked up, not yet validated
	StatusAcknowledged = "ACKNOWLEDGED" // valid, .ack written, waiting for processing
	StatusRejected     = "REJECTED"     // invalid or duplicate, .err written
	StatusProcessing   = "PROCESSING"   // processing started (some chunks committed)
	StatusProcessed    = "PROCESSED"    // every line has its outcome, .res written
)

// BatchInfo describes one uploaded file and where it stands.
type BatchInfo struct {
	FileID         string
	Merchant       string
	Name           string // the upload's name in in/
	Type           formats.FileType
	Status         string
	SHA256         string
	Size           int64
	Lines          int   // records in the file
	Accepted       int   // lines accepted by processing
	Refused        int   // lines refused by processing
	Total          int64 // cents, sum of the file's amounts
	AcceptedTotal  int64 // cents, sum of the accepted lines' amounts
	Currency       string
	Errors         int // number of .err rows when rejected
	ErrorCode      string
	ReceivedAt     time.Time
	AcknowledgedAt time.Time // when the .ack or .err was decided
	ProcessedAt    time.Time
	ProcessingDay  time.Time // business day whose rules applied
}

// batchRec is BatchInfo plus what the service needs to resume work.
type batchRec struct {
	BatchInfo
	Original   string // originals path relative to DataDir
	Checkpoint int    // records processed and committed so far
	InDev      uint64 // identity of in/NAME at pick-up, to remove it only if unchanged
	InIno      uint64
	InMtime    int64
}

func stem(name string) string {
	for i := len(name) - 1; i > 0; i-- {
		if name[i] == '.' {
			return name[:i]
		}
	}
	return name
}

func getBatch(tx *bbolt.Tx, fileID string) (*batchRec, error) {
	v := tx.Bucket(bFiles).Get([]byte(fileID))
	if v == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, fileID)
	}
	var r batchRec
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

func putBatch(tx *bbolt.Tx, r *batchRec) error {
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return tx.Bucket(bFiles).Put([]byte(r.FileID), v)
}

// setStatus moves a batch to a new status and keeps the status counts.
func setStatus(tx *wtx, r *batchRec, status string) error {
	if r.Status != "" {
		tx.addCount("batches."+r.Status, -1)
	}
	r.Status = status
	tx.addCount("batches."+status, 1)
	return nil
}

// wtx is a write transaction with the hot per-merchant and per-state
// counters kept in memory and written once at commit (a million lines
// would otherwise read and write them a million times).
type wtx struct {
	*bbolt.Tx
	counts map[string]int64
	accts  map[string]*acct
}

type acct struct {
	seq uint64
	bal int64
}

func (s *Service) update(fn func(tx *wtx) error) error {
	return s.db.Update(withWtx(fn))
}

// withWtx runs fn on a wtx over the bbolt transaction, then flushes the
// counters and balances fn accumulated.
func withWtx(fn func(tx *wtx) error) func(*bbolt.Tx) error {
	return func(btx *bbolt.Tx) error {
		tx := &wtx{Tx: btx, counts: map[string]int64{}, accts: map[string]*acct{}}
		if err := fn(tx); err != nil {
			return err
		}
		return tx.flush()
	}
}

// batchUpdate is update through bbolt's Batch: concurrent callers share
// one transaction and one synced commit. fn may be called more than once
// (when another function of the batch fails), so it must give the same
// result each time: no outer state carried from one call to the next.
// For the short transactions of the intake only; processing keeps update.
func (s *Service) batchUpdate(fn func(tx *wtx) error) error {
	return s.db.Batch(withWtx(fn))
}

func (tx *wtx) addCount(key string, delta int64) { tx.counts[key] += delta }

// acct returns the merchant's account, loaded once per transaction.
func (tx *wtx) acct(merchant string) *acct {
	a := tx.accts[merchant]
	if a == nil {
		a = &acct{}
		a.seq, a.bal = account(tx.Tx, merchant)
		tx.accts[merchant] = a
	}
	return a
}

func (tx *wtx) flush() error {
	b := tx.Bucket(bucketMeta)
	for key, delta := range tx.counts {
		if delta == 0 {
			continue
		}
		k := []byte("n." + key)
		var v int64
		if cur := b.Get(k); len(cur) == 8 {
			v = int64(binary.BigEndian.Uint64(cur))
		}
		if err := b.Put(k, u64Key(uint64(v+delta))); err != nil {
			return err
		}
	}
	for m, a := range tx.accts {
		if err := putAccount(tx.Tx, m, a.seq, a.bal); err != nil {
			return err
		}
	}
	return nil
}

func readCounts(tx *bbolt.Tx, prefix string) map[string]int64 {
	out := map[string]int64{}
	c := tx.Bucket(bucketMeta).Cursor()
	p := []byte("n." + prefix + ".")
	for k, v := c.Seek(p); k != nil && len(k) >= len(p) && string(k[:len(p)]) == string(p); k, v = c.Next() {
		if len(v) == 8 {
			out[string(k[len(p):])] = int64(binary.BigEndian.Uint64(v))
		}
	}
	return out
}

// Transaction kinds and states.
const (
	kindDebit  = 'D'
	kindRefund = 'R'

	TxPending  = "PENDING"  // accepted debit waiting for its collection date
	TxExecuted = "EXECUTED" // debit collected, or refund paid
	TxRejected = "REJECTED" // debit rejected on its collection date
	TxReturned = "RETURNED" // debit returned after execution
	TxRefunded = "REFUNDED" // debit refunded at the debtor's request (MD06)
)

// txRec is an accepted line: a debit or a refund.
type txRec struct {
	ID             string
	Kind           byte
	State          string
	Merchant       string
	FileID         string
	Line           int
	Reference      string // payment reference, or refund reference
	Amount         int64
	MandateRef     string
	DebtorName     string
	DebtorIBAN     string
	DebtorBIC      string
	ClientRef      string
	InvoiceRef     string
	Label          string
	Scheme         string
	SeqType        string
	CollectionDate time.Time // debits: collection date; refunds: day executed
	ExecutedDate   time.Time
	Refunded       int64  // debits: cents refunded so far through REFUNDS lines
	Original       string // refunds: the debit's transaction id
	Trigger        string // sandbox outcome: "REJ-AM04", "RET-AC04", "REF-MD06" or ""
	ReasonCode     string // reject/return code once it happened
}

func (t *txRec) encode() []byte {
	e := enc{b: make([]byte, 0, 256)}
	e.b = append(e.b, 1, t.Kind) // version, kind
	e.str(t.ID)
	e.str(t.State)
	e.str(t.Merchant)
	e.str(t.FileID)
	e.i64(int64(t.Line))
	e.str(t.Reference)
	e.i64(t.Amount)
	e.str(t.MandateRef)
	e.str(t.DebtorName)
	e.str(t.DebtorIBAN)
	e.str(t.DebtorBIC)
	e.str(t.ClientRef)
	e.str(t.InvoiceRef)
	e.str(t.Label)
	e.str(t.Scheme)
	e.str(t.SeqType)
	e.date(t.CollectionDate)
	e.date(t.ExecutedDate)
	e.i64(t.Refunded)
	e.str(t.Original)
	e.str(t.Trigger)
	e.str(t.ReasonCode)
	return e.b
}

func decodeTx(v []byte) (*txRec, error) {
	if len(v) < 2 || v[0] != 1 {
		return nil, errCorrupt
	}
	t := &txRec{Kind: v[1]}
	d := dec{b: v[2:]}
	t.ID = d.str()
	t.State = d.str()
	t.Merchant = d.str()
	t.FileID = d.str()
	t.Line = int(d.i64())
	t.Reference = d.str()
	t.Amount = d.i64()
	t.MandateRef = d.str()
	t.DebtorName = d.str()
	t.DebtorIBAN = d.str()
	t.DebtorBIC = d.str()
	t.ClientRef = d.str()
	t.InvoiceRef = d.str()
	t.Label = d.str()
	t.Scheme = d.str()
	t.SeqType = d.str()
	t.CollectionDate = d.date()
	t.ExecutedDate = d.date()
	t.Refunded = d.i64()
	t.Original = d.str()
	t.Trigger = d.str()
	t.ReasonCode = d.str()
	return t, d.err
}

func getTx(tx *bbolt.Tx, id string) (*txRec, error) {
	v := tx.Bucket(bTx).Get([]byte(id))
	if v == nil {
		return nil, fmt.Errorf("%w: transaction %s", ErrNotFound, id)
	}
	return decodeTx(v)
}

// putTx stores t; prev is the state it had before ("" for a new one), to
// keep the per-state counts.
func putTx(tx *wtx, t *txRec, prev string) error {
	if prev != t.State {
		if prev != "" {
			tx.addCount("tx."+prev, -1)
		}
		tx.addCount("tx."+t.State, 1)
	}
	return tx.Bucket(bTx).Put([]byte(t.ID), t.encode())
}

// mandate is what the service knows of a mandate (SEPA.md §4.4).
type mandate struct {
	Ref        string
	Signed     time.Time
	Scheme     string
	IBAN       string
	BIC        string
	DebtorName string
	ClientRef  string
	Revoked    bool
	LastSeq    string // sequence type of the last debit, "" when never used
	Amendments int
}

func (m *mandate) encode() []byte {
	e := enc{b: make([]byte, 0, 128)}
	e.b = append(e.b, 1)
	e.str(m.Ref)
	e.date(m.Signed)
	e.str(m.Scheme)
	e.str(m.IBAN)
	e.str(m.BIC)
	e.str(m.DebtorName)
	e.str(m.ClientRef)
	e.bool(m.Revoked)
	e.str(m.LastSeq)
	e.i64(int64(m.Amendments))
	return e.b
}

func decodeMandate(v []byte) (*mandate, error) {
	if len(v) < 1 || v[0] != 1 {
		return nil, errCorrupt
	}
	d := dec{b: v[1:]}
	m := &mandate{}
	m.Ref = d.str()
	m.Signed = d.date()
	m.Scheme = d.str()
	m.IBAN = d.str()
	m.BIC = d.str()
	m.DebtorName = d.str()
	m.ClientRef = d.str()
	m.Revoked = d.bool()
	m.LastSeq = d.str()
	m.Amendments = int(d.i64())
	return m, d.err
}

func encodeEntry(x *Entry) []byte {
	e := enc{b: make([]byte, 0, 256)}
	e.b = append(e.b, 1)
	e.str(x.Merchant)
	e.u64(x.Seq)
	e.date(x.BookingDate)
	e.date(x.ValueDate)
	e.str(x.OpCode)
	e.i64(x.Amount)
	e.bool(x.Credit)
	e.str(x.TransactionID)
	e.str(x.InitialTransactionID)
	e.str(x.Reference)
	e.str(x.MandateRef)
	e.str(x.ClientRef)
	e.str(x.InvoiceRef)
	e.str(x.DebtorName)
	e.str(x.Label)
	e.str(x.ReasonCode)
	return e.b
}

func decodeEntry(v []byte) (Entry, error) {
	var x Entry
	if len(v) < 1 || v[0] != 1 {
		return x, errCorrupt
	}
	d := dec{b: v[1:]}
	x.Merchant = d.str()
	x.Seq = d.u64()
	x.BookingDate = d.date()
	x.ValueDate = d.date()
	x.OpCode = d.str()
	x.Amount = d.i64()
	x.Credit = d.bool()
	x.TransactionID = d.str()
	x.InitialTransactionID = d.str()
	x.Reference = d.str()
	x.MandateRef = d.str()
	x.ClientRef = d.str()
	x.InvoiceRef = d.str()
	x.DebtorName = d.str()
	x.Label = d.str()
	x.ReasonCode = d.str()
	return x, d.err
}

func encodeResLine(l *formats.ResLine) []byte {
	e := enc{b: make([]byte, 0, 96)}
	e.i64(int64(l.Line))
	e.str(l.Reference)
	e.bool(l.Status == "ACCEPTED")
	e.str(l.ReasonCode)
	e.str(l.TransactionID)
	e.i64(l.Amount)
	e.date(l.ExecutionDate)
	return e.b
}

// appendResLine appends one length-prefixed line result to a chunk's blob.
func appendResLine(blob []byte, l *formats.ResLine) []byte {
	v := encodeResLine(l)
	blob = binary.AppendUvarint(blob, uint64(len(v)))
	return append(blob, v...)
}

// forEachResLine decodes a chunk's blob.
func forEachResLine(blob []byte, fn func(formats.ResLine) error) error {
	for len(blob) > 0 {
		n, k := binary.Uvarint(blob)
		if k <= 0 || uint64(len(blob)-k) < n {
			return errCorrupt
		}
		l, err := decodeResLine(blob[k : k+int(n)])
		if err != nil {
			return err
		}
		if err := fn(l); err != nil {
			return err
		}
		blob = blob[k+int(n):]
	}
	return nil
}

func decodeResLine(v []byte) (formats.ResLine, error) {
	d := dec{b: v}
	var l formats.ResLine
	l.Line = int(d.i64())
	l.Reference = d.str()
	if d.bool() {
		l.Status = "ACCEPTED"
	} else {
		l.Status = "REFUSED"
	}
	l.ReasonCode = d.str()
	l.Reason = reasonText(l.ReasonCode)
	l.TransactionID = d.str()
	l.Amount = d.i64()
	l.ExecutionDate = d.date()
	return l, d.err
}

func lineKey(fileID string, i int) []byte {
	k := make([]byte, 0, len(fileID)+4)
	k = append(k, fileID...)
	return binary.BigEndian.AppendUint32(k, uint32(i))
}

// account returns the merchant's last ledger sequence and balance.
func account(tx *bbolt.Tx, merchant string) (seq uint64, balance int64) {
	v := tx.Bucket(bAccounts).Get([]byte(merchant))
	if len(v) == 16 {
		return binary.BigEndian.Uint64(v), int64(binary.BigEndian.Uint64(v[8:]))
	}
	return 0, 0
}

// book appends an entry in a plain bbolt transaction (tests and tools that
// build a ledger directly).
func book(btx *bbolt.Tx, e *Entry) error {
	tx := &wtx{Tx: btx, counts: map[string]int64{}, accts: map[string]*acct{}}
	if err := tx.book(e); err != nil {
		return err
	}
	return tx.flush()
}

func putAccount(tx *bbolt.Tx, merchant string, seq uint64, balance int64) error {
	v := make([]byte, 16)
	binary.BigEndian.PutUint64(v, seq)
	binary.BigEndian.PutUint64(v[8:], uint64(balance))
	return tx.Bucket(bAccounts).Put([]byte(merchant), v)
}

// book appends an entry to the merchant's ledger in tx and updates the
// balance. The caller makes the state change that caused it in the same
// tx, which is what makes every entry booked exactly once.
func (tx *wtx) book(e *Entry) error {
	a := tx.acct(e.Merchant)
	a.seq++
	e.Seq = a.seq
	if e.Credit {
		a.bal += e.Amount
	} else {
		a.bal -= e.Amount
	}
	return tx.Bucket(bLedger).Put(mkey(e.Merchant, dayKey(e.BookingDate), u64Key(a.seq)), encodeEntry(e))
}

func putIssue(tx *bbolt.Tx, ev *IssueEvent) error {
	v, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	return tx.Bucket(bIssues).Put(mkey(ev.Merchant, dayKey(ev.IssueDate), []byte(ev.ID)), v)
}

// appendMostly packs the pages of the buckets whose keys mostly grow
// (time-sorted ids, dates, sequence numbers): bbolt splits at half a page
// by default, which would write twice the pages for the millions of
// records processing and settlement add.
func appendMostly(tx *bbolt.Tx) {
	for _, name := range [][]byte{bTx, bLines, bDue, bLedger, bIssues, bPayRefs, bMandates} {
		tx.Bucket(name).FillPercent = 0.95
	}
}
