package e2e

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"testing"

	"golang.org/x/crypto/ssh"
)

// rawSFTP is a minimal SFTP v3 client that sends paths exactly as given:
// pkg/sftp's client cleans paths, which would hide what a hostile client
// can really send (.., backslashes, NUL, over-long names).
type rawSFTP struct {
	ch   ssh.Channel
	next uint32
}

// SFTP v3 packet types and status codes (draft-ietf-secsh-filexfer-02).
const (
	fxpInit     = 1
	fxpVersion  = 2
	fxpOpen     = 3
	fxpClose    = 4
	fxpRead     = 5
	fxpWrite    = 6
	fxpLstat    = 7
	fxpSetstat  = 9
	fxpOpendir  = 11
	fxpReaddir  = 12
	fxpRemove   = 13
	fxpMkdir    = 14
	fxpRmdir    = 15
	fxpRealpath = 16
	fxpStat     = 17
	fxpRename   = 18
	fxpReadlink = 19
	fxpSymlink  = 20
	fxpExtended = 200

	fxpStatus = 101
	fxpHandle = 102
	fxpData   = 103
	fxpName   = 104
	fxpAttrs  = 105

	fxOK               = 0
	fxEOF              = 1
	fxNoSuchFile       = 2
	fxPermissionDenied = 3
	fxFailure          = 4
	fxOpUnsupported    = 8

	flagRead  = 0x01
	flagWrite = 0x02
	flagCreat = 0x08
	flagTrunc = 0x10
)

var statusNames = map[uint32]string{fxOK: "OK", fxEOF: "EOF", fxNoSuchFile: "NO_SUCH_FILE",
	fxPermissionDenied: "PERMISSION_DENIED", fxFailure: "FAILURE", 5: "BAD_MESSAGE", fxOpUnsupported: "OP_UNSUPPORTED"}

func statusName(c uint32) string {
	if n, ok := statusNames[c]; ok {
		return n
	}
	return fmt.Sprintf("status %d", c)
}

// reply is one server response.
type reply struct {
	typ     byte
	status  uint32 // for fxpStatus
	message string // for fxpStatus
	payload []byte // after the request id
}

// newRawSFTP opens an sftp subsystem channel on conn and says hello.
func newRawSFTP(t *testing.T, conn *ssh.Client) *rawSFTP {
	t.Helper()
	ch, reqs, err := conn.OpenChannel("session", nil)
	if err != nil {
		t.Fatal(err)
	}
	go ssh.DiscardRequests(reqs)
	ok, err := ch.SendRequest("subsystem", true, ssh.Marshal(struct{ Name string }{"sftp"}))
	if err != nil || !ok {
		t.Fatalf("sftp subsystem: %v %v", ok, err)
	}
	r := &rawSFTP{ch: ch}
	if err := r.writePacket(fxpInit, u32(3)); err != nil {
		t.Fatal(err)
	}
	typ, _, err := r.readPacket()
	if err != nil || typ != fxpVersion {
		t.Fatalf("sftp version: %d %v", typ, err)
	}
	t.Cleanup(func() { ch.Close() })
	return r
}

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
func str(s string) []byte { return append(u32(uint32(len(s))), s...) }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func (r *rawSFTP) writePacket(typ byte, body []byte) error {
	pkt := cat(u32(uint32(len(body)+1)), []byte{typ}, body)
	_, err := r.ch.Write(pkt)
	return err
}

func (r *rawSFTP) readPacket() (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r.ch, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:4])
	if n < 1 || n > 1<<20 {
		return 0, nil, fmt.Errorf("bad packet length %d", n)
	}
	body := make([]byte, n-1)
	if _, err := io.ReadFull(r.ch, body); err != nil {
		return 0, nil, err
	}
	return hdr[4], body, nil
}

// send sends a request (its body after the id) without waiting.
func (r *rawSFTP) send(typ byte, body []byte) (uint32, error) {
	r.next++
	return r.next, r.writePacket(typ, cat(u32(r.next), body))
}

// call sends a request and reads its reply.
func (r *rawSFTP) call(typ byte, body []byte) (reply, error) {
	id, err := r.send(typ, body)
	if err != nil {
		return reply{}, err
	}
	rt, b, err := r.readPacket()
	if err != nil {
		return reply{}, err
	}
	if len(b) < 4 || binary.BigEndian.Uint32(b) != id {
		return reply{}, errors.New("reply to another request")
	}
	rep := reply{typ: rt, payload: b[4:]}
	if rt == fxpStatus {
		if len(rep.payload) < 4 {
			return rep, errors.New("short status")
		}
		rep.status = binary.BigEndian.Uint32(rep.payload)
		if len(rep.payload) >= 8 {
			if n := binary.BigEndian.Uint32(rep.payload[4:]); int(n) <= len(rep.payload)-8 {
				rep.message = string(rep.payload[8 : 8+n])
			}
		}
	}
	return rep, nil
}

// must calls and fails the test on a transport error.
func (r *rawSFTP) must(t *testing.T, typ byte, body []byte) reply {
	t.Helper()
	rep, err := r.call(typ, body)
	if err != nil {
		t.Fatalf("sftp request %d: %v", typ, err)
	}
	return rep
}

// handle reads the handle out of an fxpHandle reply.
func (rep reply) handle() string {
	if rep.typ != fxpHandle || len(rep.payload) < 4 {
		return ""
	}
	n := binary.BigEndian.Uint32(rep.payload)
	return string(rep.payload[4 : 4+n])
}

// code is the reply as a status name; non-status replies say what they are.
func (rep reply) code() string {
	switch rep.typ {
	case fxpStatus:
		return statusName(rep.status)
	case fxpHandle:
		return "HANDLE"
	case fxpData:
		return "DATA"
	case fxpName:
		return "NAME"
	case fxpAttrs:
		return "ATTRS"
	}
	return fmt.Sprintf("type %d", rep.typ)
}

// names reads the file names of an fxpName reply.
func (rep reply) names() []string {
	if rep.typ != fxpName || len(rep.payload) < 4 {
		return nil
	}
	b := rep.payload
	count := binary.BigEndian.Uint32(b)
	b = b[4:]
	var out []string
	readStr := func() string {
		if len(b) < 4 {
			return ""
		}
		n := binary.BigEndian.Uint32(b)
		if int(n) > len(b)-4 {
			b = nil
			return ""
		}
		s := string(b[4 : 4+n])
		b = b[4+n:]
		return s
	}
	for i := uint32(0); i < count && len(b) > 0; i++ {
		out = append(out, readStr())
		readStr() // long name
		skipAttrs(&b)
	}
	return out
}

func skipAttrs(b *[]byte) {
	if len(*b) < 4 {
		*b = nil
		return
	}
	flags := binary.BigEndian.Uint32(*b)
	n := 4
	if flags&0x1 != 0 {
		n += 8
	}
	if flags&0x2 != 0 {
		n += 8
	}
	if flags&0x4 != 0 {
		n += 4
	}
	if flags&0x8 != 0 {
		n += 8
	}
	if n > len(*b) {
		*b = nil
		return
	}
	*b = (*b)[n:]
}

// Request bodies.
func openReq(p string, pflags uint32) []byte { return cat(str(p), u32(pflags), u32(0)) }
func pathReq(p string) []byte                { return str(p) }
func twoPathReq(a, b string) []byte          { return cat(str(a), str(b)) }
func setstatReq(p string) []byte             { return cat(str(p), u32(0x8), u32(1700000000), u32(1700000000)) }
func mkdirReq(p string) []byte               { return cat(str(p), u32(0)) }
func readReq(h string, off uint64, n uint32) []byte {
	return cat(str(h), u64(off), u32(n))
}
func writeReq(h string, off uint64, data []byte) []byte {
	return cat(str(h), u64(off), str(string(data)))
}
func posixRenameReq(a, b string) []byte {
	return cat(str("posix-rename@openssh.com"), str(a), str(b))
}
