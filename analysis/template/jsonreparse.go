package template

import "sort"

// Incremental re-parsing of JSON templates. A JSON document is context-free:
// a member of an object, `"key": value`, reads the same wherever it stands,
// from its key's opening quote to its value's last byte, and what follows
// it in a document that parses (whitespace, a comma or a closing bracket)
// cannot extend any token. So an edit that lies within one member of a
// section (from its key's opening quote to its value's end: inside the
// value, the key's text, the whitespace between them, or the whole key or
// value replaced) changes that member alone, provided its new text, read
// from the same opening quote, is one member that ends exactly where the
// unchanged text resumes; the text before it is unchanged, and so is the
// parser's state when it reaches it. The rest of the document reads as
// before, its spans moved by the change in length. planJSON re-reads that
// member with the JSON parser, and the plan replaces the one entry it was,
// as the YAML path replaces a run of entries, applied by copyApply or
// inPlaceApply (JSON templates own an arena of their nodes as the YAML fast
// path's do).
//
// The members re-read are:
//   - an entry of a section, a top-level key whose value is a non-empty
//     object (Resources, Parameters, Conditions, Mappings, Outputs,
//     Metadata, Rules, Globals...): Delta.Section is the section's key,
//     Index the entry's; its key may change (a rename, another key of the
//     section included, whose duplicate is reported as a parse reports it),
//     unless it becomes the function key of a section of one entry (which
//     then reads as a call);
//   - a top-level member whose value is no object before or after the edit
//     and whose key is none of the sections of entries (Description,
//     AWSTemplateFormatVersion, Transform...): Delta.Section is "", and the
//     key must stay;
//   - a run of entries of a section, for an edit inside the section's
//     object that is no edit of one entry (entries pasted, deleted, split
//     or joined, blanks between them): planJSONRun reads entries from the
//     one the edit starts in until the parse stands, after a comma, at an
//     old entry's key after the edit, or at the section's closing brace,
//     where the old parse stood in the same state with the same text ahead.
//
// Everything else parses from scratch: the old template has problems or
// no object at its root, or was read as YAML; the edit starts before a
// section's first key, in a section's key, or across sections or top-level
// members; the new text does not read as one member (or, in a section, as
// entries up to such a point).
// Inside the member, the parser reports what a parse would (duplicate keys
// inside the value, with the line of the first one): the old template had
// no problems, so those are all the new one has.

// planJSON is planReparse for a JSON template: it returns the plan that
// replaces the member the edit lies in, or nil when the edit needs a parse
// from scratch.
func planJSON(old *Template, src []byte, start, end, n int) *reparsePlan {
	delta := n - (end - start)
	root := old.Root
	if old.Format != JSON || root == nil || root.Kind != Mapping || len(root.Pairs) == 0 || len(old.Problems) > 0 ||
		start < 0 || end < start || end > len(old.Source) || len(src) != len(old.Source)+delta {
		return nil
	}
	// The member of the root, then of its section, the edit lies in.
	si, lv, k := -1, root, memberAt(root.Pairs, start, end)
	if k < 0 || root.Pairs[k].Key.Value == "" {
		return nil // (a delta names the root's pairs as the section "")
	}
	if sec := root.Pairs[k].Value; sec.Kind == Mapping {
		e := memberAt(sec.Pairs, start, end)
		if e < 0 {
			return planJSONRun(old, src, start, end, n, k) // between or across the section's entries
		}
		si, lv, k = k, sec, e
	}
	oldPair := lv.Pairs[k]
	from, regionEnd := oldPair.Key.Start, oldPair.Value.End
	pair, problems, alloc := readMember(old, src, from, regionEnd+delta, si)
	if pair == nil {
		if si >= 0 {
			return planJSONRun(old, src, start, end, n, si) // the entry's text no longer reads as one entry
		}
		return nil
	}
	sameKeys := pair.Key.Value == oldPair.Key.Value
	pairs := []*Pair{pair}
	dups := false
	if si < 0 {
		// As for YAML: a top-level member is none of the sections, whose
		// entries make structs and references, before or after.
		if !sameKeys || entrySections[pair.Key.Value] || pair.Value.Kind == Mapping || oldPair.Value.Kind == Mapping {
			return nil
		}
	} else if !sameKeys {
		if len(lv.Pairs) == 1 && isFunctionKey(pair.Key.Value) {
			return nil // a section whose one key is `Ref` or `Fn::...` is a call
		}
		problems, dups = withDuplicates(old, src, si, k, k+1, pairs, problems, from, delta)
	}
	trivia := sameKeys && onlyMoved(oldPair, pair, start, end, delta)
	return &reparsePlan{old: old, src: src, start: start, end: end, n: n, delta: delta,
		si: si, lv: lv, a: k, b: k + 1, pairs: pairs, from: from, regionEnd: regionEnd,
		sameKeys: sameKeys, trivia: trivia, problems: problems, dups: dups, alloc: alloc}
}

// planJSONRun is planJSON for an edit of the section si's object that is
// no edit of one entry: entries pasted, deleted, split or joined. It reads
// the entries from the one the edit starts in (the last whose key starts at
// or before it, or the first when the edit starts before it) until the
// parse catches up with the unchanged text: after
// a comma, at the key of an old entry after the run's first that starts
// after the edit, or at the section's closing brace when the edit ends
// before it. Then the parser stands where the old parse stood, in the same
// state (the section's object, at the same depth), with the same text
// ahead, and the entries read replace the old ones before that point. It
// returns nil when the text does not read as entries up to such a point,
// or when the new entries leave a section of one call key. Keys repeated
// in the section are reported as a parse reports them (withDuplicates).
func planJSONRun(old *Template, src []byte, start, end, n, si int) (pl *reparsePlan) {
	delta := n - (end - start)
	sec := old.Root.Pairs[si].Value
	pairs := sec.Pairs
	a := lastKeyAtOrBefore(pairs, start)
	closing := sec.End - 1 // the old closing brace
	if start <= sec.Start || end > closing {
		return nil
	}
	from := sec.Start + 1
	if a >= 0 {
		from = pairs[a].Key.Start
	} else {
		// Between the section's opening brace and its first key: the run
		// reads from the brace on, the first entry included (the parse of
		// the object's first member skips the same blanks).
		a = 0
	}
	alloc := newSmallAllocator(16)
	p := &jsonParser{src: src, i: from, depth: 2, alloc: alloc, lineBase: old.Lines.LineOf(from), lineBaseOff: from}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(jsonError); !ok {
				panic(r) // a bug: the differential tests and the fuzzers find it
			}
			pl = nil // a syntax error: reparseBrokenJSON finds it
		}
	}()
	var read []*Pair
	b, regionEnd := -1, 0
	for b < 0 {
		p.ws()
		read = append(read, p.member())
		p.ws()
		if p.i >= len(src) {
			return nil
		}
		switch src[p.i] {
		case ',':
			p.i++
			p.ws()
			// An old entry after the run's first, after the edit, whose key
			// the parse stands at?
			j := sort.Search(len(pairs), func(j int) bool { return pairs[j].Key.Start+delta >= p.i })
			switch {
			case j < len(pairs) && j > a && pairs[j].Key.Start >= end && pairs[j].Key.Start+delta == p.i:
				b, regionEnd = j, pairs[j].Key.Start
			case p.i > closing+delta:
				return nil
			}
		case '}':
			if p.i != closing+delta {
				return nil // the section closes elsewhere: the root reads on differently
			}
			b, regionEnd = len(pairs), closing
		default:
			return nil // a syntax error: reparseBrokenJSON finds it
		}
	}
	if len(pairs)-(b-a) == 0 && len(read) == 1 && isFunctionKey(read[0].Key.Value) {
		return nil // a section whose one key is `Ref` or `Fn::...` is a call
	}
	sameKeys := len(read) == b-a
	for k := 0; sameKeys && k < len(read); k++ {
		sameKeys = read[k].Key.Value == pairs[a+k].Key.Value
	}
	problems, dups := p.problems, false
	if !sameKeys {
		problems, dups = withDuplicates(old, src, si, a, b, read, problems, from, delta)
	}
	trivia := sameKeys
	for k := 0; trivia && k < len(read); k++ {
		trivia = onlyMoved(pairs[a+k], read[k], start, end, delta)
	}
	return &reparsePlan{old: old, src: src, start: start, end: end, n: n, delta: delta,
		si: si, lv: sec, a: a, b: b, pairs: read, from: from, regionEnd: regionEnd,
		sameKeys: sameKeys, trivia: trivia, problems: problems, dups: dups, alloc: alloc}
}

// memberAt returns the index of the member of pairs (an object's, in
// document order) that the edit [start, end) lies within: from its key's
// start to its value's end. It returns -1 for none.
func memberAt(pairs []*Pair, start, end int) int {
	k := lastKeyAtOrBefore(pairs, start)
	if k < 0 || end > pairs[k].Value.End {
		return -1
	}
	return k
}

// readMember reads, in the new text src, the member of an object that
// starts at from and must end at cut: the root's when si is -1, else a
// section's. It returns nil when that text does not parse as one member
// ending at cut, and else the member, the problems found in it and the
// allocator that holds its nodes.
func readMember(old *Template, src []byte, from, cut, si int) (pair *Pair, problems []Problem, alloc *allocator) {
	if cut <= from || cut > len(src) {
		return nil, nil, nil
	}
	// The line index is not updated yet (in place, that would modify old
	// before the decision): the parser counts lines from the member's
	// start, which precedes the edit.
	alloc = newSmallAllocator(16)
	depth := 2 // the root's and the section's objects
	if si < 0 {
		depth = 1
	}
	p := &jsonParser{src: src[:cut], i: from, depth: depth, alloc: alloc,
		lineBase: old.Lines.LineOf(from), lineBaseOff: from}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(jsonError); !ok {
				panic(r) // a bug: the differential tests and the fuzzers find it
			}
			pair, problems, alloc = nil, nil, nil // a syntax error: a parse reports it
		}
	}()
	pair = p.member()
	if p.i != cut {
		return nil, nil, nil // the text after the value belongs to the member: a parse fails there
	}
	return pair, p.problems, alloc
}

// levelSpan returns the span, after the edit, of a mapping around the
// re-read entries (the section's, or the root), n in the new template,
// whose span was was: a YAML block mapping spans its pairs, and a JSON
// object its braces, which the edit lies between.
func (pl *reparsePlan) levelSpan(n *Node, was Span) Span {
	if pl.old.Format == JSON {
		return Span{was.Start, was.End + pl.delta}
	}
	return Span{n.Pairs[0].Key.Start, mappingEnd(n)}
}
