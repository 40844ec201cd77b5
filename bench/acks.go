package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Merchant is a registered merchant with its login key.
type Merchant struct {
	ID, CreditorRef string
	Signer          ssh.Signer
}

// PaymentsFile is a valid PAYMENTS file (FORMATS.md §2) of n lines for
// creditorRef; every payment and mandate reference derives from tag, so
// that each tag gives distinct content (no DUPLICATE_FILE).
func PaymentsFile(creditorRef, tag string, n int) []byte {
	var total int64
	for i := range n {
		total += int64(1000 + i%9000)
	}
	var b strings.Builder
	b.Grow(n * 120)
	fmt.Fprintf(&b, "0;PAYMENTS;%s;BENCH SAS;\n1;IN;%d;%d.%02d;EUR;\n", creditorRef, n, total/100, total%100)
	b.WriteString("PAYMENT_REFERENCE;AMOUNT;MANDATE_REFERENCE;MANDATE_SIGNATURE_DATE;DEBTOR_NAME;DEBTOR_IBAN;LABEL;\n")
	for i := range n {
		c := 1000 + i%9000
		fmt.Fprintf(&b, "%s-%06d;%d.%02d;UMR-%s-%06d;2025-01-15;Jeanne Martin;FR7630006000011234567890189;November subscription;\n",
			tag, i, c/100, c%100, tag, i)
	}
	return []byte(b.String())
}

// AckResult is the outcome of one AckStorm.
type AckResult struct {
	Sessions int
	Acked    int           // .ack files seen
	Errors   int           // failed logins or uploads, .err files, timeouts
	FirstErr error         // the first error, for the report
	Total    time.Duration // from the release of the uploads to the last .ack
	// Latencies from each upload's close (answered to the client) to its
	// .ack being visible in out/, for the acknowledged files.
	Latencies []time.Duration
}

// AckStorm opens sessions SFTP sessions at once (session i logs in as
// merchants[i%len(merchants)]), then releases them together: each uploads
// in/TAG-i.csv, a PAYMENTS file of lines lines, and closes it. It polls
// the merchants' out/ folders in dataDir every 5 ms until every upload has
// its .ack (or .err, an error) or timeout passes.
func AckStorm(ctx context.Context, addr, dataDir, cipher string, merchants []Merchant, sessions, lines int, tag string, timeout time.Duration) AckResult {
	res := AckResult{Sessions: sessions}
	type slot struct {
		m       Merchant
		name    string // without extension
		body    []byte
		closeAt time.Time
		ackAt   time.Time
		err     error
	}
	slots := make([]*slot, sessions)
	for i := range slots {
		m := merchants[i%len(merchants)]
		name := fmt.Sprintf("%s-%03d", tag, i)
		slots[i] = &slot{m: m, name: name, body: PaymentsFile(m.CreditorRef, name, lines)}
	}
	var (
		mu       sync.Mutex
		dialed   sync.WaitGroup
		release  = make(chan struct{})
		uploaded sync.WaitGroup
	)
	dialed.Add(sessions)
	uploaded.Add(sessions)
	for _, s := range slots {
		done := func(err error) {
			mu.Lock()
			s.closeAt, s.err = time.Now(), err
			mu.Unlock()
		}
		go func() {
			defer uploaded.Done()
			c, err := Dial(Target{Addr: addr, User: s.m.ID, Signer: s.m.Signer}, cipher)
			if err != nil {
				dialed.Done()
				done(fmt.Errorf("login: %w", err))
				return
			}
			defer c.Close()
			sc, err := NewSFTP(c)
			dialed.Done()
			if err != nil {
				done(fmt.Errorf("sftp: %w", err))
				return
			}
			defer sc.Close()
			<-release
			f, err := sc.Create("/in/" + s.name + ".csv")
			if err == nil {
				_, err = f.Write(s.body)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
			if err != nil {
				err = fmt.Errorf("upload: %w", err)
			}
			done(err)
		}()
	}
	dialed.Wait()
	start := time.Now()
	close(release)

	deadline := start.Add(timeout)
	pending := sessions
	dirs := map[string]bool{}
	for _, m := range merchants {
		dirs[m.ID] = true
	}
	byName := map[string]*slot{}
	for _, s := range slots {
		byName[s.m.ID+"/"+s.name] = s
	}
	var last time.Time
	for pending > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
		now := time.Now()
		for id := range dirs {
			ents, _ := os.ReadDir(filepath.Join(dataDir, "merchants", id, "out"))
			for _, e := range ents {
				n := e.Name()
				ext := filepath.Ext(n)
				s := byName[id+"/"+strings.TrimSuffix(n, ext)]
				if s == nil || !s.ackAt.IsZero() || (ext != ".ack" && ext != ".err") {
					continue
				}
				s.ackAt = now
				if ext == ".err" {
					b, _ := os.ReadFile(filepath.Join(dataDir, "merchants", id, "out", n))
					mu.Lock()
					s.err = fmt.Errorf("%s: %.200s", n, b)
					mu.Unlock()
				}
				last = now
				pending--
			}
		}
		// Failed uploads never get an answer: stop waiting for them.
		mu.Lock()
		for _, s := range slots {
			if s.err != nil && s.ackAt.IsZero() && !s.closeAt.IsZero() {
				s.ackAt = now
				pending--
			}
		}
		mu.Unlock()
	}
	uploaded.Wait()
	mu.Lock()
	defer mu.Unlock()
	res.Total = last.Sub(start)
	for _, s := range slots {
		switch {
		case s.err != nil:
			res.Errors++
			if res.FirstErr == nil {
				res.FirstErr = s.err
			}
		case s.ackAt.IsZero():
			res.Errors++
			if res.FirstErr == nil {
				res.FirstErr = errors.New(s.name + ": no .ack within " + timeout.String())
			}
		default:
			res.Acked++
			res.Latencies = append(res.Latencies, max(0, s.ackAt.Sub(s.closeAt)))
		}
	}
	return res
}
