// Package evidence turns analysis results into the picture auditors and
// compliance leads ask for: for every SOC 2 criterion soc2ls knows, whether
// the templates support it, the resources whose settings are evidence for
// it, the open findings against it, and the exceptions accepted with their
// reasons. Build computes the model; HTML, Markdown and JSON write it.
//
// Evidence is derived from the rules, not asserted: a resource of a type a
// rule inspects, for a rule mapped to a criterion, that drew no finding of
// that rule (open or suppressed), supports the criterion, in the words of the
// rule's positive phrase (phrases.go).
package evidence

import (
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/controls"
	"github.com/soc2ls/soc2ls/analysis/report"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// Scope is said at the top of every report: what template evidence is and is
// not worth in an audit.
const Scope = "This report shows what the CloudFormation templates analysed say about each SOC 2 criterion " +
	"soc2ls knows. Template evidence supports a criterion; it does not by itself satisfy it: an audit tests " +
	"that controls are designed, in place and operating over the audit period, mostly through records " +
	"outside any template. Most of CC1 to CC5 (governance, communication, risk assessment, monitoring of " +
	"controls) are process controls: a template touches them only at the edges, and the policies, reviews " +
	"and records that satisfy them are out of its reach."

// GroupThreshold is the number of templates above which the matrix has one
// column per folder instead of one per template: past it, template columns
// no longer fit a printed page.
const GroupThreshold = 8

// Status is the state of a criterion in a matrix cell or overall.
type Status string

// The states of a criterion.
const (
	// NotApplicable: no template has a resource that a rule of the
	// criterion inspects, and no whole-template rule of it applies.
	NotApplicable Status = "not-applicable"
	// Pass: rules of the criterion apply and none has an open finding.
	Pass Status = "pass"
	// Findings: at least one open finding threatens the criterion.
	Findings Status = "findings"
)

// Options configure Build.
type Options struct {
	// Rules are the rules that ran (meta rules may be included); evidence is
	// derived from them.
	Rules []*analysis.Rule
	// ToolVersion is the soc2ls version, recorded in the report.
	ToolVersion string
	// Generated is when the report was made; the zero time leaves it out.
	Generated time.Time
	// Errors are the files that could not be read.
	Errors []string
}

// Report is the evidence model of a run.
type Report struct {
	ToolVersion string
	Generated   time.Time
	// GroupedByFolder says that Columns are folders, not templates.
	GroupedByFolder bool
	Files           []File
	Columns         []Column
	Criteria        []*Criterion
	// Problems are findings that belong to no criterion: templates that do
	// not parse, internal errors. The templates they are in are only partly
	// analysed.
	Problems []Finding
	Errors   []string
	// Summary counts the findings of the templates reported, each once
	// (a finding threatens several criteria).
	Summary report.Summary
}

// File is one template analysed.
type File struct {
	Path      string
	Column    int // index into Report.Columns
	Resources int
}

// Column is one column of the criteria matrix: a template, or a folder of
// templates.
type Column struct {
	Name  string   // the path, shortened by the folder all files share
	Files []string // the paths of its templates
}

// Counts counts open findings by severity, exceptions and evidence.
type Counts struct {
	Error, Warning, Info, Hint int
	Suppressed                 int
	Evidence                   int
}

// Open returns the number of open findings.
func (c Counts) Open() int { return c.Error + c.Warning + c.Info + c.Hint }

func (c *Counts) add(o Counts) {
	c.Error += o.Error
	c.Warning += o.Warning
	c.Info += o.Info
	c.Hint += o.Hint
	c.Suppressed += o.Suppressed
	c.Evidence += o.Evidence
}

func (c *Counts) addSeverity(s analysis.Severity) {
	switch s {
	case analysis.Error:
		c.Error++
	case analysis.Warning:
		c.Warning++
	case analysis.Info:
		c.Info++
	default:
		c.Hint++
	}
}

// Cell is a criterion's state in one column.
type Cell struct {
	Status Status
	Counts
}

// Criterion is everything the report says about one criterion.
type Criterion struct {
	Control *controls.Control
	Status  Status
	Counts
	Cells []Cell // one per column
	// Rules are the ids of the rules mapped to the criterion.
	Rules      []string
	Evidence   []Evidence
	Findings   []Finding
	Exceptions []Finding
}

// Overall is the criterion's state over all templates, as a cell.
func (c *Criterion) Overall() Cell { return Cell{Status: c.Status, Counts: c.Counts} }

// Evidence is one resource, or one template, whose settings support a
// criterion.
type Evidence struct {
	File string
	// Resource is the logical id, "" for evidence about the whole template.
	Resource string
	Type     string
	Noun     string // "trail"
	Line     int    // of the resource's logical id, or 0
	Supports []Support
}

// Phrases returns the positive phrases of the evidence, in rule order.
func (e Evidence) Phrases() []string {
	out := make([]string, len(e.Supports))
	for i, s := range e.Supports {
		out[i] = s.Phrase
	}
	return out
}

// Support is one rule's contribution to a piece of evidence.
type Support struct {
	RuleID string
	Phrase string
}

// Finding is an open or suppressed finding as the report shows it.
type Finding struct {
	File      string
	Line      int // 1-based
	Column    int // 1-based, UTF-16
	RuleID    string
	RuleTitle string
	Severity  analysis.Severity
	Message   string
	Resource  string
	Possible  bool
	Controls  []string
	// Primary is the criterion the finding is listed under where it is
	// listed once: its rule's primary criterion.
	Primary string
	// Fixes are the titles of the fixes soc2ls offers, preferred first.
	Fixes []string
	// Exception is the accepted exception, for suppressed findings.
	Exception *Exception
}

// Exception is the suppression that accepts a finding.
type Exception struct {
	Reason  string
	Source  string // metadata, comment, cfn_nag, checkov, guard
	Written string // the other tool's id, when written as one
	Line    int    // where it is written
}

// Build computes the evidence report of files, which should be sorted with
// report.Sort. Files that are not CloudFormation and drew no finding are
// left out.
func Build(files []report.FileResult, opts Options) *Report {
	rep := &Report{ToolVersion: opts.ToolVersion, Generated: opts.Generated, Errors: append([]string{}, opts.Errors...)}
	ruleByID := map[string]*analysis.Rule{}
	for _, r := range opts.Rules {
		ruleByID[r.ID] = r
	}
	var kept []report.FileResult
	for _, f := range files {
		if f.Template == nil || (!f.Template.IsCloudFormation && len(f.Findings) == 0 && len(f.Suppressed) == 0) {
			continue
		}
		kept = append(kept, f)
	}
	rep.GroupedByFolder = len(kept) > GroupThreshold
	rep.Summary = report.Summarize(kept)
	rep.Columns, rep.Files = columns(kept, rep.GroupedByFolder)
	indexes := make([]*fileIndex, len(kept))
	for i, f := range kept {
		indexes[i] = indexFile(f)
	}

	for _, c := range controls.All() {
		crit := &Criterion{Control: c, Cells: make([]Cell, len(rep.Columns))}
		var mapped []*analysis.Rule
		for _, r := range opts.Rules {
			if !r.Meta && slices.Contains(r.Controls, c.ID) {
				mapped = append(mapped, r)
				crit.Rules = append(crit.Rules, r.ID)
			}
		}
		applicable := make([]bool, len(rep.Columns))
		for i, f := range kept {
			col := rep.Files[i].Column
			fc := criterionInFile(crit, mapped, f, indexes[i], ruleByID)
			applicable[col] = applicable[col] || fc.applicable
			crit.Cells[col].add(fc.counts)
		}
		anyApplicable := false
		for i := range crit.Cells {
			cell := &crit.Cells[i]
			cell.Status = status(applicable[i], cell.Counts)
			crit.Counts.add(cell.Counts)
			anyApplicable = anyApplicable || applicable[i]
		}
		crit.Status = status(anyApplicable, crit.Counts)
		rep.Criteria = append(rep.Criteria, crit)
	}
	for _, f := range kept {
		for _, fd := range f.Findings {
			if len(fd.Controls) == 0 {
				rep.Problems = append(rep.Problems, findingOf(f, fd, ruleByID))
			}
		}
	}
	return rep
}

func status(applicable bool, c Counts) Status {
	switch {
	case c.Open() > 0:
		return Findings
	case applicable || c.Suppressed > 0:
		return Pass
	}
	return NotApplicable
}

// fileIndex is what every criterion asks of a file, computed once.
type fileIndex struct {
	// reported[rule][resource]: the rule drew a finding (open or accepted)
	// on the resource, by name or inside its text (a finding may name
	// another resource it is about); resource "" collects every finding of
	// the rule.
	reported map[string]map[string]bool
	present  map[string]bool // resource types in the file
}

func indexFile(f report.FileResult) *fileIndex {
	t := f.Template
	idx := &fileIndex{reported: map[string]map[string]bool{}, present: map[string]bool{}}
	// Resources in document order, for finding which one holds an offset.
	var entries []*template.Resource
	for _, r := range t.Resources {
		idx.present[r.Type] = true
		if r.Key != nil && r.Value != nil {
			entries = append(entries, r)
		}
	}
	slices.SortFunc(entries, func(a, b *template.Resource) int { return a.Key.Span.Start - b.Key.Span.Start })
	for _, fd := range append(append([]analysis.Finding{}, f.Findings...), f.Suppressed...) {
		m := idx.reported[fd.RuleID]
		if m == nil {
			m = map[string]bool{}
			idx.reported[fd.RuleID] = m
		}
		m[fd.Resource] = true
		m[""] = true
		// The last resource starting at or before the finding, if the
		// finding lies inside it.
		i, _ := slices.BinarySearchFunc(entries, fd.Span.Start+1, func(r *template.Resource, off int) int { return r.Key.Span.Start - off })
		if i > 0 {
			if r := entries[i-1]; fd.Span.Start < r.Value.Span.End {
				m[r.Name] = true
			}
		}
	}
	return idx
}

// fileCriterion is what one file says about one criterion.
type fileCriterion struct {
	applicable bool
	counts     Counts
}

// criterionInFile adds f's evidence, findings and exceptions to crit and
// reports whether the criterion applies to f.
func criterionInFile(crit *Criterion, mapped []*analysis.Rule, f report.FileResult, idx *fileIndex, ruleByID map[string]*analysis.Rule) fileCriterion {
	var out fileCriterion
	t := f.Template
	id := crit.Control.ID
	reported, present := idx.reported, idx.present
	for _, fd := range f.Findings {
		if slices.Contains(fd.Controls, id) {
			out.applicable = true
			out.counts.addSeverity(fd.Severity)
			crit.Findings = append(crit.Findings, findingOf(f, fd, ruleByID))
		}
	}
	for _, fd := range f.Suppressed {
		if slices.Contains(fd.Controls, id) {
			out.applicable = true
			out.counts.Suppressed++
			crit.Exceptions = append(crit.Exceptions, findingOf(f, fd, ruleByID))
		}
	}
	// Resource evidence, in template order.
	for _, res := range t.Resources {
		ev := Evidence{File: f.Path, Resource: res.Name, Type: res.Type, Noun: noun(res.Type), Line: t.Lines.Position(res.Key.Span.Start).Line}
		for _, r := range mapped {
			if !slices.Contains(r.Types, res.Type) {
				continue
			}
			out.applicable = true
			if !reported[r.ID][res.Name] {
				ev.Supports = append(ev.Supports, Support{RuleID: r.ID, Phrase: phrases[r.ID]})
			}
		}
		if len(ev.Supports) > 0 {
			crit.Evidence = append(crit.Evidence, ev)
			out.counts.Evidence++
		}
	}

	// Template evidence: rules that inspect every resource, and
	// whole-template rules. The ones without subjects only count where
	// something else made the criterion apply.
	tev := Evidence{File: f.Path, Type: "template", Noun: "template"}
	var vacuous []Support
	for _, r := range mapped {
		anyType := slices.Contains(r.Types, analysis.AnyType)
		if len(r.Types) > 0 && !anyType {
			continue
		}
		relevant := false
		switch {
		case anyType:
			relevant = len(t.Resources) > 0
		default:
			for _, s := range subjects[r.ID] {
				relevant = relevant || present[s]
			}
		}
		if relevant {
			out.applicable = true
		}
		if reported[r.ID][""] {
			continue
		}
		s := Support{RuleID: r.ID, Phrase: phrases[r.ID]}
		if relevant {
			tev.Supports = append(tev.Supports, s)
		} else if len(subjects[r.ID]) == 0 && !anyType {
			vacuous = append(vacuous, s)
		}
	}
	if out.applicable {
		tev.Supports = append(tev.Supports, vacuous...)
		slices.SortStableFunc(tev.Supports, func(a, b Support) int { return strings.Compare(a.RuleID, b.RuleID) })
	}
	if out.applicable && len(tev.Supports) > 0 {
		crit.Evidence = append(crit.Evidence, tev)
		out.counts.Evidence++
	}
	return out
}

func findingOf(f report.FileResult, fd analysis.Finding, ruleByID map[string]*analysis.Rule) Finding {
	p := f.Template.Lines.Position(fd.Span.Start)
	out := Finding{
		File: f.Path, Line: p.Line, Column: p.Column, RuleID: fd.RuleID, Severity: fd.Severity,
		Message: fd.Message, Resource: fd.Resource, Possible: fd.Possible, Controls: append([]string{}, fd.Controls...),
		Fixes: []string{},
	}
	if len(fd.Controls) > 0 {
		out.Primary = fd.Controls[0]
	}
	if r := ruleByID[fd.RuleID]; r != nil {
		out.RuleTitle = r.Title
		if len(r.Controls) > 0 && slices.Contains(fd.Controls, r.Controls[0]) {
			out.Primary = r.Controls[0]
		}
	}
	for _, fx := range fd.Fixes {
		out.Fixes = append(out.Fixes, fx.Title)
	}
	if s := fd.Suppression; s != nil {
		out.Exception = &Exception{Reason: s.Reason, Source: string(s.Source), Written: s.Written, Line: f.Template.Lines.Position(s.Span.Start).Line}
	}
	return out
}

// columns lays out the matrix columns: one per template, or, grouped, one
// per folder in path order. Grouped folders are merged into their parents,
// deepest first, while there are more than GroupThreshold of them (stacks/
// app/eu and stacks/app/us become stacks/app), but never above the first
// level under the folder every path shares. Names drop that folder.
func columns(files []report.FileResult, grouped bool) ([]Column, []File) {
	keys := make([]string, len(files))
	for i, f := range files {
		keys[i] = f.Path
		if grouped {
			keys[i] = filepath.ToSlash(filepath.Dir(f.Path))
		}
	}
	if grouped {
		keys = coarsen(keys)
	}
	prefix := commonDir(keys)
	var cols []Column
	index := map[string]int{}
	out := make([]File, len(files))
	for i, f := range files {
		k := keys[i]
		ci, ok := index[k]
		if !ok {
			ci = len(cols)
			index[k] = ci
			name := strings.TrimPrefix(k, prefix)
			if name == "" {
				name = "."
				if !grouped {
					name = k
				}
			}
			if grouped {
				name = strings.TrimSuffix(name, "/") + "/"
			}
			cols = append(cols, Column{Name: name})
		}
		cols[ci].Files = append(cols[ci].Files, f.Path)
		out[i] = File{Path: f.Path, Column: ci, Resources: resourceCount(f.Template)}
	}
	return cols, out
}

// coarsen merges folders into their parents until at most GroupThreshold
// remain or each is one level below the shared folder.
func coarsen(keys []string) []string {
	for {
		distinct := map[string]bool{}
		slashed := make([]string, len(keys))
		for i, k := range keys {
			distinct[k] = true
			slashed[i] = k + "/"
		}
		if len(distinct) <= GroupThreshold {
			return keys
		}
		prefix := commonDir(slashed)
		rels := make([][]string, len(keys))
		depth := 0
		for i, k := range slashed {
			if rel := strings.Trim(strings.TrimPrefix(k, prefix), "/"); rel != "" {
				rels[i] = strings.Split(rel, "/")
			}
			depth = max(depth, len(rels[i]))
		}
		if depth <= 1 {
			return keys
		}
		for i, rel := range rels {
			if len(rel) == depth {
				keys[i] = prefix + strings.Join(rel[:depth-1], "/")
			}
		}
	}
}

func resourceCount(t *template.Template) int {
	if t == nil {
		return 0
	}
	return len(t.Resources)
}

// commonDir returns the longest folder prefix (ending in a separator) that
// all paths share, or "" when they share none. A single path keeps its
// folder in grouped mode only.
func commonDir(paths []string) string {
	if len(paths) < 2 {
		return ""
	}
	prefix := paths[0]
	for _, p := range paths[1:] {
		for !strings.HasPrefix(p, prefix) {
			prefix = prefix[:len(prefix)-1]
		}
	}
	if i := strings.LastIndexAny(prefix, `/\`); i >= 0 {
		return prefix[:i+1]
	}
	return ""
}
