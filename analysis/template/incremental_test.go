package template

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"io/fs"
	"maps"
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
	"DependsOn: [A, B]", "Condition: IsProd\n    ", "!If [C, 1, 2]",
	// Whole lines, for the start of an entry's line: an entry (new, or one
	// the synthetic templates have), comments, a root key.
	"  NewQueue:\n    Type: AWS::SQS::Queue\n", "  Bucket0:\n    Type: AWS::S3::Bucket\n", "  # note\n", "# note\n",
	"Outputs:\n", "  Tail:\r\n    Type: AWS::SNS::Topic"}

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
		checkDelta(t, oldWant, want, d, e)
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

// checkDelta checks what a delta says against parses from scratch of the
// old and the new text: the run of entries, as the old parse has them,
// their references, the entries that replace them, and whether only
// trivia changed.
func checkDelta(t *testing.T, old, want *Template, d *Delta, e splice) {
	t.Helper()
	if d.Start != e.start || d.OldEnd != e.end || d.Shift != len(e.text)-(e.end-e.start) {
		t.Fatalf("edit %+v: delta says [%d, %d) shifted by %d", e, d.Start, d.OldEnd, d.Shift)
	}
	pairsOf := func(tp *Template) []*Pair {
		if d.Section == "" {
			return tp.Root.Pairs
		}
		sec := tp.Root.Get(d.Section)
		if sec == nil || sec.Kind != Mapping {
			t.Fatalf("edit %+v: delta names section %q, which is no mapping", e, d.Section)
		}
		return sec.Pairs
	}
	oldPairs, newPairs := pairsOf(old), pairsOf(want)
	if d.Index < 0 || d.Index+len(d.Old) > len(oldPairs) || d.Index+d.New > len(newPairs) ||
		len(oldPairs)-len(d.Old) != len(newPairs)-d.New {
		t.Fatalf("edit %+v: delta replaces %d entries at %d of %q by %d, which had %d and has %d", e, len(d.Old), d.Index, d.Section, d.New, len(oldPairs), len(newPairs))
	}
	// The entries around the run are the same, and the edit lies between
	// them.
	after := d.Index + len(d.Old)
	for i := range oldPairs {
		if i >= d.Index && i < after {
			continue
		}
		j := i
		if i >= after {
			j = i - len(d.Old) + d.New
		}
		if oldPairs[i].Key.Value != newPairs[j].Key.Value {
			t.Fatalf("edit %+v: entry %s outside the run became %s", e, oldPairs[i].Key.Value, newPairs[j].Key.Value)
		}
	}
	if d.Index > 0 && oldPairs[d.Index-1].Value.End > e.start || after < len(oldPairs) && oldPairs[after].Key.Start < e.end {
		t.Fatalf("edit %+v is not inside the run %d-%d of %q", e, d.Index, after, d.Section)
	}
	var wantRefs []Reference
	for k, p := range d.Old {
		if !reflect.DeepEqual(p, oldPairs[d.Index+k]) {
			t.Fatalf("edit %+v: Delta.Old[%d] is not the old entry %s as a parse of the old text has it", e, k, oldPairs[d.Index+k].Key.Value)
		}
		if d.Section != "" {
			wantRefs = append(wantRefs, old.Refs.From(d.Section, p.Key.Value)...)
		}
	}
	if len(wantRefs) != len(d.OldRefs) || len(wantRefs) > 0 && !reflect.DeepEqual(wantRefs, d.OldRefs) {
		t.Fatalf("edit %+v: Delta.OldRefs\n%+v\nwant\n%+v", e, d.OldRefs, wantRefs)
	}
	if d.Section == "" {
		if len(d.Old) != d.New {
			t.Fatalf("edit %+v: a run of root pairs changed their number", e)
		}
		for k, p := range d.Old {
			if n := newPairs[d.Index+k]; n.Key.Value != p.Key.Value || entrySections[n.Key.Value] || n.Value.Kind == Mapping || p.Value.Kind == Mapping {
				t.Fatalf("edit %+v: a run of root pairs replaced %s by %s", e, p.Key.Value, n.Key.Value)
			}
		}
	}
	// Trivia: the same trees, every span moved as an offset around the
	// edit moves, and no node starting inside the edited bytes.
	trivia := len(d.Old) == d.New
	for k := 0; trivia && k < d.New; k++ {
		trivia = reflect.DeepEqual(movedSpans(d.Old[k].Key, e), withoutMark(newPairs[d.Index+k].Key)) &&
			reflect.DeepEqual(movedSpans(d.Old[k].Value, e), withoutMark(newPairs[d.Index+k].Value))
		if startsIn(d.Old[k].Key, e) || startsIn(d.Old[k].Value, e) {
			trivia = false
		}
	}
	if d.Trivia != trivia {
		t.Fatalf("edit %+v (%q): Delta.Trivia is %v, want %v", e, e.text, d.Trivia, trivia)
	}
}

// withoutSpans returns a deep copy of n with every span zeroed (and no
// mark of an unsettled re-parse).
func withoutSpans(n *Node) *Node {
	return mapSpans(n, func(Span) Span { return Span{} })
}

// movedSpans returns a deep copy of n, a node of the text before the edit
// e, with its spans where an offset moves across e when nothing but
// positions changed: bounds after e.end move by the change in length.
func movedSpans(n *Node, e splice) *Node {
	at := func(o int) int {
		if o > e.end {
			return o + len(e.text) - (e.end - e.start)
		}
		return o
	}
	return mapSpans(n, func(s Span) Span { return Span{at(s.Start), at(s.End)} })
}

// withoutMark returns a deep copy of n without the mark of an unsettled
// re-parse.
func withoutMark(n *Node) *Node {
	return mapSpans(n, func(s Span) Span { return s })
}

// startsIn reports whether n or a node below it (keys included) starts
// inside the edited bytes of e, after their first.
func startsIn(n *Node, e splice) bool {
	if n == nil {
		return false
	}
	if n.Start > e.start && n.Start <= e.end {
		return true
	}
	for _, p := range n.Pairs {
		if startsIn(p.Key, e) || startsIn(p.Value, e) {
			return true
		}
	}
	for _, it := range n.Items {
		if startsIn(it, e) {
			return true
		}
	}
	return startsIn(n.Arg, e)
}

// mapSpans returns a deep copy of n with every span mapped by f (and no
// mark of an unsettled re-parse).
func mapSpans(n *Node, f func(Span) Span) *Node {
	if n == nil {
		return nil
	}
	c := *n
	c.Span, c.ValueSpan, c.FnSpan, c.moved = f(n.Span), f(n.ValueSpan), f(n.FnSpan), false
	if n.Pairs != nil {
		c.Pairs = make([]*Pair, len(n.Pairs))
		for i, p := range n.Pairs {
			c.Pairs[i] = &Pair{Key: mapSpans(p.Key, f), Value: mapSpans(p.Value, f)}
		}
	}
	if n.Items != nil {
		c.Items = make([]*Node, len(n.Items))
		for i, it := range n.Items {
			c.Items[i] = mapSpans(it, f)
		}
	}
	c.Arg = mapSpans(n.Arg, f)
	return &c
}

// checkArena checks what ReparseInPlace relies on to move the spans after
// an edit without walking the tree: every node of the tree is in one of the
// arena's chunks or among its loose nodes, each chunk's bound holds, and
// each run of entries re-read in place holds the nodes of its entries
// still in the tree, and is dropped when none is.
func checkArena(t *testing.T, tp *Template) {
	t.Helper()
	in := map[*Node]int{} // the run holding each node, -1 for the parse
	chunks := func(run int, cs []arenaChunk) {
		for _, c := range cs {
			for i := range c.nodes {
				n := &c.nodes[i]
				if c.maxStart != math.MaxInt && n.Start > c.maxStart {
					t.Fatalf("a node starting at %d is in a chunk said to start by %d", n.Start, c.maxStart)
				}
				in[n] = run
			}
		}
	}
	chunks(-1, tp.arena.parse)
	live := map[int]int{}
	for _, i := range tp.arena.entry {
		if i < 0 || i >= len(tp.arena.runs) {
			t.Fatalf("the arena indexes an entry in run %d of %d", i, len(tp.arena.runs))
		}
		live[i]++
	}
	for i, r := range tp.arena.runs {
		if r.live == 0 || r.live != live[i] {
			t.Fatalf("the arena's run %d says %d entries live, %d are indexed", i, r.live, live[i])
		}
		chunks(i, r.chunks)
	}
	loose := map[*Node]bool{}
	for _, n := range tp.arena.loose {
		if _, ok := in[n]; ok {
			t.Fatalf("a loose node is in a chunk too")
		}
		loose[n] = true
	}
	var walk func(path string, n *Node)
	walk = func(path string, n *Node) {
		if n == nil {
			return
		}
		if _, ok := in[n]; !ok && !loose[n] {
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
	if tp.Root == nil {
		if len(tp.arena.entry) > 0 {
			t.Fatalf("the arena of a template without a tree indexes %d entries", len(tp.arena.entry))
		}
		return
	}
	// The entries the arena indexes are the tree's, their nodes in their
	// runs' chunks: the root's pairs and the sections' entries.
	for i, r := range tp.arena.runs {
		for _, e := range r.entries {
			if j, ok := tp.arena.entry[e.Key]; ok && j != i {
				t.Fatalf("entry %s of run %d is indexed in run %d", e.Key.Value, i, j)
			}
		}
	}
	found := 0
	entry := func(p *Pair) {
		i, ok := tp.arena.entry[p.Key]
		if !ok {
			return
		}
		found++
		if in[p.Key] != i || in[p.Value] != i {
			t.Fatalf("the arena's run %d does not hold entry %s", i, p.Key.Value)
		}
	}
	for _, sec := range tp.Root.Pairs {
		entry(sec)
		for _, e := range sectionPairs(sec.Value) {
			entry(e)
		}
	}
	if found != len(tp.arena.entry) {
		t.Fatalf("the arena indexes %d entries, %d of them in the tree", len(tp.arena.entry), found)
	}
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
	edits, incremental, structural, structuralInc := 0, 0, 0, 0
	kinds := map[string][2]int{} // the structural edits of each kind, and how many were incremental
	for _, src := range reparseCorpus(t) {
		cur := Parse("t.yaml", src)
		for range perTemplate {
			// A third of the edits are of the structure: keys, entries,
			// comments between them (see structuralEdit).
			isStructural := r.IntN(3) == 0
			e, kind := randomEdit(r, cur.Source), ""
			if isStructural {
				e, kind = structuralEdit(r, cur)
			}
			removed := string(cur.Source[e.start:e.end])
			var inc bool
			cur, inc = applyEdit(t, cur, e, re, inPlace)
			edits++
			if inc {
				incremental++
			}
			if isStructural {
				structural++
				k := kinds[kind]
				k[0]++
				if inc {
					structuralInc++
					k[1]++
				}
				kinds[kind] = k
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
	t.Logf("%d edits, %d incremental; of them %d of the structure, %d incremental", edits, incremental, structural, structuralInc)
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		t.Logf("%s: %d of %d incremental", cmp.Or(k, "random"), kinds[k][1], kinds[k][0])
	}
	if incremental < edits/4 || structuralInc < structural/3 {
		t.Errorf("only %d of %d edits took the incremental path, %d of %d of the structure", incremental, edits, structuralInc, structural)
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
			if edited := i/7 + 1; inPlace && len(cur.arena.runs) != edited {
				t.Fatalf("after edits in %d resources, the arena holds the chunks of %d runs", edited, len(cur.arena.runs))
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

// resourceEdit decodes one edit of FuzzReparseInPlace and
// FuzzReparseInPlaceUnsettled from 5 bytes: 2 choosing a resource, 1 the
// offset from the start of its key's line, 1 the deletion (up to 15 bytes,
// or, from 0xF0 on, up to the line of the key of one of the next
// resources, or a little past it, which deletes or joins entries), 1 the
// inserted text.
func resourceEdit(t *Template, script []byte) splice {
	i := int(binary.LittleEndian.Uint16(script)) % len(t.Resources)
	pos := min(len(t.Source), lineStartOf(t.Source, t.Resources[i].Key.Start)+int(script[2]))
	end := min(len(t.Source), pos+int(script[3]%16))
	if del := script[3]; del >= 0xF0 {
		end = len(t.Source)
		if j := i + 1 + int(del&3); j < len(t.Resources) {
			end = lineStartOf(t.Source, t.Resources[j].Key.Start)
			if del&4 != 0 {
				end = t.Resources[j].Key.End // into the key
			}
		}
		end = max(end, pos)
	}
	return splice{pos, end, editAlphabet[int(script[4])%len(editAlphabet)]}
}

// FuzzReparseInPlace chains ReparseInPlace over a synthetic template of
// many chunks of nodes, with edits aimed at its resources so that most are
// incremental (in their values, keys, or across entries: see
// resourceEdit), and checks each result against a parse from scratch and
// its arena (checkArena): the pass over the chunks must move exactly the
// nodes after the edit, whichever chunks they and the re-read entries' new
// nodes are in, and however often an entry is re-read, added or removed.
func FuzzReparseInPlace(f *testing.F) {
	f.Add([]byte{0, 0, 40, 0, 0})
	f.Add([]byte{10, 0, 40, 0, 0, 10, 0, 41, 1, 2, 200, 0, 5, 3, 27})
	f.Add([]byte{255, 255, 255, 15, 4, 0, 0, 20, 0, 26, 1, 0, 20, 0, 39})
	f.Add([]byte{3, 0, 0, 0, 42, 7, 0, 2, 0, 0, 9, 0, 0, 0xF0, 2, 12, 0, 10, 0xF5, 2})
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
			cur, _ = applyEdit(t, cur, resourceEdit(cur, script), ReparseInPlace, true)
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
// every kind of reference, a description and a comment before the first
// resource, so that TestReparseCases can edit each.
const reparseCasesTemplate = `AWSTemplateFormatVersion: '2010-09-09'
Description: Edit cases
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
  # storage
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

// TestReparseCases makes each kind of edit inside an entry and of the
// structure, with Reparse, ReparseInPlace and ReparseInPlaceUnsettled: each
// must equal a parse, and be incremental, but for the edits a parse from
// scratch must read (a section left empty, a root key changed, a section
// key's line, a line at the root's column inside a section). A key
// repeated in its section is incremental when copying: the re-read reports
// it.
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
	lines := func(s ...string) string { return strings.Join(s, nl) + nl }
	cases := []struct {
		name     string
		e        splice
		fallback bool // a parse from scratch
	}{
		{"a parameter's type, before every other section", splice{at("String"), at("String") + 6, "Number"}, false},
		{"an allowed value added", splice{at("prod]"), at("prod]"), "prod, test, "}, false},
		{"a condition's reference renamed", splice{at("!Ref Env, prod"), at("!Ref Env, prod") + 8, "!Ref Size"}, false},
		{"a mapping's value", splice{at("ami-1"), at("ami-1") + 5, "ami-2"}, false},
		{"a resource's type, to a new one", splice{at("AWS::S3::Bucket"), at("AWS::S3::Bucket") + 15, "AWS::S3::BucketPolicy"}, false},
		{"a resource's type, overwritten in place", splice{at("Bucket\n    Condition") - 2, at("Bucket\n    Condition") - 1, "4"}, false},
		{"a resource's condition removed", splice{at("    Condition: IsProd\n    Properties"), at("    Properties:\n      BucketName"), ""}, false},
		{"a Sub variable added", splice{at("-bucket'"), at("-bucket'"), "-${Size}"}, false},
		{"a DependsOn added", splice{at("DependsOn: [Bucket]") + 18, at("DependsOn: [Bucket]") + 18, ", Topic"}, false},
		{"references removed", splice{at("!If [IsProd, 0, !Ref Size]"), at("!If [IsProd, 0, !Ref Size]") + 26, "5"}, false},
		{"a reference's target, same length", splice{at("Queue.QueueName"), at("Queue.QueueName") + 5, "Qveue"}, false},
		{"the last entry of the last section", splice{at("Bucket.Arn"), at("Bucket.Arn"), "My"}, false},
		{"an output's condition", splice{at("    Condition: IsProd\n    Value"), at("    Condition: IsProd\n    Value") + 21, "    Condition: IsDev"}, false},
		{"a duplicate key, a problem that says the first one's line", splice{at("      TopicName"), at("      TopicName"), "      TopicName: x" + nl}, false},
		// The structure.
		{"a logical id typed in", splice{at("  Queue:") + 7, at("  Queue:") + 7, "2"}, false},
		{"a parameter renamed", splice{at("  Size:") + 2, at("  Size:") + 6, "Count"}, false},
		{"a letter of a condition's name deleted", splice{at("  IsDev:") + 2, at("  IsDev:") + 3, ""}, false},
		{"an entry typed between two", splice{at("  Queue:"), at("  Queue:"), lines("  NewQueue:", "    Type: AWS::SQS::Queue")}, false},
		{"an entry typed after the last resource", splice{at("Outputs:"), at("Outputs:"), lines("  Last:", "    Type: AWS::SNS::Topic")}, false},
		{"a resource deleted", splice{at("  Queue:"), at("  Topic:"), ""}, false},
		{"two resources joined", splice{at("SQS::Queue") + 3, at("SNS::Topic") + 3, ""}, false},
		{"an edit across the next entry's key line", splice{at("!Ref Size]") + 10, at("  Topic:") + 3, nl + "  S"}, false},
		{"a comment line above a resource", splice{at("  Queue:"), at("  Queue:"), lines("  # the queue")}, false},
		{"a comment line above a section", splice{at("Resources:"), at("Resources:"), lines("# resources")}, false},
		{"a blank line above a section", splice{at("Outputs:"), at("Outputs:"), nl}, false},
		{"a comment at the top", splice{0, 0, lines("# top")}, false},
		{"a letter typed in the comment before the first resource", splice{at("# storage") + 9, at("# storage") + 9, "x"}, false},
		{"a comment line before the first parameter", splice{at("  Env:"), at("  Env:"), lines("  # parameters")}, false},
		{"a comment after a section's key", splice{at("Resources:") + 10, at("Resources:") + 10, " # all"}, false},
		{"the description", splice{at("Edit cases") + 4, at("Edit cases") + 4, "ed"}, false},
		{"the format version", splice{at("2010-09-09"), at("2010-09-09") + 10, "2010-09-10"}, false},
		{"an output added at the end without a final line break", splice{len(text), len(text), "  Second:" + nl + "    Value: x"}, false},
		{"the only mapping removed, which leaves the section empty", splice{at("  Region:"), at("Resources:"), ""}, true},
		{"a resource renamed as another", splice{at("  Topic:") + 2, at("  Topic:") + 7, "Queue"}, false},
		{"an entry added with a key its section has", splice{at("  Topic:"), at("  Topic:"), lines("  Bucket:", "    Type: AWS::S3::Bucket")}, false},
		{"a root key renamed", splice{at("Mappings:") + 7, at("Mappings:") + 8, ""}, true},
		{"a root key added", splice{at("Outputs:"), at("Outputs:"), lines("Transform: AWS::Serverless-2016-10-31")}, true},
		{"a section's key line", splice{at("Resources:") + 3, at("Resources:") + 3, "x"}, true},
		{"a line at the root's column inside a section", splice{at("  Topic:"), at("  Topic:"), lines("Foo: 1")}, true},
		{"a value after a section's key", splice{at("Resources:") + 10, at("Resources:") + 10, " x"}, true},
	}
	reparsers := map[string]reparser{"copy": ReparseDelta, "in place": ReparseInPlace,
		"unsettled": unsettledReparser(t, func(n int) []int { return []int{n - 1} })}
	// A key repeated in its section is re-read when copying; in place, it
	// parses from scratch (see ReparseInPlaceUnsettled).
	repeats := map[string]bool{"a resource renamed as another": true, "an entry added with a key its section has": true}
	for _, c := range cases {
		for mode, re := range reparsers {
			fallback := c.fallback || repeats[c.name] && mode != "copy"
			if _, inc := applyEdit(t, Parse("t.yaml", src), c.e, re, mode != "copy"); inc == fallback {
				t.Errorf("%s (%s): incremental is %v", c.name, mode, inc)
			}
		}
	}
	// The same edits one after another, each on the last one's result:
	// offsets are found again in the current text.
	for mode, re := range reparsers {
		cur := Parse("t.yaml", src)
		for _, c := range cases {
			old := string(src[c.e.start:c.e.end])
			i := strings.Index(string(cur.Source), old+text[c.e.end:min(c.e.end+12, len(src))])
			if i < 0 {
				continue // an earlier edit changed the place
			}
			cur, _ = applyEdit(t, cur, splice{i, i + len(old), c.e.text}, re, mode != "copy")
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
