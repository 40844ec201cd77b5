package formats

// Duplicate references within one file in bounded memory per line.

import (
	"cmp"
	"container/heap"
	"hash/maphash"
	"slices"
)

// refSet records every reference of a file as a fixed 16-byte entry (a
// 64-bit hash, an independent 32-bit check hash and the line) and finds the
// duplicates once the whole file is read. Memory is exactly 16 bytes per
// line (16 MiB for a million lines) in chunks of 1 MiB, with no growth
// copies and no hash-table slack; a map of the references themselves would
// cost several times that. Two different references are taken for the same
// only if they agree on all 96 hash bits: for a million lines the odds are
// about 1 in 10^17. Seeds are random per file, so nobody can craft
// colliding references.
type refSet struct {
	s1, s2 maphash.Seed
	chunks [][]refEntry
}

type refEntry struct {
	h     uint64
	check uint32
	line  uint32
}

const refChunk = 1 << 16 // entries per chunk (1 MiB)

func newRefSet() *refSet {
	return &refSet{s1: maphash.MakeSeed(), s2: maphash.MakeSeed()}
}

// add records ref, seen on line. Lines must be added in increasing order.
func (r *refSet) add(ref []byte, line int) {
	n := len(r.chunks)
	if n == 0 || len(r.chunks[n-1]) == refChunk {
		r.chunks = append(r.chunks, make([]refEntry, 0, refChunk))
		n++
	}
	r.chunks[n-1] = append(r.chunks[n-1], refEntry{
		h:     maphash.Bytes(r.s1, ref),
		check: uint32(maphash.Bytes(r.s2, ref)),
		line:  uint32(line),
	})
}

func compareRef(a, b refEntry) int {
	if c := cmp.Compare(a.h, b.h); c != 0 {
		return c
	}
	if c := cmp.Compare(a.check, b.check); c != 0 {
		return c
	}
	return cmp.Compare(a.line, b.line)
}

// duplicates calls fn for every line whose reference appeared on an
// earlier line, with the line of its first use. It sorts the chunks in
// place and merges them, so it needs no memory beyond the entries; calls
// come in no particular line order.
func (r *refSet) duplicates(fn func(line, first int)) {
	h := make(refHeap, 0, len(r.chunks))
	for _, c := range r.chunks {
		slices.SortFunc(c, compareRef)
		if len(c) > 0 {
			h = append(h, c)
		}
	}
	heap.Init(&h)
	var prev refEntry
	have := false
	for len(h) > 0 {
		e := h[0][0]
		if h[0] = h[0][1:]; len(h[0]) == 0 {
			heap.Pop(&h)
		} else {
			heap.Fix(&h, 0)
		}
		if have && e.h == prev.h && e.check == prev.check {
			fn(int(e.line), int(prev.line)) // prev keeps the first line
			continue
		}
		prev, have = e, true
	}
	r.chunks = nil
}

// refHeap is a min-heap of sorted runs keyed by their first entry.
type refHeap [][]refEntry

func (h refHeap) Len() int           { return len(h) }
func (h refHeap) Less(i, j int) bool { return compareRef(h[i][0], h[j][0]) < 0 }
func (h refHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *refHeap) Push(x any)        { *h = append(*h, x.([]refEntry)) }
func (h *refHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
