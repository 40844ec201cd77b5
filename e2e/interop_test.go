package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The interoperability suite: the clients merchants really use log in with
// a key, upload a PAYMENTS file, see its .ack, download it and remove it
// from out/, against the real `fileapi serve`.

// sshOpts are the OpenSSH options shared by sftp, scp and lftp's ssh: no
// user configuration, agent or known_hosts, only the test key.
func sshOpts(m merchant) []string {
	return []string{"-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
		"-o", "UserKnownHostsFile=/dev/null", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
		"-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "-i", m.keyFile}
}

// runClient runs an external client with a timeout and returns its
// combined output, failing the test on a non-zero exit.
func runClient(t *testing.T, stdin string, env []string, name string, args ...string) string {
	t.Helper()
	out, err := tryClient(stdin, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func tryClient(stdin string, env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(cleanEnv(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// clientRun is one client's round trip: upload local as in/name; then,
// once the .ack is in out/, list out/, download the .ack into dl and
// remove it. list returns the listing of out/.
type clientRun struct {
	upload   func(local, name string)
	list     func() string
	download func(ack, dl string)
	remove   func(ack string)
}

func TestClientsRoundTrip(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	srv := startServer(t, data)
	host, port := "127.0.0.1", srv.port()

	clients := []struct {
		name  string
		setup func(t *testing.T, m merchant) clientRun
	}{
		{"openssh-sftp", func(t *testing.T, m merchant) clientRun {
			bin := needTool(t, "sftp", "openssh-client")
			batch := func(cmds string) string {
				args := append(sshOpts(m), "-P", port, "-b", "-", m.id+"@"+host)
				return runClient(t, cmds, nil, bin, args...)
			}
			return clientRun{
				// put -p sets times and modes after the upload: it must report success.
				upload:   func(local, name string) { batch(fmt.Sprintf("put -p %s in/%s\n", local, name)) },
				list:     func() string { return batch("ls -1 out\n") },
				download: func(ack, dl string) { batch(fmt.Sprintf("get out/%s %s/\n", ack, dl)) },
				remove:   func(ack string) { batch("rm out/" + ack + "\n") },
			}
		}},
		{"openssh-scp", func(t *testing.T, m merchant) clientRun {
			bin := needTool(t, "scp", "openssh-client")
			sftpBin := needTool(t, "sftp", "openssh-client")
			scp := func(from, to string) {
				// OpenSSH 9 scp speaks SFTP; -O (the legacy scp protocol,
				// an exec request) is refused by design.
				runClient(t, "", nil, bin, append(sshOpts(m), "-P", port, from, to)...)
			}
			// scp can neither list nor remove: those steps use sftp.
			batch := func(cmds string) string {
				return runClient(t, cmds, nil, sftpBin, append(sshOpts(m), "-P", port, "-b", "-", m.id+"@"+host)...)
			}
			return clientRun{
				upload:   func(local, name string) { scp(local, m.id+"@"+host+":in/"+name) },
				list:     func() string { return batch("ls -1 out\n") },
				download: func(ack, dl string) { scp(m.id+"@"+host+":out/"+ack, dl+"/") },
				remove:   func(ack string) { batch("rm out/" + ack + "\n") },
			}
		}},
		{"rclone", func(t *testing.T, m merchant) clientRun {
			bin := needTool(t, "rclone", "rclone")
			// No config file in $HOME: an on-the-fly remote and --sftp-* flags.
			env := []string{"RCLONE_CONFIG=" + filepath.Join(t.TempDir(), "none.conf")}
			rc := func(args ...string) string {
				args = append(args, "--sftp-host", host, "--sftp-port", port, "--sftp-user", m.id,
					"--sftp-key-file", m.keyFile, "--sftp-shell-type", "none", "--sftp-disable-hashcheck",
					"--retries", "1", "--low-level-retries", "1", "--contimeout", "10s")
				return runClient(t, "", env, bin, args...)
			}
			return clientRun{
				upload:   func(local, name string) { rc("copyto", local, ":sftp:in/"+name) },
				list:     func() string { return rc("lsf", ":sftp:out") },
				download: func(ack, dl string) { rc("copyto", ":sftp:out/"+ack, filepath.Join(dl, ack)) },
				remove:   func(ack string) { rc("deletefile", ":sftp:out/"+ack) },
			}
		}},
		{"lftp", func(t *testing.T, m merchant) clientRun {
			bin := needTool(t, "lftp", "lftp")
			needTool(t, "ssh", "openssh-client")
			connect := "ssh -a -x " + strings.Join(sshOpts(m), " ")
			lftp := func(cmds string) string {
				script := fmt.Sprintf("set sftp:connect-program %q; set net:max-retries 1; set net:timeout 10; "+
					"set cmd:fail-exit yes; open -u %s, -p %s sftp://%s; %s; bye", connect, m.id, port, host, cmds)
				return runClient(t, "", nil, bin, "-c", script)
			}
			return clientRun{
				upload:   func(local, name string) { lftp(fmt.Sprintf("put %s -o in/%s", local, name)) },
				list:     func() string { return lftp("cls -1 out/") },
				download: func(ack, dl string) { lftp(fmt.Sprintf("get out/%s -o %s/%s", ack, dl, ack)) },
				remove:   func(ack string) { lftp("rm out/" + ack) },
			}
		}},
		{"paramiko", nil}, // one script does every step
	}

	for i, cl := range clients {
		t.Run(cl.name, func(t *testing.T) {
			m := addMerchant(t, data, fmt.Sprintf("merchant-%d", i))
			name := fmt.Sprintf("payments-%s.csv", cl.name)
			ack := strings.TrimSuffix(name, ".csv") + ".ack"
			local := filepath.Join(t.TempDir(), name)
			if err := os.WriteFile(local, []byte(paymentsFile(m, fmt.Sprintf("P%d", i))), 0o644); err != nil {
				t.Fatal(err)
			}
			dl := t.TempDir()
			ackPath := merchantPath(data, m.id, "out", ack)
			if cl.setup == nil {
				py := paramikoPython(t)
				out := runClient(t, "", nil, py, "testdata/paramiko_client.py", host, port, m.id, m.keyFile, local, name, dl)
				for _, want := range []string{"uploaded " + name, "listed " + ack, "removed " + ack, "read-back refused"} {
					if !strings.Contains(out, want) {
						t.Errorf("paramiko did not report %q:\n%s", want, out)
					}
				}
			} else {
				c := cl.setup(t, m)
				c.upload(local, name)
				waitFile(t, ackPath, 10*time.Second)
				if l := c.list(); !strings.Contains(l, ack) {
					t.Fatalf("listing of out/ lacks %s:\n%s", ack, l)
				}
				c.download(ack, dl)
				got, err := os.ReadFile(filepath.Join(dl, ack))
				if err != nil {
					t.Fatalf("downloaded .ack: %v", err)
				}
				if !strings.Contains(string(got), ";"+name+";PAYMENTS;") || !strings.Contains(string(got), "ACKNOWLEDGED") {
					t.Fatalf(".ack content: %q", got)
				}
				c.remove(ack)
			}
			got, err := os.ReadFile(filepath.Join(dl, ack))
			if err != nil || !strings.Contains(string(got), "ACKNOWLEDGED") {
				t.Fatalf("downloaded .ack: %q, %v", got, err)
			}
			if _, err := os.Stat(ackPath); !os.IsNotExist(err) {
				t.Errorf("%s still in out/ after the client removed it (%v)", ack, err)
			}
			// The upload was taken exactly once and left in/.
			waitGone(t, merchantPath(data, m.id, "in", name), 5*time.Second)
			if n := countPickups(t, data, m.id); n != 1 {
				t.Errorf("%d pick-ups, want 1", n)
			}
		})
	}
	if !srv.alive() {
		t.Fatalf("server died:\n%s", srv.logText())
	}
}

// paramikoPython finds a python3 that imports paramiko: Debian's
// python3-paramiko lives in /usr/bin/python3's path, which may not be the
// first python3 on PATH.
func paramikoPython(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if p, err := exec.LookPath(py); err == nil && exec.Command(p, "-c", "import paramiko").Run() == nil {
			return p
		}
	}
	needTool(t, "no-python3-with-paramiko", "python3-paramiko")
	return ""
}

// countPickups counts merchant's files known to the service (one per
// pick-up) with the admin CLI.
func countPickups(t *testing.T, data, merchantID string) int {
	t.Helper()
	out := admin(t, data, "", "batches", "list", "--merchant", merchantID)
	n := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, " "+merchantID+" ") {
			n++
		}
	}
	return n
}

// TestWinSCPStyleUploadIsPickedUpOnce follows WinSCP: the file is written
// as NAME.csv.filepart (not picked up), then renamed onto NAME.csv, with
// posix-rename@openssh.com and with plain SFTPv3 RENAME; then the client
// sets times on it. Each upload gives exactly one pick-up and one .ack.
func TestWinSCPStyleUploadIsPickedUpOnce(t *testing.T) {
	t.Parallel() // mostly waiting: overlaps with the others
	data := filepath.Join(t.TempDir(), "data")
	srv := startServer(t, data)
	m := addMerchant(t, data, "winscp")
	c := sftpClient(t, srv.sftpAddr, m)
	for i, posix := range []bool{true, false} {
		name := fmt.Sprintf("batch-%d.csv", i)
		part := "in/" + name + ".filepart"
		if err := putFile(c, part, []byte(paymentsFile(m, fmt.Sprintf("W%d", i)))); err != nil {
			t.Fatalf("upload %s: %v", part, err)
		}
		// The .filepart waits: it is not a final name.
		time.Sleep(300 * time.Millisecond)
		if n := countPickups(t, data, m.id); n != i {
			t.Fatalf("%d pick-ups after writing %s, want %d", n, part, i)
		}
		var err error
		if posix {
			err = c.PosixRename(part, "in/"+name)
		} else {
			err = c.Rename(part, "in/"+name)
		}
		if err != nil {
			t.Fatalf("rename (posix %v): %v", posix, err)
		}
		// WinSCP then preserves the timestamp on the final name.
		if err := c.Chtimes("in/"+name, time.Now(), time.Now().Add(-time.Hour)); err != nil {
			t.Errorf("setstat after rename: %v", err)
		}
		if _, err := c.Stat("in/" + name); err != nil {
			t.Errorf("stat after rename: %v", err)
		}
		ack := waitFile(t, merchantPath(data, m.id, "out", strings.TrimSuffix(name, ".csv")+".ack"), 10*time.Second)
		if !strings.Contains(string(ack), "ACKNOWLEDGED") {
			t.Fatalf(".ack: %q", ack)
		}
		waitGone(t, merchantPath(data, m.id, "in", name), 5*time.Second)
		time.Sleep(200 * time.Millisecond)
		if n := countPickups(t, data, m.id); n != i+1 {
			t.Fatalf("%d pick-ups after %d uploads", n, i+1)
		}
		if _, err := os.Stat(merchantPath(data, m.id, "out", strings.TrimSuffix(name, ".csv")+".err")); err == nil {
			t.Fatalf("an .err beside the .ack for %s", name)
		}
	}
	if s := strayFiles(t, data); len(s) > 0 {
		t.Errorf("stray files: %v", s)
	}
}
