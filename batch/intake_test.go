package batch

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestIntakeAcknowledges(t *testing.T) {
	e := newEnv(t, "2026-11-27 10:14")
	content := payments(pay{ref: "PAY-0001", amount: "39.99"}, pay{ref: "PAY-0002", amount: "50.00"})
	ok, out := e.upload("payments-1127.csv", content)
	if !ok {
		t.Fatalf("rejected:\n%s", out)
	}
	sum := sha256.Sum256([]byte(content))
	sha := hex.EncodeToString(sum[:])
	lines := strings.Split(out, "\n")
	if lines[0] != "FILE_ID;FILE_NAME;FILE_TYPE;RECEIVED_AT;SHA256;LINES;TOTAL_AMOUNT;CURRENCY;STATUS;" {
		t.Fatalf("title = %q", lines[0])
	}
	f := strings.Split(lines[1], ";")
	id := f[0]
	if len(id) != 26 || f[1] != "payments-1127.csv" || f[2] != "PAYMENTS" || f[3] != "2026-11-27T09:14:00Z" || f[4] != sha ||
		f[5] != "2" || f[6] != "89.99" || f[7] != "EUR" || f[8] != "ACKNOWLEDGED" {
		t.Fatalf(".ack row = %q", lines[1])
	}
	// The upload leaves in/ once answered; the original is kept by hash.
	waitGone(t, e.inPath("payments-1127.csv"))
	if b, err := os.ReadFile(filepath.Join(e.dir, "originals", sha[:2], sha)); err != nil || string(b) != content {
		t.Fatalf("original not stored by SHA-256: %v", err)
	}
	info, err := e.svc.Batch(id)
	if err != nil {
		t.Fatal(err)
	}
	if info.Status != StatusAcknowledged || info.Lines != 2 || info.Total != 8999 || info.Merchant != acme || info.SHA256 != sha {
		t.Fatalf("batch = %+v", info)
	}
	list, err := e.svc.Batches(acme)
	if err != nil || len(list) != 1 || list[0].FileID != id {
		t.Fatalf("Batches = %+v, %v", list, err)
	}
	if _, err := e.svc.Batch("01NOPE"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown batch: %v", err)
	}
	// The pick-up is audited.
	waitFor(t, func() bool { return strings.Contains(e.audit.String(), `"action":"pickup"`) })
	if a := e.audit.String(); !strings.Contains(a, `"merchant":"acme"`) || !strings.Contains(a, `"path":"/in/payments-1127.csv"`) ||
		!strings.Contains(a, `"file_id":"`+id+`"`) || !strings.Contains(a, `"outcome":"acknowledged"`) {
		t.Errorf("audit = %s", a)
	}
	// Nothing temporary is left behind in out/ or originals/tmp.
	assertNoTemp(t, filepath.Dir(e.outPath("x")))
	assertNoTemp(t, filepath.Join(e.dir, "originals", "tmp"))
}

func waitGone(t *testing.T, path string) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
			return
		}
		sleepMs(5)
	}
	t.Fatalf("%s is still there", path)
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), "tmp") {
			t.Errorf("temporary file left: %s/%s", dir, e.Name())
		}
	}
}

func TestIntakeRejects(t *testing.T) {
	e := newEnv(t, "2026-11-27 10:20")
	bad := strings.Replace(payments(pay{ref: "PAY-0001", amount: "39.99"}, pay{ref: "PAY-0002", amount: "50.00"}), "1;IN;2;89.99;", "1;IN;2;79.99;", 1)
	ok, out := e.upload("payments-1127.csv", bad)
	if ok {
		t.Fatalf("accepted a file with a wrong total")
	}
	if !strings.HasPrefix(out, "FILE_ID;FILE_NAME;RECEIVED_AT;LINE;COLUMN;CODE;MESSAGE;\n") || !strings.Contains(out, ";TOTAL_MISMATCH;") {
		t.Fatalf(".err = %q", out)
	}
	id := fileIDOf(out)
	info, err := e.svc.Batch(id)
	if err != nil || info.Status != StatusRejected || info.ErrorCode != "TOTAL_MISMATCH" {
		t.Fatalf("batch = %+v, %v", info, err)
	}
	waitGone(t, e.inPath("payments-1127.csv"))

	// A rejected name may come again; its .ack replaces the old .err.
	e.put("payments-1127.csv", payments(pay{ref: "PAY-0001", amount: "39.99"}))
	e.waitOut("payments-1127.ack")
	waitGone(t, e.outPath("payments-1127.err"))

	// A file that is not a payments file at all.
	if ok, out := e.upload("junk.csv", "\x00\x01binary"); ok || !strings.Contains(out, ";ENCODING;") && !strings.Contains(out, ";UNKNOWN_FILE_TYPE;") {
		t.Fatalf("junk: ok=%v %q", ok, out)
	}
}

func TestIntakeDuplicates(t *testing.T) {
	e := newEnv(t, "2026-11-27 10:30")
	content := payments(pay{ref: "PAY-0001", amount: "39.99"})
	first := e.mustAck("a.csv", content)

	// Same content under another name.
	ok, out := e.upload("b.csv", content)
	if ok || !strings.Contains(out, ";DUPLICATE_FILE;") || !strings.Contains(out, first) {
		t.Fatalf("same content: ok=%v\n%s", ok, out)
	}
	// Same stem with another extension and another content.
	ok, out = e.upload("a.xml", payments(pay{ref: "PAY-0002", amount: "1.00"}))
	if ok || !strings.Contains(out, ";DUPLICATE_FILE_NAME;") {
		t.Fatalf("same stem: ok=%v\n%s", ok, out)
	}
	// The first .ack is untouched.
	if got := fileIDOf(e.waitOut("a.ack")); got != first {
		t.Fatalf("a.ack now names %s, want %s", got, first)
	}
	// A rejected file's content may be sent again under a new name: only
	// acknowledged files count as duplicates.
	if ok, out := e.upload("c.csv", payments(pay{ref: "PAY-0003", amount: "1.00"})); !ok {
		t.Fatalf("c.csv: %s", out)
	}
}

func TestIntakeSameNameRaceKeepsNewFile(t *testing.T) {
	e := newEnv(t, "2026-11-27 11:00")
	release := make(chan struct{})
	reached := make(chan struct{}, 1)
	e.svc.setHook(func(p string) error {
		if p == "intake:decide" {
			select {
			case reached <- struct{}{}:
				<-release
			default:
			}
		}
		return nil
	})
	e.put("race.csv", payments(pay{ref: "PAY-0001", amount: "10.00"}))
	<-reached
	// Meanwhile the merchant uploads a new file under the same name.
	newer := payments(pay{ref: "PAY-0002", amount: "20.00"})
	tmp := e.inPath(".fileapi-up2")
	if err := os.WriteFile(tmp, []byte(newer), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, e.inPath("race.csv")); err != nil {
		t.Fatal(err)
	}
	e.svc.setHook(nil)
	close(release)
	e.waitOut("race.ack")
	sleepMs(50)
	b, err := os.ReadFile(e.inPath("race.csv"))
	if err != nil || string(b) != newer {
		t.Fatalf("the newer upload was removed or changed: %v", err)
	}
}

// The same upload handed over twice is picked up once.
func TestPickupIsIdempotentPerUpload(t *testing.T) {
	e := newEnv(t, "2026-11-27 10:00")
	release := make(chan struct{})
	e.svc.setHook(func(p string) error {
		if p == "intake:decide" {
			<-release
		}
		return nil
	})
	e.put("a.csv", payments(pay{ref: "A1", amount: "1.00"}))
	if err := e.svc.Pickup(acme, "a.csv"); err != nil {
		t.Fatal(err)
	}
	close(release)
	e.waitOut("a.ack")
	sleepMs(50)
	if list, _ := e.svc.Batches(acme); len(list) != 1 {
		t.Fatalf("%d batches for one upload", len(list))
	}
	if _, err := os.Stat(e.outPath("a.err")); err == nil {
		t.Fatal("a second pick-up of the same upload was answered")
	}
}
