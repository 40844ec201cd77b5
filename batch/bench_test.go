package batch

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"fileapi/formats"
)

// writeBigPayments writes a PAYMENTS file of n lines straight to path
// (the builder of the tests would hold it in memory twice).
func writeBigPayments(tb testing.TB, path, prefix string, n int) int64 {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var total int64
	for i := 0; i < n; i++ {
		total += int64(1000 + i%9000)
	}
	fmt.Fprintf(w, "0;PAYMENTS;%s;ACME SAS;\n1;IN;%d;%s;EUR;\n", acmeCredit, n, formats.FormatAmount(total))
	w.WriteString("PAYMENT_REFERENCE;AMOUNT;MANDATE_REFERENCE;MANDATE_SIGNATURE_DATE;DEBTOR_NAME;DEBTOR_IBAN;LABEL;\n")
	for i := 0; i < n; i++ {
		c := int64(1000 + i%9000)
		fmt.Fprintf(w, "%s-%07d;%d.%02d;UMR-%s-%07d;2025-01-15;Jeanne Martin;FR7630006000011234567890189;November subscription;\n",
			prefix, i, c/100, c%100, prefix, i)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	// sftpd syncs an upload before it hands it over; so does the benchmark,
	// outside the measured time.
	if err := f.Sync(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return total
}

func benchEnv(b *testing.B) *testEnv { return newEnv(b, "2026-11-27 10:00") }

// BenchmarkPickupToAck1M measures pick-up to .ack in out/ for a
// 1,000,000-line PAYMENTS file (target < 3 s).
func BenchmarkPickupToAck1M(b *testing.B) {
	e := benchEnv(b)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		name := fmt.Sprintf("big%d.csv", i)
		writeBigPayments(b, e.inPath(name), fmt.Sprintf("B%d", i), 1_000_000)
		b.StartTimer()
		start := time.Now()
		if err := e.svc.Pickup(acme, name); err != nil {
			b.Fatal(err)
		}
		ack := e.waitAnswer(fmt.Sprintf("big%d", i))
		b.ReportMetric(time.Since(start).Seconds(), "s/ack")
		if !ack {
			b.Fatal("rejected")
		}
	}
}

// BenchmarkProcessSettle1M measures processing then settlement of
// 1,000,000 debits (target > 50,000 transactions/s).
func BenchmarkProcessSettle1M(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := benchEnv(b)
		n := benchN()
		total := writeBigPayments(b, e.inPath("big.csv"), "P", n)
		if err := e.svc.Pickup(acme, "big.csv"); err != nil {
			b.Fatal(err)
		}
		if !e.waitAnswer("big") {
			b.Fatal("rejected")
		}
		b.StartTimer()
		t0, c0 := time.Now(), cpuTime()
		if err := e.svc.RunJob(b.Context(), "process", time.Time{}); err != nil {
			b.Fatal(err)
		}
		tProc, cProc := time.Since(t0), cpuTime()-c0
		// Settle as of five days later without moving the clock: a clock
		// move would also run the reports job (a day of a million
		// movements is 1.7 GB of statements, measured in the reports
		// benchmark).
		t1, c1 := time.Now(), cpuTime()
		e.svc.jobMu.Lock()
		err := e.svc.process(b.Context(), e.svc.Now().Add(5*24*time.Hour))
		e.svc.jobMu.Unlock()
		if err != nil {
			b.Fatal(err)
		}
		tSettle, cSettle := time.Since(t1), cpuTime()-c1
		b.StopTimer()
		if bal, _ := e.svc.Balance(acme); bal != total {
			b.Fatalf("balance %d, want %d", bal, total)
		}
		b.ReportMetric(float64(n)/tProc.Seconds(), "processed-tx/s")
		b.ReportMetric(float64(n)/tSettle.Seconds(), "settled-tx/s")
		b.ReportMetric(float64(n)/(tProc+tSettle).Seconds(), "tx/s")
		// CPU seconds of the whole process (user + system): on a shared
		// machine the wall clock says more about the neighbours.
		b.ReportMetric(cProc.Seconds(), "process-cpu-s")
		b.ReportMetric(cSettle.Seconds(), "settle-cpu-s")
		e.close()
		b.StartTimer()
	}
}

// benchN is the size of the processing benchmark (BATCH_BENCH_N overrides
// the 1,000,000 of the target, for profiling).
func benchN() int {
	if v, err := strconv.Atoi(os.Getenv("BATCH_BENCH_N")); err == nil && v > 0 {
		return v
	}
	return 1_000_000
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPickupToAck10k measures pick-up to .ack for 10,000-line files,
// one after another, and reports the 50th and 99th percentiles (target:
// p99 < 2 s). Run with -benchtime 100x for a meaningful p99.
func BenchmarkPickupToAck10k(b *testing.B) {
	e := benchEnv(b)
	var lat []time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		name := fmt.Sprintf("f%d.csv", i)
		writeBigPayments(b, e.inPath(name), fmt.Sprintf("F%d", i), 10_000)
		b.StartTimer()
		start := time.Now()
		if err := e.svc.Pickup(acme, name); err != nil {
			b.Fatal(err)
		}
		if !e.waitAnswer(fmt.Sprintf("f%d", i)) {
			b.Fatal("rejected")
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(lat[len(lat)/2].Seconds(), "p50-s")
	b.ReportMetric(lat[(len(lat)*99)/100].Seconds(), "p99-s")
}
