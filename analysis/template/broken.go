package template

import (
	"errors"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"gopkg.in/yaml.v3"
)

// Syntax errors after an edit. When an edit leaves the document with a
// YAML syntax error, Parse runs the fast path, which gives up at the error,
// and then yaml.v3 up to the error, only to get its message: at 1 MB, an
// error in the middle costs a keystroke about as much as opening the file,
// for as long as the user has an unclosed `[` or quote. reparseBroken gets
// the same template from yaml.v3 fed a small synthetic document instead:
// one that puts yaml.v3 in the same state as the real text at the start
// of the edited entry's line B, on lines it can map back to the real ones,
// and then holds the real text from B to its end. yaml.v3 stops at the
// first error, so that the cost is the text from the edited entry to the
// error (plus a copy of the line index, which the new template needs).
// ReparseDelta and ReparseInPlace try it when planReparse gives up
// because the run's new text did not read (or the edit touches a
// section's key line), which is what a syntax error does.
//
// Why that gives Parse's error. The template before the edit was read by
// the fast path whole, without problems: its text is plain block YAML
// (no anchors, directives, document markers, tabs in indentation, ...),
// printable, and yaml.v3 parses it. B is the start of the line of the last
// entry (of the edit's section, at the entries' column c) whose key starts
// before the edit; or, when the edit is in no such entry, the line of the
// last root key (column 0) before the edit, if it is not the first one.
// Everything up to and including that key's first character X is the old
// text. In the real text, yaml.v3 reads what precedes B exactly as before
// (no construct there reaches past B: each ends at the line break before
// B, X being at column c), and when its scanner reaches X, the state that
// decides what follows is: the root's block mapping, whose start mark is
// the root's first key, the section's block mapping, whose start mark is
// the section's first entry, nothing open below them (the deeper
// indentation levels of the previous entry close at X, before X's token),
// no flow level, no required simple key pending, no anchor defined; and
// the parser, done with the previous entry's value but for those closing
// tokens, waits for a key (yaml.v3's scanner runs two tokens ahead of its
// parser, which it does the same way from X on in both documents). The
// synthetic document reaches X in that state: `A: x` on the line of the
// root's first key, `S:` on the section key's, `F: x` at column c on the
// first entry's (or the section key alone, when B is the first entry's
// line; `A: x` alone for a root key). From X on, both read the same bytes
// and report the same error. Comments before B differ, but yaml.v3 only
// attaches them to nodes. Its message is `yaml: line N: msg`, where N is
// the line of a mark (plus one for the scanner's errors), and the only
// marks from before B it can report are the start marks of the two
// mappings (the context of "while parsing a block mapping"): all the
// others (problem marks, the context of a scalar, a simple key, a flow
// collection, a node being scanned or parsed) lie at or after X. The
// synthetic document has fewer lines than the real one: each of its
// lines and the first line of the real text sit two lines after the
// previous one, so that a reported line names one of them (N = its line,
// or the next) and moves back by that one's offset (synthetic.realError).
// A mark on line 0 is no mark for yaml.v3 (it then reports the problem's
// line), so the synthetic root key is on line 0 exactly when the real one
// is.
//
// It gives up (Parse decides) unless every premise holds: the old
// template was read by the fast path whole, without problems, as a block
// mapping at column 0, and the new text stays YAML for sniffFormat; the
// edited lines are printable (so that yaml.v3's reader, which decodes
// ahead of the scanner in chunks, finds no bad byte anywhere: the rest is
// the old text, cut at line breaks); only blank lines and comments precede
// the root's first key (no `---`); B exists, as above; X is no indicator
// (`:`, `-`, `?`: its token could then depend on the bytes after it); the
// value before B does not end with an empty node (`Key:`, a lone tag),
// whose parse looks at X's token to know whether X is its value (X's
// token, a scalar at the mapping's column, is a required simple key, so
// that the scanner makes it a key or an error before the parser sees it;
// the premise is cheap to keep all the same). Then yaml.v3 reads the
// synthetic prefix and the edited lines (to the end of the entry, up to a
// bound, and the next line): if they parse, the edit is not where an error
// is (a new root key, an anchor or a multi-line scalar the fast path
// leaves to yaml.v3...) and Parse decides, without having paid for the
// rest of the document. Otherwise yaml.v3 reads the synthetic prefix and
// the real text to its end; if that parses, the edited lines' error was an
// artefact of the cut, and Parse decides too. A reported line that falls
// on none of the synthetic lines that can hold marks, a message that
// starts like `yaml: line N:` but does not parse, and a panic (yaml.v3's
// or ours) also give up. TestReparseBrokenMatchesParse,
// TestReparseBrokenCases and FuzzReparseBroken hold the result to Parse of
// the same text, and TestReparseBrokenIsLocal to its cost.

// brokenStats counts what reparseBroken did, for the tests: the edits it
// was asked about, those it answered, and the bytes of the real text it
// fed yaml.v3 (the edited lines and the text from B on).
var brokenStats struct {
	tries, hits, fed atomic.Int64
}

// maxRegionTail bounds how far past the edited lines the check of the
// edited region reads the lines of the same entry: it is a cheap signal,
// not the answer.
const maxRegionTail = 4 << 10

// reparseBroken returns the template of src, which is old.Source with the
// bytes [start, end) replaced by n bytes, when src has a YAML syntax error
// that it can place without parsing the whole document: then it equals
// Parse(old.Filename, src) (no tree, the one syntax problem). It returns
// nil when src may have no error or when it cannot tell cheaply; old is
// never modified.
func reparseBroken(old *Template, src []byte, start, end, n int) (t *Template) {
	brokenStats.tries.Add(1)
	defer func() {
		if recover() != nil {
			t = nil // a bug here: Parse decides, the session goes on
		}
	}()
	sp := syntheticPrefix(old, src, start, end, n)
	if sp == nil {
		return nil
	}
	if err, ok := sp.parse(src[sp.b:sp.regionEnd(src, start+n)]); !ok || err == nil {
		return nil
	}
	err, ok := sp.parse(src[sp.b:])
	if !ok || err == nil {
		return nil
	}
	if err, ok = sp.realError(err); !ok {
		return nil
	}
	lines := old.Lines.spliced(src, start, end, n)
	t = &Template{Filename: old.Filename, Format: YAML, Source: src, Lines: lines, shared: new(atomic.Bool),
		Problems: []Problem{yamlSyntaxProblem(err, lines)}}
	t.build()
	brokenStats.hits.Add(1)
	return t
}

// synthetic is the document yaml.v3 reads instead of the real text's
// beginning: prefix, then the real text from b.
type synthetic struct {
	prefix []byte
	b      int // where the real text the prefix stands for ends
	col    int // the column of the key at b
	// lines pairs the synthetic lines that hold marks with the real ones,
	// in order; the last is the first line of the real text, from b.
	lines []lineMap
}

// lineMap pairs a synthetic line with a real one (0-based).
type lineMap struct{ syn, real int }

// syntheticPrefix returns the synthetic prefix for the edit, or nil when a
// premise of reparseBroken's does not hold.
func syntheticPrefix(old *Template, src []byte, start, end, n int) *synthetic {
	root := old.Root
	if !old.fastYAML || old.Format != YAML || root == nil || root.Kind != Mapping || root.Flow || len(root.Pairs) == 0 ||
		len(old.Problems) > 0 || start < 0 || end < start || end > len(old.Source) || len(src) != len(old.Source)+n-(end-start) ||
		sniffFormat(old.Filename, src) != YAML {
		return nil
	}
	if !printable(src[lineStartOf(src, start):lineEnd(src, start+n)]) {
		return nil
	}
	first := root.Pairs[0].Key
	bom := 0
	if len(old.Source) >= 3 && old.Source[0] == 0xEF && old.Source[1] == 0xBB && old.Source[2] == 0xBF {
		bom = 3
	}
	if !onlyComments(old.Source[bom:max(bom, lineStartOf(old.Source, first.Start))]) {
		return nil // `---`
	}
	// The root's pair i holds the edit's start.
	i := sort.Search(len(root.Pairs), func(i int) bool { return root.Pairs[i].Key.Start >= start }) - 1
	if i < 0 {
		return nil
	}
	sp := &synthetic{prefix: make([]byte, 0, 64)}
	sp.prefix = append(sp.prefix, old.Source[:bom]...)
	lines := old.Lines
	var prev *Node // the value that ends before b, or nil for a section's key
	syn, cur := -1, 0
	place := func(off int, text string) bool {
		real := lines.LineOf(off)
		s := syn + 2
		if syn < 0 {
			s = min(real, 1)
		} else if real <= sp.lines[len(sp.lines)-1].real {
			return false
		}
		for ; cur < s; cur++ {
			sp.prefix = append(sp.prefix, '\n')
		}
		if text != "" {
			sp.prefix = append(append(sp.prefix, text...), '\n')
			cur++
		}
		sp.lines = append(sp.lines, lineMap{s, real})
		syn = s
		return true
	}
	ok := true
	if lv, isSection := sectionLevel(old.Source, root, i); isSection {
		if k := sort.Search(len(lv.pairs), func(k int) bool { return lv.pairs[k].Key.Start >= start }) - 1; k >= 0 {
			// After the key of the section's entry k: its line is b.
			sp.col = lv.col
			sp.b = lv.pairs[k].Key.Start - lv.col
			if i > 0 {
				ok = place(first.Start, "A: x")
			}
			ok = ok && place(root.Pairs[i].Key.Start, "S:")
			if k > 0 {
				prev = lv.pairs[k-1].Value
				ok = ok && place(lv.pairs[0].Key.Start, strings.Repeat(" ", lv.col)+"F: x")
			}
		}
	}
	if len(sp.lines) == 0 {
		// After the root's key i, which the synthetic text skips to,
		// unless it is the first.
		if i == 0 {
			return nil
		}
		sp.b = root.Pairs[i].Key.Start
		prev = root.Pairs[i-1].Value
		ok = place(first.Start, "A: x")
	}
	if !ok || sp.b <= 0 || columnOf(old.Source, sp.b+sp.col) != sp.col || sp.b+sp.col >= start {
		return nil
	}
	switch src[sp.b+sp.col] {
	case ':', '-', '?', ' ', '\t', '#', '\n', '\r':
		return nil
	}
	if prev != nil && endsEmpty(prev) {
		return nil
	}
	if !place(sp.b, "") {
		return nil
	}
	return sp
}

// onlyComments reports whether b holds only blank lines and comments.
func onlyComments(b []byte) bool {
	for i := 0; i < len(b); {
		for i < len(b) && b[i] == ' ' {
			i++
		}
		if i < len(b) && b[i] != '#' && b[i] != '\n' && b[i] != '\r' {
			return false
		}
		for i < len(b) && b[i] != '\n' && b[i] != '\r' {
			i++
		}
		for i < len(b) && (b[i] == '\n' || b[i] == '\r') {
			i++
		}
	}
	return true
}

// endsEmpty reports whether the last node of a value, in the order of the
// text, is empty (`Key:`, a tag alone): yaml.v3 decides what such a node
// is by the token that follows it. A flow collection ends with its
// bracket.
func endsEmpty(n *Node) bool {
	for n != nil {
		switch {
		case n.Flow:
			return false
		case n.Kind == Intrinsic:
			n = n.Arg
		case n.Kind == Mapping && len(n.Pairs) > 0:
			n = n.Pairs[len(n.Pairs)-1].Value
		case n.Kind == Sequence && len(n.Items) > 0:
			n = n.Items[len(n.Items)-1]
		default:
			return n.Start == n.End
		}
	}
	return true
}

// lineEnd returns the end of the line that holds off, before its break.
func lineEnd(src []byte, off int) int {
	for off < len(src) && src[off] != '\n' && src[off] != '\r' {
		off++
	}
	return off
}

// nextLine returns the start of the line after the one that holds off, or
// len(src).
func nextLine(src []byte, off int) int {
	off = lineEnd(src, off)
	if off < len(src) && src[off] == '\r' {
		off++
	}
	if off < len(src) && src[off] == '\n' {
		off++
	}
	return off
}

// regionEnd returns where the edited region that reparseBroken checks
// first ends: after the line that holds e (the end of the new text), the
// lines after it deeper than the key at b (the rest of its entry), up to
// maxRegionTail bytes, and the next line, which an unclosed construct of
// the entry (a plain scalar that became a key's continuation, a quote,
// a bracket) may reach.
func (sp *synthetic) regionEnd(src []byte, e int) int {
	i := nextLine(src, e)
	for limit := i + maxRegionTail; i < len(src) && i < limit; i = nextLine(src, i) {
		if c := contentColumn(src, i); c >= 0 && c <= sp.col {
			break
		}
	}
	return nextLine(src, i)
}

// parse runs yaml.v3 on the synthetic prefix followed by text, and returns
// its error; ok is false when yaml.v3 panicked.
func (sp *synthetic) parse(text []byte) (err error, ok bool) {
	r := &concatReader{parts: [2][]byte{sp.prefix, text}}
	defer func() {
		brokenStats.fed.Add(int64(r.read[1]))
		if recover() != nil {
			err, ok = nil, false
		}
	}()
	var doc yaml.Node
	err = yaml.NewDecoder(r).Decode(&doc)
	if err == io.EOF {
		err = nil // an empty document
	}
	return err, true
}

// concatReader reads its parts one after the other, and counts what it
// read of each: yaml.v3 reads ahead of its scanner in small chunks, and
// stops at the error.
type concatReader struct {
	parts [2][]byte
	read  [2]int
}

func (r *concatReader) Read(b []byte) (int, error) {
	for k, p := range r.parts {
		if rest := p[r.read[k]:]; len(rest) > 0 {
			c := copy(b, rest)
			r.read[k] += c
			return c, nil
		}
	}
	return 0, io.EOF
}

// realError returns the error yaml.v3 reports for the real text, given the
// one it reported for the synthetic document: the line moved back to the
// real text's. ok is false when the line is not one where a mark of the
// real text can be.
func (sp *synthetic) realError(err error) (error, bool) {
	msg := err.Error()
	if !strings.HasPrefix(msg, "yaml: line ") {
		return err, true // no line: the same message
	}
	m := yamlLineRE.FindStringSubmatch(msg)
	if m == nil {
		return nil, false
	}
	line, aerr := strconv.Atoi(m[1])
	if aerr != nil {
		return nil, false
	}
	last := len(sp.lines) - 1
	for k := last; k >= 0; k-- {
		a := sp.lines[k]
		if line >= a.syn && (k == last || line <= a.syn+1) {
			return errors.New("yaml: line " + strconv.Itoa(line-a.syn+a.real) + ": " + m[2]), true
		}
	}
	return nil, false
}
