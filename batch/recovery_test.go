package batch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

var errCrash = errors.New("simulated crash")

// crashAt makes the n-th pass through point fail, and every pass after
// it, as if the process died right after the step before it committed.
func crashAt(s *Service, point string, n int) {
	var count atomic.Int32
	s.setHook(func(p string) error {
		if p == point && int(count.Add(1)) >= n {
			return errCrash
		}
		return nil
	})
}

func manyPayments(n int, prefix string) (string, int64) {
	var lines []pay
	var total int64
	for i := 1; i <= n; i++ {
		cents := int64(i*100 + i)
		total += cents
		lines = append(lines, pay{ref: fmt.Sprintf("%s-%04d", prefix, i), amount: fmt.Sprintf("%d.%02d", cents/100, cents%100)})
	}
	return payments(lines...), total
}

func (e *testEnv) counts(prefix string) map[string]int64 {
	var out map[string]int64
	_ = e.db.View(func(tx *bbolt.Tx) error { out = readCounts(tx, prefix); return nil })
	return out
}

func TestCrashDuringProcessingAndSettlementAppliesOnce(t *testing.T) {
	e := newEnv(t, "2026-11-27 10:00")
	e.close()
	e.chunk = 3
	e.open()
	e.startSvc()
	content, total := manyPayments(10, "P")
	id := e.mustAck("big.csv", content)

	crashAt(e.svc, "process:chunk", 2)
	if err := e.svc.RunJob(t.Context(), "process", time.Time{}); !errors.Is(err, errCrash) {
		t.Fatalf("RunJob = %v, want the simulated crash", err)
	}
	info, _ := e.svc.Batch(id)
	if info.Status != StatusProcessing || info.Accepted != 6 {
		t.Fatalf("after the crash: %+v", info)
	}
	e.restart()
	e.run("process")
	info, _ = e.svc.Batch(id)
	if info.Status != StatusProcessed || info.Accepted != 10 || info.Refused != 0 || info.AcceptedTotal != total {
		t.Fatalf("after recovery: %+v", info)
	}
	res := e.res("big.csv")
	if len(res) != 10 {
		t.Fatalf(".res has %d lines", len(res))
	}
	if c := e.counts("tx"); c[TxPending] != 10 {
		t.Fatalf("transactions = %v, want 10 pending", c)
	}

	// Settlement crashes after its first chunk (3 of 10 collections): the
	// service is stopped, the clock moved, and the start-up catch-up dies.
	e.close()
	e.open()
	if err := e.clock.Set(e.clock.Now().AddDate(0, 0, 5)); err != nil {
		t.Fatal(err)
	}
	e.startHook = func(s *Service) { crashAt(s, "settle:chunk", 1) }
	e.startSvc()
	if got := e.balance(); got <= 0 || got >= total {
		t.Fatalf("after the settlement crash balance = %d, want part of %d", got, total)
	}
	e.startHook = nil
	e.restart()
	e.run("process")
	if got := e.balance(); got != total {
		t.Fatalf("balance = %d, want %d (each collection once)", got, total)
	}
	if n := len(e.ledger("2026-11-30")); n != 10 {
		t.Fatalf("%d ledger entries, want 10", n)
	}
	if c := e.counts("tx"); c[TxExecuted] != 10 || c[TxPending] != 0 {
		t.Fatalf("transactions = %v", c)
	}
	if c := e.counts("batches"); c[StatusProcessed] != 1 || c[StatusProcessing] != 0 || c[StatusAcknowledged] != 0 {
		t.Fatalf("batches = %v", c)
	}
}

func TestCrashBeforeOutputsRewritesThem(t *testing.T) {
	e := newEnv(t, "2026-11-27 10:00")
	// The .ack is decided but the process dies before writing it.
	crashAt(e.svc, "deliver:ack", 1)
	e.put("a.csv", payments(pay{ref: "A1", amount: "1.00"}))
	waitFor(t, func() bool {
		l, _ := e.svc.Batches(acme)
		return len(l) == 1 && l[0].Status == StatusAcknowledged
	})
	sleepMs(20)
	if _, err := os.Stat(e.outPath("a.ack")); err == nil {
		t.Fatal("a.ack written despite the crash")
	}
	if _, err := os.Stat(e.inPath("a.csv")); err != nil {
		t.Fatal("in/a.csv removed before its .ack was written")
	}
	// The process dies before validating another upload.
	crashAt(e.svc, "intake:decide", 1)
	e.put("b.csv", payments(pay{ref: "B1", amount: "1.00"}))
	sleepMs(50)
	// And an upload whose pick-up was never recorded.
	if err := os.WriteFile(e.inPath("c.csv"), []byte(payments(pay{ref: "C1", amount: "1.00"})), 0o600); err != nil {
		t.Fatal(err)
	}
	e.restart()
	for _, n := range []string{"a", "b", "c"} {
		if out := e.waitOut(n + ".ack"); !strings.Contains(out, ";ACKNOWLEDGED;") {
			t.Fatalf("%s.ack = %q", n, out)
		}
		waitGone(t, e.inPath(n+".csv"))
	}
	// The .res is decided but not written.
	crashAt(e.svc, "deliver:res", 1)
	_ = e.svc.RunJob(t.Context(), "process", time.Time{})
	// A merchant deletes an output that was written: it does not come back.
	if err := os.Remove(e.outPath("a.ack")); err != nil {
		t.Fatal(err)
	}
	e.restart()
	e.run("process")
	n := 0
	for _, name := range []string{"a.res", "b.res", "c.res"} {
		if _, err := os.Stat(e.outPath(name)); err == nil {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("%d of 3 .res files written after recovery", n)
	}
	if _, err := os.Stat(e.outPath("a.ack")); err == nil {
		t.Fatal("a deleted a.ack was written again")
	}
	list, _ := e.svc.Batches(acme)
	if len(list) != 3 {
		t.Fatalf("%d batches, want 3 (no pick-up twice)", len(list))
	}
	for _, b := range list {
		if b.Status != StatusProcessed {
			t.Errorf("%s: %s", b.Name, b.Status)
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 2000; i++ {
		if cond() {
			return
		}
		sleepMs(5)
	}
	t.Fatal("condition not reached")
}

// A batch whose original cannot be read is reported and retried, and the
// batches after it are processed meanwhile.
func TestBrokenBatchDoesNotBlockOthers(t *testing.T) {
	e := newEnv(t, "2026-11-27 10:00")
	first := e.mustAck("a.csv", payments(pay{ref: "A1", amount: "1.00"}))
	e.mustAck("b.csv", payments(pay{ref: "B1", amount: "2.00"}))
	var orig string
	_ = e.db.View(func(tx *bbolt.Tx) error {
		r, err := getBatch(tx, first)
		if err == nil {
			orig = filepath.Join(e.dir, r.Original)
		}
		return err
	})
	hidden := orig + ".hidden"
	if err := os.Rename(orig, hidden); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.RunJob(t.Context(), "process", time.Time{}); err == nil || !strings.Contains(err.Error(), first) {
		t.Fatalf("RunJob = %v, want an error naming %s", err, first)
	}
	e.waitOut("b.res")
	if info, _ := e.svc.Batch(first); info.Status != StatusAcknowledged {
		t.Fatalf("broken batch is %s", info.Status)
	}
	if err := os.Rename(hidden, orig); err != nil {
		t.Fatal(err)
	}
	e.run("process")
	e.waitOut("a.res")
}

// An output whose write failed is written by the next job run.
func TestFailedOutputRetriedByTheJob(t *testing.T) {
	e := newEnv(t, "2026-11-27 10:00")
	crashAt(e.svc, "deliver:ack", 1)
	e.put("a.csv", payments(pay{ref: "A1", amount: "1.00"}))
	waitFor(t, func() bool {
		l, _ := e.svc.Batches(acme)
		return len(l) == 1 && l[0].Status == StatusAcknowledged
	})
	sleepMs(20)
	if _, err := os.Stat(e.outPath("a.ack")); err == nil {
		t.Fatal("a.ack written despite the failure")
	}
	e.svc.setHook(nil) // the disk is back
	e.run("process")
	if out := e.waitOut("a.ack"); !strings.Contains(out, ";ACKNOWLEDGED;") {
		t.Fatalf("a.ack = %q", out)
	}
	waitGone(t, e.inPath("a.csv"))
	e.waitOut("a.res")
}

// Close during processing stops after the chunk in hand; the next start
// finishes the batch, each line once.
func TestCloseStopsAfterTheRunningChunk(t *testing.T) {
	e := newEnv(t, "2026-11-27 10:00")
	e.close()
	e.chunk = 3
	e.open()
	e.startSvc()
	content, total := manyPayments(30, "C")
	id := e.mustAck("c.csv", content)
	closed := make(chan struct{})
	var once sync.Once
	svc := e.svc
	svc.setHook(func(p string) error {
		if p == "process:chunk" {
			once.Do(func() {
				go func() { svc.Close(); close(closed) }()
				time.Sleep(50 * time.Millisecond) // Close is waiting for this step
			})
		}
		return nil
	})
	if err := svc.RunJob(t.Context(), "process", time.Time{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("RunJob = %v, want context.Canceled", err)
	}
	<-closed
	info, _ := svc.Batch(id)
	if info.Status != StatusProcessing || info.Accepted < 3 || info.Accepted >= 30 {
		t.Fatalf("after Close: %s with %d accepted", info.Status, info.Accepted)
	}
	e.restart()
	info, _ = e.svc.Batch(id)
	if info.Status != StatusProcessed || info.Accepted != 30 || info.AcceptedTotal != total {
		t.Fatalf("after restart: %+v", info)
	}
	if n := len(e.res("c.csv")); n != 30 {
		t.Fatalf(".res has %d lines", n)
	}
}

// TestStartRemovesTemporaryOutputsLeftByACrash: a kill -9 during
// WriteOutput leaves out/.fileapi-tmp-* behind (found by the e2e kill -9
// test); the next Start removes it, and leaves the merchant's files and
// the uploads being written in in/ alone.
func TestStartRemovesTemporaryOutputsLeftByACrash(t *testing.T) {
	e := newEnv(t, "2026-11-27 10:00")
	e.close()
	left := e.outPath(".fileapi-tmp-123456")
	keep := []string{e.outPath("mine.txt"), e.inPath(".fileapi-up-abcdef")}
	for _, p := range append([]string{left}, keep...) {
		if err := os.WriteFile(p, []byte("half a report"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e.open()
	e.startSvc()
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Errorf("%s still there after Start (err %v)", left, err)
	}
	for _, p := range keep {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("Start removed %s: %v", p, err)
		}
	}
}
