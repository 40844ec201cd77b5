package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fileapi/batch"
	"fileapi/keys"
	"fileapi/sftpd"

	"go.etcd.io/bbolt"
	"golang.org/x/crypto/ssh"
)

// testServer is fileapi's SFTP server and batch intake in-process, with
// merchants bench00.. registered: what sftpbench drives, minus the binary.
type testServer struct {
	addr, data string
	merchants  []Merchant
}

func startServer(t *testing.T, nMerchants int) *testServer {
	t.Helper()
	data := t.TempDir()
	db, err := bbolt.Open(filepath.Join(data, "fileapi.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	reg, err := keys.Open(db, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{data: data}
	for i := range nMerchants {
		id := "bench0" + string(rune('0'+i))
		s, err := NewKey(filepath.Join(data, id+"_key"))
		if err != nil {
			t.Fatal(err)
		}
		m := Merchant{ID: id, CreditorRef: "BENCH-" + id, Signer: s}
		if _, err := reg.AddMerchant(keys.Merchant{ID: id, Name: "BENCH SAS", CreditorRef: m.CreditorRef}); err != nil {
			t.Fatal(err)
		}
		if _, err := reg.AddKey(id, ssh.MarshalAuthorizedKey(s.PublicKey()), time.Time{}); err != nil {
			t.Fatal(err)
		}
		for _, d := range []string{"in", "out"} {
			if err := os.MkdirAll(filepath.Join(sftpd.MerchantDir(data, id), d), 0o750); err != nil {
				t.Fatal(err)
			}
		}
		ts.merchants = append(ts.merchants, m)
	}
	svc, err := batch.Open(batch.Config{DataDir: data, DB: db, Keys: reg, ProcessSchedule: "@every 1h", ReportsSchedule: "@every 1h"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	hk, err := sftpd.LoadOrCreateHostKeys(data)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sftpd.New(sftpd.Config{DataDir: data, HostKeys: hk, Keys: reg, Pickup: svc, MaxFileSize: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	ts.addr = ln.Addr().String()
	return ts
}

// TestBuildingBlocks runs each measurement of sftpbench for a moment
// against the in-process server, so that `make test` proves the benchmark
// still works: transfers move every byte, connections succeed, and every
// PAYMENTS file of the session storm is acknowledged.
func TestBuildingBlocks(t *testing.T) {
	ts := startServer(t, 2)
	m := ts.merchants[0]
	target := Target{Addr: ts.addr, User: m.ID, Signer: m.Signer}
	ctx := context.Background()
	local := t.TempDir()
	const size = 2 << 20
	content := make([]byte, size)
	rand.Read(content)
	var jobs []Job
	for i, part := range [][]byte{content[:size/2], content[size/2:]} {
		name := "part" + string(rune('0'+i)) + ".bin"
		p := filepath.Join(local, name)
		if err := os.WriteFile(p, part, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sftpd.MerchantDir(ts.data, m.ID), "out", name), part, 0o600); err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, Job{Local: p, Remote: "/in/up" + string(rune('0'+i)) + ".bin"})
	}

	for _, cipher := range []string{"aes128-gcm@openssh.com", "chacha20-poly1305@openssh.com"} {
		t.Run("upload "+cipher, func(t *testing.T) {
			r, err := Upload(ctx, target, cipher, jobs, false)
			if err != nil {
				t.Fatal(err)
			}
			if r.Bytes != size || r.MBps() <= 0 {
				t.Fatalf("moved %d bytes at %.1f MB/s, want %d", r.Bytes, r.MBps(), size)
			}
			got, _ := os.ReadFile(filepath.Join(sftpd.MerchantDir(ts.data, m.ID), "in", "up1.bin"))
			if !bytes.Equal(got, content[size/2:]) {
				t.Fatal("the uploaded file differs from the source")
			}
		})
	}
	t.Run("download", func(t *testing.T) {
		dl := []Job{{Remote: "/out/part0.bin"}, {Remote: "/out/part1.bin"}}
		r, err := Download(ctx, target, "aes128-gcm@openssh.com", dl)
		if err != nil {
			t.Fatal(err)
		}
		if r.Bytes != size {
			t.Fatalf("downloaded %d bytes, want %d", r.Bytes, size)
		}
	})
	t.Run("OpenSSH sftp client", func(t *testing.T) {
		bin, err := exec.LookPath("sftp")
		if err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal("sftp not found: install openssh-client")
			}
			t.Skip("sftp not found: apt-get install openssh-client to run this part")
		}
		cli := CLI{Bin: bin, Addr: ts.addr, User: m.ID, KeyFile: filepath.Join(ts.data, m.ID+"_key")}
		r, err := cli.Parallel(ctx, "chacha20-poly1305@openssh.com", []string{
			"put " + jobs[0].Local + " /in/cli0.bin\n",
			"get /out/part1.bin /dev/null\n",
		}, size)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(filepath.Join(sftpd.MerchantDir(ts.data, m.ID), "in", "cli0.bin"))
		if !bytes.Equal(got, content[:size/2]) || r.Elapsed <= 0 {
			t.Fatal("the sftp client's upload differs from the source")
		}
		if err := cli.Run(ctx, "aes128-gcm@openssh.com", "get /out/missing.bin /dev/null\n"); err == nil {
			t.Fatal("a failed batch command was not reported")
		}
	})
	t.Run("connections", func(t *testing.T) {
		ok, failed, err := ConnRate(ctx, target, "aes128-gcm@openssh.com", time.Second, 2)
		if failed > 0 || ok == 0 {
			t.Fatalf("%d connections, %d failed: %v", ok, failed, err)
		}
	})
	t.Run("acks", func(t *testing.T) {
		// 2 merchants × 10 sessions: exactly the default per-merchant limit.
		res := AckStorm(ctx, ts.addr, ts.data, "aes128-gcm@openssh.com", ts.merchants, 20, 50, "PAY", 30*time.Second)
		if res.Errors != 0 || res.Acked != 20 || len(res.Latencies) != 20 {
			t.Fatalf("%d acknowledged, %d errors (%v)", res.Acked, res.Errors, res.FirstErr)
		}
		if res.Total <= 0 || Percentile(nil, 99) != 0 {
			t.Fatalf("total %v", res.Total)
		}
		// A file that the intake rejects counts as an error.
		bad := []Merchant{{ID: m.ID, CreditorRef: "NOT-MINE", Signer: m.Signer}}
		res = AckStorm(ctx, ts.addr, ts.data, "aes128-gcm@openssh.com", bad, 1, 5, "BAD", 30*time.Second)
		if res.Errors != 1 || res.FirstErr == nil || !strings.Contains(res.FirstErr.Error(), ".err") {
			t.Fatalf("rejected file: %d errors (%v), want 1 with the .err", res.Errors, res.FirstErr)
		}
	})
	// Last: failed logins get the loopback address banned.
	t.Run("refused connections", func(t *testing.T) {
		bad := Target{Addr: ts.addr, User: ts.merchants[1].ID, Signer: m.Signer} // m's key, other merchant
		if _, failed, _ := ConnRate(ctx, bad, "aes128-gcm@openssh.com", 200*time.Millisecond, 1); failed == 0 {
			t.Fatal("a refused login was not counted as a failure")
		}
	})
}

func TestMedianPercentile(t *testing.T) {
	for _, c := range []struct {
		xs        []float64
		med, p99  float64
		p50ranked float64
	}{
		{[]float64{3, 1, 2}, 2, 3, 2},
		{[]float64{4, 1, 3, 2}, 2.5, 4, 2},
		{nil, 0, 0, 0},
	} {
		if m := Median(c.xs); m != c.med {
			t.Errorf("Median(%v) = %v, want %v", c.xs, m, c.med)
		}
		if p := Percentile(c.xs, 99); p != c.p99 {
			t.Errorf("Percentile(%v, 99) = %v, want %v", c.xs, p, c.p99)
		}
		if p := Percentile(c.xs, 50); p != c.p50ranked {
			t.Errorf("Percentile(%v, 50) = %v, want %v", c.xs, p, c.p50ranked)
		}
	}
}
