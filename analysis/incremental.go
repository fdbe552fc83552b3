package analysis

import (
	"context"

	"github.com/soc2ls/soc2ls/analysis/template"
)

// Reanalyze checks src, which is prev's source with the bytes [start, end)
// replaced by n bytes, re-reading only the part of the text the edit touches
// when it can (template.Reparse). The result equals Analyze(filename, src):
// the rules run on the whole new template, since their findings may depend
// on any part of it.
func (e *Engine) Reanalyze(prev *template.Template, src []byte, start, end, n int) *Result {
	res, _ := e.ReanalyzeContext(context.Background(), prev, src, start, end, n)
	return res
}

// ReanalyzeContext is Reanalyze that stops checking when ctx is done: the
// result then has the new template but no findings, and the error is ctx's.
func (e *Engine) ReanalyzeContext(ctx context.Context, prev *template.Template, src []byte, start, end, n int) (*Result, error) {
	return e.checkContext(ctx, template.Reparse(prev, src, start, end, n))
}
