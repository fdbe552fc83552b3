package template

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/soc2ls/soc2ls/analysis/synth"
)

// unsettledReparser returns a reparser that re-parses with
// ReparseInPlaceUnsettled and, before settling, checks what the unsettled
// template promises against a parse from scratch: the sections other than
// Resources have their final spans, ResourceKeyStart and
// Reference.NodeStart their final values, and so has every resource looked
// up (those pick chooses, through the lookup methods and SettleResource),
// while the others may not. It then settles; applyEdit compares the rest.
func unsettledReparser(t *testing.T, pick func(n int) []int) reparser {
	return func(old *Template, src []byte, start, end, n int) (*Template, *Delta) {
		got, d := ReparseInPlaceUnsettled(old, src, start, end, n)
		if d != nil {
			checkUnsettled(t, got, Parse(got.Filename, src), pick(len(got.Resources)))
		}
		got.Settle()
		if !got.Settled() {
			t.Fatal("Settle left the template unsettled")
		}
		return got, d
	}
}

func checkUnsettled(t *testing.T, got, want *Template, look []int) {
	t.Helper()
	same := func(what string, a, b *Node) {
		t.Helper()
		restore := withoutMarks(a)
		defer restore()
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("unsettled: %s differs from a parse from scratch:\n%+v\nwant\n%+v", what, a, b)
		}
	}
	spans := func(what string, a, b *Node) {
		t.Helper()
		if a.Span != b.Span || a.ValueSpan != b.ValueSpan || a.FnSpan != b.FnSpan {
			t.Fatalf("unsettled: %s at %v/%v/%v, want %v/%v/%v", what, a.Span, a.ValueSpan, a.FnSpan, b.Span, b.ValueSpan, b.FnSpan)
		}
	}
	spans("the root", got.Root, want.Root)
	for i, sec := range got.Root.Pairs {
		w := want.Root.Pairs[i]
		spans("section key "+sec.Key.Value, sec.Key, w.Key)
		if sec.Key.Value != "Resources" {
			same("section "+sec.Key.Value, sec.Value, w.Value)
			continue
		}
		spans("the Resources section", sec.Value, w.Value)
	}
	for i, r := range got.Resources {
		if k, w := got.ResourceKeyStart(i), want.Resources[i].Key.Start; k != w {
			t.Fatalf("unsettled: ResourceKeyStart(%d) (%s) is %d, want %d", i, r.Name, k, w)
		}
	}
	for i, r := range got.Refs.All {
		if s, w := r.NodeStart(), want.Refs.All[i].Node.Start; s != w || r.Span != want.Refs.All[i].Span {
			t.Fatalf("unsettled: reference %d (%s) has its node at %d and its span at %v, want %d and %v", i, r.Target, s, r.Span, w, want.Refs.All[i].Span)
		}
	}
	for k, i := range look {
		w := want.Resources[i]
		var r *Resource
		// ResourcesOfType last: it settles everything when the type is a
		// large part of the template.
		how := k % 4
		if k == len(look)-1 {
			how = 4
		}
		// (A lookup by name finds the last resource of that name, when a
		// key is repeated: so does want's.)
		switch how {
		case 0:
			r, w = got.Resource(w.Name), want.Resource(w.Name)
		case 4:
			typ := w.Type
			for _, x := range got.ResourcesOfType(typ) {
				if x.Name == w.Name {
					r = x
				}
			}
			for _, x := range want.ResourcesOfType(typ) {
				if x.Name == w.Name {
					w = x
				}
			}
		case 1:
			r = got.Resource(w.Name) // twice: the second settles nothing
			r, w = got.Resource(w.Name), want.Resource(w.Name)
		case 2:
			got.NodeAt(w.Key.Start)
			r = got.Resources[i]
		default:
			got.SettleResource(i)
			r = got.Resources[i]
		}
		if r == nil || r.Name != w.Name {
			t.Fatalf("unsettled: lookup %d of %s found %v", how, w.Name, r)
		}
		same("resource "+w.Name+" once looked up", r.Value, w.Value)
	}
	// NodeAt answers anywhere as a parse from scratch does, before any
	// settling: it must not be misled by the resources still waiting.
	for k := 1; k < 24; k++ {
		off := len(want.Source) * k / 24
		g, gp := got.NodeAt(off)
		w, wp := want.NodeAt(off)
		if (g == nil) != (w == nil) || g != nil && (g.Span != w.Span || g.Value != w.Value || len(gp) != len(wp)) {
			t.Fatalf("unsettled: NodeAt(%d) found %+v (depth %d), want %+v (depth %d)", off, g, len(gp), w, len(wp))
		}
	}
	// The references to what a looked-up resource names settle the
	// resources they are in.
	for _, ref := range got.Refs.All {
		if ref.Section != "Resources" {
			continue
		}
		for _, x := range got.RefsTo(ref.Kind.Namespace(), ref.Target) {
			i := got.resources[x.From]
			if x.Section == "Resources" {
				same("resource "+x.From+" after RefsTo", got.Resources[i].Value, want.Resources[i].Value)
			}
		}
		break
	}
}

// lookSome picks about a quarter of n resources, at random.
func lookSome(r *rand.Rand) func(n int) []int {
	return func(n int) []int {
		var out []int
		for i := range n {
			if r.IntN(4) == 0 {
				out = append(out, i)
			}
		}
		return out
	}
}

func TestReparseInPlaceUnsettledRandomEdits(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	editSequences(t, unsettledReparser(t, lookSome(r)), true, 3, 20)
}

// FuzzReparseInPlaceUnsettled is FuzzReparseInPlace through
// ReparseInPlaceUnsettled, with a byte more per edit (after resourceEdit's
// 5) choosing which resources are looked up before settling.
func FuzzReparseInPlaceUnsettled(f *testing.F) {
	f.Add([]byte{0, 0, 40, 0, 0, 1})
	f.Add([]byte{10, 0, 40, 0, 0, 7, 10, 0, 41, 1, 2, 0, 200, 0, 5, 3, 27, 255})
	f.Add([]byte{3, 0, 0, 0, 42, 1, 7, 0, 2, 0, 0, 2, 9, 0, 0, 0xF0, 2, 3, 12, 0, 10, 0xF5, 2, 5})
	src := synth.YAML(8 << 10)
	f.Fuzz(func(t *testing.T, script []byte) {
		cur := Parse("t.yaml", src)
		for range 16 {
			if len(script) < 6 {
				return
			}
			e := resourceEdit(cur, script)
			stride := int(script[5]%16) + 1
			pick := func(n int) []int {
				var out []int
				for i := int(script[5]) % stride; i < n; i += stride {
					out = append(out, i)
				}
				return out
			}
			cur, _ = applyEdit(t, cur, e, unsettledReparser(t, pick), true)
			if len(cur.Resources) == 0 {
				return
			}
			script = script[6:]
		}
	})
}

// withoutMarks clears the marks of the nodes below roots that an unsettled
// re-parse moved ahead (Node.moved), which a parse from scratch does not
// have, for a comparison; the function it returns puts them back. (Settle
// clears them all: diffTemplates compares them too.)
func withoutMarks(roots ...*Node) (restore func()) {
	var marked []*Node
	var walk func(*Node)
	walk = func(n *Node) {
		if n == nil {
			return
		}
		if n.moved {
			marked = append(marked, n)
			n.moved = false
		}
		for _, p := range n.Pairs {
			walk(p.Key)
			walk(p.Value)
		}
		for _, it := range n.Items {
			walk(it)
		}
		walk(n.Arg)
	}
	for _, r := range roots {
		walk(r)
	}
	return func() {
		for _, n := range marked {
			n.moved = true
		}
	}
}

// TestRefsFromIsRefIndexFrom: the binary search of Template.RefsFrom finds
// what RefIndex.From does on the templates the re-parse produces, copying,
// in place or unsettled, including edits that add and remove references.
func TestRefsFromIsRefIndexFrom(t *testing.T) {
	for _, mode := range []string{"copy", "in place", "unsettled"} {
		r := rand.New(rand.NewPCG(3, 4))
		orig := synth.YAML(40 << 10)
		tp := Parse("t.yaml", orig)
		reparsed := 0
		for range 60 {
			res := tp.Resources[r.IntN(len(tp.Resources))]
			var scalars []*Node
			res.Properties.Walk(func(n *Node) bool {
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
			var d *Delta
			switch mode {
			case "copy":
				tp, d = ReparseDelta(tp, src, start, end, len(text))
			case "in place":
				tp, d = ReparseInPlace(tp, src, start, end, len(text))
			default:
				tp, d = ReparseInPlaceUnsettled(tp, src, start, end, len(text))
			}
			if d == nil {
				tp = Parse("t.yaml", orig) // parsed from scratch: start again
				continue
			}
			reparsed++
			want := Parse("t.yaml", src)
			for _, res := range tp.Resources {
				w := want.Refs.From("Resources", res.Name)
				got := tp.RefsFrom(res.Name)
				if len(got) != len(w) {
					t.Fatalf("%s: references of %s: RefsFrom has %d, Refs.From %d", mode, res.Name, len(got), len(w))
				}
				for k := range got {
					if got[k].Target != w[k].Target || got[k].Node.Span != w[k].Node.Span || got[k].Span != w[k].Span {
						t.Fatalf("%s: reference %d of %s is %+v, want %+v", mode, k, res.Name, got[k], w[k])
					}
				}
			}
			tp.Settle()
		}
		if reparsed < 20 {
			t.Fatalf("%s: only %d of 60 edits were re-parsed incrementally", mode, reparsed)
		}
	}
}
