package template

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync/atomic"
)

// Incremental re-parsing. A YAML template is a mapping of sections whose
// values are, for the sections that grow (Resources, Parameters, Conditions,
// Outputs, Mappings, Metadata...), block mappings of independent entries.
// Each entry owns a region of the text: from its key's line to the next
// key's line (or the end of the section). An edit changes the entries whose
// regions it touches, and nothing else: Reparse re-reads those regions with
// the fast path, as a run of entries at the section's column that replaces
// the old ones (a renamed key, an entry typed, pasted or deleted, two entries
// joined...), and shifts the spans of everything after them, instead of
// reading the whole document again. The text between a section's key line
// and its first entry is a region without an entry, and so is the top of
// the document; the root's pairs whose values are not sections of entries
// (Description, AWSTemplateFormatVersion, Transform...) are re-read the same
// way, as long as their keys stay.
//
// It parses from scratch whenever that reasoning might not hold: the edit
// touches a section's key line, or the root's structure (a root key added,
// removed or renamed, a section's value re-read as a root pair); the old
// text has problems, or was read by the yaml.v3 path, whose spans are not
// all local; the section is in flow style; the re-read text holds a line at
// a smaller column or anything but a plain `key:` at the section's column;
// the section is left empty; anything the fast path gives up on. A new key
// that repeats another of the section is re-read, its problem reported as
// a parse reports it (withDuplicates), except in place (see
// ReparseInPlaceUnsettled). (JSON has its own rules: see
// jsonreparse.go.) When the new text has a syntax error, reparseBroken
// (broken.go) gets it without parsing the whole document, wherever that
// gives Parse's result. TestReparseRandomEdits,
// TestReparseInPlaceRandomEdits, TestReparseCases and FuzzReparse hold the
// result to Parse of the same text, model, spans, problems and indexes
// included.
//
// The rest is either shared (what precedes the run), rebuilt (the run's
// entries: their structs, their references) or shifted (what follows it):
// the lookups by name keep their indexes before the run and move by the
// change in the number of entries after it. Reparse, which must leave the
// old template valid, copies what it shifts; ReparseInPlace moves it where
// it is.

// Reparse returns the template of src, which is old.Source with the bytes
// [start, end) replaced by n bytes. The result equals Parse(old.Filename,
// src); old is not modified and stays valid (the two share the nodes before
// the edit, which are never modified after parsing). old must not be nil.
func Reparse(old *Template, src []byte, start, end, n int) *Template {
	t, _ := ReparseDelta(old, src, start, end, n)
	return t
}

// Delta says what Reparse's incremental path changed: a run of consecutive
// entries of one section (or of the root's pairs) replaced by zero or more
// new entries. Everything else is the old template's, with the offsets at
// or after OldEnd moved by Shift, and the entries after the run moved by
// New-len(Old) in their section. A value edited inside one entry is the
// case len(Old) == 1, New == 1, with the old key.
type Delta struct {
	// Section is the section's key: "Resources", "Parameters", ...; "" for
	// a run of the root's pairs, which are then none of the sections of
	// entries and keep their keys (len(Old) == New).
	Section string
	// Index is the index of the first replaced entry among the section's
	// pairs (the root's for ""), in the old template and in the new one.
	Index int
	// Old are the replaced entries as they were: old's pairs, their key and
	// value old's nodes, in old's coordinates. It may be empty (entries
	// added, or comments edited before the first entry). After
	// ReparseInPlace, those nodes are no longer the template's, but they
	// may share chunks of nodes with it (see nodeArena): they stay as they
	// are until the next ReparseInPlace of the result, which may move them.
	Old []*Pair
	// New is how many entries replace them: the new section's pairs
	// [Index, Index+New).
	New int
	// OldRefs are the references the old entries made, as old.Refs listed
	// them: in old's coordinates, their nodes Old's. The new entries' are
	// those of the new template's Refs.From(Section, key) for their keys.
	OldRefs []Reference
	// Trivia says that the new entries equal the old ones but for their
	// positions, which moved as offsets around the edit move: the same
	// number, keys and node trees (every field but the spans), and every
	// bound of a span either stays (before the edit) or moves by Shift
	// (after it), none starting inside the edited bytes. Only comments,
	// blank lines or layout changed, and a finding on any of their nodes
	// moves with its offsets as they are. A value spelled differently
	// (`"a\u0062"` for `"ab"`, other quotes) or whitespace typed right
	// before a node is no trivia: the node's own span changed.
	Trivia bool
	// The edit, in old's coordinates: the bytes [Start, OldEnd) were
	// replaced, and what followed them moved by Shift bytes.
	Start, OldEnd, Shift int
}

// ReparseDelta is Reparse that also says what changed: the delta is nil
// when the document was parsed from scratch, or has a syntax error.
func ReparseDelta(old *Template, src []byte, start, end, n int) (*Template, *Delta) {
	old.Settle() // an unsettled template is its owner's alone
	pl, unread := planReparse(old, src, start, end, n)
	if pl != nil {
		return pl.copyApply()
	}
	return parseFallback(old, src, start, end, n, unread), nil
}

// parseFallback is the template of src when the edit cannot be re-read
// incrementally: Parse's, from reparseBroken when the edited YAML did not
// read (unread) and has a syntax error it can place without parsing the
// whole document (see broken.go), and from reparseBrokenJSON when the
// JSON has one it finds from the edited member on (jsonbroken.go).
func parseFallback(old *Template, src []byte, start, end, n int, unread bool) *Template {
	var t *Template
	switch {
	case old.Format == JSON:
		t = reparseBrokenJSON(old, src, start, end, n)
	case unread:
		t = reparseBroken(old, src, start, end, n)
	}
	if t != nil {
		return t
	}
	return Parse(old.Filename, src)
}

// ReparseInPlace is ReparseDelta that may consume old: the result and the
// delta are the same, but instead of copying what follows the re-read
// entries, it moves the spans of those nodes where they are and patches
// old's structs, slices, maps, line index and reference index, so that it
// costs the re-read entries plus one sequential pass over the chunks that
// hold the nodes after them, without allocating for them, and, when
// entries are added or removed, flat passes over the indexes that follow
// them (the lookups by name, by type, the resources' key starts).
//
// THE CALLER MUST OWN old EXCLUSIVELY. When ReparseInPlace returns, old and
// everything reached from it (nodes, pairs, Resource and Parameter structs,
// slices returned by its accessors, its Refs, its Lines) belong to the
// result and may have changed: nobody may use old again, and no goroutine
// may be reading it while ReparseInPlace runs. What stays intact is the
// delta: Delta.Old keeps old's entries in old's coordinates, and
// Delta.OldRefs their references, until the next ReparseInPlace of the
// result (which may move the old entries' nodes, which may share chunks of
// nodes with the result's). The structs of the entries keep their
// addresses; those of a re-read run are refilled for its first new entries.
//
// When the edit needs a parse from scratch (the delta is nil), old is left
// untouched: that is decided before anything is modified. A template that
// shares structure with another (the input or the result of Reparse or
// ReparseDelta, which share nodes and indexes between old and new) is never
// modified either: ReparseInPlace then copies, as ReparseDelta does, so that
// it never corrupts the other template; a chain of ReparseInPlace calls that
// starts from Parse never copies.
func ReparseInPlace(old *Template, src []byte, start, end, n int) (*Template, *Delta) {
	t, d := ReparseInPlaceUnsettled(old, src, start, end, n)
	t.Settle()
	return t, d
}

// ReparseInPlaceUnsettled is ReparseInPlace that leaves most of the move of
// the spans after the re-read entries for later (see pendingShift): the
// sections other than Resources have their final spans at once, and so do
// ResourceKeyStart and Reference.NodeStart; a resource entry gets them
// when the resource is looked up through the template's methods
// (Resource, ResourcesOfType, RefsTo, NodeAt, and ResourceAt, AllResources,
// AllRefs and Section("Resources"), which settle everything) or with
// SettleResource, and all of them with Settle. Until Settle, the result is
// its caller's alone, as old was. A later re-parse settles old first.
func ReparseInPlaceUnsettled(old *Template, src []byte, start, end, n int) (*Template, *Delta) {
	old.Settle()
	pl, unread := planReparse(old, src, start, end, n)
	switch {
	case pl == nil:
		return parseFallback(old, src, start, end, n, unread), nil
	case pl.dups:
		// A key repeated in its section: the language server keeps the
		// last template without problems to re-read the next edits from
		// (it does not re-read a template with problems), which consuming
		// it, or sharing it with a copy, would take away.
		return Parse(old.Filename, src), nil
	case old.isShared() || old.arena == nil:
		return pl.copyApply()
	}
	return pl.inPlaceApply()
}

// reparsePlan is an incremental re-parse that has been decided: the run of
// entries the edit touches and the entries that replace them, read from the
// new text. Nothing of the old template has been modified.
type reparsePlan struct {
	old                  *Template
	src                  []byte
	start, end, n, delta int
	// The run: the pairs [a, b) of the mapping lv, the value of the root's
	// pair si (the root itself when si is -1), are replaced by pairs.
	si    int
	lv    *Node
	a, b  int
	pairs []*Pair
	// from and regionEnd bound the run's text in old: the nodes from
	// regionEnd on follow it (from <= start, end <= regionEnd).
	from, regionEnd int
	sameKeys        bool // pairs have the replaced pairs' keys, in order
	trivia          bool // see Delta.Trivia
	problems        []Problem
	// dups says that the new pairs repeat keys of their section (among
	// problems): see ReparseInPlaceUnsettled.
	dups  bool
	alloc *allocator // holds the new pairs' nodes
}

// entrySections are the root keys whose values are sections of entries:
// a run of root pairs never replaces one of them, nor makes one.
var entrySections = map[string]bool{"Parameters": true, "Conditions": true, "Mappings": true,
	"Resources": true, "Outputs": true, "Metadata": true, "Rules": true}

// level is a block mapping whose entries a re-parse may replace: a
// section's value, or the root.
type level struct {
	pairs []*Pair
	col   int // the column of the entries' keys
	// gap is where the text before the first entry starts: just after the
	// section key's colon, or the start of the document.
	gap int
	// end is where the region of the last entry ends: the line of the next
	// section's key, or the end of the document.
	end int
}

// bound returns where region k starts: the start of entry k's key line,
// the gap for k == -1 and the level's end for k == len(pairs).
func (lv *level) bound(k int) int {
	switch {
	case k < 0:
		return lv.gap
	case k >= len(lv.pairs):
		return lv.end
	}
	return lv.pairs[k].Key.Start - lv.col
}

// run returns the regions that the edit [start, end) of the old text, which
// gave src, touches: lo to hi, -1 standing for the gap. An edit at the start
// of an entry's line that does not begin it with a line at the entries'
// column (blank lines, comments, a deeper line) extends the region before:
// the entry there may read them (a block scalar keeps blank lines, a deeper
// line continues its value). An edit that ends at the start of an entry's
// line, after a line break, leaves that entry's region. So an insertion of
// whole entries at the start of a line is the empty run lo, hi = lo-1 (lo
// == len(pairs) after the last one). ok is false when the edit reaches the
// line after the level's end.
func (lv *level) run(src []byte, start, end, delta int) (lo, hi int, ok bool) {
	m := len(lv.pairs)
	if start < lv.gap || end > lv.end {
		return 0, 0, false
	}
	lo = sort.Search(m+1, func(k int) bool { return lv.bound(k) > start }) - 1
	if lo >= 0 && start == lv.bound(lo) && contentColumn(src, start) != lv.col {
		lo--
	}
	hi = sort.Search(m+1, func(k int) bool { return lv.bound(k) > end }) - 1
	if hi >= 0 && end == lv.bound(hi) && atLineStart(src, end+delta) {
		hi--
	}
	return lo, hi, hi < m
}

// contentColumn returns the column of the content of the line that starts
// at off, or -1 when it is blank or a comment (or starts with a tab, which
// the fast path gives up on).
func contentColumn(src []byte, off int) int {
	i := off
	for i < len(src) && src[i] == ' ' {
		i++
	}
	if i == len(src) {
		return -1
	}
	switch src[i] {
	case '#', '\n', '\r', '\t':
		return -1
	}
	return i - off
}

// atLineStart reports whether a line starts at off, or the text ends there.
func atLineStart(src []byte, off int) bool {
	return off == 0 || off == len(src) || src[off-1] == '\n' || src[off-1] == '\r'
}

// sectionLevel returns the level of the root's pair si, if its value is a
// block mapping of entries.
func sectionLevel(src []byte, root *Node, si int) (level, bool) {
	sec := root.Pairs[si]
	m := sec.Value
	if m.Kind != Mapping || m.Flow || len(m.Pairs) == 0 || sec.Key.Value == "" {
		return level{}, false // (a delta names the root's pairs as the section "")
	}
	col := columnOf(src, m.Pairs[0].Key.Start)
	if col <= 0 {
		return level{}, false
	}
	end := len(src)
	if si+1 < len(root.Pairs) {
		end = root.Pairs[si+1].Key.Start
	}
	return level{pairs: m.Pairs, col: col, gap: sec.Key.End + 1, end: end}, true
}

// planReparse decides whether the edit can be re-read incrementally and
// reads the run of entries it touches; it returns nil when the edit needs
// a parse from scratch. unread then says that the new text of the run did
// not read as entries of its level (the fast path gave up on it, or a line
// is at another column), or that the edit touches a section's key line:
// what a syntax error does, which reparseBroken looks for.
func planReparse(old *Template, src []byte, start, end, n int) (pl *reparsePlan, unread bool) {
	if old.Format == JSON {
		return planJSON(old, src, start, end, n), false // see jsonreparse.go
	}
	delta := n - (end - start)
	if !old.fastYAML || old.Root == nil || old.Root.Kind != Mapping || old.Root.Flow ||
		len(old.Problems) > 0 || start < 0 || end < start || end > len(old.Source) || len(src) != len(old.Source)+delta {
		return nil, false
	}
	// The root's pairs the edit touches: inside one section of entries,
	// below its key line, it touches that section's entries.
	root := old.Root
	top := level{pairs: root.Pairs, end: len(old.Source)}
	lo, hi, ok := top.run(src, start, end, delta)
	if !ok {
		return nil, false
	}
	if lo == hi && lo >= 0 {
		if lv, ok := sectionLevel(old.Source, root, lo); ok {
			if start < lv.gap {
				return nil, true // the section's key line
			}
			slo, shi, ok := lv.run(src, start, end, delta)
			if !ok {
				return nil, false
			}
			return readRun(old, src, start, end, n, lo, lv, slo, shi)
		}
	}
	return readRun(old, src, start, end, n, -1, top, lo, hi)
}

// readRun reads the new text of the regions lo to hi of the level lv (the
// value of the root's pair si, or the root when si is -1) as the pairs of
// a block mapping at the level's column, on the text cut where the last
// region ends, as the mapping would read them; it returns nil when that
// might not give what a parse of the whole text gives; unread then says
// that the text did not read as such pairs (see planReparse).
func readRun(old *Template, src []byte, start, end, n, si int, lv level, lo, hi int) (pl *reparsePlan, unread bool) {
	delta := n - (end - start)
	a, b := max(lo, 0), hi+1
	from, regionEnd := lv.bound(lo), lv.bound(hi+1)
	cut := regionEnd + delta
	if cut < from || !atLineStart(src, cut) || !printable(src[from:cut]) {
		return nil, true
	}
	// The line index is not updated yet (in place, that would modify old
	// before the decision): the parser counts lines from the run's start,
	// which precedes the edit.
	alloc := newSmallAllocator(16)
	depth := 2 // the root's and the section's mappings
	if si < 0 {
		depth = 1
	}
	p := &fastParser{src: src[:cut], alloc: alloc, depth: depth,
		lineBase: old.Lines.LineOf(from), lineBaseOff: from}
	var run Node
	ok := func() (ok bool) {
		defer func() {
			if v := recover(); v != nil {
				ok = false // bail, or a bug in the fast path: parse from scratch
			}
		}()
		i := from
		if si >= 0 && lo < 0 {
			// The rest of the section key's line, as the parser reads it
			// after the colon: spaces, then a comment or the line break.
			if i = p.skipSpaces(i); i < len(p.src) && p.src[i] != '\n' && p.src[i] != '\r' && p.src[i] != '#' {
				return false
			}
			i = p.restOfLine(i)
		}
		j := p.skipBlank(i)
		if j == len(p.src) {
			return true // blank lines and comments
		}
		if p.indentAt(j) != lv.col {
			return false
		}
		key, colon := p.blockKey(j)
		_, next := p.blockPairs(&run, key, colon, lv.col)
		return next == len(p.src) // no line at a smaller column
	}()
	if !ok {
		return nil, true
	}
	pairs, oldPairs := run.Pairs, lv.pairs[a:b]
	sameKeys := len(pairs) == len(oldPairs)
	for k := 0; sameKeys && k < len(pairs); k++ {
		sameKeys = pairs[k].Key.Value == oldPairs[k].Key.Value
	}
	if si < 0 {
		// The root's pairs keep their keys, and are no sections of entries
		// (whose entries make references and structs) before or after.
		if !sameKeys {
			return nil, false
		}
		for k, p := range pairs {
			if entrySections[p.Key.Value] || p.Value.Kind == Mapping || oldPairs[k].Value.Kind == Mapping {
				return nil, false
			}
		}
	} else {
		switch left := len(lv.pairs) - len(oldPairs) + len(pairs); {
		case left == 0:
			return nil, false // an empty section is null
		case left == 1:
			k := lv.pairs[0]
			if len(pairs) == 1 {
				k = pairs[0]
			} else if a == 0 {
				k = lv.pairs[b]
			}
			if isFunctionKey(k.Key.Value) {
				return nil, false // a section whose one key is `Ref:` or `Fn::...:` is a call
			}
		}
	}
	problems, dups := p.problems, false
	if si >= 0 && !sameKeys {
		problems, dups = withDuplicates(old, src, si, a, b, pairs, problems, from, delta)
	}
	trivia := sameKeys
	for k := 0; trivia && k < len(pairs); k++ {
		trivia = onlyMoved(oldPairs[k], pairs[k], start, end, delta)
	}
	lvNode := old.Root
	if si >= 0 {
		lvNode = old.Root.Pairs[si].Value
	}
	return &reparsePlan{old: old, src: src, start: start, end: end, n: n, delta: delta,
		si: si, lv: lvNode, a: a, b: b, pairs: pairs, from: from, regionEnd: regionEnd,
		sameKeys: sameKeys, trivia: trivia, problems: problems, dups: dups, alloc: alloc}, false
}

// withDuplicates returns the problems of the template in which the new
// pairs, read from src at from on, replace the section si's pairs [a, b):
// nested, the problems found inside the new pairs' values (in the order the
// parse found them), with the duplicate keys of the section that the new
// pairs make, as a parse of the whole text reports them. The old template
// had no problems, so every repeated key is a new pair's: among the new
// pairs, or one of the section's other pairs (the one outside the run that
// has it, found through the section's lookup by name when it has one). A
// parse reports each occurrence after the first, with the first one's line,
// when it adds that pair to the section, after the problems inside its
// value; the pairs before the run have none, and those after it none but
// their duplicates. The repeats among the new pairs that the run's parse
// reported are reported again, with the rest.
func withDuplicates(old *Template, src []byte, si, a, b int, pairs []*Pair, nested []Problem, from, delta int) ([]Problem, bool) {
	section := old.Root.Pairs[si].Value.Pairs
	var index map[string]int
	switch idx := modelSectionIndexes(old.Root); si {
	case idx[secParameters]:
		index = old.params
	case idx[secConditions]:
		index = old.conditions
	case idx[secMappings]:
		index = old.mappings
	case idx[secResources]:
		index = old.resources
	}
	// outside returns the index of the section's pair outside the run that
	// has key, or -1.
	outside := func(key string) int {
		if index != nil {
			if i, ok := index[key]; ok && (i < a || i >= b) {
				return i
			}
			return -1
		}
		for i, q := range section {
			if (i < a || i >= b) && q.Key.Value == key {
				return i
			}
		}
		return -1
	}
	line := func(off int) int { // 1-based, in src, for an offset before the run's end
		if off < from {
			return old.Lines.LineOf(off) + 1
		}
		return lineOf(src, nil, old.Lines.LineOf(from), from, off)
	}
	// The first occurrence of each key the new pairs have, and whether it
	// repeats.
	type first struct {
		off      int // in src
		repeated bool
	}
	firsts := make(map[string]*first, len(pairs))
	var after []Problem // the duplicates after the run
	for _, p := range pairs {
		k := p.Key.Value
		if f := firsts[k]; f != nil {
			f.repeated = true
			continue
		}
		f := &first{off: p.Key.Start}
		firsts[k] = f
		switch i := outside(k); {
		case i < 0:
		case i < a:
			f.off, f.repeated = section[i].Key.Start, true
		default:
			f.repeated = true
			key := section[i].Key
			after = append(after, duplicateKey(k, Span{key.Start + delta, key.End + delta}, line(p.Key.Start)))
		}
	}
	if len(after) == 0 && len(firsts) == len(pairs) {
		repeated := false
		for _, f := range firsts {
			repeated = repeated || f.repeated
		}
		if !repeated {
			return nested, false
		}
	}
	// The run's own parse may have reported repeats among the new pairs,
	// without those outside: they are all reported again here.
	keys := make(map[Span]bool, len(pairs))
	for _, p := range pairs {
		keys[p.Key.Span] = true
	}
	nested = slices.DeleteFunc(slices.Clone(nested), func(pr Problem) bool { return pr.Code == ProblemDuplicateKey && keys[pr.Span] })
	out := make([]Problem, 0, len(nested)+len(pairs)+len(after))
	for _, p := range pairs {
		for len(nested) > 0 && nested[0].Span.Start <= p.Value.End {
			out, nested = append(out, nested[0]), nested[1:]
		}
		if f := firsts[p.Key.Value]; f.repeated && f.off != p.Key.Start {
			out = append(out, duplicateKey(p.Key.Value, p.Key.Span, line(f.off)))
		}
	}
	out = append(out, nested...) // (none: each lies in a new pair)
	sort.SliceStable(after, func(i, j int) bool { return after[i].Span.Start < after[j].Span.Start })
	return append(out, after...), true
}

// duplicateKey is the problem of a key repeated at span whose first
// occurrence is on line firstLine (1-based), as the parsers report it.
func duplicateKey(key string, span Span, firstLine int) Problem {
	return Problem{Code: ProblemDuplicateKey, Span: span,
		Message: fmt.Sprintf("duplicate key %q (first defined on line %d): CloudFormation rejects templates with duplicate keys", key, firstLine)}
}

// onlyMoved reports whether the pair y, read from the new text, is the
// pair x of the old text moved by the edit [start, end) whose length
// changed by shift, as Delta.Trivia says: equal in every field but the
// spans (and the mark of an unsettled re-parse), below them included, with
// each bound of a span at or before end kept, those after it moved by
// shift, and no node starting inside the edited bytes (whose line a
// change of line breaks there could move).
func onlyMoved(x, y *Pair, start, end, shift int) bool {
	m := mover{start: start, end: end, shift: shift}
	return m.same(x.Key, y.Key) && m.same(x.Value, y.Value)
}

// mover compares nodes across an edit for onlyMoved.
type mover struct{ start, end, shift int }

func (m mover) moved(x, y Span, node bool) bool {
	if node && x.Start > m.start && x.Start <= m.end {
		return false
	}
	at := func(o int) int {
		if o > m.end {
			return o + m.shift
		}
		return o
	}
	return y.Start == at(x.Start) && y.End == at(x.End)
}

func (m mover) same(x, y *Node) bool {
	if x == nil || y == nil {
		return x == y
	}
	if x.Kind != y.Kind || x.ScalarType != y.ScalarType || x.Quoted != y.Quoted || x.Short != y.Short ||
		x.Flow != y.Flow || x.InFlow != y.InFlow || x.Value != y.Value || x.Fn != y.Fn ||
		len(x.Pairs) != len(y.Pairs) || (x.Pairs == nil) != (y.Pairs == nil) ||
		len(x.Items) != len(y.Items) || (x.Items == nil) != (y.Items == nil) ||
		!m.moved(x.Span, y.Span, true) || !m.moved(x.ValueSpan, y.ValueSpan, false) || !m.moved(x.FnSpan, y.FnSpan, false) {
		return false
	}
	for i, p := range x.Pairs {
		if !m.same(p.Key, y.Pairs[i].Key) || !m.same(p.Value, y.Pairs[i].Value) {
			return false
		}
	}
	for i, it := range x.Items {
		if !m.same(it, y.Items[i]) {
			return false
		}
	}
	return m.same(x.Arg, y.Arg)
}

// lastKeyAtOrBefore returns the index of the last pair whose key starts at
// or before off, or -1. The pairs are in document order.
func lastKeyAtOrBefore(pairs []*Pair, off int) int {
	return sort.Search(len(pairs), func(i int) bool { return pairs[i].Key.Start > off }) - 1
}

// lineStartOf returns the offset of the start of the line holding off.
func lineStartOf(src []byte, off int) int {
	for off > 0 && src[off-1] != '\n' && src[off-1] != '\r' {
		off--
	}
	return off
}

// columnOf returns the column of off when only spaces precede it on its
// line, else -1.
func columnOf(src []byte, off int) int {
	s := lineStartOf(src, off)
	for i := s; i < off; i++ {
		if src[i] != ' ' {
			return -1
		}
	}
	return off - s
}

// section returns the key of the run's section, "" for root pairs.
func (pl *reparsePlan) section() string {
	if pl.si < 0 {
		return ""
	}
	return pl.old.Root.Pairs[pl.si].Key.Value
}

// makeDelta returns the change the edit made, the run's old entries and
// their references given.
func (pl *reparsePlan) makeDelta(old []*Pair, oldRefs []Reference) *Delta {
	return &Delta{Section: pl.section(), Index: pl.a, Old: old, New: len(pl.pairs), OldRefs: oldRefs,
		Trivia: pl.trivia, Start: pl.start, OldEnd: pl.end, Shift: pl.delta}
}

// refRange returns the old entries' references: All[a:b] of the old index.
// References are grouped by entry in document order, and a reference's node
// lies inside its entry's value, so that those of the run are the ones
// whose nodes start inside its text. (Within an entry, they are not in the
// order of their nodes: its Condition and DependsOn come last.)
func (pl *reparsePlan) refRange() (a, b int) {
	all := pl.old.Refs.All
	a = sort.Search(len(all), func(i int) bool { return all[i].at >= pl.from })
	b = a + sort.Search(len(all)-a, func(i int) bool { return all[a+i].at >= pl.regionEnd })
	return a, b
}

// newRefs collects the new entries' references; the root's pairs a run
// replaces make none (no section of entries is among them).
func (pl *reparsePlan) newRefs() *RefIndex {
	x := &RefIndex{}
	if pl.si >= 0 {
		c := refCollector{x: x}
		section := pl.section()
		for _, p := range pl.pairs {
			c.entry(section, p)
		}
	}
	return x
}

// mappingEnd is the end of a block mapping's node, as the parser computes
// it: the end of its last pair, whose value starts after its key's colon.
// Pairs follow one another, so the last one ends last.
func mappingEnd(m *Node) int {
	last := m.Pairs[len(m.Pairs)-1]
	return max(last.Key.End+1, last.Value.End)
}

// splicePairs returns the pairs of a mapping after the run: old's before
// it, the run's new ones, then copy of each of old's after it.
func (pl *reparsePlan) splicePairs(old []*Pair, copy func(*Pair) *Pair) []*Pair {
	out := make([]*Pair, 0, len(old)-(pl.b-pl.a)+len(pl.pairs))
	out = append(append(out, old[:pl.a]...), pl.pairs...)
	for _, p := range old[pl.b:] {
		out = append(out, copy(p))
	}
	return out
}

// The sections whose entries become structs of the model.
const (
	secParameters = iota
	secConditions
	secMappings
	secResources
	secOutputs
	numModelSections
)

var modelSections = [numModelSections]string{"Parameters", "Conditions", "Mappings", "Resources", "Outputs"}

// modelSectionIndexes returns the index among the root's pairs of each
// section of the model, as Node.Get finds it, or -1.
func modelSectionIndexes(root *Node) (idx [numModelSections]int) {
	for k, name := range modelSections {
		idx[k] = -1
		for i, pr := range root.Pairs {
			if pr.Key.Value == name {
				idx[k] = i
				break
			}
		}
	}
	return idx
}

// copyApply builds the new template without modifying the old one: it
// shares what precedes the run, and copies what follows it with shifted
// spans, allocating in chunks.
func (pl *reparsePlan) copyApply() (*Template, *Delta) {
	old, si := pl.old, pl.si
	lines := old.Lines.spliced(pl.src, pl.start, pl.end, pl.n)

	ox := old.Refs
	ra, rb := pl.refRange()
	nx := pl.newRefs()
	size := len(ox.All) - (rb - ra) + len(nx.All)
	x := &RefIndex{All: make([]Reference, 0, size), ords: make([]int32, 0, size)}
	x.All = append(append(x.All, ox.All[:ra]...), nx.All...)
	x.ords = append(append(x.ords, ox.ords[:ra]...), nx.ords...)

	// The tree: the nodes before the run are shared, the run is new, the
	// nodes after it are copies with shifted spans (unless nothing moved),
	// and the references made from them are the old ones moved to the
	// copies.
	c := &copier{delta: pl.delta, alloc: &allocator{}, refs: ox, next: rb, out: x}
	root := c.alloc.node()
	*root = *old.Root
	var newSec *Node
	if si >= 0 {
		sec := old.Root.Pairs[si]
		newSec = c.alloc.node()
		*newSec = *sec.Value
		newSec.Pairs = pl.splicePairs(sec.Value.Pairs, func(p *Pair) *Pair { return c.entry(sec.Key.Value, p) })
		newSec.Span = pl.levelSpan(newSec, sec.Value.Span)
		secPair := c.alloc.pair()
		secPair.Key, secPair.Value = sec.Key, newSec
		root.Pairs = make([]*Pair, len(old.Root.Pairs))
		copy(root.Pairs, old.Root.Pairs[:si])
		root.Pairs[si] = secPair
		for i := si + 1; i < len(old.Root.Pairs); i++ {
			root.Pairs[i] = c.section(old.Root.Pairs[i])
		}
	} else {
		root.Pairs = pl.splicePairs(old.Root.Pairs, c.section)
	}
	root.Span = pl.levelSpan(root, old.Root.Span)
	if c.next != len(ox.All) {
		panic("template: Reparse lost track of the references") // a bug: the differential tests catch it
	}
	x.byTarget = spliceTargets(ox.byTarget, ra, rb, ox.All[ra:rb], nx.All, false)
	x.normalize()

	t := &Template{Filename: old.Filename, Format: old.Format, Source: pl.src, Lines: lines, Root: root, shared: new(atomic.Bool),
		Problems: pl.problems, fastYAML: old.fastYAML, Refs: x,
		Description: root.Get("Description").Text(), Metadata: root.Get("Metadata"),
		Sections: make(map[string]*Pair, len(root.Pairs)),
		params:   old.params, conditions: old.conditions, resources: old.resources, mappings: old.mappings,
		byType: old.byType, typeIdx: old.typeIdx,
		Parameters: old.Parameters, Conditions: old.Conditions, Mappings: old.Mappings,
		Resources: old.Resources, Outputs: old.Outputs, keyStarts: old.keyStarts,
	}
	for _, pr := range root.Pairs {
		t.Sections[pr.Key.Value] = pr
	}
	// The structs of the model's sections: shared before the run, rebuilt
	// in its section from the run on, rebuilt in the sections after it.
	// (A run of root pairs holds no section of the model.)
	secIdx := modelSectionIndexes(root)
	first := si
	if si < 0 {
		first = pl.a
	}
	from := func(k int) (pairs []*Pair, i int, ok bool) {
		switch ki := secIdx[k]; {
		case ki < first:
			return nil, 0, false
		case ki == si:
			return newSec.Pairs, pl.a, true
		default:
			return sectionPairs(root.Pairs[ki].Value), 0, true
		}
	}
	rebuilt := func(k int) bool { return si >= 0 && secIdx[k] == si && !pl.sameKeys }
	if pairs, i, ok := from(secParameters); ok {
		t.Parameters = rebuild(old.Parameters, pairs, i, (*Parameter).fill)
		if rebuilt(secParameters) {
			t.params = nameIndex(t.Parameters, func(p *Parameter) string { return p.Name })
		}
	}
	if pairs, i, ok := from(secConditions); ok {
		t.Conditions = rebuild(old.Conditions, pairs, i, (*Condition).fill)
		if rebuilt(secConditions) {
			t.conditions = nameIndex(t.Conditions, func(c *Condition) string { return c.Name })
		}
	}
	if pairs, i, ok := from(secMappings); ok {
		t.Mappings = rebuild(old.Mappings, pairs, i, (*Entry).fill)
		if rebuilt(secMappings) {
			t.mappings = nameIndex(t.Mappings, func(e *Entry) string { return e.Name })
		}
	}
	if pairs, i, ok := from(secOutputs); ok {
		t.Outputs = rebuild(old.Outputs, pairs, i, (*Entry).fill)
	}
	if pairs, i, ok := from(secResources); ok {
		t.Resources = rebuild(old.Resources, pairs, i, (*Resource).fill)
		if secIdx[secResources] == si {
			if rebuilt(secResources) {
				t.resources = nameIndex(t.Resources, func(r *Resource) string { return r.Name })
			}
			if len(pl.pairs) != pl.b-pl.a {
				t.typeIdx = typeIndex(t.Resources)
			} else {
				cloned := false
				for k := pl.a; k < pl.b; k++ {
					if ot, nt := old.Resources[k].Type, t.Resources[k].Type; ot != nt {
						if !cloned {
							t.typeIdx, cloned = maps.Clone(old.typeIdx), true
						}
						moveIndex(t.typeIdx, ot, nt, int32(k), false)
					}
				}
			}
		}
		t.byType = resourcesByType(t.Resources, t.typeIdx)
		t.keyStarts = keyStartsOf(t.Resources)
	}
	t.IsCloudFormation = t.detectCloudFormation()
	// The two templates now share structure: neither may be modified in
	// place from now on.
	old.markShared()
	t.markShared()
	return t, pl.makeDelta(pl.lv.Pairs[pl.a:pl.b:pl.b], ox.All[ra:rb:rb])
}

// nameIndex returns the lookup by name of a section's structs.
func nameIndex[T any](structs []*T, name func(*T) string) map[string]int {
	out := make(map[string]int, len(structs))
	for i, s := range structs {
		out[name(s)] = i
	}
	return out
}

// typeIndex returns the indexes of each type's resources.
func typeIndex(resources []*Resource) map[string][]int32 {
	out := map[string][]int32{}
	for i, r := range resources {
		out[r.Type] = append(out[r.Type], int32(i))
	}
	return out
}

// rebuild returns the structs of a section whose pairs from index from on
// were rebuilt: those before are old's, the others are filled from the new
// pairs, allocated in chunks (see allocator: the next template shares some
// of them).
func rebuild[T any](old []*T, pairs []*Pair, from int, fill func(*T, *Pair)) []*T {
	if len(pairs) == 0 {
		return old
	}
	out := make([]*T, len(pairs))
	copy(out, old[:from])
	var structs []T
	for i := from; i < len(pairs); i++ {
		if len(structs) == 0 {
			structs = make([]T, min(len(pairs)-i, structChunk))
		}
		s := &structs[0]
		structs = structs[1:]
		fill(s, pairs[i])
		out[i] = s
	}
	return out
}

// structChunk is the number of entry structs allocated together.
const structChunk = 64

// moveIndex moves index i from key from's sorted list to key to's, keeping
// both sorted and dropping a list left empty. Unless inPlace, the lists are
// copied, not modified: another template may share them.
func moveIndex[K comparable, I cmp.Ordered](m map[K][]I, from, to K, i I, inPlace bool) {
	l := m[from]
	if k, found := slices.BinarySearch(l, i); found {
		if !inPlace {
			l = slices.Clone(l)
		}
		if l = slices.Delete(l, k, k+1); len(l) == 0 {
			delete(m, from)
		} else {
			m[from] = l
		}
	}
	l = m[to]
	k, _ := slices.BinarySearch(l, i)
	if !inPlace {
		l = slices.Clone(l)
	}
	m[to] = slices.Insert(l, k, i)
}

// copier copies the nodes after an edit with their spans shifted, and the
// references made from them.
type copier struct {
	delta int
	alloc *allocator
	// walk holds the copies of the current entry's value nodes in
	// Node.Walk's order, where the references' ords point.
	walk []*Node
	rec  bool
	refs *RefIndex // the old index
	next int       // the next old reference to move
	out  *RefIndex
}

// span shifts sp; the zero span is what nodes hold in the fields that do not
// apply to them (FnSpan of a scalar), and stays zero: no span after an edit
// can start at offset 0.
func (c *copier) span(sp Span) Span {
	if sp == (Span{}) {
		return sp
	}
	return Span{sp.Start + c.delta, sp.End + c.delta}
}

// section copies a section's pair; a mapping's entries move their
// references.
func (c *copier) section(p *Pair) *Pair {
	if c.delta == 0 {
		c.skipRefs(p)
		return p
	}
	out := c.alloc.pair()
	out.Key = c.key(p.Key)
	v := p.Value
	if v.Kind != Mapping {
		out.Value = c.node(v)
		return out
	}
	nv := c.alloc.node()
	*nv = *v
	c.shiftSpans(nv)
	if v.Pairs != nil {
		nv.Pairs = c.alloc.pairSlice(len(v.Pairs))
		for i, e := range v.Pairs {
			nv.Pairs[i] = c.entry(p.Key.Value, e)
		}
	}
	out.Value = nv
	return out
}

// skipRefs moves over the references of a section shared as it is.
func (c *copier) skipRefs(p *Pair) {
	for _, e := range sectionPairs(p.Value) {
		for c.next < len(c.refs.All) && c.refs.All[c.next].Section == p.Key.Value && c.refs.All[c.next].From == e.Key.Value {
			c.out.All = append(c.out.All, c.refs.All[c.next])
			c.out.ords = append(c.out.ords, c.refs.ords[c.next])
			c.next++
		}
	}
}

// entry copies one entry of a section, and moves its references.
func (c *copier) entry(section string, p *Pair) *Pair {
	all := c.refs.All
	j := c.next
	for j < len(all) && all[j].Section == section && all[j].From == p.Key.Value {
		j++
	}
	if c.delta == 0 {
		c.out.All = append(c.out.All, all[c.next:j]...)
		c.out.ords = append(c.out.ords, c.refs.ords[c.next:j]...)
		c.next = j
		return p
	}
	out := c.alloc.pair()
	out.Key = c.key(p.Key)
	c.rec, c.walk = j > c.next, c.walk[:0]
	out.Value = c.node(p.Value)
	c.rec = false
	for ; c.next < j; c.next++ {
		r := all[c.next]
		r.Node = c.walk[c.refs.ords[c.next]]
		r.Span, r.at = c.span(r.Span), r.Node.Start
		c.out.All = append(c.out.All, r)
		c.out.ords = append(c.out.ords, c.refs.ords[c.next])
	}
	return out
}

func (c *copier) shiftSpans(n *Node) {
	n.Span = c.span(n.Span)
	n.ValueSpan = c.span(n.ValueSpan)
	n.FnSpan = c.span(n.FnSpan)
}

// key copies a key; keys are scalars, outside Node.Walk's order.
func (c *copier) key(n *Node) *Node {
	if n.Kind != Scalar {
		rec := c.rec
		c.rec = false
		out := c.node(n)
		c.rec = rec
		return out
	}
	out := c.alloc.node()
	*out = *n
	c.shiftSpans(out)
	return out
}

// child is node for a mapping's value or a sequence's item: most are
// scalars, copied here without the call.
func (c *copier) child(n *Node) *Node {
	if n.Kind > Scalar || n.Arg != nil {
		return c.node(n)
	}
	out := c.alloc.node()
	*out = *n
	out.Span = c.span(n.Span)
	out.ValueSpan = c.span(n.ValueSpan)
	out.FnSpan = c.span(n.FnSpan)
	if c.rec {
		c.walk = append(c.walk, out)
	}
	return out
}

// node copies n and the nodes below it.
func (c *copier) node(n *Node) *Node {
	if n == nil {
		return nil
	}
	out := c.alloc.node()
	*out = *n
	c.shiftSpans(out)
	if c.rec {
		c.walk = append(c.walk, out)
	}
	switch n.Kind {
	case Mapping:
		if n.Pairs != nil {
			out.Pairs = c.alloc.pairSlice(len(n.Pairs))
			for i, p := range n.Pairs {
				np := c.alloc.pair()
				np.Key, np.Value = c.key(p.Key), c.child(p.Value)
				out.Pairs[i] = np
			}
		}
	case Sequence:
		if n.Items != nil {
			out.Items = c.alloc.nodeSlice(len(n.Items))
			for i, it := range n.Items {
				out.Items[i] = c.child(it)
			}
		}
	case Intrinsic:
		out.Arg = c.node(n.Arg)
		return out
	}
	if n.Arg != nil { // outside Node.Walk's order
		rec := c.rec
		c.rec = false
		out.Arg = c.node(n.Arg)
		c.rec = rec
	}
	return out
}

// spliceTargets returns the index by target after the references
// All[a:b], which were oldRefs, were replaced by refs (which take the
// indexes from a on, the references after them moving by the difference).
// Unless inPlace, m and its lists are shared with the old index and are not
// modified; lists that do not change stay shared.
func spliceTargets(m map[refKey][]int, a, b int, oldRefs, refs []Reference, inPlace bool) map[refKey][]int {
	keyOf := func(r *Reference) refKey { return refKey{r.Kind.Namespace(), r.Target} }
	if len(refs) == b-a {
		// The indexes stay: only the references whose target changed move
		// from one list to another.
		cloned := false
		for k := range refs {
			ok, nk := keyOf(&oldRefs[k]), keyOf(&refs[k])
			if ok == nk {
				continue
			}
			if !inPlace && !cloned {
				m, cloned = maps.Clone(m), true
			}
			moveIndex(m, ok, nk, a+k, inPlace)
		}
		return m
	}
	// The indexes after the entry move: every list that holds one changes.
	d := len(refs) - (b - a)
	added := map[refKey][]int{}
	for k := range refs {
		nk := keyOf(&refs[k])
		added[nk] = append(added[nk], a+k)
	}
	out := m
	if !inPlace {
		out = make(map[refKey][]int, len(m)+len(added))
	}
	for k, l := range m {
		lo, _ := slices.BinarySearch(l, a)
		hi, _ := slices.BinarySearch(l, b)
		add := added[k]
		delete(added, k)
		if lo == len(l) && len(add) == 0 {
			if !inPlace {
				out[k] = l // nothing at or after the entry
			}
			continue
		}
		n := lo + len(add) + len(l) - hi
		if n == 0 {
			delete(out, k) // in place: deleting the current key is allowed while ranging
			continue
		}
		var nl []int
		if inPlace && n <= len(l) {
			nl = l[:n]
			if lo+len(add) <= hi {
				// Moving the tail down (or not at all): copy forwards.
				copy(nl[lo:], add)
				for i, v := range l[hi:] {
					nl[lo+len(add)+i] = v + d
				}
			} else {
				// Moving it up within the old length: copy backwards.
				tail := len(l) - hi
				for i := tail - 1; i >= 0; i-- {
					nl[lo+len(add)+i] = l[hi+i] + d
				}
				copy(nl[lo:], add)
			}
		} else {
			nl = make([]int, n)
			copy(nl, l[:lo])
			copy(nl[lo:], add)
			for i, v := range l[hi:] {
				nl[lo+len(add)+i] = v + d
			}
		}
		out[k] = nl
	}
	for k, add := range added {
		out[k] = add
	}
	return out
}

// inPlaceApply builds the new template from old's own structures: it
// shifts the nodes after the run where they are, and patches the model and
// the indexes.
func (pl *reparsePlan) inPlaceApply() (*Template, *Delta) {
	old, d := pl.old, pl.delta
	lvSpan, rootSpan := pl.lv.Span, old.Root.Span
	x := old.Refs
	ra, rb := pl.refRange()
	oldRefs := slices.Clone(x.All[ra:rb])
	nx := pl.newRefs()
	oldPairs := slices.Clone(pl.lv.Pairs[pl.a:pl.b])
	dc := len(pl.pairs) - len(oldPairs) // how far the entries after the run move
	secIdx := modelSectionIndexes(old.Root)
	// Where the first pair after the run starts, before anything moves: a
	// mapping whose first pairs the run replaced by none starts there.
	after := -1
	if pl.b < len(pl.lv.Pairs) {
		after = pl.lv.Pairs[pl.b].Key.Start + d
	}

	// The tree: the nodes after the run move (when anything follows it: at
	// the end of the document, the old value's last node may start at the
	// region's end), and the new entries' nodes replace the old ones' in
	// the arena.
	var pending *pendingShift
	if d != 0 && pl.regionEnd < len(old.Source) {
		pending = &pendingShift{active: true, from: pl.regionEnd, d: d, arena: old.arena, entries: pl.pairs, alloc: pl.alloc}
		pl.moveAhead(pending, old.Resources)
		for i := pending.first; i < len(old.keyStarts); i++ {
			old.keyStarts[i] += d
		}
	} else {
		old.arena.add(pl.pairs, pl.alloc)
	}
	old.arena.drop(oldPairs)
	lv := pl.lv
	lv.Pairs = slices.Replace(lv.Pairs, pl.a, pl.b, pl.pairs...)
	if pl.a == 0 && old.Format == YAML { // a JSON object starts at its brace
		first := after
		if len(pl.pairs) > 0 {
			first = pl.pairs[0].Key.Start
		}
		lv = pl.setStart(lv, first, pending)
	}
	lv.End = pl.levelSpan(lv, lvSpan).End
	root := old.Root
	if pl.si >= 0 {
		root.Pairs[pl.si].Value = lv
	} else {
		root = lv
	}
	root.End = pl.levelSpan(root, rootSpan).End

	// The references: those after the run move, the run's are replaced.
	if d != 0 {
		for i := rb; i < len(x.All); i++ {
			x.All[i].Span = shiftSpan(x.All[i].Span, d)
			x.All[i].at += d
		}
	}
	x.byTarget = spliceTargets(x.byTarget, ra, rb, oldRefs, nx.All, true)
	x.All = slices.Replace(x.All, ra, rb, nx.All...)
	x.ords = slices.Replace(x.ords, ra, rb, nx.ords...)
	x.normalize()

	// The model: the run's structs are refilled, added or removed, the
	// others point at the nodes they did; the lookups move past the run.
	a, b, same := pl.a, pl.b, pl.sameKeys
	switch {
	case pl.si < 0:
		for _, p := range pl.pairs {
			old.Sections[p.Key.Value] = p
		}
	case pl.si == secIdx[secParameters]:
		old.Parameters = spliceStructs(old.Parameters, a, b, pl.pairs, (*Parameter).fill, func(p *Parameter) string { return p.Name }, old.params, same)
	case pl.si == secIdx[secConditions]:
		old.Conditions = spliceStructs(old.Conditions, a, b, pl.pairs, (*Condition).fill, func(c *Condition) string { return c.Name }, old.conditions, same)
	case pl.si == secIdx[secMappings]:
		old.Mappings = spliceStructs(old.Mappings, a, b, pl.pairs, (*Entry).fill, func(e *Entry) string { return e.Name }, old.mappings, same)
	case pl.si == secIdx[secOutputs]:
		old.Outputs = spliceStructs(old.Outputs, a, b, pl.pairs, (*Entry).fill, nil, nil, same)
	case pl.si == secIdx[secResources]:
		oldTypes := make([]string, 0, 4) // on the stack for a few
		for _, r := range old.Resources[a:b] {
			oldTypes = append(oldTypes, r.Type)
		}
		old.Resources = spliceStructs(old.Resources, a, b, pl.pairs, (*Resource).fill, func(r *Resource) string { return r.Name }, old.resources, same)
		spliceTypes(old.typeIdx, old.byType, a, b, oldTypes, old.Resources[a:a+len(pl.pairs)])
		if len(pl.pairs) != b-a {
			old.keyStarts = slices.Replace(old.keyStarts, a, b, make([]int, len(pl.pairs))...)
		}
		for k, p := range pl.pairs {
			old.keyStarts[a+k] = p.Key.Start
		}
		if pending != nil {
			pending.first += dc // the resources after the run, in the new indexes
		}
	}
	old.Lines.Splice(pl.src, pl.start, pl.end, pl.n)

	t := &Template{Filename: old.Filename, Format: old.Format, Source: pl.src, Lines: old.Lines, Root: root, shared: new(atomic.Bool),
		Problems: pl.problems, fastYAML: old.fastYAML, arena: old.arena, Refs: x,
		Description: old.Description, Metadata: root.Get("Metadata"), Sections: old.Sections,
		params: old.params, conditions: old.conditions, resources: old.resources, mappings: old.mappings,
		byType: old.byType, typeIdx: old.typeIdx,
		Parameters: old.Parameters, Conditions: old.Conditions, Mappings: old.Mappings,
		Resources: old.Resources, Outputs: old.Outputs, keyStarts: old.keyStarts, pending: pending,
	}
	if pl.si < 0 {
		t.Description = root.Get("Description").Text()
	}
	t.IsCloudFormation = t.detectCloudFormation()
	return t, pl.makeDelta(oldPairs, oldRefs)
}

// setStart gives a mapping whose first pair the run replaced its new start,
// and returns it. The bound of the chunk that holds it (see arenaChunk) may
// not cover that start, so that the mapping is moved out of the chunks
// (see nodeArena.looseNode); and when it lies at or after the region's end
// (a new first entry may start where the old one did), the pass over the
// chunks that settling makes would move it again: it is marked as moved.
func (pl *reparsePlan) setStart(n *Node, start int, pending *pendingShift) *Node {
	after := pending != nil && start >= pending.from
	if start == n.Start && !after {
		return n
	}
	n = pl.old.arena.looseNode(n)
	n.Start = start
	n.moved = after
	return n
}

// spliceStructs returns the structs of a section after the run replaced the
// entries [a, b) by pairs: the old structs are refilled for the first new
// entries (an entry re-read keeps its struct's address), the others are
// new. index, the lookup by name (nil for none), is updated unless the keys
// stayed: the names of the run and the indexes after it.
func spliceStructs[T any](s []*T, a, b int, pairs []*Pair, fill func(*T, *Pair), name func(*T) string, index map[string]int, sameKeys bool) []*T {
	if index != nil && !sameKeys {
		for _, st := range s[a:b] {
			delete(index, name(st))
		}
	}
	reuse := min(b-a, len(pairs))
	for k := range reuse {
		fill(s[a+k], pairs[k])
	}
	if len(pairs) != b-a {
		structs := make([]*T, len(pairs))
		copy(structs, s[a:a+reuse])
		if extra := len(pairs) - reuse; extra > 0 {
			backing := make([]T, extra)
			for k := range extra {
				fill(&backing[k], pairs[reuse+k])
				structs[reuse+k] = &backing[k]
			}
		}
		s = slices.Replace(s, a, b, structs...)
	}
	if index != nil && !sameKeys {
		hi := a + len(pairs)
		if len(pairs) != b-a {
			hi = len(s) // the entries after the run move
		}
		for i := a; i < hi; i++ {
			index[name(s[i])] = i // (no key repeats: see ReparseInPlaceUnsettled)
		}
	}
	return s
}

// spliceTypes updates in place the lookups by type after the run replaced
// the resources [a, b), whose types were oldTypes, by res: the old indexes
// leave their types' lists, those after the run move by the change in
// number, and the new ones join their types' lists, byType's lists keeping
// the same positions as typeIdx's.
func spliceTypes(typeIdx map[string][]int32, byType map[string][]*Resource, a, b int, oldTypes []string, res []*Resource) {
	dc := len(res) - (b - a)
	if dc == 0 {
		same := true
		for k, r := range res {
			same = same && r.Type == oldTypes[k]
		}
		if same {
			return
		}
	}
	for k, ot := range oldTypes {
		l := typeIdx[ot]
		i, found := slices.BinarySearch(l, int32(a+k))
		switch {
		case !found:
			panic("template: a resource missing from its type's list") // a bug: the differential tests catch it
		case len(l) == 1:
			delete(typeIdx, ot)
			delete(byType, ot)
		default:
			typeIdx[ot] = slices.Delete(l, i, i+1)
			byType[ot] = slices.Delete(byType[ot], i, i+1)
		}
	}
	if dc != 0 {
		for _, l := range typeIdx {
			i, _ := slices.BinarySearch(l, int32(b))
			for ; i < len(l); i++ {
				l[i] += int32(dc)
			}
		}
	}
	for k, r := range res {
		l := typeIdx[r.Type]
		i, _ := slices.BinarySearch(l, int32(a+k))
		typeIdx[r.Type] = slices.Insert(l, i, int32(a+k))
		byType[r.Type] = slices.Insert(byType[r.Type], i, r)
	}
}

// normalize makes an index without references hold nil slices, as a
// parse's does.
func (x *RefIndex) normalize() {
	if len(x.All) == 0 {
		x.All, x.ords = nil, nil
	}
}

// shiftSpan moves sp by d, keeping the zero span (see copier.span).
func shiftSpan(sp Span, d int) Span {
	if sp == (Span{}) {
		return sp
	}
	return Span{sp.Start + d, sp.End + d}
}
