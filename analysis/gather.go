package analysis

import (
	"reflect"
	"slices"
	"sort"

	"github.com/soc2ls/soc2ls/analysis/template"
)

// A ResourceFact is what a whole-template rule needs to know about each
// resource: computed from one resource at a time, it is kept across
// analyses like the findings of resource checks, and an edit recomputes it
// only for the resources it may have changed. A whole-template rule that
// gathers its facts this way instead of walking every resource runs again
// only when the value of one of them changed, so that its cost per edit
// does not grow with the template.
//
// Values must be plain data (strings, numbers, slices and structs of them):
// no nodes or resources, which belong to one version of the template, and
// positions as offsets from the resource's key (Gathered.Span turns them
// back). TestResourceFactsArePlainData (analysis/rules) checks this.
type ResourceFact struct {
	// Key names the fact, for debugging.
	Key string
	// Compute returns the fact for pass.Resource, or nil when there is
	// nothing to say. It may read other resources through the template's
	// lookup methods, like any check.
	Compute func(pass *Pass) any
}

// Gathered is the value of a ResourceFact for one resource. It names the
// resource rather than holding it: the check depends on the value alone,
// and a resource it wants to read it looks up, which also settles its
// nodes after an unsettled re-parse (template.ReparseInPlaceUnsettled).
type Gathered struct {
	Name  string // the resource's logical id
	Value any
	key   int // where the resource's key starts
	index int // the resource's index in the template
}

// Span turns a span relative to the resource's key back into a span of
// the document.
func (g Gathered) Span(rel template.Span) template.Span {
	return template.Span{Start: g.key + rel.Start, End: g.key + rel.End}
}

// Relative returns a span of the resource as an offset from its key, for
// a ResourceFact's value.
func Relative(r *template.Resource, s template.Span) template.Span {
	return template.Span{Start: s.Start - r.Key.Start, End: s.End - r.Key.Start}
}

// datum is one resource's value of a ResourceFact, and what computing it
// read.
type datum struct {
	value any
	reads *reads
}

// gathering holds the values of one ResourceFact for every resource of an
// analysis, whether they differ from the previous analysis's, and an index
// of what computing them read (by resource), which an edit looks up to find
// the values to recompute.
type gathering struct {
	data    []datum
	changed bool
	index   ownedIndex
	// list is what Gather returns, the resources with a value in order,
	// once built (listOK): kept across analyses like data, with the
	// values recomputed patched in; listFor is the template its keys are
	// those of.
	list    []Gathered
	listOK  bool
	listFor *template.Template
}

// Gather returns the values of f for every resource that has one, in
// template order. The check depends on those values only, not on what else
// the resources contain.
//
// The slice is shared by every check of the analysis: do not modify it.
func (p *Pass) Gather(f *ResourceFact) []Gathered {
	g := p.run.gather(f)
	p.recorder.cur.addGather(f)
	return g.gathered(p.run.template)
}

// gathered returns the list of g's values for t, building it the first
// time, and else only updating where the resources' keys start (an edit
// moves them), which costs one pass over the list: no resource is read.
func (g *gathering) gathered(t *template.Template) []Gathered {
	if !g.listOK {
		g.list = g.list[:0]
		for i, d := range g.data {
			if d.value != nil {
				g.list = append(g.list, Gathered{Name: t.Resources[i].Name, Value: d.value, index: i})
			}
		}
		g.listOK = true
	} else if g.listFor == t {
		return g.list
	}
	for k := range g.list {
		g.list[k].key = t.ResourceKeyStart(g.list[k].index)
	}
	g.listFor = t
	return g.list
}

// patchList updates the list for the value of resource i, just computed.
func (g *gathering) patchList(t *template.Template, i int) {
	if !g.listOK {
		return
	}
	k := sort.Search(len(g.list), func(k int) bool { return g.list[k].index >= i })
	has := k < len(g.list) && g.list[k].index == i
	switch v := g.data[i].value; {
	case v == nil && has:
		g.list = slices.Delete(g.list, k, k+1)
	case has:
		g.list[k].Name, g.list[k].Value = t.Resources[i].Name, v
	case v != nil:
		g.list = slices.Insert(g.list, k, Gathered{Name: t.Resources[i].Name, Value: v, index: i})
	}
}

// gather computes f for every resource once per analysis, keeping the
// previous analysis's values for the resources the edit cannot have
// changed: the edited one and those whose computation the index says may
// have read the edited entry are computed again.
func (a *analysisRun) gather(f *ResourceFact) *gathering {
	if g, ok := a.gathered[f]; ok {
		return g
	}
	t, u := a.template, a.reuse
	var prev *gathering
	if u != nil {
		prev = u.prev.gathered[f]
	}
	g := &gathering{}
	// One pass and one view serve every resource: a value is plain data,
	// so no computation keeps them, and what one reads goes to its own
	// datum's reads (rec.cur). Most resources are not of the types a fact
	// is about and read nothing: they share noReads, and their reads are
	// used again for the next resource.
	rec := &recorder{}
	pass := &Pass{Template: t.Recording(rec), Options: a.engine.Options, noFixes: a.engine.noFixes,
		recorder: rec, run: a, report: func(Finding) {}}
	var spare *reads
	compute := func(i int) {
		if spare == nil {
			spare = &reads{}
		}
		t.SettleResource(i)
		rec.cur, pass.Resource = spare, t.Resources[i]
		g.data[i].value = f.Compute(pass)
		if spare.empty() {
			g.data[i].reads = noReads
		} else {
			g.data[i].reads, spare = spare, nil
		}
	}
	if prev == nil {
		g.data = make([]datum, len(t.Resources))
		for i := range t.Resources {
			compute(i)
		}
		g.changed = true
		g.index.x = newReadIndex(dataReads(g.data))
		a.gathered[f] = g
		return g
	}
	// A consumed analysis's values are this one's to update.
	g.data, g.list, g.listOK = prev.data, prev.list, prev.listOK
	if !u.owned {
		g.data, g.list = slices.Clone(prev.data), slices.Clone(prev.list)
	}
	x := prev.index.take(func() []*reads { return dataReads(prev.data) })
	g.index.x = x
	// The values to compute again, by the previous analysis's ids: those
	// whose computation may have read what the edit changed, and those of
	// the resources it re-read.
	var ids []int32
	for _, id := range x.lookup(u.change, u.stamp, a) {
		if !u.replaced(id) && g.data[id].reads.sees(u.change, u.stamp, a) {
			ids = append(ids, id)
		}
	}
	if u.renumbers() {
		for i := u.first; i < u.first+u.removed; i++ {
			if g.data[i].value != nil {
				g.changed = true
			}
		}
		rs := u.renumber(x, dataReads(g.data))
		g.data = slices.Replace(g.data, u.first, u.first+u.removed, make([]datum, u.count)...)
		for i := u.first; i < u.first+u.count; i++ {
			g.data[i].reads = rs[i]
		}
		g.list = u.renumberList(g.list)
		for k, id := range ids {
			ids[k] = u.newID(id)
		}
	}
	for i := u.first; i < u.first+u.count; i++ {
		ids = append(ids, int32(i))
	}
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		i := int(id)
		was := g.data[i]
		compute(i)
		g.patchList(t, i)
		// A value is named by its resource: a re-read resource that was
		// renamed (or replaced by another) changes the list even with the
		// same value.
		renamed := u.change.typesChanged && i >= u.first && i < u.first+u.count
		if !reflect.DeepEqual(g.data[i].value, was.value) || renamed && (was.value != nil || g.data[i].value != nil) {
			g.changed = true
		}
		x.remove(id, was.reads)
		x.add(id, g.data[i].reads, true)
	}
	a.gathered[f] = g
	return g
}

// renumberList drops from a gathering's list the values of the resources
// the edit replaced and renumbers the others, when the edit changed the
// number of resources: the list is the gathering's own (a clone, unless
// the previous analysis is consumed).
func (u *reuse) renumberList(list []Gathered) []Gathered {
	n := 0
	for _, g := range list {
		if u.replaced(int32(g.index)) {
			continue
		}
		g.index = int(u.newID(int32(g.index)))
		list[n] = g
		n++
	}
	clear(list[n:])
	return list[:n]
}

// dataReads returns what computing each datum read.
func dataReads(data []datum) []*reads {
	out := make([]*reads, len(data))
	for i := range data {
		out[i] = data[i].reads
	}
	return out
}

// gatherChanged reports whether some resource's value of f differs from the
// previous analysis's.
func (a *analysisRun) gatherChanged(f *ResourceFact) bool {
	return a.gather(f).changed
}

// A Fact is a value about the whole template that several checks share,
// computed at most once per analysis, like Pass.Memo's. Its value must be
// plain data (as a ResourceFact's: names rather than resources, no nodes),
// which buys two things: it stays valid across edits that did not change
// what it read, and when an edit did, the checks that use it run again only
// if its new value differs from the old one.
type Fact struct {
	// Key names the fact, for debugging.
	Key string
	// Compute returns the value; pass.Resource is nil.
	Compute func(pass *Pass) any
}

// factValue is a Fact's value in one analysis and what computing it read.
type factValue struct {
	value   any
	reads   *reads
	changed bool // differs from the previous analysis's value
	// prev is the previous analysis's value, when it changed; keys the
	// keys at which a map value changed, once asked (changedKeys).
	prev any
	keys map[string]bool
}

// Fact returns the value of f for the template.
func (p *Pass) Fact(f *Fact) any {
	p.recorder.cur.addFactDep(f)
	return p.run.fact(f).value
}

// fact computes f once per analysis, or keeps the previous analysis's value
// when the edit cannot have changed it.
func (a *analysisRun) fact(f *Fact) *factValue {
	if v, ok := a.facts[f]; ok {
		return v
	}
	var prev *factValue
	if a.reuse != nil {
		prev = a.reuse.prev.facts[f]
	}
	if prev != nil && !prev.reads.sees(a.reuse.change, a.reuse.stamp, a) {
		v := &factValue{value: prev.value, reads: prev.reads}
		a.facts[f] = v
		return v
	}
	v := &factValue{reads: &reads{}}
	a.facts[f] = v // a fact that needs itself sees its zero value rather than looping
	rec := &recorder{cur: v.reads}
	pass := &Pass{Template: a.template.Recording(rec), Options: a.engine.Options, noFixes: a.engine.noFixes,
		recorder: rec, run: a, report: func(Finding) {}}
	v.value = f.Compute(pass)
	v.changed = prev == nil || !reflect.DeepEqual(v.value, prev.value)
	if v.changed && prev != nil {
		v.prev = prev.value
	}
	return v
}

// FactAt returns the value at key of f, whose value must be a map with
// string keys, and whether there is one. The check depends on the value at
// that key only: an edit that changes f elsewhere (another bucket's entry
// in a fact about buckets) does not run it again.
func FactAt[V any](p *Pass, f *Fact, key string) (V, bool) {
	p.recorder.cur.addFactKey(f, key)
	v, ok := p.run.fact(f).value.(map[string]V)[key]
	return v, ok
}

// changedKeys returns the keys at which a map value differs from the
// previous analysis's, nil when it did not change. A value with no previous
// one has no reader to tell.
func (v *factValue) changedKeys() map[string]bool {
	if !v.changed || v.prev == nil {
		return nil
	}
	if v.keys == nil {
		v.keys = map[string]bool{}
		now, was := reflect.ValueOf(v.value), reflect.ValueOf(v.prev)
		at := func(m, k reflect.Value) reflect.Value {
			if m.Kind() != reflect.Map {
				return reflect.Value{}
			}
			return m.MapIndex(k)
		}
		for _, m := range []reflect.Value{now, was} {
			if m.Kind() != reflect.Map {
				continue
			}
			for it := m.MapRange(); it.Next(); {
				k := it.Key()
				a, b := at(now, k), at(was, k)
				if !a.IsValid() || !b.IsValid() || !reflect.DeepEqual(a.Interface(), b.Interface()) {
					v.keys[k.String()] = true
				}
			}
		}
	}
	return v.keys
}

// factKeysChanged returns the keys at which f's value changed.
func (a *analysisRun) factKeysChanged(f *Fact) map[string]bool { return a.fact(f).changedKeys() }

// factChanged reports whether f's value differs from the previous
// analysis's.
func (a *analysisRun) factChanged(f *Fact) bool { return a.fact(f).changed }
