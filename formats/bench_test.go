package formats

import (
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// paymentsGen is an io.Reader producing a valid PAYMENTS file of n lines on
// the fly, so benchmarks and memory tests need no file on disk and the
// generator itself holds nothing but one line.
type paymentsGen struct {
	n, i  int
	ibans []string
	buf   []byte
	off   int
	stage int
}

// generatedIBAN builds a valid German IBAN from an account number.
func generatedIBAN(acct int) string {
	bban := fmt.Sprintf("37040044%010d", acct)
	check := 98 - mod97(bban, "DE00")
	return fmt.Sprintf("DE%02d%s", check, bban)
}

func newPaymentsGen(n int) *paymentsGen {
	g := &paymentsGen{n: n}
	for i := 0; i < 1000; i++ {
		g.ibans = append(g.ibans, generatedIBAN(532013000+i))
	}
	return g
}

func genAmount(i int) int64 { return int64(i%100000) + 1 }

func (g *paymentsGen) total() int64 {
	var t int64
	for i := 0; i < g.n; i++ {
		t += genAmount(i)
	}
	return t
}

func (g *paymentsGen) fill() bool {
	b := g.buf[:0]
	switch g.stage {
	case 0:
		b = append(b, "0;PAYMENTS;acme-creditor;ACME SAS;\n1;IN;"...)
		b = strconv.AppendInt(b, int64(g.n), 10)
		b = append(b, ';')
		b = appendAmount(b, g.total())
		b = append(b, ";EUR;\nPAYMENT_REFERENCE;AMOUNT;MANDATE_REFERENCE;MANDATE_SIGNATURE_DATE;DEBTOR_NAME;DEBTOR_IBAN;DEBTOR_BIC;SEQUENCE_TYPE;LABEL;CLIENT_REFERENCE;\n"...)
		g.stage = 1
	case 1:
		if g.i >= g.n {
			return false
		}
		// A few hundred lines per fill keeps the reader calls cheap.
		for k := 0; k < 256 && g.i < g.n; k++ {
			i := g.i
			b = append(b, "PAY-"...)
			b = strconv.AppendInt(b, int64(1000000000+i), 10)
			b = append(b, ';')
			b = appendAmount(b, genAmount(i))
			b = append(b, ";UMR-"...)
			b = strconv.AppendInt(b, int64(i%50000), 10)
			b = append(b, ";2025-03-14;Jeanne Martin-Dupont;"...)
			b = append(b, g.ibans[i%len(g.ibans)]...)
			b = append(b, ";COBADEFFXXX;RCUR;November subscription, thank you;C-"...)
			b = strconv.AppendInt(b, int64(i%7919), 10)
			b = append(b, ";\n"...)
			g.i++
		}
	}
	g.buf, g.off = b, 0
	return true
}

func (g *paymentsGen) Read(p []byte) (int, error) {
	if g.off >= len(g.buf) && !g.fill() {
		return 0, io.EOF
	}
	n := copy(p, g.buf[g.off:])
	g.off += n
	return n, nil
}

// peakHeap samples the heap (live and not yet collected objects, what
// HeapAlloc reports) every millisecond while f runs and returns the maximum
// seen. runtime/metrics is read without stopping the world, so sampling
// does not slow f down the way runtime.ReadMemStats would.
func peakHeap(f func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	var peak atomic.Uint64
	peak.Store(read())
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if v := read(); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()
	f()
	if v := read(); v > peak.Load() {
		peak.Store(v)
	}
	close(stop)
	wg.Wait()
	return peak.Load()
}

// BenchmarkValidatePayments1M validates a generated 1,000,000-line PAYMENTS
// file; peak-heap-MiB is the largest live heap seen during a run.
func BenchmarkValidatePayments1M(b *testing.B) {
	const n = 1_000_000
	opt := Options{CreditorRef: "acme-creditor", Today: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)}
	var peak uint64
	var bytes int64
	for b.Loop() {
		b.StopTimer()
		g := newPaymentsGen(n)
		b.StartTimer()
		p := peakHeap(func() {
			cr := &countingReader{r: g}
			s, issues, err := Validate(cr, opt)
			if err != nil || len(issues) != 0 || s.Lines != n {
				b.Fatalf("summary %+v, %d issues (first %v), err %v", s, len(issues), issues, err)
			}
			bytes = cr.n
		})
		peak = max(peak, p)
	}
	b.SetBytes(bytes)
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// BenchmarkReadPayments1M streams the records of a generated
// 1,000,000-line PAYMENTS file with NewReader/Next (the processing pass).
func BenchmarkReadPayments1M(b *testing.B) {
	const n = 1_000_000
	var peak uint64
	for b.Loop() {
		b.StopTimer()
		g := newPaymentsGen(n)
		b.StartTimer()
		p := peakHeap(func() {
			r, err := NewReader(g)
			if err != nil {
				b.Fatal(err)
			}
			k := 0
			for {
				_, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				k++
			}
			if k != n {
				b.Fatalf("%d records", k)
			}
		})
		peak = max(peak, p)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}
