package edit

import (
	"encoding/json"
	"strings"

	"github.com/soc2ls/soc2ls/analysis/template"
)

// yamlInline renders v on one line: a short-form call, a scalar, or a flow
// collection.
func yamlInline(v Value, flow bool) string {
	switch x := v.(type) {
	case scalarValue:
		return yamlScalar(x, flow)
	case fnValue:
		tag := template.ShortName(x.fn)
		if x.fn == "Fn::GetAtt" {
			if l, ok := x.arg.(listValue); ok && len(l) == 2 {
				a, aok := l[0].(scalarValue)
				b, bok := l[1].(scalarValue)
				if aok && bok {
					return tag + " " + a.text + "." + b.text
				}
			}
		}
		return tag + " " + yamlInline(x.arg, flow)
	case listValue:
		parts := make([]string, len(x))
		for i, it := range x {
			parts[i] = yamlInline(it, true)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case mapValue:
		parts := make([]string, len(x))
		for i, kv := range x {
			parts[i] = yamlScalar(scalarValue{text: kv.Key}, true) + ": " + yamlInline(kv.Value, true)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return ""
}

// yamlAfterKey renders v as it follows "key:" in a block mapping whose keys
// are at column indent: " value" on the same line, or a nested block.
func yamlAfterKey(v Value, indent, unit int) string {
	switch x := v.(type) {
	case mapValue:
		if len(x) == 0 {
			return " {}"
		}
		return "\n" + yamlBlockMap(x, indent+unit, unit)
	case listValue:
		if simple(x) {
			return " " + yamlInline(x, false)
		}
		return "\n" + yamlBlockList(x, indent+unit, unit)
	case fnValue:
		if simple(x) {
			return " " + yamlInline(x, false)
		}
		tag := template.ShortName(x.fn)
		switch a := x.arg.(type) {
		case listValue:
			return " " + tag + "\n" + yamlBlockList(a, indent+unit, unit)
		case mapValue:
			return " " + tag + "\n" + yamlBlockMap(a, indent+unit, unit)
		}
	}
	return " " + yamlInline(v, false)
}

// yamlBlockMap renders a block mapping at the given indentation, without a
// trailing newline.
func yamlBlockMap(m mapValue, indent, unit int) string {
	pad := strings.Repeat(" ", indent)
	var b strings.Builder
	for i, kv := range m {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(pad)
		b.WriteString(yamlScalar(scalarValue{text: kv.Key}, false))
		b.WriteByte(':')
		b.WriteString(yamlAfterKey(kv.Value, indent, unit))
	}
	return b.String()
}

// yamlBlockList renders a block sequence at the given indentation.
func yamlBlockList(l listValue, indent, unit int) string {
	pad := strings.Repeat(" ", indent)
	var b strings.Builder
	for i, it := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(pad)
		b.WriteString("-")
		switch x := it.(type) {
		case mapValue:
			if len(x) == 0 {
				b.WriteString(" {}")
				continue
			}
			// "- " then the first key on the same line, the others aligned.
			inner := yamlBlockMap(x, indent+2, unit)
			b.WriteString(" ")
			b.WriteString(strings.TrimPrefix(inner, strings.Repeat(" ", indent+2)))
		case listValue:
			if simple(x) {
				b.WriteString(" " + yamlInline(x, false))
			} else {
				b.WriteString("\n" + yamlBlockList(x, indent+unit, unit))
			}
		default:
			b.WriteString(yamlAfterKey(it, indent, unit))
		}
	}
	return b.String()
}

// jsonValue renders v as JSON whose closing bracket goes at column indent.
func jsonValue(v Value, indent, unit int) string {
	switch x := v.(type) {
	case scalarValue:
		if x.plain {
			return x.text
		}
		b, _ := json.Marshal(x.text)
		return string(b)
	case fnValue:
		return jsonValue(mapValue{{x.fn, x.arg}}, indent, unit)
	case listValue:
		if jsonSimpleList(x) {
			parts := make([]string, len(x))
			for i, it := range x {
				parts[i] = jsonValue(it, indent, unit)
			}
			return "[" + strings.Join(parts, ", ") + "]"
		}
		pad := strings.Repeat(" ", indent+unit)
		parts := make([]string, len(x))
		for i, it := range x {
			parts[i] = pad + jsonValue(it, indent+unit, unit)
		}
		return "[\n" + strings.Join(parts, ",\n") + "\n" + strings.Repeat(" ", indent) + "]"
	case mapValue:
		if len(x) == 0 {
			return "{}"
		}
		if len(x) == 1 && jsonSimpleList(listValue{x[0].Value}) {
			// {"Ref": "X"} and other one-key calls stay on one line.
			return "{" + jsonValue(Str(x[0].Key), 0, unit) + ": " + jsonValue(x[0].Value, indent, unit) + "}"
		}
		pad := strings.Repeat(" ", indent+unit)
		parts := make([]string, len(x))
		for i, kv := range x {
			parts[i] = pad + jsonValue(Str(kv.Key), 0, unit) + ": " + jsonValue(kv.Value, indent+unit, unit)
		}
		return "{\n" + strings.Join(parts, ",\n") + "\n" + strings.Repeat(" ", indent) + "}"
	}
	return "null"
}

func jsonSimpleList(l listValue) bool {
	for _, it := range l {
		switch x := it.(type) {
		case scalarValue:
		case fnValue:
			if !jsonSimpleList(listValue{x.arg}) {
				return false
			}
		case listValue:
			if !jsonSimpleList(x) || len(x) > 4 {
				return false
			}
		default:
			return false
		}
	}
	return true
}
