package analysis

import (
	"slices"
	"sync/atomic"
)

// readIndex maps what was read (a logical id, a type, references to a name,
// the set of types, everything, a gathered resource fact, a Fact, a
// memoised fact) to the nodes that read it: the checks of an analysis, or
// the resources of a gathering, numbered from 0, and the memoised facts
// they used, numbered from -1 down. An edit of one resource then finds the
// checks that may see it by looking up what it changed, instead of asking
// every check (reads.sees).
//
// It must list every node under every key it reads, or an incremental
// analysis would keep stale findings.
//
// Nodes that run again are removed with what they read before and added
// with what they read now, so that the index stays exact; lookups are
// still narrowed by reads.sees, which also weighs whether the types
// changed and whether values of facts did.
//
// An index is mutable, and passed from a result to the re-analysis that
// claims it (ownedIndex): the first re-analysis of a result takes its index
// over and adds what the checks it ran read; any other (a second edit of
// the same result, as TestConcurrentReanalyze makes) builds its own from
// the result's reads.
type readIndex struct {
	byKey  map[readKey][]int32
	memos  []*reads // memoised fact -1-j is memos[j]
	memoID map[*reads]int32
	// gathers and factDeps are the resource facts and Facts some node
	// depends on, keyFacts the Facts some node read at a key: a lookup asks
	// whether their values changed, and at which keys.
	gathers  []*ResourceFact
	factDeps []*Fact
	keyFacts []*Fact
}

// readKind says what a readKey names.
type readKind uint8

const (
	readAll     readKind = iota // everything (reads.all)
	readTypeSet                 // which types the template has
	readName                    // a resource by logical id
	readTypeOf                  // a resource's type or existence
	readType                    // the resources of a type
	readRefsTo                  // references to a name
	readEntry                   // a parameter, condition or mapping by name (entryKey)
	readSection                 // every entry of a section other than Resources
	readGather                  // the values of a resource fact
	readFactDep                 // the value of a Fact
	readFactKey                 // the value of a Fact at one key (name)
	readMemo                    // a memoised fact (its users are listed)
)

// readKey is one thing a node read.
type readKey struct {
	kind   readKind
	name   string
	gather *ResourceFact
	fact   *Fact
	memo   *reads
}

// newReadIndex indexes the reads of nodes 0, 1, ... (nil reads are
// skipped).
func newReadIndex(nodes []*reads) *readIndex {
	// Sized by the nodes that read something: most resources of a
	// gathering read nothing (noReads).
	n := 0
	for _, r := range nodes {
		if r != nil && r != noReads {
			n++
		}
	}
	x := &readIndex{byKey: make(map[readKey][]int32, n), memoID: map[*reads]int32{}}
	for id, r := range nodes {
		if r != nil {
			x.add(int32(id), r, false)
		}
	}
	return x
}

// ownedIndex is the index of one result, which one re-analysis of it may
// take over.
type ownedIndex struct {
	claimed atomic.Bool
	x       *readIndex
}

// take returns the index for a re-analysis of the result that owns o: o's
// own for the first one to ask, a new one built from nodes() for any other.
func (o *ownedIndex) take(nodes func() []*reads) *readIndex {
	if o.x != nil && o.claimed.CompareAndSwap(false, true) {
		return o.x
	}
	return newReadIndex(nodes())
}

// add records that node id read r. Unless again, id has not been added
// before: building an index need not look for repeats.
func (x *readIndex) add(id int32, r *reads, again bool) {
	x.forEachKey(r, func(k readKey) { x.put(k, id, again) })
	for _, g := range r.gathers {
		if !slices.Contains(x.gathers, g) {
			x.gathers = append(x.gathers, g)
		}
	}
	for _, f := range r.factDeps {
		if !slices.Contains(x.factDeps, f) {
			x.factDeps = append(x.factDeps, f)
		}
	}
	for _, k := range r.factKeys {
		if !slices.Contains(x.keyFacts, k.fact) {
			x.keyFacts = append(x.keyFacts, k.fact)
		}
	}
	for _, f := range r.facts {
		m, ok := x.memoID[f]
		if !ok {
			m = -1 - int32(len(x.memos))
			x.memos = append(x.memos, f)
			x.memoID[f] = m
			x.add(m, f, false)
		}
		x.put(readKey{kind: readMemo, memo: f}, id, again)
	}
}

// remove forgets that node id read r, which add recorded: a node that runs
// again is removed with its old reads, then added with its new ones, so
// that the index stays exact. A memoised fact nobody uses any more goes
// too.
func (x *readIndex) remove(id int32, r *reads) {
	x.forEachKey(r, func(k readKey) { x.drop(k, id) })
	for _, f := range r.facts {
		k := readKey{kind: readMemo, memo: f}
		x.drop(k, id)
		if m, ok := x.memoID[f]; ok && len(x.byKey[k]) == 0 {
			delete(x.memoID, f)
			x.memos[-1-m] = nil
			x.remove(m, f)
		}
	}
}

// forEachKey calls fn with every key of r but its memoised facts'.
func (x *readIndex) forEachKey(r *reads, fn func(readKey)) {
	if r.all {
		fn(readKey{kind: readAll})
		return
	}
	if r.typeSet {
		fn(readKey{kind: readTypeSet})
	}
	for n := range r.names {
		fn(readKey{kind: readName, name: n})
	}
	for n := range r.typeOf {
		fn(readKey{kind: readTypeOf, name: n})
	}
	for _, t := range r.types {
		fn(readKey{kind: readType, name: t})
	}
	for n := range r.refsTo {
		fn(readKey{kind: readRefsTo, name: n})
	}
	for n := range r.entries {
		fn(readKey{kind: readEntry, name: n})
	}
	for _, s := range r.sections {
		fn(readKey{kind: readSection, name: s})
	}
	for _, g := range r.gathers {
		fn(readKey{kind: readGather, gather: g})
	}
	for _, f := range r.factDeps {
		fn(readKey{kind: readFactDep, fact: f})
	}
	for _, k := range r.factKeys {
		fn(readKey{kind: readFactKey, fact: k.fact, name: k.key})
	}
}

// drop removes id from the nodes of k.
func (x *readIndex) drop(k readKey, id int32) {
	ids := x.byKey[k]
	i := slices.Index(ids, id)
	if i < 0 {
		return
	}
	if len(ids) == 1 {
		delete(x.byKey, k)
		return
	}
	x.byKey[k] = slices.Delete(ids, i, i+1)
}

// put adds id to the nodes of k, once.
func (x *readIndex) put(k readKey, id int32, again bool) {
	ids := x.byKey[k]
	if again && slices.Contains(ids, id) {
		return
	}
	x.byKey[k] = append(ids, id)
}

// lookup returns, sorted and without repeats, the nodes (not the memoised
// facts) that may have read something c changed: every node for which
// reads.sees may answer yes is among them. (The users of a memoised fact
// are looked up only if the fact sees c: stamp and values are sees'.)
func (x *readIndex) lookup(c *change, stamp uint64, values valueChanges) []int32 {
	keys := []readKey{{kind: readAll}}
	if c.section == "Resources" {
		for _, n := range c.names {
			keys = append(keys, readKey{kind: readName, name: n})
			if c.typesChanged {
				keys = append(keys, readKey{kind: readTypeOf, name: n})
			}
		}
		if c.typesChanged {
			keys = append(keys, readKey{kind: readTypeSet})
		}
		for _, t := range c.types {
			keys = append(keys, readKey{kind: readType, name: t})
		}
	} else if c.section == "" {
		for _, n := range c.names {
			keys = append(keys, readKey{kind: readSection, name: n})
		}
	} else {
		keys = append(keys, readKey{kind: readSection, name: c.section})
		for _, n := range c.names {
			keys = append(keys, readKey{kind: readEntry, name: entryKey(c.section, n)})
		}
	}
	for _, n := range c.refs {
		keys = append(keys, readKey{kind: readRefsTo, name: n})
	}
	for _, g := range x.gathers {
		if values.gatherChanged(g) {
			keys = append(keys, readKey{kind: readGather, gather: g})
		}
	}
	for _, f := range x.factDeps {
		if values.factChanged(f) {
			keys = append(keys, readKey{kind: readFactDep, fact: f})
		}
	}
	for _, f := range x.keyFacts {
		for k := range values.factKeysChanged(f) {
			keys = append(keys, readKey{kind: readFactKey, fact: f, name: k})
		}
	}
	var out []int32
	var memoSeen map[int32]bool
	for len(keys) > 0 {
		k := keys[len(keys)-1]
		keys = keys[:len(keys)-1]
		for _, id := range x.byKey[k] {
			if id >= 0 {
				out = append(out, id)
				continue
			}
			// The users of a memoised fact that read k read it too.
			if memoSeen == nil {
				memoSeen = map[int32]bool{}
			}
			if m := x.memos[-1-id]; !memoSeen[id] {
				memoSeen[id] = true
				if m.factSees(c, stamp, values) {
					keys = append(keys, readKey{kind: readMemo, memo: m})
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// shiftIDs moves by the ids of the nodes from on, after an edit that
// changed the number of resources before them (see reuse.newID). It costs
// one pass over the index.
func (x *readIndex) shiftIDs(from, by int32) {
	if by == 0 {
		return
	}
	for _, ids := range x.byKey {
		for i, id := range ids {
			if id >= from {
				ids[i] = id + by
			}
		}
	}
}
