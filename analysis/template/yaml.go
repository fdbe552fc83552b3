package template

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// yamlConverter turns a yaml.v3 node tree into Nodes with byte spans.
// yaml.v3 only gives the 1-based line and code-point column where a node
// starts (at its tag or anchor, if any); every end is recomputed from the
// source text here.
type yamlConverter struct {
	flow     int // depth of flow collections around the node being converted
	src      []byte
	lines    *Lines
	problems []Problem
	alloc    allocator
}

// parseYAML parses a YAML document: with the fast path when it can, else
// with yaml.v3 and the converter.
func parseYAML(src []byte, lines *Lines) (*Node, []Problem) {
	if root, problems, ok := parseYAMLFastOrGiveUp(src, lines, &allocator{}); ok {
		return root, problems
	}
	return parseYAMLv3(src, lines)
}

// parseYAMLFastOrGiveUp runs the fast path and treats a bug in it (a panic,
// which FuzzYAMLFastPath exists to find) as giving up: an editor session must
// not die for an optimisation. The nodes are allocated from alloc.
func parseYAMLFastOrGiveUp(src []byte, lines *Lines, alloc *allocator) (root *Node, problems []Problem, ok bool) {
	defer func() {
		if recover() != nil {
			root, problems, ok = nil, nil, false
		}
	}()
	return parseYAMLFast(src, lines, alloc)
}

// parseYAMLv3 parses with yaml.v3 and converts its tree: the reference path,
// which handles every document and reports syntax errors.
func parseYAMLv3(src []byte, lines *Lines) (*Node, []Problem) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, []Problem{yamlSyntaxProblem(err, lines)}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, nil // empty document or only comments
	}
	c := &yamlConverter{src: src, lines: lines}
	root := c.convert(doc.Content[0])
	return root, c.problems
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlSyntaxProblem turns yaml.v3's "yaml: line N: msg" into a positioned
// problem. yaml.v3 often reports the line where the enclosing construct
// started, so the message says "near" and the span covers that line's text.
func yamlSyntaxProblem(err error, lines *Lines) Problem {
	msg := err.Error()
	line := 0
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	if line < 1 {
		line = 1
	}
	if line > lines.Count() {
		line = lines.Count()
	}
	start, end := lines.LineStart(line-1), lines.LineEnd(line-1)
	for start < end && (lines.src[start] == ' ' || lines.src[start] == '\t') {
		start++
	}
	return Problem{
		Code:    ProblemSyntax,
		Span:    Span{start, end},
		Message: fmt.Sprintf("YAML syntax error near line %d: %s", line, msg),
	}
}

func (c *yamlConverter) problem(code ProblemCode, s Span, format string, args ...any) {
	c.problems = append(c.problems, Problem{Code: code, Span: s, Message: fmt.Sprintf(format, args...)})
}

func (c *yamlConverter) convert(y *yaml.Node) *Node {
	start := c.lines.OffsetOfRuneColumn(y.Line, y.Column)
	// Skip node properties (anchor and tag) to find where the content starts.
	var tagSpan Span
	i := start
	for i < len(c.src) && (c.src[i] == '!' || c.src[i] == '&') {
		j := i
		for j < len(c.src) && !isYAMLSpace(c.src[j]) && c.src[j] != ',' && c.src[j] != ']' && c.src[j] != '}' {
			j++
		}
		if c.src[i] == '!' {
			tagSpan = Span{i, j}
		} else {
			c.problem(ProblemAlias, Span{i, j}, "YAML anchor %s: CloudFormation does not support anchors and aliases", string(c.src[i:j]))
		}
		i = c.skipSpace(j)
	}
	contentStart := i
	if y.Kind == yaml.ScalarNode && y.Value == "" && y.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
		// An empty plain scalar (`key:` with nothing after it) has no text;
		// yaml.v3 positions it at the next token, so pin it to the tag or
		// leave it empty where it was found.
		contentStart = start
		if tagSpan.End > 0 {
			contentStart = tagSpan.End
		}
	}

	var n *Node
	if y.Style&yaml.FlowStyle != 0 {
		c.flow++
		defer func() { c.flow-- }()
	}
	switch y.Kind {
	case yaml.ScalarNode:
		n = c.scalar(y, contentStart)
	case yaml.MappingNode:
		n = c.mapping(y, contentStart)
	case yaml.SequenceNode:
		n = c.sequence(y, contentStart)
	case yaml.AliasNode:
		end := contentStart + 1
		for end < len(c.src) && !isYAMLSpace(c.src[end]) && c.src[end] != ',' && c.src[end] != ']' && c.src[end] != '}' {
			end++
		}
		n = c.alloc.node()
		*n = Node{Kind: Alias, Span: Span{contentStart, end}, Value: y.Value}
		c.problem(ProblemAlias, n.Span, "YAML alias *%s: CloudFormation does not support anchors and aliases", y.Value)
	default:
		n = c.alloc.node()
		*n = Node{Kind: Null, Span: Span{contentStart, contentStart}}
	}

	// A flow collection is itself in flow context only if an enclosing one is.
	n.InFlow = c.flow > 1 || (c.flow == 1 && !n.Flow)
	if tagSpan.End > tagSpan.Start {
		tag := string(c.src[tagSpan.Start:tagSpan.End])
		if !strings.HasPrefix(tag, "!!") {
			fn, known := shortTagFunction(tag)
			if !known {
				c.problem(ProblemUnknownTag, tagSpan, "unknown tag %s: CloudFormation only understands the short forms of its intrinsic functions; a preprocessor (rain, a macro) must expand it before deployment", tag)
			}
			call := c.alloc.node()
			*call = Node{Kind: Intrinsic, Span: Span{start, n.End}, Fn: fn, Arg: n, Short: true, FnSpan: tagSpan, Flow: n.Flow, InFlow: c.flow > 1 || c.flow == 1 && !n.Flow}
			return call
		}
	}
	if start < n.Start {
		n.Start = start
	}
	return n
}

func (c *yamlConverter) scalar(y *yaml.Node, at int) *Node {
	n := c.alloc.node()
	n.Kind, n.Value = Scalar, y.Value
	switch {
	case y.Style&yaml.DoubleQuotedStyle != 0:
		n.Quoted = true
		end := c.endDoubleQuoted(at)
		n.Span, n.ValueSpan = Span{at, end}, Span{min(at+1, end), max(at+1, end-1)}
	case y.Style&yaml.SingleQuotedStyle != 0:
		n.Quoted = true
		end := c.endSingleQuoted(at)
		n.Span, n.ValueSpan = Span{at, end}, Span{min(at+1, end), max(at+1, end-1)}
	case y.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		end := c.endBlockScalar(at)
		n.Span, n.ValueSpan = Span{at, end}, Span{at, end}
	default:
		end := c.endPlain(at, y.Value)
		n.Span, n.ValueSpan = Span{at, end}, Span{at, end}
		switch y.ShortTag() {
		case "!!int", "!!float":
			n.ScalarType = Number
		case "!!bool":
			n.ScalarType = Bool
		case "!!null":
			n.ScalarType = NullScalar
			if y.Value == "" || y.Value == "~" || strings.EqualFold(y.Value, "null") {
				n.Kind = Null
			}
		}
	}
	return n
}

func (c *yamlConverter) mapping(y *yaml.Node, at int) *Node {
	n := c.alloc.node()
	n.Kind, n.Flow = Mapping, y.Style&yaml.FlowStyle != 0
	n.Pairs = make([]*Pair, 0, len(y.Content)/2)
	// Duplicate keys: a linear scan for the small mappings that templates
	// are made of, a map for large ones.
	var seen map[string]*Node
	if len(y.Content) > 32 {
		seen = make(map[string]*Node, len(y.Content)/2)
	}
	end := at
	for i := 0; i+1 < len(y.Content); i += 2 {
		ky, vy := y.Content[i], y.Content[i+1]
		key := c.convert(ky)
		if key.Kind != Scalar && key.Kind != Null {
			c.problem(ProblemSyntax, key.Span, "complex mapping keys are not supported in CloudFormation templates")
			key = &Node{Span: key.Span, ValueSpan: key.Span}
		}
		key.Kind = Scalar
		if ky.Value == "<<" && ky.Style == 0 {
			c.problem(ProblemAlias, key.Span, "YAML merge key <<: CloudFormation does not support anchors, aliases and merge keys")
		}
		val := c.convert(vy)
		if val.Kind == Null && val.Start < key.End {
			// `key:` with no value: place the empty value right after the colon.
			p := c.afterColon(key.End)
			val.Span, val.ValueSpan = Span{p, p}, Span{p, p}
		}
		var first *Node
		if seen != nil {
			if first = seen[key.Value]; first == nil {
				seen[key.Value] = key
			}
		} else {
			for _, p := range n.Pairs {
				if p.Key.Value == key.Value {
					first = p.Key
					break
				}
			}
		}
		if first != nil {
			fl := c.lines.Position(first.Start).Line
			c.problem(ProblemDuplicateKey, key.Span, "duplicate key %q (first defined on line %d): CloudFormation rejects templates with duplicate keys", key.Value, fl)
		}
		pair := c.alloc.pair()
		pair.Key, pair.Value = key, val
		n.Pairs = append(n.Pairs, pair)
		end = max(end, val.End, key.End)
	}
	if n.Flow {
		end = c.closeFlow(at, end, '{', '}')
	}
	n.Span = Span{at, end}
	if len(n.Pairs) > 0 && !n.Flow && n.Pairs[0].Key.Start < at {
		n.Start = n.Pairs[0].Key.Start
	}
	return c.alloc.longForm(n)
}

func (c *yamlConverter) sequence(y *yaml.Node, at int) *Node {
	n := c.alloc.node()
	n.Kind, n.Flow = Sequence, y.Style&yaml.FlowStyle != 0
	n.Items = make([]*Node, 0, len(y.Content))
	end := at
	for _, it := range y.Content {
		v := c.convert(it)
		n.Items = append(n.Items, v)
		end = max(end, v.End)
	}
	if n.Flow {
		end = c.closeFlow(at, end, '[', ']')
	} else if len(n.Items) == 0 {
		end = at
	}
	n.Span = Span{at, end}
	return n
}

// closeFlow finds the end of a flow collection that opens at `at` and whose
// last child ends at `last`: just after the closing bracket.
func (c *yamlConverter) closeFlow(at, last int, open, close byte) int {
	i := last
	if i <= at && at < len(c.src) && c.src[at] == open {
		i = at + 1
	}
	for i < len(c.src) {
		switch b := c.src[i]; {
		case b == close:
			return i + 1
		case b == '#':
			for i < len(c.src) && c.src[i] != '\n' && c.src[i] != '\r' { // a lone CR ends a comment too
				i++
			}
		default:
			i++
		}
	}
	return len(c.src)
}

// skipSpace skips white space, line breaks and comments: what may stand
// between a node's tag and its content.
func (c *yamlConverter) skipSpace(i int) int {
	for i < len(c.src) {
		switch {
		case isYAMLSpace(c.src[i]):
			i++
		case c.src[i] == '#' && i > 0 && isYAMLSpace(c.src[i-1]):
			for i < len(c.src) && c.src[i] != '\n' && c.src[i] != '\r' {
				i++
			}
		default:
			return i
		}
	}
	return i
}

// afterColon returns the offset just after the ':' that follows a key ending
// at i.
func (c *yamlConverter) afterColon(i int) int {
	for i < len(c.src) && (c.src[i] == ' ' || c.src[i] == '\t') {
		i++
	}
	if i < len(c.src) && c.src[i] == ':' {
		i++
	}
	return i
}

func (c *yamlConverter) endDoubleQuoted(i int) int {
	for j := i + 1; j < len(c.src); j++ {
		switch c.src[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(c.src)
}

func (c *yamlConverter) endSingleQuoted(i int) int {
	for j := i + 1; j < len(c.src); j++ {
		if c.src[j] == '\'' {
			if j+1 < len(c.src) && c.src[j+1] == '\'' {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(c.src)
}

// endBlockScalar finds the end of a literal or folded block scalar whose
// indicator (| or >) is at i: the end of the last non-blank line that is
// indented at least as far as the first content line.
func (c *yamlConverter) endBlockScalar(i int) int {
	line := c.lines.LineOf(i)
	end := c.lines.LineEnd(line)
	indent := -1
	for l := line + 1; l < c.lines.Count(); l++ {
		s, e := c.lines.LineStart(l), c.lines.LineEnd(l)
		ind := 0
		for s+ind < e && c.src[s+ind] == ' ' {
			ind++
		}
		if s+ind == e || (s+ind < e && c.src[s+ind] == '\r') { // blank line
			continue
		}
		if indent < 0 {
			indent = ind
			if ind <= c.lines.Indent(i) && c.lines.Indent(i) > 0 {
				break
			}
		}
		if ind < indent {
			break
		}
		end = e
	}
	return end
}

// endPlain finds the end of a plain scalar starting at i whose folded value is
// v, tolerating the line folding of multi-line plain scalars.
func (c *yamlConverter) endPlain(i int, v string) int {
	j := 0
	for j < len(v) && i < len(c.src) {
		if v[j] == c.src[i] {
			i++
			j++
			continue
		}
		if v[j] == ' ' || v[j] == '\n' {
			k := i
			for k < len(c.src) && isYAMLSpace(c.src[k]) {
				k++
			}
			if k == i {
				break
			}
			i = k
			for j < len(v) && (v[j] == ' ' || v[j] == '\n') {
				j++
			}
			continue
		}
		break
	}
	return i
}

func isYAMLSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }
