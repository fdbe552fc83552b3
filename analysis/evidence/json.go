package evidence

import (
	"encoding/json"
	"io"
	"time"
)

// JSONVersion is the version of the JSON shape written by JSON (documented in
// docs/report.md). It changes only when a field is removed or changes
// meaning; new fields may appear.
const JSONVersion = 1

// The JSON shape. Every field is always present, arrays as [] rather than
// null, except exception, which only suppressed findings have.
type (
	jsonReport struct {
		Version         int             `json:"version"`
		Tool            jsonTool        `json:"tool"`
		Generated       string          `json:"generated"`
		Scope           string          `json:"scope"`
		GroupedByFolder bool            `json:"groupedByFolder"`
		Columns         []jsonColumn    `json:"columns"`
		Files           []jsonFile      `json:"files"`
		Criteria        []jsonCriterion `json:"criteria"`
		Problems        []jsonFinding   `json:"problems"`
		Summary         jsonSummary     `json:"summary"`
		Errors          []string        `json:"errors"`
	}
	jsonTool struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	jsonColumn struct {
		Name  string   `json:"name"`
		Files []string `json:"files"`
	}
	jsonFile struct {
		Path      string `json:"path"`
		Column    int    `json:"column"`
		Resources int    `json:"resources"`
	}
	jsonCriterion struct {
		ID         string         `json:"id"`
		Title      string         `json:"title"`
		Category   string         `json:"category"`
		Summary    string         `json:"summary"`
		Status     Status         `json:"status"`
		Counts     jsonCounts     `json:"counts"`
		Cells      []jsonCell     `json:"cells"`
		Rules      []string       `json:"rules"`
		Evidence   []jsonEvidence `json:"evidence"`
		Findings   []jsonFinding  `json:"findings"`
		Exceptions []jsonFinding  `json:"exceptions"`
	}
	jsonCounts struct {
		Error      int `json:"error"`
		Warning    int `json:"warning"`
		Info       int `json:"info"`
		Hint       int `json:"hint"`
		Suppressed int `json:"suppressed"`
		Evidence   int `json:"evidence"`
	}
	jsonCell struct {
		Column int        `json:"column"`
		Status Status     `json:"status"`
		Counts jsonCounts `json:"counts"`
	}
	jsonEvidence struct {
		File     string        `json:"file"`
		Resource string        `json:"resource"`
		Type     string        `json:"type"`
		Line     int           `json:"line"`
		Supports []jsonSupport `json:"supports"`
	}
	jsonSupport struct {
		RuleID string `json:"ruleId"`
		Phrase string `json:"phrase"`
	}
	jsonFinding struct {
		File      string         `json:"file"`
		Line      int            `json:"line"`
		Column    int            `json:"column"`
		RuleID    string         `json:"ruleId"`
		RuleTitle string         `json:"ruleTitle"`
		Severity  string         `json:"severity"`
		Message   string         `json:"message"`
		Resource  string         `json:"resource"`
		Possible  bool           `json:"possible"`
		Criteria  []string       `json:"criteria"`
		Fixes     []string       `json:"fixes"`
		Exception *jsonException `json:"exception,omitempty"`
	}
	jsonException struct {
		Reason  string `json:"reason"`
		Source  string `json:"source"`
		Written string `json:"written"`
		Line    int    `json:"line"`
	}
	jsonSummary struct {
		Templates         int            `json:"templates"`
		TemplatesWithOpen int            `json:"templatesWithFindings"`
		Findings          int            `json:"findings"`
		BySeverity        map[string]int `json:"bySeverity"`
		Suppressed        int            `json:"suppressed"`
		ByStatus          map[Status]int `json:"criteriaByStatus"`
	}
)

// JSON writes the report as one JSON document, shape version JSONVersion.
func JSON(w io.Writer, r *Report) error {
	s := r.Summary
	out := jsonReport{
		Version:         JSONVersion,
		Tool:            jsonTool{Name: "soc2ls", Version: r.ToolVersion},
		Scope:           Scope,
		GroupedByFolder: r.GroupedByFolder,
		Columns:         make([]jsonColumn, 0, len(r.Columns)),
		Files:           make([]jsonFile, 0, len(r.Files)),
		Criteria:        make([]jsonCriterion, 0, len(r.Criteria)),
		Problems:        jsonFindings(r.Problems),
		Summary: jsonSummary{
			Templates: s.FilesChecked, TemplatesWithOpen: s.FilesWithFindings, Findings: s.Findings,
			BySeverity: map[string]int{"error": s.Errors, "warning": s.Warnings, "info": s.Info, "hint": s.Hints},
			Suppressed: s.Suppressed,
			ByStatus:   map[Status]int{Pass: 0, Findings: 0, NotApplicable: 0},
		},
		Errors: append([]string{}, r.Errors...),
	}
	if !r.Generated.IsZero() {
		out.Generated = r.Generated.UTC().Format(time.RFC3339)
	}
	for _, c := range r.Columns {
		out.Columns = append(out.Columns, jsonColumn{Name: c.Name, Files: append([]string{}, c.Files...)})
	}
	for _, f := range r.Files {
		out.Files = append(out.Files, jsonFile{Path: f.Path, Column: f.Column, Resources: f.Resources})
	}
	for _, c := range r.Criteria {
		out.Summary.ByStatus[c.Status]++
		jc := jsonCriterion{
			ID: c.Control.ID, Title: c.Control.Title, Category: c.Control.Category(), Summary: c.Control.Summary,
			Status: c.Status, Counts: jsonCountsOf(c.Counts), Cells: make([]jsonCell, 0, len(c.Cells)),
			Rules: append([]string{}, c.Rules...), Evidence: make([]jsonEvidence, 0, len(c.Evidence)),
			Findings: jsonFindings(c.Findings), Exceptions: jsonFindings(c.Exceptions),
		}
		for i, cell := range c.Cells {
			jc.Cells = append(jc.Cells, jsonCell{Column: i, Status: cell.Status, Counts: jsonCountsOf(cell.Counts)})
		}
		for _, e := range c.Evidence {
			je := jsonEvidence{File: e.File, Resource: e.Resource, Type: e.Type, Line: e.Line, Supports: make([]jsonSupport, 0, len(e.Supports))}
			for _, s := range e.Supports {
				je.Supports = append(je.Supports, jsonSupport{RuleID: s.RuleID, Phrase: s.Phrase})
			}
			jc.Evidence = append(jc.Evidence, je)
		}
		out.Criteria = append(out.Criteria, jc)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // messages quote YAML like `<<` and `&name`
	return enc.Encode(out)
}

func jsonCountsOf(c Counts) jsonCounts {
	return jsonCounts{Error: c.Error, Warning: c.Warning, Info: c.Info, Hint: c.Hint, Suppressed: c.Suppressed, Evidence: c.Evidence}
}

func jsonFindings(fs []Finding) []jsonFinding {
	out := make([]jsonFinding, 0, len(fs))
	for _, f := range fs {
		jf := jsonFinding{
			File: f.File, Line: f.Line, Column: f.Column, RuleID: f.RuleID, RuleTitle: f.RuleTitle,
			Severity: f.Severity.String(), Message: f.Message, Resource: f.Resource, Possible: f.Possible,
			Criteria: append([]string{}, f.Controls...), Fixes: append([]string{}, f.Fixes...),
		}
		if e := f.Exception; e != nil {
			jf.Exception = &jsonException{Reason: e.Reason, Source: e.Source, Written: e.Written, Line: e.Line}
		}
		out = append(out, jf)
	}
	return out
}
