package audit

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestRecordWritesOneJSONLinePerEvent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	fixed := time.Date(2026, 11, 27, 9, 0, 0, 0, time.FixedZone("CET", 3600))
	l, err := Open(path, func() time.Time { return fixed })
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.Record(Event{Action: "login", Merchant: "acme", Source: "127.0.0.1:5000"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", st.Mode().Perm())
	}
	f, _ := os.Open(path)
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		if e.Action != "login" || e.Merchant != "acme" || !e.Time.Equal(fixed) || e.Time.Location() != time.UTC {
			t.Fatalf("bad event %+v", e)
		}
		n++
	}
	if n != 50 {
		t.Fatalf("%d lines, want 50", n)
	}
	var nilLog *Log
	if err := nilLog.Record(Event{Action: "x"}); err != nil {
		t.Fatal(err)
	}
}
