package batch

import (
	"strings"
	"testing"
)

// checkRes asserts the status and reason of each reference in a .res.
func checkRes(t *testing.T, res map[string][]string, want map[string]string) {
	t.Helper()
	for ref, w := range want {
		f, ok := res[ref]
		if !ok {
			t.Errorf("%s: no .res line", ref)
			continue
		}
		got := f[2]
		if f[3] != "" {
			got += " " + f[3]
		}
		if !strings.HasPrefix(got, w) {
			t.Errorf("%s: %s, want %s (line %q)", ref, got, w, strings.Join(f, ";"))
		}
		if f[2] == "ACCEPTED" && len(f[5]) != 26 && !strings.HasPrefix(ref, "UMR-") {
			t.Errorf("%s: accepted without a transaction id: %q", ref, strings.Join(f, ";"))
		}
		if f[2] == "REFUSED" && (f[4] == "" || f[5] != "") {
			t.Errorf("%s: refused line must have a reason and no transaction id: %q", ref, strings.Join(f, ";"))
		}
	}
	if len(res) != len(want) {
		t.Errorf(".res has %d lines, want %d", len(res), len(want))
	}
}

func TestProcessingRefusalCodes(t *testing.T) {
	e := newEnv(t, "2026-11-27 10:00") // Friday
	if err := e.keys.SetMaxAmount(acme, 1000_00); err != nil {
		t.Fatal(err)
	}
	e.mustAck("p1.csv", payments(
		pay{ref: "PAY-A", amount: "10.00", umr: "UMR-A"},
		pay{ref: "PAY-O", amount: "5.00", umr: "UMR-O", seq: "OOFF"},
		pay{ref: "PAY-SAT", amount: "7.00", exec: "2026-12-05"},  // a Saturday
		pay{ref: "PAY-SOON", amount: "7.00", exec: "2026-11-28"}, // too soon
		pay{ref: "PAY-XMAS", amount: "7.00", exec: "2026-12-25"},
		pay{ref: "PAY-MAX", amount: "1000.00"},
	))
	e.run("process")
	res := e.res("p1.csv")
	checkRes(t, res, map[string]string{"PAY-A": "ACCEPTED", "PAY-O": "ACCEPTED", "PAY-SAT": "ACCEPTED", "PAY-SOON": "ACCEPTED",
		"PAY-XMAS": "ACCEPTED", "PAY-MAX": "ACCEPTED"})
	for ref, date := range map[string]string{"PAY-A": "2026-11-30", "PAY-SAT": "2026-12-07", "PAY-SOON": "2026-11-30", "PAY-XMAS": "2026-12-28"} {
		if res[ref][7] != date {
			t.Errorf("%s collection date %s, want %s", ref, res[ref][7], date)
		}
	}

	e.mustAck("p2.csv", payments(
		pay{ref: "PAY-A", amount: "10.00", umr: "UMR-Z"},                       // reference reused
		pay{ref: "PAY-B", amount: "10.00", umr: "UMR-A", signed: "2025-01-16"}, // other signature date
		pay{ref: "PAY-C", amount: "10.00", umr: "UMR-A", scheme: "SEPA.DIRECT_DEBIT.B2B"},
		pay{ref: "PAY-D", amount: "10.00", umr: "UMR-O"},                                 // after OOFF
		pay{ref: "PAY-E", amount: "10.00", exec: "2027-11-28"},                           // 366 days ahead
		pay{ref: "PAY-E2", amount: "10.00", exec: "2027-11-27"},                          // 365 days: fine
		pay{ref: "PAY-F", amount: "1000.01"},                                             // above the maximum
		pay{ref: "PAY-G", amount: "10.00", umr: "UMR-A", iban: "DE89370400440532013000"}, // amendment
	))
	e.run("process")
	checkRes(t, e.res("p2.csv"), map[string]string{"PAY-A": "REFUSED AM05", "PAY-B": "REFUSED MD02", "PAY-C": "REFUSED MD02",
		"PAY-D": "REFUSED AG02", "PAY-E": "REFUSED DT01", "PAY-E2": "ACCEPTED", "PAY-F": "REFUSED AM02", "PAY-G": "ACCEPTED"})

	e.mustAck("m1.csv", mandates(
		mline{"CREATE", "UMR-A", "2025-01-15", "Jeanne Martin", "FR7630006000011234567890189"},
		mline{"AMEND", "UMR-X", "", "", "DE89370400440532013000"},
		mline{"CREATE", "UMR-N", "2025-02-01", "Paul Durand", "DE89370400440532013000"},
		mline{"AMEND", "UMR-N", "", "", "FR7630006000011234567890189"},
		mline{"REVOKE", "UMR-A", "", "", ""},
		mline{"REVOKE", "UMR-Y", "", "", ""},
	))
	e.mustAck("m2.csv", mandates(
		mline{"REVOKE", "UMR-A", "", "", ""},
		mline{"AMEND", "UMR-A", "", "", "DE89370400440532013000"},
	))
	e.run("process")
	checkRes(t, e.res("m1.csv"), map[string]string{"UMR-A": "REFUSED MANDATE_EXISTS", "UMR-X": "REFUSED MANDATE_NOT_FOUND",
		"UMR-N": "ACCEPTED", "UMR-N#2": "ACCEPTED", "UMR-A#2": "ACCEPTED", "UMR-Y": "REFUSED MANDATE_NOT_FOUND"})
	checkRes(t, e.res("m2.csv"), map[string]string{"UMR-A": "REFUSED MD01", "UMR-A#2": "REFUSED MD01"})

	e.mustAck("p3.csv", payments(
		pay{ref: "PAY-H", amount: "10.00", umr: "UMR-A"},                                            // revoked
		pay{ref: "PAY-I", amount: "10.00", umr: "UMR-N", signed: "2025-02-01", name: "Paul Durand"}, // registered by MANDATES
	))
	e.run("process")
	checkRes(t, e.res("p3.csv"), map[string]string{"PAY-H": "REFUSED MD01", "PAY-I": "ACCEPTED"})

	// Every batch was processed once, with its counts.
	list, err := e.svc.Batches(acme)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]int{"p1.csv": {6, 0}, "p2.csv": {2, 6}, "m1.csv": {3, 3}, "m2.csv": {0, 2}, "p3.csv": {1, 1}}
	for _, b := range list {
		w := want[b.Name]
		if b.Status != StatusProcessed || b.Accepted != w[0] || b.Refused != w[1] {
			t.Errorf("%s: %s accepted %d refused %d, want PROCESSED %v", b.Name, b.Status, b.Accepted, b.Refused, w)
		}
	}
	if list[0].Name != "p3.csv" {
		t.Errorf("Batches not newest first: %s", list[0].Name)
	}
	// Running the job again changes nothing.
	before := e.res("p1.csv")
	e.run("process")
	if after := e.res("p1.csv"); strings.Join(after["PAY-A"], ";") != strings.Join(before["PAY-A"], ";") {
		t.Errorf(".res rewritten")
	}
}
