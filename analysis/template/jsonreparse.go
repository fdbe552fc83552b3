package template

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
//     Index the entry's; its key may change (a rename), unless it becomes
//     another key of the section (a duplicate, which a parse reports) or the
//     function key of a section of one entry (which then reads as a call);
//   - a top-level member whose value is no object before or after the edit
//     and whose key is none of the sections of entries (Description,
//     AWSTemplateFormatVersion, Transform...): Delta.Section is "", and the
//     key must stay.
//
// Everything else parses from scratch: the old template has problems or
// no object at its root, or was read as YAML; the edit starts before a
// member's key or ends after its value (between members, in a section's
// key, across members); the member's new text does not start with a quote,
// does not parse, or ends before or after the unchanged suffix begins.
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
	if k < 0 {
		return nil
	}
	if sec := root.Pairs[k].Value; sec.Kind == Mapping {
		e := memberAt(sec.Pairs, start, end)
		if e < 0 {
			return nil // a section's key, or between its entries
		}
		si, lv, k = k, sec, e
	}
	oldPair := lv.Pairs[k]
	from, regionEnd := oldPair.Key.Start, oldPair.Value.End
	pair, problems, alloc := readMember(old, src, from, regionEnd+delta, si)
	if pair == nil {
		return nil
	}
	sameKeys := pair.Key.Value == oldPair.Key.Value
	pairs := []*Pair{pair}
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
		if repeatsKey(old, si, lv.Pairs, k, k+1, pairs) {
			return nil // a problem a parse reports, wherever the first one is
		}
	}
	trivia := sameKeys && onlyMoved(oldPair, pair, start, end, delta)
	return &reparsePlan{old: old, src: src, start: start, end: end, n: n, delta: delta,
		si: si, lv: lv, a: k, b: k + 1, pairs: pairs, from: from, regionEnd: regionEnd,
		sameKeys: sameKeys, trivia: trivia, problems: problems, alloc: alloc}
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
