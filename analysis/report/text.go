package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Text writes findings like a compiler, one per line, which editors and CI
// logs already know how to link to:
//
//	file:line:col: severity: message [RULE-ID] (CC7.2, CC2.1)
//	    file:line:col: note: related message
//
// Lines and columns are 1-based; columns count UTF-16 code units, as in
// editors and SARIF. With Info.ShowSuppressed, suppressed findings come first
// in each file, as `file:line:col: suppressed warning: ... (comment: reason)`.
// The summary is not written: see Summarize.
func Text(w io.Writer, files []FileResult, info Info) error {
	bw := bufio.NewWriter(w)
	for _, f := range files {
		if info.ShowSuppressed {
			for _, fd := range f.Suppressed {
				p := f.Template.Lines.Position(fd.Span.Start)
				fmt.Fprintf(bw, "%s:%d:%d: suppressed %s: %s [%s] (%s: %s)\n", f.Path, p.Line, p.Column, fd.Severity,
					oneLine(fd.Message), fd.RuleID, fd.Suppression.Source, oneLine(fd.Suppression.Reason))
			}
		}
		for _, fd := range f.Findings {
			p := f.Template.Lines.Position(fd.Span.Start)
			fmt.Fprintf(bw, "%s:%d:%d: %s: %s [%s]", f.Path, p.Line, p.Column, fd.Severity, oneLine(fd.Message), fd.RuleID)
			if len(fd.Controls) > 0 {
				fmt.Fprintf(bw, " (%s)", strings.Join(fd.Controls, ", "))
			}
			bw.WriteByte('\n')
			for _, r := range fd.Related {
				p := f.Template.Lines.Position(r.Span.Start)
				fmt.Fprintf(bw, "    %s:%d:%d: note: %s\n", f.Path, p.Line, p.Column, oneLine(r.Message))
			}
		}
	}
	return bw.Flush()
}
