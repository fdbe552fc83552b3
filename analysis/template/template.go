// Package template parses AWS CloudFormation templates, written in YAML or
// JSON, into a positioned model: every value knows its byte span, intrinsic
// functions are normalised to one representation whatever their form, and an
// index of references (Ref, GetAtt, Sub, DependsOn, Condition) is built once
// per parse.
package template

import (
	"bytes"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
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

	// The lookups by name hold indexes into the slices above, not pointers:
	// an edit inside an entry changes no name and no index, so that Reparse
	// shares these maps with the old template even where it copies the
	// structs. A repeated name maps to its last entry.
	params     map[string]int
	conditions map[string]int
	resources  map[string]int
	mappings   map[string]int
	byType     map[string][]*Resource
	// typeIdx lists the indexes in Resources of each type's resources, which
	// Reparse shares, to rebuild byType from the new structs without a map
	// lookup per resource.
	typeIdx map[string][]int32

	// Refs indexes every reference in the template.
	Refs *RefIndex

	// fastYAML records that the fast YAML path read the whole document, so
	// that every span is exact and local, which Reparse relies on. (The
	// JSON parser's spans always are: see planJSON.)
	fastYAML bool
	// arena holds every node of the tree, for ReparseInPlace to move their
	// spans in one pass; nil when the template may not be modified in place
	// (a copying Reparse's) or is not incremental (yaml.v3).
	arena *nodeArena
	// keyStarts holds where each resource's key starts (Resources[i].Key
	// .Start) in one array, which an in-place re-parse moves without
	// touching the resources' nodes (see pendingShift).
	keyStarts []int
	// pending is the move of spans an unsettled re-parse left for later
	// (see pendingShift), or nil; a Recording view shares it.
	pending *pendingShift
	// recorder, in a Recording view, is told about resource lookups.
	recorder ReadRecorder
	// shared is set when another template may hold some of this one's nodes,
	// structs or indexes: Reparse shares them between old and new. Such a
	// template must not be modified, so that ReparseInPlace copies instead.
	// It is a pointer so that a Recording view, a copy of the struct, shares
	// it.
	shared *atomic.Bool
}

// isShared reports whether another template may hold parts of t.
func (t *Template) isShared() bool { return t.shared != nil && t.shared.Load() }

// markShared records that another template holds parts of t.
func (t *Template) markShared() {
	if t.shared == nil {
		t.shared = new(atomic.Bool) // a template not made by Parse or Reparse
	}
	t.shared.Store(true)
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
	t := &Template{Filename: filename, Source: src, Lines: NewLines(src), shared: new(atomic.Bool)}
	t.Format = sniffFormat(filename, src)
	if t.Format == JSON {
		alloc := &allocator{record: true}
		t.Root, t.Problems = parseJSON(src, t.Lines, alloc)
		if t.Root != nil {
			t.arena = newArena(alloc)
		}
		if t.Root == nil && len(t.Problems) > 0 && !strings.EqualFold(filepath.Ext(filename), ".json") {
			// Flow-style YAML can start with '{' too.
			if root, problems := parseYAML(src, t.Lines); root != nil {
				t.Format, t.Root, t.Problems = YAML, root, problems
			}
		}
	} else {
		alloc := &allocator{record: true}
		if root, problems, ok := parseYAMLFastOrGiveUp(src, t.Lines, alloc); ok {
			t.Root, t.Problems, t.fastYAML, t.arena = root, problems, true, newArena(alloc)
		} else {
			t.Root, t.Problems = parseYAMLv3(src, t.Lines)
		}
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
	t.params = map[string]int{}
	t.conditions = map[string]int{}
	t.resources = map[string]int{}
	t.mappings = map[string]int{}
	t.byType = map[string][]*Resource{}
	t.typeIdx = map[string][]int32{}
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
	t.Parameters = structsOf(sectionPairs(root.Get("Parameters")), (*Parameter).fill, t.params)
	t.Conditions = structsOf(sectionPairs(root.Get("Conditions")), (*Condition).fill, t.conditions)
	t.Mappings = structsOf(sectionPairs(root.Get("Mappings")), (*Entry).fill, t.mappings)
	t.Resources = structsOf(sectionPairs(root.Get("Resources")), (*Resource).fill, t.resources)
	if len(t.Resources) > 0 {
		for i, r := range t.Resources {
			t.typeIdx[r.Type] = append(t.typeIdx[r.Type], int32(i))
		}
		t.byType = resourcesByType(t.Resources, t.typeIdx)
	}
	t.keyStarts = keyStartsOf(t.Resources)
	t.Outputs = structsOf(sectionPairs(root.Get("Outputs")), (*Entry).fill, nil)
	t.IsCloudFormation = t.detectCloudFormation()
	t.Refs = buildRefIndex(t)
}

// keyStartsOf returns where the key of each resource starts, or nil.
func keyStartsOf(resources []*Resource) []int {
	if len(resources) == 0 {
		return nil
	}
	out := make([]int, len(resources))
	for i, r := range resources {
		out[i] = r.Key.Start
	}
	return out
}

// ResourceKeyStart returns where the key of resource i starts: its
// Key.Start, which it answers without reading the resource's nodes.
func (t *Template) ResourceKeyStart(i int) int { return t.keyStarts[i] }

// resourcesByType builds the lookup by type from the resources and the
// indexes of each type's resources, with one backing array for all lists.
func resourcesByType(resources []*Resource, typeIdx map[string][]int32) map[string][]*Resource {
	out := make(map[string][]*Resource, len(typeIdx))
	all := make([]*Resource, len(resources))
	for typ, idx := range typeIdx {
		list := all[:len(idx):len(idx)]
		all = all[len(idx):]
		for k, i := range idx {
			list[k] = resources[i]
		}
		out[typ] = list
	}
	return out
}

// fill sets the parameter from its entry's pair, as a parse does.
func (p *Parameter) fill(pr *Pair) {
	v := pr.Value
	*p = Parameter{Entry: Entry{Name: pr.Key.Value, Key: pr.Key, Value: v}}
	p.Type = v.Get("Type").Text()
	p.Default = v.Get("Default")
	if av := v.Get("AllowedValues"); av != nil {
		p.AllowedValues = av.List()
	}
	p.NoEcho, _ = v.Get("NoEcho").Bool()
}

// fill sets the condition from its entry's pair.
func (c *Condition) fill(pr *Pair) {
	*c = Condition{Entry: Entry{Name: pr.Key.Value, Key: pr.Key, Value: pr.Value}}
}

// fill sets the entry from its pair.
func (e *Entry) fill(pr *Pair) {
	*e = Entry{Name: pr.Key.Value, Key: pr.Key, Value: pr.Value}
}

// fill sets the resource from its entry's pair, as a parse does: each
// attribute is the first pair with its key, as Node.Get finds it, read in
// one pass over the resource's keys.
func (r *Resource) fill(pr *Pair) {
	v := pr.Value
	*r = Resource{Entry: Entry{Name: pr.Key.Value, Key: pr.Key, Value: v}}
	if v == nil || v.Kind != Mapping {
		return
	}
	var seen uint8
	for _, a := range v.Pairs {
		var bit uint8
		switch a.Key.Value {
		case "Type":
			bit = 1
		case "Properties":
			bit = 2
		case "Condition":
			bit = 4
		case "DependsOn":
			bit = 8
		case "Metadata":
			bit = 16
		case "DeletionPolicy":
			bit = 32
		case "UpdateReplacePolicy":
			bit = 64
		default:
			continue
		}
		if seen&bit != 0 {
			continue
		}
		seen |= bit
		switch n := a.Value; bit {
		case 1:
			r.TypeNode, r.Type = n, n.Text()
		case 2:
			if n.Kind != Null {
				r.Properties = n
			}
		case 4:
			r.ConditionNode, r.Condition = n, n.Text()
		case 8:
			r.DependsOn = n.List()
		case 16:
			r.Metadata = n
		case 32:
			r.DeletionPolicy = n
		case 64:
			r.UpdateReplacePolicy = n
		}
	}
}

// structsOf returns the entries of a section's pairs, allocated together
// and filled by fill, and records each one's index in index (if not nil).
func structsOf[T any](pairs []*Pair, fill func(*T, *Pair), index map[string]int) []*T {
	if len(pairs) == 0 {
		return nil
	}
	structs := make([]T, len(pairs))
	out := make([]*T, len(pairs))
	for i, pr := range pairs {
		fill(&structs[i], pr)
		out[i] = &structs[i]
		if index != nil {
			index[pr.Key.Value] = i
		}
	}
	return out
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

// sectionPairs returns the entries of a section: the pairs of its mapping,
// or nil when it is no mapping.
func sectionPairs(section *Node) []*Pair {
	if section == nil || section.Kind != Mapping {
		return nil
	}
	return section.Pairs
}

// ResourceAt returns the resource whose entry contains byte offset off, or nil.
func (t *Template) ResourceAt(off int) *Resource {
	t.Settle()
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
	// In an unsettled template, only the resource entry whose key precedes
	// off may hold it: that one is settled and looked at, the others not.
	var resources *Node
	entry := -1
	if !t.Settled() {
		if p := t.Sections["Resources"]; p != nil {
			resources = p.Value
		}
		entry = sort.Search(len(t.keyStarts), func(i int) bool { return t.keyStarts[i] > off }) - 1
		t.SettleResource(entry)
	}
	var visit func(*Node) bool
	visit = func(c *Node) bool {
		if c == nil || off < c.Start || off > c.End {
			return false
		}
		path = append(path, c)
		switch c.Kind {
		case Mapping:
			pairs := c.Pairs
			if c == resources {
				pairs = nil
				if entry >= 0 && entry < len(c.Pairs) {
					pairs = c.Pairs[entry : entry+1]
				}
			}
			for _, p := range pairs {
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
