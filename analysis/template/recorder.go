package template

import (
	"slices"
	"sort"
)

// ReadRecorder is told what a reader of a template looked up among its
// resources and among the entries of the other sections that name their
// entries (Parameters, Conditions, Mappings, Outputs): the analysis engine
// keeps a check's findings across an edit of one entry only if the check
// never looked at that entry.
type ReadRecorder interface {
	ReadResource(name string) // a lookup by logical id
	ReadTypeOf(name string)   // whether a logical id exists, and its type
	ReadType(typ string)      // the list of resources of a type
	ReadRefsTo(name string)   // the references to a name, from anywhere
	ReadTypes()               // which types the template has resources of
	ReadAll()                 // anything else that reaches every resource
	// ReadEntry is a lookup of a parameter, condition or mapping by name,
	// whether it exists or not; section is "Parameters", "Conditions" or
	// "Mappings".
	ReadEntry(section, name string)
	// ReadSection is a read of every entry of Parameters, Conditions,
	// Mappings, Outputs or Metadata: their list, or the section's node.
	ReadSection(section string)
}

// Recording returns a view of t whose lookup methods (Resource, TypeOf,
// ResourcesOfType, AllResources, RefsTo, RefsFrom, AllRefs, Section,
// Parameter, Condition, Mapping, AllParameters, AllConditions, AllMappings
// and AllOutputs) report to r; so do the evaluations that read parameters,
// conditions and mappings (Eval, Assume, EvalCondition), which use them.
// The view shares everything with t. Reading the Resources field, the
// reference index or the root directly bypasses the recorder: code that
// runs on a recording view uses the methods.
func (t *Template) Recording(r ReadRecorder) *Template {
	c := *t
	c.recorder = r
	return &c
}

// Resource returns the resource with the given logical id, or nil.
func (t *Template) Resource(name string) *Resource {
	if t.recorder != nil {
		t.recorder.ReadResource(name)
	}
	if i, ok := t.resources[name]; ok {
		t.SettleResource(i)
		return t.Resources[i]
	}
	return nil
}

// ResourceIndex returns the index in Resources of the resource with the
// given logical id, or -1. It reads nothing of the resource: the recorder
// is not told.
func (t *Template) ResourceIndex(name string) int {
	if i, ok := t.resources[name]; ok {
		return i
	}
	return -1
}

// TypeOf returns the type of the resource with the given logical id, or ""
// when there is none: for readers that need to know which resource a name
// designates, not what it contains.
func (t *Template) TypeOf(name string) string {
	if t.recorder != nil {
		t.recorder.ReadTypeOf(name)
	}
	if i, ok := t.resources[name]; ok {
		return t.Resources[i].Type
	}
	return ""
}

// ResourcesOfType returns the resources of the given type, in document order.
// The slice is shared: do not modify it.
func (t *Template) ResourcesOfType(typ string) []*Resource {
	if t.recorder != nil {
		t.recorder.ReadType(typ)
	}
	if idx := t.typeIdx[typ]; !t.Settled() {
		if len(idx) > len(t.Resources)/8 {
			// Walking that many entries one by one costs more than the
			// pass over all the nodes.
			t.Settle()
		}
		for _, i := range idx {
			t.SettleResource(int(i))
		}
	}
	return t.byType[typ]
}

// Types returns the types of the template's resources, each once, sorted.
func (t *Template) Types() []string {
	if t.recorder != nil {
		t.recorder.ReadTypes()
	}
	out := make([]string, 0, len(t.byType))
	for typ := range t.byType {
		out = append(out, typ)
	}
	slices.Sort(out)
	return out
}

// AllResources returns t.Resources, telling the recorder.
func (t *Template) AllResources() []*Resource {
	if t.recorder != nil {
		t.recorder.ReadAll()
	}
	t.Settle()
	return t.Resources
}

// RefsTo returns the references to name in namespace ns, in document order.
func (t *Template) RefsTo(ns Namespace, name string) []Reference {
	if t.recorder != nil {
		t.recorder.ReadRefsTo(name)
	}
	refs := t.Refs.To(ns, name)
	if !t.Settled() {
		for _, r := range refs {
			if i, ok := t.resources[r.From]; ok && r.Section == "Resources" {
				t.SettleResource(i)
			}
		}
	}
	return refs
}

// RefsFrom returns the references resource name makes, in document order,
// telling the recorder that the resource was read. The slice is shared: do
// not modify it.
func (t *Template) RefsFrom(name string) []Reference {
	if t.recorder != nil {
		t.recorder.ReadResource(name)
	}
	i, ok := t.resources[name]
	if !ok {
		return nil
	}
	t.SettleResource(i)
	// The references are grouped by entry in document order, each inside
	// its entry: those of the resource are the run that starts with the
	// first reference after its key.
	key, all := t.keyStarts[i], t.Refs.All
	a := sort.Search(len(all), func(k int) bool { return all[k].at > key })
	b := a
	for b < len(all) && all[b].Section == "Resources" && all[b].From == name {
		b++
	}
	return all[a:b:b]
}

// AllRefs returns every reference of the template, in document order.
func (t *Template) AllRefs() []Reference {
	if t.recorder != nil {
		t.recorder.ReadAll()
	}
	t.Settle()
	return t.Refs.All
}

// Section returns the value of a top-level pair (a section, Description,
// Globals...), or nil. The Resources section reaches every resource, and
// the other sections every entry of theirs.
func (t *Template) Section(name string) *Node {
	switch name {
	case "Resources":
		if t.recorder != nil {
			t.recorder.ReadAll()
		}
		t.Settle()
	default:
		// The other sections, and the other top-level pairs (Description,
		// Globals...), by key.
		if t.recorder != nil {
			t.recorder.ReadSection(name)
		}
	}
	if p := t.Sections[name]; p != nil {
		return p.Value
	}
	return nil
}

// Parameter returns the parameter with the given name, or nil.
func (t *Template) Parameter(name string) *Parameter {
	return lookupEntry(t, "Parameters", t.params, t.Parameters, name)
}

// Condition returns the condition with the given name, or nil.
func (t *Template) Condition(name string) *Condition {
	return lookupEntry(t, "Conditions", t.conditions, t.Conditions, name)
}

// Mapping returns the mapping with the given name, or nil.
func (t *Template) Mapping(name string) *Entry {
	return lookupEntry(t, "Mappings", t.mappings, t.Mappings, name)
}

// lookupEntry finds an entry of a section by name through the section's
// index, telling the recorder whether it is found or not.
func lookupEntry[T any](t *Template, section string, index map[string]int, entries []*T, name string) *T {
	if t.recorder != nil {
		t.recorder.ReadEntry(section, name)
	}
	if i, ok := index[name]; ok {
		return entries[i]
	}
	return nil
}

// AllParameters returns t.Parameters, telling the recorder.
func (t *Template) AllParameters() []*Parameter { return allEntries(t, "Parameters", t.Parameters) }

// AllConditions returns t.Conditions, telling the recorder.
func (t *Template) AllConditions() []*Condition { return allEntries(t, "Conditions", t.Conditions) }

// AllMappings returns t.Mappings, telling the recorder.
func (t *Template) AllMappings() []*Entry { return allEntries(t, "Mappings", t.Mappings) }

// AllOutputs returns t.Outputs, telling the recorder.
func (t *Template) AllOutputs() []*Entry { return allEntries(t, "Outputs", t.Outputs) }

// allEntries returns the entries of a section, telling the recorder that
// every one of them was read.
func allEntries[T any](t *Template, section string, entries []T) []T {
	if t.recorder != nil {
		t.recorder.ReadSection(section)
	}
	return entries
}
