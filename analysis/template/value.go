package template

import (
	"fmt"
	"strings"
)

// AltKind classifies one possible value of a property.
type AltKind uint8

// Kinds of possible value.
const (
	Absent  AltKind = iota // the property is not set (missing, null, or Ref AWS::NoValue)
	Literal                // a value written in the template or a parameter's value
	Unknown                // known only at deploy time (GetAtt, ImportValue, a free parameter, ...)
)

// Alt is one possible value of a property, with the assumptions under which
// it is the value.
type Alt struct {
	Kind AltKind
	Node *Node // the literal node; for Absent, the node that made it absent (may be nil)
	// Param names the parameter the value came from, and Default tells
	// whether it is that parameter's default rather than an allowed value.
	Param   string
	Default bool
	// Conds lists the Fn::If conditions, in order, that select this value.
	Conds []CondAssumption
}

// CondAssumption is a condition taken as true or false.
type CondAssumption struct {
	Name  string
	Value bool
}

// Text returns the literal's scalar text ("" otherwise).
func (a Alt) Text() string {
	if a.Kind != Literal {
		return ""
	}
	return a.Node.Text()
}

// Bool interprets the literal as a CloudFormation boolean.
func (a Alt) Bool() (v, ok bool) {
	if a.Kind != Literal {
		return false, false
	}
	return a.Node.Bool()
}

// Describe explains where the value comes from, for messages: "" for a value
// written in place, else e.g. "when IsProduction is false" or "with parameter
// Env = staging" or "with parameter Env at its default".
func (a Alt) Describe() string {
	var parts []string
	for _, c := range a.Conds {
		parts = append(parts, fmt.Sprintf("when %s is %t", c.Name, c.Value))
	}
	if a.Param != "" {
		switch {
		case a.Default:
			parts = append(parts, fmt.Sprintf("with parameter %s at its default", a.Param))
		case a.Kind == Literal:
			parts = append(parts, fmt.Sprintf("with parameter %s = %s", a.Param, a.Node.Text()))
		}
	}
	return strings.Join(parts, " and ")
}

// Value is the set of values a property may take.
type Value []Alt

// maxAlts bounds the alternatives tracked for one value, so that deeply nested
// Fn::If chains cannot blow up.
const maxAlts = 64

// Eval resolves a property value into its possible values: a literal stands
// for itself; an absent property, a null and Ref AWS::NoValue are Absent; a Ref
// to a parameter yields its AllowedValues (or its Default plus Unknown); each
// branch of Fn::If contributes its values under its condition; FindInMap with
// literal keys resolves through the mapping; everything else is Unknown.
func (t *Template) Eval(n *Node) Value {
	return t.eval(n, nil, 0)
}

func (t *Template) eval(n *Node, conds []CondAssumption, depth int) Value {
	if depth > 32 {
		return Value{{Kind: Unknown, Node: n, Conds: conds}}
	}
	if n == nil || n.Kind == Null {
		return Value{{Kind: Absent, Node: n, Conds: conds}}
	}
	if n.Kind != Intrinsic {
		if n.Kind == Alias {
			return Value{{Kind: Unknown, Node: n, Conds: conds}}
		}
		return Value{{Kind: Literal, Node: n, Conds: conds}}
	}
	switch n.Fn {
	case "Ref":
		name := n.Arg.Text()
		if name == "AWS::NoValue" {
			return Value{{Kind: Absent, Node: n, Conds: conds}}
		}
		p := t.Parameter(name)
		if p == nil {
			break
		}
		var v Value
		for _, av := range p.AllowedValues {
			v = append(v, Alt{Kind: Literal, Node: av, Param: name, Conds: conds})
		}
		if len(v) == 0 {
			if p.Default != nil && p.Default.Kind == Scalar {
				v = append(v, Alt{Kind: Literal, Node: p.Default, Param: name, Default: true, Conds: conds})
			}
			v = append(v, Alt{Kind: Unknown, Node: n, Param: name, Conds: conds})
		}
		return v
	case "Fn::If":
		a := n.Arg
		if a == nil || a.Kind != Sequence || len(a.Items) != 3 {
			break
		}
		cond := a.Items[0].Text()
		yes := t.eval(a.Items[1], appendCond(conds, cond, true), depth+1)
		no := t.eval(a.Items[2], appendCond(conds, cond, false), depth+1)
		v := append(yes, no...)
		if len(v) > maxAlts {
			v = v[:maxAlts]
		}
		return v
	case "Fn::FindInMap":
		if m := t.findInMap(n); m != nil {
			return t.eval(m, conds, depth+1)
		}
	}
	return Value{{Kind: Unknown, Node: n, Conds: conds}}
}

func appendCond(conds []CondAssumption, name string, v bool) []CondAssumption {
	out := make([]CondAssumption, len(conds), len(conds)+1)
	copy(out, conds)
	return append(out, CondAssumption{name, v})
}

// findInMap resolves Fn::FindInMap with three literal keys.
func (t *Template) findInMap(n *Node) *Node {
	a := n.Arg
	if a == nil || a.Kind != Sequence || len(a.Items) < 3 {
		return nil
	}
	for _, it := range a.Items[:3] {
		if !it.IsScalar() {
			return nil
		}
	}
	m := t.Mapping(a.Items[0].Value)
	if m == nil {
		return nil
	}
	return m.Value.Path(a.Items[1].Value, a.Items[2].Value)
}

// Verdict is the outcome of judging a Value against a rule's test.
type Verdict uint8

// Verdicts.
const (
	Pass     Verdict = iota // no known value violates
	Possible                // some known values violate, others do not or are unknown
	Definite                // every value violates
)

// Judge applies bad to every known alternative of v. The verdict is Definite
// when every alternative is known and bad, Possible when some are, and Pass
// otherwise; Unknown values never count as violations. The first bad
// alternative is returned as the witness.
func (v Value) Judge(bad func(Alt) bool) (Verdict, Alt) {
	var witness Alt
	nbad, unknown := 0, false
	for _, a := range v {
		if a.Kind == Unknown {
			unknown = true
			continue
		}
		if bad(a) {
			if nbad == 0 {
				witness = a
			}
			nbad++
		}
	}
	switch {
	case nbad == 0:
		return Pass, witness
	case nbad == len(v) && !unknown:
		return Definite, witness
	}
	return Possible, witness
}
