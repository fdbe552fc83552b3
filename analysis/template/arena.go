package template

import "math"

// nodeArena lists the chunks that hold the nodes of a template that
// ReparseInPlace may modify, so that moving the spans after an edit is one
// sequential pass over memory rather than a walk of the tree: the walk
// chases pointers (a mapping's Pairs, each Pair, its key and value) from
// node to node across a heap that, in the language server, is mostly out of
// the caches, while a pass over the chunks reads them in address order and
// is skipped where a chunk holds nothing after the edit.
//
// A node is moved when its span starts at or after the end of the region
// the edit re-read: that is exactly the nodes that follow the re-read
// entries in the document, and none of those entries', of the entries
// before them, or of the section and the root around them (their spans are
// recomputed). Besides the tree, the chunks hold nodes nothing reaches any
// more: the entries replaced by re-reads in place, and what the parser
// dropped (the mapping and key of a long-form intrinsic). Moving those is
// harmless, since nobody reads them; the one exception, the replaced
// entries of the last re-read, which Delta.Old hands back in old
// coordinates, lie inside its region and are not moved by it.
//
// Only templates whose nodes are all their own have an arena: Parse's, and
// those ReparseInPlace makes from them. Reparse shares nodes between two
// templates, which are then never modified in place.
type nodeArena struct {
	// parse holds the chunks of the parse from scratch, in allocation
	// order. They stay as long as the template, as the tree keeps most of
	// them anyway.
	parse []arenaChunk
	// runs holds, for each re-read in place some of whose entries are still
	// in the tree, the chunks of those entries' nodes; entry maps the key
	// node of each such entry to its run's index. A run's chunks are
	// dropped once all its entries have been replaced, so that a session's
	// keystrokes do not pile up here.
	runs  []arenaRun
	entry map[*Node]int
	// loose lists the nodes of the tree outside any chunk: mappings whose
	// start a re-read set (see looseNode). The pass over the chunks moves
	// them one by one.
	loose []*Node
}

// arenaRun holds the nodes of the entries one re-read in place read
// together: their keys and values.
type arenaRun struct {
	chunks  []arenaChunk
	entries []*Pair // the entries read
	live    int     // how many of them are still in the tree
}

// arenaChunk is the used part of one chunk of nodes.
type arenaChunk struct {
	nodes []Node
	// maxStart bounds the starts of the nodes' spans: a chunk whose nodes
	// all start before an edit is skipped without reading them. Parse
	// leaves it unknown (math.MaxInt), so that a template never re-read
	// pays nothing; the first pass over the chunk computes it.
	maxStart int
}

// chunksOf returns the chunks of nodes a has handed out. known says whether
// the nodes' spans are final: then their bound is computed here, else it is
// left to the first shift.
func chunksOf(a *allocator, known bool) []arenaChunk {
	out := make([]arenaChunk, len(a.chunks))
	for i, c := range a.chunks {
		if i == len(a.chunks)-1 {
			c = c[:len(c)-len(a.nodes)]
		}
		out[i] = arenaChunk{nodes: c, maxStart: math.MaxInt}
		if known {
			out[i].maxStart = maxStartOf(c)
		}
	}
	return out
}

func maxStartOf(nodes []Node) int {
	m := 0
	for i := range nodes {
		m = max(m, nodes[i].Start)
	}
	return m
}

// newArena returns the arena of a parse from scratch, whose nodes a holds.
func newArena(a *allocator) *nodeArena {
	return &nodeArena{parse: chunksOf(a, false)}
}

// add records the run of entries that a re-read in place read with a, in
// the coordinates of the template after the edit: it is called after
// shift.
func (ar *nodeArena) add(entries []*Pair, a *allocator) {
	if len(entries) == 0 {
		return
	}
	if ar.entry == nil {
		ar.entry = map[*Node]int{}
	}
	for _, e := range entries {
		ar.entry[e.Key] = len(ar.runs)
	}
	ar.runs = append(ar.runs, arenaRun{chunks: chunksOf(a, true), entries: entries, live: len(entries)})
}

// drop records that the entries of pairs left the tree: the chunks of a
// run whose entries have all left are dropped. They are no longer the
// template's, and Delta.Old hands them back.
func (ar *nodeArena) drop(pairs []*Pair) {
	for _, p := range pairs {
		i, ok := ar.entry[p.Key]
		if !ok {
			continue // read by the parse from scratch
		}
		delete(ar.entry, p.Key)
		if ar.runs[i].live--; ar.runs[i].live > 0 {
			continue
		}
		// The last run takes the dropped one's place.
		last := len(ar.runs) - 1
		if i != last {
			ar.runs[i] = ar.runs[last]
			for _, e := range ar.runs[i].entries {
				if j, ok := ar.entry[e.Key]; ok && j == last {
					ar.entry[e.Key] = i
				}
			}
		}
		ar.runs[last] = arenaRun{}
		ar.runs = ar.runs[:last]
	}
}

// looseNode returns n, or a copy of it outside any chunk that the caller
// puts in its place in the tree, and lists it among the loose nodes. A
// re-read sets the span of the mapping that holds its entries (the
// section's, or the root) when its first entry changed; the new start may
// then lie at or after the region's end while the bound of the chunk that
// holds the mapping (see arenaChunk) is below it, and the pass over the
// chunks would neither clear its mark nor, later, move it. The loose nodes
// are few (the root and the sections) and moved one by one.
func (ar *nodeArena) looseNode(n *Node) *Node {
	for _, l := range ar.loose {
		if l == n {
			return n
		}
	}
	c := new(Node)
	*c = *n
	ar.loose = append(ar.loose, c)
	return c
}

// shift moves by d the spans of every node whose span starts at or after
// from, which must be positive (a zero span, which the fields that do not
// apply to a node hold, is never moved), except those marked as moved
// already (Node.moved, see pendingShift), whose mark it clears: they all
// started after from too, so that their chunks are among those it reads,
// or they are loose. It returns how many nodes it moved.
func (ar *nodeArena) shift(from, d int) (moved int) {
	for i := range ar.parse {
		moved += ar.parse[i].shift(from, d)
	}
	for i := range ar.runs {
		for j := range ar.runs[i].chunks {
			moved += ar.runs[i].chunks[j].shift(from, d)
		}
	}
	for _, n := range ar.loose {
		if n.moved {
			n.moved = false
		} else if n.Start >= from {
			moveSpans(n, d)
			moved++
		}
	}
	return moved
}

// shift is nodeArena.shift for one chunk. Of each node it reads and writes
// the flags, Span and ValueSpan, the first 40 bytes, and FnSpan only in an
// intrinsic: the parsers set it nowhere else.
func (c *arenaChunk) shift(from, d int) (moved int) {
	if c.maxStart < from {
		return 0
	}
	m := 0
	for i := range c.nodes {
		n := &c.nodes[i]
		if n.moved {
			n.moved = false
		} else if n.Start >= from {
			moveSpans(n, d)
			moved++
		}
		m = max(m, n.Start)
	}
	c.maxStart = m
	return moved
}

// moveSpans moves the spans of n by d.
func moveSpans(n *Node, d int) {
	n.Span = Span{n.Start + d, n.End + d}
	n.ValueSpan = shiftSpan(n.ValueSpan, d)
	if n.Kind == Intrinsic {
		n.FnSpan = shiftSpan(n.FnSpan, d)
	}
}
