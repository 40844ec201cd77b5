package batch

import (
	"encoding/binary"
	"errors"
	"time"
)

// A compact binary record encoding: the hot records (transactions,
// mandates, ledger entries, line results) number in the millions, and JSON
// would triple the store and the time spent encoding.

type enc struct{ b []byte }

func (e *enc) str(s string) {
	e.b = binary.AppendUvarint(e.b, uint64(len(s)))
	e.b = append(e.b, s...)
}
func (e *enc) i64(v int64)  { e.b = binary.AppendVarint(e.b, v) }
func (e *enc) u64(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

// date writes a date as days since 1970-01-01 (+1, so 0 is the zero time).
func (e *enc) date(t time.Time) {
	if t.IsZero() {
		e.u64(0)
		return
	}
	e.i64(civil(t).Unix()/86400 + 1)
}

// time writes an instant in nanoseconds (0 = zero time).
func (e *enc) time(t time.Time) {
	if t.IsZero() {
		e.i64(0)
		return
	}
	e.i64(t.UnixNano())
}

var errCorrupt = errors.New("batch: corrupt record")

type dec struct {
	b   []byte
	err error
}

func (d *dec) str() string {
	n, k := binary.Uvarint(d.b)
	if k <= 0 || uint64(len(d.b)-k) < n {
		d.fail()
		return ""
	}
	s := string(d.b[k : k+int(n)])
	d.b = d.b[k+int(n):]
	return s
}
func (d *dec) i64() int64 {
	v, k := binary.Varint(d.b)
	if k <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[k:]
	return v
}
func (d *dec) u64() uint64 {
	v, k := binary.Uvarint(d.b)
	if k <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[k:]
	return v
}
func (d *dec) bool() bool {
	if len(d.b) < 1 {
		d.fail()
		return false
	}
	v := d.b[0] == 1
	d.b = d.b[1:]
	return v
}
func (d *dec) date() time.Time {
	if len(d.b) > 0 && d.b[0] == 0 {
		d.b = d.b[1:]
		return time.Time{}
	}
	v := d.i64()
	return time.Unix((v-1)*86400, 0).UTC()
}
func (d *dec) time() time.Time {
	v := d.i64()
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(0, v).UTC()
}
func (d *dec) fail() {
	if d.err == nil {
		d.err = errCorrupt
	}
	d.b = nil
}

// dayKey is a date as 4 sortable bytes (days since 1970 + an offset so
// that every date of interest is positive).
func dayKey(t time.Time) []byte {
	var k [4]byte
	binary.BigEndian.PutUint32(k[:], uint32(civil(t).Unix()/86400+1<<20))
	return k[:]
}

func dayFromKey(k []byte) time.Time {
	v := int64(binary.BigEndian.Uint32(k)) - 1<<20
	return time.Unix(v*86400, 0).UTC()
}

func u64Key(v uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], v)
	return k[:]
}

// mkey is merchant + NUL + rest: a merchant ID never holds a NUL, so a
// merchant's keys form one contiguous, prefix-free range.
func mkey(merchant string, rest ...[]byte) []byte {
	n := len(merchant) + 1
	for _, r := range rest {
		n += len(r)
	}
	k := make([]byte, 0, n)
	k = append(k, merchant...)
	k = append(k, 0)
	for _, r := range rest {
		k = append(k, r...)
	}
	return k
}
