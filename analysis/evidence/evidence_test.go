package evidence

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/controls"
	"github.com/soc2ls/soc2ls/analysis/report"
	"github.com/soc2ls/soc2ls/analysis/rules"
	"github.com/soc2ls/soc2ls/analysis/template"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/report")

// generated is the fixed time the golden reports are made at.
var generated = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// analyse runs every rule over files (paths relative to the repository
// root, which the test makes the working directory) and builds the report.
func analyse(t *testing.T, paths ...string) (*Report, []report.FileResult) {
	t.Helper()
	e := analysis.NewEngine(rules.All(), nil)
	var files []report.FileResult
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		res := e.Analyze(p, src)
		files = append(files, report.FileResult{Path: p, Template: res.Template, Findings: res.Findings, Suppressed: res.Suppressed})
	}
	report.Sort(files)
	all := append(rules.All(), analysis.MetaRules()...)
	return Build(files, Options{Rules: all, ToolVersion: "0.0.0-test", Generated: generated}), files
}

// TestGolden compares the JSON and Markdown reports of the example templates
// and the suppression fixture with testdata/report/*.golden (-update
// rewrites them; read the diff before committing).
func TestGolden(t *testing.T) {
	t.Chdir("../..")
	cases := map[string][]string{
		"weak":       {"testdata/examples/fintech-weak.yaml"},
		"baseline":   {"testdata/examples/fintech-baseline.yaml"},
		"suppressed": {"testdata/report/suppressed.yaml"},
		"examples":   {"testdata/examples/fintech-baseline.yaml", "testdata/examples/fintech-weak.yaml"},
	}
	for name, paths := range cases {
		t.Run(name, func(t *testing.T) {
			rep, _ := analyse(t, paths...)
			for ext, write := range map[string]func(*bytes.Buffer, *Report) error{
				"json": func(b *bytes.Buffer, r *Report) error { return JSON(b, r) },
				"md":   func(b *bytes.Buffer, r *Report) error { return Markdown(b, r) },
			} {
				var b bytes.Buffer
				if err := write(&b, rep); err != nil {
					t.Fatal(err)
				}
				golden(t, filepath.Join("testdata", "report", name+"."+ext+".golden"), b.String())
			}
		})
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./analysis/evidence -update)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			g, w := "", ""
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(run go test ./analysis/evidence -update and read the diff)", path, i+1, g, w)
			}
		}
	}
}

func criterion(t *testing.T, r *Report, id string) *Criterion {
	t.Helper()
	for _, c := range r.Criteria {
		if c.Control.ID == id {
			return c
		}
	}
	t.Fatalf("criterion %s missing from the report", id)
	return nil
}

func writeTemplate(t *testing.T, name, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestEvidenceFromRules: a trail that passes the CloudTrail rules is evidence
// for CC7.2 in the rules' phrases; the one it fails is not claimed; a
// criterion no resource touches is not applicable.
func TestEvidenceFromRules(t *testing.T) {
	p := writeTemplate(t, "trail.yaml", `AWSTemplateFormatVersion: "2010-09-09"
Resources:
  OrgTrail:
    Type: AWS::CloudTrail::Trail
    Properties:
      IsLogging: true
      IsMultiRegionTrail: true
      IncludeGlobalServiceEvents: true
      EnableLogFileValidation: true
      KMSKeyId: alias/audit
      S3BucketName: audit-bucket-elsewhere
`)
	rep, files := analyse(t, p)
	c := criterion(t, rep, "CC7.2")
	var trail *Evidence
	for i, e := range c.Evidence {
		if e.Resource == "OrgTrail" {
			trail = &c.Evidence[i]
		}
	}
	if trail == nil {
		t.Fatalf("no evidence for OrgTrail under CC7.2: %+v", c.Evidence)
	}
	if trail.Noun != "trail" || trail.Line != 3 {
		t.Errorf("evidence: noun %q line %d", trail.Noun, trail.Line)
	}
	phr := trail.Phrases()
	for _, want := range []string{phrases["SOC2-CT-001"], phrases["SOC2-CT-002"], phrases["SOC2-CT-007"]} {
		if !slices.Contains(phr, want) {
			t.Errorf("OrgTrail's CC7.2 evidence %q lacks %q", phr, want)
		}
	}
	// Whatever the rules found wrong with the trail is not claimed.
	for _, fd := range files[0].Findings {
		if fd.Resource != "OrgTrail" {
			continue
		}
		for _, s := range trail.Supports {
			if s.RuleID == fd.RuleID {
				t.Errorf("%s reported on OrgTrail, yet claimed as evidence: %q", fd.RuleID, s.Phrase)
			}
		}
	}
	// CC6.7 (TLS on buckets, load balancers, databases): nothing here.
	if c := criterion(t, rep, "CC6.7"); c.Status != NotApplicable || len(c.Evidence) != 0 || c.Cells[0].Status != NotApplicable {
		t.Errorf("CC6.7: status %s, %d evidence, cell %s: want not applicable", c.Status, len(c.Evidence), c.Cells[0].Status)
	}
	// Every criterion is listed, in canonical order.
	if len(rep.Criteria) != len(controls.All()) {
		t.Errorf("%d criteria, want %d", len(rep.Criteria), len(controls.All()))
	}
}

// TestExceptions: suppressed findings become the criterion's accepted
// exceptions, with their reasons; they do not count as open findings and the
// resource is not claimed as evidence for the rule it is excused from.
func TestExceptions(t *testing.T) {
	t.Chdir("../..")
	rep, _ := analyse(t, "testdata/report/suppressed.yaml")
	c := criterion(t, rep, "CC7.2")
	var reasons []string
	for _, e := range c.Exceptions {
		if e.Exception == nil {
			t.Fatalf("exception without its suppression: %+v", e)
		}
		reasons = append(reasons, e.Resource+": "+e.Exception.Reason+" ("+e.Exception.Source+")")
	}
	want := []string{
		"AccessLogsBucket: access-log target bucket cannot log to itself (metadata)",
		"WebsiteBucket: website content needs no access logs (cfn_nag)",
	}
	if !slices.Equal(reasons, want) {
		t.Errorf("CC7.2 exceptions:\n got %q\nwant %q", reasons, want)
	}
	if c.Suppressed != 2 {
		t.Errorf("CC7.2 counts %d suppressed, want 2", c.Suppressed)
	}
	for _, e := range c.Evidence {
		for _, s := range e.Supports {
			if s.RuleID == "SOC2-S3-005" && (e.Resource == "AccessLogsBucket" || e.Resource == "WebsiteBucket") {
				t.Errorf("%s claims %q although its finding was only excused", e.Resource, s.Phrase)
			}
		}
	}
	for _, f := range c.Findings {
		if f.RuleID == "SOC2-S3-005" {
			t.Errorf("suppressed finding listed as open: %+v", f)
		}
	}
}

// TestGrouping: past GroupThreshold templates, the columns are folders.
func TestGrouping(t *testing.T) {
	dir := t.TempDir()
	src := []byte("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n")
	var paths []string
	for i := range GroupThreshold + 1 {
		sub := filepath.Join(dir, []string{"app", "net"}[i%2])
		os.MkdirAll(sub, 0o755)
		p := filepath.Join(sub, string(rune('a'+i))+".yaml")
		os.WriteFile(p, src, 0o644)
		paths = append(paths, p)
	}
	rep, _ := analyse(t, paths...)
	if !rep.GroupedByFolder || len(rep.Columns) != 2 {
		t.Fatalf("grouped %v, %d columns", rep.GroupedByFolder, len(rep.Columns))
	}
	if rep.Columns[0].Name != "app/" || len(rep.Columns[0].Files) != 5 || rep.Columns[1].Name != "net/" {
		t.Errorf("columns %+v", rep.Columns)
	}
	// Folders merge into their parents, deepest first, until few enough.
	var deep []string
	for i := range 2 * GroupThreshold {
		p := filepath.Join(dir, "stacks", []string{"app", "net", "data"}[i%3], "region"+string(rune('a'+i)), "t.yaml")
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, src, 0o644)
		deep = append(deep, p)
	}
	rep, _ = analyse(t, deep...)
	var names []string
	for _, c := range rep.Columns {
		names = append(names, c.Name)
	}
	if strings.Join(names, " ") != "app/ data/ net/" {
		t.Errorf("deep folders grouped as %q", names)
	}
	rep, _ = analyse(t, paths[:GroupThreshold]...)
	if rep.GroupedByFolder || len(rep.Columns) != GroupThreshold || rep.Columns[0].Name != "app/a.yaml" {
		t.Errorf("ungrouped: %v, columns %+v", rep.GroupedByFolder, rep.Columns)
	}
}

// TestCountsAgree: a cell's counts are the findings listed for its column,
// and the criterion's are the sum of its cells.
func TestCountsAgree(t *testing.T) {
	t.Chdir("../..")
	rep, _ := analyse(t, "testdata/examples/fintech-baseline.yaml", "testdata/examples/fintech-weak.yaml", "testdata/report/suppressed.yaml")
	col := map[string]int{}
	for _, f := range rep.Files {
		col[f.Path] = f.Column
	}
	for _, c := range rep.Criteria {
		open := make([]int, len(rep.Columns))
		exc := make([]int, len(rep.Columns))
		for _, f := range c.Findings {
			open[col[f.File]]++
		}
		for _, f := range c.Exceptions {
			exc[col[f.File]]++
		}
		total := 0
		for i, cell := range c.Cells {
			if cell.Open() != open[i] || cell.Suppressed != exc[i] {
				t.Errorf("%s column %d: cell %d open %d suppressed, listed %d and %d", c.Control.ID, i, cell.Open(), cell.Suppressed, open[i], exc[i])
			}
			if (cell.Status == Findings) != (open[i] > 0) {
				t.Errorf("%s column %d: status %s with %d open", c.Control.ID, i, cell.Status, open[i])
			}
			total += cell.Open()
		}
		if total != c.Open() || len(c.Findings) != c.Open() {
			t.Errorf("%s: %d open in cells, %d in the criterion, %d listed", c.Control.ID, total, c.Open(), len(c.Findings))
		}
	}
	var b bytes.Buffer
	if err := JSON(&b, rep); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version int `json:"version"`
		Summary struct {
			Findings int `json:"findings"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil || doc.Version != JSONVersion || doc.Summary.Findings != rep.Summary.Findings {
		t.Errorf("JSON: %v, %+v", err, doc)
	}
}

// TestFindingInsideResource: a finding that lies inside a resource's text
// withholds that resource's evidence for the rule, whatever resource the
// finding names.
func TestFindingInsideResource(t *testing.T) {
	src := []byte("Resources:\n  Logs:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: logs\n  Other:\n    Type: AWS::SQS::Queue\n")
	tpl := template.Parse("t.yaml", src)
	at := bytes.Index(src, []byte("BucketName"))
	fd := analysis.Finding{RuleID: "SOC2-S3-002", Severity: analysis.Error, Span: template.Span{Start: at, End: at + 10}, Controls: []string{"CC6.1"}, Resource: "Other"}
	rep := Build([]report.FileResult{{Path: "t.yaml", Template: tpl, Findings: []analysis.Finding{fd}}}, Options{Rules: rules.All()})
	for _, e := range criterion(t, rep, "CC6.1").Evidence {
		for _, s := range e.Supports {
			if s.RuleID == "SOC2-S3-002" {
				t.Errorf("%s claims %q despite a finding inside it", e.Resource, s.Phrase)
			}
		}
	}
	// Without the finding, the bucket is evidence for that rule.
	rep = Build([]report.FileResult{{Path: "t.yaml", Template: tpl}}, Options{Rules: rules.All()})
	found := false
	for _, e := range criterion(t, rep, "CC6.1").Evidence {
		found = found || (e.Resource == "Logs" && slices.ContainsFunc(e.Supports, func(s Support) bool { return s.RuleID == "SOC2-S3-002" }))
	}
	if !found {
		t.Error("a bucket with no finding is not evidence")
	}
}
