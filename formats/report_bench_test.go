package formats

import (
	"io"
	"strconv"
	"testing"
	"time"
)

// benchMovement is the i-th movement of a synthetic busy day: mostly
// executed debits, some returns and fees, realistic field lengths.
func benchMovement(i int, d time.Time) Movement {
	id := "01KC" + strconv.FormatInt(1e17+int64(i), 10)
	m := Movement{ExecutionDate: d, ValueDate: d.AddDate(0, 0, 1), TransactionID: id, ClientRef: "CLIENT-" + strconv.Itoa(i%5000),
		DebtorName: "Jeanne Martin-Dupont", OpCode: "SDD", Amount: int64(1000 + i%9000), Credit: true,
		Label: "Subscription November 2026, contract 123456", InvoiceRef: "INV-" + strconv.Itoa(i),
		Reference: "PAY-" + strconv.Itoa(i), MandateRef: "UMR-" + strconv.Itoa(i%20000)}
	switch i % 20 {
	case 7:
		m.OpCode, m.Credit, m.ValueDate, m.ReasonCode, m.Label, m.InitialTransactionID = "RET", false, d, "AM04", "AM04 insufficient funds", id
	case 13:
		m.OpCode, m.Credit, m.ValueDate, m.Amount, m.Label, m.InitialTransactionID = "FEE-SDD", false, d, 25, "fee", id
	}
	return m
}

// BenchmarkStatement1M writes the CSV and camt.053 statements of a day with
// 1,000,000 movements, two passes each as the report job does (totals, then
// lines). Targets: under 5 s and 64 MiB of heap for both files.
//
//	go test ./formats -run '^$' -bench Statement1M -benchtime 1x
func BenchmarkStatement1M(b *testing.B) {
	const n = 1_000_000
	d := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	// A pool of distinct movements, cycled: the benchmark measures the
	// writers, not the making of test data.
	pool := make([]Movement, 1024)
	for i := range pool {
		pool[i] = benchMovement(i, d)
	}
	mv := func(i int) Movement {
		m := pool[i%len(pool)]
		if m.OpCode == "SDD" || m.OpCode == "RET" {
			m.Amount = int64(1000 + i%9000)
		}
		return m
	}
	var peak uint64
	for b.Loop() {
		peak = max(peak, peakHeap(func() {
			h := StatementHeader{CreditorRef: "acme-creditor", CompanyName: "ACME SAS", Date: d, PreviousBalance: 438308,
				PreviousDate: d.AddDate(0, 0, -3), CreatedAt: d.Add(24*time.Hour + 30*time.Minute), SeqNb: 250}
			for i := range n {
				h.Totals.Add(mv(i))
			}
			cw, err := NewStatementCSVWriter(io.Discard, h)
			if err != nil {
				b.Fatal(err)
			}
			xw, err := NewCamt053Writer(io.Discard, h)
			if err != nil {
				b.Fatal(err)
			}
			for _, w := range []interface {
				Write(Movement) error
				Close() error
			}{cw, xw} {
				for i := range n {
					if err := w.Write(mv(i)); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
		}))
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	if peak > 64<<20 {
		b.Errorf("peak heap %d MiB, target 64 MiB", peak>>20)
	}
}
