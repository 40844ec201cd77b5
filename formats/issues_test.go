package formats

import (
	"bytes"
	"errors"
	"testing"
)

func writeIssues(t *testing.T, h IssuesHeader, ls []IssueLine) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewIssuesWriter(&buf, h)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		if err := w.Write(l); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func issueLines() []IssueLine {
	return []IssueLine{
		{ID: "01KB0000000000000000000001", Kind: "REJECT", PaymentRef: "PAY-0003", TransactionID: "01KA0000000000000000000010",
			MandateRef: "UMR-0003", ClientRef: "C-3", DebtorName: "ISSUE-SEPA-REJ-AC04 Jean", DebtorIBAN: "FR7630006000011234567890189",
			Amount: 1250, CollectionDate: day("2026-12-02"), IssueDate: day("2026-12-02"), ReasonCode: "AC04", ReasonLabel: "closed account"},
		{ID: "01KB0000000000000000000002", Kind: "RETURN", PaymentRef: "PAY-0002", TransactionID: "01KA0000000000000000000011",
			MandateRef: "UMR-0002", DebtorName: "Durand; Paul \"PD\"", DebtorIBAN: "DE89370400440532013000",
			Amount: 5000, CollectionDate: day("2026-11-30"), IssueDate: day("2026-12-02"), ReasonCode: "AM04", ReasonLabel: "insufficient funds"},
		{ID: "01KB0000000000000000000003", Kind: "REFUND_REQUEST", PaymentRef: "PAY-0001", TransactionID: "01KA0000000000000000000012",
			MandateRef: "UMR-0001", ClientRef: "C-42", DebtorName: "Jeanne Martin", DebtorIBAN: "FR7630006000011234567890189",
			Amount: 3999, CollectionDate: day("2026-11-27"), IssueDate: day("2026-12-02"), ReasonCode: "MD06", ReasonLabel: "refund\nrequested"},
	}
}

func TestIssuesGolden(t *testing.T) {
	ls := issueLines()
	var total int64
	for _, l := range ls {
		total += l.Amount
	}
	for _, tc := range []struct {
		name string
		h    IssuesHeader
		ls   []IssueLine
	}{
		{"issues_empty.csv", IssuesHeader{CreditorRef: "acme-creditor", CompanyName: "ACME SAS", Date: day("2026-11-30")}, nil},
		{"issues_three.csv", IssuesHeader{CreditorRef: "acme-creditor", CompanyName: "ACME; SAS", Date: day("2026-12-02"), Count: 3, Total: total}, ls},
	} {
		t.Run(tc.name, func(t *testing.T) { golden(t, tc.name, writeIssues(t, tc.h, tc.ls)) })
	}
}

func TestIssuesEmptyDay(t *testing.T) {
	got := writeIssues(t, IssuesHeader{CreditorRef: "acme-creditor", CompanyName: "ACME SAS", Date: day("2026-11-30")}, nil)
	want := "0;acme-creditor;ISS-20261130-acme-creditor;ACME SAS;;;;2026-11-30;0;\n9;0;0.00;\n"
	if string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestIssuesLineLayout(t *testing.T) {
	ls := issueLines()
	got := string(writeIssues(t, IssuesHeader{CreditorRef: "r", CompanyName: "n", Date: day("2026-12-02"), Count: 1, Total: 5000}, ls[1:2]))
	want := "0;r;ISS-20261202-r;n;;;;2026-12-02;1;\n" +
		"1;01KB0000000000000000000002;RETURN;PAY-0002;01KA0000000000000000000011;UMR-0002;;\"Durand; Paul \"\"PD\"\"\";DE89370400440532013000;50.00;EUR;2026-11-30;2026-12-02;AM04;insufficient funds;\n" +
		"9;1;50.00;\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestIssuesWriterChecksTotals(t *testing.T) {
	ls := issueLines()
	for _, h := range []IssuesHeader{{Count: 2, Total: 1250 + 5000}, {Count: 3, Total: 1}} {
		w, err := NewIssuesWriter(&bytes.Buffer{}, h)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			if err := w.Write(l); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); !errors.Is(err, ErrStatementTotals) {
			t.Errorf("header %+v: Close = %v, want ErrStatementTotals", h, err)
		}
	}
}
