package sftpd

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// These tests drive the OpenSSH clients merchants actually use. They are
// skipped, saying so, where OpenSSH is not installed.

func needOpenSSH(t *testing.T) {
	t.Helper()
	for _, bin := range []string{"ssh", "sftp", "ssh-keygen"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("OpenSSH %s not installed: this test needs the real client", bin)
		}
	}
}

func (ts *testServer) sshArgs(keyFile string, extra ...string) []string {
	args := []string{
		"-F", "/dev/null",
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
		"-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "LogLevel=ERROR",
		"-o", "ConnectTimeout=5",
		"-i", keyFile,
	}
	return append(args, extra...)
}

// runSFTP runs `sftp -b` with the given batch commands as m.
func (ts *testServer) runSFTP(m merchant, batch string, extra ...string) (string, error) {
	ts.t.Helper()
	bf := filepath.Join(ts.t.TempDir(), "batch")
	if err := os.WriteFile(bf, []byte(batch), 0o600); err != nil {
		ts.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := append(ts.sshArgs(m.keyFile, extra...), "-b", bf, "-P", ts.port, m.id+"@127.0.0.1")
	out, err := exec.CommandContext(ctx, "sftp", args...).CombinedOutput()
	return string(out), err
}

func (ts *testServer) runSSH(m merchant, extra ...string) (string, error) {
	ts.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	args := append(ts.sshArgs(m.keyFile, "-p", ts.port), extra...)
	out, err := exec.CommandContext(ctx, "ssh", args...).CombinedOutput()
	if ctx.Err() != nil {
		ts.t.Fatalf("ssh %v hung (request accepted?): %s", extra, out)
	}
	return string(out), err
}

func TestOpenSSHSFTPBatch(t *testing.T) {
	needOpenSSH(t)
	ts := newTestServer(t)
	// As batch does: the file leaves in/ right after the pick-up.
	ts.pickup.onPickup = func(merchant, name string) error {
		return os.Remove(ts.disk(merchant, "in/"+name))
	}
	acme := ts.addMerchant("acme")
	local := t.TempDir()
	for name, content := range map[string]string{"pay.csv": "0;PAYMENTS\n", "pay2.csv": "two\n", "notes.txt": "n\n", "mandates.xml.part": "<x/>"} {
		if err := os.WriteFile(filepath.Join(local, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ts.sftp(acme) // creates the folders
	ts.writeOut("acme", "pay.ack", "ACK\n")
	batch := strings.Join([]string{
		"ls /",
		"cd in",
		"put " + local + "/pay.csv",
		"put -p " + local + "/pay2.csv", // setstat after the upload, file already gone
		"put " + local + "/notes.txt",
		"put " + local + "/mandates.xml.part",
		"rename mandates.xml.part mandates.xml",
		"ls -l",
		"cd ../out",
		"get pay.ack " + local + "/pay.ack",
		"rm pay.ack",
		"ls -l",
	}, "\n")
	out, err := ts.runSFTP(acme, batch)
	if err != nil {
		t.Fatalf("sftp -b failed: %v\n%s", err, out)
	}
	// scp (SFTP protocol since OpenSSH 9.0) needs the exit status.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	scpArgs := append(ts.sshArgs(acme.keyFile), "-P", ts.port, filepath.Join(local, "pay.csv"), "acme@127.0.0.1:in/scp.csv")
	if out, err := exec.CommandContext(ctx, "scp", scpArgs...).CombinedOutput(); err != nil {
		t.Fatalf("scp upload: %v\n%s", err, out)
	}
	want := []string{"acme/pay.csv", "acme/pay2.csv", "acme/mandates.xml", "acme/scp.csv"}
	if got := ts.pickup.list(); !slices.Equal(got, want) {
		t.Fatalf("pick-ups %v, want %v\n%s", got, want, out)
	}
	if got, _ := os.ReadFile(filepath.Join(local, "pay.ack")); string(got) != "ACK\n" {
		t.Fatalf("downloaded %q", got)
	}
	if _, err := os.Stat(ts.disk("acme", "in/notes.txt")); err != nil {
		t.Fatalf("notes.txt should wait in in/: %v", err)
	}
	if _, err := os.Stat(ts.disk("acme", "out/pay.ack")); !os.IsNotExist(err) {
		t.Fatal("out/pay.ack not removed")
	}
	if strings.Contains(out, ts.dataDir) {
		t.Fatalf("output reveals the data directory:\n%s", out)
	}
}

func TestOpenSSHRefusals(t *testing.T) {
	needOpenSSH(t)
	ts := newTestServer(t)
	acme := ts.addMerchant("acme")
	local := t.TempDir()
	os.WriteFile(filepath.Join(local, "x.csv"), []byte("x"), 0o600)
	ts.sftp(acme)
	if err := os.WriteFile(ts.disk("acme", "in/waiting.txt"), []byte("w"), 0o640); err != nil {
		t.Fatal(err)
	}
	ts.writeOut("acme", "r.ack", "r")
	for _, cmd := range []string{
		"get /in/waiting.txt " + local + "/w",
		"put " + local + "/x.csv /out/x.csv",
		"put " + local + "/x.csv /x.csv",
		"mkdir /in/sub",
		"rmdir /in",
		"symlink /out/r.ack /in/r.csv",
		"ln /out/r.ack /in/r.csv",
		"reput " + local + "/x.csv /in/waiting.txt",
		"get /../../etc/passwd " + local + "/p",
		"ls /etc",
		"rename /out/r.ack /in/r.csv",
	} {
		t.Run(strings.Fields(cmd)[0], func(t *testing.T) {
			out, err := ts.runSFTP(acme, cmd)
			if err == nil {
				t.Fatalf("%q succeeded:\n%s", cmd, out)
			}
			if strings.Contains(out, ts.dataDir) {
				t.Fatalf("output reveals the data directory:\n%s", out)
			}
		})
	}
	if got := ts.pickup.list(); len(got) != 0 {
		t.Fatalf("pick-ups = %v", got)
	}
	if got, _ := os.ReadFile(ts.disk("acme", "in/waiting.txt")); string(got) != "w" {
		t.Fatalf("waiting.txt = %q", got)
	}

	// No shell, exec or forwarding, whatever the client asks.
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"shell", []string{"-T", "acme@127.0.0.1"}},
		{"shell with pty", []string{"-tt", "acme@127.0.0.1"}},
		{"exec", []string{"acme@127.0.0.1", "id"}},
		{"stdio forwarding (-W)", []string{"-W", ts.addr, "acme@127.0.0.1"}},
		{"remote forwarding (-R)", []string{"-N", "-o", "ExitOnForwardFailure=yes", "-R", "0:127.0.0.1:9", "acme@127.0.0.1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := ts.runSSH(acme, tc.args...)
			if err == nil {
				t.Fatalf("ssh %v succeeded:\n%s", tc.args, out)
			}
			t.Logf("%s", out)
		})
	}

	t.Run("local forwarding (-L)", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		fwd := ln.Addr().String()
		ln.Close()
		args := append(ts.sshArgs(acme.keyFile, "-p", ts.port), "-N", "-L", fwd+":"+ts.addr, "acme@127.0.0.1")
		cmd := exec.Command("ssh", args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
		var conn net.Conn
		eventually(t, func() bool {
			conn, err = net.Dial("tcp", fwd)
			return err == nil
		})
		defer conn.Close()
		// Forwarded, this would reach our own server and read its banner.
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		b, _ := io.ReadAll(conn)
		if len(b) > 0 {
			t.Fatalf("local forwarding carried data: %q", b)
		}
	})
}

func TestOpenSSHKeyAlgorithms(t *testing.T) {
	needOpenSSH(t)
	ts := newTestServer(t)
	if _, err := ts.reg.AddMerchant(mustMerchant("acme")); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "id_rsa")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", keyFile).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	pub, _ := os.ReadFile(keyFile + ".pub")
	if _, err := ts.reg.AddKey("acme", pub, time.Time{}); err != nil {
		t.Fatal(err)
	}
	m := merchant{id: "acme", keyFile: keyFile}
	ts.sftp(ts.addKey("acme")) // folders
	if out, err := ts.runSFTP(m, "ls /", "-o", "PubkeyAcceptedAlgorithms=rsa-sha2-512,rsa-sha2-256"); err != nil {
		t.Fatalf("RSA with SHA-2 signatures refused: %v\n%s", err, out)
	}
	if out, err := ts.runSFTP(m, "ls /", "-o", "PubkeyAcceptedAlgorithms=ssh-rsa"); err == nil {
		t.Fatalf("RSA with SHA-1 (ssh-rsa) signatures accepted:\n%s", out)
	}
	// The server offers nothing weak: a client limited to CBC ciphers,
	// SHA-1 MACs or SHA-1 key exchanges cannot connect.
	for _, opts := range [][]string{
		{"-o", "Ciphers=aes128-cbc,aes256-cbc,3des-cbc"},
		// AEAD ciphers carry their own MAC: force one that uses the MAC.
		{"-o", "Ciphers=aes128-ctr", "-o", "MACs=hmac-sha1,hmac-sha1-etm@openssh.com"},
		{"-o", "KexAlgorithms=diffie-hellman-group14-sha1,diffie-hellman-group1-sha1,diffie-hellman-group-exchange-sha1"},
	} {
		if out, err := ts.runSFTP(m, "ls /", opts...); err == nil {
			t.Errorf("client with %v connected:\n%s", opts, out)
		}
	}
	if out, err := ts.runSFTP(m, "ls /", "-o", "Ciphers=aes128-ctr", "-o", "MACs=hmac-sha2-256"); err != nil {
		t.Errorf("aes128-ctr with hmac-sha2-256 refused: %v\n%s", err, out)
	}
}

// TestOpenSSHKilledMidUpload kills the sftp process during an upload: the
// partial file is deleted and never picked up.
func TestOpenSSHKilledMidUpload(t *testing.T) {
	needOpenSSH(t)
	ts := newTestServer(t)
	acme := ts.addMerchant("acme")
	ts.sftp(acme)
	local := filepath.Join(t.TempDir(), "big.csv")
	data := make([]byte, 4<<20)
	rand.Read(data)
	if err := os.WriteFile(local, data, 0o600); err != nil {
		t.Fatal(err)
	}
	bf := filepath.Join(t.TempDir(), "batch")
	os.WriteFile(bf, []byte("put "+local+" /in/big.csv\n"), 0o600)
	// -l limits the bandwidth (Kbit/s) so the upload is still running
	// when the process dies.
	args := append(ts.sshArgs(acme.keyFile), "-l", "800", "-b", bf, "-P", ts.port, "acme@127.0.0.1")
	cmd := exec.Command("sftp", args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the server holds a partial upload.
	eventually(t, func() bool {
		entries, _ := os.ReadDir(ts.disk("acme", "in"))
		for _, e := range entries {
			if fi, err := e.Info(); err == nil && strings.HasPrefix(e.Name(), InternalPrefix) && fi.Size() > 0 {
				return true
			}
		}
		return false
	})
	cmd.Process.Kill()
	cmd.Wait()
	eventually(t, func() bool { return len(ts.auditActions("upload")) == 1 })
	if up := ts.auditActions("upload")[0]; up.Outcome != outcomeAborted {
		t.Fatalf("upload audit = %+v\n%s", up, out.String())
	}
	if entries, _ := os.ReadDir(ts.disk("acme", "in")); len(entries) != 0 {
		t.Fatalf("in/ holds %v", entries)
	}
	if got := ts.pickup.list(); len(got) != 0 {
		t.Fatalf("pick-ups = %v", got)
	}
}

// Every cipher the server offers carries a file both ways with OpenSSH's
// client, byte for byte: chacha20-poly1305 runs through the patched
// x/crypto (its keystream from the assembly AEAD), and a mistake there
// is a MAC failure or different bytes here. The odd size ends the last
// SSH packet at no round boundary.
func TestOpenSSHEveryCipherBothWays(t *testing.T) {
	needOpenSSH(t)
	ts := newTestServer(t)
	acme := ts.addMerchant("acme")
	content := make([]byte, 3<<20+4097)
	rand.Read(content)
	ts.writeOut("acme", "down.bin", string(content))
	local := filepath.Join(t.TempDir(), "up.bin")
	if err := os.WriteFile(local, content, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ cipher, mac string }{
		{"chacha20-poly1305@openssh.com", ""},
		{"aes128-gcm@openssh.com", ""},
		{"aes256-gcm@openssh.com", ""},
		{"aes128-ctr", "hmac-sha2-256-etm@openssh.com"},
		{"aes256-ctr", "hmac-sha2-512"},
	} {
		extra := []string{"-c", c.cipher}
		if c.mac != "" {
			extra = append(extra, "-o", "MACs="+c.mac)
		}
		name := strings.NewReplacer("@", "-", ".", "-").Replace(c.cipher)
		got := filepath.Join(t.TempDir(), "down.bin")
		out, err := ts.runSFTP(acme, "put "+local+" in/"+name+".bin\nget out/down.bin "+got+"\n", extra...)
		if err != nil {
			t.Fatalf("%s: sftp: %v\n%s", c.cipher, err, out)
		}
		if b, _ := os.ReadFile(got); !bytes.Equal(b, content) {
			t.Errorf("%s: downloaded %d bytes that differ from the file", c.cipher, len(b))
		}
		if b, _ := os.ReadFile(ts.disk("acme", "in/"+name+".bin")); !bytes.Equal(b, content) {
			t.Errorf("%s: uploaded %d bytes that differ from the file", c.cipher, len(b))
		}
	}
}
