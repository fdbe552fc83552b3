package baseline

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/report"
	"github.com/soc2ls/soc2ls/analysis/rules"
	"github.com/soc2ls/soc2ls/analysis/template"
)

var testRules = []*analysis.Rule{rules.CloudTrailMultiRegion, rules.S3DenyInsecureTransport}

func analyse(t *testing.T, path, src string) report.FileResult {
	t.Helper()
	res := analysis.NewEngine(testRules, nil).Analyze(path, []byte(src))
	return report.FileResult{Path: path, Template: res.Template, Findings: res.Findings}
}

const estate = `AWSTemplateFormatVersion: '2010-09-09'
Resources:
  A:
    Type: AWS::CloudTrail::Trail
    Properties: {IsMultiRegionTrail: false}
  B:
    Type: AWS::CloudTrail::Trail
    Properties:
      IsMultiRegionTrail: false
  Logs:
    Type: AWS::S3::Bucket
  Topic:
    Type: AWS::SNS::Topic
`

// edited is estate a month later: lines inserted above everything, an
// unrelated resource changed, B fixed, a new trail D with the old flaw, and
// A re-indented into block style.
const edited = `# Owned by the platform team.
# Reviewed 2026-11.
AWSTemplateFormatVersion: '2010-09-09'
Description: audit stack
Resources:
  A:
    Type: AWS::CloudTrail::Trail
    Properties:   {IsMultiRegionTrail:    false}
  B:
    Type: AWS::CloudTrail::Trail
    Properties:
      IsMultiRegionTrail: true
  Logs:
    Type: AWS::S3::Bucket
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: alerts
  D:
    Type: AWS::CloudTrail::Trail
    Properties:
      IsMultiRegionTrail: false
`

func ids(fs []analysis.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.RuleID+" "+f.Resource)
	}
	return out
}

// TestRoundTrip: record, edit, check: exactly the new finding is reported,
// and the fixed one's entry is stale.
func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "templates", "audit.yaml")
	before := []report.FileResult{analyse(t, path, estate)}
	if got := ids(before[0].Findings); len(got) != 3 {
		t.Fatalf("estate findings: %v", got)
	}
	b := Record(dir, before, true, nil)
	file := filepath.Join(dir, "soc2ls-baseline.json")
	if err := os.WriteFile(file, b.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	read, err := Read(file)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(read, b) {
		t.Errorf("read back:\n%+v\nwrote:\n%+v", read, b)
	}
	for _, e := range read.Findings {
		if e.Path != "templates/audit.yaml" || e.Fingerprint == "" || strings.Contains(e.Fingerprint, ":") {
			t.Errorf("entry %+v", e)
		}
	}

	after := []report.FileResult{analyse(t, path, edited)}
	stale := read.Apply(dir, after)
	if got, want := ids(after[0].Findings), []string{"SOC2-CT-001 D"}; !reflect.DeepEqual(got, want) {
		t.Errorf("reported %v, want %v", got, want)
	}
	if got, want := ids(after[0].Baselined), []string{"SOC2-CT-001 A", "SOC2-S3-001 Logs"}; !reflect.DeepEqual(got, want) {
		t.Errorf("baselined %v, want %v", got, want)
	}
	if len(stale) != 1 || stale[0].RuleID != "SOC2-CT-001" || stale[0].Resource != "B" {
		t.Errorf("stale: %+v", stale)
	}
	if s := report.Summarize(after); s.Baselined != 2 || s.Findings != 1 ||
		s.String() != "1 error in 1 file (1 file checked, 2 findings baselined)" {
		t.Errorf("summary %+v: %s", s, s)
	}

	// Pruning keeps what still matches and records nothing new.
	pruned := Record(dir, after, false, read)
	if got := len(pruned.Findings); got != 2 {
		t.Errorf("pruned baseline has %d entries, want 2: %+v", got, pruned.Findings)
	}
}

// TestMultiset: two identical findings need two entries.
func TestMultiset(t *testing.T) {
	src := []byte("Resources:\n  X:\n    Type: AWS::S3::Bucket\n")
	tpl := template.Parse("t.yaml", src)
	fd := analysis.Finding{RuleID: "SOC2-X-001", Resource: "X", Span: template.Span{Start: 13, End: 14}, Message: "m"}
	files := func(n int) []report.FileResult {
		f := report.FileResult{Path: "t.yaml", Template: tpl}
		for range n {
			f.Findings = append(f.Findings, fd)
		}
		return []report.FileResult{f}
	}
	dir := t.TempDir()
	one := Record(dir, files(1), true, nil)
	three := files(3)
	if stale := one.Apply(dir, three); len(stale) != 0 || len(three[0].Findings) != 2 || len(three[0].Baselined) != 1 {
		t.Errorf("one entry, three findings: %d reported, %d baselined, stale %v", len(three[0].Findings), len(three[0].Baselined), stale)
	}
	two := Record(dir, files(2), true, nil)
	if len(two.Findings) != 2 {
		t.Fatalf("two identical findings recorded as %d entries", len(two.Findings))
	}
	single := files(1)
	if stale := two.Apply(dir, single); len(stale) != 1 || len(single[0].Findings) != 0 {
		t.Errorf("two entries, one finding: stale %v, reported %d", stale, len(single[0].Findings))
	}
}

// TestUncheckedFiles: entries for files a run did not check are neither
// stale nor dropped when the baseline is rewritten.
func TestUncheckedFiles(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	base := Record(dir, []report.FileResult{analyse(t, a, estate), analyse(t, b, estate)}, true, nil)
	onlyA := []report.FileResult{analyse(t, a, estate)}
	if stale := base.Apply(dir, onlyA); len(stale) != 0 || len(onlyA[0].Findings) != 0 {
		t.Errorf("stale %v, reported %v", stale, ids(onlyA[0].Findings))
	}
	if got := Record(dir, onlyA, false, base); len(got.Findings) != 6 {
		t.Errorf("rewritten baseline has %d entries, want 6", len(got.Findings))
	}
}

func TestRebase(t *testing.T) {
	t.Chdir(t.TempDir())
	b := &File{Version: Version, Findings: []Entry{
		{RuleID: "R", Path: "templates/a.yaml", Fingerprint: "f"},
		{RuleID: "R", Path: report.StdinPath, Fingerprint: "f"},
	}}
	got := b.Rebase(".", "ci/nested")
	if got.Findings[0].Path != "../../templates/a.yaml" || got.Findings[1].Path != report.StdinPath || b.Findings[0].Path != "templates/a.yaml" {
		t.Errorf("rebased %+v (original %+v)", got.Findings, b.Findings)
	}
	if back := got.Rebase("ci/nested", "."); !reflect.DeepEqual(back, b) {
		t.Errorf("round trip %+v", back.Findings)
	}
}

func TestFingerprint(t *testing.T) {
	src := []byte("a:  {x:\n   1}\nb: {x: 1}\nc: {x: 2}\n")
	f := func(start, end int, resource string) string {
		return Fingerprint(src, analysis.Finding{RuleID: "R", Resource: resource, Span: template.Span{Start: start, End: end}})
	}
	a, b, c := f(4, 13, "X"), f(17, 23, "X"), f(27, 33, "X")
	if a != b || a == c || a == f(4, 13, "Y") || len(a) != 32 {
		t.Errorf("fingerprints %s %s %s", a, b, c)
	}
	if f(-1, 99, "X") == "" {
		t.Errorf("a span outside the text still needs a fingerprint")
	}
}

func TestRelPath(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, tt := range []struct{ dir, path, want string }{
		{".", "templates/a.yaml", "templates/a.yaml"},
		{"ci", "templates/a.yaml", "../templates/a.yaml"},
		{"templates", "./templates/x/../a.yaml", "a.yaml"},
		{".", report.StdinPath, report.StdinPath},
	} {
		if got := RelPath(tt.dir, filepath.FromSlash(tt.path)); got != tt.want {
			t.Errorf("RelPath(%q, %q) = %q, want %q", tt.dir, tt.path, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", "b.json: not a soc2ls baseline: empty file"},
		{"{\n  \"version\": 1,\n  \"findings\": [}\n", "b.json:3:16: not a soc2ls baseline: invalid character '}' looking for beginning of value"},
		{`{"version": "1"}`, "b.json:1:16: not a soc2ls baseline: version must be a number, not a string"},
		{`{"version": 1, "extra": true}`, `b.json: not a soc2ls baseline: unknown field "extra"`},
		{`{"findings": []}`, "b.json: not a soc2ls baseline: no version"},
		{`{"version": 2, "findings": []}`, "b.json: baseline version 2 is newer than this soc2ls reads (1): upgrade soc2ls"},
		{`{"version": -1}`, "b.json: unknown baseline version -1"},
		{`{"version": 1, "findings": {}}`, "b.json:1:29: not a soc2ls baseline: findings must be a list, not an object"},
		{`{"version": 1, "findings": [{"ruleId": "R", "path": "a.yaml"}]}`, "b.json: finding 1: ruleId, path and fingerprint are required"},
		{"{\"version\": 1}\n{}", "b.json:2:1: not a soc2ls baseline: text after the JSON document"},
	} {
		_, err := Parse("b.json", []byte(tt.in))
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%q): %v, want %q", tt.in, err, tt.want)
		}
	}
	b, err := Parse("b.json", []byte(`{"version": 1}`))
	if err != nil || b.Findings == nil {
		t.Errorf("minimal baseline: %+v, %v", b, err)
	}
}
