package batch

// Daily reports (SPEC §3 step 5, FORMATS.md §4): for every merchant and
// every TARGET2 business day D from the merchant's creation day on, once D
// has ended in the service's time zone, out/ receives
// STATEMENT_<ref>_<YYYYMMDD>.csv, the same statement as camt.053.001.08
// (.xml) and ISSUES_<ref>_<YYYYMMDD>.csv, exactly once.
//
// Exactly once, across crashes, in three steps per merchant and day:
//  1. Intent. One bbolt transaction records what the set will say: the day,
//     its creation time, previous balance and date, statement number, and
//     the counts and sums of the day's movements and issues (a first pass
//     over the ledger). From then on the content of the three files is
//     fixed: writing a file again gives the same bytes.
//  2. Files. Each is written through the outbox (temporary name, sync,
//     rename: whole or absent) in a second pass over the ledger; the writers
//     check that the movements add up to the intent's totals, so a ledger
//     that changed underneath yields an error and no file. After each file a
//     transaction records it as done; the last one also completes the day.
//  3. Completion: the merchant's state moves to D (new balance, statement
//     number) and a history record for D is kept.
//
// A crash anywhere leaves either no intent (nothing written, the day is
// planned again) or an intent with some files done: the next run writes the
// missing files only, with the pinned content, then completes the day. A
// file whose write was confirmed is never written again, so a merchant who
// deleted a report does not get it back. The only window for a second write
// is a crash between a file's rename and the transaction that confirms it;
// the rewrite then has the same name and the same bytes.
//
// Days are produced in order per merchant and the balance chains: the
// previous balance of D is the new balance of the merchant's previous
// statement (zero, dated the day before creation, for the first). The
// ledger of a reported day must not change. It does not, because
// RunJob("reports") runs processing and settlement up to the same time
// first, so everything that books into a day is booked before the day is
// reported; the writers' totals check turns a breach into an error
// (ErrReportChanged), never into an inconsistent statement.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"go.etcd.io/bbolt"

	"fileapi/formats"
	"fileapi/keys"
)

// Buckets owned by the reports job.
var (
	bReportState = []byte("reports.state") // merchant -> JSON reportState
	bReportDays  = []byte("reports.days")  // merchant\0YYYYMMDD -> JSON reportIntent of a completed day
)

// ErrReportChanged means the ledger or issues of a day no longer match the
// totals recorded when its reports were planned. It should never happen
// (a day is settled before it is reported). The day stays pending: every
// run retries it and fails loudly rather than publish a statement that
// contradicts its sibling files or the balance chain.
var ErrReportChanged = errors.New("batch: the day's movements changed after its reports were planned")

// ErrNotReported is returned by RewriteReports for a day whose reports
// have not been produced (yet).
var ErrNotReported = errors.New("the reports of this merchant and day have not been produced")

// reportMu serialises report runs of the process (bbolt allows one
// process): a scheduled run and a manual `jobs run reports` must not plan
// the same day twice.
var reportMu sync.Mutex

// reportState is where a merchant's reports stand.
type reportState struct {
	Last    time.Time     `json:"last,omitzero"` // last day whose set is complete; zero: none yet
	Balance int64         `json:"balance"`       // new balance of that day's statement, cents
	Seq     uint64        `json:"seq"`           // statements produced so far
	Pending *reportIntent `json:"pending,omitempty"`
}

// reportIntent pins the content of one day's set of reports.
type reportIntent struct {
	Day         time.Time               `json:"day"`
	CreatedAt   time.Time               `json:"created_at"`
	PrevBalance int64                   `json:"prev_balance"`
	PrevDate    time.Time               `json:"prev_date"`
	Seq         uint64                  `json:"seq"`
	Totals      formats.StatementTotals `json:"totals"`
	Issues      int                     `json:"issues"`
	IssuesTotal int64                   `json:"issues_total"`
	Done        []string                `json:"done,omitempty"` // file names confirmed written
}

func (in *reportIntent) newBalance() int64 {
	return in.PrevBalance + in.Totals.CreditSum - in.Totals.DebitSum
}

// reporter produces reports. It holds the few things it needs from the
// service as functions, so that it stays testable on its own.
type reporter struct {
	db          *bbolt.DB
	loc         *time.Location
	now         func() time.Time
	merchants   func() ([]keys.Merchant, error)
	ledgerDay   func(merchant string, day time.Time, fn func(Entry) error) error
	issuesDay   func(merchant string, day time.Time, fn func(IssueEvent) error) error
	writeOutput func(merchant, name string, write func(io.Writer) error) error
	hook        func(point string) error // crash injection in tests; nil: none
	log         *slog.Logger             // nil: no logging
}

// run produces the reports of every merchant that are due at asOf: every
// business day that ended before asOf's date in the service's zone (never
// later than the clock: a day that has not ended is not reported). A
// merchant whose reports fail does not hold back the others; the errors
// are joined.
func (r *reporter) run(ctx context.Context, asOf time.Time) error {
	reportMu.Lock()
	defer reportMu.Unlock()
	if err := r.db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bReportState, bReportDays} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	ms, err := r.merchants()
	if err != nil {
		return fmt.Errorf("reports: listing merchants: %w", err)
	}
	if now := r.now(); now.Before(asOf) {
		asOf = now
	}
	through := Date(asOf, r.loc).AddDate(0, 0, -1)
	var errs []error
	for _, m := range ms {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if err := r.merchant(ctx, m, through); err != nil {
			errs = append(errs, fmt.Errorf("reports for %s: %w", m.ID, err))
		}
	}
	return errors.Join(errs...)
}

// merchant finishes a pending day, then produces every day due through
// `through`, in order.
func (r *reporter) merchant(ctx context.Context, m keys.Merchant, through time.Time) error {
	st, err := r.state(m.ID)
	if err != nil {
		return err
	}
	if st.Pending != nil {
		if st, err = r.finish(m, st); err != nil {
			return err
		}
	}
	if m.CreatedAt.IsZero() {
		// Reporting "from creation" would mean from year 1.
		return errors.New("the merchant has no creation time")
	}
	created := Date(m.CreatedAt, r.loc)
	d := BusinessDayOnOrAfter(created)
	if !st.Last.IsZero() {
		d = NextBusinessDay(st.Last)
	}
	for ; !d.After(through); d = NextBusinessDay(d) {
		if err := ctx.Err(); err != nil {
			return err
		}
		in := &reportIntent{Day: d, CreatedAt: r.now().In(r.loc).Truncate(time.Second), PrevBalance: st.Balance,
			PrevDate: st.Last, Seq: st.Seq + 1}
		if st.Last.IsZero() {
			in.PrevDate = created.AddDate(0, 0, -1)
		}
		if err := r.plan(m, in); err != nil {
			return err
		}
		st.Pending = in
		if err := r.putState(m.ID, st, nil); err != nil {
			return err
		}
		if err := r.hookAt("reports:planned"); err != nil {
			return err
		}
		if st, err = r.finish(m, st); err != nil {
			return err
		}
	}
	return nil
}

// plan is the first pass: the day's totals.
func (r *reporter) plan(m keys.Merchant, in *reportIntent) error {
	if err := r.ledgerDay(m.ID, in.Day, func(e Entry) error {
		in.Totals.Add(movement(e))
		return nil
	}); err != nil {
		return err
	}
	return r.issuesDay(m.ID, in.Day, func(ev IssueEvent) error {
		in.Issues++
		in.IssuesTotal += ev.Amount
		return nil
	})
}

// finish writes the files of the pending day that are not done yet, then
// completes the day. It returns the new state.
func (r *reporter) finish(m keys.Merchant, st reportState) (reportState, error) {
	in := st.Pending
	files := r.files(m, in)
	for i, f := range files {
		if slices.Contains(in.Done, f.name) {
			continue
		}
		if err := r.writeOutput(m.ID, f.name, f.write); err != nil {
			return st, fmt.Errorf("writing out/%s: %w", f.name, err)
		}
		if err := r.hookAt("reports:written:" + f.name); err != nil {
			return st, err
		}
		in.Done = append(in.Done, f.name)
		if i < len(files)-1 {
			if err := r.putState(m.ID, st, nil); err != nil {
				return st, err
			}
		} else {
			done := *in
			st = reportState{Last: in.Day, Balance: in.newBalance(), Seq: in.Seq}
			if err := r.putState(m.ID, st, &done); err != nil {
				return st, err
			}
		}
		if err := r.hookAt("reports:confirmed:" + f.name); err != nil {
			return st, err
		}
	}
	if r.log != nil {
		r.log.Info("daily reports written", "merchant", m.ID, "day", in.Day.Format(time.DateOnly),
			"movements", in.Totals.Count(), "issues", in.Issues, "balance", in.newBalance())
	}
	return st, nil
}

// reportFile is one file of a day's set and how to write it.
type reportFile struct {
	name  string
	write func(io.Writer) error
}

// files are the three files of a day, in the order they are written.
func (r *reporter) files(m keys.Merchant, in *reportIntent) []reportFile {
	return []reportFile{
		{formats.StatementFileName(m.CreditorRef, in.Day, ".csv"), func(w io.Writer) error { return r.writeStatementCSV(w, m, in) }},
		{formats.StatementFileName(m.CreditorRef, in.Day, ".xml"), func(w io.Writer) error { return r.writeCamt053(w, m, in) }},
		{formats.IssuesFileName(m.CreditorRef, in.Day), func(w io.Writer) error { return r.writeIssues(w, m, in) }},
	}
}

// rewrite writes the files of a day already reported again, for support
// when a merchant lost them: the same bytes as the first time (the content
// was pinned when the day was planned, and a reported day's ledger does
// not change). It returns the names written.
func (r *reporter) rewrite(m keys.Merchant, day time.Time) ([]string, error) {
	reportMu.Lock()
	defer reportMu.Unlock()
	var in *reportIntent
	if err := r.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bReportDays)
		if b == nil {
			return nil
		}
		v := b.Get(reportDayKey(m.ID, civil(day)))
		if v == nil {
			return nil
		}
		in = new(reportIntent)
		return json.Unmarshal(v, in)
	}); err != nil {
		return nil, err
	}
	if in == nil {
		return nil, ErrNotReported
	}
	var names []string
	for _, f := range r.files(m, in) {
		if err := r.writeOutput(m.ID, f.name, f.write); err != nil {
			return names, fmt.Errorf("writing out/%s: %w", f.name, err)
		}
		names = append(names, f.name)
	}
	return names, nil
}

func (r *reporter) hookAt(point string) error {
	if r.hook == nil {
		return nil
	}
	return r.hook(point)
}

func (r *reporter) statementHeader(m keys.Merchant, in *reportIntent) formats.StatementHeader {
	from := time.Date(in.Day.Year(), in.Day.Month(), in.Day.Day(), 0, 0, 0, 0, r.loc)
	return formats.StatementHeader{
		CreditorRef: m.CreditorRef, CompanyName: m.Name, Date: in.Day,
		PreviousBalance: in.PrevBalance, PreviousDate: in.PrevDate, Totals: in.Totals,
		CreatedAt: in.CreatedAt.In(r.loc), SeqNb: in.Seq,
		From: from, To: from.AddDate(0, 0, 1).Add(-time.Second),
	}
}

// statementWriter is what both statement writers offer.
type statementWriter interface {
	Write(formats.Movement) error
	Close() error
}

func (r *reporter) writeStatement(m keys.Merchant, in *reportIntent, sw statementWriter) error {
	if err := r.ledgerDay(m.ID, in.Day, func(e Entry) error { return sw.Write(movement(e)) }); err != nil {
		return err
	}
	if err := sw.Close(); err != nil {
		if errors.Is(err, formats.ErrStatementTotals) {
			return fmt.Errorf("%w: %v", ErrReportChanged, err)
		}
		return err
	}
	return nil
}

func (r *reporter) writeStatementCSV(w io.Writer, m keys.Merchant, in *reportIntent) error {
	sw, err := formats.NewStatementCSVWriter(w, r.statementHeader(m, in))
	if err != nil {
		return err
	}
	return r.writeStatement(m, in, sw)
}

func (r *reporter) writeCamt053(w io.Writer, m keys.Merchant, in *reportIntent) error {
	sw, err := formats.NewCamt053Writer(w, r.statementHeader(m, in))
	if err != nil {
		return err
	}
	return r.writeStatement(m, in, sw)
}

func (r *reporter) writeIssues(w io.Writer, m keys.Merchant, in *reportIntent) error {
	iw, err := formats.NewIssuesWriter(w, formats.IssuesHeader{
		CreditorRef: m.CreditorRef, CompanyName: m.Name, Date: in.Day, Count: in.Issues, Total: in.IssuesTotal,
	})
	if err != nil {
		return err
	}
	if err := r.issuesDay(m.ID, in.Day, func(ev IssueEvent) error {
		return iw.Write(formats.IssueLine{
			ID: ev.ID, Kind: ev.Kind, PaymentRef: ev.PaymentRef, TransactionID: ev.TransactionID,
			MandateRef: ev.MandateRef, ClientRef: ev.ClientRef, DebtorName: ev.DebtorName, DebtorIBAN: ev.DebtorIBAN,
			Amount: ev.Amount, CollectionDate: ev.CollectionDate, IssueDate: ev.IssueDate,
			ReasonCode: ev.ReasonCode, ReasonLabel: ev.ReasonLabel,
		})
	}); err != nil {
		return err
	}
	if err := iw.Close(); err != nil {
		if errors.Is(err, formats.ErrStatementTotals) {
			return fmt.Errorf("%w: %v", ErrReportChanged, err)
		}
		return err
	}
	return nil
}

// movement is a ledger entry as a statement line.
func movement(e Entry) formats.Movement {
	return formats.Movement{
		ExecutionDate: e.BookingDate, ValueDate: e.ValueDate, TransactionID: e.TransactionID,
		ClientRef: e.ClientRef, DebtorName: e.DebtorName, OpCode: e.OpCode, Amount: e.Amount, Credit: e.Credit,
		Label: e.Label, InvoiceRef: e.InvoiceRef, InitialTransactionID: e.InitialTransactionID,
		Reference: e.Reference, MandateRef: e.MandateRef, ReasonCode: e.ReasonCode,
	}
}

func (r *reporter) state(merchant string) (reportState, error) {
	var st reportState
	err := r.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bReportState).Get([]byte(merchant))
		if v == nil {
			return nil
		}
		return json.Unmarshal(v, &st)
	})
	return st, err
}

// putState stores the merchant's state and, when a day completes, its
// history record, in one transaction.
func (r *reporter) putState(merchant string, st reportState, completed *reportIntent) error {
	return r.db.Update(func(tx *bbolt.Tx) error {
		v, err := json.Marshal(st)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bReportState).Put([]byte(merchant), v); err != nil {
			return err
		}
		if completed == nil {
			return nil
		}
		h, err := json.Marshal(completed)
		if err != nil {
			return err
		}
		return tx.Bucket(bReportDays).Put(reportDayKey(merchant, completed.Day), h)
	})
}

func reportDayKey(merchant string, day time.Time) []byte {
	k := append([]byte(merchant), 0)
	return day.AppendFormat(k, "20060102")
}

// ReportedDay is what the store says about one produced set of reports.
type ReportedDay struct {
	Day         time.Time // the business day reported
	CreatedAt   time.Time
	Seq         uint64 // statement number (camt.053 ElctrncSeqNb)
	PrevBalance int64  // cents
	NewBalance  int64  // cents
	Movements   int
	Issues      int
}

func reportedDays(db *bbolt.DB, merchant string) ([]ReportedDay, error) {
	var out []ReportedDay
	err := db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bReportDays)
		if b == nil {
			return nil
		}
		p := append([]byte(merchant), 0)
		c := b.Cursor()
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			var in reportIntent
			if err := json.Unmarshal(v, &in); err != nil {
				return err
			}
			out = append(out, ReportedDay{Day: in.Day, CreatedAt: in.CreatedAt, Seq: in.Seq, PrevBalance: in.PrevBalance,
				NewBalance: in.newBalance(), Movements: in.Totals.Count(), Issues: in.Issues})
		}
		return nil
	})
	return out, err
}
