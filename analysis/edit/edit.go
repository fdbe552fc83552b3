// Package edit builds text edits that repair CloudFormation templates in the
// template's own style: YAML short-form tags and the document's indentation
// in YAML, long-form functions and the document's indentation in JSON.
// Nothing is reformatted: an edit touches only the bytes it must, so the
// user's comments, quoting and layout survive.
package edit

import (
	"bytes"
	"fmt"
	"sort"
)

// Edit replaces the bytes [Start, End) of a document with NewText.
type Edit struct {
	Start, End int
	NewText    string
}

// Apply applies non-overlapping edits to src. Identical edits are applied
// once, so fixes that each add the same parameter compose.
func Apply(src []byte, edits []Edit) ([]byte, error) {
	edits, err := Normalize(edits)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Grow(len(src) + 256)
	last := 0
	for _, e := range edits {
		if e.Start < 0 || e.End > len(src) || e.Start > e.End {
			return nil, fmt.Errorf("edit [%d,%d) is outside the document (%d bytes)", e.Start, e.End, len(src))
		}
		out.Write(src[last:e.Start])
		out.WriteString(e.NewText)
		last = e.End
	}
	out.Write(src[last:])
	return out.Bytes(), nil
}

// Normalize sorts edits, drops exact duplicates and reports overlaps. Two
// insertions at the same offset are kept in their original order.
func Normalize(edits []Edit) ([]Edit, error) {
	out := make([]Edit, 0, len(edits))
	seen := map[Edit]bool{}
	for _, e := range edits {
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Start != out[j].Start {
			return out[i].Start < out[j].Start
		}
		return out[i].End < out[j].End
	})
	for i := 1; i < len(out); i++ {
		if out[i].Start < out[i-1].End {
			return nil, fmt.Errorf("edits overlap at bytes %d-%d and %d-%d", out[i-1].Start, out[i-1].End, out[i].Start, out[i].End)
		}
	}
	return out, nil
}

// Compatible reports whether two sets of edits, from different fixes, can
// be applied together: no edit of one overlaps an edit of the other, and
// they do not insert different text at the same offset (whose order would be
// arbitrary). Edits present in both sets are shared, not conflicting.
func Compatible(a, b []Edit) bool {
	inA := make(map[Edit]bool, len(a))
	for _, e := range a {
		inA[e] = true
	}
	for _, y := range b {
		if inA[y] {
			continue
		}
		for _, x := range a {
			if y.Start < x.End && x.Start < y.End {
				return false
			}
			if y.Start == x.Start && (y.Start == y.End || x.Start == x.End) {
				return false
			}
		}
	}
	return true
}
