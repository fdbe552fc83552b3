package analysis_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/soc2ls/soc2ls/analysis"
)

// nameRule reports the TopicName of every topic, on its value, so that a
// finding sits on a line of its own below the resource's key.
var nameRule = &analysis.Rule{
	ID: "SOC2-TEST-003", Title: "Topic has a name", Severity: analysis.Warning, Controls: []string{"CC8.1"},
	Doc: doc, Types: []string{"AWS::SNS::Topic"},
	Check: func(p *analysis.Pass) {
		if n := p.Resource.Property("TopicName"); n != nil {
			p.Reportf(n.Span, "topic %s is named %s", p.Resource.Name, n.Text())
		}
	},
}

// summary renders findings as "RULE@line" for comparison.
func summary(res *analysis.Result, fs []analysis.Finding) string {
	var out []string
	for _, f := range fs {
		out = append(out, f.RuleID+"@"+itoa(res.Template.Lines.Position(f.Span.Start).Line))
	}
	return strings.Join(out, " ")
}

func itoa(n int) string { return fmt.Sprintf("%02d", n) }

func TestSuppressions(t *testing.T) {
	analysis.Crosswalk["W99"] = []string{topicRule.ID}
	analysis.Crosswalk["SNS_ENCRYPTED_KMS"] = []string{topicRule.ID}
	analysis.KnownRules["SOC2-OTHER-001"] = true
	defer func() {
		delete(analysis.Crosswalk, "W99")
		delete(analysis.Crosswalk, "SNS_ENCRYPTED_KMS")
		delete(analysis.KnownRules, "SOC2-OTHER-001")
	}()
	const head = "AWSTemplateFormatVersion: '2010-09-09'\n"
	for _, tc := range []struct {
		name, src          string
		active, suppressed string
		reason             string
	}{
		{"resource metadata with a reason",
			head + "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Metadata:\n      soc2ls:\n        ignore:\n          - rule: SOC2-TEST-001\n            reason: encrypted by the publisher\n",
			"", "SOC2-TEST-001@03", "encrypted by the publisher"},
		{"a reason is required",
			head + "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Metadata:\n      soc2ls:\n        ignore:\n          - rule: SOC2-TEST-001\n",
			"SOC2-TEST-001@03 SOC2-SUPPRESS-001@08", "", ""},
		{"template metadata covers every resource",
			head + "Metadata:\n  soc2ls:\n    ignore: [{rule: SOC2-TEST-001, reason: topics hold no data}]\nResources:\n  A:\n    Type: AWS::SNS::Topic\n  B:\n    Type: AWS::SNS::Topic\n",
			"", "SOC2-TEST-001@06 SOC2-TEST-001@08", "topics hold no data"},
		{"metadata of another resource does not apply",
			head + "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Metadata: {soc2ls: {ignore: [{rule: SOC2-TEST-001, reason: r}]}}\n  B:\n    Type: AWS::SNS::Topic\n",
			"SOC2-TEST-001@06", "SOC2-TEST-001@03", "r"},
		{"comment on the resource's key line",
			head + "Resources:\n  A: # soc2ls:ignore SOC2-TEST-001,SOC2-TEST-003 legacy topic, replaced in Q3\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: a\n",
			"", "SOC2-TEST-001@03 SOC2-TEST-003@06", "legacy topic, replaced in Q3"},
		{"comment on the finding's line only",
			head + "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: a # soc2ls:ignore SOC2-TEST-003 name required by the consumer\n",
			"SOC2-TEST-001@03", "SOC2-TEST-003@06", "name required by the consumer"},
		{"a placeholder is no reason",
			head + "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Metadata:\n      soc2ls:\n        ignore:\n          - rule: SOC2-TEST-001\n            reason: 'TODO: explain why this finding is acceptable'\n",
			"SOC2-TEST-001@03 SOC2-SUPPRESS-001@08", "", ""},
		{"comment without a reason",
			head + "Resources:\n  A: # soc2ls:ignore SOC2-TEST-001\n    Type: AWS::SNS::Topic\n",
			"SOC2-TEST-001@03 SOC2-SUPPRESS-001@03", "", ""},
		{"text in a string is no comment",
			head + "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: 'x # soc2ls:ignore SOC2-TEST-003 not a comment'\n",
			"SOC2-TEST-001@03 SOC2-TEST-003@06", "", ""},
		{"unused and unknown suppressions",
			head + "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties: {KmsMasterKeyId: k}\n    Metadata:\n      soc2ls:\n        ignore:\n          - {rule: SOC2-TEST-001, reason: stale}\n          - {rule: SOC2-NOPE-001, reason: typo}\n          - {rule: SOC2-OTHER-001, reason: a rule this engine does not run}\n",
			"SOC2-SUPPRESS-002@09 SOC2-SUPPRESS-002@10", "", ""},
		{"cfn_nag and checkov ids through the crosswalk",
			head + "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Metadata:\n      cfn_nag:\n        rules_to_suppress:\n          - {id: W99, reason: see ticket SEC-12}\n  B:\n    Type: AWS::SNS::Topic\n    Metadata:\n      checkov:\n        skip:\n          - {id: W99, comment: see ticket SEC-13}\n",
			"", "SOC2-TEST-001@03 SOC2-TEST-001@09", "see ticket SEC-12"},
		{"other tools' entries that silence nothing are theirs",
			head + "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties: {KmsMasterKeyId: k}\n    Metadata:\n      cfn_nag:\n        rules_to_suppress: [{id: W99, reason: r}]\n      guard:\n        SuppressedRules: [SNS_ENCRYPTED_KMS]\n",
			"", "", ""},
		{"guard names have no reason",
			head + "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Metadata:\n      guard:\n        SuppressedRules: [SNS_ENCRYPTED_KMS, S3_BUCKET_LOGGING_ENABLED]\n",
			"SOC2-TEST-001@03 SOC2-SUPPRESS-001@07", "", ""},
		{"json metadata",
			`{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"A": {"Type": "AWS::SNS::Topic",` + "\n" +
				`"Metadata": {"soc2ls": {"ignore": [{"rule": "SOC2-TEST-001", "reason": "json reason"}]}}}}}`,
			"", "SOC2-TEST-001@01", "json reason"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := analysis.NewEngine([]*analysis.Rule{topicRule, nameRule}, nil)
			name := "t.yaml"
			if strings.HasPrefix(tc.src, "{") {
				name = "t.json"
			}
			res := e.Analyze(name, []byte(tc.src))
			if got := summary(res, res.Findings); got != tc.active {
				t.Errorf("active: got %q, want %q", got, tc.active)
			}
			if got := summary(res, res.Suppressed); got != tc.suppressed {
				t.Errorf("suppressed: got %q, want %q", got, tc.suppressed)
			}
			if len(res.Suppressed) > 0 && res.Suppressed[0].Suppression.Reason != tc.reason {
				t.Errorf("reason: got %q, want %q", res.Suppressed[0].Suppression.Reason, tc.reason)
			}
			for _, f := range res.Findings {
				if f.Suppression != nil {
					t.Errorf("active finding %s carries a suppression", f.RuleID)
				}
			}
		})
	}
}

// TestSuppressionOfDisabledRuleIsNotStale: a rule turned off in the options
// reports nothing, and its suppressions are not called unused.
func TestSuppressionOfDisabledRuleIsNotStale(t *testing.T) {
	opts := analysis.DefaultOptions()
	opts.Rules = map[string]analysis.RuleSetting{topicRule.ID: {Off: true}}
	e := analysis.NewEngine([]*analysis.Rule{topicRule}, opts)
	res := e.Analyze("t.yaml", []byte("Resources:\n  A: # soc2ls:ignore SOC2-TEST-001 reason\n    Type: AWS::SNS::Topic\n"))
	if len(res.Findings)+len(res.Suppressed) != 0 {
		t.Errorf("got %v / %v", res.Findings, res.Suppressed)
	}
}
