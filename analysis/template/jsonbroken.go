package template

import (
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
)

// Syntax errors in JSON templates after an edit. A JSON document is
// context-free, and its parser (json.go) is deterministic: at the opening
// quote of a member of an object, what it does next depends only on the
// text from there, the objects open around it (for their closing braces,
// the line they opened at and the nesting limit) and the keys read before
// in each (for duplicates). When an edit leaves a template that parsed
// without problems with a syntax error, the text before the member the
// edit starts in is unchanged, and so is that state when a parse reaches
// that member. reparseBrokenJSON therefore resumes the parser there, in
// the objects of the section (or of the root) with their keys so far, and
// reads on to the first error: the error a parse of the whole document
// finds, and the duplicate keys it reports before it, which all lie after
// the resumed member (the old template had no problems). A parse of the
// whole document costs the text up to the error; this costs the text from
// the edited member to it: nothing, for the bad token or the unclosed
// string of most keystrokes, half the document on average for an unclosed
// bracket, whose error is at its end.
//
// The resumed parse may also meet no error: the new text may parse (an
// edit that adds, splits or joins members). Once it stands at a member of
// a resumed object that starts after the edit, where the old text had a
// member too, it has caught up (synced): the parser is in the state the
// old parse was in there, and the rest of the text is the old text, which
// parsed; the document has no syntax error, and Parse decides, having cost
// little more than the edited members (planJSONRun has turned down such an
// edit already: it crosses sections, or repeats a key). A parse that meets
// no error and never catches up (a bracket typed and its match deleted far
// apart) has read to the end of the text for nothing, and Parse reads it
// again.
//
// It gives up (Parse decides) unless the old template was read as JSON,
// from a file named .json (Parse reads other files whose JSON does not
// parse as YAML), without problems, with an object at its root; and the
// edit starts at or after the first member's key. ReparseDelta and the
// in-place re-parses try it whenever planJSON gives up on a JSON edit.
// TestReparseJSONRandomEdits, TestReparseJSONCases and FuzzReparseJSON
// hold the result to Parse of the same text (their edits break the syntax
// often), TestReparseBrokenJSONCases to the error of each kind of broken
// edit, and TestReparseBrokenJSONIsLocal to its cost.

// jsonSynced stops a resumed parse that caught up with the unchanged text.
type jsonSynced struct{}

// reparseBrokenJSON returns the template of src, which is old.Source with
// the bytes [start, end) replaced by n bytes, when src has a JSON syntax
// error, found by resuming the parser at the member the edit starts in:
// then it equals Parse(old.Filename, src) (no tree, the duplicate keys
// before the error and the error). It returns nil when src may parse, or
// when a premise does not hold; old is never modified.
func reparseBrokenJSON(old *Template, src []byte, start, end, n int) (t *Template) {
	root := old.Root
	delta := n - (end - start)
	if old.Format != JSON || root == nil || root.Kind != Mapping || len(root.Pairs) == 0 || len(old.Problems) > 0 ||
		start < 0 || end < start || end > len(old.Source) || len(src) != len(old.Source)+delta ||
		!strings.EqualFold(filepath.Ext(old.Filename), ".json") {
		return nil
	}
	// The member of the root the edit starts in, and of its section when it
	// starts inside the section's object, after its first key.
	k := lastKeyAtOrBefore(root.Pairs, start)
	if k < 0 {
		return nil
	}
	sec, e := root.Pairs[k].Value, -1
	if sec.Kind == Mapping && len(sec.Pairs) > 0 && start > sec.Start {
		e = lastKeyAtOrBefore(sec.Pairs, start)
	}
	brokenStats.tries.Add(1)
	from := root.Pairs[k].Key.Start
	if e >= 0 {
		from = sec.Pairs[e].Key.Start
	}
	lines := old.Lines.spliced(src, start, end, n)
	p := &jsonParser{src: src, lines: lines, i: from, depth: 1, alloc: newSmallAllocator(16)}
	// The objects resumed: only their starts matter (the line a missing
	// closing brace names), and the keys before the resumed member.
	rootObj := &Node{Kind: Mapping, Flow: true, Span: Span{Start: root.Start}}
	secObj := &Node{Kind: Mapping, Flow: true, Span: Span{Start: sec.Start}}
	// The members after the edit, where the parse catches up.
	p.synced = func(obj *Node) bool {
		var pairs []*Pair
		switch obj {
		case rootObj:
			pairs = root.Pairs
		case secObj:
			pairs = sec.Pairs
		default:
			return false
		}
		j := sort.Search(len(pairs), func(j int) bool { return pairs[j].Key.Start >= end })
		j += sort.Search(len(pairs)-j, func(i int) bool { return pairs[j+i].Key.Start+delta >= p.i })
		return j < len(pairs) && pairs[j].Key.Start+delta == p.i
	}
	var found *jsonError
	func() {
		defer func() {
			switch r := recover().(type) {
			case nil, jsonSynced:
			case jsonError:
				found = &r
			default:
				found = nil // a bug here: Parse decides, the session goes on
			}
		}()
		if e >= 0 {
			p.depth = 2
			p.resume(secObj, sec.Pairs[:e])
			p.depth = 1
			if p.closes(rootObj) {
				p.finish()
				return
			}
			p.members(rootObj, keysOf(root.Pairs[:k+1]))
		} else {
			p.resume(rootObj, root.Pairs[:k])
		}
		p.finish()
	}()
	brokenStats.fed.Add(int64(p.i - from))
	if found == nil {
		return nil
	}
	t = &Template{Filename: old.Filename, Format: JSON, Source: src, Lines: lines, shared: new(atomic.Bool),
		Problems: append(p.problems, found.problem(src, lines))}
	t.build()
	brokenStats.hits.Add(1)
	return t
}

// resume reads the rest of the object obj from the member at p.i, which
// follows the members before, to its closing brace, as object does: at
// its first member, a closing brace instead closes it empty.
func (p *jsonParser) resume(obj *Node, before []*Pair) {
	p.ws() // the edit may start with blanks, which the parse skips as it does after '{' or ','
	if len(before) == 0 && p.i < len(p.src) && p.src[p.i] == '}' {
		p.i++
		obj.End = p.i
		return
	}
	p.members(obj, keysOf(before))
}

// finish reads the end of the document after its root object, as
// parseJSON does.
func (p *jsonParser) finish() {
	p.ws()
	if p.i < len(p.src) {
		p.fail("unexpected %s after the end of the document", p.describe())
	}
}

// keysOf returns the keys of pairs, the members of an object before the
// one a parse resumes at, by value: the first of each, for the duplicates.
func keysOf(pairs []*Pair) map[string]*Node {
	seen := make(map[string]*Node, len(pairs))
	for _, pr := range pairs {
		if _, dup := seen[pr.Key.Value]; !dup {
			seen[pr.Key.Value] = pr.Key
		}
	}
	return seen
}
