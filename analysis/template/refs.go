package template

// RefKind says how one part of a template refers to another.
type RefKind uint8

// Reference kinds.
const (
	RefRef       RefKind = iota // Ref X (a parameter, resource or pseudo parameter)
	RefGetAtt                   // Fn::GetAtt X.Attr / [X, Attr]
	RefSub                      // ${X} or ${X.Attr} inside Fn::Sub
	RefDependsOn                // DependsOn: X
	RefCondition                // Condition: X on a resource or output, Fn::If [X, ..], {Condition: X}
	RefFindInMap                // Fn::FindInMap [X, ..]
)

func (k RefKind) String() string {
	return [...]string{"Ref", "GetAtt", "Sub", "DependsOn", "Condition", "FindInMap"}[k]
}

// Namespace is the kind of name a reference points at: parameters and
// resources share one namespace; conditions and mappings have their own.
type Namespace uint8

// Namespaces of referable names.
const (
	NSEntity    Namespace = iota // parameters and resources
	NSCondition                  // conditions
	NSMapping                    // mappings
)

// Namespace returns the namespace that references of this kind point into.
func (k RefKind) Namespace() Namespace {
	switch k {
	case RefCondition:
		return NSCondition
	case RefFindInMap:
		return NSMapping
	}
	return NSEntity
}

// Reference is one use of a name.
type Reference struct {
	Kind   RefKind
	Target string // the name referred to
	Attr   string // the attribute, for GetAtt and ${X.Attr}
	// Span is the span of the target name in the source; empty when the name
	// cannot be located exactly (inside an escaped string).
	Span Span
	Node *Node // the intrinsic call, or the DependsOn/Condition scalar
	// Section and From locate the reference: for example "Resources" and the
	// logical id of the resource that contains it.
	Section, From string
}

// RefIndex indexes the references of a template by target.
type RefIndex struct {
	All      []Reference
	byTarget map[refKey][]int
}

type refKey struct {
	ns   Namespace
	name string
}

// To returns the references to name in namespace ns, in document order.
func (x *RefIndex) To(ns Namespace, name string) []Reference {
	idx := x.byTarget[refKey{ns, name}]
	out := make([]Reference, len(idx))
	for i, j := range idx {
		out[i] = x.All[j]
	}
	return out
}

// From returns the references made from inside the named entry of a section.
func (x *RefIndex) From(section, name string) []Reference {
	var out []Reference
	for _, r := range x.All {
		if r.Section == section && r.From == name {
			out = append(out, r)
		}
	}
	return out
}

// At returns the reference whose target name span contains byte offset off.
func (x *RefIndex) At(off int) (Reference, bool) {
	for _, r := range x.All {
		if r.Span.End > r.Span.Start && off >= r.Span.Start && off <= r.Span.End {
			return r, true
		}
	}
	return Reference{}, false
}

func buildRefIndex(t *Template) *RefIndex {
	x := &RefIndex{byTarget: map[refKey][]int{}}
	add := func(r Reference) {
		x.byTarget[refKey{r.Kind.Namespace(), r.Target}] = append(x.byTarget[refKey{r.Kind.Namespace(), r.Target}], len(x.All))
		x.All = append(x.All, r)
	}
	for _, sec := range t.Root.Pairs {
		section := sec.Key.Value
		for _, e := range entries(sec.Value) {
			collectRefs(e.Value, section, e.Name, add)
			if section != "Resources" && section != "Outputs" {
				continue
			}
			if c := e.Value.Get("Condition"); c.IsScalar() {
				add(Reference{Kind: RefCondition, Target: c.Value, Span: c.ValueSpan, Node: c, Section: section, From: e.Name})
			}
			if section == "Resources" {
				for _, d := range e.Value.Get("DependsOn").List() {
					if d.IsScalar() {
						add(Reference{Kind: RefDependsOn, Target: d.Value, Span: d.ValueSpan, Node: d, Section: section, From: e.Name})
					}
				}
			}
		}
	}
	return x
}

func collectRefs(n *Node, section, from string, add func(Reference)) {
	n.Walk(func(c *Node) bool {
		if c.Kind != Intrinsic || c.Arg == nil {
			return true
		}
		ref := Reference{Node: c, Section: section, From: from}
		switch c.Fn {
		case "Ref":
			if c.Arg.IsScalar() {
				ref.Kind, ref.Target, ref.Span = RefRef, c.Arg.Value, c.Arg.ValueSpan
				add(ref)
			}
		case "Condition":
			if c.Arg.IsScalar() {
				ref.Kind, ref.Target, ref.Span = RefCondition, c.Arg.Value, c.Arg.ValueSpan
				add(ref)
			}
		case "Fn::GetAtt":
			if res, attr, span, ok := GetAtt(c); ok {
				ref.Kind, ref.Target, ref.Attr, ref.Span = RefGetAtt, res, attr, span
				add(ref)
			}
		case "Fn::If":
			if items := c.Arg.Items; c.Arg.Kind == Sequence && len(items) > 0 && items[0].IsScalar() {
				ref.Kind, ref.Target, ref.Span = RefCondition, items[0].Value, items[0].ValueSpan
				add(ref)
			}
		case "Fn::FindInMap":
			if items := c.Arg.Items; c.Arg.Kind == Sequence && len(items) > 0 && items[0].IsScalar() {
				ref.Kind, ref.Target, ref.Span = RefFindInMap, items[0].Value, items[0].ValueSpan
				add(ref)
			}
		case "Fn::Sub":
			parts, vars, _ := Sub(c)
			for _, p := range parts {
				if p.Var == "" {
					continue
				}
				name, attr := p.Var, ""
				if i := indexDot(name); i >= 0 {
					name, attr = p.Var[:i], p.Var[i+1:]
				}
				if vars.Get(p.Var) != nil || vars.Get(name) != nil {
					continue // a local variable of this Sub
				}
				sp := p.Span
				if sp.End > sp.Start {
					sp.End = sp.Start + len(name)
				}
				add(Reference{Kind: RefSub, Target: name, Attr: attr, Span: sp, Node: c, Section: section, From: from})
			}
		}
		return true
	})
}

// indexDot returns the index of the dot separating a name from an attribute,
// ignoring the "::" of pseudo parameters such as AWS::Region.
func indexDot(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return i
		}
	}
	return -1
}
