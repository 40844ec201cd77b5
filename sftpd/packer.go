package sftpd

import (
	"io"
	"sync"
	"time"
)

// packer writes a session's SFTP stream to its SSH channel in whole SSH
// packets, as OpenSSH's server does. pkg/sftp writes each response's
// header and data in separate calls, and every channel write becomes at
// least one SSH packet and one system call: without the packer a 32 KiB
// read costs a 13-byte packet and a 32 KiB one.
//
// Whole packets go out at once. What is left over waits in the packer
// until the SFTP packet it belongs to is complete (limitsFilter, which
// parses the stream, calls packetEnd): then a small reply (a status, a
// handle, a listing) is sent at once, and the tail of a large one waits
// at most packDelay for the next response to fill the SSH packet.
type packer struct {
	ch    io.ReadWriteCloser
	size  int
	delay time.Duration

	mu    sync.Mutex
	buf   []byte
	err   error // of a delayed write, returned by the next Write
	timer *time.Timer
	armed bool
}

// packSize is the largest SSH packet payload every client takes (RFC 4253
// §6.1), and the one OpenSSH's and Go's clients ask for; packDelay is how
// long the tail of a large response waits for the next one.
const (
	packSize  = 32 << 10
	packDelay = 50 * time.Microsecond
)

func newPacker(ch io.ReadWriteCloser, size int, delay time.Duration) *packer {
	p := &packer{ch: ch, size: size, delay: delay, buf: make([]byte, 0, size)}
	p.timer = time.AfterFunc(time.Hour, p.flushDelayed)
	p.timer.Stop()
	return p
}

func (p *packer) Read(b []byte) (int, error) { return p.ch.Read(b) }

func (p *packer) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return 0, p.err
	}
	n := len(b)
	if len(p.buf) > 0 {
		k := min(p.size-len(p.buf), len(b))
		p.buf = append(p.buf, b[:k]...)
		b = b[k:]
		if len(p.buf) < p.size {
			return n, nil
		}
		if err := p.flush(); err != nil {
			return 0, err
		}
	}
	if whole := len(b) - len(b)%p.size; whole > 0 {
		if _, err := p.ch.Write(b[:whole]); err != nil {
			p.err = err
			return 0, err
		}
		b = b[whole:]
	}
	p.buf = append(p.buf, b...)
	return n, nil
}

// packetEnd is told that an SFTP packet of n bytes has been written
// whole: a small one is sent now, a large one's tail may wait a little.
func (p *packer) packetEnd(n int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buf) == 0 {
		return p.err
	}
	if n < p.size {
		return p.flush()
	}
	if !p.armed {
		p.armed = true
		p.timer.Reset(p.delay)
	}
	return nil
}

func (p *packer) flush() error {
	if len(p.buf) == 0 {
		return nil
	}
	_, err := p.ch.Write(p.buf)
	p.buf = p.buf[:0]
	if err != nil {
		p.err = err
	}
	return err
}

func (p *packer) flushDelayed() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.armed = false
	p.flush()
}

// Flush sends what is held now.
func (p *packer) Flush() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.timer.Stop()
	p.armed = false
	return p.flush()
}

// Close sends what is held, then closes the channel.
func (p *packer) Close() error {
	p.Flush()
	return p.ch.Close()
}
