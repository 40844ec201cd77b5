package batch

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	rtmetrics "runtime/metrics"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"fileapi/keys"
)

// BenchmarkReportDay1M is the whole report job for one merchant and a day
// with 1,000,000 movements booked in the real ledger (bbolt): the totals
// pass, then the CSV and the camt.053, each streamed from a bbolt cursor and
// written, synced and renamed into out/, plus the issues report. Booking
// the ledger is set-up, not measured.
//
//	go test ./batch -run '^$' -bench ReportDay1M -benchtime 1x
func BenchmarkReportDay1M(b *testing.B) {
	const n = 1_000_000
	dir := b.TempDir()
	db, err := bbolt.Open(filepath.Join(dir, "store.db"), 0o600, &bbolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	created := time.Date(2026, 11, 30, 8, 0, 0, 0, repParis)
	reg, err := keys.Open(db, func() time.Time { return created })
	if err != nil {
		b.Fatal(err)
	}
	if _, err := reg.AddMerchant(keys.Merchant{ID: "acme", Name: "ACME SAS", CreditorRef: "acme-creditor"}); err != nil {
		b.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		for _, bk := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(bk); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	d := repDay("2026-11-30")
	for i := 0; i < n; {
		if err := db.Update(func(tx *bbolt.Tx) error {
			for end := min(i+50_000, n); i < end; i++ {
				e := &Entry{Merchant: "acme", BookingDate: d, ValueDate: d.AddDate(0, 0, 1), OpCode: OpSDD,
					Amount: int64(1000 + i%9000), Credit: true, TransactionID: fmt.Sprintf("01KC%022d", i),
					Reference: fmt.Sprintf("PAY-%d", i), MandateRef: fmt.Sprintf("UMR-%d", i%20000),
					ClientRef: fmt.Sprintf("CLIENT-%d", i%5000), InvoiceRef: fmt.Sprintf("INV-%d", i),
					DebtorName: "Jeanne Martin-Dupont", Label: "Subscription November 2026, contract 123456"}
				if i%20 == 7 {
					e.OpCode, e.Credit, e.ReasonCode, e.Label = OpRET, false, "AM04", "AM04 insufficient funds"
				}
				if err := book(tx, e); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	db.NoSync = false
	svc := &Service{db: db, loc: repParis}
	out := filepath.Join(dir, "out")
	writeOutput := func(_, name string, write func(io.Writer) error) error {
		f, err := os.Create(filepath.Join(out, name+".tmp"))
		if err != nil {
			return err
		}
		defer f.Close()
		if err := write(f); err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return err
		}
		return os.Rename(f.Name(), filepath.Join(out, name))
	}
	if err := os.MkdirAll(out, 0o700); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	stop := repHeapPeak()
	for b.Loop() {
		// Forget earlier iterations' reports so each one does the day.
		if err := db.Update(func(tx *bbolt.Tx) error {
			_ = tx.DeleteBucket(bReportState)
			_ = tx.DeleteBucket(bReportDays)
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		r := reporter{db: db, loc: repParis, now: func() time.Time { return time.Date(2026, 12, 1, 0, 30, 0, 0, repParis) },
			merchants: reg.Merchants, ledgerDay: svc.LedgerDay, issuesDay: svc.IssuesDay, writeOutput: writeOutput}
		if err := r.run(context.Background(), r.now()); err != nil {
			b.Fatal(err)
		}
	}
	peak := stop()
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	rd, err := reportedDays(db, "acme")
	if err != nil || len(rd) != 1 || rd[0].Movements != n {
		b.Fatalf("reported %+v, %v", rd, err)
	}
}

// repHeapPeak samples the live heap every millisecond until stop is
// called, then returns the highest value seen.
func repHeapPeak() (stop func() uint64) {
	sample := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			rtmetrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak {
				peak = v
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(done); wg.Wait(); return peak }
}
