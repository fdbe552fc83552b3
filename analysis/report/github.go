package report

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/soc2ls/soc2ls/analysis"
)

// GitHub writes findings as GitHub Actions workflow commands, which the
// runner turns into annotations on the pull request's changed lines and in
// the job summary, without code scanning:
//
//	::error file=templates/app.yaml,line=4,col=3,endLine=4,endColumn=17,title=SOC2-CT-001::trail ... (CC7.2, CC2.1)
//
// Errors are ::error, warnings ::warning, info and hints ::notice. Columns
// are written only for a finding on one line: GitHub's annotations accept
// columns only when the start and end lines are the same. Paths are written
// slash-separated as given, which is what the runner expects when soc2ls runs
// from the repository root; standard input has no file. Suppressed findings
// are not written (they are documented exceptions), and I/O errors
// (Info.Errors) become file-less ::error commands so that the job shows why
// it failed.
func GitHub(w io.Writer, files []FileResult, info Info) error {
	bw := bufio.NewWriter(w)
	for _, f := range files {
		for _, fd := range f.Findings {
			start, end := f.Template.Lines.Position(fd.Span.Start), f.Template.Lines.Position(fd.Span.End)
			var props []string
			if f.Path != StdinPath {
				props = append(props, "file="+escapeGitHubProperty(filepath.ToSlash(f.Path)))
			}
			props = append(props, fmt.Sprintf("line=%d", start.Line))
			if start.Line == end.Line {
				props = append(props, fmt.Sprintf("col=%d", start.Column), fmt.Sprintf("endLine=%d", end.Line), fmt.Sprintf("endColumn=%d", end.Column))
			} else {
				props = append(props, fmt.Sprintf("endLine=%d", end.Line))
			}
			props = append(props, "title="+escapeGitHubProperty(fd.RuleID))
			msg := fd.Message
			if len(fd.Controls) > 0 {
				msg += " (" + strings.Join(fd.Controls, ", ") + ")"
			}
			fmt.Fprintf(bw, "::%s %s::%s\n", gitHubLevel(fd.Severity), strings.Join(props, ","), escapeGitHubData(msg))
		}
	}
	for _, e := range info.Errors {
		fmt.Fprintf(bw, "::error title=soc2ls::%s\n", escapeGitHubData(e))
	}
	return bw.Flush()
}

// gitHubLevel maps severities onto the three annotation levels.
func gitHubLevel(s analysis.Severity) string {
	switch s {
	case analysis.Error:
		return "error"
	case analysis.Warning:
		return "warning"
	}
	return "notice"
}

// escapeGitHubData escapes a command's message as the runner unescapes it
// (actions/toolkit, command.ts): % first, then the line breaks, which would
// otherwise end the command.
func escapeGitHubData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeGitHubProperty escapes a property value: as data, plus the ":" that
// ends the properties and the "," that separates them.
func escapeGitHubProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
