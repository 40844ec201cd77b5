package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMerchantCreatedOnTheSandboxDay: a merchant added after the sandbox
// clock moved forward is created on the sandbox day, so its daily reports
// start there rather than on the wall-clock day (SPEC §5: every date the
// service uses comes from the sandbox clock).
func TestMerchantCreatedOnTheSandboxDay(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	mustRun(t, dir, "clock", "set", "2031-03-03", "--data", data)
	mustRun(t, dir, "merchant", "add", "acme", "--name", "ACME SAS", "--creditor-ref", "acme-creditor", "--data", data)
	show := mustRun(t, dir, "merchant", "show", "acme", "--data", data)
	var created string
	for _, l := range strings.Split(show, "\n") {
		if strings.HasPrefix(l, "Created:") {
			created = l
		}
	}
	if !strings.Contains(created, "2031-03-03") {
		t.Fatalf("merchant created %q, want the sandbox day 2031-03-03:\n%s", created, show)
	}
	// The reports job then starts on that day: nothing is produced for the
	// wall-clock days before it, the two ended sandbox days are reported.
	mustRun(t, dir, "clock", "advance", "2d", "--data", data)
	mustRun(t, dir, "jobs", "run", "reports", "--data", data)
	out, err := os.ReadDir(filepath.Join(data, "merchants", "acme", "out"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range out {
		names = append(names, e.Name())
	}
	want := []string{
		"ISSUES_acme-creditor_20310303.csv", "ISSUES_acme-creditor_20310304.csv",
		"STATEMENT_acme-creditor_20310303.csv", "STATEMENT_acme-creditor_20310303.xml",
		"STATEMENT_acme-creditor_20310304.csv", "STATEMENT_acme-creditor_20310304.xml",
	}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("out/ after two sandbox days = %v, want the reports of 3 and 4 March 2031 only", names)
	}
}
