package analysistest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/edit"
)

// recorder is a testing.TB that records failures instead of failing, so that
// the harness itself can be tested.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

var topicRule = &analysis.Rule{
	ID: "SOC2-TEST-001", Title: "Topic without key", Severity: analysis.Warning, Controls: []string{"CC6.1"},
	Doc:   "A long enough doc that says what is checked, why an auditor cares and how to fix it, for the test.",
	Types: []string{"AWS::SNS::Topic"},
	Check: func(p *analysis.Pass) {
		if p.Resource.Property("KmsMasterKeyId") == nil {
			p.Report(analysis.Finding{Span: p.KeySpan(), Message: "topic " + p.Resource.Name + " has no key",
				Fixes: []analysis.Fix{p.NewFix("Add a key", func(b *edit.Builder) {
					b.SetPath(p.Resource.Value, []string{"Properties", "KmsMasterKeyId"}, edit.Str("alias/k"))
				})}})
		}
	},
}

func check(t *testing.T, name, src string) []string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	e := analysis.NewEngine([]*analysis.Rule{topicRule}, nil)
	rec := &recorder{TB: t}
	CheckExpectations(rec, path, e.Analyze(path, []byte(src)))
	return rec.errors
}

func TestHarnessReportsMissingAndUnexpected(t *testing.T) {
	const head = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n"
	cases := []struct {
		name, src string
		want      []string // substrings of the expected harness errors, in order
	}{
		{"match", head + "  A: # want \"SOC2-TEST-001 warning: topic A has no key\"\n    Type: AWS::SNS::Topic\n", nil},
		{"unexpected", head + "  A:\n    Type: AWS::SNS::Topic\n", []string{":3: unexpected finding: SOC2-TEST-001 warning: topic A"}},
		{"missing", head + "  A: # want \"SOC2-TEST-001\"\n    Type: AWS::SNS::Topic\n    Properties: {KmsMasterKeyId: k}\n", []string{":3: no finding matches"}},
		{"wrong line", head + "  A:\n    Type: AWS::SNS::Topic # want \"SOC2-TEST-001\"\n", []string{"unexpected finding", "no finding matches"}},
		{"two on a line", head + "  A: # want \"topic A\" \"topic A\"\n    Type: AWS::SNS::Topic\n", []string{"no finding matches"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := check(t, "t.yaml", c.src)
			if len(got) != len(c.want) {
				t.Fatalf("harness errors %q, want %d matching %q", got, len(c.want), c.want)
			}
			for i, w := range c.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("harness error %q lacks %q", got[i], w)
				}
			}
		})
	}
}

func TestHarnessReadsJSONSideFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.json")
	src := "{\"Resources\": {\n  \"A\": {\"Type\": \"AWS::SNS::Topic\"}\n}}\n"
	os.WriteFile(path, []byte(src), 0o644)
	os.WriteFile(path+".want", []byte("# comment\n2 \"topic A has no key\"\n"), 0o644)
	e := analysis.NewEngine([]*analysis.Rule{topicRule}, nil)
	rec := &recorder{TB: t}
	CheckExpectations(rec, path, e.Analyze(path, []byte(src)))
	if len(rec.errors) > 0 {
		t.Errorf("side-file expectations not honoured: %q", rec.errors)
	}
}

func TestFixResultCatchesNewFindings(t *testing.T) {
	e := analysis.NewEngine([]*analysis.Rule{topicRule}, nil)
	before := []byte("Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties: {KmsMasterKeyId: k}\n")
	after := []byte("Resources:\n  A:\n    Type: AWS::SNS::Topic\n")
	rec := &recorder{TB: t}
	CheckFixResult(rec, "t.yaml", before, after, nil, e)
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "added by a fix") {
		t.Errorf("a fix result with a new finding must fail: %q", rec.errors)
	}
	rec = &recorder{TB: t}
	CheckFixResult(rec, "t.yaml", before, []byte("Resources: [\n"), nil, e)
	if len(rec.errors) == 0 || !strings.Contains(rec.errors[0], "does not parse") {
		t.Errorf("a fix result that does not parse must fail: %q", rec.errors)
	}
}
