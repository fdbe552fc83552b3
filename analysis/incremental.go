package analysis

import (
	"context"
	"sync/atomic"

	"github.com/soc2ls/soc2ls/analysis/template"
)

// Incremental analysis. An analysis keeps, per resource and per
// whole-template rule, the findings its checks reported and what they read
// of other resources (reads). When an edit changed only the value of one
// resource (template.ReparseDelta says so), the next analysis re-runs the
// checks of that resource and of every check that read it, by name, by
// type, or through references it makes or made; every other check keeps its
// findings, their spans moved with the text after the edit. Edits anywhere
// else (parameters, conditions, a new resource...) re-run every check, as
// do engines that build fixes, whose edits are not tracked.
// TestReanalyzeMatchesAnalyze and FuzzReanalyze (analysis/rules) hold the
// result to a from-scratch analysis of the same text.

// runCache is what an analysis keeps for the next one.
type runCache struct {
	engine    *Engine    // the identity of the engine that ran the checks
	resources []checkRun // per resource, in template order
	global    []checkRun // per whole-template rule, in engine order
	// gathered are the values of the resource facts the checks gathered,
	// facts those of the Facts they used.
	gathered map[*ResourceFact]*gathering
	facts    map[*Fact]*factValue
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

// checkRun is the outcome of the checks of one resource, or of one
// whole-template rule: their findings, before suppressions, and what they
// read.
type checkRun struct {
	findings []Finding
	reads    *reads // shared by the runs that keep these findings
	// delta moves every offset of findings: a run kept across edits before
	// all its spans is moved by adding to it, not by copying its findings.
	// lo and hi bound those offsets (before delta), related spans included.
	delta, lo, hi int
	// fixEdits says a finding carries fix edits, which are not tracked:
	// such a run is never kept.
	fixEdits bool
}

// seal records the bounds of a run's freshly reported findings.
func (r *checkRun) seal() {
	r.delta, r.lo, r.hi, r.fixEdits = 0, 0, 0, false
	for i, f := range r.findings {
		lo, hi := f.Span.Start, f.Span.End
		for _, rel := range f.Related {
			lo, hi = min(lo, rel.Span.Start), max(hi, rel.Span.End)
		}
		if i == 0 {
			r.lo, r.hi = lo, hi
		}
		r.lo, r.hi = min(r.lo, lo), max(r.hi, hi)
		if hasEdits(f.Fixes) {
			r.fixEdits = true
		}
	}
}

// moved returns f with its offsets moved by delta.
func moved(f Finding, delta int) Finding {
	if delta == 0 {
		return f
	}
	f.Span = template.Span{Start: f.Span.Start + delta, End: f.Span.End + delta}
	if len(f.Related) > 0 {
		rel := make([]Related, len(f.Related))
		for j, r := range f.Related {
			r.Span = template.Span{Start: r.Span.Start + delta, End: r.Span.End + delta}
			rel[j] = r
		}
		f.Related = rel
	}
	return f
}

// reuse is the previous analysis an incremental one may take findings
// from.
type reuse struct {
	prev   *runCache
	index  int // the edited resource, whose checks always run again
	change *resourceChange
	delta  *template.Delta
	stamp  uint64 // identifies this re-analysis (reads.seen)
}

// reuseStamps numbers re-analyses; 0 is never a stamp.
var reuseStamps atomic.Uint64

// keep copies prev into next, with its spans moved past the edit, when its
// checks cannot have read what the edit changed; it reports whether it did.
func (u *reuse) keep(a *analysisRun, prev, next *checkRun) bool {
	if prev.fixEdits || prev.reads.sees(u.change, u.stamp, a) {
		return false
	}
	d := u.delta
	switch lo, hi := prev.lo+prev.delta, prev.hi+prev.delta; {
	case len(prev.findings) == 0 || hi < d.Start:
		*next = *prev
	case lo > d.OldEnd:
		*next = *prev
		next.delta += d.Shift
	default:
		// Spans on both sides of the edit: move them one by one.
		fs, ok := shiftFindings(prev.findings, prev.delta, d)
		if !ok {
			return false
		}
		next.findings, next.reads = fs, prev.reads
		next.seal()
	}
	return true
}

// shiftFindings returns copies of findings, their offsets moved by base
// and then past the edit d; it fails when a span ends or starts inside the
// edited bytes, which only a check that read the edited resource can report
// (and such a check runs again anyway).
func shiftFindings(fs []Finding, base int, d *template.Delta) ([]Finding, bool) {
	out := make([]Finding, len(fs))
	for i, f := range fs {
		var ok bool
		if f.Span, ok = shiftSpan(f.Span, base, d); !ok {
			return nil, false
		}
		if len(f.Related) > 0 {
			rel := make([]Related, len(f.Related))
			for j, r := range f.Related {
				if r.Span, ok = shiftSpan(r.Span, base, d); !ok {
					return nil, false
				}
				rel[j] = r
			}
			f.Related = rel
		}
		out[i] = f
	}
	return out, true
}

func hasEdits(fixes []Fix) bool {
	for _, fx := range fixes {
		if len(fx.Edits) > 0 {
			return true
		}
	}
	return false
}

// shiftSpan moves a span for an edit: offsets before it stay, offsets after
// it move by the edit's length change, offsets at its ends or inside it fail.
func shiftSpan(s template.Span, base int, d *template.Delta) (template.Span, bool) {
	var ok1, ok2 bool
	s.Start, ok1 = shiftOffset(s.Start+base, d)
	s.End, ok2 = shiftOffset(s.End+base, d)
	return s, ok1 && ok2
}

func shiftOffset(o int, d *template.Delta) (int, bool) {
	switch {
	case o < d.Start:
		return o, true
	case o > d.OldEnd:
		return o + d.Shift, true
	}
	return 0, false
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
	return e.reanalyze(ctx, prev, src, start, end, n, true)
}

func (e *Engine) reanalyze(ctx context.Context, prev *Result, src []byte, start, end, n int, inPlace bool) (*Result, error) {
	wasCloudFormation := prev.Template.IsCloudFormation // read before a re-parse that may consume it
	reparse := template.ReparseDelta
	if inPlace {
		reparse = template.ReparseInPlace
	}
	t, delta := reparse(prev.Template, src, start, end, n)
	res, err := e.checkContext(ctx, t, e.reuseFor(prev, wasCloudFormation, t, delta))
	res.ConsumedPrevious = inPlace && delta != nil
	return res, err
}

// reuseFor returns what an analysis of t may reuse of prev, or nil when
// every check must run. It reads the edited resource's old state from the
// delta only: prev's template may have been consumed.
func (e *Engine) reuseFor(prev *Result, wasCloudFormation bool, t *template.Template, d *template.Delta) *reuse {
	c := prev.cache
	if c == nil || c.engine != e.identity || !e.noFixes || d == nil || d.Section != "Resources" ||
		!wasCloudFormation || !t.IsCloudFormation ||
		len(c.resources) != len(t.Resources) || len(c.global) != len(e.global) ||
		d.Index >= len(t.Resources) || t.Resources[d.Index].Name != d.Old.Key.Value {
		return nil
	}
	return &reuse{
		prev:   c,
		index:  d.Index,
		change: newResourceChange(d.Old.Key.Value, d.Old.Value.Get("Type").Text(), d.OldRefs, t),
		delta:  d,
		stamp:  reuseStamps.Add(1),
	}
}
