package analysis

import "github.com/soc2ls/soc2ls/analysis/template"

// Reanalyze checks src, which is prev's source with the bytes [start, end)
// replaced by n bytes, re-reading only the part of the text the edit touches
// when it can (template.Reparse). The result equals Analyze(filename, src):
// the rules run on the whole new template, since their findings may depend
// on any part of it.
func (e *Engine) Reanalyze(prev *template.Template, src []byte, start, end, n int) *Result {
	t := template.Reparse(prev, src, start, end, n)
	active, suppressed := e.RunAll(t)
	return &Result{Template: t, Findings: active, Suppressed: suppressed}
}
