package edit

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/soc2ls/soc2ls/analysis/template"
)

// FuzzInsert checks the edit path: inserting a key into any mapping of a
// template that parses must give a template that still parses, in which the
// key appears once more than before, with every other byte preserved.
func FuzzInsert(f *testing.F) {
	matches, _ := filepath.Glob("../../testdata/rules/*/*")
	for _, m := range matches {
		if ext := filepath.Ext(m); ext == ".yaml" || ext == ".json" {
			if b, err := os.ReadFile(m); err == nil {
				f.Add(b, filepath.Base(m), uint16(3), true)
			}
		}
	}
	f.Add([]byte("a:\n  b: 1 # c\n  d: [1, 2]\n"), "t.yaml", uint16(0), false)
	f.Add([]byte("a: {b: 1}\n"), "t.yaml", uint16(1), true)
	f.Add([]byte("{\"a\": {}}"), "t.json", uint16(1), false)
	f.Fuzz(func(t *testing.T, src []byte, name string, pick uint16, nested bool) {
		if filepath.Ext(name) != ".json" {
			name = "t.yaml"
		} else {
			name = "t.json"
		}
		tp := template.Parse(name, src)
		if tp.Root == nil || len(tp.Problems) > 0 {
			return
		}
		var maps []*template.Node
		explicitKeys := false
		tp.Root.Walk(func(n *template.Node) bool {
			if n.Kind == template.Mapping && (len(n.Pairs) > 0 || n.Flow) {
				maps = append(maps, n)
				for _, p := range n.Pairs {
					// Explicit "? key" entries and empty keys are legal YAML
					// that no template uses; the builder does not support them.
					if p.Key.Start == p.Key.End || src[p.Key.Start] == '?' {
						explicitKeys = true
					}
				}
			}
			return true
		})
		if explicitKeys {
			return
		}
		if len(maps) == 0 {
			return
		}
		m := maps[int(pick)%len(maps)]
		const key = "ZqFuzzKey"
		if bytes.Contains(src, []byte(key)) {
			return
		}
		var v Value = Str("value")
		if nested {
			v = Map(KV{"Inner", List(Ref("X"), Str("y"))})
		}
		b := New(tp)
		b.Insert(m, key, v)
		out, err := Apply(src, b.Edits())
		if err != nil {
			t.Fatal(err)
		}
		re := template.Parse(name, out)
		if len(re.Problems) > 0 {
			t.Fatalf("inserting into the mapping at %d broke the document: %v\n--- before\n%s\n--- after\n%s", m.Start, re.Problems, src, out)
		}
		if bytes.Count(out, []byte(key)) != 1 {
			t.Fatalf("key not inserted:\n%s", out)
		}
		for _, e := range b.Edits() {
			if e.Start != e.End {
				t.Fatalf("an insertion replaced text: %+v", e)
			}
		}
	})
}
