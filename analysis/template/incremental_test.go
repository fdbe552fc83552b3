package template

import (
	"encoding/binary"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/soc2ls/soc2ls/analysis/synth"
)

// reparseCorpus returns the templates the incremental tests edit: every YAML
// file under testdata, and synthetic templates.
func reparseCorpus(t testing.TB) [][]byte {
	var out [][]byte
	err := filepath.WalkDir("../../testdata", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		b, err := os.ReadFile(path)
		out = append(out, b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 10 {
		t.Fatalf("only %d templates found in testdata", len(out))
	}
	return append(out, synth.YAML(30<<10), synth.YAML(4<<10))
}

// editAlphabet is what random edits insert: YAML structure, intrinsic
// tags, quotes, comments, line breaks and a multibyte character.
var editAlphabet = []string{"x", "1", " ", "  ", "\n", "\n    ", ":", ": ", "- ", "#", "'", "\"", "!Ref ", "!Sub ",
	"{", "}", "[", "]", ",", "|", ">", "&a", "*a", "\t", "é", "\r\n", "Type: AWS::S3::Bucket", "\n  New:\n    Type: X\n",
	"Condition: C", "DependsOn: A", "Ref", "Fn::GetAtt", "true", "~", "!GetAtt B.Arn", "${A}", "!Sub '${AWS::Region}-${B}'",
	"DependsOn: [A, B]", "Condition: IsProd\n    ", "!If [C, 1, 2]"}

// splice is one edit: the bytes [start, end) replaced by text.
type splice struct {
	start, end int
	text       string
}

func (e splice) apply(src []byte) []byte {
	out := make([]byte, 0, len(src)+len(e.text))
	return append(append(append(out, src[:e.start]...), e.text...), src[e.end:]...)
}

// reparser is Reparse's signature: ReparseDelta or ReparseInPlace.
type reparser func(old *Template, src []byte, start, end, n int) (*Template, *Delta)

// applyEdit applies e to the template with re and checks the result and
// the delta against parses from scratch of the old and the new text, and,
// unless re consumed it, that the old template is intact. It reports
// whether the incremental path was taken.
func applyEdit(t *testing.T, cur *Template, e splice, re reparser, inPlace bool) (*Template, bool) {
	t.Helper()
	src := e.apply(cur.Source)
	oldWant := Parse(cur.Filename, cur.Source)
	got, d := re(cur, src, e.start, e.end, len(e.text))
	want := Parse(cur.Filename, src)
	if diff := diffTemplates(got, want); diff != "" {
		t.Fatalf("after edit %+v (%q), the incremental template differs from a parse from scratch in its %s\ntext:\n%s",
			e, e.text, diff, want.Source)
	}
	if d != nil {
		checkDelta(t, oldWant, d, e)
	}
	if inPlace && got.arena != nil {
		checkArena(t, got)
	}
	if d == nil || !inPlace {
		if diff := diffTemplates(cur, oldWant); diff != "" {
			t.Fatalf("edit %+v (%q) modified the old template (its %s)", e, e.text, diff)
		}
	}
	return got, d != nil
}

// checkDelta checks what a delta says against a parse from scratch of the
// old text: the edited entry, intact, and its references.
func checkDelta(t *testing.T, old *Template, d *Delta, e splice) {
	t.Helper()
	if d.Start != e.start || d.OldEnd != e.end || d.Shift != len(e.text)-(e.end-e.start) {
		t.Fatalf("edit %+v: delta says [%d, %d) shifted by %d", e, d.Start, d.OldEnd, d.Shift)
	}
	sec := old.Root.Get(d.Section)
	if sec == nil || sec.Kind != Mapping || d.Index < 0 || d.Index >= len(sec.Pairs) {
		t.Fatalf("edit %+v: delta names entry %d of section %q, which the old template does not have", e, d.Index, d.Section)
	}
	entry := sec.Pairs[d.Index]
	if entry.Key.End >= e.start || d.Index+1 < len(sec.Pairs) && sec.Pairs[d.Index+1].Key.Start <= e.end {
		t.Fatalf("edit %+v is not inside entry %s of %s", e, entry.Key.Value, d.Section)
	}
	if len(d.Old) != 1 || d.New != 1 || !reflect.DeepEqual(d.Old[0], entry) {
		t.Fatalf("edit %+v: Delta.Old is not the old entry %s as a parse of the old text has it", e, entry.Key.Value)
	}
	if want := old.Refs.From(d.Section, entry.Key.Value); len(want) != len(d.OldRefs) || len(want) > 0 && !reflect.DeepEqual(want, d.OldRefs) {
		t.Fatalf("edit %+v: Delta.OldRefs\n%+v\nwant\n%+v", e, d.OldRefs, want)
	}
}

// checkArena checks what ReparseInPlace relies on to move the spans after
// an edit without walking the tree: every node of the tree is in one of the
// arena's chunks, each chunk's bound holds, and the chunks of each entry
// re-read in place hold its value.
func checkArena(t *testing.T, tp *Template) {
	t.Helper()
	in := map[*Node]bool{}
	chunks := func(cs []arenaChunk) {
		for _, c := range cs {
			for i := range c.nodes {
				n := &c.nodes[i]
				if c.maxStart != math.MaxInt && n.Start > c.maxStart {
					t.Fatalf("a node starting at %d is in a chunk said to start by %d", n.Start, c.maxStart)
				}
				in[n] = true
			}
		}
	}
	chunks(tp.arena.parse)
	for i, e := range tp.arena.edits {
		if tp.arena.entry[e.key] != i {
			t.Fatalf("the arena's entry %d is not indexed", i)
		}
		before := len(in)
		chunks(e.chunks)
		sec := tp.Root.Pairs[lastKeyAtOrBefore(tp.Root.Pairs, e.key.Start)].Value
		if p := sec.Pairs[lastKeyAtOrBefore(sec.Pairs, e.key.Start)]; p.Key != e.key {
			t.Fatalf("the arena holds the chunks of entry %s, which is not in the tree", e.key.Value)
		} else if len(in) == before || !in[p.Value] {
			t.Fatalf("the arena's chunks of entry %s do not hold its value", e.key.Value)
		}
	}
	if len(tp.arena.entry) != len(tp.arena.edits) {
		t.Fatalf("the arena indexes %d entries, has %d", len(tp.arena.entry), len(tp.arena.edits))
	}
	var walk func(path string, n *Node)
	walk = func(path string, n *Node) {
		if n == nil {
			return
		}
		if !in[n] {
			t.Fatalf("node %s (%v at %v) is in none of the arena's chunks", path, n.Kind, n.Span)
		}
		for _, p := range n.Pairs {
			walk(path+"."+p.Key.Value+" (key)", p.Key)
			walk(path+"."+p.Key.Value, p.Value)
		}
		for i, it := range n.Items {
			walk(fmt.Sprintf("%s[%d]", path, i), it)
		}
		walk(path+" (argument)", n.Arg)
	}
	walk("$", tp.Root)
}

// diffTemplates returns where an incremental template differs from a parse
// from scratch, or "": every field, then every accessor.
func diffTemplates(got, want *Template) string {
	shared := got.shared.Load()
	got.shared.Store(false)
	// The arenas list the same nodes in different chunks (checkArena
	// checks an in-place template's).
	ga, wa := got.arena, want.arena
	got.arena, want.arena = nil, nil
	// A settled template's pending record is spent.
	gp := got.pending
	if gp != nil && !gp.active {
		got.pending = nil
	}
	equal := reflect.DeepEqual(got, want)
	got.shared.Store(shared)
	got.arena, want.arena = ga, wa
	got.pending = gp
	if !equal {
		switch {
		case !reflect.DeepEqual(got.Problems, want.Problems):
			return "problems"
		case !reflect.DeepEqual(got.Root, want.Root):
			where := "tree"
			if got.Root != nil && want.Root != nil {
				for i := range min(len(got.Root.Pairs), len(want.Root.Pairs)) {
					if !reflect.DeepEqual(got.Root.Pairs[i], want.Root.Pairs[i]) {
						where += " (section " + want.Root.Pairs[i].Key.Value + ": " + diffNodes("$", got.Root.Pairs[i].Value, want.Root.Pairs[i].Value) + diffNil("$", got.Root.Pairs[i].Value, want.Root.Pairs[i].Value) + ")"
						break
					}
				}
			}
			return where
		case !reflect.DeepEqual(got.Lines, want.Lines):
			return "line index"
		case !reflect.DeepEqual(got.Refs.All, want.Refs.All):
			for i := range min(len(got.Refs.All), len(want.Refs.All)) {
				if g, w := got.Refs.All[i], want.Refs.All[i]; !reflect.DeepEqual(g, w) {
					return fmt.Sprintf("references: %d of %d/%d is %+v (node %+v), want %+v (node %+v)", i, len(got.Refs.All), len(want.Refs.All), g, *g.Node, w, *w.Node)
				}
			}
			return fmt.Sprintf("references: %d, want %d", len(got.Refs.All), len(want.Refs.All))
		case !reflect.DeepEqual(got.Refs, want.Refs):
			return "reference index"
		case !reflect.DeepEqual(got.Resources, want.Resources):
			return "resources"
		case !reflect.DeepEqual(got.byType, want.byType) || !reflect.DeepEqual(got.typeIdx, want.typeIdx):
			return "resources by type"
		case !reflect.DeepEqual(got.Sections, want.Sections):
			return "sections"
		}
		return "model"
	}
	// The fields are equal; the accessors must be too (they read the
	// indexes through the slices).
	for _, p := range want.Parameters {
		if got.Parameter(p.Name) != got.Parameters[slices.Index(want.Parameters, want.Parameter(p.Name))] {
			return "Parameter(" + p.Name + ")"
		}
	}
	for _, c := range want.Conditions {
		if got.Condition(c.Name) != got.Conditions[slices.Index(want.Conditions, want.Condition(c.Name))] {
			return "Condition(" + c.Name + ")"
		}
	}
	for _, m := range want.Mappings {
		if got.Mapping(m.Name) != got.Mappings[slices.Index(want.Mappings, want.Mapping(m.Name))] {
			return "Mapping(" + m.Name + ")"
		}
	}
	for _, r := range want.Resources {
		if got.Resource(r.Name) != got.Resources[slices.Index(want.Resources, want.Resource(r.Name))] {
			return "Resource(" + r.Name + ")"
		}
		if !reflect.DeepEqual(got.ResourcesOfType(r.Type), want.ResourcesOfType(r.Type)) {
			return "ResourcesOfType(" + r.Type + ")"
		}
		for _, ns := range []Namespace{NSEntity, NSCondition, NSMapping} {
			if !reflect.DeepEqual(got.Refs.To(ns, r.Name), want.Refs.To(ns, r.Name)) {
				return "Refs.To(" + r.Name + ")"
			}
		}
	}
	if got.IsCloudFormation != want.IsCloudFormation {
		return "IsCloudFormation"
	}
	if want.Root == nil {
		return ""
	}
	for _, sec := range want.Root.Pairs {
		for _, e := range sectionPairs(sec.Value) {
			if !reflect.DeepEqual(got.Refs.From(sec.Key.Value, e.Key.Value), want.Refs.From(sec.Key.Value, e.Key.Value)) {
				return "Refs.From(" + sec.Key.Value + ", " + e.Key.Value + ")"
			}
		}
	}
	for _, r := range want.Refs.All {
		if !reflect.DeepEqual(got.Refs.To(r.Kind.Namespace(), r.Target), want.Refs.To(r.Kind.Namespace(), r.Target)) {
			return "Refs.To(" + r.Target + ")"
		}
		for _, off := range []int{r.Span.Start - 1, r.Span.Start, r.Span.End} {
			g, gok := got.Refs.At(off)
			w, wok := want.Refs.At(off)
			if gok != wok || !reflect.DeepEqual(g, w) {
				return "Refs.At"
			}
		}
	}
	return ""
}

// randomEdit picks an edit of src: mostly typing (a letter inserted, a
// letter deleted), some structural insertions, deletions of a few bytes and
// replacements, some of them of the same length.
func randomEdit(r *rand.Rand, src []byte) splice {
	pos := 0
	if len(src) > 0 {
		pos = r.IntN(len(src) + 1)
	}
	switch k := r.IntN(22); {
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
	case k < 20:
		if pos < len(src) {
			return splice{pos, pos + 1, string(rune('a' + r.IntN(26)))} // overwrite: nothing moves
		}
		return splice{pos, pos, "y"}
	default:
		return splice{pos, min(len(src), pos+r.IntN(40)), editAlphabet[r.IntN(len(editAlphabet))]}
	}
}

// editSequences makes random edit sequences over the corpus with re and
// checks, after every edit, that the template equals a parse of the same
// text from scratch; and that the incremental path is taken for many edits,
// so that the test is not vacuous. With ReparseInPlace each result is the
// next edit's old template.
func editSequences(t *testing.T, re reparser, inPlace bool, seed uint64, perTemplate int) {
	r := rand.New(rand.NewPCG(seed, 2))
	edits, incremental := 0, 0
	for _, src := range reparseCorpus(t) {
		cur := Parse("t.yaml", src)
		for range perTemplate {
			e := randomEdit(r, cur.Source)
			removed := string(cur.Source[e.start:e.end])
			var inc bool
			cur, inc = applyEdit(t, cur, e, re, inPlace)
			edits++
			if inc {
				incremental++
			}
			if len(cur.Problems) > 0 || cur.Root == nil {
				// Undo, as users do after a syntax error.
				cur, inc = applyEdit(t, cur, splice{e.start, e.start + len(e.text), removed}, re, inPlace)
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

func TestReparseRandomEdits(t *testing.T) { editSequences(t, ReparseDelta, false, 1, 25) }

func TestReparseInPlaceRandomEdits(t *testing.T) { editSequences(t, ReparseInPlace, true, 1, 25) }

// TestReparseInPlaceRandomEditsOtherSeed runs other sequences: ReparseInPlace
// modifies what it is given, so its chains deserve more of them.
func TestReparseInPlaceRandomEditsOtherSeed(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	editSequences(t, ReparseInPlace, true, 7, 10)
}

// TestReparseOneCharacter types and deletes one character inside each
// resource of a synthetic template: the edit the language server sees
// most, which must always be incremental, and, in place, must not copy.
func TestReparseOneCharacter(t *testing.T) {
	for _, inPlace := range []bool{false, true} {
		re := ReparseDelta
		if inPlace {
			re = ReparseInPlace
		}
		cur := Parse("t.yaml", synth.YAML(30<<10))
		for i := range cur.Resources {
			res := cur.Resources[i]
			if i%7 != 0 || res.TypeNode == nil {
				continue
			}
			at := res.TypeNode.End
			root := cur.Root
			var inc bool
			if cur, inc = applyEdit(t, cur, splice{at, at, "x"}, re, inPlace); !inc {
				t.Fatalf("typing in resource %s was not incremental", res.Name)
			}
			if inPlace && cur.Root != root {
				t.Fatalf("ReparseInPlace copied the tree for an edit in resource %s", res.Name)
			}
			if cur, inc = applyEdit(t, cur, splice{at, at + 1, ""}, re, inPlace); !inc {
				t.Fatalf("deleting in resource %s was not incremental", res.Name)
			}
			// Each resource's old values leave the arena: the chunks it
			// sweeps grow with the entries edited, not with the edits.
			if edited := i/7 + 1; inPlace && len(cur.arena.edits) != edited {
				t.Fatalf("after edits in %d resources, the arena holds the chunks of %d values", edited, len(cur.arena.edits))
			}
		}
	}
}

// TestReparseInPlaceLeavesSharedTemplates checks that ReparseInPlace does
// not modify a template that shares nodes with another through Reparse,
// whichever of the two it is given.
func TestReparseInPlaceLeavesSharedTemplates(t *testing.T) {
	t0 := Parse("t.yaml", synth.YAML(30<<10))
	mid := t0.Resources[len(t0.Resources)/2].TypeNode.End
	early := t0.Resources[2].TypeNode.End
	e1 := splice{mid, mid, "x"}
	t1, d := ReparseDelta(t0, e1.apply(t0.Source), mid, mid, 1)
	if d == nil {
		t.Fatal("not incremental")
	}
	check := func(what string, tp *Template) {
		t.Helper()
		if diff := diffTemplates(tp, Parse(tp.Filename, tp.Source)); diff != "" {
			t.Fatalf("%s changed (its %s)", what, diff)
		}
	}
	// In place on the old one, at an edit before the one that made the new
	// one: the nodes it would move are the new one's too.
	e2 := splice{early, early, "y"}
	t2, d := ReparseInPlace(t0, e2.apply(t0.Source), early, early, 1)
	if d == nil {
		t.Fatal("not incremental")
	}
	check("the template Reparse made", t1)
	check("the template ReparseInPlace was given", t0)
	check("the template ReparseInPlace made", t2)
	// In place on the new one: its nodes before the edit are the old one's.
	e3 := splice{early, early, "z"}
	t3, _ := ReparseInPlace(t1, e3.apply(t1.Source), early, early, 1)
	check("the template Reparse was given", t0)
	check("the template ReparseInPlace made", t3)
	check("the template ReparseInPlace was given", t1)
}

// FuzzReparse applies the edits the fuzzer encodes to a corpus template, with
// Reparse and, in a chain, with ReparseInPlace, and checks each result
// against a parse from scratch. Each edit is 4 bytes of position, 1 of
// deletion length, 1 choosing the inserted text.
func FuzzReparse(f *testing.F) {
	f.Add(uint8(0), []byte{0, 0, 1, 0, 0, 0})
	f.Add(uint8(1), []byte{0x80, 0, 0, 0, 3, 4, 0x10, 1, 0, 0, 0, 1})
	f.Add(uint8(5), []byte{0xff, 0, 0, 0, 0, 26})
	corpus := reparseCorpus(f)
	f.Fuzz(func(t *testing.T, which uint8, script []byte) {
		src := corpus[int(which)%len(corpus)]
		cur, curIP := Parse("t.yaml", src), Parse("t.yaml", src)
		for len(script) >= 6 {
			n := len(cur.Source)
			pos := int(binary.LittleEndian.Uint32(script)) % (n + 1)
			end := min(n, pos+int(script[4]%16))
			e := splice{pos, end, editAlphabet[int(script[5])%len(editAlphabet)]}
			cur, _ = applyEdit(t, cur, e, ReparseDelta, false)
			curIP, _ = applyEdit(t, curIP, e, ReparseInPlace, true)
			script = script[6:]
		}
	})
}

// FuzzReparseInPlace chains ReparseInPlace over a synthetic template of
// many chunks of nodes, with edits aimed inside its resources so that most
// are incremental, and checks each result against a parse from scratch and
// its arena (checkArena): the pass over the chunks must move exactly the
// nodes after the edit, whichever chunks they and the re-read entries' new
// values are in, and however often an entry is re-read. Each edit is 2
// bytes choosing the resource, 1 the offset in it, 1 the deletion length,
// 1 the inserted text.
func FuzzReparseInPlace(f *testing.F) {
	f.Add([]byte{0, 0, 40, 0, 0})
	f.Add([]byte{10, 0, 40, 0, 0, 10, 0, 41, 1, 2, 200, 0, 5, 3, 27})
	f.Add([]byte{255, 255, 255, 15, 4, 0, 0, 20, 0, 26, 1, 0, 20, 0, 39})
	src := synth.YAML(8 << 10) // a few chunks, small enough to fuzz fast
	f.Fuzz(func(t *testing.T, script []byte) {
		cur := Parse("t.yaml", src)
		if len(cur.arena.parse) < 3 {
			t.Fatalf("the template has %d chunks of nodes: too few to test the pass over them", len(cur.arena.parse))
		}
		for range 16 {
			if len(script) < 5 {
				return
			}
			res := cur.Resources[int(binary.LittleEndian.Uint16(script))%len(cur.Resources)]
			pos := min(len(cur.Source), res.Key.End+1+int(script[2]))
			end := min(len(cur.Source), pos+int(script[3]%16))
			e := splice{pos, end, editAlphabet[int(script[4])%len(editAlphabet)]}
			cur, _ = applyEdit(t, cur, e, ReparseInPlace, true)
			if len(cur.Resources) == 0 {
				return
			}
			script = script[5:]
		}
	})
}

// diffNil returns the path of the first node whose Pairs or Items is nil on
// one side only: diffNodes does not see it, reflect.DeepEqual does.
func diffNil(path string, a, b *Node) string {
	if a == nil || b == nil {
		return ""
	}
	if (a.Pairs == nil) != (b.Pairs == nil) || (a.Items == nil) != (b.Items == nil) {
		return fmt.Sprintf("%s: nil Pairs %v/%v, nil Items %v/%v", path, a.Pairs == nil, b.Pairs == nil, a.Items == nil, b.Items == nil)
	}
	for i := range min(len(a.Pairs), len(b.Pairs)) {
		if d := diffNil(path+"."+a.Pairs[i].Key.Value, a.Pairs[i].Value, b.Pairs[i].Value); d != "" {
			return d
		}
	}
	for i := range min(len(a.Items), len(b.Items)) {
		if d := diffNil(fmt.Sprintf("%s[%d]", path, i), a.Items[i], b.Items[i]); d != "" {
			return d
		}
	}
	return diffNil(path+"()", a.Arg, b.Arg)
}

// reparseCasesTemplate has an entry of each section the model reads, with
// every kind of reference, so that TestReparseCases can edit each.
const reparseCasesTemplate = `AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Env:
    Type: String
    AllowedValues: [dev, prod]
  Size:
    Type: Number
    Default: 3
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Not [!Condition IsProd]
Mappings:
  Region:
    us-east-1:
      Ami: ami-1
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Condition: IsProd
    Properties:
      BucketName: !Sub '${Env}-${AWS::Region}-bucket'
  Queue:
    Type: AWS::SQS::Queue
    DependsOn: [Bucket]
    Properties:
      DelaySeconds: !If [IsProd, 0, !Ref Size]
  Topic:
    Type: AWS::SNS::Topic
    DependsOn: Queue
    Properties:
      TopicName: !GetAtt Queue.QueueName
      Image: !FindInMap [Region, !Ref 'AWS::Region', Ami]
Outputs:
  Arn:
    Condition: IsProd
    Value: !GetAtt Bucket.Arn
`

// TestReparseCases makes each kind of edit inside an entry, with Reparse
// and with ReparseInPlace: each must be incremental and equal a parse.
func TestReparseCases(t *testing.T) {
	t.Run("LF", func(t *testing.T) { reparseCases(t, reparseCasesTemplate) })
	t.Run("CRLF", func(t *testing.T) { reparseCases(t, strings.ReplaceAll(reparseCasesTemplate, "\n", "\r\n")) })
}

func reparseCases(t *testing.T, text string) {
	src := []byte(text)
	nl := "\n"
	if strings.Contains(text, "\r") {
		nl = "\r\n"
	}
	at := func(s string) int {
		s = strings.ReplaceAll(s, "\n", nl)
		i := strings.Index(text, s)
		if i < 0 {
			t.Fatalf("%q is not in the template", s)
		}
		return i
	}
	cases := []struct {
		name string
		e    splice
	}{
		{"a parameter's type, before every other section", splice{at("String"), at("String") + 6, "Number"}},
		{"an allowed value added", splice{at("prod]"), at("prod]"), "prod, test, "}},
		{"a condition's reference renamed", splice{at("!Ref Env, prod"), at("!Ref Env, prod") + 8, "!Ref Size"}},
		{"a mapping's value", splice{at("ami-1"), at("ami-1") + 5, "ami-2"}},
		{"a resource's type, to a new one", splice{at("AWS::S3::Bucket"), at("AWS::S3::Bucket") + 15, "AWS::S3::BucketPolicy"}},
		{"a resource's type, overwritten in place", splice{at("Bucket\n    Condition") - 2, at("Bucket\n    Condition") - 1, "4"}},
		{"a resource's condition removed", splice{at("    Condition: IsProd\n    Properties"), at("    Properties:\n      BucketName"), ""}},
		{"a Sub variable added", splice{at("-bucket'"), at("-bucket'"), "-${Size}"}},
		{"a DependsOn added", splice{at("DependsOn: [Bucket]") + 18, at("DependsOn: [Bucket]") + 18, ", Topic"}},
		{"references removed", splice{at("!If [IsProd, 0, !Ref Size]"), at("!If [IsProd, 0, !Ref Size]") + 26, "5"}},
		{"a reference's target, same length", splice{at("Queue.QueueName"), at("Queue.QueueName") + 5, "Qveue"}},
		{"the last entry of the last section", splice{at("Bucket.Arn"), at("Bucket.Arn"), "My"}},
		{"an output's condition", splice{at("    Condition: IsProd\n    Value"), at("    Condition: IsProd\n    Value") + 21, "    Condition: IsDev"}},
		{"a duplicate key, a problem that says the first one's line", splice{at("      TopicName"), at("      TopicName"), "      TopicName: x" + nl}},
	}
	for _, c := range cases {
		for _, inPlace := range []bool{false, true} {
			re := ReparseDelta
			if inPlace {
				re = ReparseInPlace
			}
			if _, inc := applyEdit(t, Parse("t.yaml", src), c.e, re, inPlace); !inc {
				t.Errorf("%s (in place: %v) was not incremental", c.name, inPlace)
			}
		}
	}
	// The same edits one after another, each on the last one's result:
	// offsets are found again in the current text.
	for _, inPlace := range []bool{false, true} {
		re := ReparseDelta
		if inPlace {
			re = ReparseInPlace
		}
		cur := Parse("t.yaml", src)
		for _, c := range cases {
			old := string(src[c.e.start:c.e.end])
			i := strings.Index(string(cur.Source), old+text[c.e.end:min(c.e.end+12, len(src))])
			if i < 0 {
				continue // an earlier edit changed the place
			}
			cur, _ = applyEdit(t, cur, splice{i, i + len(old), c.e.text}, re, inPlace)
		}
	}
}

// TestReparseEmptyLastEntry types the value of an entry that has none, at
// the end of the document: the old value's null starts where the entry's
// region ends, as the nodes after an entry do, but nothing follows it, and
// Delta.Old must keep it where it was.
func TestReparseEmptyLastEntry(t *testing.T) {
	for _, text := range []string{"Resources:\n  A:\n    Type: AWS::S3::Bucket\n  B:", "Outputs:\n  B:"} {
		for _, inPlace := range []bool{false, true} {
			re := ReparseDelta
			if inPlace {
				re = ReparseInPlace
			}
			cur := Parse("t.yaml", []byte(text))
			if _, inc := applyEdit(t, cur, splice{len(text), len(text), "\n    Type: AWS::SNS::Topic\n"}, re, inPlace); !inc {
				t.Errorf("%q (in place: %v): typing the last entry's value was not incremental", text, inPlace)
			}
		}
	}
}
