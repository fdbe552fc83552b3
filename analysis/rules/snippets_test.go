package rules

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// snippetFix builds a fix over src inside a real pass and returns the
// fixed text, parsed.
func snippetFix(t *testing.T, name, src string, build func(pass *analysis.Pass, b *edit.Builder)) *template.Template {
	t.Helper()
	var out []byte
	factsPass(t, src, func(pass *analysis.Pass) {
		fix := pass.NewFix("test", func(b *edit.Builder) { build(pass, b) })
		var err error
		if out, err = edit.Apply([]byte(src), fix.Edits); err != nil {
			t.Fatal(err)
		}
	})
	tp := template.Parse(name, out)
	if len(tp.Problems) > 0 {
		t.Fatalf("fixed template does not parse: %v\n%s", tp.Problems, out)
	}
	return tp
}

const bareWorkload = `AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/EC2
      MetricName: CPUUtilization
`

// TestAlertsTopicFromScratch: with no topic and no key, the F13 topic, its
// policy and the F1 key (gated, with the parameter to bring one's own key)
// arrive together, and the key serves the alarm publishers.
func TestAlertsTopicFromScratch(t *testing.T) {
	var ref edit.Value
	tp := snippetFix(t, "t.yaml", bareWorkload, func(pass *analysis.Pass, b *edit.Builder) {
		ref = useAlertsTopic(pass, b)
	})
	if !reflect.DeepEqual(ref, edit.Ref("SecurityAlertsTopic")) {
		t.Errorf("useAlertsTopic returned %v", ref)
	}
	topic, key := tp.Resource("SecurityAlertsTopic"), tp.Resource("AuditKey")
	if topic == nil || key == nil || tp.Resource("SecurityAlertsTopicPolicy") == nil {
		t.Fatalf("missing resources: %s", tp.Source)
	}
	if key.Condition != condCreateKmsKey || tp.Condition(condCreateKmsKey) == nil || tp.Parameter(paramExistingKmsKeyArn) == nil {
		t.Errorf("the key is not gated by CreateKmsKey with an ExistingKmsKeyArn parameter:\n%s", tp.Source)
	}
	if !keyAllows(key, keyForAlarms) || keyAllows(key, keyForCloudTrail) {
		t.Errorf("key policy serves the wrong consumers:\n%s", tp.Source)
	}
	if !topic.Property("KmsMasterKeyId").IsFn("Fn::If") {
		t.Errorf("topic key is not !If [CreateKmsKey, ...]:\n%s", tp.Source)
	}
	for _, tag := range []string{"Environment", "Owner", "DataClassification"} {
		if tagValue(key, tag) == "" && !hasTag(key, tag) {
			t.Errorf("inserted key lacks required tag %s", tag)
		}
	}
	if tp.Parameter("Environment") == nil || tp.Parameter("Owner") == nil {
		t.Errorf("tag parameters were not added:\n%s", tp.Source)
	}
	cfnLint(t, tp)
}

func hasTag(r *template.Resource, key string) bool {
	for _, tg := range tagsOf(r) {
		if tg.Key == key {
			return true
		}
	}
	return false
}

// TestExistingKeyGetsStatements: an existing key is reused and gets only the
// statements it lacks; the existing topic is reused.
func TestExistingKeyGetsStatements(t *testing.T) {
	src := `AWSTemplateFormatVersion: '2010-09-09'
Resources:
  LogsKey:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {AWS: !Sub 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root'}
            Action: 'kms:*'
            Resource: '*'
          - Effect: Allow
            Principal: {Service: !Sub 'logs.${AWS::Region}.amazonaws.com'}
            Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*']
            Resource: '*'
  PagerTopic:
    Type: AWS::SNS::Topic
`
	var key, topic edit.Value
	tp := snippetFix(t, "t.yaml", src, func(pass *analysis.Pass, b *edit.Builder) {
		key = useAuditKey(pass, b, keyForLogs, keyForCloudTrail)
		topic = useAlertsTopic(pass, b)
	})
	if !reflect.DeepEqual(key, edit.GetAtt("LogsKey", "Arn")) || !reflect.DeepEqual(topic, edit.Ref("PagerTopic")) {
		t.Errorf("got key %v, topic %v", key, topic)
	}
	k := tp.Resource("LogsKey")
	if !keyAllows(k, keyForCloudTrail) || !keyAllows(k, keyForLogs) {
		t.Errorf("statements missing:\n%s", tp.Source)
	}
	if n := strings.Count(string(tp.Source), "CloudWatchLogsUseKey"); n != 0 {
		t.Errorf("the logs statement was added although the key had one")
	}
	if len(tp.Resources) != 2 {
		t.Errorf("resources were added:\n%s", tp.Source)
	}
}

// TestEnsureConditionReusesEquivalents: a condition that means the same
// under another name is reused; a missing one arrives with its parameter.
func TestEnsureConditionReusesEquivalents(t *testing.T) {
	src := `AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Environment: {Type: String, AllowedValues: [production, staging, development]}
  PrimaryRegion: {Type: String, Default: eu-west-1}
  UseConfig: {Type: String, AllowedValues: ['true', 'false']}
Conditions:
  Prod: !Equals [production, !Ref Environment]
  Home: !Equals [!Ref PrimaryRegion, !Ref 'AWS::Region']
Resources:
  Topic:
    Type: AWS::SNS::Topic
`
	got := map[string]string{}
	tp := snippetFix(t, "t.yaml", src, func(pass *analysis.Pass, b *edit.Builder) {
		for _, c := range []string{condIsProduction, condIsPrimaryRegion, condCreateTrailInPrimary} {
			got[c] = ensureCondition(pass, b, c)
		}
	})
	want := map[string]string{condIsProduction: "Prod", condIsPrimaryRegion: "Home", condCreateTrailInPrimary: condCreateTrailInPrimary}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("ensureCondition(%s) = %s, want %s", k, got[k], v)
		}
	}
	if tp.Condition(condCreateCloudTrail) == nil || tp.Parameter(paramEnableCloudTrail) == nil || tp.Condition(condIsPrimaryRegion) != nil {
		t.Errorf("wrong conditions added:\n%s", tp.Source)
	}
	if v, known := tp.EvalCondition(condCreateTrailInPrimary, map[string]string{paramEnableCloudTrail: "false"}); !known || v {
		t.Errorf("CreateTrailInPrimary does not depend on EnableCloudTrail")
	}
}

// cfnLint runs cfn-lint on a fixed template when it is installed: inserted
// snippets must be valid CloudFormation, not just valid YAML.
func cfnLint(t *testing.T, tp *template.Template) {
	t.Helper()
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		return
	}
	path := filepath.Join(t.TempDir(), "t.yaml")
	if err := os.WriteFile(path, tp.Source, 0o644); err != nil {
		t.Fatal(err)
	}
	// W: warnings such as unused parameters are acceptable in a fragment.
	out, err := exec.Command(bin, "--format", "parseable", "--ignore-checks", "W", "--", path).CombinedOutput()
	if err != nil {
		t.Errorf("cfn-lint rejects the fixed template:\n%s\n%s", out, tp.Source)
	}
}
