package edit

import (
	"strings"

	"github.com/soc2ls/soc2ls/analysis/template"
)

// Builder collects the edits of one fix against one template.
type Builder struct {
	t     *template.Template
	edits []Edit
	unit  int
	// added remembers section entries already added by this builder, so a
	// fix that needs the same parameter twice adds it once.
	added map[string]bool
	// removed holds the elements Delete and Remove took out, by collection,
	// in the order the collections were first touched.
	removed      map[*template.Node]map[int]bool
	removedOrder []*template.Node
	// newSections collects the entries for sections the template lacks;
	// each such section is written once, with all its entries, by Edits.
	newSections     map[string][]KV
	newSectionOrder []string
	// appended holds the entries added to existing sections. They come
	// after every other edit: the end of a section is also the end of its
	// last entry, where edits to that entry insert too.
	appended []Edit
}

// New starts a fix for t.
func New(t *template.Template) *Builder {
	return &Builder{t: t, unit: indentUnit(t), added: map[string]bool{}}
}

// Edits returns the edits collected so far.
func (b *Builder) Edits() []Edit {
	if len(b.removedOrder) == 0 && len(b.newSectionOrder) == 0 && len(b.appended) == 0 {
		return b.edits
	}
	out := append(append([]Edit(nil), b.edits...), b.appended...)
	for _, section := range b.newSectionOrder {
		out = append(out, b.sectionEdit(section, Map(b.newSections[section]...)))
	}
	return append(out, b.removalEdits()...)
}

// add records an edit; generated text uses LF and gets the document's line
// break here, once.
func (b *Builder) add(start, end int, text string) {
	b.edits = append(b.edits, b.edit(start, end, text))
}

// edit makes an edit whose LF line breaks become the document's.
func (b *Builder) edit(start, end int, text string) Edit {
	return Edit{Start: start, End: end, NewText: b.nl(text)}
}

// indentUnit detects the indentation step of a document: the column of the
// first entry of the first block section, else 2 (YAML) or the same for JSON.
func indentUnit(t *template.Template) int {
	if t.Root == nil || t.Root.Kind != template.Mapping {
		return 2
	}
	for _, p := range t.Root.Pairs {
		v := p.Value
		if v.Kind == template.Mapping && len(v.Pairs) > 0 && (!v.Flow || t.Format == template.JSON) {
			k := v.Pairs[0].Key
			if t.Lines.LineOf(k.Start) == t.Lines.LineOf(p.Key.Start) {
				continue
			}
			d := column(t, k.Start) - column(t, p.Key.Start)
			if d > 0 && d <= 8 {
				return d
			}
		}
	}
	return 2
}

// column returns the byte column (0-based) of offset off on its line.
func column(t *template.Template, off int) int {
	return off - t.Lines.LineStart(t.Lines.LineOf(off))
}

// Replace replaces the value node n with v, keeping what surrounds it.
func (b *Builder) Replace(n *template.Node, v Value) {
	if b.t.Format == template.JSON {
		b.add(n.Start, n.End, jsonValue(v, b.t.Lines.Indent(n.Start), b.unit))
		return
	}
	flow := b.inFlow(n)
	b.add(n.Start, n.End, yamlInline(v, flow))
}

// inFlow reports whether n sits inside a YAML flow collection, where plain
// scalars may not contain flow indicators.
func (b *Builder) inFlow(n *template.Node) bool { return n.InFlow }

// Set sets key to v in mapping m: the existing value is replaced, or the pair
// is added after the last pair.
func (b *Builder) Set(m *template.Node, key string, v Value) {
	if p := m.Pair(key); p != nil && p.Value.Kind != template.Null {
		b.Replace(p.Value, v)
		return
	} else if p != nil {
		b.fillEmpty(p, v)
		return
	}
	b.Insert(m, key, v)
}

// SetPath sets a value at a path of keys below mapping m, creating the
// missing mappings along the way (Properties, then the property, ...).
func (b *Builder) SetPath(m *template.Node, path []string, v Value) {
	for i, k := range path {
		next := m.Get(k)
		if next == nil || next.Kind == template.Null || (next.Kind != template.Mapping && i < len(path)-1) {
			nested := v
			for j := len(path) - 1; j > i; j-- {
				nested = Map(KV{path[j], nested})
			}
			b.Set(m, k, nested)
			return
		}
		if i == len(path)-1 {
			b.Replace(next, v)
			return
		}
		m = next
	}
}

// fillEmpty gives a value to a key written with none (`Properties:`).
func (b *Builder) fillEmpty(p *template.Pair, v Value) {
	if b.t.Format == template.JSON {
		b.add(p.Value.Start, p.Value.End, jsonValue(v, b.t.Lines.Indent(p.Key.Start), b.unit))
		return
	}
	indent := column(b.t, p.Key.Start)
	// Replace everything from the colon to the end of the value.
	colon := strings.IndexByte(string(b.t.Source[p.Key.End:]), ':')
	if colon < 0 {
		return
	}
	start := p.Key.End + colon + 1
	end := max(p.Value.End, start)
	if b.inFlow(p.Key) {
		b.add(start, end, " "+yamlInline(v, true))
		return
	}
	b.add(start, end, yamlAfterKey(v, indent, b.unit))
}

// Insert adds key: v as the last pair of mapping m (which must not have the
// key yet).
func (b *Builder) Insert(m *template.Node, key string, v Value) {
	t := b.t
	if m.Kind == template.Null {
		return
	}
	if t.Format == template.JSON {
		b.insertJSON(m, key, v)
		return
	}
	if m.Flow {
		text := yamlScalar(scalarValue{text: key}, true) + ": " + yamlInline(v, true)
		closeAt := m.End - 1
		if len(m.Pairs) == 0 {
			b.add(closeAt, closeAt, text)
		} else {
			b.add(m.Pairs[len(m.Pairs)-1].Value.End, m.Pairs[len(m.Pairs)-1].Value.End, ", "+text)
		}
		return
	}
	if len(m.Pairs) == 0 {
		return
	}
	last := m.Pairs[len(m.Pairs)-1]
	indent := column(t, m.Pairs[0].Key.Start)
	at := t.Lines.LineEnd(t.Lines.LineOf(max(last.Value.End, last.Key.End)))
	text := "\n" + strings.Repeat(" ", indent) + yamlScalar(scalarValue{text: key}, false) + ":" + yamlAfterKey(v, indent, b.unit)
	b.add(at, at, (text))
}

func (b *Builder) insertJSON(m *template.Node, key string, v Value) {
	t := b.t
	if len(m.Pairs) == 0 {
		indent := t.Lines.Indent(m.Start)
		pad := strings.Repeat(" ", indent+b.unit)
		text := "\n" + pad + jsonValue(Str(key), 0, b.unit) + ": " + jsonValue(v, indent+b.unit, b.unit) + "\n" + strings.Repeat(" ", indent)
		b.add(m.Start+1, m.End-1, text)
		return
	}
	last := m.Pairs[len(m.Pairs)-1]
	first := m.Pairs[0]
	if t.Lines.LineOf(first.Key.Start) == t.Lines.LineOf(m.Start) {
		// A one-line object: stay on its line.
		b.add(last.Value.End, last.Value.End, ", "+jsonValue(Str(key), 0, b.unit)+": "+jsonValue(v, t.Lines.Indent(m.Start), b.unit))
		return
	}
	indent := column(t, first.Key.Start)
	text := "," + "\n" + strings.Repeat(" ", indent) + jsonValue(Str(key), 0, b.unit) + ": " + jsonValue(v, indent, b.unit)
	b.add(last.Value.End, last.Value.End, (text))
}

// Append adds v as the last item of sequence s.
func (b *Builder) Append(s *template.Node, v Value) {
	t := b.t
	if t.Format == template.JSON || s.Flow {
		var text string
		if t.Format == template.JSON {
			text = jsonValue(v, t.Lines.Indent(s.Start), b.unit)
		} else {
			text = yamlInline(v, true)
		}
		if len(s.Items) == 0 {
			b.add(s.End-1, s.End-1, text)
			return
		}
		lastItem := s.Items[len(s.Items)-1]
		if t.Format == template.JSON && t.Lines.LineOf(s.Items[0].Start) != t.Lines.LineOf(s.Start) {
			indent := column(t, s.Items[0].Start)
			text = jsonValue(v, indent, b.unit)
			b.add(lastItem.End, lastItem.End, (",\n" + strings.Repeat(" ", indent) + text))
			return
		}
		b.add(lastItem.End, lastItem.End, ", "+text)
		return
	}
	if len(s.Items) == 0 {
		return
	}
	// Block sequence: the dash sits two columns before the first item.
	first := s.Items[0]
	dash := column(t, first.Start) - 2
	for i := first.Start - 1; i >= t.Lines.LineStart(t.Lines.LineOf(first.Start)); i-- {
		if t.Source[i] == '-' {
			dash = column(t, i)
			break
		}
	}
	last := s.Items[len(s.Items)-1]
	at := t.Lines.LineEnd(t.Lines.LineOf(last.End))
	text := yamlBlockList(listValue{v}, dash, b.unit)
	b.add(at, at, ("\n" + text))
}

// sectionOrder is the conventional order of top-level sections, used to
// place a section the template does not have yet.
var sectionOrder = []string{"AWSTemplateFormatVersion", "Description", "Metadata", "Transform", "Parameters", "Rules", "Mappings", "Conditions", "Resources", "Outputs"}

// AddEntry adds name: v to a top-level section (Parameters, Conditions, ...),
// creating the section in its conventional place when the template has none.
// Adding the same entry twice in one builder adds it once.
func (b *Builder) AddEntry(section, name string, v Value) {
	id := section + "/" + name
	if b.added[id] {
		return
	}
	b.added[id] = true
	t := b.t
	if p := t.Sections[section]; p != nil && p.Value.Kind == template.Mapping {
		n := len(b.edits)
		b.Insert(p.Value, name, v)
		b.appended = append(b.appended, b.edits[n:]...)
		b.edits = b.edits[:n]
		return
	} else if p != nil {
		b.fillEmpty(p, Map(KV{name, v}))
		return
	}
	if b.newSections == nil {
		b.newSections = map[string][]KV{}
	}
	if _, ok := b.newSections[section]; !ok {
		b.newSectionOrder = append(b.newSectionOrder, section)
	}
	b.newSections[section] = append(b.newSections[section], KV{name, v})
}

// sectionEdit is the edit that creates a top-level section with the given
// value, in its conventional place.
func (b *Builder) sectionEdit(section string, value Value) Edit {
	t := b.t
	root := t.Root
	// Find the first existing section that comes after this one.
	rank := func(s string) int {
		for i, x := range sectionOrder {
			if x == s {
				return i
			}
		}
		return len(sectionOrder)
	}
	var before *template.Pair
	for _, p := range root.Pairs {
		if rank(p.Key.Value) > rank(section) {
			before = p
			break
		}
	}
	entry := Map(KV{section, value})
	if t.Format == template.JSON {
		indent := column(t, root.Pairs[0].Key.Start)
		m := entry.(mapValue)
		text := jsonValue(Str(section), 0, b.unit) + ": " + jsonValue(m[0].Value, indent, b.unit)
		if before != nil {
			return b.edit(before.Key.Start, before.Key.Start, text+",\n"+strings.Repeat(" ", indent))
		}
		last := root.Pairs[len(root.Pairs)-1]
		return b.edit(last.Value.End, last.Value.End, ",\n"+strings.Repeat(" ", indent)+text)
	}
	text := yamlBlockMap(entry.(mapValue), 0, b.unit)
	if before != nil {
		at := t.Lines.LineStart(t.Lines.LineOf(before.Key.Start))
		// Keep any comment lines that introduce the next section with it.
		for l := t.Lines.LineOf(at) - 1; l >= 0; l-- {
			ls, le := t.Lines.LineStart(l), t.Lines.LineEnd(l)
			line := strings.TrimSpace(string(t.Source[ls:le]))
			if !strings.HasPrefix(line, "#") {
				break
			}
			at = ls
		}
		return b.edit(at, at, text+"\n\n")
	}
	end := len(t.Source)
	prefix := "\n"
	if end > 0 && t.Source[end-1] != '\n' {
		prefix = "\n\n"
	}
	return b.edit(end, end, prefix+text+"\n")
}

// nl converts the LF line breaks of generated text to the document's.
func (b *Builder) nl(text string) string {
	if lb := lineBreak(b.t); lb != "\n" {
		return strings.ReplaceAll(text, "\n", lb)
	}
	return text
}

// lineBreak returns the document's line break: CRLF when its first line ends
// with one, else LF.
func lineBreak(t *template.Template) string {
	if t.Lines.Count() > 1 {
		e := t.Lines.LineEnd(0)
		if e < len(t.Source) && t.Source[e] == '\r' {
			return "\r\n"
		}
	}
	return "\n"
}
