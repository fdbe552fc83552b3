package edit

import (
	"regexp"
	"strconv"
	"strings"
)

// Value is a template value to write: a scalar, a function call, a mapping or
// a list. It is rendered in the style of the document it goes into.
type Value interface{ isValue() }

type (
	scalarValue struct {
		text  string
		plain bool // a bool or number: never quoted in YAML, unquoted in JSON
	}
	fnValue struct {
		fn  string // long-form name
		arg Value
	}
	mapValue  []KV
	listValue []Value
)

func (scalarValue) isValue() {}
func (fnValue) isValue()     {}
func (mapValue) isValue()    {}
func (listValue) isValue()   {}

// KV is a key and its value, for Map.
type KV struct {
	Key   string
	Value Value
}

// Str is a string scalar; it is quoted only where YAML or JSON needs it.
func Str(s string) Value { return scalarValue{text: s} }

// Bool is a boolean scalar.
func Bool(b bool) Value { return scalarValue{text: strconv.FormatBool(b), plain: true} }

// Int is a number scalar.
func Int(n int) Value { return scalarValue{text: strconv.Itoa(n), plain: true} }

// Ref is {Ref: name} (!Ref name).
func Ref(name string) Value { return fnValue{"Ref", Str(name)} }

// GetAtt is Fn::GetAtt [res, attr] (!GetAtt res.attr).
func GetAtt(res, attr string) Value {
	return fnValue{"Fn::GetAtt", listValue{Str(res), Str(attr)}}
}

// Sub is Fn::Sub with a template string.
func Sub(s string) Value { return fnValue{"Fn::Sub", Str(s)} }

// If is Fn::If [cond, a, b].
func If(cond string, a, b Value) Value { return fnValue{"Fn::If", listValue{Str(cond), a, b}} }

// Equals is Fn::Equals [a, b].
func Equals(a, b Value) Value { return fnValue{"Fn::Equals", listValue{a, b}} }

// And is Fn::And [conds...].
func And(conds ...Value) Value { return fnValue{"Fn::And", listValue(conds)} }

// Condition is {Condition: name} (!Condition name).
func Condition(name string) Value { return fnValue{"Condition", Str(name)} }

// Fn is any other function call, in long form ("Fn::Select", ...).
func Fn(name string, arg Value) Value { return fnValue{name, arg} }

// Map is a mapping with keys in the given order.
func Map(kvs ...KV) Value { return mapValue(kvs) }

// List is a sequence.
func List(items ...Value) Value { return listValue(items) }

// Strs is a list of string scalars.
func Strs(items ...string) Value {
	l := make(listValue, len(items))
	for i, s := range items {
		l[i] = Str(s)
	}
	return l
}

// simple reports whether v renders on one line in YAML flow style without
// becoming hard to read: scalars, calls on scalars, and short lists of those.
func simple(v Value) bool {
	switch x := v.(type) {
	case scalarValue:
		return true
	case fnValue:
		return simple(x.arg)
	case listValue:
		if len(x) > 6 {
			return false
		}
		for _, it := range x {
			if _, ok := it.(mapValue); ok {
				return false
			}
			if l, ok := it.(listValue); ok && len(l) > 0 {
				return false
			}
			if !simple(it) {
				return false
			}
		}
		return true
	case mapValue:
		return len(x) == 0
	}
	return false
}

var (
	yamlPlainUnsafe = regexp.MustCompile(`^[\s\-?:,\[\]{}#&*!|>'"%@` + "`" + `]|: |\s#|[\s:]$|^$`)
	yamlTypedWord   = regexp.MustCompile(`(?i)^(y|yes|n|no|true|false|on|off|null|~|[-+]?(\d[\d_]*)?\.?\d+([eE][-+]?\d+)?|0x[0-9a-f]+|0o[0-7]+|\.inf|\.nan|\d{4}-\d\d-\d\d.*)$`)
)

// yamlScalar renders a string scalar for YAML; in flow context the flow
// indicators also force quotes.
func yamlScalar(s scalarValue, flow bool) string {
	if s.plain {
		return s.text
	}
	t := s.text
	// Quote what YAML would read differently, and, for readability, values
	// full of YAML indicators (patterns, wildcards) that a reader might
	// misread even where a plain scalar would be valid.
	needQuote := yamlPlainUnsafe.MatchString(t) || yamlTypedWord.MatchString(t) || strings.ContainsAny(t, "\n\t{}[]\\*&!|%@`") ||
		(flow && strings.ContainsAny(t, ",[]{}"))
	if !needQuote {
		return t
	}
	if strings.ContainsAny(t, "\n\t") {
		return strconv.Quote(t)
	}
	return "'" + strings.ReplaceAll(t, "'", "''") + "'"
}
