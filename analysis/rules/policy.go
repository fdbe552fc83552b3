package rules

import (
	"regexp"
	"strings"
	"sync"

	"github.com/soc2ls/soc2ls/analysis/template"
)

// statements returns the statements of an IAM-style policy document (a list,
// or a single statement written as a mapping).
func statements(doc *template.Node) []*template.Node {
	if doc == nil {
		return nil
	}
	var out []*template.Node
	for _, s := range doc.Get("Statement").List() {
		if s.Kind == template.Mapping {
			out = append(out, s)
		}
	}
	return out
}

// effect returns the statement's Effect, lower-cased.
func effect(stmt *template.Node) string { return strings.ToLower(stmt.Get("Effect").Text()) }

// isWildcardPrincipal reports whether a statement's principal is everyone:
// "*" or {AWS: "*"} (alone or in a list).
func isWildcardPrincipal(stmt *template.Node) bool {
	p := stmt.Get("Principal")
	if p.Text() == "*" {
		return true
	}
	for _, v := range p.Get("AWS").List() {
		if v.Text() == "*" {
			return true
		}
	}
	return false
}

// literalStrings returns the literal scalars of a value or list.
func literalStrings(n *template.Node) []string {
	var out []string
	for _, v := range n.List() {
		if v.IsScalar() {
			out = append(out, v.Value)
		}
	}
	return out
}

// actionsCover reports whether a statement's Action list covers the action
// want (e.g. "s3:PutObject"), honouring * wildcards, case-insensitively as
// IAM does.
func actionsCover(stmt *template.Node, want string) bool {
	for _, a := range literalStrings(stmt.Get("Action")) {
		if globMatch(strings.ToLower(a), strings.ToLower(want)) {
			return true
		}
	}
	return false
}

// conditionValue returns the value node of operator/key in a statement's
// Condition block (keys compared case-insensitively, as IAM does).
func conditionValue(stmt *template.Node, operator, key string) *template.Node {
	c := stmt.Get("Condition")
	if c == nil || c.Kind != template.Mapping {
		return nil
	}
	for _, op := range c.Pairs {
		if !strings.EqualFold(op.Key.Value, operator) || op.Value.Kind != template.Mapping {
			continue
		}
		for _, kv := range op.Value.Pairs {
			if strings.EqualFold(kv.Key.Value, key) {
				return kv.Value
			}
		}
	}
	return nil
}

// globCache holds compiled patterns; rules run concurrently over templates.
var globCache sync.Map // string -> *regexp.Regexp

// globMatch matches s against an IAM-style pattern where * matches any run
// of characters and ? one character.
func globMatch(pattern, s string) bool {
	if !strings.ContainsAny(pattern, "*?") {
		return pattern == s
	}
	v, ok := globCache.Load(pattern)
	if !ok {
		var b strings.Builder
		b.WriteString("^")
		for _, r := range pattern {
			switch r {
			case '*':
				b.WriteString(".*")
			case '?':
				b.WriteString(".")
			default:
				b.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		b.WriteString("$")
		v, _ = globCache.LoadOrStore(pattern, regexp.MustCompile(b.String()))
	}
	return v.(*regexp.Regexp).MatchString(s)
}
