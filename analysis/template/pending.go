package template

// pendingShift is the part of an in-place re-parse's move of the spans that
// follow the re-read entries that ReparseInPlaceUnsettled leaves for later.
//
// Moving every node after an edit is one pass over the template's nodes,
// most of it over resources that an incremental analysis never reads: a
// keystroke re-runs a few checks. So the re-parse moves at once only what
// code may reach without naming a resource: the sections other than
// Resources, and flat arrays that answer for the resources (where their
// keys start, ResourceKeyStart, and where the references' nodes start,
// Reference.NodeStart). A resource entry moves when it is first looked up
// (SettleResource, which the lookup methods every reader of other resources
// uses call: Resource, ResourcesOfType, RefsTo, RefsFrom, NodeAt), and all of them in
// Settle, the same pass over the arena as before, which skips what was
// moved ahead.
//
// A node moved ahead is marked (Node.moved) until Settle, and so is a
// mapping whose start the re-parse set past the edit (see setStart). Until
// then, the template must not be shared with a reader that reads resources
// other than through those methods.
type pendingShift struct {
	active bool
	// The nodes whose spans start at or after from, in the coordinates
	// before the edit, move by d, except those marked as moved already.
	from, d int
	arena   *nodeArena
	// first is the index of the first resource whose entry waits; settled
	// marks, from first on, the ones moved since.
	first   int
	settled []uint64
	// The run's new entries (and the allocator that holds their nodes) go
	// into the arena once the others are moved, so that the pass does not
	// move them.
	entries []*Pair
	alloc   *allocator
	// moved counts the nodes moved ahead: see MovedAhead.
	moved int
}

// move moves n ahead of the others, unless it was already.
func (p *pendingShift) move(n *Node) {
	if n != nil && !n.moved && n.Start >= p.from {
		moveSpans(n, p.d)
		n.moved = true
		p.moved++
	}
}

// moveTree moves n and everything below it.
func (p *pendingShift) moveTree(n *Node) {
	if n == nil {
		return
	}
	p.move(n)
	p.moveBelow(n)
}

// moveBelow moves what is below n, not n.
func (p *pendingShift) moveBelow(n *Node) {
	for _, pr := range n.Pairs {
		p.moveTree(pr.Key)
		p.moveTree(pr.Value)
	}
	for _, it := range n.Items {
		p.moveTree(it)
	}
	p.moveTree(n.Arg)
}

// MovedAhead returns how many nodes the unsettled re-parse that made t has
// moved so far: those of the sections other than Resources after the edit,
// and those of the resources looked up since, which is what an analysis
// read (and, once settled, all the others too); 0 for a template made
// otherwise. The language server logs it before settling; tests check that
// a keystroke's analysis reads a few resources, not all of them.
func (t *Template) MovedAhead() int {
	if t.pending == nil {
		return 0
	}
	return t.pending.moved
}

// Settled reports whether every span of t is final: false only between
// ReparseInPlaceUnsettled and Settle.
func (t *Template) Settled() bool { return t.pending == nil || !t.pending.active }

// Settle gives every node of t its final spans after
// ReparseInPlaceUnsettled; it does nothing on a settled template. Like the
// re-parse, it needs t exclusively.
func (t *Template) Settle() {
	p := t.pending
	if p == nil || !p.active {
		return
	}
	p.active = false
	p.moved += p.arena.shift(p.from, p.d)
	p.arena.add(p.entries, p.alloc)
}

// SettleResource gives the nodes of resource i their final spans, if an
// unsettled re-parse left them waiting. Code that reads a resource's
// nodes without looking it up through t's methods (the analysis engine,
// which hands each check its own resource) calls it first.
func (t *Template) SettleResource(i int) {
	p := t.pending
	if p == nil || !p.active || i < p.first || i >= len(t.Resources) {
		return
	}
	p.settle(i, t.Resources)
}

// settle moves resource i's entry, unless it was already.
func (p *pendingShift) settle(i int, resources []*Resource) {
	k := i - p.first
	if p.settled == nil {
		p.settled = make([]uint64, (len(resources)-p.first+63)/64)
	}
	if p.settled[k/64]&(1<<(k%64)) != 0 {
		return
	}
	p.settled[k/64] |= 1 << (k % 64)
	p.moveTree(resources[i].Key)
	p.moveTree(resources[i].Value)
}

// moveAhead moves, of what follows the run, everything but the resource
// entries (see pendingShift), and sets the index of the first resource
// whose entry then waits: len(resources) when none does. The last resource
// moves too when it follows the run in Resources, whose end is recomputed
// from it. The indexes are old's: the caller moves them by the change in
// the number of resources.
func (pl *reparsePlan) moveAhead(p *pendingShift, resources []*Resource) {
	root := pl.old.Root
	resSec := modelSectionIndexes(root)[secResources]
	p.first = len(resources)
	next := pl.b // the first of the root's pairs after the run
	if pl.si >= 0 {
		if pl.si == resSec {
			p.first = pl.b
			if pl.b < len(resources) {
				p.settle(len(resources)-1, resources)
			}
		} else {
			for _, e := range pl.lv.Pairs[pl.b:] {
				p.moveTree(e.Key)
				p.moveTree(e.Value)
			}
		}
		next = pl.si + 1
	}
	for i := next; i < len(root.Pairs); i++ {
		sec := root.Pairs[i]
		p.move(sec.Key)
		if i != resSec || sec.Value.Kind != Mapping {
			p.moveTree(sec.Value)
			continue
		}
		p.move(sec.Value)
		p.first = 0
	}
}
