package analysis_test

import (
	"context"
	"strings"
	"testing"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/template"
)

const doc = "Doc long enough to explain what the rule checks, why an auditor cares about it, and how to fix it in a template."

// topicRule reports every SNS topic without a KmsMasterKeyId, with a fix.
var topicRule = &analysis.Rule{
	ID: "SOC2-TEST-001", Title: "Topic without key", Severity: analysis.Warning, Controls: []string{"CC6.1"},
	Doc: doc, Types: []string{"AWS::SNS::Topic"},
	Check: func(p *analysis.Pass) {
		if p.Resource.Property("KmsMasterKeyId") != nil {
			return
		}
		p.Report(analysis.Finding{Span: p.KeySpan(), Message: "topic " + p.Resource.Name + " has no key",
			Fixes: []analysis.Fix{p.NewFix("Add a key", func(b *edit.Builder) {
				b.SetPath(p.Resource.Value, []string{"Properties", "KmsMasterKeyId"}, edit.Str("alias/k"))
			})}})
	},
}

var panicRule = &analysis.Rule{
	ID: "SOC2-TEST-002", Title: "Broken", Severity: analysis.Error, Controls: []string{"CC6.1"},
	Doc: doc, Types: []string{"AWS::SNS::Topic"},
	Check: func(p *analysis.Pass) {
		var m map[string]int
		m["boom"]++ // a nil-map panic, as a buggy rule would have
	},
}

const topics = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  A:\n    Type: AWS::SNS::Topic\n  B:\n    Type: AWS::SNS::Topic\n    Properties: {TopicName: b}\n"

func TestPanickingRuleIsContained(t *testing.T) {
	e := analysis.NewEngine([]*analysis.Rule{panicRule, topicRule}, nil)
	var hooked []string
	analysis.PanicHook = func(id, file string, line int, v any, _ []byte) { hooked = append(hooked, id) }
	defer func() { analysis.PanicHook = nil }()
	res := e.Analyze("t.yaml", []byte(topics))
	var internal, normal int
	for _, f := range res.Findings {
		switch f.RuleID {
		case analysis.InternalErrorRule.ID:
			internal++
			if !strings.Contains(f.Message, "SOC2-TEST-002") || !strings.Contains(f.Message, "line 3") && !strings.Contains(f.Message, "line 5") {
				t.Errorf("internal error message lacks the rule or position: %s", f.Message)
			}
		case topicRule.ID:
			normal++
		}
	}
	if internal != 2 || normal != 2 || len(hooked) != 2 {
		t.Errorf("got %d internal errors, %d findings, %d hook calls; want 2, 2, 2", internal, normal, len(hooked))
	}
}

func TestSeverityOverrideAndOff(t *testing.T) {
	opts := analysis.DefaultOptions()
	opts.Rules = map[string]analysis.RuleSetting{topicRule.ID: {Severity: analysis.Error}}
	res := analysis.NewEngine([]*analysis.Rule{topicRule}, opts).Analyze("t.yaml", []byte(topics))
	if len(res.Findings) != 2 || res.Findings[0].Severity != analysis.Error {
		t.Errorf("override: %+v", res.Findings)
	}
	opts.Rules = map[string]analysis.RuleSetting{topicRule.ID: {Off: true}}
	if res := analysis.NewEngine([]*analysis.Rule{topicRule}, opts).Analyze("t.yaml", []byte(topics)); len(res.Findings) != 0 {
		t.Errorf("off: %+v", res.Findings)
	}
}

func TestNonTemplatesAreSilent(t *testing.T) {
	e := analysis.NewEngine([]*analysis.Rule{topicRule}, nil)
	for _, src := range []string{
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}\n",
		"on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n  - bad indentation\n", // broken, but not CloudFormation
		"",
	} {
		if res := e.Analyze("x.yaml", []byte(src)); len(res.Findings) != 0 {
			t.Errorf("%q: findings %+v", src, res.Findings)
		}
	}
	broken := "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  A:\n\tType: AWS::SNS::Topic\n"
	res := e.Analyze("x.yaml", []byte(broken))
	if len(res.Findings) != 1 || res.Findings[0].RuleID != analysis.SyntaxRule.ID {
		t.Errorf("a broken template reports its syntax error: %+v", res.Findings)
	}
}

func TestFixAllConverges(t *testing.T) {
	e := analysis.NewEngine([]*analysis.Rule{topicRule}, nil)
	out, applied, err := e.FixAll("t.yaml", []byte(topics))
	if err != nil || len(applied) != 2 {
		t.Fatalf("FixAll: %v, %d applied", err, len(applied))
	}
	if res := e.Analyze("t.yaml", out); len(res.Findings) != 0 {
		t.Errorf("after FixAll: %+v\n%s", res.Findings, out)
	}
	if tp := template.Parse("t.yaml", out); len(tp.Problems) > 0 {
		t.Errorf("fixed template does not parse: %v", tp.Problems)
	}
}

func TestValidateCatchesBadRules(t *testing.T) {
	bad := []*analysis.Rule{
		{ID: "SOC2-X-001", Title: "a", Severity: analysis.Error, Controls: []string{"CC99.9"}, Doc: doc, Check: func(*analysis.Pass) {}},
		{ID: "SOC2-X-001", Title: "b", Severity: analysis.Error, Controls: []string{"CC6.1"}, Doc: "short", Check: func(*analysis.Pass) {}},
		{ID: "X-002", Severity: analysis.Error, Controls: []string{"CC6.1"}, Doc: doc},
	}
	err := analysis.Validate(bad)
	for _, want := range []string{"unknown criterion", "duplicate id", "doc is missing", "ids start with SOC2-", "no title", "no Check"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error lacks %q: %v", want, err)
		}
	}
}

func TestPossibleViolationsAreOneLevelLower(t *testing.T) {
	r := &analysis.Rule{
		ID: "SOC2-TEST-003", Title: "Flag off", Severity: analysis.Error, Controls: []string{"CC7.2"}, Doc: doc,
		Types: []string{"AWS::SNS::Topic"},
		Check: func(p *analysis.Pass) {
			v, w := p.Template.Eval(p.Resource.Property("Flag")).Judge(func(a template.Alt) bool { b, ok := a.Bool(); return ok && !b })
			p.ReportVerdict(v, w, analysis.Finding{Span: p.KeySpan(), Message: "flag off"})
		},
	}
	src := "Parameters:\n  P: {Type: String, AllowedValues: ['true', 'false']}\nResources:\n  Def:\n    Type: AWS::SNS::Topic\n    Properties: {Flag: false}\n  Pos:\n    Type: AWS::SNS::Topic\n    Properties: {Flag: !Ref P}\n"
	res := analysis.NewEngine([]*analysis.Rule{r}, nil).Analyze("t.yaml", []byte(src))
	if len(res.Findings) != 2 {
		t.Fatalf("findings: %+v", res.Findings)
	}
	if f := res.Findings[0]; f.Severity != analysis.Error || f.Possible {
		t.Errorf("definite: %+v", f)
	}
	if f := res.Findings[1]; f.Severity != analysis.Warning || !f.Possible || !strings.Contains(f.Message, "with parameter P = false") {
		t.Errorf("possible: %+v", f)
	}
}

// TestRunAllContextStops: a cancelled context stops the analysis between
// rules, with the context's error and no findings, and the rules after the
// cancellation do not run.
func TestRunAllContextStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ran := 0
	cancelling := &analysis.Rule{
		ID: "SOC2-TEST-004", Title: "Cancels", Severity: analysis.Info, Controls: []string{"CC6.1"},
		Doc: doc, Types: []string{"AWS::SNS::Topic"},
		Check: func(p *analysis.Pass) {
			ran++
			cancel()
		},
	}
	e := analysis.NewEngine([]*analysis.Rule{cancelling, topicRule}, nil)
	tp := template.Parse("t.yaml", []byte(topics))
	active, suppressed, err := e.RunAllContext(ctx, tp)
	if err != context.Canceled || active != nil || suppressed != nil {
		t.Errorf("got %v, %v, %v; want no findings and context.Canceled", active, suppressed, err)
	}
	if ran != 1 {
		t.Errorf("the rule ran %d times after the context was cancelled on its first run", ran)
	}
	if _, _, err := e.RunAllContext(context.Background(), tp); err != nil {
		t.Errorf("a live context: %v", err)
	}
}
