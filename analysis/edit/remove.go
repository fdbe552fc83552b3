package edit

import (
	"github.com/soc2ls/soc2ls/analysis/template"
)

// Delete removes the pair with the given key from mapping m (nothing happens
// when m has no such key). In block YAML the pair's lines go, comments on
// other lines stay; in flow YAML and JSON the pair and one separating comma
// go. A mapping left empty becomes {}. Several removals from one collection
// in one fix combine.
func (b *Builder) Delete(m *template.Node, key string) {
	if m == nil || m.Kind != template.Mapping {
		return
	}
	for i, p := range m.Pairs {
		if p.Key.Value == key {
			b.markRemoved(m, i)
			return
		}
	}
}

// Remove removes item from sequence s (nothing happens when it is not one of
// s's items). A sequence left empty becomes [].
func (b *Builder) Remove(s *template.Node, item *template.Node) {
	if s == nil || s.Kind != template.Sequence {
		return
	}
	for i, it := range s.Items {
		if it == item {
			b.markRemoved(s, i)
			return
		}
	}
}

// markRemoved records that element i of collection c goes. The edits are
// computed in Edits, once every removal of the fix is known, because the
// text between two removed neighbours must go exactly once.
func (b *Builder) markRemoved(c *template.Node, i int) {
	if b.removed == nil {
		b.removed = map[*template.Node]map[int]bool{}
	}
	if b.removed[c] == nil {
		b.removed[c] = map[int]bool{}
		b.removedOrder = append(b.removedOrder, c)
	}
	b.removed[c][i] = true
}

// removalEdits turns the recorded removals into edits.
func (b *Builder) removalEdits() []Edit {
	var out []Edit
	for _, c := range b.removedOrder {
		gone := b.removed[c]
		n := len(c.Pairs) + len(c.Items)
		if len(gone) == n {
			out = append(out, Edit{Start: c.Start, End: c.End, NewText: map[bool]string{true: "{}", false: "[]"}[c.Kind == template.Mapping]})
			continue
		}
		for i := 0; i < n; i++ {
			if !gone[i] {
				continue
			}
			j := i
			for j+1 < n && gone[j+1] {
				j++
			}
			out = append(out, b.removeRun(c, n, i, j))
			i = j
		}
	}
	return out
}

// elementSpan returns where element i of collection c starts (its key, or
// the dash of a block sequence item) and ends.
func (b *Builder) elementSpan(c *template.Node, i int) (start, end int) {
	if c.Kind == template.Mapping {
		p := c.Pairs[i]
		return p.Key.Start, max(p.Value.End, p.Key.End)
	}
	it := c.Items[i]
	if !c.Flow && b.t.Format == template.YAML {
		return b.dashBefore(it), it.End
	}
	return it.Start, it.End
}

// removeRun removes elements i..j (not all of them) of collection c.
func (b *Builder) removeRun(c *template.Node, n, i, j int) Edit {
	t := b.t
	start, _ := b.elementSpan(c, i)
	_, end := b.elementSpan(c, j)
	next := -1
	if j+1 < n {
		next, _ = b.elementSpan(c, j+1)
	}
	prevEnd := -1
	if i > 0 {
		_, prevEnd = b.elementSpan(c, i-1)
	}
	byText := func() Edit {
		if next >= 0 {
			return Edit{Start: start, End: next}
		}
		return Edit{Start: prevEnd, End: end}
	}
	if c.Flow || t.Format == template.JSON {
		return byText()
	}
	// Block YAML. When the run shares its first line with something else
	// (`- Key: x`, the first pair of a sequence item), only the text up to
	// the next element goes, so that the next one takes its place.
	lines := t.Lines
	first := lines.LineOf(start)
	ls := lines.LineStart(first)
	for k := ls; k < start; k++ {
		if ch := t.Source[k]; ch != ' ' && ch != '\t' {
			return byText()
		}
	}
	last := lines.LineOf(end)
	if end > 0 && end == lines.LineStart(last) && last > first {
		last-- // a block value ending at the start of the next line
	}
	return Edit{Start: ls, End: lines.LineStart(last + 1)}
}

// dashBefore returns the offset of the `-` that introduces a block sequence
// item, or the item's start when there is none on its line.
func (b *Builder) dashBefore(it *template.Node) int {
	t := b.t
	ls := t.Lines.LineStart(t.Lines.LineOf(it.Start))
	for i := it.Start - 1; i >= ls; i-- {
		if t.Source[i] == '-' {
			return i
		}
	}
	return it.Start
}
