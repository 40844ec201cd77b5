package sftpd

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/ssh"
)

// rawPacket builds an SFTP packet: length, type, then fields (uint32,
// uint64, string or []byte as an SSH string).
func rawPacket(typ byte, fields ...any) []byte {
	b := []byte{0, 0, 0, 0, typ}
	for _, f := range fields {
		switch v := f.(type) {
		case uint32:
			b = binary.BigEndian.AppendUint32(b, v)
		case uint64:
			b = binary.BigEndian.AppendUint64(b, v)
		case string:
			b = appendString(b, v)
		case []byte:
			b = appendString(b, string(v))
		default:
			panic("rawPacket: unsupported field")
		}
	}
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

// splitPackets splits a stream into packets, failing on a torn one.
func splitPackets(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 4 || uint32(len(b)-4) < binary.BigEndian.Uint32(b) {
			t.Fatalf("torn packet in stream: % x", b)
		}
		n := 4 + binary.BigEndian.Uint32(b)
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

// fakeChannel is the SSH channel side of the filter: the client's bytes
// to read, the server's bytes written.
type fakeChannel struct {
	in  io.Reader
	out bytes.Buffer
}

func (c *fakeChannel) Read(p []byte) (int, error)  { return c.in.Read(p) }
func (c *fakeChannel) Write(p []byte) (int, error) { return c.out.Write(p) }
func (c *fakeChannel) Close() error                { return nil }

// writeChunked writes b to w in pieces of n bytes (n = 0: at once), as
// pkg/sftp may split a packet over several writes.
func writeChunked(t *testing.T, w io.Writer, b []byte, n int) {
	t.Helper()
	if n == 0 {
		n = len(b)
	}
	for len(b) > 0 {
		k := min(n, len(b))
		if got, err := w.Write(b[:k]); err != nil || got != k {
			t.Fatalf("Write = %d, %v", got, err)
		}
		b = b[k:]
	}
}

func TestLimitsFilter(t *testing.T) {
	version := rawPacket(fxpVersion, uint32(3), "statvfs@openssh.com", "2")
	wantVersion := rawPacket(fxpVersion, uint32(3), "statvfs@openssh.com", "2", limitsExtName, limitsExtVersion)
	data := rawPacket(103, uint32(9), bytes.Repeat([]byte("d"), 700)) // SSH_FXP_DATA
	status := rawPacket(101, uint32(10), uint32(0), "", "")           // SSH_FXP_STATUS

	// The client's stream: INIT, a limits request, another extension,
	// a READ; the filter must hand pkg/sftp all but the limits request.
	initPkt := rawPacket(1, uint32(3))
	limitsReq := rawPacket(fxpExtended, uint32(42), limitsExtName)
	statvfs := rawPacket(fxpExtended, uint32(43), "statvfs@openssh.com", "/")
	notLimits := rawPacket(fxpExtended, uint32(44), "limits@openssh.comX")
	read := rawPacket(5, uint32(45), "h1", uint64(0), uint32(261120))
	clientStream := bytes.Join([][]byte{initPkt, limitsReq, statvfs, notLimits, read}, nil)
	wantToServer := bytes.Join([][]byte{initPkt, statvfs, notLimits, read}, nil)

	for _, tc := range []struct {
		name      string
		chunk     int // server writes of this size (0: whole packets)
		readChunk int // pkg/sftp reads of this size
	}{
		{"whole packets", 0, 4096},
		{"byte at a time", 1, 1},
		{"odd pieces", 3, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := &fakeChannel{in: bytes.NewReader(clientStream)}
			var answered atomic.Int64
			f := newLimitsFilter(ch, &answered)

			// The VERSION packet, then half of a DATA packet, so the limits
			// reply must wait for the end of it.
			writeChunked(t, f, version, tc.chunk)
			writeChunked(t, f, data[:300], tc.chunk)

			// pkg/sftp reading the client's stream.
			var toServer []byte
			buf := make([]byte, tc.readChunk)
			for {
				n, err := f.Read(buf)
				toServer = append(toServer, buf[:n]...)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(toServer, wantToServer) {
				t.Fatalf("pkg/sftp read\n% x\nwant\n% x", toServer, wantToServer)
			}
			mustEqual(t, "answered", answered.Load(), 1)
			if got := ch.out.Len(); got != len(wantVersion)+300 {
				t.Fatalf("reply written mid-packet: %d bytes out, want %d", got, len(wantVersion)+300)
			}

			writeChunked(t, f, data[300:], tc.chunk)
			writeChunked(t, f, status, tc.chunk)

			got := splitPackets(t, ch.out.Bytes())
			want := [][]byte{wantVersion, data, limitsReply(42), status}
			if len(got) != len(want) {
				t.Fatalf("%d packets out, want %d", len(got), len(want))
			}
			for i := range want {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("packet %d\n% x\nwant\n% x", i, got[i], want[i])
				}
			}
		})
	}
}

// TestLimitsReplyFields checks the reply against OpenSSH PROTOCOL §4.8.
func TestLimitsReplyFields(t *testing.T) {
	r := limitsReply(7)
	mustEqual(t, "length", binary.BigEndian.Uint32(r), uint32(len(r)-4))
	mustEqual(t, "type", r[4], byte(fxpExtendedReply))
	mustEqual(t, "id", binary.BigEndian.Uint32(r[5:]), uint32(7))
	for i, want := range []uint64{262144, 261120, 261120, maxOpenFiles} {
		mustEqual(t, "limit", binary.BigEndian.Uint64(r[9+8*i:]), want)
	}
}

// sftpConn is a raw SFTP session over a real SSH connection.
type sftpConn struct {
	t  *testing.T
	w  io.Writer
	r  io.Reader
	id uint32
}

func (ts *testServer) rawSFTP(t *testing.T, m merchant) *sftpConn {
	c, err := ts.dial(m.id, ssh.PublicKeys(m.signer))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	w, _ := s.StdinPipe()
	r, _ := s.StdoutPipe()
	if err := s.RequestSubsystem("sftp"); err != nil {
		t.Fatal(err)
	}
	return &sftpConn{t: t, w: w, r: r}
}

func (c *sftpConn) send(p []byte) {
	c.t.Helper()
	if _, err := c.w.Write(p); err != nil {
		c.t.Fatal(err)
	}
}

// recv returns the type and body (after the type) of the next packet.
func (c *sftpConn) recv() (byte, []byte) {
	c.t.Helper()
	var hdr [4]byte
	if _, err := io.ReadFull(c.r, hdr[:]); err != nil {
		c.t.Fatal(err)
	}
	b := make([]byte, binary.BigEndian.Uint32(hdr[:]))
	if _, err := io.ReadFull(c.r, b); err != nil {
		c.t.Fatal(err)
	}
	return b[0], b[1:]
}

func sshString(b []byte) (string, []byte) {
	n := binary.BigEndian.Uint32(b)
	return string(b[4 : 4+n]), b[4+n:]
}

func TestLimitsRawSFTP(t *testing.T) {
	ts := newTestServer(t)
	acme := ts.addMerchant("acme")
	c := ts.rawSFTP(t, acme)
	content := make([]byte, 300*1024)
	rand.Read(content)
	ts.writeOut("acme", "big.bin", string(content))

	c.send(rawPacket(1, uint32(3))) // INIT
	typ, body := c.recv()
	mustEqual(t, "VERSION type", typ, byte(fxpVersion))
	mustEqual(t, "version", binary.BigEndian.Uint32(body), uint32(3))
	exts := map[string]string{}
	for rest := body[4:]; len(rest) > 0; {
		var k, v string
		k, rest = sshString(rest)
		v, rest = sshString(rest)
		exts[k] = v
	}
	mustEqual(t, "limits@openssh.com version", exts[limitsExtName], "1")

	c.send(rawPacket(fxpExtended, uint32(7), limitsExtName))
	typ, body = c.recv()
	mustEqual(t, "reply type", typ, byte(fxpExtendedReply))
	mustEqual(t, "reply id", binary.BigEndian.Uint32(body), uint32(7))
	for i, want := range []uint64{262144, 261120, 261120, 64} {
		mustEqual(t, "limit", binary.BigEndian.Uint64(body[4+8*i:]), want)
	}
	mustEqual(t, "answered", ts.srv.limitsAnswered.Load(), 1)

	// An extension pkg/sftp does not know still reaches it and is refused.
	c.send(rawPacket(fxpExtended, uint32(8), "nosuch@example.com"))
	typ, body = c.recv()
	mustEqual(t, "unknown extension reply", typ, byte(101))
	mustEqual(t, "unknown extension status", binary.BigEndian.Uint32(body[4:]), uint32(8)) // OP_UNSUPPORTED

	// A 255 KiB read returns 255 KiB, as announced.
	c.send(rawPacket(3, uint32(9), "/out/big.bin", uint32(1), uint32(0))) // OPEN, READ
	typ, body = c.recv()
	mustEqual(t, "OPEN reply", typ, byte(102))
	h, _ := sshString(body[4:])
	c.send(rawPacket(5, uint32(10), h, uint64(0), uint32(limitsMaxData)))
	typ, body = c.recv()
	mustEqual(t, "READ reply", typ, byte(103))
	got, _ := sshString(body[4:])
	if !bytes.Equal([]byte(got), content[:limitsMaxData]) {
		t.Fatalf("READ returned %d bytes, want the first %d of the file", len(got), limitsMaxData)
	}
	c.send(rawPacket(4, uint32(11), h)) // CLOSE
	if typ, _ = c.recv(); typ != 101 {
		t.Fatalf("CLOSE reply type %d", typ)
	}

	// A 255 KiB write, as OpenSSH's sftp now uploads, is accepted whole.
	c.send(rawPacket(3, uint32(12), "/in/up.csv", uint32(0x1a), uint32(0))) // OPEN, WRITE|CREAT|TRUNC
	typ, body = c.recv()
	mustEqual(t, "OPEN reply", typ, byte(102))
	h, _ = sshString(body[4:])
	c.send(rawPacket(6, uint32(13), h, uint64(0), content[:limitsMaxData])) // WRITE
	typ, body = c.recv()
	mustEqual(t, "WRITE reply", typ, byte(101))
	mustEqual(t, "WRITE status", binary.BigEndian.Uint32(body[4:]), uint32(0))
	c.send(rawPacket(4, uint32(14), h)) // CLOSE
	typ, body = c.recv()
	mustEqual(t, "CLOSE status", binary.BigEndian.Uint32(body[4:]), uint32(0))
	eventually(t, func() bool { return len(ts.pickup.list()) == 1 })
	up, err := os.ReadFile(ts.disk("acme", "in/up.csv"))
	if err != nil || !bytes.Equal(up, content[:limitsMaxData]) {
		t.Fatalf("uploaded file: %d bytes, %v", len(up), err)
	}
}

// TestLimitsOpenSSHDownload: OpenSSH's sftp asks for the limits and
// downloads a 4 MiB file intact with them; pkg/sftp's client, which does
// not ask, still works with its 32 KiB requests.
func TestLimitsOpenSSHDownload(t *testing.T) {
	needOpenSSH(t)
	ts := newTestServer(t)
	acme := ts.addMerchant("acme")
	content := make([]byte, 4<<20)
	rand.Read(content)
	ts.writeOut("acme", "big.bin", string(content))
	local := filepath.Join(t.TempDir(), "big.bin")
	out, err := ts.runSFTP(acme, "get out/big.bin "+local+"\nput "+local+" in/big.csv\n")
	if err != nil {
		t.Fatalf("sftp -b: %v\n%s", err, out)
	}
	if got, _ := os.ReadFile(local); !bytes.Equal(got, content) {
		t.Fatalf("downloaded %d bytes, not the file", len(got))
	}
	if got, _ := os.ReadFile(ts.disk("acme", "in/big.csv")); !bytes.Equal(got, content) {
		t.Fatalf("uploaded %d bytes, not the file", len(got))
	}
	if n := ts.srv.limitsAnswered.Load(); n != 1 {
		t.Fatalf("limits requests answered: %d, want 1 (OpenSSH's sftp did not ask?)", n)
	}

	c := ts.sftp(acme)
	f, err := c.Open("/out/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if _, err := f.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if b.String() != string(content) {
		t.Fatal("pkg/sftp client download differs")
	}
	mustEqual(t, "answered after pkg/sftp client", ts.srv.limitsAnswered.Load(), 1)
}
