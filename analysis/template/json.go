package template

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds nesting in JSON documents (yaml.v3 applies the same bound to
// YAML), so that hostile input cannot exhaust the stack.
const maxDepth = 10000

// jsonParser is a small recursive-descent JSON parser that keeps the byte span
// of every value. encoding/json cannot report spans for values, and yaml.v3
// rejects valid JSON escapes such as \/ and surrogate pairs.
type jsonParser struct {
	src      []byte
	lines    *Lines
	i        int
	depth    int
	problems []Problem
	alloc    *allocator // holds every node of the tree
	// When lines is nil (an incremental re-parse reads an entry before it
	// updates the line index), lineBase is the 0-based line of offset
	// lineBaseOff, and line numbers are counted from there.
	lineBase, lineBaseOff int
	// synced, when set, is asked before each member of an object after
	// the first whether the parse has caught up with the text before an
	// edit (jsonbroken.go); it then stops with jsonSynced.
	synced func(object *Node) bool
}

type jsonError struct {
	at  int
	msg string
}

// parseJSON parses src, a JSON document, allocating its nodes from alloc.
func parseJSON(src []byte, lines *Lines, alloc *allocator) (root *Node, problems []Problem) {
	p := &jsonParser{src: src, lines: lines, alloc: alloc}
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(jsonError)
			if !ok {
				panic(r)
			}
			root, problems = nil, append(p.problems, e.problem(src, lines))
		}
	}()
	if len(src) >= 3 && src[0] == 0xEF && src[1] == 0xBB && src[2] == 0xBF {
		p.i = 3
	}
	p.ws()
	if p.i == len(src) {
		return nil, nil
	}
	root = p.value()
	p.ws()
	if p.i < len(src) {
		p.fail("unexpected %s after the end of the document", p.describe())
	}
	return root, p.problems
}

// problem is the syntax problem of the error e in src.
func (e jsonError) problem(src []byte, lines *Lines) Problem {
	at := min(e.at, len(src))
	pos := lines.Position(at)
	return Problem{Code: ProblemSyntax, Span: Span{at, min(e.at+1, len(src))},
		Message: fmt.Sprintf("JSON syntax error at line %d, column %d: %s", pos.Line, pos.Column, e.msg)}
}

// line returns the 1-based line of offset off, as p.lines.Position would.
func (p *jsonParser) line(off int) int {
	return lineOf(p.src, p.lines, p.lineBase, p.lineBaseOff, off)
}

// node returns a new node from the allocator, set to n.
func (p *jsonParser) node(n Node) *Node {
	out := p.alloc.node()
	*out = n
	return out
}

func (p *jsonParser) fail(format string, args ...any) {
	panic(jsonError{p.i, fmt.Sprintf(format, args...)})
}

func (p *jsonParser) describe() string {
	if p.i >= len(p.src) {
		return "end of file"
	}
	r, _ := utf8.DecodeRune(p.src[p.i:])
	return strconv.QuoteRune(r)
}

func (p *jsonParser) ws() {
	for p.i < len(p.src) {
		switch p.src[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value() *Node {
	if p.i >= len(p.src) {
		p.fail("unexpected end of file: a value was expected")
	}
	switch b := p.src[p.i]; {
	case b == '{':
		return p.object()
	case b == '[':
		return p.array()
	case b == '"':
		return p.string()
	case b == '-' || (b >= '0' && b <= '9'):
		return p.number()
	case b == 't':
		return p.literal("true", Bool)
	case b == 'f':
		return p.literal("false", Bool)
	case b == 'n':
		n := p.literal("null", NullScalar)
		n.Kind = Null
		return n
	}
	p.fail("unexpected %s: a value was expected", p.describe())
	return nil
}

func (p *jsonParser) enter() {
	p.depth++
	if p.depth > maxDepth {
		p.fail("nesting deeper than %d levels", maxDepth)
	}
}

func (p *jsonParser) object() *Node {
	p.enter()
	defer func() { p.depth-- }()
	n := p.node(Node{Kind: Mapping, Flow: true, Span: Span{Start: p.i}})
	p.i++
	p.ws()
	if p.i < len(p.src) && p.src[p.i] == '}' {
		p.i++
		n.End = p.i
		return n
	}
	p.members(n, nil)
	return p.alloc.longForm(n)
}

// members reads the members of the object n, from the one at p.i to the
// closing brace, which it consumes; seen holds the keys of the members
// before (nil for none), for the duplicates. A re-read of a broken
// document resumes an object with it (jsonbroken.go).
func (p *jsonParser) members(n *Node, seen map[string]*Node) {
	for first := true; ; first = false {
		p.ws()
		if !first && p.synced != nil && p.synced(n) {
			panic(jsonSynced{})
		}
		pr := p.member()
		key := pr.Key
		if seen == nil {
			seen = map[string]*Node{}
		}
		if first, dup := seen[key.Value]; dup {
			fl := p.line(first.Start)
			p.problems = append(p.problems, Problem{Code: ProblemDuplicateKey, Span: key.Span,
				Message: fmt.Sprintf("duplicate key %q (first defined on line %d): CloudFormation rejects templates with duplicate keys", key.Value, fl)})
		} else {
			seen[key.Value] = key
		}
		n.Pairs = append(n.Pairs, pr)
		if p.closes(n) {
			return
		}
	}
}

// closes reads what follows a member of the object n: a comma, after which
// it reports false, or the closing brace, which it consumes, reporting
// true.
func (p *jsonParser) closes(n *Node) bool {
	p.ws()
	if p.i >= len(p.src) {
		p.fail("unexpected end of file: '}' was expected to close the object opened at line %d", p.line(n.Start))
	}
	switch p.src[p.i] {
	case ',':
		p.i++
		return false
	case '}':
		p.i++
		n.End = p.i
		return true
	}
	p.fail("unexpected %s: ',' or '}' was expected", p.describe())
	return false
}

// member reads one member of an object, `"key": value`, from its key's
// opening quote to the end of its value. Reparse reads an edited entry
// with it.
func (p *jsonParser) member() *Pair {
	if p.i >= len(p.src) || p.src[p.i] != '"' {
		p.fail("unexpected %s: a quoted key was expected", p.describe())
	}
	key := p.string()
	p.ws()
	if p.i >= len(p.src) || p.src[p.i] != ':' {
		p.fail("unexpected %s: ':' was expected after key %q", p.describe(), key.Value)
	}
	p.i++
	p.ws()
	pr := p.alloc.pair()
	pr.Key, pr.Value = key, p.value()
	return pr
}

func (p *jsonParser) array() *Node {
	p.enter()
	defer func() { p.depth-- }()
	n := p.node(Node{Kind: Sequence, Flow: true, Span: Span{Start: p.i}})
	p.i++
	p.ws()
	if p.i < len(p.src) && p.src[p.i] == ']' {
		p.i++
		n.End = p.i
		return n
	}
	for {
		p.ws()
		n.Items = append(n.Items, p.value())
		p.ws()
		if p.i >= len(p.src) {
			p.fail("unexpected end of file: ']' was expected to close the array opened at line %d", p.line(n.Start))
		}
		switch p.src[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			n.End = p.i
			return n
		default:
			p.fail("unexpected %s: ',' or ']' was expected", p.describe())
		}
	}
}

func (p *jsonParser) literal(word string, t ScalarType) *Node {
	start := p.i
	if len(p.src)-p.i < len(word) || string(p.src[p.i:p.i+len(word)]) != word {
		p.fail("unexpected %s: a value was expected", p.describe())
	}
	p.i += len(word)
	return p.node(Node{Kind: Scalar, ScalarType: t, Value: word, Span: Span{start, p.i}, ValueSpan: Span{start, p.i}})
}

func (p *jsonParser) number() *Node {
	start := p.i
	if p.src[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		s := p.i
		for p.i < len(p.src) && p.src[p.i] >= '0' && p.src[p.i] <= '9' {
			p.i++
		}
		return p.i - s
	}
	if digits() == 0 {
		p.fail("malformed number")
	}
	if p.i < len(p.src) && p.src[p.i] == '.' {
		p.i++
		if digits() == 0 {
			p.fail("malformed number: digits expected after '.'")
		}
	}
	if p.i < len(p.src) && (p.src[p.i] == 'e' || p.src[p.i] == 'E') {
		p.i++
		if p.i < len(p.src) && (p.src[p.i] == '+' || p.src[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			p.fail("malformed number: digits expected in the exponent")
		}
	}
	s := Span{start, p.i}
	return p.node(Node{Kind: Scalar, ScalarType: Number, Value: string(p.src[start:p.i]), Span: s, ValueSpan: s})
}

func (p *jsonParser) string() *Node {
	start := p.i
	p.i++ // opening quote
	var buf []byte
	plainFrom := p.i
	for {
		if p.i >= len(p.src) {
			p.i = start
			p.fail("unterminated string")
		}
		b := p.src[p.i]
		switch {
		case b == '"':
			var v string
			if buf == nil {
				v = string(p.src[plainFrom:p.i])
			} else {
				v = string(append(buf, p.src[plainFrom:p.i]...))
			}
			p.i++
			return p.node(Node{Kind: Scalar, Quoted: true, Value: v, Span: Span{start, p.i}, ValueSpan: Span{start + 1, p.i - 1}})
		case b == '\\':
			buf = append(buf, p.src[plainFrom:p.i]...)
			p.i++
			if p.i >= len(p.src) {
				p.fail("unterminated string")
			}
			switch e := p.src[p.i]; e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r := p.hex4()
				if utf16.IsSurrogate(r) {
					if p.i+2 < len(p.src) && p.src[p.i+1] == '\\' && p.src[p.i+2] == 'u' {
						save := p.i
						p.i += 2
						r2 := p.hex4()
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							r = dec
						} else {
							p.i = save
							r = utf8.RuneError
						}
					} else {
						r = utf8.RuneError
					}
				}
				buf = utf8.AppendRune(buf, r)
			default:
				p.fail("invalid escape \\%c in string", e)
			}
			p.i++
			plainFrom = p.i
		case b < 0x20:
			p.fail("control character %q in string: it must be escaped", rune(b))
		default:
			p.i++
		}
	}
}

// hex4 reads the four hex digits after \u; p.i is on the 'u' and is left on
// the last digit.
func (p *jsonParser) hex4() rune {
	if p.i+4 >= len(p.src) {
		p.fail("truncated \\u escape")
	}
	v, err := strconv.ParseUint(string(p.src[p.i+1:p.i+5]), 16, 16)
	if err != nil {
		p.fail("invalid \\u escape")
	}
	p.i += 4
	return rune(v)
}
