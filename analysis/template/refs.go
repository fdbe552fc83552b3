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
	// at is Node.Start, kept here so that searches by it need not read the
	// node (see pendingShift).
	at int
}

// NodeStart returns where the reference's node starts: Node.Start, without
// reading the node.
func (r Reference) NodeStart() int { return r.at }

// RefIndex indexes the references of a template by target.
type RefIndex struct {
	All      []Reference
	byTarget map[refKey][]int
	// ords holds, for each reference of All, the position of its Node in
	// the pre-order walk (Node.Walk's order) of its entry's value: Reparse
	// finds the copies of the nodes it shifts by it, without a map from old
	// nodes to new.
	ords []int32
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
	c := refCollector{x: x}
	for _, sec := range t.Root.Pairs {
		for _, pr := range sectionPairs(sec.Value) {
			c.entry(sec.Key.Value, pr)
		}
	}
	for i, r := range x.All {
		k := refKey{r.Kind.Namespace(), r.Target}
		x.byTarget[k] = append(x.byTarget[k], i)
	}
	return x
}

// refCollector appends the references of entries to x.All and x.ords; the
// caller indexes them by target.
type refCollector struct {
	x             *RefIndex
	section, from string
	ord           int32 // the position of the next node visited in its entry's walk
}

// entry collects the references made inside one entry of a section: those
// of its value, in document order, then its Condition attribute (resources
// and outputs) and its DependsOn (resources).
func (c *refCollector) entry(section string, pr *Pair) {
	c.section, c.from, c.ord = section, pr.Key.Value, 0
	v := pr.Value
	if v.Kind != Mapping {
		c.visit(v)
		return
	}
	// The attributes are the values of the entry's first pairs with their
	// keys (Node.Get); their positions in the walk are noted on the way.
	var cond, dep *Pair
	if section == "Resources" || section == "Outputs" {
		cond = v.Pair("Condition")
		if section == "Resources" {
			dep = v.Pair("DependsOn")
		}
	}
	var condOrd, depOrd int32
	c.ord = 1 // v itself, a mapping, refers to nothing
	for _, a := range v.Pairs {
		switch a {
		case cond:
			condOrd = c.ord
		case dep:
			depOrd = c.ord
		}
		c.visit(a.Value)
	}
	if cond != nil && cond.Value.IsScalar() {
		n := cond.Value
		c.add(Reference{Kind: RefCondition, Target: n.Value, Span: n.ValueSpan, Node: n}, condOrd)
	}
	if dep == nil {
		return
	}
	if d := dep.Value; d.Kind != Sequence {
		if d.IsScalar() {
			c.add(Reference{Kind: RefDependsOn, Target: d.Value, Span: d.ValueSpan, Node: d}, depOrd)
		}
		return
	}
	ord := depOrd + 1
	for _, it := range dep.Value.Items {
		if it.IsScalar() {
			c.add(Reference{Kind: RefDependsOn, Target: it.Value, Span: it.ValueSpan, Node: it}, ord)
		}
		ord += walkSize(it)
	}
}

// walkSize returns the number of nodes Node.Walk visits below and at n.
func walkSize(n *Node) int32 {
	if n == nil {
		return 0
	}
	switch n.Kind {
	case Mapping:
		s := int32(1)
		for _, p := range n.Pairs {
			s += walkSize(p.Value)
		}
		return s
	case Sequence:
		s := int32(1)
		for _, it := range n.Items {
			s += walkSize(it)
		}
		return s
	case Intrinsic:
		return 1 + walkSize(n.Arg)
	}
	return 1
}

func (c *refCollector) add(r Reference, ord int32) {
	r.Section, r.From, r.at = c.section, c.from, r.Node.Start
	c.x.All = append(c.x.All, r)
	c.x.ords = append(c.x.ords, ord)
}

// visit collects the references below and at n in Node.Walk's order,
// numbering the nodes as it goes.
func (c *refCollector) visit(n *Node) {
	if n == nil {
		return
	}
	ord := c.ord
	c.ord++
	switch n.Kind {
	case Mapping:
		for _, p := range n.Pairs {
			c.visit(p.Value)
		}
	case Sequence:
		for _, it := range n.Items {
			c.visit(it)
		}
	case Intrinsic:
		if n.Arg != nil {
			c.call(n, ord)
		}
		c.visit(n.Arg)
	}
}

// call collects the references an intrinsic call makes by itself.
func (c *refCollector) call(n *Node, ord int32) {
	ref := Reference{Node: n}
	switch n.Fn {
	case "Ref":
		if n.Arg.IsScalar() {
			ref.Kind, ref.Target, ref.Span = RefRef, n.Arg.Value, n.Arg.ValueSpan
			c.add(ref, ord)
		}
	case "Condition":
		if n.Arg.IsScalar() {
			ref.Kind, ref.Target, ref.Span = RefCondition, n.Arg.Value, n.Arg.ValueSpan
			c.add(ref, ord)
		}
	case "Fn::GetAtt":
		if res, attr, span, ok := GetAtt(n); ok {
			ref.Kind, ref.Target, ref.Attr, ref.Span = RefGetAtt, res, attr, span
			c.add(ref, ord)
		}
	case "Fn::If":
		if items := n.Arg.Items; n.Arg.Kind == Sequence && len(items) > 0 && items[0].IsScalar() {
			ref.Kind, ref.Target, ref.Span = RefCondition, items[0].Value, items[0].ValueSpan
			c.add(ref, ord)
		}
	case "Fn::FindInMap":
		if items := n.Arg.Items; n.Arg.Kind == Sequence && len(items) > 0 && items[0].IsScalar() {
			ref.Kind, ref.Target, ref.Span = RefFindInMap, items[0].Value, items[0].ValueSpan
			c.add(ref, ord)
		}
	case "Fn::Sub":
		parts, vars, _ := Sub(n)
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
			c.add(Reference{Kind: RefSub, Target: name, Attr: attr, Span: sp, Node: n}, ord)
		}
	}
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
