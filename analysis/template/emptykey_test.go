package template

import (
	"strings"
	"testing"
)

// TestSectionNamedEmpty edits the entries of a top-level key "" whose value
// is a mapping, in YAML and JSON: a delta's Section "" names the root's
// pairs, so such a "section" must not be re-read as one (FuzzReparseJSON
// found the JSON case; its input is kept).
func TestSectionNamedEmpty(t *testing.T) {
	for _, c := range []struct{ name, src, at, text string }{
		{"t.yaml", "Resources:\n  X: 1\n\"\":\n  A: 1\n  B: 2\n", "A: 1", "A: 2"},
		{"t.json", `{"Resources": {"X": 1}, "": {"A": 1, "B": 2}}`, `"A": 1`, `"A": 2`},
	} {
		i := strings.Index(c.src, c.at)
		for _, inPlace := range []bool{false, true} {
			re := ReparseDelta
			if inPlace {
				re = ReparseInPlace
			}
			applyEdit(t, Parse(c.name, []byte(c.src)), splice{i, i + len(c.at), c.text}, re, inPlace)
		}
	}
}
