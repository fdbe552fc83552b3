package template

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// The fast YAML path reads the YAML that CloudFormation templates are made
// of (block and flow collections, plain, quoted and block scalars, short-form
// tags, comments) straight into Nodes, in one pass over the bytes, with exact
// spans by construction. yaml.v3 builds a tree of its own that the converter
// in yaml.go then walks again, re-scanning the source for every end offset;
// skipping both costs a fraction of yaml.v3's parse alone.
//
// The fast path is an optimisation, never a second dialect: it gives up
// (returns ok == false) on anything it does not handle exactly as yaml.v3 does
// (anchors, aliases, complex keys, multi-line plain or quoted scalars,
// directives, several documents, explicit indentation indicators, any syntax
// error), and the caller then parses with yaml.v3. FuzzYAMLFastPath holds the
// two paths to the same model, spans and problems included.

// maxFastDepth bounds the nesting the fast path reads; templates nest a few
// dozen levels at most.
const maxFastDepth = 512

// bail is the panic value that abandons the fast path.
type bail struct{}

type fastParser struct {
	src      []byte
	lines    *Lines
	alloc    *allocator
	problems []Problem
	flow     int // depth of flow collections around the current position
	flowMin  int // lines inside the outermost flow collection must be indented beyond this
	depth    int // nesting of collections, bounded so that recursion stays shallow
	types    map[string]ScalarType
	// When lines is nil (Reparse reads the edited entries before it
	// updates the line index), lineBase is the 0-based line of offset
	// lineBaseOff, and line numbers are counted from there.
	lineBase, lineBaseOff int
}

// parseYAMLFast parses src with the fast path. ok is false when the document
// needs yaml.v3.
func parseYAMLFast(src []byte, lines *Lines, alloc *allocator) (root *Node, problems []Problem, ok bool) {
	p := &fastParser{src: src, lines: lines, alloc: alloc}
	defer func() {
		if v := recover(); v != nil {
			if _, isBail := v.(bail); !isBail {
				panic(v)
			}
			root, problems, ok = nil, nil, false
		}
	}()
	root = p.document()
	return root, p.problems, true
}

func (p *fastParser) bail() { panic(bail{}) }

// line returns the 1-based line of offset off, as p.lines.Position would.
func (p *fastParser) line(off int) int {
	return lineOf(p.src, p.lines, p.lineBase, p.lineBaseOff, off)
}

// hasLineBreak reports whether b holds a line break.
func hasLineBreak(b []byte) bool {
	for _, c := range b {
		if c == '\n' || c == '\r' {
			return true
		}
	}
	return false
}

// document parses the single document of a template.
func (p *fastParser) document() *Node {
	i := 0
	if len(p.src) >= 3 && p.src[0] == 0xEF && p.src[1] == 0xBB && p.src[2] == 0xBF {
		i = 3
	}
	if !printable(p.src[i:]) {
		p.bail()
	}
	i = p.skipBlank(i)
	if i >= len(p.src) {
		return nil
	}
	if p.src[i] == '%' {
		p.bail()
	}
	if p.isDocMarker(i, '-') {
		i = p.restOfLine(i + 3)
		i = p.skipBlank(i)
		if i >= len(p.src) {
			p.bail() // an explicit empty document
		}
	}
	if p.indentAt(i) != 0 {
		p.bail()
	}
	root, end := p.blockNode(i, -1, false)
	if p.skipBlank(end) < len(p.src) {
		p.bail() // a second document, `...`, or text yaml.v3 rejects
	}
	return root
}

// printable reports whether src holds only the characters YAML allows
// unescaped (tab, line breaks and printable Unicode), and no NEL, line or
// paragraph separator or stray BOM, which yaml.v3 treats specially.
func printable(src []byte) bool {
	for i := 0; i < len(src); {
		b := src[i]
		if b < utf8.RuneSelf {
			if b < 0x20 && b != '\t' && b != '\n' && b != '\r' || b == 0x7F {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && size == 1 || r >= 0x80 && r <= 0x9F || r == 0x2028 || r == 0x2029 || r == 0xFEFF || r == 0xFFFE || r == 0xFFFF {
			return false
		}
		i += size
	}
	return true
}

// isDocMarker reports whether a `---` or `...` marker starts the line at i.
func (p *fastParser) isDocMarker(i int, c byte) bool {
	if p.lineStart(i) != i || i+3 > len(p.src) || p.src[i] != c || p.src[i+1] != c || p.src[i+2] != c {
		return false
	}
	return i+3 == len(p.src) || isYAMLSpace(p.src[i+3])
}

// skipBlank skips spaces, line breaks and comments from i and returns the
// offset of the next content byte (or len(src)). A tab is allowed only after
// a line's indentation has been established by a non-space byte, so tabs in
// indentation give up.
func (p *fastParser) skipBlank(i int) int {
	atLineStart := i == 0 || p.src[i-1] == '\n' || p.src[i-1] == '\r'
	for i < len(p.src) {
		switch p.src[i] {
		case ' ':
			i++
		case '\t':
			if atLineStart {
				// Tabs before content on a line: yaml.v3 rejects them in
				// indentation but accepts them on blank lines; give up.
				p.bail()
			}
			i++
		case '\n', '\r':
			i++
			atLineStart = true
		case '#':
			if i > 0 && !isYAMLSpace(p.src[i-1]) {
				return i
			}
			for i < len(p.src) && p.src[i] != '\n' && p.src[i] != '\r' {
				i++
			}
		default:
			return i
		}
	}
	return i
}

// restOfLine requires that only spaces and a comment follow i on its line and
// returns the offset of the line break (or len(src)).
func (p *fastParser) restOfLine(i int) int {
	for i < len(p.src) && (p.src[i] == ' ' || p.src[i] == '\t') {
		i++
	}
	if i < len(p.src) && p.src[i] == '#' {
		if i > 0 && !isYAMLSpace(p.src[i-1]) {
			p.bail()
		}
		for i < len(p.src) && p.src[i] != '\n' && p.src[i] != '\r' {
			i++
		}
	}
	if i < len(p.src) && p.src[i] != '\n' && p.src[i] != '\r' {
		p.bail()
	}
	return i
}

func (p *fastParser) lineStart(i int) int {
	for i > 0 && p.src[i-1] != '\n' && p.src[i-1] != '\r' {
		i--
	}
	return i
}

// lineIndent returns the number of spaces that begin the line holding i.
func (p *fastParser) lineIndent(i int) int {
	s := p.lineStart(i)
	n := 0
	for s+n < len(p.src) && p.src[s+n] == ' ' {
		n++
	}
	return n
}

// indentAt returns the column of offset i on its line, in bytes. Only spaces
// (and the ASCII of `- ` indicators) precede block content in the cases the
// fast path accepts, so bytes are characters here.
func (p *fastParser) indentAt(i int) int {
	s := p.lineStart(i)
	if s == 0 && len(p.src) >= 3 && p.src[0] == 0xEF && p.src[1] == 0xBB && p.src[2] == 0xBF {
		s = 3
	}
	for j := s; j < i; j++ {
		if p.src[j] >= utf8.RuneSelf {
			p.bail()
		}
	}
	return i - s
}

// indicatorsOnlyBefore reports whether only indentation and `- ` sequence
// indicators precede i on its line: where a block mapping or sequence may
// start (`Key: a: b` and `Key: - a` are errors).
func (p *fastParser) indicatorsOnlyBefore(i int) bool {
	s := p.lineStart(i)
	if s == 0 && len(p.src) >= 3 && p.src[0] == 0xEF && p.src[1] == 0xBB && p.src[2] == 0xBF {
		s = 3
	}
	for j := s; j < i; j++ {
		switch p.src[j] {
		case ' ':
		case '-':
			if p.src[j+1] != ' ' {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// blockNode parses the node that starts at or after i, in block context,
// as the value of a parent whose indentation is parent (the key's column, the
// dash's column, -1 for the document). i is just after the parent's
// indicator (`key:` or `- `), or the start of the document. indentlessSeq
// allows a block sequence at the parent's own column (a mapping's value).
// It returns the node and the offset just after it.
func (p *fastParser) blockNode(i, parent int, indentlessSeq bool) (*Node, int) {
	if p.depth++; p.depth > maxFastDepth {
		p.bail() // yaml.v3 applies its own, larger limit and reports it
	}
	defer func() { p.depth-- }()
	for i < len(p.src) && p.src[i] == ' ' {
		i++
	}
	var tagSpan Span
	if i < len(p.src) && p.src[i] == '!' {
		tagSpan = p.tag(i)
		i = tagSpan.End
		for i < len(p.src) && p.src[i] == ' ' {
			i++
		}
	}
	// The value starts on a later line, or is empty.
	if i >= len(p.src) || p.src[i] == '\n' || p.src[i] == '\r' || p.src[i] == '#' {
		i = p.restOfLine(i)
		j := p.skipBlank(i)
		if j < len(p.src) {
			ind := p.indentAt(j)
			if ind > parent || (indentlessSeq && ind == parent && p.isSeqIndicator(j)) {
				if p.isDocMarker(j, '-') || p.isDocMarker(j, '.') {
					p.bail()
				}
				if p.src[j] == '!' && tagSpan.End == 0 {
					return p.blockNode(j, parent, indentlessSeq) // a tag at the start of a later line
				}
				n, end := p.blockContent(j, parent, ind)
				return p.tagged(tagSpan, n), end
			}
		}
		if tagSpan.End > 0 {
			// `!GetAZs` alone: a tagged empty string.
			n := p.alloc.node()
			*n = Node{Kind: Scalar, Span: Span{tagSpan.End, tagSpan.End}, ValueSpan: Span{tagSpan.End, tagSpan.End}}
			return p.tagged(tagSpan, n), tagSpan.End
		}
		// An empty value.
		if parent < 0 {
			p.bail()
		}
		n := p.alloc.node()
		*n = Node{Kind: Null, ScalarType: NullScalar, Span: Span{i, i}, ValueSpan: Span{i, i}}
		n.Start, n.End = -1, -1 // placed by the caller, after its indicator
		return n, i
	}
	n, end := p.blockContent(i, parent, p.indentAt(i))
	return p.tagged(tagSpan, n), end
}

// blockContent parses a node whose first byte is at i, in block context, at
// column col.
func (p *fastParser) blockContent(i, parent, col int) (*Node, int) {
	if col <= parent && !p.isSeqIndicator(i) {
		p.bail()
	}
	switch c := p.src[i]; c {
	case '&', '*', '?', '%', '@', '`', '!':
		// `!` here is a second tag (`!A !B x`) or a tag on a line of its own.
		p.bail()
	case '[', '{':
		p.flowMin = parent
		n, end := p.flowCollection(i)
		end = p.afterInlineValue(end, parent)
		return n, end
	case '|', '>':
		return p.blockScalar(i, parent)
	case '-':
		if p.isSeqIndicator(i) {
			if !p.indicatorsOnlyBefore(i) {
				p.bail()
			}
			return p.blockSequence(i, col)
		}
	}
	// A scalar, or the first key of a block mapping.
	key, end := p.inlineScalar(i)
	if j := p.skipSpaces(end); j < len(p.src) && p.src[j] == ':' && (j+1 == len(p.src) || isYAMLSpace(p.src[j+1])) {
		if j != end || !p.indicatorsOnlyBefore(i) {
			// `key :` is valid YAML, but rare enough to leave to yaml.v3;
			// a mapping after `key:` on the same line is an error.
			p.bail()
		}
		return p.blockMapping(key, j, col)
	}
	end = p.afterInlineValue(end, parent)
	return key, end
}

// afterInlineValue checks what follows a value that ends at i on its line: a
// comment or the end of the line, and no continuation on the next lines
// (multi-line plain scalars are left to yaml.v3). It returns i.
func (p *fastParser) afterInlineValue(i, parent int) int {
	e := p.restOfLine(i)
	j := p.skipBlank(e)
	if j < len(p.src) && p.indentAt(j) > parent {
		p.bail()
	}
	return i
}

func (p *fastParser) isSeqIndicator(i int) bool {
	return i < len(p.src) && p.src[i] == '-' && (i+1 == len(p.src) || isYAMLSpace(p.src[i+1]))
}

func (p *fastParser) skipSpaces(i int) int {
	for i < len(p.src) && p.src[i] == ' ' {
		i++
	}
	return i
}

// nextLine returns the offset of the next content on a following line and
// its column, or len(src) and -1.
func (p *fastParser) nextLine(i int) (int, int) {
	i = p.restOfLine(i)
	j := p.skipBlank(i)
	if j >= len(p.src) {
		return j, -1
	}
	if p.isDocMarker(j, '-') || p.isDocMarker(j, '.') {
		p.bail()
	}
	return j, p.indentAt(j)
}

// blockMapping parses a block mapping at column col whose first key has been
// read and whose ':' is at colon.
func (p *fastParser) blockMapping(first *Node, colon, col int) (*Node, int) {
	m := p.alloc.node()
	m.Kind = Mapping
	m.Pairs = make([]*Pair, 0, 4)
	end, _ := p.blockPairs(m, first, colon, col)
	m.Span = Span{first.Start, end}
	return p.alloc.longForm(m), end
}

// blockPairs reads the pairs of a block mapping at column col into m, from
// the key first, whose ':' is at colon, to the first line at a smaller
// column or the end of the text. It returns the end of the pairs and the
// offset of that line's content (len(src) at the end of the text). Reparse
// reads a run of a section's entries with it.
func (p *fastParser) blockPairs(m, first *Node, colon, col int) (end, next int) {
	var seen map[string]*Node
	key := first
	end = colon + 1
	for {
		p.checkKey(key)
		val, vend := p.blockNode(colon+1, col, true)
		if val.Start < 0 {
			val.Start, val.End = colon+1, colon+1
			val.ValueSpan = val.Span
		}
		seen = p.addPair(m, seen, key, val)
		end = max(end, val.End, key.End)
		j, ind := p.nextLine(vend)
		if ind < col {
			return end, j
		}
		if ind > col {
			p.bail()
		}
		key, colon = p.blockKey(j)
	}
}

// blockKey reads the key of a block mapping's pair that starts at j, and
// returns it with the offset of its ':'. `key :` is valid YAML, but rare
// enough to leave to yaml.v3.
func (p *fastParser) blockKey(j int) (*Node, int) {
	switch p.src[j] {
	case '&', '*', '?', '!', '[', '{', '|', '>', '%', '@', '`', '-':
		p.bail()
	}
	key, kend := p.inlineScalar(j)
	if kend >= len(p.src) || p.src[kend] != ':' || !(kend+1 == len(p.src) || isYAMLSpace(p.src[kend+1])) {
		p.bail()
	}
	return key, kend
}

// checkKey gives up on keys the converter treats specially.
func (p *fastParser) checkKey(k *Node) {
	if k.Kind != Scalar && k.Kind != Null {
		p.bail()
	}
	if k.Kind == Null {
		// `~:` or `null:` keys: rare, and yaml.v3 decides.
		p.bail()
	}
	if k.Value == "<<" && !k.Quoted {
		p.bail()
	}
	if k.End-k.Start > 1024 {
		p.bail()
	}
}

// addPair appends key: val to the mapping m, reporting key when m already
// has it. Small mappings are searched; from 32 pairs on, seen indexes the
// first occurrence of each key (addPair creates it and returns it).
func (p *fastParser) addPair(m *Node, seen map[string]*Node, key, val *Node) map[string]*Node {
	if seen == nil && len(m.Pairs) >= 32 {
		seen = make(map[string]*Node, 64)
		for _, pr := range m.Pairs {
			if seen[pr.Key.Value] == nil {
				seen[pr.Key.Value] = pr.Key
			}
		}
	}
	var first *Node
	if seen != nil {
		if first = seen[key.Value]; first == nil {
			seen[key.Value] = key
		}
	} else {
		for _, pr := range m.Pairs {
			if pr.Key.Value == key.Value {
				first = pr.Key
				break
			}
		}
	}
	if first != nil {
		fl := p.line(first.Start)
		p.problems = append(p.problems, Problem{Code: ProblemDuplicateKey, Span: key.Span,
			Message: fmt.Sprintf("duplicate key %q (first defined on line %d): CloudFormation rejects templates with duplicate keys", key.Value, fl)})
	}
	pair := p.alloc.pair()
	pair.Key, pair.Value = key, val
	m.Pairs = append(m.Pairs, pair)
	return seen
}

// blockSequence parses a block sequence whose first `-` is at i, column col.
func (p *fastParser) blockSequence(i, col int) (*Node, int) {
	s := p.alloc.node()
	s.Kind = Sequence
	s.Items = make([]*Node, 0, 4)
	first, end := i, i
	for {
		item, iend := p.blockNode(i+1, col, false)
		if item.Start < 0 {
			p.bail() // an empty item
		}
		s.Items = append(s.Items, item)
		end = max(end, item.End)
		j, ind := p.nextLine(iend)
		if ind > col {
			p.bail()
		}
		if ind < col || !p.isSeqIndicator(j) {
			break
		}
		i = j
	}
	s.Span = Span{first, end}
	return s, end
}

// tag reads a short tag at i (`!Ref`, `!Rain::Embed`) and returns its span.
func (p *fastParser) tag(i int) Span {
	j := i + 1
	if j < len(p.src) && (p.src[j] == '!' || p.src[j] == '<') {
		p.bail() // !!str, !<verbatim>: leave to yaml.v3
	}
	for j < len(p.src) && !isYAMLSpace(p.src[j]) && p.src[j] != ',' && p.src[j] != ']' && p.src[j] != '}' && p.src[j] != '[' && p.src[j] != '{' {
		c := p.src[j]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ':' || c == '-' || c == '_' || c == '.') {
			p.bail()
		}
		j++
	}
	if j == i+1 || j < len(p.src) && !isYAMLSpace(p.src[j]) {
		p.bail() // a lone `!`, or a tag run into what follows (`!0[]`)
	}
	return Span{i, j}
}

// tagged wraps n in the call its short tag names, as the converter does.
func (p *fastParser) tagged(tagSpan Span, n *Node) *Node {
	// A node is in flow context when a flow collection encloses it (a flow
	// collection itself only when another one encloses it).
	n.InFlow = p.flow > 0
	if tagSpan.End == 0 {
		return n
	}
	if n.Kind == Null || n.Kind == Scalar {
		// A tag decides a scalar's type: `!Ref 80` and `!Sub ~` are strings.
		n.Kind, n.ScalarType = Scalar, String
	}
	tag := string(p.src[tagSpan.Start:tagSpan.End])
	fn, known := shortTagFunction(tag)
	if !known {
		p.problems = append(p.problems, Problem{Code: ProblemUnknownTag, Span: tagSpan,
			Message: fmt.Sprintf("unknown tag %s: CloudFormation only understands the short forms of its intrinsic functions; a preprocessor (rain, a macro) must expand it before deployment", tag)})
	}
	call := p.alloc.node()
	*call = Node{Kind: Intrinsic, Span: Span{tagSpan.Start, n.End}, Fn: fn, Arg: n, Short: true, FnSpan: tagSpan, Flow: n.Flow, InFlow: n.InFlow}
	return call
}

// inlineScalar reads a plain or quoted scalar that starts at i and ends on
// the same line.
func (p *fastParser) inlineScalar(i int) (*Node, int) {
	if i >= len(p.src) {
		p.bail()
	}
	switch p.src[i] {
	case '"':
		return p.doubleQuoted(i)
	case '\'':
		return p.singleQuoted(i)
	}
	return p.plain(i)
}

// plain reads a single-line plain scalar at i. In block context it ends at
// `: `, ` #` or the end of the line; in flow context also at `,[]{}`.
func (p *fastParser) plain(i int) (*Node, int) {
	c := p.src[i]
	switch c {
	case ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		p.bail()
	case '-', '?', ':':
		if i+1 >= len(p.src) || isYAMLSpace(p.src[i+1]) || p.flow > 0 && (c != '-' || isFlowIndicator(p.src[i+1])) {
			p.bail() // indicators; yaml.v3 also refuses `?x` and `:x` in flow context
		}
	}
	j := i
	end := i
	for j < len(p.src) {
		b := p.src[j]
		if b == '\n' || b == '\r' {
			break
		}
		if b == ':' {
			if j+1 == len(p.src) || isYAMLSpace(p.src[j+1]) {
				break
			}
			if p.flow > 0 && isFlowIndicator(p.src[j+1]) {
				p.bail()
			}
		}
		if b == '#' && isYAMLSpace(p.src[j-1]) {
			break
		}
		if p.flow > 0 && isFlowIndicator(b) {
			break
		}
		if p.flow > 0 && b == '?' {
			// yaml.v3 (libyaml) ends a plain scalar at '?' in flow context,
			// unlike the YAML spec, and then rejects `{a?: b}`: its call
			// (found by FuzzYAMLFastPath).
			p.bail()
		}
		if b == '\t' {
			// Tabs inside plain scalars are fine for YAML, but whether a
			// trailing one belongs to the value is a detail to leave to yaml.v3.
			p.bail()
		}
		if b == 0xEF && j+2 < len(p.src) && p.src[j+1] == 0xBB && p.src[j+2] == 0xBF {
			p.bail() // a BOM inside the document
		}
		if b < 0x20 || b == 0x7F {
			p.bail()
		}
		j++
		if b != ' ' {
			end = j
		}
	}
	v := string(p.src[i:end])
	if strings.ContainsRune(v, '\u0085') || strings.ContainsRune(v, '\u2028') || strings.ContainsRune(v, '\u2029') || strings.ContainsRune(v, '\uFEFF') {
		p.bail() // Unicode line breaks and BOMs: yaml.v3's business
	}
	n := p.alloc.node()
	n.Kind, n.Value = Scalar, v
	n.Span, n.ValueSpan = Span{i, end}, Span{i, end}
	n.Kind, n.ScalarType = p.plainType(v)
	if p.flow > 0 {
		// A plain scalar may continue on the next line in flow context.
		k := p.skipBlankFlow(end)
		if k < len(p.src) && k > end && !isFlowIndicator(p.src[k]) && p.src[k] != ':' && hasLineBreak(p.src[end:k]) {
			p.bail()
		}
	}
	return n, end
}

func isFlowIndicator(b byte) bool { return b == ',' || b == '[' || b == ']' || b == '{' || b == '}' }

// plainType resolves a plain scalar as yaml.v3 does. Words that can only be
// strings are decided here; anything that may be a number, a timestamp or a
// special float goes through yaml.v3's own resolver once per distinct text.
func (p *fastParser) plainType(v string) (Kind, ScalarType) {
	switch v {
	case "", "~", "null", "Null", "NULL":
		return Null, NullScalar
	case "true", "True", "TRUE", "false", "False", "FALSE":
		return Scalar, Bool
	}
	c := v[0]
	if !(c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.') {
		return Scalar, String
	}
	if t, ok := p.types[v]; ok {
		return Scalar, t
	}
	if len(v) <= 18 && allDigits(v) {
		// What most numbers in templates are (ports, sizes, retention
		// days): yaml.v3 takes any run of digits for an int (octal with a
		// leading 0) or, failing that, a float, and never for a timestamp.
		// Asking it costs microseconds, which Reparse would pay for every
		// number of the entry it reads, its cache being new each time.
		return Scalar, Number
	}
	var doc yaml.Node
	t := String
	if err := yaml.Unmarshal([]byte(v), &doc); err == nil && len(doc.Content) == 1 && doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Value == v {
		switch doc.Content[0].ShortTag() {
		case "!!int", "!!float":
			t = Number
		case "!!bool":
			t = Bool
		case "!!null":
			p.bail()
		}
	} else {
		p.bail()
	}
	if p.types == nil {
		p.types = map[string]ScalarType{}
	}
	p.types[v] = t
	return Scalar, t
}

// allDigits reports whether s is made of ASCII digits only.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// doubleQuoted reads a single-line double-quoted scalar at i.
func (p *fastParser) doubleQuoted(i int) (*Node, int) {
	var b strings.Builder
	j := i + 1
	simple := true
	for {
		if j >= len(p.src) {
			p.bail()
		}
		c := p.src[j]
		if c == '"' {
			break
		}
		if c == '\n' || c == '\r' {
			p.bail() // multi-line: folded by yaml.v3
		}
		if c == '\\' {
			if simple {
				b.Write(p.src[i+1 : j])
				simple = false
			}
			j++
			if j >= len(p.src) {
				p.bail()
			}
			e := p.src[j]
			switch e {
			case '0':
				b.WriteByte(0)
			case 'a':
				b.WriteByte('\a')
			case 'b':
				b.WriteByte('\b')
			case 't', '\t':
				b.WriteByte('\t')
			case 'n':
				b.WriteByte('\n')
			case 'v':
				b.WriteByte('\v')
			case 'f':
				b.WriteByte('\f')
			case 'r':
				b.WriteByte('\r')
			case 'e':
				b.WriteByte(0x1b)
			case ' ', '"', '\\':
				// Not YAML 1.2's \/: yaml.v3 rejects it, so it goes there
				// with the escapes it is the judge of.
				b.WriteByte(e)
			case 'N':
				b.WriteString("\u0085")
			case '_':
				b.WriteString("\u00a0")
			case 'L':
				b.WriteString("\u2028")
			case 'P':
				b.WriteString("\u2029")
			case 'x', 'u', 'U':
				width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
				if j+width >= len(p.src) {
					p.bail()
				}
				r, err := strconv.ParseUint(string(p.src[j+1:j+1+width]), 16, 32)
				if err != nil || !utf8.ValidRune(rune(r)) {
					p.bail()
				}
				b.WriteRune(rune(r))
				j += width
			default:
				p.bail()
			}
			j++
			continue
		}
		if c < 0x20 && c != '\t' || c == 0x7F {
			p.bail()
		}
		if !simple {
			b.WriteByte(c)
		}
		j++
	}
	v := ""
	if simple {
		v = string(p.src[i+1 : j])
	} else {
		v = b.String()
	}
	if strings.ContainsRune(string(p.src[i+1:j]), '\uFEFF') {
		p.bail()
	}
	n := p.alloc.node()
	n.Kind, n.Value, n.Quoted = Scalar, v, true
	n.Span, n.ValueSpan = Span{i, j + 1}, Span{i + 1, j}
	return n, j + 1
}

// singleQuoted reads a single-line single-quoted scalar at i.
func (p *fastParser) singleQuoted(i int) (*Node, int) {
	j := i + 1
	escaped := false
	for {
		if j >= len(p.src) {
			p.bail()
		}
		c := p.src[j]
		if c == '\n' || c == '\r' {
			p.bail()
		}
		if c < 0x20 && c != '\t' || c == 0x7F {
			p.bail()
		}
		if c == '\'' {
			if j+1 < len(p.src) && p.src[j+1] == '\'' {
				escaped = true
				j += 2
				continue
			}
			break
		}
		j++
	}
	raw := string(p.src[i+1 : j])
	if strings.ContainsRune(raw, '\uFEFF') {
		p.bail()
	}
	v := raw
	if escaped {
		v = strings.ReplaceAll(raw, "''", "'")
	}
	n := p.alloc.node()
	n.Kind, n.Value, n.Quoted = Scalar, v, true
	n.Span, n.ValueSpan = Span{i, j + 1}, Span{i + 1, j}
	return n, j + 1
}

// blockScalar reads a literal (|) or folded (>) block scalar whose indicator
// is at i, as the value of a parent at column parent.
func (p *fastParser) blockScalar(i, parent int) (*Node, int) {
	if ind := p.lineIndent(i); ind > 0 && ind > parent {
		// The indicator (or its tag) begins a line of its own, more indented
		// than its parent: the converter measures the content against that
		// line's indentation, not the parent's, and ends the scalar early.
		// It goes there, so that both paths give one model.
		p.bail()
	}
	literal := p.src[i] == '|'
	j := i + 1
	chomp := byte(0)
	if j < len(p.src) && (p.src[j] == '-' || p.src[j] == '+') {
		chomp = p.src[j]
		j++
	}
	if j < len(p.src) && p.src[j] >= '0' && p.src[j] <= '9' {
		p.bail() // explicit indentation indicator
	}
	if j < len(p.src) && !isYAMLSpace(p.src[j]) && p.src[j] != '#' {
		p.bail()
	}
	lineEnd := p.restOfLine(j)
	// Content lines: the first non-blank line sets the indentation.
	type line struct{ start, end int } // content after the indentation
	var content []line
	indent := -1
	last := lineEnd // end of the last content line
	maxBlank := 0   // the most spaces on a blank line before the first content
	k := lineEnd
	for k < len(p.src) {
		// k is at a line break.
		if p.src[k] == '\r' && k+1 < len(p.src) && p.src[k+1] == '\n' {
			k++
		}
		k++
		if k == len(p.src) {
			break // the final line break ends the document: no line follows it
		}
		s := k
		for k < len(p.src) && p.src[k] == ' ' {
			k++
		}
		e := k
		for e < len(p.src) && p.src[e] != '\n' && p.src[e] != '\r' {
			e++
		}
		ind := k - s
		blank := k == e
		if !blank && p.src[k] == '\t' && (indent < 0 || ind < indent) {
			p.bail() // a tab where indentation is expected
		}
		if blank {
			if e == len(p.src) {
				if indent >= 0 && ind > indent {
					p.bail() // spaces past the indentation at the very end: content yaml.v3 keeps
				}
				break // spaces without a line break after them are no empty line
			}
			if indent < 0 {
				if !literal {
					p.bail() // leading blank lines of a folded scalar
				}
				maxBlank = max(maxBlank, ind)
			} else if ind > indent {
				p.bail() // spaces beyond the indentation are content
			}
			content = append(content, line{e, e})
			k = e
			continue
		}
		if indent < 0 {
			if ind <= parent || ind <= 0 {
				break
			}
			indent = ind
			if maxBlank > indent {
				p.bail()
			}
		}
		if ind < indent {
			break
		}
		if !literal && (ind > indent || p.src[k] == '\t') {
			p.bail() // more-indented lines of a folded scalar
		}
		content = append(content, line{s + indent, e})
		last = e
		k = e
	}
	if indent < 0 || last == len(p.src) {
		p.bail() // an empty block scalar, or one without a final line break
	}
	// Drop the trailing blank lines from the content; chomping decides what
	// they contribute.
	trailing := 0
	for len(content) > 0 && content[len(content)-1].start >= content[len(content)-1].end {
		content = content[:len(content)-1]
		trailing++
	}
	var b strings.Builder
	for idx, l := range content {
		text := p.src[l.start:l.end]
		if idx > 0 {
			prevBlank := content[idx-1].start >= content[idx-1].end
			switch {
			case literal:
				b.WriteByte('\n')
			case len(text) == 0:
				b.WriteByte('\n')
			case prevBlank:
				// The blank line(s) already wrote their breaks.
			default:
				b.WriteByte(' ')
			}
		}
		b.Write(text)
	}
	v := b.String()
	switch chomp {
	case '-':
	case '+':
		v += "\n" + strings.Repeat("\n", trailing)
	default:
		v += "\n"
	}
	if strings.ContainsAny(v, "\r") || strings.ContainsRune(v, '\uFEFF') || strings.ContainsRune(v, '\u0085') || strings.ContainsRune(v, '\u2028') || strings.ContainsRune(v, '\u2029') {
		p.bail()
	}
	for _, r := range v {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7F {
			p.bail()
		}
	}
	n := p.alloc.node()
	n.Kind, n.Value = Scalar, v
	n.Span, n.ValueSpan = Span{i, last}, Span{i, last}
	return n, last
}

// skipBlankFlow skips white space, line breaks and comments inside a flow
// collection.
func (p *fastParser) skipBlankFlow(i int) int {
	for i < len(p.src) {
		switch p.src[i] {
		case ' ':
			i++
		case '\n', '\r':
			i++
			k := i
			for k < len(p.src) && p.src[k] == ' ' {
				k++
			}
			if k < len(p.src) && p.src[k] != '\n' && p.src[k] != '\r' && k-i <= p.flowMin {
				p.bail() // a flow line not indented beyond its block
			}
		case '\t':
			p.bail()
		case '#':
			if !isYAMLSpace(p.src[i-1]) {
				return i
			}
			for i < len(p.src) && p.src[i] != '\n' && p.src[i] != '\r' {
				i++
			}
		default:
			return i
		}
	}
	return i
}

// flowCollection reads a flow sequence or mapping at i.
func (p *fastParser) flowCollection(i int) (*Node, int) {
	p.flow++
	if p.depth++; p.depth > maxFastDepth {
		p.bail()
	}
	defer func() { p.flow--; p.depth-- }()
	n := p.alloc.node()
	n.Flow = true
	closer := byte(']')
	if p.src[i] == '{' {
		closer = '}'
		n.Kind = Mapping
		n.Pairs = make([]*Pair, 0, 2)
	} else {
		n.Kind = Sequence
		n.Items = make([]*Node, 0, 4)
	}
	j := p.skipBlankFlow(i + 1)
	var seen map[string]*Node
	for {
		if j >= len(p.src) {
			p.bail()
		}
		if p.src[j] == closer {
			j++
			break
		}
		if n.Kind == Mapping {
			if p.src[j] == '?' || p.src[j] == '!' || p.src[j] == '[' || p.src[j] == '{' {
				p.bail()
			}
			key, kend := p.inlineScalar(j)
			key.InFlow = true
			p.checkKey(key)
			k := p.skipBlankFlow(kend)
			if k >= len(p.src) || p.src[k] != ':' {
				p.bail()
			}
			if k != kend || !key.Quoted && !(k+1 < len(p.src) && isYAMLSpace(p.src[k+1])) {
				p.bail()
			}
			k = p.skipBlankFlow(k + 1)
			if k < len(p.src) && (p.src[k] == ',' || p.src[k] == '}') {
				p.bail() // an empty value
			}
			val, vend := p.flowNode(k)
			seen = p.addPair(n, seen, key, val)
			j = vend
		} else {
			item, iend := p.flowNode(j)
			n.Items = append(n.Items, item)
			j = iend
		}
		j = p.skipBlankFlow(j)
		if j >= len(p.src) {
			p.bail()
		}
		switch p.src[j] {
		case ',':
			j = p.skipBlankFlow(j + 1)
			if j < len(p.src) && (p.src[j] == closer || p.src[j] == ',') {
				p.bail() // a trailing or doubled comma
			}
		case closer:
		default:
			p.bail() // `[a: b]` and other forms left to yaml.v3
		}
	}
	n.Span = Span{i, j}
	if n.Kind == Mapping {
		m := p.alloc.longForm(n)
		if m != n {
			return m, j
		}
	}
	return n, j
}

// flowNode reads one node inside a flow collection.
func (p *fastParser) flowNode(i int) (*Node, int) {
	if i >= len(p.src) {
		p.bail()
	}
	var tagSpan Span
	if p.src[i] == '!' {
		tagSpan = p.tag(i)
		i = p.skipBlankFlow(tagSpan.End)
		if i >= len(p.src) || isFlowIndicator(p.src[i]) && p.src[i] != '[' && p.src[i] != '{' {
			p.bail() // a tag with no value
		}
	}
	var n *Node
	var end int
	switch p.src[i] {
	case '[', '{':
		n, end = p.flowCollection(i)
		return p.tagged(tagSpan, n), end
	case '&', '*', '?', '|', '>', '!', '%', '@', '`':
		p.bail()
	}
	n, end = p.inlineScalar(i)
	return p.tagged(tagSpan, n), end
}
