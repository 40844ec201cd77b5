package formats

import (
	"fmt"
	"slices"
	"testing"
)

// TestRefSetMatchesExactSet compares refSet with an exact map of the
// references over a file of 50,000 lines with repeated references.
func TestRefSetMatchesExactSet(t *testing.T) {
	r := newRefSet()
	exact := map[string]int{}
	var want, got [][2]int
	for line := 4; line < 50_004; line++ {
		ref := fmt.Sprintf("PAY-%d", line)
		if line%97 == 0 {
			ref = fmt.Sprintf("PAY-%d", line/3) // an earlier reference, or a new one
		}
		if first, ok := exact[ref]; ok {
			want = append(want, [2]int{line, first})
		} else {
			exact[ref] = line
		}
		r.add([]byte(ref), line)
	}
	r.duplicates(func(line, first int) { got = append(got, [2]int{line, first}) })
	slices.SortFunc(got, func(a, b [2]int) int { return a[0] - b[0] })
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("got %d duplicates, want %d (first got %v, want %v)", len(got), len(want), got[:min(3, len(got))], want[:min(3, len(want))])
	}
}
