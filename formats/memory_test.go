package formats

import (
	"io"
	"testing"
)

// repeatReader yields prefix, then n bytes of fill, then suffix, without
// ever holding the whole input.
type repeatReader struct {
	prefix, suffix string
	fill           byte
	n              int
	stage          int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	switch {
	case r.stage == 0 && r.prefix != "":
		n := copy(p, r.prefix)
		r.prefix = r.prefix[n:]
		return n, nil
	case r.n > 0:
		k := min(len(p), r.n)
		for i := range k {
			p[i] = r.fill
		}
		r.n -= k
		return k, nil
	case r.suffix != "":
		n := copy(p, r.suffix)
		r.suffix = r.suffix[n:]
		return n, nil
	}
	return 0, io.EOF
}

// TestHostileInputBoundedMemory: a 64 MiB line without a line end, a
// 64 MiB run of separators, and a million blank lines are reported, not
// buffered: the heap stays far below the input size.
func TestHostileInputBoundedMemory(t *testing.T) {
	head := build(Refunds, refTitles)
	tests := []struct {
		name string
		r    io.Reader
		code string
	}{
		{"endless line", &repeatReader{prefix: head, fill: 'x', n: 64 << 20}, CodeLineTooLong},
		{"endless separators", &repeatReader{prefix: head, fill: ';', n: 64 << 20}, CodeLineTooLong},
		{"endless quote", &repeatReader{prefix: head + `"`, fill: 'x', n: 64 << 20}, CodeLineTooLong},
		{"a million blank lines then data", &repeatReader{prefix: head, fill: '\n', n: 1 << 20, suffix: "REF-1;PAY-1;5.00;;\n"}, CodeFieldCount},
		{"binary", &repeatReader{prefix: "\x00\x01", fill: 0xff, n: 64 << 20}, CodeEncoding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var issues []Issue
			peak := peakHeap(func() {
				var err error
				_, issues, err = Validate(tt.r, testOpt)
				if err != nil {
					t.Fatal(err)
				}
			})
			if len(issues) == 0 || !hasCode(issues, tt.code) {
				t.Errorf("issues %v, want %s", issues, tt.code)
			}
			if peak > 16<<20 {
				t.Errorf("peak heap %d MiB", peak>>20)
			}
		})
	}
}

func hasCode(is []Issue, code string) bool {
	for _, i := range is {
		if i.Code == code {
			return true
		}
	}
	return false
}

// TestLargeFileLinesAccepted validates a generated 100,000-line file: the
// same path as the 1M benchmark, kept small enough for every test run.
func TestLargeFileLinesAccepted(t *testing.T) {
	g := newPaymentsGen(100_000)
	sum, issues, err := Validate(g, testOpt)
	if err != nil || len(issues) != 0 {
		t.Fatalf("%v %v", err, issues)
	}
	if sum.Lines != 100_000 || sum.Total != newPaymentsGen(100_000).total() {
		t.Errorf("summary %+v", sum)
	}
}
