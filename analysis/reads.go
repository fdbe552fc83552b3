package analysis

import (
	"slices"
	"sync/atomic"

	"github.com/soc2ls/soc2ls/analysis/template"
)

// reads records which other resources a check looked at: by logical id, by
// type, through references to a name, or all of them. It is what lets an
// incremental analysis keep a check's findings when an edit changed one
// resource the check never read. A check always depends on its own
// resource and on everything outside the Resources section (parameters,
// conditions, mappings, outputs...), whose edits re-run every check; only
// reads of other resources need recording, and the lookup methods of the
// recording view a check gets are the only way rules reach them
// (TestRulesReachResourcesThroughRecorder).
type reads struct {
	all     bool
	typeSet bool                // which types the template has
	names   map[string]struct{} // resources looked up by logical id
	typeOf  map[string]struct{} // resources whose type (or existence) was asked
	types   []string            // resources listed by type
	refsTo  map[string]struct{} // references to these names, wherever they are
	// facts are the reads of the memoised facts the check used; they are
	// shared, and never change once the fact is computed.
	facts []*reads
	fact  string // for a fact's reads, its Memo key (for debugging)
	// gathers are the resource facts the check gathered from every
	// resource: it depends on their values.
	gathers []*ResourceFact
	// factDeps are the Facts the check used: it depends on their values.
	factDeps []*Fact

	// seen caches, for the reads of a memoised fact, whether they see the
	// change of one re-analysis: its stamp, shifted left by one, and the
	// answer in the low bit. Many checks share a fact.
	seen atomic.Uint64
}

// valueChanges tells whether the values a check depends on changed: those
// of the resource facts it gathered and of the Facts it used.
type valueChanges interface {
	gatherChanged(*ResourceFact) bool
	factChanged(*Fact) bool
}

func (r *reads) addName(name string)   { r.addTo(&r.names, name) }
func (r *reads) addTypeOf(name string) { r.addTo(&r.typeOf, name) }
func (r *reads) addRefsTo(name string) { r.addTo(&r.refsTo, name) }

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
}

func (r *reads) addFactDep(f *Fact) {
	if !r.all && !slices.Contains(r.factDeps, f) {
		r.factDeps = append(r.factDeps, f)
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

// resourceChange is what an edit of one resource's entry may have changed,
// as far as other checks can tell: the resource itself (its logical id),
// its type before and after, and the references it made before and after
// (which are what RefsTo of their targets returns).
type resourceChange struct {
	name  string
	types []string
	refs  []string // targets of the references in the old or the new entry
}

// newResourceChange describes the edit of resource name from its old entry
// (its type and the targets it referred to) to its new one in t.
func newResourceChange(name, oldType string, oldRefs []template.Reference, t *template.Template) *resourceChange {
	c := &resourceChange{name: name, types: []string{oldType}}
	if r := t.Resource(name); r != nil && r.Type != oldType {
		c.types = append(c.types, r.Type)
	}
	for _, refs := range [][]template.Reference{oldRefs, t.RefsFrom(name)} {
		for _, ref := range refs {
			if !slices.Contains(c.refs, ref.Target) {
				c.refs = append(c.refs, ref.Target)
			}
		}
	}
	return c
}

// noReads are the reads of a computation that read nothing: shared, and
// never added to.
var noReads = &reads{}

// empty reports whether r records no read at all.
func (r *reads) empty() bool {
	return !r.all && !r.typeSet && len(r.names) == 0 && len(r.typeOf) == 0 && len(r.types) == 0 && len(r.refsTo) == 0 &&
		len(r.facts) == 0 && len(r.gathers) == 0 && len(r.factDeps) == 0 && r.fact == ""
}

// sees reports whether a check that read r may have read something c
// changed; stamp identifies the re-analysis, for the answers cached on the
// reads of memoised facts; values tells whether the values of resource
// facts and Facts changed.
func (r *reads) sees(c *resourceChange, stamp uint64, values valueChanges) bool {
	if r.all {
		return true
	}
	if _, ok := r.names[c.name]; ok {
		return true
	}
	if _, ok := r.typeOf[c.name]; ok && len(c.types) > 1 {
		return true // the edit changed the resource's type
	}
	if r.typeSet && len(c.types) > 1 {
		return true
	}
	for _, t := range c.types {
		if slices.Contains(r.types, t) {
			return true
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
	return false
}

// factSees is sees for the reads of a memoised fact, which many checks
// share: the answer is computed once per re-analysis.
func (f *reads) factSees(c *resourceChange, stamp uint64, values valueChanges) bool {
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

func (r *recorder) ReadResource(name string) { r.cur.addName(name) }
func (r *recorder) ReadTypeOf(name string)   { r.cur.addTypeOf(name) }
func (r *recorder) ReadType(typ string)      { r.cur.addType(typ) }
func (r *recorder) ReadRefsTo(name string)   { r.cur.addRefsTo(name) }
func (r *recorder) ReadTypes()               { r.cur.addTypeSet() }
func (r *recorder) ReadAll()                 { r.cur.addAll() }
