package formats

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

func writeCamt(t *testing.T, h StatementHeader, ms []Movement) []byte {
	t.Helper()
	return writeStatement(t, NewCamt053Writer, h, ms)
}

func TestCamt053GoldenAndSchema(t *testing.T) {
	he, me := exampleMovements()
	hm, mm := mixedMovements()
	empty := StatementHeader{CreditorRef: "acme-creditor", CompanyName: "ACME SAS", Date: day("2026-11-02"),
		PreviousDate: day("2026-11-01"), CreatedAt: time.Date(2026, 11, 3, 0, 30, 0, 0, time.UTC), SeqNb: 1}
	for _, tc := range []struct {
		name string
		h    StatementHeader
		ms   []Movement
	}{
		{"statement_example.xml", he, me},
		{"statement_empty_first.xml", empty, nil},
		{"statement_mixed.xml", hm, mm},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := writeCamt(t, tc.h, tc.ms)
			golden(t, tc.name, got)
			xmllintValidate(t, got)
		})
	}
}

// camtDoc is the part of a camt.053 a reconciliation reads back.
type camtDoc struct {
	Stmt struct {
		Acct struct {
			ID string `xml:"Id>Othr>Id"`
			Nm string `xml:"Nm"`
		} `xml:"Acct"`
		Bal []struct {
			Tp  string `xml:"Tp>CdOrPrtry>Cd"`
			Amt string `xml:"Amt"`
			Ind string `xml:"CdtDbtInd"`
		} `xml:"Bal"`
		Ntry []struct {
			Amt    string `xml:"Amt"`
			Ind    string `xml:"CdtDbtInd"`
			Rvsl   bool   `xml:"RvslInd"`
			Op     string `xml:"BkTxCd>Prtry>Cd"`
			E2E    string `xml:"NtryDtls>TxDtls>Refs>EndToEndId"`
			Rsn    string `xml:"NtryDtls>TxDtls>RtrInf>Rsn>Cd"`
			Dbtr   string `xml:"NtryDtls>TxDtls>RltdPties>Dbtr>Pty>Nm"`
			Ustrd  string `xml:"NtryDtls>TxDtls>RmtInf>Ustrd"`
			Status string `xml:"Sts>Cd"`
		} `xml:"Ntry"`
	} `xml:"BkToCstmrStmt>Stmt"`
}

func TestCamt053ReadsBackAsTheCSV(t *testing.T) {
	hm, mm := mixedMovements()
	var doc camtDoc
	if err := xml.Unmarshal(writeCamt(t, hm, mm), &doc); err != nil {
		t.Fatal(err)
	}
	s := doc.Stmt
	if s.Acct.Nm != hm.CreditorRef || s.Acct.ID != hm.CreditorRef[:34] {
		t.Errorf("account %q/%q, want the creditor reference", s.Acct.ID, s.Acct.Nm)
	}
	if len(s.Bal) != 2 || s.Bal[0].Tp != "OPBD" || s.Bal[0].Amt != "500.00" || s.Bal[0].Ind != "CRDT" ||
		s.Bal[1].Tp != "CLBD" || s.Bal[1].Amt != "517.83" || s.Bal[1].Ind != "DBIT" {
		t.Errorf("balances %+v", s.Bal)
	}
	if len(s.Ntry) != len(mm) {
		t.Fatalf("%d entries, want %d", len(s.Ntry), len(mm))
	}
	for i, n := range s.Ntry {
		m := mm[i]
		want := string(appendAmount(nil, m.Amount))
		if n.Amt != want || n.Ind != camtCdtDbt(m.Credit) || n.Op != m.OpCode || n.E2E != m.Reference || n.Status != "BOOK" {
			t.Errorf("entry %d = %+v, movement %+v", i, n, m)
		}
		if n.Rvsl != (m.OpCode == "RET") {
			t.Errorf("entry %d RvslInd %v", i, n.Rvsl)
		}
	}
	if s.Ntry[0].Dbtr != mm[0].DebtorName || s.Ntry[0].Ustrd != "line break tab" {
		t.Errorf("text not carried over: %+v", s.Ntry[0])
	}
	if s.Ntry[2].Rsn != "MD06" {
		t.Errorf("return reason %q, want MD06", s.Ntry[2].Rsn)
	}
}

func TestCamt053NeedsCreationTime(t *testing.T) {
	h, _ := exampleMovements()
	h.CreatedAt = time.Time{}
	if _, err := NewCamt053Writer(&bytes.Buffer{}, h); err == nil {
		t.Error("a camt.053 without creation time was accepted")
	}
}

func TestCamtTextEscapingAndLimits(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"a&b<c>d", 0, "a&amp;b&lt;c&gt;d"},
		{"tab\there\x00nul", 0, "tab here nul"},
		{"bad\xffutf8", 0, "bad\uFFFDutf8"},
		{"\uFFFEx", 0, "\uFFFDx"},
		{"éééé", 3, "ééé"},
		{strings.Repeat("&", 5), 2, "&amp;&amp;"},
	} {
		if got := string(repAppendXML(nil, tc.in, tc.max)); got != tc.want {
			t.Errorf("repAppendXML(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

// TestXmllintCatchesSchemaErrors makes sure the schema check would notice a
// broken statement: the .02 form of the entry status is invalid in .08.
func TestXmllintCatchesSchemaErrors(t *testing.T) {
	h, ms := exampleMovements()
	good := writeCamt(t, h, ms)
	bad := bytes.Replace(good, []byte("<Sts>\n          <Cd>BOOK</Cd>\n        </Sts>"), []byte("<Sts>BOOK</Sts>"), 1)
	if bytes.Equal(good, bad) {
		t.Fatal("mutation did not apply")
	}
	if out, err := xmllint(t, bad); err == nil {
		t.Errorf("xmllint accepted an invalid statement:\n%s", out)
	}
}

// FuzzStatementText feeds arbitrary text into every free-text field: the
// camt.053 must stay well-formed XML and carry the text back (cleaned), the
// CSV must keep one movement per line with balanced quotes.
func FuzzStatementText(f *testing.F) {
	f.Add("Jeanne Martin", "November subscription", "C-42")
	f.Add(`Zoë "Zed" <O'Brien> & Sons; Ltd`, "line\nbreak", "a;b")
	f.Add("\x00\x1f\x7f\u0085", "\xff\xfe", "\uFFFE\uFFFF")
	f.Add("]]>", "&amp;", `"`)
	f.Fuzz(func(t *testing.T, name, label, ref string) {
		h, ms := exampleMovements()
		for i := range ms {
			ms[i].DebtorName, ms[i].Label, ms[i].ClientRef, ms[i].Reference = name, label, ref, ref
		}
		h.CompanyName = name
		csv := string(writeStatementCSV(t, h, ms))
		lines := strings.Split(strings.TrimSuffix(csv, "\n"), "\n")
		if len(lines) != 6+len(ms) {
			t.Fatalf("%d CSV lines, want %d:\n%s", len(lines), 6+len(ms), csv)
		}
		for _, l := range lines {
			if strings.Count(l, `"`)%2 != 0 {
				t.Fatalf("unbalanced quotes in %q", l)
			}
		}
		var doc camtDoc
		if err := xml.Unmarshal(writeCamt(t, h, ms), &doc); err != nil {
			t.Fatalf("camt.053 is not well-formed: %v", err)
		}
		if len(doc.Stmt.Ntry) != len(ms) {
			t.Fatalf("%d entries", len(doc.Stmt.Ntry))
		}
		want := string(repAppendXML(nil, name, 140))
		want = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">").Replace(want)
		if got := doc.Stmt.Ntry[0].Dbtr; got != want {
			t.Errorf("debtor name %q read back as %q", want, got)
		}
	})
}
