package batch_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"go.etcd.io/bbolt"
	"golang.org/x/crypto/ssh"

	"fileapi/batch"
	"fileapi/keys"
	"fileapi/sftpd"
)

// TestEndToEndOverSFTP drives the whole lifecycle through a real SSH/SFTP
// server and client: upload, .ack, processing, .res, settlement, balance.
func TestEndToEndOverSFTP(t *testing.T) {
	dir := t.TempDir()
	db, err := bbolt.Open(filepath.Join(dir, "fileapi.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	paris, _ := time.LoadLocation("Europe/Paris")
	start := time.Date(2026, 11, 27, 10, 0, 0, 0, paris) // Friday
	t0 := time.Now()
	realNow := func() time.Time { return start.Add(time.Since(t0)) }
	reg, err := keys.Open(db, realNow)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.AddMerchant(keys.Merchant{ID: "acme", Name: "ACME SAS", CreditorRef: "acme-creditor"}); err != nil {
		t.Fatal(err)
	}
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	sshPub, _ := ssh.NewPublicKey(pub)
	if _, err := reg.AddKey("acme", ssh.MarshalAuthorizedKey(sshPub), time.Time{}); err != nil {
		t.Fatal(err)
	}
	clock, err := batch.OpenSandboxClock(db, realNow)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := batch.Open(batch.Config{DataDir: dir, DB: db, Keys: reg, Clock: clock, Location: paris, Sandbox: true,
		ProcessSchedule: "@every 1h", ReportsSchedule: "@every 1h"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer svc.Close()

	hostKeys, err := sftpd.LoadOrCreateHostKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sftpd.New(sftpd.Config{DataDir: dir, HostKeys: hostKeys, Keys: reg, Pickup: svc, Now: realNow})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()

	signer, _ := ssh.NewSignerFromKey(priv)
	conn, err := ssh.Dial("tcp", ln.Addr().String(), &ssh.ClientConfig{User: "acme", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c, err := sftp.NewClient(conn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	put := func(name, content string) {
		t.Helper()
		f, err := c.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatalf("close %s: %v", name, err)
		}
	}
	get := func(name string) string {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			f, err := c.Open(name)
			if err == nil {
				b, err := io.ReadAll(f)
				f.Close()
				if err != nil {
					t.Fatal(err)
				}
				return string(b)
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s did not appear: %v", name, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	header := "0;PAYMENTS;acme-creditor;ACME SAS;\n1;IN;2;89.99;EUR;\n" +
		"PAYMENT_REFERENCE;AMOUNT;MANDATE_REFERENCE;MANDATE_SIGNATURE_DATE;DEBTOR_NAME;DEBTOR_IBAN;LABEL;\n"
	put("in/payments-1127.csv", header+
		"PAY-0001;39.99;UMR-0001;2025-03-14;Jeanne Martin;FR7630006000011234567890189;November subscription;\n"+
		"PAY-0002;50.00;UMR-0002;2024-11-02;ISSUE-SEPA-REJ-AM04 Paul Durand;DE89370400440532013000;November subscription;\n")
	ack := get("out/payments-1127.ack")
	if !strings.Contains(ack, ";payments-1127.csv;PAYMENTS;") || !strings.Contains(ack, ";2;89.99;EUR;ACKNOWLEDGED;") {
		t.Fatalf(".ack = %q", ack)
	}
	// The picked-up file leaves in/ once answered.
	deadline := time.Now().Add(5 * time.Second)
	for {
		ents, err := c.ReadDir("in")
		if err != nil {
			t.Fatal(err)
		}
		if len(ents) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("in/ still holds %s", ents[0].Name())
		}
		time.Sleep(10 * time.Millisecond)
	}

	// A WinSCP-style upload: temporary name, then rename; it is rejected.
	put("in/bad.csv.filepart", "0;PAYMENTS;other-creditor;X;\n")
	if err := c.PosixRename("in/bad.csv.filepart", "in/bad.csv"); err != nil {
		t.Fatal(err)
	}
	if e := get("out/bad.err"); !strings.Contains(e, "CREDITOR_MISMATCH") && !strings.Contains(e, "TOTALS_LINE") {
		t.Fatalf("bad.err = %q", e)
	}

	if err := svc.RunJob(context.Background(), "process", time.Time{}); err != nil {
		t.Fatal(err)
	}
	res := get("out/payments-1127.res")
	if !strings.Contains(res, ";PAY-0001;ACCEPTED;;;") || !strings.Contains(res, ";39.99;2026-11-30;") {
		t.Fatalf(".res = %q", res)
	}
	// Monday: PAY-0001 is collected, PAY-0002 rejected.
	if err := clock.Set(time.Date(2026, 11, 30, 18, 0, 0, 0, paris)); err != nil {
		t.Fatal(err)
	}
	if err := svc.RunJob(context.Background(), "process", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if bal, _ := svc.Balance("acme"); bal != 3999 {
		t.Fatalf("balance = %d, want 3999", bal)
	}
	var issues []batch.IssueEvent
	_ = svc.IssuesDay("acme", time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), func(e batch.IssueEvent) error {
		issues = append(issues, e)
		return nil
	})
	if len(issues) != 1 || issues[0].Kind != batch.IssueReject || issues[0].ReasonCode != "AM04" {
		t.Fatalf("issues = %+v", issues)
	}
	// Nothing hidden is visible to the merchant.
	ents, _ := c.ReadDir("out")
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("out/ lists %s", e.Name())
		}
	}
}
