package main

import (
	"os"
	"testing"
	"time"

	"fileapi/formats"
)

// The README's quickstart sample must be a valid PAYMENTS file for the
// quickstart merchant, whatever the day the README is followed.
func TestQuickstartSampleIsValid(t *testing.T) {
	t.Parallel()
	f, err := os.Open("../../testdata/quickstart/payments.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum, issues, err := formats.Validate(f, formats.Options{CreditorRef: "acme-creditor", Today: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil || len(issues) != 0 {
		t.Fatalf("err %v, issues %+v", err, issues)
	}
	if sum.Type != formats.Payments || sum.Lines != 3 || sum.Total != 11499 {
		t.Fatalf("summary %+v", sum)
	}
}
