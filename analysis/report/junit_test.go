package report

import (
	"bytes"
	"encoding/xml"
	"reflect"
	"strings"
	"testing"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// TestJUnit decodes the output with encoding/xml, which rejects malformed
// XML, and checks the structure CI services read.
func TestJUnit(t *testing.T) {
	files := load(t, "SOC2-CT-001/missing.yaml", "SOC2-S3-001/ok.yaml")
	// A suppressed finding and characters XML must escape, including one it
	// cannot carry at all.
	src := []byte("Resources:\n  T:\n    Type: AWS::CloudTrail::Trail\n")
	odd := FileResult{Path: "a&b<c>.yaml", Template: template.Parse("a&b<c>.yaml", src),
		Findings: []analysis.Finding{
			{RuleID: "SOC2-CT-001", Severity: analysis.Warning, Resource: "T", Span: template.Span{Start: 13, End: 14}, Message: "\"quoted\" & <tagged> ]]> \x01 bell"},
			{RuleID: "SOC2-CT-001", Severity: analysis.Warning, Resource: "T", Span: template.Span{Start: 13, End: 14}, Message: "again"},
		},
		Suppressed: []analysis.Finding{{RuleID: "SOC2-S3-001", Severity: analysis.Error, Resource: "T", Span: template.Span{Start: 13, End: 14},
			Message: "m", Suppression: &analysis.Suppression{Source: analysis.SourceComment, Reason: "see ADR-7"}}},
	}
	files = append(files, odd)
	info := testInfo()
	info.Errors = []string{"gone.yaml: no such file or directory"}
	var buf bytes.Buffer
	if err := JUnit(&buf, files, info); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, `<?xml version="1.0" encoding="UTF-8"?>`+"\n<testsuites ") {
		t.Errorf("no XML declaration or root:\n%s", out)
	}
	var doc junitSuites
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("invalid XML: %v\n%s", err, out)
	}
	type tc struct{ name, result string }
	summarise := func(s junitSuite) []tc {
		var out []tc
		for _, c := range s.Cases {
			r := "pass"
			switch {
			case c.Failure != nil:
				r = "fail " + c.Failure.Type
			case c.Error != nil:
				r = "error"
			case c.Skipped != nil:
				r = "skip " + c.Skipped.Message
			}
			if c.Classname != s.Name {
				t.Errorf("%s: classname %q", c.Name, c.Classname)
			}
			out = append(out, tc{c.Name, r})
		}
		return out
	}
	if len(doc.Suites) != 4 {
		t.Fatalf("want 3 file suites and 1 for errors, got %d", len(doc.Suites))
	}
	wants := []struct {
		name                             string
		cases                            []tc
		tests, failures, errors, skipped int
	}{
		{"SOC2-CT-001/missing.yaml", []tc{{"SOC2-CT-001 ProdCloudTrail", "fail error"}, {"SOC2-S3-001 TrailBucket", "fail error"}}, 2, 2, 0, 0},
		// A clean file: one passing case per rule that inspected it. The
		// trail rule did not (no trail).
		{"SOC2-S3-001/ok.yaml", []tc{{"SOC2-S3-001", "pass"}}, 1, 0, 0, 0},
		{"a&b<c>.yaml", []tc{{"SOC2-CT-001 T", "fail warning"}, {"SOC2-CT-001 T #2", "fail warning"}, {"SOC2-S3-001 T", "skip suppressed (comment): see ADR-7"}}, 3, 2, 0, 1},
		{"soc2ls", []tc{{"error 1", "error"}}, 1, 0, 1, 0},
	}
	for i, w := range wants {
		s := doc.Suites[i]
		if s.Name != w.name || !reflect.DeepEqual(summarise(s), w.cases) || s.Tests != w.tests || s.Failures != w.failures || s.Errors != w.errors || s.Skipped != w.skipped {
			t.Errorf("suite %d: got %s %v (tests %d failures %d errors %d skipped %d)\nwant %+v", i, s.Name, summarise(s), s.Tests, s.Failures, s.Errors, s.Skipped, w)
		}
	}
	if doc.Name != "soc2ls" || doc.Tests != 7 || doc.Failures != 4 || doc.Errors != 1 || doc.Skipped != 1 {
		t.Errorf("totals: %+v", doc)
	}
	first := doc.Suites[0].Cases[0]
	if first.File != "SOC2-CT-001/missing.yaml" || first.Line != 4 ||
		first.Failure.Message != "trail ProdCloudTrail records only the region it is deployed in: set IsMultiRegionTrail to true" ||
		first.Failure.Text != "SOC2-CT-001/missing.yaml:4:3: error: trail ProdCloudTrail records only the region it is deployed in: set IsMultiRegionTrail to true [SOC2-CT-001] (CC7.2, CC2.1, A1.2, PI1.3)" {
		t.Errorf("failure: %+v %+v", first, first.Failure)
	}
	// Escaped and decoded intact; the control character, which XML 1.0
	// cannot carry, is replaced.
	if got := doc.Suites[2].Cases[0].Failure.Message; got != "\"quoted\" & <tagged> ]]> \uFFFD bell" {
		t.Errorf("escaping: %q", got)
	}
	// The failure text is character data with real line breaks.
	var text struct {
		Text string `xml:",chardata"`
	}
	raw := "<t>" + doc.Suites[2].Cases[0].Failure.Text + "</t>"
	if err := xml.Unmarshal([]byte(raw), &text); err != nil || text.Text != "a&b<c>.yaml:2:3: warning: \"quoted\" & <tagged> ]]> \uFFFD bell [SOC2-CT-001]" {
		t.Errorf("failure text %q: %q, %v", raw, text.Text, err)
	}
	if strings.Contains(out, "&#xA;") {
		t.Errorf("line breaks written as character references")
	}
}

// TestJUnitNames: a finding keeps its test name when lines are inserted
// above it, so that CI services comparing runs track it.
func TestJUnitNames(t *testing.T) {
	names := func(src []byte) []string {
		var buf bytes.Buffer
		if err := JUnit(&buf, []FileResult{analyse(t, "t.yaml", src)}, testInfo()); err != nil {
			t.Fatal(err)
		}
		var doc junitSuites
		if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range doc.Suites[0].Cases {
			out = append(out, c.Name)
		}
		return out
	}
	src := []byte(cfnTwoTrails)
	before, after := names(src), names(append([]byte("# one\n# two\n"), src...))
	if !reflect.DeepEqual(before, after) || len(before) != 2 {
		t.Errorf("before %v, after %v", before, after)
	}
}

const cfnTwoTrails = "Resources:\n" +
	"  A:\n    Type: AWS::CloudTrail::Trail\n    Properties: {IsMultiRegionTrail: false}\n" +
	"  B:\n    Type: AWS::CloudTrail::Trail\n    Properties: {IsMultiRegionTrail: false}\n"
