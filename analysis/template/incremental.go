package template

import (
	"cmp"
	"maps"
	"slices"
	"sort"
	"sync/atomic"
)

// Incremental re-parsing. A YAML template is a mapping of sections whose
// values are, for the sections that grow (Resources, Parameters, Conditions,
// Outputs, Mappings), block mappings of independent entries. An edit inside
// one entry can only change that entry's value: Reparse re-reads that one
// entry with the fast path and shifts the spans of everything after it,
// instead of reading the whole document again. It parses from scratch
// whenever that reasoning might not hold: the edit touches an entry's key
// line or the next entry's; the old text has problems, or was read by the
// yaml.v3 path, whose spans are not all local; the section is in flow style;
// the entry now holds more or less than its own value; JSON; anything the
// fast path gives up on. TestReparseRandomEdits, TestReparseInPlaceRandomEdits
// and FuzzReparse hold the result to Parse of the same text, model, spans,
// problems and indexes included.
//
// Since no entry is added, removed or renamed, every name keeps its index:
// the lookups by name are the old template's. The rest is either shared
// (what precedes the edited entry), rebuilt (the entry: its struct, its
// references) or shifted (what follows it). Reparse, which must leave the
// old template valid, copies what it shifts; ReparseInPlace moves it where
// it is.

// Reparse returns the template of src, which is old.Source with the bytes
// [start, end) replaced by n bytes. The result equals Parse(old.Filename,
// src); old is not modified and stays valid (the two share the nodes before
// the edit, which are never modified after parsing). old must not be nil.
func Reparse(old *Template, src []byte, start, end, n int) *Template {
	t, _ := ReparseDelta(old, src, start, end, n)
	return t
}

// Delta says what Reparse's incremental path changed: a run of entries of
// one section replaced by others (today, the value of one entry: the same
// key with a new value). Everything else is the old template's, with the
// offsets at or after OldEnd moved by Shift.
type Delta struct {
	Section string // the section's key: "Resources", "Parameters", ...
	// Index is the index of the first replaced entry among the section's
	// pairs, before and after the edit.
	Index int
	// Old are the entries as they were: keys and values are old's nodes, in
	// old's coordinates. A key node may be shared with the new template (a
	// key that precedes the edit); after ReparseInPlace, a later
	// ReparseInPlace of the result may move it and the values' nodes (which
	// stay in the result's node chunks, see nodeArena).
	Old []*Pair
	// New is how many entries replace them: the new section's pairs
	// [Index, Index+New).
	New int
	// OldRefs are the references the old entries made, as old.Refs listed
	// them: in old's coordinates, their nodes Old's. The new entries' are
	// those of the new template's Refs.From(Section, name).
	OldRefs []Reference
	// Trivia says that the new entries equal the old ones but for their
	// positions: only comments, blank lines or layout changed.
	Trivia bool
	// The edit, in old's coordinates: the bytes [Start, OldEnd) were
	// replaced, and what followed them moved by Shift bytes.
	Start, OldEnd, Shift int
}

// ReparseDelta is Reparse that also says what changed: the delta is nil
// when the document was parsed from scratch.
func ReparseDelta(old *Template, src []byte, start, end, n int) (*Template, *Delta) {
	old.Settle() // an unsettled template is its owner's alone
	if pl := planReparse(old, src, start, end, n); pl != nil {
		return pl.copyApply()
	}
	return Parse(old.Filename, src), nil
}

// ReparseInPlace is ReparseDelta that may consume old: the result and the
// delta are the same, but instead of copying what follows the edited entry,
// it moves the spans of those nodes where they are and patches old's
// structs, slices, maps, line index and reference index, so that it costs
// the edited entry plus one sequential pass over the chunks that hold the
// nodes after it, without allocating for them.
//
// THE CALLER MUST OWN old EXCLUSIVELY. When ReparseInPlace returns, old and
// everything reached from it (nodes, pairs, Resource and Parameter structs,
// slices returned by its accessors, its Refs, its Lines) belong to the
// result and may have changed: nobody may use old again, and no goroutine
// may be reading it while ReparseInPlace runs. What stays intact is the
// delta: Delta.Old keeps old's key and value in old's coordinates, and
// Delta.OldRefs its references, until the next ReparseInPlace of the
// result (which may move the key node, shared with the new entry, and the
// old value's nodes, which share its chunks of nodes). The
// structs of the entries keep their addresses, the edited entry's
// included.
//
// When the edit needs a parse from scratch (the delta is nil), old is left
// untouched: that is decided before anything is modified. A template that
// shares structure with another (the input or the result of Reparse or
// ReparseDelta, which share nodes and indexes between old and new) is never
// modified either: ReparseInPlace then copies, as ReparseDelta does, so that
// it never corrupts the other template; a chain of ReparseInPlace calls that
// starts from Parse never copies.
func ReparseInPlace(old *Template, src []byte, start, end, n int) (*Template, *Delta) {
	t, d := ReparseInPlaceUnsettled(old, src, start, end, n)
	t.Settle()
	return t, d
}

// ReparseInPlaceUnsettled is ReparseInPlace that leaves most of the move of
// the spans after the edited entry for later (see pendingShift): the
// sections other than Resources have their final spans at once, and so do
// ResourceKeyStart and Reference.NodeStart; a resource entry gets them
// when the resource is looked up through the template's methods
// (Resource, ResourcesOfType, RefsTo, NodeAt, and ResourceAt, AllResources,
// AllRefs and Section("Resources"), which settle everything) or with
// SettleResource, and all of them with Settle. Until Settle, the result is
// its caller's alone, as old was. A later re-parse settles old first.
func ReparseInPlaceUnsettled(old *Template, src []byte, start, end, n int) (*Template, *Delta) {
	old.Settle()
	pl := planReparse(old, src, start, end, n)
	switch {
	case pl == nil:
		return Parse(old.Filename, src), nil
	case old.isShared() || old.arena == nil:
		return pl.copyApply()
	}
	return pl.inPlaceApply()
}

// reparsePlan is an incremental re-parse that has been decided: the edit
// lies inside one entry, whose new value has been read. Nothing of the old
// template has been modified.
type reparsePlan struct {
	old                  *Template
	src                  []byte
	start, end, n, delta int
	si, ei               int   // the section's index among the root's pairs, the entry's in the section
	regionEnd            int   // the end of the old entry's lines: the nodes from here on follow it
	sec, entry           *Pair // the section's pair and the old entry's
	newEntry             *Pair // the old key with the new value
	problems             []Problem
	alloc                *allocator // holds the new entry's nodes
}

// planReparse decides whether the edit can be re-read incrementally and
// reads the edited entry's new value; it returns nil when the edit needs a
// parse from scratch.
func planReparse(old *Template, src []byte, start, end, n int) *reparsePlan {
	delta := n - (end - start)
	if !old.fastYAML || old.Root == nil || old.Root.Kind != Mapping || old.Root.Flow ||
		len(old.Problems) > 0 || start < 0 || end < start || end > len(old.Source) || len(src) != len(old.Source)+delta {
		return nil
	}
	oldSrc := old.Source
	// The section and the entry whose lines hold the edit.
	si := lastKeyAtOrBefore(old.Root.Pairs, start)
	if si < 0 {
		return nil
	}
	sec := old.Root.Pairs[si]
	m := sec.Value
	if m.Kind != Mapping || m.Flow || len(m.Pairs) == 0 {
		return nil
	}
	ei := lastKeyAtOrBefore(m.Pairs, start)
	if ei < 0 {
		return nil
	}
	entry := m.Pairs[ei]
	key := entry.Key
	col := columnOf(oldSrc, key.Start)
	if col <= 0 || key.End >= len(oldSrc) || oldSrc[key.End] != ':' || start <= key.End ||
		key.End+1 < len(src) && !isYAMLSpace(src[key.End+1]) {
		return nil // a key not at its line's indentation, `key :`, an edit of the key, or `key:x`
	}
	// The entry's region runs to the line start of the next entry's key, or
	// of the next section's, or to the end of the document.
	regionEnd := len(oldSrc)
	switch {
	case ei+1 < len(m.Pairs):
		regionEnd = lineStartOf(oldSrc, m.Pairs[ei+1].Key.Start)
	case si+1 < len(old.Root.Pairs):
		regionEnd = lineStartOf(oldSrc, old.Root.Pairs[si+1].Key.Start)
	}
	if end >= regionEnd && regionEnd < len(oldSrc) {
		return nil // the edit reaches the next key's line
	}
	newRegionEnd := regionEnd + delta
	if !printable(src[key.Start:newRegionEnd]) {
		return nil
	}

	// Read the entry's value as the section's block mapping would, on the
	// text cut at the region's end, and check that nothing but blank lines
	// and comments follows it there. The line index is not updated yet (in
	// place, that would modify old before the decision): the parser counts
	// lines from the key's, which precedes the edit.
	alloc := newSmallAllocator(16)
	keyLine := lineStartOf(oldSrc, key.Start)
	p := &fastParser{src: src[:newRegionEnd], alloc: alloc, depth: 2,
		lineBase: old.Lines.LineOf(keyLine), lineBaseOff: keyLine}
	var val *Node
	ok := func() (ok bool) {
		defer func() {
			if v := recover(); v != nil {
				ok = false // bail, or a bug in the fast path: parse from scratch
			}
		}()
		v, vend := p.blockNode(key.End+1, col, true)
		if v.Start < 0 {
			v.Start, v.End = key.End+1, key.End+1
			v.ValueSpan = v.Span
		}
		if p.skipBlank(p.restOfLine(vend)) != len(p.src) {
			return false
		}
		val = v
		return true
	}()
	if !ok {
		return nil
	}
	newEntry := alloc.pair()
	newEntry.Key, newEntry.Value = key, val
	return &reparsePlan{old: old, src: src, start: start, end: end, n: n, delta: delta,
		si: si, ei: ei, regionEnd: regionEnd, sec: sec, entry: entry, newEntry: newEntry, problems: p.problems, alloc: alloc}
}

// lastKeyAtOrBefore returns the index of the last pair whose key starts at
// or before off, or -1. The pairs are in document order.
func lastKeyAtOrBefore(pairs []*Pair, off int) int {
	return sort.Search(len(pairs), func(i int) bool { return pairs[i].Key.Start > off }) - 1
}

// lineStartOf returns the offset of the start of the line holding off.
func lineStartOf(src []byte, off int) int {
	for off > 0 && src[off-1] != '\n' && src[off-1] != '\r' {
		off--
	}
	return off
}

// columnOf returns the column of off when only spaces precede it on its
// line, else -1.
func columnOf(src []byte, off int) int {
	s := lineStartOf(src, off)
	for i := s; i < off; i++ {
		if src[i] != ' ' {
			return -1
		}
	}
	return off - s
}

// delta returns the change the edit made to what follows it.
func (pl *reparsePlan) makeDelta(oldRefs []Reference) *Delta {
	return &Delta{Section: pl.sec.Key.Value, Index: pl.ei, Old: []*Pair{pl.entry}, New: 1, OldRefs: oldRefs,
		Start: pl.start, OldEnd: pl.end, Shift: pl.delta}
}

// refRange returns the old entry's references: All[a:b] of the old index.
// References are grouped by entry in document order, and a reference's node
// lies inside its entry's value, so the first of them is the first
// reference whose node starts after the entry's key.
func (pl *reparsePlan) refRange() (a, b int) {
	all := pl.old.Refs.All
	keyStart := pl.entry.Key.Start
	a = sort.Search(len(all), func(i int) bool { return all[i].at > keyStart })
	section, name := pl.sec.Key.Value, pl.entry.Key.Value
	b = a
	for b < len(all) && all[b].Section == section && all[b].From == name {
		b++
	}
	return a, b
}

// newRefs collects the new entry's references.
func (pl *reparsePlan) newRefs() *RefIndex {
	x := &RefIndex{}
	c := refCollector{x: x}
	c.entry(pl.sec.Key.Value, pl.newEntry)
	return x
}

// sectionEnd is the end of a block mapping section's node after the edit of
// the entry with the given key, as the parser computes it: the end of its
// last pair, at least past the first key's colon (and the edited key's).
// Pairs follow one another, so the last one ends last.
func sectionEnd(m *Node, key *Node) int {
	last := m.Pairs[len(m.Pairs)-1]
	return max(key.End+1, m.Pairs[0].Key.End+1, last.Key.End, last.Value.End)
}

// rootEnd is sectionEnd for the root mapping.
func rootEnd(root *Node) int {
	last := root.Pairs[len(root.Pairs)-1]
	return max(last.Key.End, last.Value.End, root.Pairs[0].Key.End+1)
}

// The sections whose entries become structs of the model.
const (
	secParameters = iota
	secConditions
	secMappings
	secResources
	secOutputs
	numModelSections
)

var modelSections = [numModelSections]string{"Parameters", "Conditions", "Mappings", "Resources", "Outputs"}

// modelSectionIndexes returns the index among the root's pairs of each
// section of the model, as Node.Get finds it, or -1.
func modelSectionIndexes(root *Node) (idx [numModelSections]int) {
	for k, name := range modelSections {
		idx[k] = -1
		for i, pr := range root.Pairs {
			if pr.Key.Value == name {
				idx[k] = i
				break
			}
		}
	}
	return idx
}

// copyApply builds the new template without modifying the old one: it
// shares what precedes the edited entry, and copies what follows it with
// shifted spans, allocating in chunks.
func (pl *reparsePlan) copyApply() (*Template, *Delta) {
	old, si, ei := pl.old, pl.si, pl.ei
	lines := old.Lines.spliced(pl.src, pl.start, pl.end, pl.n)

	ox := old.Refs
	a, b := pl.refRange()
	nx := pl.newRefs()
	x := &RefIndex{
		All:  make([]Reference, 0, len(ox.All)-(b-a)+len(nx.All)),
		ords: make([]int32, 0, len(ox.All)-(b-a)+len(nx.All)),
	}
	x.All = append(append(x.All, ox.All[:a]...), nx.All...)
	x.ords = append(append(x.ords, ox.ords[:a]...), nx.ords...)

	// The tree: the nodes before the entry are shared, the entry is new,
	// the nodes after it are copies with shifted spans (unless nothing
	// moved), and the references made from them are the old ones moved to
	// the copies.
	c := &copier{delta: pl.delta, alloc: &allocator{}, refs: ox, next: b, out: x}
	m := pl.sec.Value
	newSec := c.alloc.node()
	*newSec = *m
	newSec.Pairs = make([]*Pair, len(m.Pairs))
	copy(newSec.Pairs, m.Pairs[:ei])
	newSec.Pairs[ei] = pl.newEntry
	for i := ei + 1; i < len(m.Pairs); i++ {
		newSec.Pairs[i] = c.entry(pl.sec.Key.Value, m.Pairs[i])
	}
	newSec.End = sectionEnd(newSec, pl.entry.Key)
	secPair := c.alloc.pair()
	secPair.Key, secPair.Value = pl.sec.Key, newSec

	root := c.alloc.node()
	*root = *old.Root
	root.Pairs = make([]*Pair, len(old.Root.Pairs))
	copy(root.Pairs, old.Root.Pairs[:si])
	root.Pairs[si] = secPair
	for i := si + 1; i < len(old.Root.Pairs); i++ {
		root.Pairs[i] = c.section(old.Root.Pairs[i])
	}
	root.End = rootEnd(root)
	if c.next != len(ox.All) {
		panic("template: Reparse lost track of the references") // a bug: the differential tests catch it
	}
	x.byTarget = spliceTargets(ox.byTarget, a, b, ox.All[a:b], nx.All, false)
	x.normalize()

	t := &Template{Filename: old.Filename, Format: YAML, Source: pl.src, Lines: lines, Root: root, shared: new(atomic.Bool),
		Problems: pl.problems, fastYAML: true, Refs: x,
		Description: old.Description, Metadata: root.Get("Metadata"),
		Sections: make(map[string]*Pair, len(root.Pairs)),
		params:   old.params, conditions: old.conditions, resources: old.resources, mappings: old.mappings,
		byType: old.byType, typeIdx: old.typeIdx,
		Parameters: old.Parameters, Conditions: old.Conditions, Mappings: old.Mappings,
		Resources: old.Resources, Outputs: old.Outputs, keyStarts: old.keyStarts,
	}
	for _, pr := range root.Pairs {
		t.Sections[pr.Key.Value] = pr
	}
	// The structs of the model's sections: shared before the edited
	// section, rebuilt in it from the edited entry on, rebuilt in the
	// sections after it.
	secIdx := modelSectionIndexes(root)
	from := func(k int) (pairs []*Pair, i int, ok bool) {
		switch ki := secIdx[k]; {
		case ki < si:
			return nil, 0, false
		case ki == si:
			return newSec.Pairs, ei, true
		default:
			return sectionPairs(root.Pairs[ki].Value), 0, true
		}
	}
	if pairs, i, ok := from(secParameters); ok {
		t.Parameters = rebuild(old.Parameters, pairs, i, (*Parameter).fill)
	}
	if pairs, i, ok := from(secConditions); ok {
		t.Conditions = rebuild(old.Conditions, pairs, i, (*Condition).fill)
	}
	if pairs, i, ok := from(secMappings); ok {
		t.Mappings = rebuild(old.Mappings, pairs, i, (*Entry).fill)
	}
	if pairs, i, ok := from(secOutputs); ok {
		t.Outputs = rebuild(old.Outputs, pairs, i, (*Entry).fill)
	}
	if pairs, i, ok := from(secResources); ok {
		t.Resources = rebuild(old.Resources, pairs, i, (*Resource).fill)
		if secIdx[secResources] == si {
			if ot, nt := old.Resources[ei].Type, t.Resources[ei].Type; ot != nt {
				t.typeIdx = maps.Clone(old.typeIdx)
				moveIndex(t.typeIdx, ot, nt, int32(ei), false)
			}
		}
		t.byType = resourcesByType(t.Resources, t.typeIdx)
		t.keyStarts = keyStartsOf(t.Resources)
	}
	t.IsCloudFormation = t.detectCloudFormation()
	// The two templates now share structure: neither may be modified in
	// place from now on.
	old.markShared()
	t.markShared()
	return t, pl.makeDelta(ox.All[a:b:b])
}

// rebuild returns the structs of a section whose pairs from index from on
// were rebuilt: those before are old's, the others are filled from the new
// pairs, allocated in chunks (see allocator: the next template shares some
// of them).
func rebuild[T any](old []*T, pairs []*Pair, from int, fill func(*T, *Pair)) []*T {
	if len(pairs) == 0 {
		return old
	}
	out := make([]*T, len(pairs))
	copy(out, old[:from])
	var structs []T
	for i := from; i < len(pairs); i++ {
		if len(structs) == 0 {
			structs = make([]T, min(len(pairs)-i, structChunk))
		}
		s := &structs[0]
		structs = structs[1:]
		fill(s, pairs[i])
		out[i] = s
	}
	return out
}

// structChunk is the number of entry structs allocated together.
const structChunk = 64

// moveIndex moves index i from key from's sorted list to key to's, keeping
// both sorted and dropping a list left empty. Unless inPlace, the lists are
// copied, not modified: another template may share them.
func moveIndex[K comparable, I cmp.Ordered](m map[K][]I, from, to K, i I, inPlace bool) {
	l := m[from]
	if k, found := slices.BinarySearch(l, i); found {
		if !inPlace {
			l = slices.Clone(l)
		}
		if l = slices.Delete(l, k, k+1); len(l) == 0 {
			delete(m, from)
		} else {
			m[from] = l
		}
	}
	l = m[to]
	k, _ := slices.BinarySearch(l, i)
	if !inPlace {
		l = slices.Clone(l)
	}
	m[to] = slices.Insert(l, k, i)
}

// copier copies the nodes after an edit with their spans shifted, and the
// references made from them.
type copier struct {
	delta int
	alloc *allocator
	// walk holds the copies of the current entry's value nodes in
	// Node.Walk's order, where the references' ords point.
	walk []*Node
	rec  bool
	refs *RefIndex // the old index
	next int       // the next old reference to move
	out  *RefIndex
}

// span shifts sp; the zero span is what nodes hold in the fields that do not
// apply to them (FnSpan of a scalar), and stays zero: no span after an edit
// can start at offset 0.
func (c *copier) span(sp Span) Span {
	if sp == (Span{}) {
		return sp
	}
	return Span{sp.Start + c.delta, sp.End + c.delta}
}

// section copies a section's pair; a mapping's entries move their
// references.
func (c *copier) section(p *Pair) *Pair {
	if c.delta == 0 {
		c.skipRefs(p)
		return p
	}
	out := c.alloc.pair()
	out.Key = c.key(p.Key)
	v := p.Value
	if v.Kind != Mapping {
		out.Value = c.node(v)
		return out
	}
	nv := c.alloc.node()
	*nv = *v
	c.shiftSpans(nv)
	if v.Pairs != nil {
		nv.Pairs = c.alloc.pairSlice(len(v.Pairs))
		for i, e := range v.Pairs {
			nv.Pairs[i] = c.entry(p.Key.Value, e)
		}
	}
	out.Value = nv
	return out
}

// skipRefs moves over the references of a section shared as it is.
func (c *copier) skipRefs(p *Pair) {
	for _, e := range sectionPairs(p.Value) {
		for c.next < len(c.refs.All) && c.refs.All[c.next].Section == p.Key.Value && c.refs.All[c.next].From == e.Key.Value {
			c.out.All = append(c.out.All, c.refs.All[c.next])
			c.out.ords = append(c.out.ords, c.refs.ords[c.next])
			c.next++
		}
	}
}

// entry copies one entry of a section, and moves its references.
func (c *copier) entry(section string, p *Pair) *Pair {
	all := c.refs.All
	j := c.next
	for j < len(all) && all[j].Section == section && all[j].From == p.Key.Value {
		j++
	}
	if c.delta == 0 {
		c.out.All = append(c.out.All, all[c.next:j]...)
		c.out.ords = append(c.out.ords, c.refs.ords[c.next:j]...)
		c.next = j
		return p
	}
	out := c.alloc.pair()
	out.Key = c.key(p.Key)
	c.rec, c.walk = j > c.next, c.walk[:0]
	out.Value = c.node(p.Value)
	c.rec = false
	for ; c.next < j; c.next++ {
		r := all[c.next]
		r.Node = c.walk[c.refs.ords[c.next]]
		r.Span, r.at = c.span(r.Span), r.Node.Start
		c.out.All = append(c.out.All, r)
		c.out.ords = append(c.out.ords, c.refs.ords[c.next])
	}
	return out
}

func (c *copier) shiftSpans(n *Node) {
	n.Span = c.span(n.Span)
	n.ValueSpan = c.span(n.ValueSpan)
	n.FnSpan = c.span(n.FnSpan)
}

// key copies a key; keys are scalars, outside Node.Walk's order.
func (c *copier) key(n *Node) *Node {
	if n.Kind != Scalar {
		rec := c.rec
		c.rec = false
		out := c.node(n)
		c.rec = rec
		return out
	}
	out := c.alloc.node()
	*out = *n
	c.shiftSpans(out)
	return out
}

// child is node for a mapping's value or a sequence's item: most are
// scalars, copied here without the call.
func (c *copier) child(n *Node) *Node {
	if n.Kind > Scalar || n.Arg != nil {
		return c.node(n)
	}
	out := c.alloc.node()
	*out = *n
	out.Span = c.span(n.Span)
	out.ValueSpan = c.span(n.ValueSpan)
	out.FnSpan = c.span(n.FnSpan)
	if c.rec {
		c.walk = append(c.walk, out)
	}
	return out
}

// node copies n and the nodes below it.
func (c *copier) node(n *Node) *Node {
	if n == nil {
		return nil
	}
	out := c.alloc.node()
	*out = *n
	c.shiftSpans(out)
	if c.rec {
		c.walk = append(c.walk, out)
	}
	switch n.Kind {
	case Mapping:
		if n.Pairs != nil {
			out.Pairs = c.alloc.pairSlice(len(n.Pairs))
			for i, p := range n.Pairs {
				np := c.alloc.pair()
				np.Key, np.Value = c.key(p.Key), c.child(p.Value)
				out.Pairs[i] = np
			}
		}
	case Sequence:
		if n.Items != nil {
			out.Items = c.alloc.nodeSlice(len(n.Items))
			for i, it := range n.Items {
				out.Items[i] = c.child(it)
			}
		}
	case Intrinsic:
		out.Arg = c.node(n.Arg)
		return out
	}
	if n.Arg != nil { // outside Node.Walk's order
		rec := c.rec
		c.rec = false
		out.Arg = c.node(n.Arg)
		c.rec = rec
	}
	return out
}

// spliceTargets returns the index by target after the references
// All[a:b], which were oldRefs, were replaced by refs (which take the
// indexes from a on, the references after them moving by the difference).
// Unless inPlace, m and its lists are shared with the old index and are not
// modified; lists that do not change stay shared.
func spliceTargets(m map[refKey][]int, a, b int, oldRefs, refs []Reference, inPlace bool) map[refKey][]int {
	keyOf := func(r *Reference) refKey { return refKey{r.Kind.Namespace(), r.Target} }
	if len(refs) == b-a {
		// The indexes stay: only the references whose target changed move
		// from one list to another.
		cloned := false
		for k := range refs {
			ok, nk := keyOf(&oldRefs[k]), keyOf(&refs[k])
			if ok == nk {
				continue
			}
			if !inPlace && !cloned {
				m, cloned = maps.Clone(m), true
			}
			moveIndex(m, ok, nk, a+k, inPlace)
		}
		return m
	}
	// The indexes after the entry move: every list that holds one changes.
	d := len(refs) - (b - a)
	added := map[refKey][]int{}
	for k := range refs {
		nk := keyOf(&refs[k])
		added[nk] = append(added[nk], a+k)
	}
	out := m
	if !inPlace {
		out = make(map[refKey][]int, len(m)+len(added))
	}
	for k, l := range m {
		lo, _ := slices.BinarySearch(l, a)
		hi, _ := slices.BinarySearch(l, b)
		add := added[k]
		delete(added, k)
		if lo == len(l) && len(add) == 0 {
			if !inPlace {
				out[k] = l // nothing at or after the entry
			}
			continue
		}
		n := lo + len(add) + len(l) - hi
		if n == 0 {
			delete(out, k) // in place: deleting the current key is allowed while ranging
			continue
		}
		var nl []int
		if inPlace && n <= len(l) {
			nl = l[:n]
			if lo+len(add) <= hi {
				// Moving the tail down (or not at all): copy forwards.
				copy(nl[lo:], add)
				for i, v := range l[hi:] {
					nl[lo+len(add)+i] = v + d
				}
			} else {
				// Moving it up within the old length: copy backwards.
				tail := len(l) - hi
				for i := tail - 1; i >= 0; i-- {
					nl[lo+len(add)+i] = l[hi+i] + d
				}
				copy(nl[lo:], add)
			}
		} else {
			nl = make([]int, n)
			copy(nl, l[:lo])
			copy(nl[lo:], add)
			for i, v := range l[hi:] {
				nl[lo+len(add)+i] = v + d
			}
		}
		out[k] = nl
	}
	for k, add := range added {
		out[k] = add
	}
	return out
}

// inPlaceApply builds the new template from old's own structures: it
// shifts the nodes after the edited entry where they are, and patches the
// model and the indexes.
func (pl *reparsePlan) inPlaceApply() (*Template, *Delta) {
	old, si, ei, d := pl.old, pl.si, pl.ei, pl.delta
	x := old.Refs
	a, b := pl.refRange()
	oldRefs := slices.Clone(x.All[a:b])
	nx := pl.newRefs()

	// The tree: the nodes after the entry move (when anything follows it:
	// at the end of the document, the old value's last node may start at
	// the region's end), and the new value's nodes replace the old one's in
	// the arena.
	m, root := pl.sec.Value, old.Root
	var pending *pendingShift
	if d != 0 && pl.regionEnd < len(old.Source) {
		pending = &pendingShift{active: true, from: pl.regionEnd, d: d, arena: old.arena,
			key: pl.entry.Key, alloc: pl.alloc}
		pending.first = pl.moveAhead(pending, old.Resources)
		for i := pending.first; i < len(old.keyStarts); i++ {
			old.keyStarts[i] += d
		}
	} else {
		old.arena.replaceEntry(pl.entry.Key, pl.alloc)
	}
	m.Pairs[ei] = pl.newEntry
	m.End = sectionEnd(m, pl.entry.Key)
	root.End = rootEnd(root)

	// The references: those after the entry move, the entry's are replaced.
	if d != 0 {
		for i := b; i < len(x.All); i++ {
			x.All[i].Span = shiftSpan(x.All[i].Span, d)
			x.All[i].at += d
		}
	}
	x.byTarget = spliceTargets(x.byTarget, a, b, oldRefs, nx.All, true)
	x.All = slices.Replace(x.All, a, b, nx.All...)
	x.ords = slices.Replace(x.ords, a, b, nx.ords...)
	x.normalize()

	// The model: the edited entry's struct is refilled, the others point at
	// the nodes they did.
	secIdx := modelSectionIndexes(root)
	switch si {
	case secIdx[secParameters]:
		old.Parameters[ei].fill(pl.newEntry)
	case secIdx[secConditions]:
		old.Conditions[ei].fill(pl.newEntry)
	case secIdx[secMappings]:
		old.Mappings[ei].fill(pl.newEntry)
	case secIdx[secOutputs]:
		old.Outputs[ei].fill(pl.newEntry)
	case secIdx[secResources]:
		r := old.Resources[ei]
		ot := r.Type
		r.fill(pl.newEntry)
		if nt := r.Type; nt != ot {
			moveIndex(old.typeIdx, ot, nt, int32(ei), true)
			if l := old.byType[ot]; len(l) == 1 {
				delete(old.byType, ot)
			} else {
				k := slices.Index(l, r)
				old.byType[ot] = slices.Delete(l, k, k+1)
			}
			l := old.byType[nt]
			k, _ := slices.BinarySearch(old.typeIdx[nt], int32(ei))
			old.byType[nt] = slices.Insert(l, k, r)
		}
	}
	old.Lines.Splice(pl.src, pl.start, pl.end, pl.n)

	t := &Template{Filename: old.Filename, Format: YAML, Source: pl.src, Lines: old.Lines, Root: root, shared: new(atomic.Bool),
		Problems: pl.problems, fastYAML: true, arena: old.arena, Refs: x,
		Description: old.Description, Metadata: old.Metadata, Sections: old.Sections,
		params: old.params, conditions: old.conditions, resources: old.resources, mappings: old.mappings,
		byType: old.byType, typeIdx: old.typeIdx,
		Parameters: old.Parameters, Conditions: old.Conditions, Mappings: old.Mappings,
		Resources: old.Resources, Outputs: old.Outputs, keyStarts: old.keyStarts, pending: pending,
	}
	t.IsCloudFormation = t.detectCloudFormation()
	return t, pl.makeDelta(oldRefs)
}

// normalize makes an index without references hold nil slices, as a
// parse's does.
func (x *RefIndex) normalize() {
	if len(x.All) == 0 {
		x.All, x.ords = nil, nil
	}
}

// shiftSpan moves sp by d, keeping the zero span (see copier.span).
func shiftSpan(sp Span, d int) Span {
	if sp == (Span{}) {
		return sp
	}
	return Span{sp.Start + d, sp.End + d}
}
