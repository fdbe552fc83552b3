package analysis

import (
	"slices"

	"github.com/soc2ls/soc2ls/analysis/template"
)

// reads records which other resources a check looked at: by logical id, by
// type, through references to a name, or all of them. It is what lets an
// incremental analysis keep a check's findings when an edit changed one
// resource the check never read. A check always depends on its own
// resource and on everything outside the Resources section (parameters,
// conditions, mappings, outputs...), whose edits re-run every check; only
// reads of other resources need recording, and the Pass accessors are the
// only way rules reach them (TestRulesReachResourcesThroughPass).
type reads struct {
	all    bool
	names  []string // resources looked up by logical id
	types  []string // resources listed by type
	refsTo []string // references to these names, wherever they are
}

func addUnique(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

func (r *reads) addName(name string) {
	if !r.all {
		r.names = addUnique(r.names, name)
	}
}

func (r *reads) addType(typ string) {
	if !r.all {
		r.types = addUnique(r.types, typ)
	}
}

func (r *reads) addRefsTo(name string) {
	if !r.all {
		r.refsTo = addUnique(r.refsTo, name)
	}
}

func (r *reads) addAll() { *r = reads{all: true} }

// merge adds what o read to r.
func (r *reads) merge(o *reads) {
	switch {
	case r.all:
	case o.all:
		r.addAll()
	default:
		for _, s := range o.names {
			r.addName(s)
		}
		for _, s := range o.types {
			r.addType(s)
		}
		for _, s := range o.refsTo {
			r.addRefsTo(s)
		}
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
	if r := t.Resource(name); r != nil {
		c.types = addUnique(c.types, r.Type)
	}
	for _, ref := range oldRefs {
		c.refs = addUnique(c.refs, ref.Target)
	}
	for _, ref := range t.Refs.From("Resources", name) {
		c.refs = addUnique(c.refs, ref.Target)
	}
	return c
}

// sees reports whether a check that read r may have read something c
// changed.
func (r *reads) sees(c *resourceChange) bool {
	if r.all || slices.Contains(r.names, c.name) {
		return true
	}
	for _, t := range c.types {
		if slices.Contains(r.types, t) {
			return true
		}
	}
	for _, n := range c.refs {
		if slices.Contains(r.refsTo, n) {
			return true
		}
	}
	return false
}

// recorder is the template.ReadRecorder of a check: it records into cur,
// which Pass.Memo points at a fact's own reads while the fact is computed.
type recorder struct{ cur *reads }

func (r *recorder) ReadResource(name string) { r.cur.addName(name) }
func (r *recorder) ReadType(typ string)      { r.cur.addType(typ) }
func (r *recorder) ReadRefsTo(name string)   { r.cur.addRefsTo(name) }
func (r *recorder) ReadAll()                 { r.cur.addAll() }
