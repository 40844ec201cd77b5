package sftpd

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"time"
)

// recordingChannel records each Write to it, as the SSH channel would
// turn each into packets.
type recordingChannel struct {
	mu     sync.Mutex
	writes [][]byte
	err    error
}

func (c *recordingChannel) Read([]byte) (int, error) { return 0, errors.New("not read") }
func (c *recordingChannel) Close() error             { return nil }
func (c *recordingChannel) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	c.writes = append(c.writes, bytes.Clone(p))
	return len(p), nil
}

func (c *recordingChannel) sizes() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var s []int
	for _, w := range c.writes {
		s = append(s, len(w))
	}
	return s
}

func (c *recordingChannel) all() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Join(c.writes, nil)
}

// sftpData writes one SSH_FXP_DATA response as pkg/sftp does: the 13-byte
// header, then the data, in two calls.
func sftpData(t *testing.T, f *limitsFilter, id uint32, data []byte) []byte {
	t.Helper()
	hdr := binary.BigEndian.AppendUint32(nil, uint32(9+len(data)))
	hdr = append(hdr, 103)
	hdr = binary.BigEndian.AppendUint32(hdr, id)
	hdr = binary.BigEndian.AppendUint32(hdr, uint32(len(data)))
	if _, err := f.Write(hdr); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	return append(hdr, data...)
}

func startedFilter(t *testing.T, delay time.Duration) (*limitsFilter, *recordingChannel, *packer) {
	t.Helper()
	ch := &recordingChannel{}
	pk := newPacker(ch, packSize, delay)
	f := newLimitsFilter(pk, nil)
	// SSH_FXP_VERSION 3 goes first, with the extension added, at once.
	if _, err := f.Write([]byte{0, 0, 0, 5, fxpVersion, 0, 0, 0, 3}); err != nil {
		t.Fatal(err)
	}
	if s := ch.sizes(); len(s) != 1 {
		t.Fatalf("VERSION not sent at once: writes %v", s)
	}
	ch.writes = nil
	return f, ch, pk
}

func TestPackerSendsSmallRepliesAtOnce(t *testing.T) {
	f, ch, _ := startedFilter(t, time.Hour)
	status := []byte{0, 0, 0, 24, 101, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if _, err := f.Write(status[:9]); err != nil {
		t.Fatal(err)
	}
	if s := ch.sizes(); len(s) != 0 {
		t.Fatalf("half a reply was sent: writes %v", s)
	}
	if _, err := f.Write(status[9:]); err != nil {
		t.Fatal(err)
	}
	if got := ch.all(); !bytes.Equal(got, status) {
		t.Fatalf("a whole small reply must go out at once (no delay), got %d bytes in %v", len(got), ch.sizes())
	}
}

func TestPackerFillsWholePackets(t *testing.T) {
	f, ch, pk := startedFilter(t, time.Hour)
	var want []byte
	for i := range 5 {
		data := bytes.Repeat([]byte{byte('a' + i)}, 32<<10)
		want = append(want, sftpData(t, f, uint32(i), data)...)
	}
	// 5 × (13 + 32768) bytes: 5 whole SSH packets, 65 bytes held.
	sizes := ch.sizes()
	if len(sizes) != 5 {
		t.Fatalf("writes %v, want 5 of %d", sizes, packSize)
	}
	for _, s := range sizes {
		if s != packSize {
			t.Fatalf("writes %v, want 5 of %d", sizes, packSize)
		}
	}
	if err := pk.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := ch.all(); !bytes.Equal(got, want) {
		t.Fatalf("stream changed: %d bytes sent, %d written", len(got), len(want))
	}
}

func TestPackerSendsTheTailAfterTheDelay(t *testing.T) {
	f, ch, _ := startedFilter(t, 300*time.Millisecond) // long enough for a slow -race run to look first
	want := sftpData(t, f, 1, bytes.Repeat([]byte{'x'}, 40<<10))
	if s := ch.sizes(); len(s) != 1 || s[0] != packSize {
		t.Fatalf("writes %v, want one whole packet and the tail held", s)
	}
	eventually(t, func() bool { return bytes.Equal(ch.all(), want) })
}

func TestPackerReportsAFailedWrite(t *testing.T) {
	f, ch, _ := startedFilter(t, 300*time.Millisecond)
	// A large response's tail fails when the delay sends it...
	sftpData(t, f, 1, bytes.Repeat([]byte{'x'}, 40<<10))
	ch.mu.Lock()
	ch.err = errors.New("channel closed")
	ch.mu.Unlock()
	time.Sleep(time.Second)
	// ...and the next write reports it.
	if _, err := f.Write([]byte{0, 0, 0, 5}); err == nil || err.Error() != "channel closed" {
		t.Fatalf("write after a failed delayed write: %v, want the failure", err)
	}
}
