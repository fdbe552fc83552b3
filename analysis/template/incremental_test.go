package template

import (
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/soc2ls/soc2ls/analysis/synth"
)

// reparseCorpus returns the templates the incremental tests edit: the
// examples, every YAML file of the rule tests, and a synthetic template.
func reparseCorpus(t testing.TB) [][]byte {
	var out [][]byte
	for _, pat := range []string{"../../testdata/examples/*.yaml", "../../testdata/rules/*/*.yaml"} {
		matches, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range matches {
			b, err := os.ReadFile(m)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b)
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d templates found in testdata", len(out))
	}
	return append(out, synth.YAML(30<<10))
}

// editAlphabet is what random edits insert: YAML structure, intrinsic
// tags, quotes, comments, line breaks and a multibyte character.
var editAlphabet = []string{"x", "1", " ", "  ", "\n", "\n    ", ":", ": ", "- ", "#", "'", "\"", "!Ref ", "!Sub ",
	"{", "}", "[", "]", ",", "|", ">", "&a", "*a", "\t", "é", "\r\n", "Type: AWS::S3::Bucket", "\n  New:\n    Type: X\n",
	"Condition: C", "DependsOn: A", "Ref", "Fn::GetAtt", "true", "~"}

// splice is one edit: the bytes [start, end) replaced by text.
type splice struct {
	start, end int
	text       string
}

// applyEdit applies e to the template, incrementally, and checks the result
// against a parse from scratch. It reports whether the incremental path
// was taken.
func applyEdit(t *testing.T, cur *Template, e splice) (*Template, bool) {
	t.Helper()
	src := make([]byte, 0, len(cur.Source)+len(e.text))
	src = append(append(append(src, cur.Source[:e.start]...), e.text...), cur.Source[e.end:]...)
	before := snapshotTree(cur)
	inc, _ := reparseEntry(cur, src, e.start, e.end, len(e.text))
	want := Parse(cur.Filename, src)
	got := inc
	if got == nil {
		got = Reparse(cur, src, e.start, e.end, len(e.text))
	}
	if !reflect.DeepEqual(got, want) {
		diffTemplates(t, got, want, e)
	}
	if after := snapshotTree(cur); !reflect.DeepEqual(before, after) {
		t.Fatalf("Reparse modified the old template (edit %+v)", e)
	}
	return got, inc != nil
}

// snapshotTree is a deep copy of a template's tree, to check that Reparse
// leaves the old one alone.
func snapshotTree(t *Template) *Node {
	if t.Root == nil {
		return nil
	}
	return (&shifter{alloc: &allocator{}}).node(t.Root)
}

// diffTemplates fails with the first difference between an incremental
// and a from-scratch template.
func diffTemplates(t *testing.T, got, want *Template, e splice) {
	t.Helper()
	var where string
	switch {
	case !reflect.DeepEqual(got.Problems, want.Problems):
		where = "problems"
	case !reflect.DeepEqual(got.Root, want.Root):
		where = "tree"
		if got.Root != nil && want.Root != nil {
			for i := range min(len(got.Root.Pairs), len(want.Root.Pairs)) {
				if !reflect.DeepEqual(got.Root.Pairs[i], want.Root.Pairs[i]) {
					where += " (section " + want.Root.Pairs[i].Key.Value + ")"
					break
				}
			}
		}
	case !reflect.DeepEqual(got.Lines, want.Lines):
		where = "line index"
	case !reflect.DeepEqual(got.Refs, want.Refs):
		where = "reference index"
	default:
		where = "model"
	}
	t.Fatalf("after edit %+v (%q), the incremental template differs from a parse from scratch in its %s\ntext:\n%s",
		e, e.text, where, want.Source)
}

// randomEdit picks an edit of src: mostly typing (a letter inserted, a
// letter deleted), some structural insertions, deletions of a few bytes and
// replacements.
func randomEdit(r *rand.Rand, src []byte) splice {
	pos := 0
	if len(src) > 0 {
		pos = r.IntN(len(src) + 1)
	}
	switch k := r.IntN(20); {
	case k < 8:
		return splice{pos, pos, string(rune('a' + r.IntN(26)))}
	case k < 12:
		for i := pos; i < len(src) && i < pos+40; i++ {
			if c := src[i]; c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
				return splice{i, i + 1, ""}
			}
		}
		return splice{pos, pos, "x"}
	case k < 16:
		return splice{pos, pos, editAlphabet[r.IntN(len(editAlphabet))]}
	case k < 18:
		return splice{pos, min(len(src), pos+1+r.IntN(8)), ""}
	default:
		return splice{pos, min(len(src), pos+r.IntN(40)), editAlphabet[r.IntN(len(editAlphabet))]}
	}
}

// TestReparseRandomEdits makes random edit sequences over real templates
// and checks, after every edit, that the incremental template equals a
// parse of the same text from scratch; and that the incremental path is
// taken for most edits, so that the test is not vacuous.
func TestReparseRandomEdits(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	edits, incremental := 0, 0
	for _, src := range reparseCorpus(t) {
		cur := Parse("t.yaml", src)
		for range 25 {
			e := randomEdit(r, cur.Source)
			removed := string(cur.Source[e.start:e.end])
			var inc bool
			cur, inc = applyEdit(t, cur, e)
			edits++
			if inc {
				incremental++
			}
			if len(cur.Problems) > 0 || cur.Root == nil {
				// Undo, as users do after a syntax error.
				cur, inc = applyEdit(t, cur, splice{e.start, e.start + len(e.text), removed})
				edits++
				if inc {
					incremental++
				}
			}
		}
	}
	t.Logf("%d edits, %d incremental", edits, incremental)
	if incremental < edits/4 {
		t.Errorf("only %d of %d edits took the incremental path", incremental, edits)
	}
}

// TestReparseOneCharacter types and deletes one character inside each
// resource of a synthetic template: the edit the language server sees
// most, which must always be incremental.
func TestReparseOneCharacter(t *testing.T) {
	cur := Parse("t.yaml", synth.YAML(30<<10))
	for i, res := range cur.Resources {
		if i%7 != 0 || res.TypeNode == nil {
			continue
		}
		at := res.TypeNode.End
		var inc bool
		if cur, inc = applyEdit(t, cur, splice{at, at, "x"}); !inc {
			t.Fatalf("typing in resource %s was not incremental", res.Name)
		}
		if cur, inc = applyEdit(t, cur, splice{at, at + 1, ""}); !inc {
			t.Fatalf("deleting in resource %s was not incremental", res.Name)
		}
	}
}

// FuzzReparse applies the edits the fuzzer encodes to a corpus template and
// checks each result against a parse from scratch. Each edit is 4 bytes of
// position, 1 of deletion length, 1 choosing the inserted text.
func FuzzReparse(f *testing.F) {
	f.Add(uint8(0), []byte{0, 0, 1, 0, 0, 0})
	f.Add(uint8(1), []byte{0x80, 0, 0, 0, 3, 4, 0x10, 1, 0, 0, 0, 1})
	f.Add(uint8(5), []byte{0xff, 0, 0, 0, 0, 26})
	corpus := reparseCorpus(f)
	f.Fuzz(func(t *testing.T, which uint8, script []byte) {
		cur := Parse("t.yaml", corpus[int(which)%len(corpus)])
		for len(script) >= 6 {
			n := len(cur.Source)
			pos := int(binary.LittleEndian.Uint32(script)) % (n + 1)
			end := min(n, pos+int(script[4]%16))
			cur, _ = applyEdit(t, cur, splice{pos, end, editAlphabet[int(script[5])%len(editAlphabet)]})
			script = script[6:]
		}
	})
}
