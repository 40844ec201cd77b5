package batch_test

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"go.etcd.io/bbolt"
	"golang.org/x/crypto/ssh"

	"fileapi/batch"
	"fileapi/keys"
)

var long = flag.Bool("long", false, "run the long tests (the real binary killed with SIGKILL while processing)")

// TestKill9WhileProcessing builds the real binary, uploads 100,000 debits
// over SFTP, SIGKILLs the server while it processes them, restarts it, and
// checks that the batch completes with every line applied exactly once:
// 100,000 transactions, a .res of 100,000 lines with distinct ids, and,
// after settlement, a balance equal to the file's total.
func TestKill9WhileProcessing(t *testing.T) {
	if !*long {
		t.Skip("long test: go test ./batch -run Kill9 -long")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "fileapi")
	build := exec.Command("go", "build", "-o", bin, "fileapi/cmd/fileapi")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	data := filepath.Join(tmp, "data")
	cli := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append(args, "--data", data)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("fileapi %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	cli("merchant", "add", "acme", "--name", "ACME SAS", "--creditor-ref", "acme-creditor")
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	sshPub, _ := ssh.NewPublicKey(pub)
	keyFile := filepath.Join(tmp, "acme.pub")
	os.WriteFile(keyFile, ssh.MarshalAuthorizedKey(sshPub), 0o600)
	cli("keys", "add", "acme", keyFile)

	type server struct {
		cmd  *exec.Cmd
		addr string
	}
	start := func(schedule string) *server {
		t.Helper()
		cmd := exec.Command(bin, "serve", "--data", data, "--sftp-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0",
			"--log-format", "json", "--process-schedule", schedule, "--reports-schedule", "@every 1h")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = cmd.Stdout
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		addr := make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(out)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				var m map[string]any
				if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == "fileapi started" {
					a, _ := m["sftp_addr"].(string)
					addr <- a
				}
			}
		}()
		select {
		case a := <-addr:
			return &server{cmd: cmd, addr: a}
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatal("server did not start")
		}
		return nil
	}

	const n = 100_000
	var content strings.Builder
	var total int64
	for i := 0; i < n; i++ {
		total += int64(100 + i%900)
	}
	fmt.Fprintf(&content, "0;PAYMENTS;acme-creditor;ACME SAS;\n1;IN;%d;%d.%02d;EUR;\n", n, total/100, total%100)
	content.WriteString("PAYMENT_REFERENCE;AMOUNT;MANDATE_REFERENCE;MANDATE_SIGNATURE_DATE;DEBTOR_NAME;DEBTOR_IBAN;\n")
	for i := 0; i < n; i++ {
		c := 100 + i%900
		fmt.Fprintf(&content, "K-%06d;%d.%02d;UMR-K-%06d;2025-01-15;Jeanne Martin;FR7630006000011234567890189;\n", i, c/100, c%100, i)
	}

	// Processing runs every second; the upload is acknowledged at once.
	srv := start("@every 1s")
	signer, _ := ssh.NewSignerFromKey(priv)
	conn, err := ssh.Dial("tcp", srv.addr, &ssh.ClientConfig{User: "acme", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c, err := sftp.NewClient(conn)
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.Create("in/big.csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte(content.String())); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	c.Close()
	conn.Close()

	out := filepath.Join(data, "merchants", "acme", "out")
	waitFile := func(name string, d time.Duration) {
		t.Helper()
		deadline := time.Now().Add(d)
		for {
			if _, err := os.Stat(filepath.Join(out, name)); err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("out/%s did not appear", name)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFile("big.ack", 30*time.Second)
	// Kill -9 once processing has committed some chunks but not all.
	deadline := time.Now().Add(60 * time.Second)
	for {
		s := cli("batches", "list")
		if strings.Contains(s, "PROCESSING") {
			break
		}
		if strings.Contains(s, "PROCESSED") {
			t.Fatal("the batch was processed before the kill: the test needs a slower machine or a bigger file")
		}
		if time.Now().After(deadline) {
			t.Fatalf("processing did not start:\n%s", s)
		}
		time.Sleep(5 * time.Millisecond)
	}
	srv.cmd.Process.Signal(syscall.SIGKILL)
	srv.cmd.Wait()
	if _, err := os.Stat(filepath.Join(out, "big.res")); err == nil {
		t.Fatal("big.res exists although processing was killed")
	}

	// Restart: processing resumes at the last committed chunk.
	srv = start("@every 1s")
	waitFile("big.res", 120*time.Second)
	srv.cmd.Process.Signal(syscall.SIGTERM)
	srv.cmd.Wait()

	res, err := os.ReadFile(filepath.Join(out, "big.res"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(res), "\n"), "\n")
	if len(lines) != n+1 {
		t.Fatalf(".res has %d lines, want %d", len(lines)-1, n)
	}
	ids := map[string]bool{}
	for _, l := range lines[1:] {
		f := strings.Split(l, ";")
		if f[2] != "ACCEPTED" || len(f[5]) != 26 || ids[f[5]] {
			t.Fatalf("bad or duplicate .res line %q", l)
		}
		ids[f[5]] = true
	}

	// Open the store as the server left it, settle, and count.
	db, err := bbolt.Open(filepath.Join(data, "fileapi.db"), 0o600, &bbolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reg, err := keys.Open(db, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := batch.Open(batch.Config{DataDir: data, DB: db, Keys: reg, Sandbox: true})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	list, _ := svc.Batches("acme")
	if len(list) != 1 || list[0].Status != batch.StatusProcessed || list[0].Accepted != n || list[0].AcceptedTotal != total {
		t.Fatalf("batches = %+v", list)
	}
	if err := svc.SandboxClock().Advance(7 * 24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := svc.RunJob(context.Background(), "process", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if bal, _ := svc.Balance("acme"); bal != total {
		t.Fatalf("balance = %d, want %d", bal, total)
	}
}
