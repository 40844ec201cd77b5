package batch

import (
	"fmt"
	"strings"
	"testing"

	"go.etcd.io/bbolt"

	"fileapi/formats"
)

// entriesString renders a day's entries compactly: "SDD+100.00 v2026-12-24".
func entriesString(es []Entry) string {
	var parts []string
	for _, x := range es {
		sign := "-"
		if x.Credit {
			sign = "+"
		}
		s := fmt.Sprintf("%s%s%s v%s %s", x.OpCode, sign, formats.FormatAmount(x.Amount), x.ValueDate.Format("2006-01-02"), x.Reference)
		if x.ReasonCode != "" {
			s += " " + x.ReasonCode
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func issuesString(is []IssueEvent) string {
	var parts []string
	for _, x := range is {
		parts = append(parts, fmt.Sprintf("%s %s %s %s", x.Kind, x.PaymentRef, x.ReasonCode, formats.FormatAmount(x.Amount)))
	}
	return strings.Join(parts, ", ")
}

func TestSettlementChristmasWithTriggersFeesAndRefunds(t *testing.T) {
	e := newEnv(t, "2026-12-22 10:00") // Tuesday
	e.close()
	e.fees = map[string]int64{"SDD": 10, "FEE-RET": 50}
	e.open()
	e.startSvc()

	e.mustAck("xmas.csv", payments(
		pay{ref: "N1", amount: "100.00"},
		pay{ref: "REJ", amount: "20.00", name: "ISSUE-SEPA-REJ-AC04 Paul", exec: "2026-12-24"},
		pay{ref: "RET", amount: "30.00", name: "ISSUE-SEPA-RET-AM04 Luc", exec: "2026-12-24"},
		pay{ref: "REF", amount: "40.00", name: "ISSUE-SEPA-REF-MD06 Marc", exec: "2026-12-24"},
		pay{ref: "N2", amount: "60.00", exec: "2026-12-25"},
		pay{ref: "ZZ", amount: "5.00", name: "ISSUE-SEPA-REJ-ZZ99 Not a code", exec: "2026-12-24"},
		pay{ref: "LATER", amount: "1.00", exec: "2027-02-01"},
	))
	e.run("process")
	if got := e.balance(); got != 0 {
		t.Fatalf("balance before any collection = %d", got)
	}
	// Jump to New Year's Eve: everything due catches up day by day.
	e.setClock("2026-12-31 10:00")

	days := []struct{ day, entries, issues string }{
		{"2026-12-22", "", ""},
		{"2026-12-23", "SDD+100.00 v2026-12-24 N1, FEE-SDD-0.10 v2026-12-24 N1", ""},
		{"2026-12-24", "SDD+30.00 v2026-12-28 RET, FEE-SDD-0.10 v2026-12-28 RET, SDD+40.00 v2026-12-28 REF, FEE-SDD-0.10 v2026-12-28 REF, SDD+5.00 v2026-12-28 ZZ, FEE-SDD-0.10 v2026-12-28 ZZ",
			"REJECT REJ AC04 20.00"},
		{"2026-12-25", "", ""},
		{"2026-12-26", "", ""},
		{"2026-12-28", "SDD+60.00 v2026-12-29 N2, FEE-SDD-0.10 v2026-12-29 N2", ""},
		{"2026-12-29", "RET-30.00 v2026-12-29 RET AM04, FEE-RET-0.50 v2026-12-29 RET", "RETURN RET AM04 30.00"},
		{"2026-12-30", "RET-40.00 v2026-12-30 REF MD06, FEE-RET-0.50 v2026-12-30 REF", "REFUND_REQUEST REF MD06 40.00"},
		{"2026-12-31", "", ""},
	}
	for _, d := range days {
		if got := entriesString(e.ledger(d.day)); got != d.entries {
			t.Errorf("%s entries:\n got %s\nwant %s", d.day, got, d.entries)
		}
		if got := issuesString(e.issues(d.day)); got != d.issues {
			t.Errorf("%s issues:\n got %s\nwant %s", d.day, got, d.issues)
		}
	}
	// 100 + 30 + 40 + 5 + 60 - 30 - 40 - 5 x 0.10 - 2 x 0.50
	if got := e.balance(); got != 163_50 {
		t.Fatalf("balance = %s, want 163.50", formats.FormatAmount(got))
	}
	// A RET entry carries its own id and the original's.
	ret := e.ledger("2026-12-29")[0]
	if ret.TransactionID == "" || ret.InitialTransactionID == "" || ret.TransactionID == ret.InitialTransactionID || ret.Label != "AM04 insufficient funds" {
		t.Errorf("RET entry = %+v", ret)
	}
	iss := e.issues("2026-12-24")[0]
	if !iss.CollectionDate.Equal(day("2026-12-24")) || !iss.IssueDate.Equal(day("2026-12-24")) || iss.DebtorIBAN == "" || iss.ReasonLabel == "" {
		t.Errorf("issue = %+v", iss)
	}

	// Refunds on 31 December.
	e.mustAck("ref1.csv", refunds(
		refund{"R1", "N1", "100.00"},
		refund{"R2", "N2", "60.00"},
		refund{"R3", "ZZ", "5.00"},    // balance 3.50 left
		refund{"R4", "N1", "0.01"},    // N1 fully refunded
		refund{"R5", "REJ", "1.00"},   // rejected
		refund{"R6", "RET", "1.00"},   // returned
		refund{"R7", "REF", "1.00"},   // refunded on request
		refund{"R8", "NOPE", "1.00"},  // unknown
		refund{"R9", "LATER", "1.00"}, // not collected yet
	))
	e.run("process")
	checkRes(t, e.res("ref1.csv"), map[string]string{"R1": "ACCEPTED", "R2": "ACCEPTED", "R3": "REFUSED AM04",
		"R4": "REFUSED REFUND_EXCEEDS_ORIGINAL", "R5": "REFUSED ORIGINAL_NOT_EXECUTED", "R6": "REFUSED ORIGINAL_RETURNED",
		"R7": "REFUSED ORIGINAL_RETURNED", "R8": "REFUSED ORIGINAL_NOT_FOUND", "R9": "REFUSED ORIGINAL_NOT_EXECUTED"})
	if got := e.res("ref1.csv")["R1"][7]; got != "2026-12-31" {
		t.Errorf("refund executed %s, want 2026-12-31", got)
	}
	if got := entriesString(e.ledger("2026-12-31")); got != "REB-100.00 v2026-12-31 R1, REB-60.00 v2026-12-31 R2" {
		t.Errorf("31 Dec entries: %s", got)
	}
	if got := e.balance(); got != 3_50 {
		t.Fatalf("balance after refunds = %s, want 3.50", formats.FormatAmount(got))
	}
	e.mustAck("ref2.csv", refunds(refund{"R1", "ZZ", "1.00"}))
	e.run("process")
	checkRes(t, e.res("ref2.csv"), map[string]string{"R1": "REFUSED AM05"})

	// LATER was collected on 1 Feb 2027.
	e.setClock("2027-02-02 10:00")
	if got := entriesString(e.ledger("2027-02-01")); got != "SDD+1.00 v2027-02-02 LATER, FEE-SDD-0.10 v2027-02-02 LATER" {
		t.Errorf("1 Feb 2027: %s", got)
	}
	// Fourteen months after its collection a debit can no longer be
	// refunded. Processing the batch as of a day 14 months on, rather than
	// moving the clock, keeps the test from producing a year of reports.
	id := e.mustAck("ref3.csv", refunds(refund{"R10", "ZZ", "1.00"}, refund{"R11", "LATER", "1.00"}))
	var rec *batchRec
	if err := e.db.View(func(tx *bbolt.Tx) (err error) { rec, err = getBatch(tx, id); return err }); err != nil {
		t.Fatal(err)
	}
	e.svc.jobMu.Lock()
	err := e.svc.processBatch(t.Context(), rec, day("2028-02-24"))
	e.svc.jobMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	checkRes(t, e.res("ref3.csv"), map[string]string{"R10": "REFUSED ORIGINAL_TOO_OLD", "R11": "ACCEPTED"})
	if got := entriesString(e.ledger("2028-02-24")); got != "REB-1.00 v2028-02-24 R11" {
		t.Errorf("24 Feb 2028: %s", got)
	}
	if got := e.balance(); got != 3_40 {
		t.Fatalf("final balance = %s, want 3.40", formats.FormatAmount(got))
	}
}

func TestSettlementEaster(t *testing.T) {
	e := newEnv(t, "2026-04-02 10:00") // Maundy Thursday
	e.mustAck("thu.csv", payments(
		pay{ref: "T1", amount: "10.00"},
		pay{ref: "T2", amount: "20.00", name: "ISSUE-SEPA-RET-MS02 Anne"},
	))
	e.run("process")
	res := e.res("thu.csv")
	if res["T1"][7] != "2026-04-07" || res["T2"][7] != "2026-04-07" {
		t.Fatalf("collection dates %s %s, want 2026-04-07", res["T1"][7], res["T2"][7])
	}
	// Uploaded on Good Friday (closed): presentment on Tuesday, collection Wednesday.
	e.setClock("2026-04-03 09:00")
	e.mustAck("fri.csv", payments(pay{ref: "F1", amount: "5.00"}))
	e.run("process")
	if got := e.res("fri.csv")["F1"][7]; got != "2026-04-08" {
		t.Fatalf("Good Friday upload collected %s, want 2026-04-08", got)
	}
	e.setClock("2026-04-06 12:00") // Easter Monday: nothing happens
	if got := e.balance(); got != 0 {
		t.Fatalf("balance on Easter Monday = %d", got)
	}
	e.setClock("2026-04-10 12:00")
	want := map[string]string{
		"2026-04-07": "SDD+10.00 v2026-04-08 T1, SDD+20.00 v2026-04-08 T2",
		"2026-04-08": "SDD+5.00 v2026-04-09 F1",
		"2026-04-09": "RET-20.00 v2026-04-09 T2 MS02",
	}
	for d, w := range want {
		if got := entriesString(e.ledger(d)); got != w {
			t.Errorf("%s: %s, want %s", d, got, w)
		}
	}
	if got := e.balance(); got != 15_00 {
		t.Fatalf("balance = %s, want 15.00", formats.FormatAmount(got))
	}
}

func TestTriggers(t *testing.T) {
	tests := map[string]string{
		"ISSUE-SEPA-REJ-AM04":      "REJ-AM04",
		"ISSUE-SEPA-REJ-AC04 Jean": "REJ-AC04",
		"ISSUE-SEPA-RET-MD07-x":    "RET-MD07",
		"ISSUE-SEPA-REF-MD06 Marc": "REF-MD06",
		"ISSUE-SEPA-REF-AM04":      "", // refund requests are MD06 only
		"ISSUE-SEPA-RET-MD06":      "", // MD06 is not a return reason
		"ISSUE-SEPA-REJ-ZZ99":      "",
		"ISSUE-SEPA-REJ-AM045":     "",
		"issue-sepa-rej-AM04":      "",
		"Jean ISSUE-SEPA-REJ-AM04": "",
		"ISSUE-SEPA-XXX-AM04":      "",
		"ISSUE-SEPA-REJ":           "",
		"ISSUE-SEPA-REJ_AM04":      "",
		"Jeanne Martin":            "",
	}
	for name, want := range tests {
		if got := parseTrigger(name); got != want {
			t.Errorf("parseTrigger(%q) = %q, want %q", name, got, want)
		}
	}
}

// A return after a partial refund by the merchant takes back only what the
// debtor has not already received; a debit refunded in full has no return.
func TestReturnAfterMerchantRefundIsNetted(t *testing.T) {
	e := newEnv(t, "2026-12-01 10:00") // Tuesday
	e.mustAck("p.csv", payments(
		pay{ref: "X", amount: "30.00", name: "ISSUE-SEPA-RET-AM04 Luc"},  // collected 2 Dec, returned 4 Dec
		pay{ref: "Z", amount: "50.00", name: "ISSUE-SEPA-REF-MD06 Marc"}, // collected 2 Dec, refund request 7 Dec
		pay{ref: "Y", amount: "100.00"},
	))
	e.run("process")
	e.setClock("2026-12-03 10:00")
	e.mustAck("r.csv", refunds(refund{"RX", "X", "10.00"}, refund{"RZ", "Z", "50.00"}))
	e.run("process")
	if got := e.balance(); got != 120_00 {
		t.Fatalf("balance after refunds = %s", formats.FormatAmount(got))
	}
	e.setClock("2026-12-08 10:00")
	if got := entriesString(e.ledger("2026-12-04")); got != "RET-20.00 v2026-12-04 X AM04" {
		t.Errorf("4 Dec: %s", got)
	}
	if got := issuesString(e.issues("2026-12-04")); got != "RETURN X AM04 20.00" {
		t.Errorf("4 Dec issues: %s", got)
	}
	if got := entriesString(e.ledger("2026-12-07")) + issuesString(e.issues("2026-12-07")); got != "" {
		t.Errorf("7 Dec: %s", got)
	}
	if got := e.balance(); got != 100_00 {
		t.Fatalf("balance = %s, want 100.00", formats.FormatAmount(got))
	}
}
