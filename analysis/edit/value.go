package edit

import (
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

// plainUnsafe reports whether a plain YAML scalar t would be read as
// something else, or would not parse: it is empty, starts with an indicator
// or white space, contains ": " or " #", or ends with white space or ':'.
// It is the hand-written form of the expression
//
//	^[\s\-?:,\[\]{}#&*!|>'"%@`]|: |\s#|[\s:]$|^$
//
// (TestQuotingMatchesRegexps holds the two together): the regular
// expression took more than half the analysis time of a large template,
// since every fix renders its values.
func plainUnsafe(t string) bool {
	if t == "" {
		return true
	}
	if strings.IndexByte("\t\n\f\r -?:,[]{}#&*!|>'\"%@`", t[0]) >= 0 {
		return true
	}
	if isRESpace(t[len(t)-1]) || t[len(t)-1] == ':' {
		return true
	}
	for i := 0; i+1 < len(t); i++ {
		if t[i] == ':' && t[i+1] == ' ' || isRESpace(t[i]) && t[i+1] == '#' {
			return true
		}
	}
	return false
}

// isRESpace is \s of Go's regular expressions.
func isRESpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\f' || b == '\r'
}

// typedWord reports whether a plain YAML scalar t would be read as a
// boolean, null, number or timestamp by some YAML reader (1.1 or 1.2). It is
// the hand-written form of
//
//	(?i)^(y|yes|n|no|true|false|on|off|null|~|[-+]?(\d[\d_]*)?\.?\d+([eE][-+]?\d+)?|0x[0-9a-f]+|0o[0-7]+|\.inf|\.nan|\d{4}-\d\d-\d\d.*)$
//
// strings.EqualFold folds like (?i) does (ſ is s).
func typedWord(t string) bool {
	if t == "" || strings.IndexByte("yYnNtTfFoO~.+-0123456789", t[0]) < 0 {
		return false // no word, number or date starts otherwise (no other character folds to these letters)
	}
	for _, w := range [...]string{"y", "yes", "n", "no", "true", "false", "on", "off", "null", "~", ".inf", ".nan"} {
		if strings.EqualFold(t, w) {
			return true
		}
	}
	if len(t) > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') && allBytes(t[2:], isHexDigit) ||
		len(t) > 2 && t[0] == '0' && (t[1] == 'o' || t[1] == 'O') && allBytes(t[2:], func(b byte) bool { return b >= '0' && b <= '7' }) {
		return true
	}
	if len(t) >= 10 && allBytes(t[:4], isDigit) && t[4] == '-' && allBytes(t[5:7], isDigit) && t[7] == '-' &&
		allBytes(t[8:10], isDigit) && strings.IndexByte(t[10:], '\n') < 0 {
		return true
	}
	return isYAMLNumber(t)
}

// isYAMLNumber matches [-+]?(\d[\d_]*)?\.?\d+([eE][-+]?\d+)? exactly.
func isYAMLNumber(t string) bool {
	if t != "" && (t[0] == '-' || t[0] == '+') {
		t = t[1:]
	}
	mant := t
	if i := strings.IndexAny(t, "eE"); i >= 0 {
		mant = t[:i]
		exp := t[i+1:]
		if exp != "" && (exp[0] == '-' || exp[0] == '+') {
			exp = exp[1:]
		}
		if exp == "" || !allBytes(exp, isDigit) {
			return false
		}
	}
	intPart, frac, dot := strings.Cut(mant, ".")
	if !dot {
		// (\d[\d_]*)?\d+: digits and underscores, a digit first and last.
		return mant != "" && isDigit(mant[0]) && isDigit(mant[len(mant)-1]) && allBytes(mant, isDigitOrUnderscore)
	}
	return (intPart == "" || isDigit(intPart[0]) && allBytes(intPart, isDigitOrUnderscore)) && frac != "" && allBytes(frac, isDigit)
}

func isDigit(b byte) bool             { return b >= '0' && b <= '9' }
func isDigitOrUnderscore(b byte) bool { return isDigit(b) || b == '_' }
func isHexDigit(b byte) bool {
	return isDigit(b) || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F'
}

func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

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
	needQuote := plainUnsafe(t) || typedWord(t) || strings.ContainsAny(t, "\n\t{}[]\\*&!|%@`") ||
		(flow && strings.ContainsAny(t, ",[]{}"))
	if !needQuote {
		return t
	}
	if strings.ContainsAny(t, "\n\t") {
		return strconv.Quote(t)
	}
	return "'" + strings.ReplaceAll(t, "'", "''") + "'"
}
