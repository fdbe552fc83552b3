package analysis

import (
	"context"
	"math"
	"slices"
	"sort"
	"sync/atomic"

	"github.com/soc2ls/soc2ls/analysis/template"
)

// Incremental analysis. An analysis keeps what every check (the rules of
// one resource, or one whole-template rule) read of other resources and of
// the entries of Parameters, Conditions, Mappings and Outputs (reads), an
// index from what was read to the checks that read it (readIndex), its
// active and suppressed findings, sorted, each with the check that
// reported it, and the template's suppressions. When the re-parse replaced
// a run of entries of one of those sections (or of Metadata) (template.Delta: a value
// edited, a key renamed, entries added, deleted or pasted), the next
// analysis re-runs the checks of the new resources, the checks the index
// says may have read the old or new entries (by name, by type, through
// references they make or made, or as one of every entry of their
// section), and any check with a finding whose offsets fall inside the
// edited bytes; when resources came or went, the ids of the checks after
// them move (renumber). It then builds the new sorted findings from the
// previous ones by dropping the re-run checks', moving the spans after the
// edit and merging in the new ones (splice), and updates the suppressions
// from the edited entries (supCache.update, resplit). Its cost is that of
// the checks it re-runs plus tight passes over the flat meta of the
// findings: it visits no other check. An edit of the template's Metadata
// re-runs the checks that read it. A top-level edit of nothing but
// comments and layout re-runs no check; edits anywhere else (Description,
// a parse from scratch) re-run every check, as do engines that build
// fixes, whose edits are not tracked.
// TestReanalyzeMatchesAnalyze and FuzzReanalyze (analysis/rules) hold the
// result to a from-scratch analysis of the same text;
// TestKeystrokeCostStaysSmall, TestEntryEditCostStaysSmall and
// TestStructuralEditCostStaysSmall hold the checks it visits to the few it
// re-runs.

// runCache is what an analysis keeps for the next one.
type runCache struct {
	engine *Engine // the identity of the engine that ran the checks
	nres   int     // checks 0..nres-1 are the resources', the rest the whole-template rules'
	// reads are what each check read, by check.
	reads []*reads
	index ownedIndex
	// active and suppressed are the result's findings (Result.Findings and
	// Result.Suppressed), sorted (compareOwned), with their meta; the
	// findings about suppressions are active, with check len(reads) as
	// their owner. supList are the template's suppressions (sups.list()),
	// uses the number of findings that use each (suppressionOf).
	active, suppressed findingSet
	supList            []*Suppression
	uses               []int32
	// gathered are the values of the resource facts the checks gathered,
	// facts those of the Facts they used.
	gathered map[*ResourceFact]*gathering
	facts    map[*Fact]*factValue
	// consumed is set when a re-analysis took the cache's arrays over
	// (reuse.owned): nothing may reuse it any more.
	consumed atomic.Bool
	// sups are the template's suppressions, lines its number of lines.
	sups  *supCache
	lines int
}

// analysisRun is the state one analysis shares among its passes: the
// memoised facts, the gathered resource facts, and what it may reuse.
type analysisRun struct {
	engine   *Engine
	template *template.Template
	memo     map[string]*fact
	gathered map[*ResourceFact]*gathering
	facts    map[*Fact]*factValue
	reuse    *reuse // nil for an analysis from scratch
}

// findingMeta is what the incremental analysis needs to know about a
// finding without reading it: the check that reported it (-1 for a parse
// problem), the least and greatest offsets of its span and related spans,
// and the line its span starts on (which suppressions match). It is flat
// data, so that the passes over every finding are tight.
type findingMeta struct {
	lo, hi      int32
	owner, line int32
}

// findingSet is sorted findings with their meta.
type findingSet struct {
	fs []Finding
	ms []findingMeta
}

// checkRun is the outcome of one check run: its findings, before
// suppressions, and what it read.
type checkRun struct {
	findings []Finding
	reads    *reads
}

// metaOf returns the meta of a finding reported by check owner in a
// document with the given lines.
func metaOf(f *Finding, owner int32, lines *template.Lines) findingMeta {
	lo, hi := f.Span.Start, f.Span.End
	for _, rel := range f.Related {
		lo, hi = min(lo, rel.Span.Start), max(hi, rel.Span.End)
	}
	return findingMeta{lo: int32(lo), hi: int32(hi), owner: owner, line: int32(lines.LineOf(f.Span.Start))}
}

// reuse is the previous analysis an incremental one may take findings
// from.
type reuse struct {
	prev *runCache
	// The edit re-read the resources [first, first+count) of the new
	// template, which replace removed resources of the old one from first
	// on: their checks (and resource facts) always run again. For an edit of
	// another section, all three are 0. When count differs from removed,
	// the checks and resources after them move by the difference (newID).
	first, count, removed int
	change                *change
	delta                 *template.Delta
	stamp                 uint64 // identifies this re-analysis (reads.seen)
	visited               int    // the checks examined (Result.Visited)
	// owned says the previous analysis is consumed (ReanalyzeInPlace): its
	// arrays are this one's to reuse.
	owned bool
	// oldLo and newHi bound the edited entries, with the edited bytes, in
	// the new text: the only region where the template's comment
	// suppressions may have changed (oldLo precedes the edit).
	oldLo, newHi int
}

// reuseStamps numbers re-analyses; 0 is never a stamp.
var reuseStamps atomic.Uint64

// renumbers reports whether the edit changed the number of resources, and
// so the ids of the checks and resources after those it re-read.
func (u *reuse) renumbers() bool { return u.count != u.removed }

// replaced reports whether id, a check or resource of the previous
// analysis, is one the edit re-read (which runs again, or is gone).
func (u *reuse) replaced(id int32) bool {
	return id >= int32(u.first) && id < int32(u.first+u.removed)
}

// newID returns the id in the new analysis of check or resource id of the
// previous one, which must not be one the edit replaced when the edit
// renumbers.
func (u *reuse) newID(id int32) int32 {
	if id < int32(u.first+u.removed) {
		return id
	}
	return id + int32(u.count-u.removed)
}

// renumber makes the index, and what ids name (reads, by id), those of the
// new analysis, when the edit changed the number of resources: the
// replaced ones' reads leave the index, the others' ids move, and the new
// ones get placeholders with no reads (noReads). It returns the new reads;
// unless owned, those given are not modified.
func (u *reuse) renumber(x *readIndex, rs []*reads) []*reads {
	if !u.renumbers() {
		return rs
	}
	for id := u.first; id < u.first+u.removed; id++ {
		x.remove(int32(id), rs[id])
	}
	x.shiftIDs(int32(u.first+u.removed), int32(u.count-u.removed))
	if !u.owned {
		rs = slices.Clone(rs)
	}
	return slices.Replace(rs, u.first, u.first+u.removed, slices.Repeat([]*reads{noReads}, u.count)...)
}

// renumberFindings returns set with the findings of the replaced checks
// removed and the owners of the others renumbered, when the edit changed
// the number of resources (set is modified only when owned).
func (u *reuse) renumberFindings(set findingSet) findingSet {
	if !u.renumbers() {
		return set
	}
	out := set
	if !u.owned {
		out = findingSet{make([]Finding, 0, cap(set.fs)), make([]findingMeta, 0, cap(set.ms))}
	}
	n := 0
	for i, m := range set.ms {
		if u.replaced(m.owner) {
			continue
		}
		m.owner = u.newID(m.owner)
		if u.owned {
			out.fs[n], out.ms[n] = set.fs[i], m
		} else {
			out.fs, out.ms = append(out.fs, set.fs[i]), append(out.ms, m)
		}
		n++
	}
	if u.owned {
		clear(out.fs[n:])
		out.fs, out.ms = out.fs[:n], out.ms[:n]
	}
	return out
}

// rerun returns the checks that must run again, in order, with their ids in
// the new analysis: those of the resources the edit re-read, those whose
// reads may see the change, and those with a finding that has an offset
// inside the edited bytes (which cannot be moved); and how many checks it
// examined to find them. x has the previous analysis's ids: the caller
// renumbers it afterwards.
func (u *reuse) rerun(a *analysisRun, x *readIndex) (ids []int32, visited int) {
	p, d := u.prev, u.delta
	found := x.lookup(u.change, u.stamp, a)
	var out []int32
	for _, id := range found {
		if int(id) < len(p.reads) && !u.replaced(id) && p.reads[id].sees(u.change, u.stamp, a) {
			out = append(out, id)
		}
	}
	start, end := int32(d.Start), int32(d.OldEnd)
	for _, set := range []*findingSet{&p.active, &p.suppressed} {
		for i, m := range set.ms {
			if m.lo <= end && m.hi >= start && m.owner >= 0 && int(m.owner) < len(p.reads) && !u.replaced(m.owner) && !movable(&set.fs[i], d) {
				out = append(out, m.owner)
			}
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	visited = len(slices.Compact(slices.Sorted(slices.Values(slices.Concat(found, out))))) + u.count
	for i, id := range out {
		out[i] = u.newID(id)
	}
	for id := u.first; id < u.first+u.count; id++ {
		out = append(out, int32(id))
	}
	slices.Sort(out)
	return out, visited
}

// movable reports whether no offset of f lies inside the edited bytes (or
// at their ends), so that moving it past the edit is exact.
func movable(f *Finding, d *template.Delta) bool {
	in := func(o int) bool { return o >= d.Start && o <= d.OldEnd }
	if in(f.Span.Start) || in(f.Span.End) {
		return false
	}
	for _, r := range f.Related {
		if in(r.Span.Start) || in(r.Span.End) {
			return false
		}
	}
	return true
}

// hasEdits reports whether one of fixes carries edits.
func hasEdits(fixes []Fix) bool {
	for _, fx := range fixes {
		if len(fx.Edits) > 0 {
			return true
		}
	}
	return false
}

// shiftOffset moves an offset of the old text, outside the edited bytes,
// to the new text.
func shiftOffset(o int, d *template.Delta) int {
	if o > d.OldEnd {
		return o + d.Shift
	}
	return o
}

// compareOwned orders findings by position, rule and message, and then by
// the check that reported them (problems, resources, whole-template rules),
// which is the order of a stable sort of problems, resources and
// whole-template rules.
func compareOwned(a, b *Finding, ao, bo int32) int {
	if c := compareFindings(*a, *b); c != 0 {
		return c
	}
	return int(ao) - int(bo)
}

func (o findingSet) Len() int { return len(o.fs) }
func (o findingSet) Less(i, j int) bool {
	return compareOwned(&o.fs[i], &o.fs[j], o.ms[i].owner, o.ms[j].owner) < 0
}
func (o findingSet) Swap(i, j int) {
	o.fs[i], o.fs[j] = o.fs[j], o.fs[i]
	o.ms[i], o.ms[j] = o.ms[j], o.ms[i]
}

// sortOwned sorts findings by compareOwned, keeping the order of equals.
func sortOwned(o findingSet) {
	if !sort.IsSorted(o) {
		sort.Stable(o)
	}
}

// splice returns the sorted findings of the new analysis: the previous
// ones, prev, less those of the checks marked in drop (indexed by check +
// 1, problems being check -1) and moved past the edit, merged with fresh,
// which is sorted and in the new text's coordinates. Kept findings are the
// same values, sharing their criteria, fixes and related locations, with
// their offsets moved; those whose related locations move get new ones.
// With owned, prev's arrays are the caller's to reuse: the new findings
// are spliced into them (see spliceInPlace).
func splice(prev findingSet, drop []bool, fresh findingSet, d *template.Delta, lineShift int, owned bool) findingSet {
	if len(prev.fs) == 0 && len(fresh.fs) == 0 {
		return findingSet{fs: []Finding{}} // empty, as an analysis's findings are
	}
	pieces := splicePlan(prev, drop, fresh, d)
	if owned {
		if out, ok := spliceInPlace(prev, pieces, fresh, d, lineShift); ok {
			return out
		}
	}
	n := 0
	for _, pc := range pieces {
		n += pc.len()
	}
	out := findingSet{make([]Finding, 0, withRoom(n)), make([]findingMeta, 0, withRoom(n))}
	for _, pc := range pieces {
		if pc.fresh() {
			out.fs, out.ms = append(out.fs, fresh.fs[pc.to]), append(out.ms, fresh.ms[pc.to])
			continue
		}
		base := len(out.fs)
		out.fs, out.ms = append(out.fs, prev.fs[pc.from:pc.to]...), append(out.ms, prev.ms[pc.from:pc.to]...)
		moveFindings(out.fs[base:], out.ms[base:], d, lineShift)
	}
	return out
}

// withRoom is the capacity for n findings: a little more, so that the
// next keystroke may add findings and still splice in place.
func withRoom(n int) int { return n + n/64 + 8 }

// piece is part of a spliced result: the previous findings [from, to), or
// (from < 0) the new finding fresh[to].
type piece struct{ from, to int }

func (pc piece) fresh() bool { return pc.from < 0 }

func (pc piece) len() int {
	if pc.fresh() {
		return 1
	}
	return pc.to - pc.from
}

// splicePlan lists the pieces of the spliced result in order: runs of kept
// previous findings, found by a tight pass over their meta, and the new
// findings, placed among them by binary search.
func splicePlan(prev findingSet, drop []bool, fresh findingSet, d *template.Delta) []piece {
	all, meta := prev.fs, prev.ms
	var pieces []piece
	i := 0
	for j := 0; j <= len(fresh.fs); j++ {
		end := len(all)
		if j < len(fresh.fs) {
			f, o := &fresh.fs[j], fresh.ms[j].owner
			end = i + sort.Search(len(all)-i, func(k int) bool { return compareMoved(&all[i+k], meta[i+k].owner, f, o, d) > 0 })
		}
		for i < end {
			for i < end && drop[meta[i].owner+1] {
				i++
			}
			k := i
			for k < end && !drop[meta[k].owner+1] {
				k++
			}
			if k > i {
				pieces = append(pieces, piece{i, k})
			}
			i = k
		}
		if j < len(fresh.fs) {
			pieces = append(pieces, piece{-1, j})
		}
	}
	return pieces
}

// spliceInPlace carries out the pieces in the previous arrays, when they
// have room: runs that move towards the start are moved first, in order,
// then those that move towards the end, in reverse order, so that none
// overwrites one not yet moved; the new findings go in last. In the usual
// keystroke the re-run checks report as many findings as before, no run
// moves, and what remains is moving the spans after the edit.
func spliceInPlace(prev findingSet, pieces []piece, fresh findingSet, d *template.Delta, lineShift int) (findingSet, bool) {
	n := 0
	for _, pc := range pieces {
		n += pc.len()
	}
	all, meta := prev.fs, prev.ms
	if n > cap(all) || n > cap(meta) {
		return findingSet{}, false
	}
	old := len(all)
	all, meta = all[:max(n, old)], meta[:max(n, old)]
	dst := make([]int, len(pieces))
	at := 0
	for k, pc := range pieces {
		dst[k] = at
		at += pc.len()
	}
	move := func(k int) {
		pc := pieces[k]
		if !pc.fresh() && dst[k] != pc.from {
			copy(all[dst[k]:], all[pc.from:pc.to])
			copy(meta[dst[k]:], meta[pc.from:pc.to])
		}
	}
	for k, pc := range pieces {
		if !pc.fresh() && dst[k] < pc.from {
			move(k)
		}
	}
	for k := len(pieces) - 1; k >= 0; k-- {
		if pc := pieces[k]; !pc.fresh() && dst[k] > pc.from {
			move(k)
		}
	}
	for k, pc := range pieces {
		if pc.fresh() {
			all[dst[k]], meta[dst[k]] = fresh.fs[pc.to], fresh.ms[pc.to]
		} else {
			moveFindings(all[dst[k]:dst[k]+pc.len()], meta[dst[k]:dst[k]+pc.len()], d, lineShift)
		}
	}
	clear(all[n:]) // no references from beyond the end
	return findingSet{all[:n], meta[:n]}, true
}

// compareMoved is compareOwned of a previous finding, as moved past the
// edit, and a new one. Previous findings that start inside the edited
// bytes all belong to checks that run again: they compare as if they
// started where the edit does, before anything else there, which keeps
// the previous findings in order for the binary search.
func compareMoved(old *Finding, oo int32, f *Finding, fo int32, d *template.Delta) int {
	s := old.Span.Start
	switch {
	case s < d.Start:
	case s > d.OldEnd:
		s += d.Shift
	default:
		if f.Span.Start == d.Start {
			return -1
		}
		s = d.Start
	}
	if s != f.Span.Start {
		return s - f.Span.Start
	}
	if c := compareRuleMessage(old, f); c != 0 {
		return c
	}
	return int(oo) - int(fo)
}

// moveFindings moves the offsets of copies of previous findings past the
// edit, and the lines of those that start after it, in one pass over their
// meta: most lie wholly before the edit (left alone) or wholly after it
// (moved by the edit's length change).
func moveFindings(fs []Finding, ms []findingMeta, d *template.Delta, lineShift int) {
	start, end, shift := int32(d.Start), int32(d.OldEnd), d.Shift
	for i := range ms {
		m := &ms[i]
		if m.hi < start {
			continue
		}
		f := &fs[i]
		if m.lo > end {
			f.Span.Start += shift
			f.Span.End += shift
			m.lo += int32(shift)
			m.hi += int32(shift)
			m.line += int32(lineShift)
		} else {
			if f.Span.Start > d.OldEnd {
				m.line += int32(lineShift)
			}
			f.Span.Start, f.Span.End = shiftOffset(f.Span.Start, d), shiftOffset(f.Span.End, d)
			m.hi = int32(shiftOffset(int(m.hi), d))
		}
		if len(f.Related) > 0 {
			rel := make([]Related, len(f.Related))
			for j, r := range f.Related {
				r.Span = template.Span{Start: shiftOffset(r.Span.Start, d), End: shiftOffset(r.Span.End, d)}
				rel[j] = r
			}
			f.Related = rel
		}
	}
}

// Reanalyze checks src, which is prev's source with the bytes [start, end)
// replaced by n bytes, re-reading only the part of the text the edit touches
// when it can (template.ReparseDelta) and re-running only the checks that
// may see the edit (see above). The result equals Analyze(filename, src).
func (e *Engine) Reanalyze(prev *Result, src []byte, start, end, n int) *Result {
	res, _ := e.ReanalyzeContext(context.Background(), prev, src, start, end, n)
	return res
}

// ReanalyzeContext is Reanalyze that stops checking when ctx is done: the
// result then has the new template but no findings, and the error is ctx's.
func (e *Engine) ReanalyzeContext(ctx context.Context, prev *Result, src []byte, start, end, n int) (*Result, error) {
	return e.reanalyze(ctx, prev, src, start, end, n, false)
}

// ReanalyzeInPlace is ReanalyzeContext that re-reads prev's template in
// place (template.ReparseInPlace), which saves copying what follows the
// edit: the caller must own prev.Template exclusively. When the result's
// ConsumedPrevious is set, prev.Template belongs to the result and nobody
// may use it again; otherwise it is untouched.
func (e *Engine) ReanalyzeInPlace(ctx context.Context, prev *Result, src []byte, start, end, n int) (*Result, error) {
	res, err := e.ReanalyzeInPlaceUnsettled(ctx, prev, src, start, end, n)
	res.Template.Settle()
	return res, err
}

// ReanalyzeInPlaceUnsettled is ReanalyzeInPlace that returns before the
// spans of most nodes of the resources after the edit are moved
// (template.ReparseInPlaceUnsettled): what the checks read was settled as
// they read it, so the findings are final, and the language server
// publishes them first. The caller must call res.Template.Settle before
// anyone else reads the template.
func (e *Engine) ReanalyzeInPlaceUnsettled(ctx context.Context, prev *Result, src []byte, start, end, n int) (*Result, error) {
	return e.reanalyze(ctx, prev, src, start, end, n, true)
}

func (e *Engine) reanalyze(ctx context.Context, prev *Result, src []byte, start, end, n int, inPlace bool) (*Result, error) {
	wasCloudFormation := prev.Template.IsCloudFormation // read before a re-parse that may consume it
	reparse := template.ReparseDelta
	if inPlace {
		reparse = template.ReparseInPlaceUnsettled
	}
	t, delta := reparse(prev.Template, src, start, end, n)
	res, err := e.checkContext(ctx, t, e.reuseFor(prev, wasCloudFormation, t, delta, inPlace))
	res.ConsumedPrevious = inPlace && delta != nil
	return res, err
}

// reuseFor returns what an analysis of t may reuse of prev, or nil when
// every check must run. It reads the edited entries' old state from the
// delta only: prev's template may have been consumed. With inPlace, the
// re-analysis consumes prev (its delta is not nil): it may reuse prev's
// arrays, after which no analysis may reuse prev.
func (e *Engine) reuseFor(prev *Result, wasCloudFormation bool, t *template.Template, d *template.Delta, inPlace bool) *reuse {
	c := prev.cache
	if c == nil || c.consumed.Load() || c.engine != e.identity || !e.noFixes || d == nil ||
		!wasCloudFormation || !t.IsCloudFormation || len(t.Source) >= math.MaxInt32 {
		return nil
	}
	u := &reuse{owned: inPlace, prev: c, delta: d, oldLo: d.Start, newHi: d.OldEnd + d.Shift}
	oldHi := d.OldEnd
	if len(d.Old) > 0 {
		// (An edit may start on the first entry's key line, before its key.)
		u.oldLo = min(u.oldLo, d.Old[0].Key.Start)
		oldHi = max(oldHi, d.Old[len(d.Old)-1].Value.End)
	}
	u.newHi = max(u.newHi, shiftOffset(oldHi, d))
	switch d.Section {
	case "":
		// Top-level keys other than the sections of entries (Description,
		// Transform, Globals...), which keep their keys: checks record the
		// ones they read through Template.Section.
		if d.Trivia {
			u.change = &change{trivia: true}
			break
		}
		if t.Root == nil || d.Index+d.New > len(t.Root.Pairs) || len(d.Old) != d.New {
			return nil
		}
		pairs := t.Root.Pairs[d.Index : d.Index+d.New]
		if len(pairs) > 0 {
			u.newHi = max(u.newHi, pairs[len(pairs)-1].Value.End)
		}
		u.change = newChange(d, pairs, t)
	case "Resources", "Parameters", "Conditions", "Mappings", "Outputs", "Metadata":
		// Checks record which resources and which of the other entries
		// they read (reads).
		sec := t.Sections[d.Section]
		if sec == nil || sec.Value.Kind != template.Mapping || d.Index+d.New > len(sec.Value.Pairs) {
			return nil
		}
		entries := sec.Value.Pairs[d.Index : d.Index+d.New]
		if d.Section == "Resources" {
			u.first, u.count, u.removed = d.Index, d.New, len(d.Old)
		}
		if c.nres-u.removed+u.count != len(t.Resources) || len(c.reads)-u.removed+u.count != len(t.Resources)+len(e.global) {
			return nil
		}
		if len(entries) > 0 {
			u.newHi = max(u.newHi, entries[len(entries)-1].Value.End)
		}
		u.change = newChange(d, entries, t)
	default:
		return nil
	}
	if inPlace && !c.consumed.CompareAndSwap(false, true) {
		return nil
	}
	u.stamp = reuseStamps.Add(1)
	return u
}
