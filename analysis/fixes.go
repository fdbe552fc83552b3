package analysis

import (
	"slices"

	"github.com/soc2ls/soc2ls/analysis/template"
)

// FixesOf returns the findings res.Findings[i], for each i in idx, with
// their fixes built: res is an analysis by e.WithoutFixes() (whose findings
// carry their fixes' titles but no edits), and only the checks that reported
// those findings run again, with fixes, on res's template. A code action or
// a hover under the cursor thus costs the checks of the resource there, not
// a run of every check, which at 1 MB is hundreds of milliseconds for each
// version a client asks code actions for (VS Code asks after every
// keystroke).
//
// ok is false when res does not say which check reported its findings (an
// analysis that kept no record for reuse, or whose record a later analysis
// consumed): the caller then needs Run.
func (e *Engine) FixesOf(res *Result, idx []int) (fs []Finding, ok bool) {
	c := res.cache
	if c == nil || c.engine != e.identity || c.consumed.Load() || e.noFixes ||
		len(c.active.fs) != len(res.Findings) || len(c.active.ms) != len(res.Findings) {
		return nil, false
	}
	t := res.Template
	checks := len(t.Resources) + len(e.global)
	if c.nres != len(t.Resources) || len(c.reads) != checks {
		return nil, false
	}
	var owners []int32
	for _, i := range idx {
		if i < 0 || i >= len(res.Findings) {
			return nil, false
		}
		// Parse problems (-1) and the findings about suppressions (owned
		// by check len(reads)) have no fixes.
		if o := c.active.ms[i].owner; o >= 0 && int(o) < checks && !slices.Contains(owners, o) {
			owners = append(owners, o)
		}
	}
	type key struct {
		rule, message string
		span          template.Span
	}
	built := map[key][]Fix{}
	a := &analysisRun{engine: e, template: t, memo: map[string]*fact{}, gathered: map[*ResourceFact]*gathering{}, facts: map[*Fact]*factValue{}}
	for _, o := range owners {
		var run checkRun
		e.runCheck(a, int(o), &run)
		for _, f := range run.findings {
			built[key{f.RuleID, f.Message, f.Span}] = f.Fixes
		}
	}
	fs = make([]Finding, len(idx))
	for k, i := range idx {
		f := res.Findings[i]
		if fixes, ok := built[key{f.RuleID, f.Message, f.Span}]; ok {
			f.Fixes = fixes
		}
		fs[k] = f
	}
	return fs, true
}
