package batch

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"time"
)

// ids makes ULID-style identifiers: 26 characters of Crockford base32, a
// 48-bit millisecond time then 80 random bits. They sort by time as strings;
// within one millisecond (or when the clock stands still or steps back) the
// random part is incremented, so ids from one generator strictly increase.
type ids struct {
	mu     sync.Mutex
	lastMs uint64
	hi     uint16 // top 16 random bits
	lo     uint64 // low 64 random bits
}

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

func (g *ids) next(t time.Time) string {
	g.mu.Lock()
	ms := uint64(t.UnixMilli())
	if ms > g.lastMs {
		g.lastMs = ms
		var r [10]byte
		_, _ = rand.Read(r[:])
		g.hi = binary.BigEndian.Uint16(r[:2])
		// Keep headroom so that increments within a millisecond do not
		// overflow into the time part.
		g.lo = binary.BigEndian.Uint64(r[2:]) >> 1
	} else {
		g.lo++
		if g.lo == 0 {
			g.hi++
		}
	}
	ms, hi, lo := g.lastMs, g.hi, g.lo
	g.mu.Unlock()
	return encodeULID(ms, hi, lo)
}

func encodeULID(ms uint64, hi uint16, lo uint64) string {
	// 128 bits: ms(48) hi(16) lo(64); 26 chars x 5 bits = 130, top 2 bits zero.
	var b [16]byte
	b[0] = byte(ms >> 40)
	b[1] = byte(ms >> 32)
	b[2] = byte(ms >> 24)
	b[3] = byte(ms >> 16)
	b[4] = byte(ms >> 8)
	b[5] = byte(ms)
	binary.BigEndian.PutUint16(b[6:], hi)
	binary.BigEndian.PutUint64(b[8:], lo)
	var out [26]byte
	// Take 5 bits at a time from the 130-bit big-endian number (2 leading zero bits).
	for i := 0; i < 26; i++ {
		bit := i*5 - 2 // position in the 128-bit value of this char's first bit
		var v int
		for j := 0; j < 5; j++ {
			p := bit + j
			v <<= 1
			if p >= 0 && b[p/8]&(0x80>>(p%8)) != 0 {
				v |= 1
			}
		}
		out[i] = crockford[v]
	}
	return string(out[:])
}
