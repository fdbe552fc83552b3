package report

import (
	"encoding/json"
	"io"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// JSONVersion is the version of the JSON shape written by JSON. It changes
// only when a field is removed or changes meaning; new fields may appear.
const JSONVersion = 1

// The JSON shape, documented in docs/cli.md. Every field is always present
// (empty arrays as [], not null) so that consumers need no existence checks.
type (
	jsonReport struct {
		Version int         `json:"version"`
		Tool    jsonTool    `json:"tool"`
		Files   []jsonFile  `json:"files"`
		Summary jsonSummary `json:"summary"`
		Errors  []string    `json:"errors"`
	}
	jsonTool struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	jsonFile struct {
		Path       string           `json:"path"`
		Findings   []jsonFinding    `json:"findings"`
		Suppressed []jsonSuppressed `json:"suppressed"`
		Baselined  int              `json:"baselined"` // findings matched by the baseline, not listed
	}
	// jsonSuppressed is a suppressed finding with the exception that
	// silences it.
	jsonSuppressed struct {
		jsonFinding
		Suppression jsonSuppression `json:"suppression"`
	}
	jsonSuppression struct {
		Source  string    `json:"source"`  // metadata, comment, cfn_nag, checkov, guard
		Written string    `json:"written"` // the other tool's id, for cfn_nag/checkov/guard
		Reason  string    `json:"reason"`
		Range   jsonRange `json:"range"` // where the suppression is written
	}
	jsonFinding struct {
		RuleID   string        `json:"ruleId"`
		Severity string        `json:"severity"`
		Message  string        `json:"message"`
		Controls []string      `json:"controls"`
		Resource string        `json:"resource"`
		Possible bool          `json:"possible"`
		Range    jsonRange     `json:"range"`
		Related  []jsonRelated `json:"related"`
		Fixes    []jsonFix     `json:"fixes"`
	}
	jsonRange struct {
		Start jsonPosition `json:"start"`
		End   jsonPosition `json:"end"`
	}
	jsonPosition struct {
		Line   int `json:"line"`   // 1-based
		Column int `json:"column"` // 1-based, UTF-16 code units
		Offset int `json:"offset"` // 0-based byte offset
	}
	jsonRelated struct {
		Range   jsonRange `json:"range"`
		Message string    `json:"message"`
	}
	jsonFix struct {
		Title  string     `json:"title"`
		Unsafe bool       `json:"unsafe"`
		Edits  []jsonEdit `json:"edits"`
	}
	jsonEdit struct {
		Range   jsonRange `json:"range"`
		NewText string    `json:"newText"`
	}
	jsonSummary struct {
		FilesChecked      int            `json:"filesChecked"`
		FilesWithFindings int            `json:"filesWithFindings"`
		Findings          int            `json:"findings"`
		BySeverity        map[string]int `json:"bySeverity"`
		Suppressed        int            `json:"suppressed"`
		Baselined         int            `json:"baselined"`
	}
)

// JSON writes the results as one JSON document (shape version JSONVersion,
// documented in docs/cli.md). Every file checked is listed, with or without
// findings.
func JSON(w io.Writer, files []FileResult, info Info) error {
	s := Summarize(files)
	out := jsonReport{
		Version: JSONVersion,
		Tool:    jsonTool{Name: "soc2ls", Version: info.ToolVersion},
		Files:   make([]jsonFile, 0, len(files)),
		Summary: jsonSummary{
			FilesChecked:      s.FilesChecked,
			FilesWithFindings: s.FilesWithFindings,
			Findings:          s.Findings,
			BySeverity:        map[string]int{"error": s.Errors, "warning": s.Warnings, "info": s.Info, "hint": s.Hints},
			Suppressed:        s.Suppressed,
			Baselined:         s.Baselined,
		},
		Errors: append([]string{}, info.Errors...),
	}
	for _, f := range files {
		jf := jsonFile{Path: f.Path, Findings: make([]jsonFinding, 0, len(f.Findings)), Suppressed: make([]jsonSuppressed, 0, len(f.Suppressed)), Baselined: len(f.Baselined)}
		for _, fd := range f.Findings {
			jf.Findings = append(jf.Findings, jsonFindingOf(f.Template.Lines, fd))
		}
		for _, fd := range f.Suppressed {
			s := fd.Suppression
			jf.Suppressed = append(jf.Suppressed, jsonSuppressed{
				jsonFinding: jsonFindingOf(f.Template.Lines, fd),
				Suppression: jsonSuppression{Source: string(s.Source), Written: s.Written, Reason: s.Reason, Range: jsonRangeOf(f.Template.Lines, s.Span.Start, s.Span.End)},
			})
		}
		out.Files = append(out.Files, jf)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // messages quote YAML like `<<` and `&name`
	return enc.Encode(out)
}

func jsonFindingOf(lines *template.Lines, fd analysis.Finding) jsonFinding {
	jf := jsonFinding{
		RuleID:   fd.RuleID,
		Severity: fd.Severity.String(),
		Message:  fd.Message,
		Controls: append([]string{}, fd.Controls...),
		Resource: fd.Resource,
		Possible: fd.Possible,
		Range:    jsonRangeOf(lines, fd.Span.Start, fd.Span.End),
		Related:  make([]jsonRelated, 0, len(fd.Related)),
		Fixes:    make([]jsonFix, 0, len(fd.Fixes)),
	}
	for _, r := range fd.Related {
		jf.Related = append(jf.Related, jsonRelated{Range: jsonRangeOf(lines, r.Span.Start, r.Span.End), Message: r.Message})
	}
	for _, fx := range fd.Fixes {
		jx := jsonFix{Title: fx.Title, Unsafe: fx.Unsafe, Edits: make([]jsonEdit, 0, len(fx.Edits))}
		// Sorted and without duplicates (two parts of a fix may add the same
		// parameter), so that consumers can apply them from last to first.
		edits, err := edit.Normalize(fx.Edits)
		if err != nil {
			edits = fx.Edits
		}
		for _, e := range edits {
			jx.Edits = append(jx.Edits, jsonEdit{Range: jsonRangeOf(lines, e.Start, e.End), NewText: e.NewText})
		}
		jf.Fixes = append(jf.Fixes, jx)
	}
	return jf
}

func jsonRangeOf(lines *template.Lines, start, end int) jsonRange {
	return jsonRange{Start: jsonPositionOf(lines, start), End: jsonPositionOf(lines, end)}
}

func jsonPositionOf(lines *template.Lines, off int) jsonPosition {
	p := lines.Position(off)
	return jsonPosition{Line: p.Line, Column: p.Column, Offset: p.Offset}
}
