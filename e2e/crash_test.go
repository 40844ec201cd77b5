package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"fileapi/batch"
)

// The kill -9 test (SPEC §7, issues 4 and 5) plays the same scenario twice
// on the real binary: once without any crash (the reference), once with the
// server SIGKILLed at many points, first while it processes a batch of
// 100,000 debits, then while it settles them and writes the daily reports
// after a clock advance. The crash run must end in the reference's state:
// the same batch counts, .res, balance, and report files (ids and time
// stamps masked), with every out/ file whole after every kill.

const (
	crashLines = 100_000
	// crashAdvance moves the clock from a Monday 00:00 to the Thursday of
	// the week after at 10:00, past the reports' 00:30 run: the reports of
	// the eight business days up to that Wednesday are due.
	crashAdvance = "250h"
)

// crashDays picks the scenario's days: start is the first Monday from the
// day after tomorrow (Paris) such that it and the nine days after it hold no TARGET2
// holiday, and reportDays are the business days whose reports crashAdvance
// makes due, as YYYYMMDD. The batch is processed on start, collected the day
// after; returns (2 business days) and refund requests (3) follow that week.
func crashDays() (start time.Time, reportDays []string) {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err)
	}
	start = batch.Date(time.Now(), loc).AddDate(0, 0, 2) // not tomorrow: the runs may cross midnight
	for {
		ok := start.Weekday() == time.Monday
		for _, d := range []int{0, 1, 2, 3, 4, 7, 8, 9} {
			ok = ok && batch.IsBusinessDay(start.AddDate(0, 0, d))
		}
		if ok {
			break
		}
		start = start.AddDate(0, 0, 1)
	}
	for _, d := range []int{0, 1, 2, 3, 4, 7, 8, 9} {
		reportDays = append(reportDays, start.AddDate(0, 0, d).Format("20060102"))
	}
	return start, reportDays
}

// crashFile is a PAYMENTS file of crashLines debits; one line in a thousand
// of each kind is rejected (AM04), returned (MD01) or refunded at the
// debtor's request (MD06). It returns the file and the balance expected once
// all of this is settled.
func crashFile(m merchant) (content []byte, want int64) {
	var b bytes.Buffer
	var total int64
	for i := 0; i < crashLines; i++ {
		total += int64(100 + i%900)
	}
	fmt.Fprintf(&b, "0;PAYMENTS;%s;%s SAS;\n1;IN;%d;%d.%02d;EUR;\n", m.creditorRef, strings.ToUpper(m.id), crashLines, total/100, total%100)
	b.WriteString("PAYMENT_REFERENCE;AMOUNT;MANDATE_REFERENCE;MANDATE_SIGNATURE_DATE;DEBTOR_NAME;DEBTOR_IBAN;\n")
	for i := 0; i < crashLines; i++ {
		c := int64(100 + i%900)
		name := "Jeanne Martin"
		switch i % 1000 {
		case 1:
			name = "ISSUE-SEPA-REJ-AM04 Paul Durand"
		case 2:
			name = "ISSUE-SEPA-RET-MD01 Marie Curie"
		case 3:
			name = "ISSUE-SEPA-REF-MD06 Louis Pasteur"
		}
		if name != "Jeanne Martin" {
			total -= c
		}
		fmt.Fprintf(&b, "K-%06d;%d.%02d;UMR-K-%06d;2025-01-15;%s;FR7630006000011234567890189;\n", i, c/100, c%100, i, name)
	}
	return b.Bytes(), total
}

// crashOutcome is what a run leaves behind, with the values that
// legitimately differ between runs (ids, time stamps) masked.
type crashOutcome struct {
	batches string            // fileapi batches list
	show    string            // fileapi batches show FILE_ID
	balance string            // the Balance line of fileapi merchant show
	files   map[string]string // every out/ file
	// SIGKILLs that left the batch PROCESSING, and that interrupted the
	// settlement and report catch-up.
	processKills, reportKills int
}

var (
	ulidRE  = regexp.MustCompile(`\b[0-9A-HJKMNP-TV-Z]{26}\b`)
	stampRE = regexp.MustCompile(`\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?( ?(Z|[+-]\d\d:?\d\d|[A-Z]{3,4}))?`)
)

// maskVolatile masks what legitimately differs between two runs: ids (ULIDs)
// and time stamps. Outputs put their time stamps in their first lines (the
// .ack, the camt.053 header), so only the first 4 KB are searched for them:
// a regexp over a 30 MB statement would take seconds.
func maskVolatile(s string) string {
	b := []byte(s)
	isU := func(c byte) bool {
		return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' && c != 'I' && c != 'L' && c != 'O' && c != 'U'
	}
	isW := func(c byte) bool { return isU(c) || c >= 'a' && c <= 'z' || c == '_' || c >= 'A' && c <= 'Z' }
	for i := 0; i+26 <= len(b); {
		if !isU(b[i]) || i > 0 && isW(b[i-1]) {
			i++
			continue
		}
		j := i
		for j < len(b) && isU(b[j]) {
			j++
		}
		if j-i == 26 && (j == len(b) || !isW(b[j])) {
			copy(b[i:j], "##########################")
		}
		i = j
	}
	head := min(len(b), 4096)
	return stampRE.ReplaceAllString(string(b[:head]), "<TIME>") + string(b[head:])
}

// TestKill9AtManyPoints is the crash test of SPEC §7. It takes 20-40 s.
func TestKill9AtManyPoints(t *testing.T) {
	if testing.Short() {
		t.Skip("the kill -9 test plays 100,000 debits twice; skipped under -short")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("kill delays seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	began := time.Now()
	start, days := crashDays()
	t.Logf("scenario from %s, reports of %v", start.Format("2006-01-02"), days)
	ref := playCrashScenario(t, start, days, nil)
	refTook := time.Since(began)
	t.Logf("reference run: %v", refTook)
	if t.Failed() {
		return
	}
	crash := playCrashScenario(t, start, days, rng)
	t.Logf("crash run: %v; %d kills during processing, %d during settlement and reports",
		time.Since(began)-refTook, crash.processKills, crash.reportKills)
	if t.Failed() {
		return
	}
	// The proof needs kills at several points of both phases.
	if crash.processKills < 2 || crash.reportKills < 2 {
		t.Errorf("only %d kills during processing and %d during the catch-up: the delays need tuning for this machine",
			crash.processKills, crash.reportKills)
	}

	for _, c := range []struct{ what, ref, got string }{
		{"batches list", ref.batches, crash.batches},
		{"batches show", ref.show, crash.show},
		{"balance", ref.balance, crash.balance},
	} {
		if c.ref != c.got {
			t.Errorf("%s after the crashes:\n%s\nwithout crash:\n%s", c.what, c.got, c.ref)
		}
	}
	names := func(m map[string]string) []string {
		var n []string
		for k := range m {
			n = append(n, k)
		}
		slices.Sort(n)
		return n
	}
	if r, g := names(ref.files), names(crash.files); !slices.Equal(r, g) {
		t.Fatalf("out/ after the crashes: %v\nwithout crash: %v", g, r)
	}
	for name, want := range ref.files {
		if got := crash.files[name]; got != want {
			t.Errorf("out/%s differs from the run without crash:\n%s", name, firstDiff(want, got))
		}
	}
}

// firstDiff shows the first differing line of two texts.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d: want %q\n got %q (lines: want %d, got %d)", i+1, a, b, len(w), len(g))
		}
	}
	return "same lines"
}

// playCrashScenario uploads the big file, lets it be processed, advances the
// clock by crashAdvance and waits for every report. With rng it SIGKILLs the
// server at random points of both phases and restarts it each time.
func playCrashScenario(t *testing.T, start time.Time, days []string, rng *rand.Rand) crashOutcome {
	t.Helper()
	data := t.TempDir()
	// The merchant's creation day is a real-clock date (keys uses the wall
	// clock): its reports run from today, the ones before start are empty.
	m := addMerchant(t, data, "acme")
	admin(t, data, "", "clock", "set", start.Format("2006-01-02"))
	content, wantBalance := crashFile(m)
	out := merchantPath(data, m.id, "out")
	serve := func() *server {
		return startServer(t, data, "--process-schedule", "@every 1s")
	}
	var o crashOutcome
	kill := func(s *server) {
		t.Helper()
		s.cmd.Process.Signal(syscall.SIGKILL)
		<-s.exited
		checkOutWhole(t, out, false)
	}

	t0 := time.Now()
	s := serve()
	if err := putFile(sftpClient(t, s.sftpAddr, m), "in/big.csv", content); err != nil {
		t.Fatal(err)
	}
	waitFile(t, filepath.Join(out, "big.ack"), 30*time.Second)

	// Phase 1: processing, which commits in chunks. Each time the accepted
	// count shows a new chunk committed, kill after a random delay (in the
	// middle of the next chunk, or of its commit), look at the state the
	// store was left in, restart.
	status := func() string { return admin(t, data, "", "batches", "list") }
	accepted := func(st string) int {
		rows := strings.Split(st, "\n")
		if len(rows) < 2 {
			t.Fatalf("batches list:\n%s", st)
		}
		f := strings.Fields(rows[1])
		if len(f) < 7 {
			t.Fatalf("batches list:\n%s", st)
		}
		n, _ := strconv.Atoi(f[6])
		return n
	}
	if rng != nil {
		last := 0
	processing:
		for k := 0; k < 8; k++ {
			for deadline := time.Now().Add(60 * time.Second); ; {
				st := status()
				if strings.Contains(st, "PROCESSED") {
					break processing
				}
				if n := accepted(st); n > last {
					last = n
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no progress in 60 s:\n%s\n%s", st, s.logText())
				}
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
			kill(s)
			st := status()
			last = accepted(st) // the next kill waits for a chunk beyond this
			t.Logf("processing kill %d: %d lines accepted", k, last)
			if strings.Contains(st, "PROCESSED") {
				s = serve()
				break
			}
			if !strings.Contains(st, "PROCESSING") {
				t.Fatalf("batch after kill %d:\n%s", k, st)
			}
			o.processKills++
			if _, err := os.Stat(filepath.Join(out, "big.res")); err == nil {
				t.Fatalf("big.res exists although the batch is not processed:\n%s", st)
			}
			s = serve()
		}
	}
	res := waitFile(t, filepath.Join(out, "big.res"), 120*time.Second)
	t.Logf("processed after %v", time.Since(t0))
	checkRes(t, res)

	// Phase 2: settlement and reports of ten days, caught up at once.
	admin(t, data, "", "clock", "advance", crashAdvance)
	var reports []string
	for _, d := range days {
		for _, f := range []string{"STATEMENT_%s_%s.csv", "STATEMENT_%s_%s.xml", "ISSUES_%s_%s.csv"} {
			reports = append(reports, fmt.Sprintf(f, m.creditorRef, d))
		}
	}
	allThere := func() bool {
		for _, r := range reports {
			if _, err := os.Stat(filepath.Join(out, r)); err != nil {
				return false
			}
		}
		return true
	}
	// The first kill lands during settlement, the next ones each after one
	// more report file appeared (in the middle of a day's set of three).
	countReports := func() int {
		n := 0
		for _, name := range listDir(t, out) {
			if strings.HasPrefix(name, "STATEMENT_") || strings.HasPrefix(name, "ISSUES_") {
				n++
			}
		}
		return n
	}
	if rng != nil {
		seen := countReports()
		for k := 0; k < 8 && !allThere(); k++ {
			if k > 0 {
				for deadline := time.Now().Add(60 * time.Second); countReports() <= seen && !allThere(); {
					if time.Now().After(deadline) {
						t.Fatalf("no new report in 60 s:\n%s", s.logText())
					}
					time.Sleep(10 * time.Millisecond)
				}
				seen = countReports()
			}
			time.Sleep(time.Duration(20+rng.IntN(250)) * time.Millisecond)
			kill(s)
			if allThere() {
				s = serve()
				break
			}
			o.reportKills++
			s = serve()
		}
	}
	deadline := time.Now().Add(120 * time.Second)
	for !allThere() {
		if time.Now().After(deadline) {
			t.Fatalf("reports missing after %s; out/ holds %v", crashAdvance, listDir(t, out))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("reports after %v", time.Since(t0))
	// A last restart: whatever it recovers or rewrites must leave the same
	// state, and no internal temporary file.
	s.stop()
	s = serve()
	s.stop()
	if stray := strayFiles(t, data); len(stray) > 0 {
		t.Errorf("left in the data directory: %v", stray)
	}
	// Reports of the days before start (from the merchant's creation, a
	// real-clock date) are checked whole but not compared: a run crossing
	// midnight would have one more.
	o.files = checkOutWhole(t, out, true)
	checkBooks(t, out, wantBalance)
	dayRE := regexp.MustCompile(`_(\d{8})\.(csv|xml)$`)
	first := start.Format("20060102")
	for name := range o.files {
		if d := dayRE.FindStringSubmatch(name); d != nil && d[1] < first {
			delete(o.files, name)
		}
	}
	want := append([]string{"big.ack", "big.res"}, reports...)
	slices.Sort(want)
	if got := slices.Sorted(maps.Keys(o.files)); !slices.Equal(got, want) {
		t.Errorf("out/ holds %v, want %v", got, want)
	}

	o.batches = maskVolatile(status())
	fileID := ulidRE.FindString(string(waitFile(t, filepath.Join(out, "big.ack"), time.Second)))
	show := admin(t, data, "", "batches", "show", fileID)
	if !strings.Contains(show, "PROCESSED") || !regexp.MustCompile(`(?m)^Accepted:\s+100000 `).MatchString(show) || !regexp.MustCompile(`(?m)^Refused:\s+0$`).MatchString(show) {
		t.Errorf("batches show %s:\n%s", fileID, show)
	}
	o.show = maskVolatile(show)
	for _, l := range strings.Split(admin(t, data, "", "merchant", "show", m.id), "\n") {
		if strings.HasPrefix(l, "Balance:") {
			o.balance = strings.TrimSpace(l)
		}
	}
	if want := fmt.Sprintf("Balance: %d.%02d EUR", wantBalance/100, wantBalance%100); strings.Join(strings.Fields(o.balance), " ") != want {
		t.Errorf("merchant show: %q, want %q", o.balance, want)
	}
	return o
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n []string
	for _, e := range ents {
		n = append(n, e.Name())
	}
	return n
}

// checkRes checks that a .res lists every line exactly once, all accepted,
// each with its own transaction id.
func checkRes(t *testing.T, res []byte) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(string(res), "\n"), "\n")
	if len(lines) != crashLines+1 {
		t.Fatalf(".res has %d rows, want %d", len(lines)-1, crashLines)
	}
	ids := make(map[string]bool, crashLines)
	for i, l := range lines[1:] {
		f := strings.Split(l, ";")
		if len(f) < 8 || f[0] != strconv.Itoa(i+4) || f[2] != "ACCEPTED" || len(f[5]) != 26 || ids[f[5]] {
			t.Fatalf("bad, misplaced or duplicate .res row %d: %q", i+1, l)
		}
		ids[f[5]] = true
	}
}

// checkOutWhole parses every file the merchant can see in out/ and fails
// the test on one that is cut short or inconsistent. With mask it returns
// the files' contents with ids and time stamps masked.
func checkOutWhole(t *testing.T, out string, mask bool) map[string]string {
	t.Helper()
	files := map[string]string{}
	for _, name := range listDir(t, out) {
		if strings.HasPrefix(name, ".") {
			continue // internal temporary files: the merchant cannot list them
		}
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		var bad error
		switch {
		case strings.HasSuffix(name, ".ack"):
			l := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
			if len(l) != 2 || !strings.HasPrefix(l[0], "FILE_ID;") || !strings.HasSuffix(l[1], ";ACKNOWLEDGED;") {
				bad = fmt.Errorf("not a whole .ack")
			}
		case strings.HasSuffix(name, ".res"):
			checkRes(t, b)
		case strings.HasPrefix(name, "STATEMENT_") && strings.HasSuffix(name, ".csv"):
			bad = checkStatement(b)
		case strings.HasPrefix(name, "STATEMENT_") && strings.HasSuffix(name, ".xml"):
			bad = checkXML(b)
		case strings.HasPrefix(name, "ISSUES_"):
			bad = checkIssues(b)
		default:
			bad = fmt.Errorf("unexpected file")
		}
		if bad != nil {
			t.Fatalf("out/%s: %v\n%.2000s", name, bad, b)
		}
		if mask {
			m := maskVolatile(string(b))
			if len(m) > 4<<20 {
				// Keep a digest of the big statement, not two 100 MB copies.
				m = fmt.Sprintf("%d bytes, masked SHA-256 %x", len(m), sha256.Sum256([]byte(m)))
			}
			files[name] = m
		}
	}
	return files
}

// cents reads an amount such as 4383.08 or -12.5 as cents.
func cents(s string) (int64, error) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) == 1 {
		frac += "0"
	}
	if frac == "" {
		frac = "00"
	}
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || len(frac) != 2 {
		return 0, fmt.Errorf("bad amount %q", s)
	}
	if neg {
		return -(w*100 + f), nil
	}
	return w*100 + f, nil
}

// checkStatement checks a CSV statement: the movement count of its second
// line, and previous balance + credits − debits = new balance.
func checkStatement(b []byte) error {
	_, err := parseStatement(b)
	return err
}

// statement is what the checks read from a CSV statement.
type statement struct {
	prev, next int64          // previous and new balance, in cents
	ops        map[string]int // movements by OP code
}

// parseStatement reads a CSV statement and checks it whole and consistent.
func parseStatement(b []byte) (statement, error) {
	st := statement{ops: map[string]int{}}
	var rows [][]string
	for _, l := range strings.Split(string(b), "\n") {
		if l == "" {
			continue
		}
		f := strings.Split(l, ";")
		for i := range f {
			f[i] = strings.Trim(f[i], `"`)
		}
		rows = append(rows, f)
	}
	if !strings.HasSuffix(string(b), "\n") || len(rows) < 4 || rows[0][0] != "Line" {
		return st, fmt.Errorf("no header, or cut short")
	}
	count, err := strconv.Atoi(rows[1][0])
	if err != nil {
		return st, fmt.Errorf("bad count line %q", rows[1])
	}
	prevRow, newRow := rows[2], rows[len(rows)-1]
	if len(prevRow) < 9 || prevRow[4] != "Previous balance" || len(newRow) < 9 || newRow[4] != "New balance" {
		return st, fmt.Errorf("no previous or new balance line")
	}
	bal, err := cents(prevRow[8])
	st.prev = bal
	if err != nil {
		return st, err
	}
	moves := rows[3 : len(rows)-1]
	if len(moves) != count {
		return st, fmt.Errorf("%d movements, the count line says %d", len(moves), count)
	}
	for _, mv := range moves {
		if len(mv) < 10 {
			return st, fmt.Errorf("short movement %q", mv)
		}
		st.ops[mv[5]]++
		if mv[8] != "" {
			c, err := cents(mv[8])
			if err != nil {
				return st, err
			}
			bal += c
		}
		if mv[9] != "" {
			d, err := cents(mv[9])
			if err != nil {
				return st, err
			}
			bal -= d
		}
	}
	nb, err := cents(newRow[8])
	if err != nil {
		return st, err
	}
	if nb != bal {
		return st, fmt.Errorf("previous balance + movements = %d cents, new balance says %d", bal, nb)
	}
	st.next = nb
	return st, nil
}

// checkBooks follows the statements day by day (each one's previous
// balance is the new balance of the one before, the last one's is the
// expected balance) and counts movements and issues: every debit of the file
// is credited once except the 100 rejected; the 100 returned and the 100
// refunded on request are debited once; each issue is reported once.
func checkBooks(t *testing.T, out string, wantBalance int64) {
	t.Helper()
	var bal int64
	ops := map[string]int{}
	issues := map[string]int{}
	for _, name := range listDir(t, out) {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasPrefix(name, "STATEMENT_") && strings.HasSuffix(name, ".csv"):
			st, err := parseStatement(b)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if st.prev != bal {
				t.Errorf("%s: previous balance %d cents, the statement before ended at %d", name, st.prev, bal)
			}
			bal = st.next
			for k, v := range st.ops {
				ops[k] += v
			}
		case strings.HasPrefix(name, "ISSUES_"):
			for _, l := range strings.Split(string(b), "\n") {
				if f := strings.Split(l, ";"); f[0] == "1" && len(f) > 2 {
					issues[f[2]]++
				}
			}
		}
	}
	if bal != wantBalance {
		t.Errorf("the last statement's balance is %d cents, want %d", bal, wantBalance)
	}
	wantOps := map[string]int{"SDD": crashLines - crashLines/1000, "RET": 2 * crashLines / 1000}
	if !maps.Equal(ops, wantOps) {
		t.Errorf("movements by OP code %v, want %v", ops, wantOps)
	}
	wantIssues := map[string]int{"REJECT": crashLines / 1000, "RETURN": crashLines / 1000, "REFUND_REQUEST": crashLines / 1000}
	if !maps.Equal(issues, wantIssues) {
		t.Errorf("issues by type %v, want %v", issues, wantIssues)
	}
}

// checkXML checks that the camt.053 is well formed to its end. The statement
// of the collection day is over 100 MB: encoding/xml takes seconds on it (and
// it is checked after every kill), so files over 1 MB get a scan of their
// tags, which is enough to catch a file cut short, a missing or mismatched
// end tag.
func checkXML(b []byte) error {
	if len(b) > 1<<20 {
		return checkXMLTags(b)
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	depth, root := 0, false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
			root = true
		case xml.EndElement:
			depth--
		}
	}
	if !root || depth != 0 {
		return fmt.Errorf("XML cut short")
	}
	return nil
}

// checkXMLTags checks that the tags of b nest and close, and that one root
// element holds everything.
func checkXMLTags(b []byte) error {
	var open [][]byte
	root := false
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '<')
		if j < 0 {
			if len(bytes.TrimSpace(b[i:])) > 0 {
				return fmt.Errorf("text after the root element")
			}
			break
		}
		j += i
		if len(open) == 0 && len(bytes.TrimSpace(b[i:j])) > 0 {
			return fmt.Errorf("text outside the root element")
		}
		k := bytes.IndexByte(b[j:], '>')
		if k < 0 {
			return fmt.Errorf("tag cut short at byte %d", j)
		}
		k += j
		tag := b[j+1 : k]
		switch {
		case len(tag) == 0:
			return fmt.Errorf("empty tag at byte %d", j)
		case tag[0] == '?' || tag[0] == '!':
		case tag[0] == '/':
			if len(open) == 0 || !bytes.Equal(open[len(open)-1], tag[1:]) {
				return fmt.Errorf("unexpected </%s> at byte %d", tag[1:], j)
			}
			open = open[:len(open)-1]
		default:
			if root && len(open) == 0 {
				return fmt.Errorf("a second root element at byte %d", j)
			}
			root = true
			if tag[len(tag)-1] == '/' {
				break
			}
			name, _, _ := bytes.Cut(tag, []byte(" "))
			open = append(open, name)
		}
		i = k + 1
	}
	if !root || len(open) != 0 {
		return fmt.Errorf("XML cut short: %d elements not closed", len(open))
	}
	return nil
}

// checkIssues checks an issues file: a 0; header, 1; rows, and a 9;
// trailer whose count and total match the rows.
func checkIssues(b []byte) error {
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if !strings.HasSuffix(string(b), "\n") || len(lines) < 2 || !strings.HasPrefix(lines[0], "0;") {
		return fmt.Errorf("no header, or cut short")
	}
	var n, sum int64
	for _, l := range lines[1 : len(lines)-1] {
		f := strings.Split(l, ";")
		if f[0] != "1" || len(f) < 15 {
			return fmt.Errorf("bad row %q", l)
		}
		c, err := cents(f[9])
		if err != nil {
			return err
		}
		n, sum = n+1, sum+c
	}
	tr := strings.Split(lines[len(lines)-1], ";")
	if tr[0] != "9" || len(tr) < 3 {
		return fmt.Errorf("no trailer")
	}
	total, err := cents(tr[2])
	if err != nil {
		return err
	}
	if tr[1] != strconv.FormatInt(n, 10) || total != sum {
		return fmt.Errorf("trailer %q, rows: %d for %d cents", lines[len(lines)-1], n, sum)
	}
	if h := strings.Split(lines[0], ";"); len(h) < 9 || h[8] != tr[1] {
		return fmt.Errorf("header %q disagrees with the trailer", lines[0])
	}
	return nil
}

// TestCrashCheckersCatchCutFiles shows that the whole-file checks of the
// kill -9 test reject a file cut anywhere: without that, "every out/ file
// parses" would prove nothing.
func TestCrashCheckersCatchCutFiles(t *testing.T) {
	statement := `"Line";"Execution_Date";"Transaction_ID";"Client_Reference";"Debtor_Name";"OP_Code";"Amount";"Value_Date";"Credit_value";"Debit_value";"Label";"Invoice_Reference";"Initial_Transaction_ID";
"2";"2026-11-30";;"ACME SAS";
;;;;"Previous balance";;;"2026-11-27";"4383.08";
"1";"2026-11-30";"01JDQ6";"C-42";"Jeanne Martin";"SDD";"39.99";"2026-12-01";"39.99";;"November subscription";"INV-9";;
"2";"2026-11-30";"01JDQ9";"C-17";"Paul Durand";"RET";"50.00";"2026-11-30";;"50.00";"AM04 insufficient funds";;"01JDQ7";
;;;;"New balance";;;"2026-11-30";"4373.07";
`
	issues := `0;acme-creditor;ISS-20261130-acme-creditor;ACME SAS;;;;2026-11-30;2;
1;I1;REJECT;P-1;T1;UMR-1;C-1;Paul Durand;FR7630006000011234567890189;12.50;EUR;2026-11-30;2026-11-30;AM04;insufficient funds;
1;I2;RETURN;P-2;T2;UMR-2;C-2;Marie Curie;FR7630006000011234567890189;7.50;EUR;2026-11-26;2026-11-30;MD01;no mandate;
9;2;20.00;
`
	camt := `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <Stmt><Id>S1</Id><Bal><Amt Ccy="EUR">4383.08</Amt></Bal><Ntry><Amt Ccy="EUR">39.99</Amt></Ntry></Stmt>
  </BkToCstmrStmt>
</Document>
`
	big := strings.Replace(camt, "<Stmt>", "<Stmt>"+strings.Repeat("<Ntry><Amt Ccy=\"EUR\">1.00</Amt><Sts/></Ntry>\n", 30_000), 1)
	for _, c := range []struct {
		name  string
		text  string
		check func([]byte) error
	}{
		{"statement", statement, checkStatement},
		{"issues", issues, checkIssues},
		{"camt.053", camt, checkXML},
		{"camt.053 over 1 MB", big, checkXML},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := c.check([]byte(c.text)); err != nil {
				t.Fatalf("the whole file is refused: %v", err)
			}
			// Every cut at a line end, and in the middle of each line.
			lines := strings.SplitAfter(c.text, "\n")
			step := max(1, len(lines)/20)
			at := 0
			for i := 0; i < len(lines)-1; i += step {
				for _, cut := range []int{at + len(lines[i]), at + len(lines[i])/2} {
					if cut >= len(c.text) {
						continue
					}
					if err := c.check([]byte(c.text[:cut])); err == nil {
						t.Errorf("cut at byte %d of %d accepted", cut, len(c.text))
					}
				}
				for j := i; j < i+step && j < len(lines); j++ {
					at += len(lines[j])
				}
			}
		})
	}
	// A statement whose movements do not add up is refused too.
	if err := checkStatement([]byte(strings.Replace(statement, `"4373.07"`, `"4373.08"`, 1))); err == nil {
		t.Error("a statement that does not add up is accepted")
	}
	if err := checkIssues([]byte(strings.Replace(issues, "9;2;20.00;", "9;2;20.01;", 1))); err == nil {
		t.Error("an issues file whose trailer total is wrong is accepted")
	}
}
