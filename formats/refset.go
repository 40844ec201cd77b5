package formats

// Duplicate references within one file in bounded memory per line.

import "hash/maphash"

// refSet records every reference of a file as a fixed 16-byte entry (a
// 64-bit hash, an independent 32-bit check hash and the line) and finds the
// duplicates once the whole file is read.
//
// Memory is 16 bytes per line (16 MiB for a million lines) plus at most
// 2 MiB of partly filled chunks, with no growth copies and no hash-table
// slack; a Go map of the same hashes measured 38 bytes per entry, and the
// references themselves would cost more still. Entries are spread over 256
// buckets by the top bits of their hash; at the end each bucket (about
// lines/256 entries) is checked with one small, cache-resident map that is
// reused, so the check costs a few tens of milliseconds per million lines.
//
// Two different references are taken for the same only if they agree on all
// 96 hash bits: for a million lines the odds are about 1 in 10^17. Seeds are
// random per file, so nobody can craft colliding references.
type refSet struct {
	s1, s2  maphash.Seed
	buckets [refBuckets][][]refEntry
}

type refEntry struct {
	h     uint64
	check uint32
	line  uint32
}

const (
	refBuckets = 256
	refChunk   = 512 // entries per chunk (8 KiB)
	// refFirstChunk is the size of a bucket's first chunk (256 bytes).
	refFirstChunk = 16
)

func newRefSet() *refSet {
	return &refSet{s1: maphash.MakeSeed(), s2: maphash.MakeSeed()}
}

// add records ref, seen on line. Lines must be added in increasing order.
func (r *refSet) add(ref []byte, line int) {
	e := refEntry{
		h:     maphash.Bytes(r.s1, ref),
		check: uint32(maphash.Bytes(r.s2, ref)),
		line:  uint32(line),
	}
	b := &r.buckets[e.h>>56]
	n := len(*b)
	if n == 0 || len((*b)[n-1]) == cap((*b)[n-1]) {
		// A bucket's first chunk is small: a 1,000-line file would
		// otherwise zero 2 MiB (256 full chunks) for 16 KB of entries,
		// which was a third of the CPU of a burst of small uploads
		// (docs/BENCHMARKS.md, "SFTP vs OpenSSH"). Later chunks are full
		// size; chunks are never copied.
		size := refChunk
		if n == 0 {
			size = refFirstChunk
		}
		*b = append(*b, make([]refEntry, 0, size))
		n++
	}
	(*b)[n-1] = append((*b)[n-1], e)
}

// refKey is what makes two entries the same reference.
type refKey struct {
	h     uint64
	check uint32
}

// duplicates calls fn for every line whose reference appeared on an
// earlier line, with the line of its first use, then forgets the entries.
// Within a bucket entries are in line order, so the first entry of a key
// is its first use; calls come in no particular order overall.
func (r *refSet) duplicates(fn func(line, first int)) {
	seen := make(map[refKey]uint32)
	for i := range r.buckets {
		clear(seen)
		for _, chunk := range r.buckets[i] {
			for _, e := range chunk {
				k := refKey{e.h, e.check}
				if first, ok := seen[k]; ok {
					fn(int(e.line), int(first))
					continue
				}
				seen[k] = e.line
			}
		}
		r.buckets[i] = nil
	}
}
