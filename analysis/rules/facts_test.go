package rules

import (
	"testing"

	"github.com/soc2ls/soc2ls/analysis"
)

// factsPass runs fn inside a real pass over src, so that Memo works.
func factsPass(t *testing.T, src string, fn func(*analysis.Pass)) {
	t.Helper()
	r := &analysis.Rule{ID: "SOC2-TEST-001", Title: "facts", Severity: analysis.Info, Controls: []string{"CC7.2"}, Check: fn}
	e := analysis.NewEngine([]*analysis.Rule{r}, nil)
	res := e.Analyze("t.yaml", []byte(src))
	for _, f := range res.Findings {
		t.Errorf("unexpected finding: %s", f.Message)
	}
}

const factsTemplate = `AWSTemplateFormatVersion: '2010-09-09'
Description: Workload stack
Resources:
  TrailBucket:
    Type: AWS::S3::Bucket
  ConfigBucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: acme-config
  AccessLogs:
    Type: AWS::S3::Bucket
  Data:
    Type: AWS::S3::Bucket
    Properties:
      LoggingConfiguration:
        DestinationBucketName: !Ref AccessLogs
  Tagged:
    Type: AWS::S3::Bucket
    Properties:
      Tags: [{Key: dataclassification, Value: Audit}]
  Trail:
    Type: AWS::CloudTrail::Trail
    Properties:
      S3BucketName: !Ref TrailBucket
      CloudWatchLogsLogGroupArn: !GetAtt TrailGroup.Arn
  TrailGroup:
    Type: AWS::Logs::LogGroup
  Channel:
    Type: AWS::Config::DeliveryChannel
    Properties:
      S3BucketName: acme-config
  FlowGroup:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: /vpc/flow-logs
  AppGroup:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: /app/web
`

func TestAuditFacts(t *testing.T) {
	factsPass(t, factsTemplate, func(pass *analysis.Pass) {
		buckets := auditBuckets(pass)
		for _, name := range []string{"TrailBucket", "ConfigBucket", "AccessLogs", "Tagged"} {
			if _, ok := buckets[name]; !ok {
				t.Errorf("%s is an audit bucket", name)
			}
		}
		if _, ok := buckets["Data"]; ok {
			t.Error("Data is not an audit bucket")
		}
		if !accessLogTargets(pass)["AccessLogs"] || accessLogTargets(pass)["Data"] {
			t.Error("access-log targets wrong")
		}
		groups := auditLogGroups(pass)
		if _, ok := groups["TrailGroup"]; !ok {
			t.Error("TrailGroup is an audit log group")
		}
		if _, ok := groups["FlowGroup"]; !ok {
			t.Error("FlowGroup is an audit log group by its name")
		}
		if _, ok := groups["AppGroup"]; ok {
			t.Error("AppGroup is not an audit log group")
		}
		if !isBaseline(pass) {
			t.Error("a template with a trail is a baseline")
		}
	})
}

func TestResolveResource(t *testing.T) {
	src := `Resources:
  B:
    Type: AWS::S3::Bucket
    Properties: {BucketName: named}
  G:
    Type: AWS::Logs::LogGroup
    Properties: {LogGroupName: /aws/x}
  U:
    Type: AWS::SNS::Topic
    Properties:
      A: !Ref B
      B: !GetAtt [B, Arn]
      C: !Sub '${B.Arn}/*'
      D: named
      E: 'arn:aws:s3:::named/prefix/*'
      F: !Sub 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${G}:*'
      G: 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/x:*'
      H: !If [C, !Ref AWS::NoValue, !Ref B]
      I: !Ref Param
      J: other
`
	want := map[string]string{"A": "B", "B": "B", "C": "B", "D": "B", "E": "B", "F": "G", "G": "G", "H": "B", "I": "", "J": ""}
	ran := false
	probe := &analysis.Rule{ID: "SOC2-TEST-001", Title: "probe", Severity: analysis.Info, Controls: []string{"CC8.1"},
		Check: func(pass *analysis.Pass) {
			ran = true
			u := pass.Template.Resource("U")
			for prop, w := range want {
				got := ""
				if r := resolveResource(pass, u.Property(prop)); r != nil {
					got = r.Name
				}
				if got != w {
					t.Errorf("%s resolves to %q, want %q", prop, got, w)
				}
			}
		}}
	analysis.NewEngine([]*analysis.Rule{probe}, nil).Analyze("t.yaml", []byte(src))
	if !ran {
		t.Fatal("the probe did not run")
	}
}

func TestBaselineDetection(t *testing.T) {
	cases := map[string]bool{
		"Resources:\n  T: {Type: AWS::GuardDuty::Detector}\n":                                        true,
		"Description: Account bootstrap\nResources:\n  B: {Type: AWS::S3::Bucket}\n":                 true,
		"Metadata: {soc2ls: {profile: workload}}\nResources:\n  T: {Type: AWS::CloudTrail::Trail}\n": false,
		"Metadata: {soc2ls: {profile: baseline}}\nResources:\n  B: {Type: AWS::S3::Bucket}\n":        true,
		"Description: Web application\nResources:\n  B: {Type: AWS::S3::Bucket}\n":                   false,
	}
	for src, want := range cases {
		factsPass(t, src, func(pass *analysis.Pass) {
			if got := isBaseline(pass); got != want {
				t.Errorf("isBaseline(%q) = %v, want %v", src, got, want)
			}
		})
	}
}

// TestBaselineProfileOption: the project's profile (Options.Profile, from
// .soc2ls.yaml) overrides detection, and a template's own Metadata
// declaration overrides the project's.
func TestBaselineProfileOption(t *testing.T) {
	cases := []struct {
		profile, src string
		want         bool
	}{
		{"baseline", "Description: Web application\nResources:\n  B: {Type: AWS::S3::Bucket}\n", true},
		{"workload", "Resources:\n  T: {Type: AWS::CloudTrail::Trail}\n", false},
		{"", "Resources:\n  T: {Type: AWS::CloudTrail::Trail}\n", true},
		{"baseline", "Metadata: {soc2ls: {profile: workload}}\nResources:\n  B: {Type: AWS::S3::Bucket}\n", false},
		{"workload", "Metadata: {soc2ls: {profile: baseline}}\nResources:\n  B: {Type: AWS::S3::Bucket}\n", true},
	}
	for _, c := range cases {
		opts := analysis.DefaultOptions()
		opts.Profile = c.profile
		r := &analysis.Rule{ID: "SOC2-TEST-001", Title: "facts", Severity: analysis.Info, Controls: []string{"CC7.2"}, Check: func(pass *analysis.Pass) {
			if got := isBaseline(pass); got != c.want {
				t.Errorf("profile %q: isBaseline(%q) = %v, want %v", c.profile, c.src, got, c.want)
			}
		}}
		analysis.NewEngine([]*analysis.Rule{r}, opts).Analyze("t.yaml", []byte(c.src))
	}
}
