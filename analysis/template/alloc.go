package template

// allocator hands out Nodes and Pairs from chunks: a 1 MB template has
// hundreds of thousands of nodes, and allocating them one by one costs more
// than building them. The chunks live as long as the template.
//
// A chunk stays alive as long as any of its elements does, and Reparse
// shares the nodes before an edit with the next template: the nodes of one
// template end up in chunks of several, the old ones partly dead. Chunks are
// therefore kept small (a fixed chunk of nodes is 40 KB) rather than sized
// to what one call needs, so that what dead neighbours keep alive stays
// small. Reparse reads the edited entries with chunks that start smaller
// still and double (an entry has tens of nodes, and a 40 KB chunk for each
// edit would be mostly empty), and copies the nodes after an edit with the
// Pairs and Items slices of the copies carved from shared backing arrays,
// instead of one allocation per mapping and sequence.
type allocator struct {
	nodes []Node
	// chunks lists, when record is set, every chunk of nodes handed out
	// from, in order: the last one is used up to where nodes starts.
	// ReparseInPlace sweeps them (see nodeArena); the copies of Reparse,
	// which are never modified in place, are not recorded.
	chunks [][]Node
	record bool
	pairs  []Pair
	ptrs   []*Pair // backing of Pairs slices
	items  []*Node // backing of Items slices
	// The size of the next chunk of each kind, in elements; zero means
	// chunk. Sizes double up to chunk.
	nextNodes, nextPairs int
}

const chunk = 256

// newSmallAllocator returns an allocator whose chunks start at first
// elements and double up to chunk, and are recorded (it holds a re-read
// entry, which ReparseInPlace adds to the arena).
func newSmallAllocator(first int) *allocator {
	return &allocator{nextNodes: first, nextPairs: first, record: true}
}

// grow returns the size of the next chunk and doubles the one after.
func grow(next *int) int {
	if *next == 0 {
		return chunk
	}
	n := *next
	*next = min(2*n, chunk)
	return n
}

func (a *allocator) node() *Node {
	if len(a.nodes) == 0 {
		a.nodes = make([]Node, grow(&a.nextNodes))
		if a.record {
			a.chunks = append(a.chunks, a.nodes)
		}
	}
	n := &a.nodes[0]
	a.nodes = a.nodes[1:]
	return n
}

func (a *allocator) pair() *Pair {
	if len(a.pairs) == 0 {
		a.pairs = make([]Pair, grow(&a.nextPairs))
	}
	p := &a.pairs[0]
	a.pairs = a.pairs[1:]
	return p
}

// sliceChunk is the size of a backing array of slices: pointers are small,
// and most collections have a few elements.
const sliceChunk = 4 * chunk

// pairSlice returns a slice of n pair pointers whose capacity is n, so that
// an append to it cannot write into its neighbour's elements.
func (a *allocator) pairSlice(n int) []*Pair { return carve(&a.ptrs, n) }

// nodeSlice is pairSlice for Items.
func (a *allocator) nodeSlice(n int) []*Node { return carve(&a.items, n) }

// carve cuts a slice of n elements, of capacity n, from the backing array
// *free, starting a new one when it is used up.
func carve[T any](free *[]T, n int) []T {
	if n == 0 {
		return []T{} // not nil: the copy of an empty collection (no allocation)
	}
	if n > len(*free) {
		if n > sliceChunk/4 {
			return make([]T, n)
		}
		*free = make([]T, sliceChunk)
	}
	s := (*free)[:n:n]
	*free = (*free)[n:]
	return s
}
