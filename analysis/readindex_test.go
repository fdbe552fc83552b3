package analysis

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// canonical renders an index as key -> sorted node names, a memoised fact
// being named by its reads (whose ids differ between indexes).
func (x *readIndex) canonical() map[readKey][]string {
	out := map[readKey][]string{}
	for k, ids := range x.byKey {
		var names []string
		for _, id := range ids {
			if id < 0 {
				names = append(names, fmt.Sprintf("memo %p", x.memos[-1-id]))
			} else {
				names = append(names, fmt.Sprint(id))
			}
		}
		slices.Sort(names)
		out[k] = names
	}
	return out
}

// keyedFacts are Facts that randomReads reads at a key.
var keyedFacts = []*Fact{{Key: "one"}, {Key: "two"}}

// randomReads returns reads of a few of names and types, sometimes using
// one of the memoised facts.
func randomReads(r *rand.Rand, memos []*reads) *reads {
	x := &reads{}
	if r.IntN(4) == 0 {
		x.addFactKey(keyedFacts[r.IntN(len(keyedFacts))], fmt.Sprint("R", r.IntN(20)))
	}
	for range r.IntN(4) {
		switch n := fmt.Sprint("R", r.IntN(20)); r.IntN(6) {
		case 0:
			x.addName(n)
		case 1:
			x.addTypeOf(n)
		case 2:
			x.addRefsTo(n)
		case 3:
			x.addEntry([]string{"Parameters", "Conditions"}[r.IntN(2)], n)
		case 4:
			x.addSection([]string{"Parameters", "Outputs", "Description", "Globals"}[r.IntN(4)])
		default:
			x.addType(fmt.Sprint("T", r.IntN(5)))
		}
	}
	if r.IntN(10) == 0 {
		x.addTypeSet()
	}
	if r.IntN(30) == 0 {
		x.addAll()
	}
	for range r.IntN(3) {
		x.addFact(memos[r.IntN(len(memos))])
	}
	return x
}

// TestReadIndexStaysExact: an index updated as re-analyses update it (a
// node removed with its old reads, added with its new ones) is the index
// built from the current reads, memoised facts nobody uses included out.
func TestReadIndexStaysExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var memos []*reads
	for i := range 6 {
		m := &reads{fact: fmt.Sprint("memo", i)}
		m.addType(fmt.Sprint("T", i%5))
		memos = append(memos, m)
	}
	memos[5].addFact(memos[0]) // a memoised fact that uses another
	nodes := make([]*reads, 20)
	for i := range nodes {
		nodes[i] = randomReads(r, memos)
	}
	x := newReadIndex(nodes)
	for step := range 500 {
		id := int32(r.IntN(len(nodes)))
		if r.IntN(2) == 0 {
			// A check that runs again computes its memoised facts anew: the
			// old ones die with their last user.
			i := r.IntN(len(memos))
			m := &reads{fact: memos[i].fact}
			m.addType(fmt.Sprint("T", r.IntN(5)))
			if r.IntN(3) == 0 {
				m.addFact(memos[r.IntN(len(memos))])
			}
			memos[i] = m
		}
		next := randomReads(r, memos)
		x.remove(id, nodes[id])
		x.add(id, next, true)
		nodes[id] = next
		if got, want := x.canonical(), newReadIndex(nodes).canonical(); !reflect.DeepEqual(got, want) {
			t.Fatalf("step %d: the updated index differs from the one built from the reads:\n got %v\nwant %v", step, got, want)
		}
	}
}

// TestReadsEmptyCoversEveryField sets each field of a reads in turn and
// expects empty to see it: gathered values that read nothing share
// noReads, so a read empty missed would be lost. A new field must be added
// here (and to empty).
func TestReadsEmptyCoversEveryField(t *testing.T) {
	set := map[string]func(r *reads){
		"all":      func(r *reads) { r.all = true },
		"typeSet":  func(r *reads) { r.typeSet = true },
		"names":    func(r *reads) { r.addName("A") },
		"typeOf":   func(r *reads) { r.addTypeOf("A") },
		"types":    func(r *reads) { r.addType("AWS::S3::Bucket") },
		"refsTo":   func(r *reads) { r.addRefsTo("A") },
		"entries":  func(r *reads) { r.addEntry("Parameters", "A") },
		"sections": func(r *reads) { r.addSection("Outputs") },
		"facts":    func(r *reads) { r.facts = []*reads{{}} },
		"fact":     func(r *reads) { r.fact = "memo" },
		"gathers":  func(r *reads) { r.gathers = []*ResourceFact{{}} },
		"factDeps": func(r *reads) { r.factDeps = []*Fact{{}} },
		"factKeys": func(r *reads) { r.addFactKey(&Fact{}, "A") },
		"seen":     nil, // a cache of answers, not a read
	}
	typ := reflect.TypeOf(reads{})
	for i := 0; i < typ.NumField(); i++ {
		name := typ.Field(i).Name
		fn, ok := set[name]
		if !ok {
			t.Errorf("reads has a field %s this test does not know: teach it and empty about it", name)
			continue
		}
		if fn == nil {
			continue
		}
		r := &reads{}
		fn(r)
		if r.empty() {
			t.Errorf("reads with only %s set is empty", name)
		}
	}
	if !(&reads{}).empty() || !noReads.empty() {
		t.Error("a zero reads is not empty")
	}
}

// keysChanged is a valueChanges under which the Facts changed at the keys
// it lists, and nothing else changed.
type keysChanged map[*Fact]map[string]bool

func (keysChanged) gatherChanged(*ResourceFact) bool          { return false }
func (c keysChanged) factChanged(f *Fact) bool                { return len(c[f]) > 0 }
func (c keysChanged) factKeysChanged(f *Fact) map[string]bool { return c[f] }

// TestLookupFindsEveryNodeThatSees: the index's lookup of a change must
// return every node whose reads see it (reads.sees), or an incremental
// analysis would keep that node's stale findings: for changes of resources
// (by name, type, references, with and without a change of types), of the
// entries of the other sections and of top-level pairs.
func TestLookupFindsEveryNodeThatSees(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var memos []*reads
	for i := range 4 {
		m := &reads{fact: fmt.Sprint("memo", i)}
		m.addName(fmt.Sprint("R", i))
		m.addEntry("Parameters", fmt.Sprint("R", i+1))
		memos = append(memos, m)
	}
	nodes := make([]*reads, 40)
	for i := range nodes {
		nodes[i] = randomReads(r, memos)
	}
	x := newReadIndex(nodes)
	found := 0
	for step := range 2000 {
		c := &change{section: []string{"Resources", "Parameters", "Conditions", "Outputs", ""}[r.IntN(5)]}
		for range 1 + r.IntN(2) {
			if c.section == "" { // top-level pairs, by key
				c.names = append(c.names, []string{"Description", "Globals", "Transform"}[r.IntN(3)])
			} else {
				c.names = append(c.names, fmt.Sprint("R", r.IntN(20)))
			}
		}
		if c.section == "Resources" {
			c.types = []string{fmt.Sprint("T", r.IntN(5))}
			c.typesChanged = r.IntN(3) == 0
		}
		if r.IntN(2) == 0 {
			c.refs = []string{fmt.Sprint("R", r.IntN(20))}
		}
		values := keysChanged{}
		if r.IntN(3) == 0 {
			values[keyedFacts[r.IntN(len(keyedFacts))]] = map[string]bool{fmt.Sprint("R", r.IntN(20)): true}
		}
		stamp := uint64(step + 1)
		got := x.lookup(c, stamp, values)
		for id, rd := range nodes {
			if rd.sees(c, stamp, values) {
				found++
				if !slices.Contains(got, int32(id)) {
					t.Fatalf("step %d: node %d sees %+v but the lookup returned %v", step, id, *c, got)
				}
			}
		}
	}
	if found < 500 {
		t.Fatalf("only %d nodes saw a change in 2000: the test proves little", found)
	}
}
