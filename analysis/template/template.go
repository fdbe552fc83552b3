// Package template parses AWS CloudFormation templates, written in YAML or
// JSON, into a positioned model: every value knows its byte span, intrinsic
// functions are normalised to one representation whatever their form, and an
// index of references (Ref, GetAtt, Sub, DependsOn, Condition) is built once
// per parse.
package template

import (
	"bytes"
	"path/filepath"
	"strings"
)

// Format is the syntax a template is written in.
type Format uint8

// The two template formats.
const (
	YAML Format = iota
	JSON
)

func (f Format) String() string {
	if f == JSON {
		return "json"
	}
	return "yaml"
}

// ProblemCode classifies a problem found while parsing.
type ProblemCode uint8

// Parse problem codes.
const (
	ProblemSyntax       ProblemCode = iota // the text is not valid YAML or JSON
	ProblemDuplicateKey                    // a mapping repeats a key
	ProblemAlias                           // a YAML anchor, alias or merge key
	ProblemStructure                       // valid YAML/JSON, but not a valid template shape
	ProblemUnknownTag                      // a YAML tag that is no CloudFormation function (!Rain::Embed, ...)
)

// Problem is something wrong with the text of a template itself, found while
// parsing.
type Problem struct {
	Code    ProblemCode
	Span    Span
	Message string
}

// Template is a parsed CloudFormation template.
type Template struct {
	Filename string
	Format   Format
	Source   []byte
	Lines    *Lines
	Root     *Node // nil when the document is empty or does not parse
	// Problems holds syntax errors, duplicate keys and unsupported YAML
	// features, in document order.
	Problems []Problem
	// IsCloudFormation is false for YAML or JSON that is not a template
	// (Kubernetes manifests, CI workflows, ...): such files yield no findings.
	IsCloudFormation bool

	// Sections maps each top-level key to its pair, for anchoring findings on
	// the `Resources:` or `Parameters:` key.
	Sections    map[string]*Pair
	Description string
	Parameters  []*Parameter
	Conditions  []*Condition
	Mappings    []*Entry
	Resources   []*Resource
	Outputs     []*Entry
	Metadata    *Node

	params     map[string]*Parameter
	conditions map[string]*Condition
	resources  map[string]*Resource
	byType     map[string][]*Resource
	mappings   map[string]*Entry

	// Refs indexes every reference in the template.
	Refs *RefIndex

	// fastYAML records that the fast YAML path read the whole document, so
	// that every span is exact and local, which Reparse relies on.
	fastYAML bool
	// recorder, in a Recording view, is told about resource lookups.
	recorder ReadRecorder
}

// Entry is a named entry of a top-level section.
type Entry struct {
	Name  string
	Key   *Node // the key scalar
	Value *Node
}

// Parameter is an entry of the Parameters section.
type Parameter struct {
	Entry
	Type          string
	Default       *Node // nil when absent
	AllowedValues []*Node
	NoEcho        bool
}

// Condition is an entry of the Conditions section.
type Condition struct {
	Entry
}

// Resource is an entry of the Resources section.
type Resource struct {
	Entry
	Type       string
	TypeNode   *Node
	Properties *Node // nil when absent
	// Condition is the name in the resource's Condition attribute, or "".
	Condition     string
	ConditionNode *Node
	// DependsOn lists the logical ids the resource depends on, with their nodes.
	DependsOn           []*Node
	Metadata            *Node
	DeletionPolicy      *Node
	UpdateReplacePolicy *Node
}

// Property returns the value of a property, or nil.
func (r *Resource) Property(name string) *Node { return r.Properties.Get(name) }

// PropertyPath follows a path of keys below Properties.
func (r *Resource) PropertyPath(keys ...string) *Node { return r.Properties.Path(keys...) }

// Parse parses a template. The filename only guides format detection and is
// kept for reporting. Parse never fails: syntax errors are Problems, and the
// model holds what could be read.
func Parse(filename string, src []byte) *Template {
	t := &Template{Filename: filename, Source: src, Lines: NewLines(src)}
	t.Format = sniffFormat(filename, src)
	if t.Format == JSON {
		t.Root, t.Problems = parseJSON(src, t.Lines)
		if t.Root == nil && len(t.Problems) > 0 && !strings.EqualFold(filepath.Ext(filename), ".json") {
			// Flow-style YAML can start with '{' too.
			if root, problems := parseYAML(src, t.Lines); root != nil {
				t.Format, t.Root, t.Problems = YAML, root, problems
			}
		}
	} else if root, problems, ok := parseYAMLFastOrGiveUp(src, t.Lines); ok {
		t.Root, t.Problems, t.fastYAML = root, problems, true
	} else {
		t.Root, t.Problems = parseYAMLv3(src, t.Lines)
	}
	t.build()
	return t
}

func sniffFormat(filename string, src []byte) Format {
	src = bytes.TrimPrefix(src, []byte("\xEF\xBB\xBF"))
	for _, b := range src {
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return JSON
		}
		break
	}
	if strings.EqualFold(filepath.Ext(filename), ".json") && len(bytes.TrimSpace(src)) > 0 && bytes.TrimSpace(src)[0] != '#' {
		return JSON
	}
	return YAML
}

// HasSyntaxError reports whether the document failed to parse.
func (t *Template) HasSyntaxError() bool {
	return t.Root == nil && len(t.Problems) > 0
}

// LooksLikeCloudFormation is a cheap textual test used when a document does not
// parse, to decide whether its syntax error is worth reporting.
func LooksLikeCloudFormation(src []byte) bool {
	return bytes.Contains(src, []byte("AWSTemplateFormatVersion")) ||
		bytes.Contains(src, []byte("AWS::")) && bytes.Contains(src, []byte("Resources"))
}

func (t *Template) build() {
	t.params = map[string]*Parameter{}
	t.conditions = map[string]*Condition{}
	t.resources = map[string]*Resource{}
	t.byType = map[string][]*Resource{}
	t.mappings = map[string]*Entry{}
	t.Sections = map[string]*Pair{}
	root := t.Root
	if root == nil || root.Kind != Mapping {
		t.Refs = &RefIndex{}
		return
	}
	for _, p := range root.Pairs {
		t.Sections[p.Key.Value] = p
	}
	t.Description = root.Get("Description").Text()
	t.Metadata = root.Get("Metadata")
	for _, e := range entries(root.Get("Parameters")) {
		p := &Parameter{Entry: e}
		p.Type = e.Value.Get("Type").Text()
		p.Default = e.Value.Get("Default")
		if av := e.Value.Get("AllowedValues"); av != nil {
			p.AllowedValues = av.List()
		}
		p.NoEcho, _ = e.Value.Get("NoEcho").Bool()
		t.Parameters = append(t.Parameters, p)
		t.params[p.Name] = p
	}
	for _, e := range entries(root.Get("Conditions")) {
		c := &Condition{Entry: e}
		t.Conditions = append(t.Conditions, c)
		t.conditions[c.Name] = c
	}
	for _, e := range entries(root.Get("Mappings")) {
		e := e
		t.Mappings = append(t.Mappings, &e)
		t.mappings[e.Name] = &e
	}
	for _, e := range entries(root.Get("Resources")) {
		r := &Resource{Entry: e}
		v := e.Value
		r.TypeNode = v.Get("Type")
		r.Type = r.TypeNode.Text()
		r.Properties = v.Get("Properties")
		if r.Properties != nil && r.Properties.Kind == Null {
			r.Properties = nil
		}
		if c := v.Get("Condition"); c != nil {
			r.ConditionNode = c
			r.Condition = c.Text()
		}
		if d := v.Get("DependsOn"); d != nil {
			r.DependsOn = d.List()
		}
		r.Metadata = v.Get("Metadata")
		r.DeletionPolicy = v.Get("DeletionPolicy")
		r.UpdateReplacePolicy = v.Get("UpdateReplacePolicy")
		t.Resources = append(t.Resources, r)
		t.resources[r.Name] = r
		t.byType[r.Type] = append(t.byType[r.Type], r)
	}
	for _, e := range entries(root.Get("Outputs")) {
		e := e
		t.Outputs = append(t.Outputs, &e)
	}
	t.IsCloudFormation = t.detectCloudFormation()
	t.Refs = buildRefIndex(t)
}

// detectCloudFormation recognises a template: a mapping with
// AWSTemplateFormatVersion, or with Resources whose entries have a Type like
// AWS::... or Custom::... (SAM's AWS::Serverless types included).
func (t *Template) detectCloudFormation() bool {
	if _, ok := t.Sections["AWSTemplateFormatVersion"]; ok {
		return true
	}
	for _, r := range t.Resources {
		if strings.HasPrefix(r.Type, "AWS::") || strings.HasPrefix(r.Type, "Custom::") || strings.HasPrefix(r.Type, "Alexa::") {
			return true
		}
	}
	return false
}

func entries(section *Node) []Entry {
	if section == nil || section.Kind != Mapping {
		return nil
	}
	out := make([]Entry, 0, len(section.Pairs))
	for _, p := range section.Pairs {
		out = append(out, Entry{Name: p.Key.Value, Key: p.Key, Value: p.Value})
	}
	return out
}

// Parameter returns the parameter with the given name, or nil.
func (t *Template) Parameter(name string) *Parameter { return t.params[name] }

// Condition returns the condition with the given name, or nil.
func (t *Template) Condition(name string) *Condition { return t.conditions[name] }

// Mapping returns the mapping with the given name, or nil.
func (t *Template) Mapping(name string) *Entry { return t.mappings[name] }

// ResourceAt returns the resource whose entry contains byte offset off, or nil.
func (t *Template) ResourceAt(off int) *Resource {
	for _, r := range t.Resources {
		if off >= r.Key.Start && off <= r.Value.End {
			return r
		}
	}
	return nil
}

// NodeAt returns the innermost node (value or key) containing byte offset off,
// and the chain of its ancestors from the root. It returns nil when off is
// outside the document's values.
func (t *Template) NodeAt(off int) (n *Node, path []*Node) {
	var visit func(*Node) bool
	visit = func(c *Node) bool {
		if c == nil || off < c.Start || off > c.End {
			return false
		}
		path = append(path, c)
		switch c.Kind {
		case Mapping:
			for _, p := range c.Pairs {
				if off >= p.Key.Start && off <= p.Key.End {
					path = append(path, p.Key)
					return true
				}
				if visit(p.Value) {
					return true
				}
			}
		case Sequence:
			for _, it := range c.Items {
				if visit(it) {
					return true
				}
			}
		case Intrinsic:
			if visit(c.Arg) {
				return true
			}
		}
		return true
	}
	if !visit(t.Root) {
		return nil, nil
	}
	return path[len(path)-1], path
}
