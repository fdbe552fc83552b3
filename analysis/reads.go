package analysis

import (
	"slices"
	"sync/atomic"

	"github.com/soc2ls/soc2ls/analysis/template"
)

// reads records what a check looked at besides its own resource: other
// resources by logical id, by type, through references to a name, or all of
// them; parameters, conditions and mappings by name; the entries of
// Parameters, Conditions, Mappings, Outputs or Metadata as a whole, and the
// other top-level pairs (Description, Globals...) by key. It is what lets an
// incremental analysis keep a check's findings when an edit changed one
// entry the check never read. A check always depends on its own resource.
// The lookup methods of the recording view a check gets are the only way
// rules reach resources, those sections' entries and the top-level pairs
// (TestRulesReachResourcesThroughRecorder).
type reads struct {
	all     bool
	typeSet bool                // which types the template has
	names   map[string]struct{} // resources looked up by logical id
	typeOf  map[string]struct{} // resources whose type (or existence) was asked
	types   []string            // resources listed by type
	refsTo  map[string]struct{} // references to these names, wherever they are
	// entries are the parameters, conditions and mappings looked up by
	// name (entryKey), sections the sections whose entries were all read.
	entries  map[string]struct{}
	sections []string
	// facts are the reads of the memoised facts the check used; they are
	// shared, and never change once the fact is computed.
	facts []*reads
	fact  string // for a fact's reads, its Memo key (for debugging)
	// gathers are the resource facts the check gathered from every
	// resource: it depends on their values.
	gathers []*ResourceFact
	// factDeps are the Facts the check used: it depends on their values.
	// factKeys are Facts it read at one key only (FactAt): it depends on
	// the values at those keys.
	factDeps []*Fact
	factKeys []factKey

	// seen caches, for the reads of a memoised fact, whether they see the
	// change of one re-analysis: its stamp, shifted left by one, and the
	// answer in the low bit. Many checks share a fact.
	seen atomic.Uint64
}

// factKey is one key of a Fact whose value is a map.
type factKey struct {
	fact *Fact
	key  string
}

// valueChanges tells whether the values a check depends on changed: those
// of the resource facts it gathered and of the Facts it used, whole or at
// one key.
type valueChanges interface {
	gatherChanged(*ResourceFact) bool
	factChanged(*Fact) bool
	// factKeysChanged returns the keys at which f's value changed (nil if
	// it did not change).
	factKeysChanged(*Fact) map[string]bool
}

func (r *reads) addName(name string)   { r.addTo(&r.names, name) }
func (r *reads) addTypeOf(name string) { r.addTo(&r.typeOf, name) }
func (r *reads) addRefsTo(name string) { r.addTo(&r.refsTo, name) }
func (r *reads) addEntry(section, name string) {
	if !slices.Contains(r.sections, section) {
		r.addTo(&r.entries, entryKey(section, name))
	}
}

func (r *reads) addSection(section string) {
	if !r.all && !slices.Contains(r.sections, section) {
		r.sections = append(r.sections, section)
	}
}

// entryKey names an entry of a section other than Resources in reads and
// in the read index.
func entryKey(section, name string) string { return section + "\x00" + name }

// addTo adds name to a set of r, unless r depends on everything anyway.
func (r *reads) addTo(set *map[string]struct{}, name string) {
	if r.all {
		return
	}
	if *set == nil {
		*set = map[string]struct{}{}
	}
	(*set)[name] = struct{}{}
}

func (r *reads) addType(typ string) {
	if !r.all && !slices.Contains(r.types, typ) {
		r.types = append(r.types, typ)
	}
}

func (r *reads) addTypeSet() {
	if !r.all {
		r.typeSet = true
	}
}

func (r *reads) addAll() {
	r.all, r.typeSet = true, false
	r.names, r.typeOf, r.types, r.refsTo, r.facts, r.gathers, r.factDeps = nil, nil, nil, nil, nil, nil, nil
	r.entries, r.sections, r.factKeys = nil, nil, nil
}

func (r *reads) addFactDep(f *Fact) {
	if !r.all && !slices.Contains(r.factDeps, f) {
		r.factDeps = append(r.factDeps, f)
	}
}

// addFactKey records that the check read f at key, unless it depends on
// the whole of f anyway.
func (r *reads) addFactKey(f *Fact, key string) {
	k := factKey{f, key}
	if !r.all && !slices.Contains(r.factDeps, f) && !slices.Contains(r.factKeys, k) {
		r.factKeys = append(r.factKeys, k)
	}
}

func (r *reads) addGather(f *ResourceFact) {
	if !r.all && !slices.Contains(r.gathers, f) {
		r.gathers = append(r.gathers, f)
	}
}

// addFact records that the check used a fact that read f.
func (r *reads) addFact(f *reads) {
	if !r.all && !slices.Contains(r.facts, f) {
		r.facts = append(r.facts, f)
	}
}

// change is what an edit of entries of one section may have changed, as
// far as checks can tell: the entries (by name, before and after the edit),
// for resources their types before and after, and the references the
// entries made before and after (which are what RefsTo of their targets
// returns).
type change struct {
	// section is "Resources", "Parameters", "Conditions", "Mappings",
	// "Outputs" or "Metadata", or "" for top-level pairs (Description,
	// Globals...), whose keys names then lists.
	section string
	names   []string
	types   []string
	// typesChanged says that a resource's type changed, or a resource came
	// or went: what TypeOf answers for a name, and maybe Types, changed.
	typesChanged bool
	refs         []string // targets of the references in the old or the new entries
	// trivia says that nothing but positions changed (comments, blank
	// lines): no check sees it.
	trivia bool
}

// newChange describes the edit d of a section of entries, whose new
// entries in t are entries.
func newChange(d *template.Delta, entries []*template.Pair, t *template.Template) *change {
	c := &change{section: d.Section}
	add := func(list *[]string, v string) {
		if !slices.Contains(*list, v) {
			*list = append(*list, v)
		}
	}
	var oldTypes, newTypes []string
	for _, e := range d.Old {
		add(&c.names, e.Key.Value)
		oldTypes = append(oldTypes, e.Value.Get("Type").Text())
	}
	for _, ref := range d.OldRefs {
		add(&c.refs, ref.Target)
	}
	if d.Section == "" {
		// Top-level pairs: their references are those of the entries of
		// their values (a mapping: Globals...), indexed under their keys.
		for _, e := range entries {
			add(&c.names, e.Key.Value)
			if e.Value.Kind == template.Mapping {
				for _, ref := range t.Refs.All { // (targets only: no span is read, none needs settling)
					if ref.Section == e.Key.Value {
						add(&c.refs, ref.Target)
					}
				}
			}
		}
		return c
	}
	for _, e := range entries {
		add(&c.names, e.Key.Value)
		var refs []template.Reference
		if d.Section == "Resources" {
			if r := t.Resource(e.Key.Value); r != nil {
				newTypes = append(newTypes, r.Type)
			}
			refs = t.RefsFrom(e.Key.Value)
		} else {
			refs = t.Refs.From(d.Section, e.Key.Value)
		}
		for _, ref := range refs {
			add(&c.refs, ref.Target)
		}
	}
	if d.Section == "Resources" {
		for _, typ := range slices.Concat(oldTypes, newTypes) {
			add(&c.types, typ)
		}
		// The same names with the same types: only the values changed.
		same := len(d.Old) == len(entries) && slices.Equal(oldTypes, newTypes)
		for i := 0; same && i < len(entries); i++ {
			same = d.Old[i].Key.Value == entries[i].Key.Value
		}
		c.typesChanged = !same
	}
	return c
}

// noReads are the reads of a computation that read nothing: shared, and
// never added to.
var noReads = &reads{}

// empty reports whether r records no read at all.
func (r *reads) empty() bool {
	return !r.all && !r.typeSet && len(r.names) == 0 && len(r.typeOf) == 0 && len(r.types) == 0 && len(r.refsTo) == 0 &&
		len(r.entries) == 0 && len(r.sections) == 0 && len(r.facts) == 0 && len(r.gathers) == 0 && len(r.factDeps) == 0 &&
		len(r.factKeys) == 0 && r.fact == ""
}

// sees reports whether a check that read r may have read something c
// changed; stamp identifies the re-analysis, for the answers cached on the
// reads of memoised facts; values tells whether the values of resource
// facts and Facts changed.
func (r *reads) sees(c *change, stamp uint64, values valueChanges) bool {
	if c.trivia {
		return false
	}
	if r.all {
		return true
	}
	if c.section == "Resources" {
		for _, n := range c.names {
			if _, ok := r.names[n]; ok {
				return true
			}
			if _, ok := r.typeOf[n]; ok && c.typesChanged {
				return true
			}
		}
		if r.typeSet && c.typesChanged {
			return true
		}
		for _, t := range c.types {
			if slices.Contains(r.types, t) {
				return true
			}
		}
	} else if c.section == "" {
		for _, n := range c.names {
			if slices.Contains(r.sections, n) {
				return true
			}
		}
	} else {
		if slices.Contains(r.sections, c.section) {
			return true
		}
		for _, n := range c.names {
			if _, ok := r.entries[entryKey(c.section, n)]; ok {
				return true
			}
		}
	}
	for _, n := range c.refs {
		if _, ok := r.refsTo[n]; ok {
			return true
		}
	}
	for _, f := range r.facts {
		if f.factSees(c, stamp, values) {
			return true
		}
	}
	for _, f := range r.gathers {
		if values.gatherChanged(f) {
			return true
		}
	}
	for _, f := range r.factDeps {
		if values.factChanged(f) {
			return true
		}
	}
	for _, k := range r.factKeys {
		if values.factKeysChanged(k.fact)[k.key] {
			return true
		}
	}
	return false
}

// factSees is sees for the reads of a memoised fact, which many checks
// share: the answer is computed once per re-analysis.
func (f *reads) factSees(c *change, stamp uint64, values valueChanges) bool {
	if v := f.seen.Load(); v>>1 == stamp {
		return v&1 == 1
	}
	s := f.sees(c, stamp, values)
	v := stamp << 1
	if s {
		v |= 1
	}
	f.seen.Store(v)
	return s
}

// recorder is the template.ReadRecorder of a check: it records into cur,
// which Pass.Memo points at a fact's own reads while the fact is computed.
type recorder struct{ cur *reads }

func (r *recorder) ReadResource(name string)       { r.cur.addName(name) }
func (r *recorder) ReadTypeOf(name string)         { r.cur.addTypeOf(name) }
func (r *recorder) ReadType(typ string)            { r.cur.addType(typ) }
func (r *recorder) ReadRefsTo(name string)         { r.cur.addRefsTo(name) }
func (r *recorder) ReadTypes()                     { r.cur.addTypeSet() }
func (r *recorder) ReadAll()                       { r.cur.addAll() }
func (r *recorder) ReadEntry(section, name string) { r.cur.addEntry(section, name) }
func (r *recorder) ReadSection(section string)     { r.cur.addSection(section) }
