package template

// allocator hands out Nodes and Pairs from chunks: a 1 MB template has
// hundreds of thousands of nodes, and allocating them one by one costs more
// than building them. The chunks live as long as the template.
type allocator struct {
	nodes []Node
	pairs []Pair
}

const chunk = 256

func (a *allocator) node() *Node {
	if len(a.nodes) == 0 {
		a.nodes = make([]Node, chunk)
	}
	n := &a.nodes[0]
	a.nodes = a.nodes[1:]
	return n
}

func (a *allocator) pair() *Pair {
	if len(a.pairs) == 0 {
		a.pairs = make([]Pair, chunk)
	}
	p := &a.pairs[0]
	a.pairs = a.pairs[1:]
	return p
}
