package template

import (
	"slices"
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
// fast path gives up on. TestReparseRandomEdits and FuzzReparse hold the
// result to Parse of the same text, model, spans, problems and indexes
// included.

// Reparse returns the template of src, which is old.Source with the bytes
// [start, end) replaced by n bytes. The result equals Parse(old.Filename,
// src); old is not modified and stays valid (the two share the nodes before
// the edit, which are never modified after parsing). old must not be nil.
func Reparse(old *Template, src []byte, start, end, n int) *Template {
	t, _ := ReparseDelta(old, src, start, end, n)
	return t
}

// Delta says what Reparse's incremental path changed: the value of one entry
// of one section. Everything else is the old template's, with the offsets at
// or after OldEnd moved by Shift.
type Delta struct {
	Section string // the section's key: "Resources", "Parameters", ...
	Index   int    // the entry's index among the section's pairs
	// Old is the entry as it was: key and value are old's nodes, in old's
	// coordinates.
	Old *Pair
	// The edit, in old's coordinates: the bytes [Start, OldEnd) were
	// replaced, and what followed them moved by Shift bytes.
	Start, OldEnd, Shift int
}

// ReparseDelta is Reparse that also says what changed: the delta is nil
// when the document was parsed from scratch.
func ReparseDelta(old *Template, src []byte, start, end, n int) (*Template, *Delta) {
	if t, d := reparseEntry(old, src, start, end, n); t != nil {
		return t, d
	}
	return Parse(old.Filename, src), nil
}

// reparseEntry is Reparse's incremental path; it returns nil when the edit
// needs a full parse.
func reparseEntry(old *Template, src []byte, start, end, n int) (t *Template, d *Delta) {
	delta := n - (end - start)
	if !old.fastYAML || old.Root == nil || old.Root.Kind != Mapping || old.Root.Flow ||
		len(old.Problems) > 0 || start < 0 || end < start || end > len(old.Source) || len(src) != len(old.Source)+delta {
		return nil, nil
	}
	oldSrc := old.Source
	// The section and the entry whose lines hold the edit.
	si := sectionAt(old.Root.Pairs, start)
	if si < 0 {
		return nil, nil
	}
	sec := old.Root.Pairs[si]
	m := sec.Value
	if m.Kind != Mapping || m.Flow || len(m.Pairs) == 0 {
		return nil, nil
	}
	ei := -1
	for i, p := range m.Pairs {
		if p.Key.Start <= start {
			ei = i
		}
	}
	if ei < 0 {
		return nil, nil
	}
	entry := m.Pairs[ei]
	key := entry.Key
	col := columnOf(oldSrc, key.Start)
	if col <= 0 || key.End >= len(oldSrc) || oldSrc[key.End] != ':' || start <= key.End ||
		key.End+1 < len(src) && !isYAMLSpace(src[key.End+1]) {
		return nil, nil // a key not at its line's indentation, `key :`, an edit of the key, or `key:x`
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
		return nil, nil // the edit reaches the next key's line
	}
	newRegionEnd := regionEnd + delta
	if !printable(src[key.Start:newRegionEnd]) {
		return nil, nil
	}
	lines := &Lines{src: oldSrc, starts: slices.Clone(old.Lines.starts)}
	lines.Splice(src, start, end, n)

	// Read the entry's value as the section's block mapping would, on the
	// text cut at the region's end, and check that nothing but blank lines
	// and comments follows it there.
	alloc := &allocator{}
	p := &fastParser{src: src[:newRegionEnd], lines: lines, alloc: alloc, depth: 2}
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
		return nil, nil
	}

	// Assemble the new tree: the nodes before the entry are shared, the
	// entry is new, the nodes after it are copies with shifted spans.
	sh := &shifter{delta: delta, alloc: alloc}
	newEntry := alloc.pair()
	newEntry.Key, newEntry.Value = key, val
	pairs := make([]*Pair, len(m.Pairs))
	copy(pairs, m.Pairs[:ei])
	pairs[ei] = newEntry
	for i := ei + 1; i < len(m.Pairs); i++ {
		pairs[i] = sh.pair(m.Pairs[i])
	}
	newSec := alloc.node()
	*newSec = *m
	newSec.Pairs = pairs
	newSec.End = max(key.End+1, m.Pairs[0].Key.End+1)
	for _, pr := range pairs {
		newSec.End = max(newSec.End, pr.Key.End, pr.Value.End)
	}
	secPair := alloc.pair()
	secPair.Key, secPair.Value = sec.Key, newSec

	root := alloc.node()
	*root = *old.Root
	root.Pairs = make([]*Pair, len(old.Root.Pairs))
	copy(root.Pairs, old.Root.Pairs[:si])
	root.Pairs[si] = secPair
	for i := si + 1; i < len(old.Root.Pairs); i++ {
		root.Pairs[i] = sh.pair(old.Root.Pairs[i])
	}
	root.End = 0
	for _, pr := range root.Pairs {
		root.End = max(root.End, pr.Key.End, pr.Value.End)
	}
	root.End = max(root.End, root.Pairs[0].Key.End+1)

	t = &Template{Filename: old.Filename, Format: YAML, Source: src, Lines: lines, Root: root, Problems: p.problems, fastYAML: true}
	t.build()
	return t, &Delta{Section: sec.Key.Value, Index: ei, Old: entry, Start: start, OldEnd: end, Shift: delta}
}

// sectionAt returns the index of the last pair whose key starts at or
// before off, or -1.
func sectionAt(pairs []*Pair, off int) int {
	i := -1
	for j, p := range pairs {
		if p.Key.Start <= off {
			i = j
		}
	}
	return i
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

// shifter copies nodes, moving their spans by delta bytes.
type shifter struct {
	delta int
	alloc *allocator
}

// span shifts sp; the zero span is what nodes hold in the fields that do not
// apply to them (FnSpan of a scalar), and stays zero: no span after an edit
// can start at offset 0.
func (s *shifter) span(sp Span) Span {
	if sp == (Span{}) {
		return sp
	}
	return Span{sp.Start + s.delta, sp.End + s.delta}
}

func (s *shifter) pair(p *Pair) *Pair {
	out := s.alloc.pair()
	out.Key, out.Value = s.node(p.Key), s.node(p.Value)
	return out
}

func (s *shifter) node(n *Node) *Node {
	if n == nil {
		return nil
	}
	out := s.alloc.node()
	*out = *n
	out.Span = s.span(n.Span)
	out.ValueSpan = s.span(n.ValueSpan)
	out.FnSpan = s.span(n.FnSpan)
	switch n.Kind {
	case Mapping:
		out.Pairs = make([]*Pair, len(n.Pairs))
		for i, p := range n.Pairs {
			out.Pairs[i] = s.pair(p)
		}
	case Sequence:
		out.Items = make([]*Node, len(n.Items))
		for i, it := range n.Items {
			out.Items[i] = s.node(it)
		}
	}
	out.Arg = s.node(n.Arg)
	return out
}
