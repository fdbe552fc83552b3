package rules

import (
	"github.com/soc2ls/soc2ls/analysis/edit"
	"strconv"
	"strings"

	"github.com/soc2ls/soc2ls/analysis/template"
)

// tag is one tag of a resource, in list form ({Key, Value}) or map form.
type tag struct {
	Key   string
	KeyAt *template.Node // the node holding the key text
	Value *template.Node
}

// tagsOf returns the tags of a resource: `Tags: [{Key, Value}]` (most types,
// including AutoScaling with PropagateAtLaunch) and `Tags: {K: V}` (SAM, SSM
// and a few others).
func tagsOf(r *template.Resource) []tag {
	n := r.Property("Tags")
	if n == nil {
		return nil
	}
	var out []tag
	switch n.Kind {
	case template.Sequence:
		for _, it := range n.Items {
			k := it.Get("Key")
			if k.IsScalar() {
				out = append(out, tag{Key: k.Value, KeyAt: k, Value: it.Get("Value")})
			}
		}
	case template.Mapping:
		for _, p := range n.Pairs {
			out = append(out, tag{Key: p.Key.Value, KeyAt: p.Key, Value: p.Value})
		}
	}
	return out
}

// isEnvironmentKey reports whether a tag key names the deployment stage,
// case-insensitively and by its usual aliases.
func isEnvironmentKey(key, param string) bool {
	switch strings.ToLower(strings.TrimSpace(key)) {
	case "environment", "env", "stage", strings.ToLower(param):
		return true
	}
	return false
}

// isLiteral reports whether n is a value written in place (not a function).
func isLiteral(n *template.Node) bool {
	return n != nil && n.Kind == template.Scalar
}

// uniqueLogicalID returns base, or base2, base3, ... whichever is not yet
// a resource, parameter or condition of t.
func uniqueLogicalID(t *template.Template, base string) string {
	name := base
	for i := 2; t.Resource(name) != nil || t.Parameter(name) != nil || t.Condition(name) != nil; i++ {
		name = base + strconv.Itoa(i)
	}
	return name
}

// refTarget returns the name a node refers to with Ref, or "".
func refTarget(n *template.Node) string {
	if n.IsFn("Ref") {
		return n.Arg.Text()
	}
	return ""
}

// plural returns word with an s unless n is 1.
func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// setProperty writes v at path below the resource's Properties, creating
// Properties and the mappings along the way.
func setProperty(b *edit.Builder, r *template.Resource, v edit.Value, path ...string) {
	b.SetPath(r.Value, append([]string{"Properties"}, path...), v)
}

// addDependsOn adds name to the DependsOn of r: a new attribute, an item of
// an existing list, or a list made of an existing single name and this one.
func addDependsOn(b *edit.Builder, r *template.Resource, name string) {
	switch d := r.Value.Get("DependsOn"); {
	case d == nil || d.Kind == template.Null:
		b.Set(r.Value, "DependsOn", edit.Str(name))
	case d.Kind == template.Sequence && len(d.Items) > 0:
		b.Append(d, edit.Str(name))
	case d.Kind == template.Scalar:
		b.Replace(d, edit.Strs(d.Value, name))
	default:
		b.Set(r.Value, "DependsOn", edit.Str(name))
	}
}
