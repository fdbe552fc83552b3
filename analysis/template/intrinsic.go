package template

import "strings"

// Functions lists every intrinsic function, condition function and rule
// function that CloudFormation (with the AWS::LanguageExtensions transform)
// understands, in long form.
var Functions = []string{
	"Ref", "Condition",
	"Fn::Base64", "Fn::Cidr", "Fn::FindInMap", "Fn::GetAtt", "Fn::GetAZs",
	"Fn::ImportValue", "Fn::Join", "Fn::Select", "Fn::Split", "Fn::Sub",
	"Fn::Transform", "Fn::If", "Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not",
	"Fn::Length", "Fn::ToJsonString", "Fn::ForEach",
	// Rule-specific functions of the Rules section.
	"Fn::Contains", "Fn::EachMemberEquals", "Fn::EachMemberIn", "Fn::RefAll", "Fn::ValueOf", "Fn::ValueOfAll",
}

var functionSet = func() map[string]bool {
	m := make(map[string]bool, len(Functions))
	for _, f := range Functions {
		m[f] = true
	}
	return m
}()

// IsFunction reports whether name is a long-form intrinsic name.
func IsFunction(name string) bool { return functionSet[name] }

// ShortName returns the YAML short tag of a long-form function name:
// "Fn::GetAtt" -> "!GetAtt", "Ref" -> "!Ref".
func ShortName(fn string) string { return "!" + strings.TrimPrefix(fn, "Fn::") }

// shortTagFunction maps a YAML tag to the long-form function name.
func shortTagFunction(tag string) (fn string, known bool) {
	name := strings.TrimPrefix(tag, "!")
	switch name {
	case "Ref", "Condition":
		return name, true
	}
	fn = "Fn::" + name
	return fn, functionSet[fn]
}

// longForm turns a single-pair mapping whose key is a function name into an
// Intrinsic node; any other mapping is returned unchanged.
func (a *allocator) longForm(m *Node) *Node {
	if len(m.Pairs) != 1 {
		return m
	}
	k := m.Pairs[0].Key
	if !isFunctionKey(k.Value) {
		return m
	}
	n := a.node()
	*n = Node{Kind: Intrinsic, Span: m.Span, Fn: k.Value, Arg: m.Pairs[0].Value, FnSpan: k.Span, Flow: m.Flow}
	return n
}

// isFunctionKey reports whether a mapping whose one key is k is a
// long-form call.
func isFunctionKey(k string) bool {
	return k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") && functionSet[k]
}

// GetAtt decodes the argument of a Fn::GetAtt call in either of its forms,
// "Res.Attr" or [Res, Attr]. resSpan is the span of the resource name in the
// source, for navigation and rename. ok is false when the argument is not a
// literal resource name.
func GetAtt(n *Node) (res, attr string, resSpan Span, ok bool) {
	if !n.IsFn("Fn::GetAtt") || n.Arg == nil {
		return "", "", Span{}, false
	}
	a := n.Arg
	switch a.Kind {
	case Scalar:
		name, rest, found := strings.Cut(a.Value, ".")
		if !found || name == "" {
			return "", "", Span{}, false
		}
		s := a.ValueSpan
		return name, rest, Span{s.Start, min(s.Start+len(name), s.End)}, true
	case Sequence:
		if len(a.Items) != 2 || a.Items[0].Kind != Scalar {
			return "", "", Span{}, false
		}
		return a.Items[0].Value, a.Items[1].Text(), a.Items[0].ValueSpan, true
	}
	return "", "", Span{}, false
}

// SubPart is one piece of an Fn::Sub template string.
type SubPart struct {
	Literal string // text, with ${!X} already turned into ${X}
	Var     string // a variable name: "X", "X.Attr" or "AWS::Region"; empty for literal text
	// Span is the span of the variable name in the source when it can be
	// mapped exactly (unescaped scalars); otherwise empty.
	Span Span
}

// Sub decodes an Fn::Sub call: its template string (either the whole argument
// or the first item of a [string, {vars}] list) split into literal text and
// ${...} variables, and the explicit variable map (nil when absent).
func Sub(n *Node) (parts []SubPart, vars *Node, ok bool) {
	if !n.IsFn("Fn::Sub") || n.Arg == nil {
		return nil, nil, false
	}
	str := n.Arg
	if str.Kind == Sequence {
		if len(str.Items) == 0 {
			return nil, nil, false
		}
		if len(str.Items) > 1 && str.Items[1].Kind == Mapping {
			vars = str.Items[1]
		}
		str = str.Items[0]
	}
	if str.Kind != Scalar {
		return nil, vars, false
	}
	return SplitSub(str), vars, true
}

// SplitSub splits an Fn::Sub template scalar into parts.
func SplitSub(str *Node) []SubPart {
	s := str.Value
	// Offsets into the value map onto the source only when the raw text equals
	// the value (no escapes, no line folding).
	exact := str.ValueSpan.End-str.ValueSpan.Start == len(s)
	var parts []SubPart
	lit := strings.Builder{}
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], "${")
		if j < 0 {
			lit.WriteString(s[i:])
			break
		}
		lit.WriteString(s[i : i+j])
		i += j
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			lit.WriteString(s[i:])
			break
		}
		inner := s[i+2 : i+end]
		if strings.HasPrefix(inner, "!") {
			lit.WriteString("${" + inner[1:] + "}")
		} else {
			if lit.Len() > 0 {
				parts = append(parts, SubPart{Literal: lit.String()})
				lit.Reset()
			}
			name := strings.TrimSpace(inner)
			p := SubPart{Var: name}
			if exact {
				off := str.ValueSpan.Start + i + 2 + strings.Index(inner, name)
				p.Span = Span{off, off + len(name)}
			}
			parts = append(parts, p)
		}
		i += end + 1
	}
	if lit.Len() > 0 {
		parts = append(parts, SubPart{Literal: lit.String()})
	}
	return parts
}

// IsPseudoParameter reports whether name is an AWS pseudo parameter such as
// AWS::Region or AWS::NoValue.
func IsPseudoParameter(name string) bool {
	switch name {
	case "AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition",
		"AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix":
		return true
	}
	return false
}

// IsDynamicReference reports whether s contains a {{resolve:...}} dynamic
// reference (SSM, SSM SecureString or Secrets Manager).
func IsDynamicReference(s string) bool { return strings.Contains(s, "{{resolve:") }

// DynamicReferenceService returns the service of the first dynamic reference
// in s ("ssm", "ssm-secure", "secretsmanager"), or "".
func DynamicReferenceService(s string) string {
	i := strings.Index(s, "{{resolve:")
	if i < 0 {
		return ""
	}
	rest := s[i+len("{{resolve:"):]
	if j := strings.IndexByte(rest, ':'); j >= 0 {
		return rest[:j]
	}
	return ""
}
