package rules

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/soc2ls/soc2ls/analysis"
)

// TestFixesOfMatchesRun holds Engine.FixesOf, which re-runs only the checks
// that reported the findings asked for, to a run of every check with
// fixes, over the corpus and after incremental re-analyses (whose records
// of which check reported what are renumbered as resources come and go):
// every finding gets the same fixes, edits included, and at least one
// template's findings have fixes with edits, or the test proves nothing.
func TestFixesOfMatchesRun(t *testing.T) {
	full := analysis.NewEngine(All(), nil)
	eng := full.WithoutFixes()
	r := rand.New(rand.NewPCG(5, 6))
	corpus := incrementalCorpus(t)
	names := make([]string, 0, len(corpus))
	for name := range corpus {
		names = append(names, name)
	}
	slices.Sort(names)
	withEdits, checked := 0, 0
	for _, name := range names {
		res := eng.Analyze(name, corpus[name])
		for step := range 3 {
			if step > 0 {
				e, ok := hurtfulEdit(r, res.Template)
				if !ok {
					break
				}
				res = eng.Reanalyze(res, splice(res.Template.Source, e), e.start, e.end, len(e.text))
				if res.Template.Root == nil {
					break
				}
			}
			want := full.Run(res.Template)
			idx := make([]int, len(res.Findings))
			for i := range idx {
				idx[i] = len(idx) - 1 - i // any order
			}
			got, ok := full.FixesOf(res, idx)
			if !ok {
				t.Fatalf("%s, step %d: FixesOf cannot tell which checks reported the findings", name, step)
			}
			for k, i := range idx {
				f := got[k]
				if f.RuleID != res.Findings[i].RuleID || f.Span != res.Findings[i].Span {
					t.Fatalf("%s: FixesOf returned %s %v for finding %d (%s %v)", name, f.RuleID, f.Span, i, res.Findings[i].RuleID, res.Findings[i].Span)
				}
				j := slices.IndexFunc(want, func(w analysis.Finding) bool {
					return w.RuleID == f.RuleID && w.Span == f.Span && w.Message == f.Message
				})
				if j < 0 {
					t.Fatalf("%s: a run of every check has no %s at %v", name, f.RuleID, f.Span)
				}
				if !reflect.DeepEqual(f.Fixes, want[j].Fixes) {
					t.Fatalf("%s, step %d: the fixes of %s at %v differ:\n got %+v\nwant %+v", name, step, f.RuleID, f.Span, f.Fixes, want[j].Fixes)
				}
				checked++
				for _, fx := range f.Fixes {
					if len(fx.Edits) > 0 {
						withEdits++
						break
					}
				}
			}
		}
	}
	t.Logf("%d findings compared, %d with fix edits", checked, withEdits)
	if withEdits < 100 {
		t.Errorf("only %d findings had fixes with edits: the test proves little", withEdits)
	}
}
