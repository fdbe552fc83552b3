package analysis

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/soc2ls/soc2ls/analysis/synth"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// canonical renders an index as key -> sorted node names, a memoised fact
// being named by its reads (whose ids differ between indexes).
func (x *readIndex) canonical() map[readKey][]string {
	out := map[readKey][]string{}
	for k, ids := range x.byKey {
		var names []string
		for _, id := range ids {
			if id < 0 {
				names = append(names, fmt.Sprintf("memo %p", x.memos[-1-id]))
			} else {
				names = append(names, fmt.Sprint(id))
			}
		}
		slices.Sort(names)
		out[k] = names
	}
	return out
}

// randomReads returns reads of a few of names and types, sometimes using
// one of the memoised facts.
func randomReads(r *rand.Rand, memos []*reads) *reads {
	x := &reads{}
	for range r.IntN(4) {
		switch n := fmt.Sprint("R", r.IntN(20)); r.IntN(4) {
		case 0:
			x.addName(n)
		case 1:
			x.addTypeOf(n)
		case 2:
			x.addRefsTo(n)
		default:
			x.addType(fmt.Sprint("T", r.IntN(5)))
		}
	}
	if r.IntN(10) == 0 {
		x.addTypeSet()
	}
	if r.IntN(30) == 0 {
		x.addAll()
	}
	for range r.IntN(3) {
		x.addFact(memos[r.IntN(len(memos))])
	}
	return x
}

// TestReadIndexStaysExact: an index updated as re-analyses update it (a
// node removed with its old reads, added with its new ones) is the index
// built from the current reads, memoised facts nobody uses included out.
func TestReadIndexStaysExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var memos []*reads
	for i := range 6 {
		m := &reads{fact: fmt.Sprint("memo", i)}
		m.addType(fmt.Sprint("T", i%5))
		memos = append(memos, m)
	}
	memos[5].addFact(memos[0]) // a memoised fact that uses another
	nodes := make([]*reads, 20)
	for i := range nodes {
		nodes[i] = randomReads(r, memos)
	}
	x := newReadIndex(nodes)
	for step := range 500 {
		id := int32(r.IntN(len(nodes)))
		if r.IntN(2) == 0 {
			// A check that runs again computes its memoised facts anew: the
			// old ones die with their last user.
			i := r.IntN(len(memos))
			m := &reads{fact: memos[i].fact}
			m.addType(fmt.Sprint("T", r.IntN(5)))
			if r.IntN(3) == 0 {
				m.addFact(memos[r.IntN(len(memos))])
			}
			memos[i] = m
		}
		next := randomReads(r, memos)
		x.remove(id, nodes[id])
		x.add(id, next, true)
		nodes[id] = next
		if got, want := x.canonical(), newReadIndex(nodes).canonical(); !reflect.DeepEqual(got, want) {
			t.Fatalf("step %d: the updated index differs from the one built from the reads:\n got %v\nwant %v", step, got, want)
		}
	}
}

// TestEntryRefsIsRefsFrom: the binary search of entryRefs finds what
// Refs.From does on the templates the re-parse produces, in place or not,
// including edits that add and remove references.
func TestEntryRefsIsRefsFrom(t *testing.T) {
	for _, inPlace := range []bool{false, true} {
		r := rand.New(rand.NewPCG(3, 4))
		orig := synth.YAML(40 << 10)
		tp := template.Parse("t.yaml", orig)
		reparsed := 0
		for range 60 {
			res := tp.Resources[r.IntN(len(tp.Resources))]
			var scalars []*template.Node
			res.Properties.Walk(func(n *template.Node) bool {
				if n.IsScalar() && n.ValueSpan.End > n.ValueSpan.Start {
					scalars = append(scalars, n)
				}
				return true
			})
			if len(scalars) == 0 {
				continue
			}
			n := scalars[r.IntN(len(scalars))]
			start, end, text := n.ValueSpan.End, n.ValueSpan.End, "x"
			if r.IntN(2) == 0 {
				other := tp.Resources[r.IntN(len(tp.Resources))].Name
				start, end, text = n.Span.Start, n.Span.End, "!Ref "+other
			}
			src := slices.Concat(tp.Source[:start], []byte(text), tp.Source[end:])
			var d *template.Delta
			if inPlace {
				tp, d = template.ReparseInPlace(tp, src, start, end, len(text))
			} else {
				tp, d = template.ReparseDelta(tp, src, start, end, len(text))
			}
			if d == nil {
				tp = template.Parse("t.yaml", orig) // parsed from scratch: start again
				continue
			}
			reparsed++
			for _, res := range tp.Resources {
				want := tp.Refs.From("Resources", res.Name)
				if got := entryRefs(tp, res.Name); !reflect.DeepEqual(slices.Clip(got), want) && !(len(got) == 0 && len(want) == 0) {
					t.Fatalf("in place %v: references of %s: entryRefs has %d, Refs.From %d", inPlace, res.Name, len(got), len(want))
				}
			}
		}
		if reparsed < 20 {
			t.Fatalf("in place %v: only %d of 60 edits were re-parsed incrementally", inPlace, reparsed)
		}
	}
}

// TestReadsEmptyCoversEveryField sets each field of a reads in turn and
// expects empty to see it: gathered values that read nothing share
// noReads, so a read empty missed would be lost. A new field must be added
// here (and to empty).
func TestReadsEmptyCoversEveryField(t *testing.T) {
	set := map[string]func(r *reads){
		"all":      func(r *reads) { r.all = true },
		"typeSet":  func(r *reads) { r.typeSet = true },
		"names":    func(r *reads) { r.addName("A") },
		"typeOf":   func(r *reads) { r.addTypeOf("A") },
		"types":    func(r *reads) { r.addType("AWS::S3::Bucket") },
		"refsTo":   func(r *reads) { r.addRefsTo("A") },
		"facts":    func(r *reads) { r.facts = []*reads{{}} },
		"fact":     func(r *reads) { r.fact = "memo" },
		"gathers":  func(r *reads) { r.gathers = []*ResourceFact{{}} },
		"factDeps": func(r *reads) { r.factDeps = []*Fact{{}} },
		"seen":     nil, // a cache of answers, not a read
	}
	typ := reflect.TypeOf(reads{})
	for i := 0; i < typ.NumField(); i++ {
		name := typ.Field(i).Name
		fn, ok := set[name]
		if !ok {
			t.Errorf("reads has a field %s this test does not know: teach it and empty about it", name)
			continue
		}
		if fn == nil {
			continue
		}
		r := &reads{}
		fn(r)
		if r.empty() {
			t.Errorf("reads with only %s set is empty", name)
		}
	}
	if !(&reads{}).empty() || !noReads.empty() {
		t.Error("a zero reads is not empty")
	}
}
