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
// A node is moved when its span starts at or after the end of the edited
// entry's region: that is exactly the nodes that follow the entry in the
// document, and none of those of the entry, of the entries before it, or of
// the section and the root around it (their ends are recomputed). Besides
// the tree, the chunks hold nodes nothing reaches any more: the old values
// of entries re-read in place, and what the parser dropped (the mapping
// and key of a long-form intrinsic). Moving those is harmless, since
// nobody reads them; the one exception, the old value of the entry being
// re-read, which Delta.Old hands back in old coordinates, lies inside the
// region and is not moved.
//
// Only templates whose nodes are all their own have an arena: Parse's, and
// those ReparseInPlace makes from them. Reparse shares nodes between two
// templates, which are then never modified in place.
type nodeArena struct {
	// parse holds the chunks of the parse from scratch, in allocation
	// order. They stay as long as the template, as the tree keeps most of
	// them anyway: a chunk is freed only once every entry it holds has been
	// re-read.
	parse []arenaChunk
	// edits holds, for each entry re-read in place, the chunks of its
	// current value; entry maps the entry's key node, which the re-read
	// keeps, to its index in edits. The chunks of an entry's previous value
	// are dropped when it is re-read again, so that a session's keystrokes
	// do not pile up here.
	edits []entryChunks
	entry map[*Node]int
}

// entryChunks holds the nodes of one entry's value, read by ReparseInPlace.
type entryChunks struct {
	key    *Node
	chunks []arenaChunk
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

// replaceEntry records that the entry with the given key node now has the
// value whose nodes a holds, in the coordinates of the template after the
// edit: it is called after shift. The chunks of the entry's previous value,
// if it was read in place too, are dropped: they are no longer the
// template's, and Delta.Old hands them back.
func (ar *nodeArena) replaceEntry(key *Node, a *allocator) {
	chunks := chunksOf(a, true)
	if i, ok := ar.entry[key]; ok {
		ar.edits[i].chunks = chunks
		return
	}
	if ar.entry == nil {
		ar.entry = map[*Node]int{}
	}
	ar.entry[key] = len(ar.edits)
	ar.edits = append(ar.edits, entryChunks{key: key, chunks: chunks})
}

// shift moves by d the spans of every node whose span starts at or after
// from, which must be positive (a zero span, which the fields that do not
// apply to a node hold, is never moved), except those marked as moved
// already (Node.moved, see pendingShift), whose mark it clears: they all
// started after from too, so that their chunks are among those it reads.
// It returns how many nodes it moved.
func (ar *nodeArena) shift(from, d int) (moved int) {
	for i := range ar.parse {
		moved += ar.parse[i].shift(from, d)
	}
	for i := range ar.edits {
		for j := range ar.edits[i].chunks {
			moved += ar.edits[i].chunks[j].shift(from, d)
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
