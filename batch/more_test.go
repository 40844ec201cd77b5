package batch

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fileapi/formats"
	"fileapi/keys"
	"fileapi/sftpd"
)

// A clock move alone (no RunJob) makes everything due catch up.
func TestClockMoveKicksTheJobs(t *testing.T) {
	e := newEnv(t, "2026-11-27 10:00")
	e.mustAck("a.csv", payments(pay{ref: "A1", amount: "12.34"}))
	if err := e.clock.Advance(4 * 24 * time.Hour); err != nil { // Tuesday 1 December
		t.Fatal(err)
	}
	waitFor(t, func() bool { return e.balance() == 12_34 })
	if res := e.waitOut("a.res"); !strings.Contains(res, ";A1;ACCEPTED;") || !strings.Contains(res, ";2026-11-30;") {
		t.Fatalf("a.res = %q", res)
	}
}

// pain.008 files go through the same rules as PAYMENTS.
func TestPain008Processing(t *testing.T) {
	e := newEnv(t, "2026-11-27 10:00")
	b, err := os.ReadFile(filepath.Join("..", "formats", "testdata", "golden", "pain008_v02.xml"))
	if err != nil {
		t.Fatal(err)
	}
	ok, out := e.upload("dd.xml", string(b))
	if !ok || !strings.Contains(out, ";dd.xml;PAIN008;") {
		t.Fatalf("pain.008: ok=%v %q", ok, out)
	}
	e.run("process")
	res := e.res("dd.xml")
	if len(res) != 2 {
		t.Fatalf(".res = %v", res)
	}
	for ref, f := range res {
		if f[2] != "ACCEPTED" || f[7] != "2026-12-03" {
			t.Errorf("%s: %v", ref, f)
		}
	}
	// The same references in a CSV are now duplicates (AM05).
	e.mustAck("dup.csv", payments(pay{ref: "PAY-0001", amount: "1.00"}))
	e.run("process")
	checkRes(t, e.res("dup.csv"), map[string]string{"PAY-0001": "REFUSED AM05"})
}

// Many merchants uploading at once: every file answered once, in order
// per merchant, nothing lost (run under -race).
func TestConcurrentUploads(t *testing.T) {
	e := newEnv(t, "2026-11-27 10:00")
	merchants := []string{acme}
	for i := 0; i < 3; i++ {
		id := fmt.Sprintf("m%02d", i)
		if _, err := e.keys.AddMerchant(keys.Merchant{ID: id, Name: "M", CreditorRef: "cred-" + id}); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(sftpd.MerchantDir(e.dir, id), "in"), 0o700); err != nil {
			t.Fatal(err)
		}
		merchants = append(merchants, id)
	}
	const files = 8
	var wg sync.WaitGroup
	for _, m := range merchants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cred := acmeCredit
			if m != acme {
				cred = "cred-" + m
			}
			for i := 0; i < files; i++ {
				name := fmt.Sprintf("f%d.csv", i)
				content := strings.Replace(payments(pay{ref: fmt.Sprintf("%s-%d", m, i), amount: "1.00"}), acmeCredit, cred, 1)
				in := filepath.Join(sftpd.MerchantDir(e.dir, m), "in", name)
				if err := os.WriteFile(in, []byte(content), 0o600); err != nil {
					t.Error(err)
					return
				}
				if err := e.svc.Pickup(m, name); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	for _, m := range merchants {
		for i := 0; i < files; i++ {
			p := filepath.Join(sftpd.MerchantDir(e.dir, m), "out", fmt.Sprintf("f%d.ack", i))
			waitFor(t, func() bool { _, err := os.Stat(p); return err == nil })
		}
	}
	e.run("process")
	for _, m := range merchants {
		list, err := e.svc.Batches(m)
		if err != nil || len(list) != files {
			t.Fatalf("%s: %d batches, %v", m, len(list), err)
		}
		for _, b := range list {
			if b.Status != StatusProcessed || b.Accepted != 1 {
				t.Errorf("%s %s: %s accepted %d", m, b.Name, b.Status, b.Accepted)
			}
		}
	}
	if c := e.counts("tx"); c[TxPending] != int64(files*len(merchants)) {
		t.Fatalf("transactions: %v", c)
	}
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// In production mode there is no sandbox clock and debtor names trigger
// nothing: every debit is executed.
func TestProductionModeIgnoresTriggers(t *testing.T) {
	e := newEnv(t, "2026-11-27 10:00")
	e.mustAck("p.csv", payments(pay{ref: "P1", amount: "5.00", name: "ISSUE-SEPA-REJ-AC04 Paul"}))
	e.svc.Close()
	monday := time.Date(2026, 11, 30, 18, 0, 0, 0, paris)
	svc, err := Open(Config{DataDir: e.dir, DB: e.db, Keys: e.keys, Clock: fixedClock{monday}, Location: paris})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	if svc.SandboxClock() != nil {
		t.Fatal("production mode has a sandbox clock")
	}
	// Processed as of its acknowledgement day (Friday), collected Monday.
	if err := svc.RunJob(t.Context(), "process", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := e.balance(); got != 5_00 {
		t.Fatalf("balance = %s, want 5.00 (no reject in production)", formats.FormatAmount(got))
	}
	if got := len(e.issues("2026-11-30")); got != 0 {
		t.Fatalf("%d issues", got)
	}
}
