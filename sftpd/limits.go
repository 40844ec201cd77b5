package sftpd

import (
	"encoding/binary"
	"io"
	"sync"
	"sync/atomic"
)

// OpenSSH's "limits@openssh.com" extension (OpenSSH PROTOCOL §4.8). Its
// sftp client sends 255 KiB read and write requests to servers that
// answer it and 32 KiB to the rest; pkg/sftp v1.13.12 neither advertises
// nor answers it, so limitsFilter sits between the SSH channel and
// pkg/sftp's request server and does both (docs/DECISIONS.md,
// "Performance").
const (
	limitsExtName    = "limits@openssh.com"
	limitsExtVersion = "1"

	fxpVersion       = 2
	fxpExtended      = 200
	fxpExtendedReply = 201

	// limitsMaxPacket is pkg/sftp's cap on an incoming packet
	// (maxMsgLength): a 255 KiB WRITE plus its header fits under it.
	limitsMaxPacket = 256 * 1024
	// limitsMaxData is what OpenSSH's own server announces for reads and
	// writes; the request server is told to return reads that large
	// (sftp.WithRSMaxTxPacket), and pkg/sftp's 256 KiB packet pages hold
	// them.
	limitsMaxData = 255 * 1024
	// limitsMaxExtended bounds the EXTENDED packets the filter reads
	// whole to look at their name; larger ones pass through untouched.
	limitsMaxExtended = 4096
)

// limitsFilter wraps the SFTP stream of one session. Reads (client to
// server) are parsed packet by packet: a limits@openssh.com request is
// answered here and never reaches pkg/sftp. Writes (server to client) are
// tracked packet by packet, because pkg/sftp writes a packet's header and
// payload in separate calls: the first packet, SSH_FXP_VERSION, gets the
// extension appended, and a limits reply is only written between two
// packets, queued if pkg/sftp is in the middle of one.
type limitsFilter struct {
	rw    io.ReadWriteCloser
	ender interface{ packetEnd(int) error } // rw, if it is a packer

	// Reader state: only pkg/sftp's receive goroutine reads.
	rbuf    []byte // bytes to hand out before reading the channel again
	rremain uint32 // body bytes of the current packet still to pass through
	rhdr    [9]byte

	// Writer state, under wmu: pkg/sftp's writes and the filter's own
	// replies.
	wmu      sync.Mutex
	wfirst   []byte  // the VERSION packet, gathered until complete
	wstarted bool    // VERSION sent
	whdr     [4]byte // length of the current packet, as it arrives
	whdrN    int
	wremain  uint32   // body bytes of the current packet still to come
	queued   [][]byte // replies waiting for a packet boundary

	// answered counts limits requests answered; the server's counter,
	// shared by its sessions (tests check OpenSSH's client asks).
	answered *atomic.Int64
}

func newLimitsFilter(rw io.ReadWriteCloser, answered *atomic.Int64) *limitsFilter {
	if answered == nil {
		answered = new(atomic.Int64)
	}
	f := &limitsFilter{rw: rw, answered: answered}
	f.ender, _ = rw.(interface{ packetEnd(int) error })
	return f
}

// Close closes the underlying channel.
func (f *limitsFilter) Close() error { return f.rw.Close() }

// Read hands pkg/sftp the client's packets, minus limits requests.
func (f *limitsFilter) Read(p []byte) (int, error) {
	for {
		if len(f.rbuf) > 0 {
			n := copy(p, f.rbuf)
			f.rbuf = f.rbuf[n:]
			return n, nil
		}
		if f.rremain > 0 {
			if uint32(len(p)) > f.rremain {
				p = p[:f.rremain]
			}
			n, err := f.rw.Read(p)
			f.rremain -= uint32(n)
			return n, err
		}
		// At a packet boundary: length and type.
		if _, err := io.ReadFull(f.rw, f.rhdr[:4]); err != nil {
			return 0, err // io.EOF between packets is a clean end
		}
		length := binary.BigEndian.Uint32(f.rhdr[:4])
		if length == 0 {
			// Malformed: let pkg/sftp see it and refuse it.
			f.rbuf = f.rhdr[:4]
			continue
		}
		if _, err := io.ReadFull(f.rw, f.rhdr[4:5]); err != nil {
			return 0, unexpected(err)
		}
		if f.rhdr[4] != fxpExtended || length > limitsMaxExtended {
			f.rbuf = f.rhdr[:5]
			f.rremain = length - 1
			continue
		}
		pkt := make([]byte, 4+length)
		copy(pkt, f.rhdr[:5])
		if _, err := io.ReadFull(f.rw, pkt[5:]); err != nil {
			return 0, unexpected(err)
		}
		id, ok := limitsRequestID(pkt[5:])
		if !ok {
			f.rbuf = pkt
			continue
		}
		// Counted before the reply goes out, so that a client that has
		// read the reply sees the count (the tests rely on it).
		f.answered.Add(1)
		if err := f.send(limitsReply(id)); err != nil {
			return 0, err
		}
	}
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// limitsRequestID returns the request id if body (an EXTENDED packet
// after its type byte) is a limits@openssh.com request.
func limitsRequestID(body []byte) (uint32, bool) {
	if len(body) < 8 {
		return 0, false
	}
	id := binary.BigEndian.Uint32(body)
	n := binary.BigEndian.Uint32(body[4:])
	if uint64(n) > uint64(len(body)-8) || string(body[8:8+n]) != limitsExtName {
		return 0, false
	}
	return id, true
}

// limitsReply is the SSH_FXP_EXTENDED_REPLY to request id.
func limitsReply(id uint32) []byte {
	b := make([]byte, 0, 4+1+4+4*8)
	b = binary.BigEndian.AppendUint32(b, 1+4+4*8)
	b = append(b, fxpExtendedReply)
	b = binary.BigEndian.AppendUint32(b, id)
	b = binary.BigEndian.AppendUint64(b, limitsMaxPacket)
	b = binary.BigEndian.AppendUint64(b, limitsMaxData) // read
	b = binary.BigEndian.AppendUint64(b, limitsMaxData) // write
	b = binary.BigEndian.AppendUint64(b, maxOpenFiles)
	return b
}

// send writes a whole packet of the filter's own at the next packet
// boundary of the server's stream.
func (f *limitsFilter) send(pkt []byte) error {
	f.wmu.Lock()
	defer f.wmu.Unlock()
	if !f.wstarted || f.whdrN > 0 || f.wremain > 0 {
		f.queued = append(f.queued, pkt)
		return nil
	}
	return f.writeWhole(pkt)
}

// Write passes pkg/sftp's packets to the client, with the extension added
// to the first one.
func (f *limitsFilter) Write(p []byte) (int, error) {
	f.wmu.Lock()
	defer f.wmu.Unlock()
	done := 0
	if !f.wstarted {
		n, err := f.writeFirst(p)
		done += n
		if err != nil || done == len(p) {
			return done, err
		}
		p = p[n:]
	}
	for len(p) > 0 {
		// How much of p belongs to the current packet.
		var n int
		if f.whdrN < 4 {
			n = copy(f.whdr[f.whdrN:], p)
			f.whdrN += n
			if f.whdrN == 4 {
				f.wremain = binary.BigEndian.Uint32(f.whdr[:])
			}
		} else {
			n = len(p)
			if uint32(n) > f.wremain {
				n = int(f.wremain)
			}
			f.wremain -= uint32(n)
		}
		if w, err := f.rw.Write(p[:n]); err != nil {
			return done + w, err
		}
		done += n
		p = p[n:]
		if f.whdrN == 4 && f.wremain == 0 {
			f.whdrN = 0
			if err := f.packetEnd(4 + int(binary.BigEndian.Uint32(f.whdr[:]))); err != nil {
				return done, err
			}
			if err := f.flushQueued(); err != nil {
				return done, err
			}
		}
	}
	return done, nil
}

// writeFirst gathers the first packet and, once complete, writes it with
// the extension appended if it is SSH_FXP_VERSION. It returns how many
// bytes of p it took.
func (f *limitsFilter) writeFirst(p []byte) (int, error) {
	need := 4
	if len(f.wfirst) >= 4 {
		need = 4 + int(binary.BigEndian.Uint32(f.wfirst))
	}
	took := 0
	for len(f.wfirst) < need && len(p) > 0 {
		n := min(need-len(f.wfirst), len(p))
		f.wfirst = append(f.wfirst, p[:n]...)
		p = p[n:]
		took += n
		if len(f.wfirst) == 4 {
			need = 4 + int(binary.BigEndian.Uint32(f.wfirst))
		}
	}
	if len(f.wfirst) < need {
		return took, nil
	}
	pkt := f.wfirst
	if len(pkt) > 4 && pkt[4] == fxpVersion {
		pkt = appendString(pkt, limitsExtName)
		pkt = appendString(pkt, limitsExtVersion)
		binary.BigEndian.PutUint32(pkt, uint32(len(pkt)-4))
	}
	f.wstarted = true
	f.wfirst = nil
	if err := f.writeWhole(pkt); err != nil {
		return took, err
	}
	return took, f.flushQueued()
}

func (f *limitsFilter) flushQueued() error {
	for len(f.queued) > 0 {
		pkt := f.queued[0]
		f.queued = f.queued[1:]
		if err := f.writeWhole(pkt); err != nil {
			return err
		}
	}
	return nil
}

// writeWhole writes a whole packet of the filter's own.
func (f *limitsFilter) writeWhole(pkt []byte) error {
	if _, err := f.rw.Write(pkt); err != nil {
		return err
	}
	return f.packetEnd(len(pkt))
}

// packetEnd tells a packer under the filter that a packet of n bytes is
// complete (packer.go).
func (f *limitsFilter) packetEnd(n int) error {
	if f.ender != nil {
		return f.ender.packetEnd(n)
	}
	return nil
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}
