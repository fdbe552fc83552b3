// Package report writes analysis results for people and for machines:
// compiler-style text, a documented JSON shape, SARIF 2.1.0 for
// code-scanning services, GitHub Actions annotations and JUnit XML for CI
// test reports. Writers take the results of any number of files,
// so that the command line, a future report command and the language server
// share one implementation.
package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// StdinPath is the path shown for a document read from standard input.
const StdinPath = "<stdin>"

// FileResult is the analysis of one file.
type FileResult struct {
	// Path is the file as the user should see it: relative paths stay
	// relative (SARIF resolves them against Info.SrcRoot), StdinPath for
	// standard input.
	Path string
	// Template is the analysed document; writers use it to turn byte
	// offsets into lines and columns.
	Template *template.Template
	Findings []analysis.Finding
	// Suppressed are the findings silenced by documented exceptions, each
	// with its Suppression. JSON and SARIF always record them (an auditor
	// reviews every exception); text shows them only when asked.
	Suppressed []analysis.Finding
	// Baselined are the findings recorded in the baseline the run was
	// given (package baseline): known debt, not reported as findings and not
	// counted for the exit status. Writers report how many there are.
	Baselined []analysis.Finding
}

// Info describes the run being reported, beyond its results.
type Info struct {
	// ToolVersion is the soc2ls version.
	ToolVersion string
	// Rules are the rules that ran, meta rules included, in the order SARIF
	// lists them. Findings of rules not listed here are still written.
	Rules []*analysis.Rule
	// SrcRoot is the absolute directory that relative paths are relative to
	// (usually the working directory); SARIF names it %SRCROOT%. Optional.
	SrcRoot string
	// Errors are problems that kept files from being checked (unreadable
	// files, failed writes). SARIF marks such a run as unsuccessful.
	Errors []string
	// ShowSuppressed makes the text format list suppressed findings too.
	ShowSuppressed bool
}

// Writer writes the results of a run in one format. Files and findings are
// written in the order given: call Sort first for deterministic output.
type Writer func(w io.Writer, files []FileResult, info Info) error

// Formats lists the names Lookup accepts.
var Formats = []string{"text", "json", "sarif", "github", "junit"}

// Lookup returns the writer for a format name.
func Lookup(format string) (Writer, bool) {
	switch format {
	case "text":
		return Text, true
	case "json":
		return JSON, true
	case "sarif":
		return SARIF, true
	case "github":
		return GitHub, true
	case "junit":
		return JUnit, true
	}
	return nil, false
}

// Sort orders files by path and each file's findings by position, so that
// output does not depend on the order in which files were analysed.
func Sort(files []FileResult) {
	sort.SliceStable(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	for _, f := range files {
		analysis.SortFindings(f.Findings)
		analysis.SortFindings(f.Suppressed)
		analysis.SortFindings(f.Baselined)
	}
}

// Summary counts the findings of a run.
type Summary struct {
	FilesChecked      int
	FilesWithFindings int
	Findings          int
	Errors            int
	Warnings          int
	Info              int
	Hints             int
	// Suppressed counts the findings silenced by documented exceptions; they
	// are not in Findings.
	Suppressed int
	// Baselined counts the findings matched by the baseline; they are not
	// in Findings either.
	Baselined int
}

// Summarize counts the findings of files; every file counts as checked.
func Summarize(files []FileResult) Summary {
	s := Summary{FilesChecked: len(files)}
	for _, f := range files {
		s.Suppressed += len(f.Suppressed)
		s.Baselined += len(f.Baselined)
		if len(f.Findings) > 0 {
			s.FilesWithFindings++
		}
		for _, fd := range f.Findings {
			s.Findings++
			switch fd.Severity {
			case analysis.Error:
				s.Errors++
			case analysis.Warning:
				s.Warnings++
			case analysis.Info:
				s.Info++
			default:
				s.Hints++
			}
		}
	}
	return s
}

// AtLeast returns the number of findings of severity min or worse.
func (s Summary) AtLeast(min analysis.Severity) int {
	n := 0
	for sev, c := range map[analysis.Severity]int{analysis.Error: s.Errors, analysis.Warning: s.Warnings, analysis.Info: s.Info, analysis.Hint: s.Hints} {
		if sev >= min {
			n += c
		}
	}
	return n
}

// String renders the summary as one line, e.g.
// "3 errors, 2 warnings in 2 files (5 files checked)".
func (s Summary) String() string {
	checked := plural(s.FilesChecked, "file", "files") + " checked"
	if s.Suppressed > 0 {
		checked += ", " + plural(s.Suppressed, "finding", "findings") + " suppressed"
	}
	if s.Baselined > 0 {
		checked += ", " + plural(s.Baselined, "finding", "findings") + " baselined"
	}
	if s.Findings == 0 {
		return "no findings (" + checked + ")"
	}
	var parts []string
	for _, c := range []struct {
		n            int
		one, several string
	}{{s.Errors, "error", "errors"}, {s.Warnings, "warning", "warnings"}, {s.Info, "info", "info"}, {s.Hints, "hint", "hints"}} {
		if c.n > 0 {
			parts = append(parts, plural(c.n, c.one, c.several))
		}
	}
	return fmt.Sprintf("%s in %s (%s)", strings.Join(parts, ", "), plural(s.FilesWithFindings, "file", "files"), checked)
}

func plural(n int, one, several string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, several)
}

// oneLine keeps a message on one line, so that each finding is one line of
// text output that grep and editors' error parsers can read.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}
