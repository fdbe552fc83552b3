package template

import (
	"strconv"
	"strings"
)

// Kind classifies a Node.
type Kind uint8

// The kinds of node in a template.
const (
	Null      Kind = iota // an explicit null or a key with no value
	Scalar                // a string, number or boolean
	Mapping               // an ordered list of key/value pairs
	Sequence              // an ordered list of values
	Intrinsic             // a CloudFormation function call, short or long form
	Alias                 // a YAML alias (*x); CloudFormation does not accept them
)

func (k Kind) String() string {
	switch k {
	case Null:
		return "null"
	case Scalar:
		return "scalar"
	case Mapping:
		return "mapping"
	case Sequence:
		return "sequence"
	case Intrinsic:
		return "intrinsic"
	case Alias:
		return "alias"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// ScalarType is the type a scalar was written with.
type ScalarType uint8

// Scalar types. YAML plain scalars get their YAML 1.2 core-schema type; quoted
// and block scalars are strings; JSON scalars keep their JSON type.
const (
	String ScalarType = iota
	Number
	Bool
	NullScalar
)

// Node is one value of a template with its exact byte span. Intrinsic
// functions are normalised: `!Ref X` and `{"Ref": "X"}` are both a Node of
// Kind Intrinsic with Fn "Ref" and Arg the scalar X.
type Node struct {
	Kind Kind
	// The fields are grouped by size rather than by kind, so that the
	// flags share one word and everything that holds an offset comes first.
	// ReparseInPlace moves the spans of every node after an edit in one
	// pass over the chunks that hold them (see nodeArena), which the
	// hardware prefetcher streams whole: its cost is the bytes of a Node
	// times the nodes after the edit, so a Node must stay small.

	ScalarType ScalarType // Scalar: how the scalar was written
	Quoted     bool       // Scalar: written in quotes (YAML or JSON string)
	Short      bool       // Intrinsic: written as a YAML tag (!Ref)
	// Flow is true for YAML flow collections ({...}, [...]) and for all JSON.
	Flow bool
	// InFlow is true for nodes inside a flow collection, where YAML forbids
	// block style and restricts plain scalars (and for all JSON nodes).
	InFlow bool
	// moved marks a node that an unsettled re-parse moved ahead of the
	// others, or gave its final span (see pendingShift), so that settling,
	// which clears it, does not move it twice. It fits in the flags' word.
	moved bool

	Span // the whole node, including a YAML tag or the braces of a long-form call
	// ValueSpan is the span of the scalar's text without tag and quotes; for
	// multi-line or escaped scalars it covers the raw text.
	ValueSpan Span
	FnSpan    Span  // Intrinsic: the tag, or the long-form key
	Arg       *Node // Intrinsic: the argument, exactly as written

	Pairs []*Pair // Mapping
	Items []*Node // Sequence

	Value string // Scalar: decoded text
	Fn    string // Intrinsic: canonical name: "Ref", "Condition", "Fn::GetAtt", ...
}

// Pair is one key/value entry of a mapping.
type Pair struct {
	Key   *Node // always a Scalar
	Value *Node // never nil; Kind Null when the key has no value
}

// Get returns the value of key k in a mapping, or nil.
func (n *Node) Get(k string) *Node {
	if p := n.Pair(k); p != nil {
		return p.Value
	}
	return nil
}

// Pair returns the pair with key k in a mapping, or nil.
func (n *Node) Pair(k string) *Pair {
	if n == nil || n.Kind != Mapping {
		return nil
	}
	for _, p := range n.Pairs {
		if p.Key.Value == k {
			return p
		}
	}
	return nil
}

// Path follows a chain of mapping keys and returns the node at the end, or nil.
func (n *Node) Path(keys ...string) *Node {
	for _, k := range keys {
		n = n.Get(k)
		if n == nil {
			return nil
		}
	}
	return n
}

// IsScalar reports whether n is a scalar.
func (n *Node) IsScalar() bool { return n != nil && n.Kind == Scalar }

// IsFn reports whether n is a call of the intrinsic fn ("Ref", "Fn::If", ...).
func (n *Node) IsFn(fn string) bool { return n != nil && n.Kind == Intrinsic && n.Fn == fn }

// Text returns the scalar's text, or "" for any other node.
func (n *Node) Text() string {
	if n == nil || n.Kind != Scalar {
		return ""
	}
	return n.Value
}

// Bool interprets a scalar as a CloudFormation boolean: true/false in any case,
// quoted or not (CloudFormation accepts the string "true").
func (n *Node) Bool() (value, ok bool) {
	if n == nil || n.Kind != Scalar {
		return false, false
	}
	switch strings.ToLower(n.Value) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// Int interprets a scalar as an integer.
func (n *Node) Int() (int64, bool) {
	if n == nil || n.Kind != Scalar {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.TrimSpace(n.Value), 10, 64)
	return v, err == nil
}

// List returns the items of a sequence, a one-element list for any other
// non-nil node (CloudFormation accepts a single value where a list is
// expected in policy documents and DependsOn), or nil.
func (n *Node) List() []*Node {
	if n == nil || n.Kind == Null {
		return nil
	}
	if n.Kind == Sequence {
		return n.Items
	}
	return []*Node{n}
}

// Walk calls fn for n and every node below it, depth first, in document order.
// Returning false from fn skips the children of that node. Keys of mappings are
// not visited.
func (n *Node) Walk(fn func(*Node) bool) {
	if n == nil || !fn(n) {
		return
	}
	switch n.Kind {
	case Mapping:
		for _, p := range n.Pairs {
			p.Value.Walk(fn)
		}
	case Sequence:
		for _, it := range n.Items {
			it.Walk(fn)
		}
	case Intrinsic:
		n.Arg.Walk(fn)
	}
}
