package rules

import (
	"bytes"
	"context"
	"maps"
	"sync"
	"testing"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/synth"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// TestAnalysisScalesLinearly guards the hot path against rules (or fixes)
// whose cost grows faster than the template: doubling the template may at
// most double the work, measured in allocations and in the bytes allocated,
// which, unlike time, do not depend on how busy the machine is.
func TestAnalysisScalesLinearly(t *testing.T) {
	e := analysis.NewEngine(All(), nil)
	for _, gen := range []struct {
		name string
		make func(int) []byte
	}{{"t.yaml", synth.YAML}, {"t.json", synth.JSON}} {
		small, large := gen.make(100<<10), gen.make(400<<10)
		cost := func(src []byte) float64 {
			return testing.AllocsPerRun(2, func() { e.Analyze(gen.name, src) })
		}
		ratio := cost(large) / cost(small)
		size := float64(len(large)) / float64(len(small))
		if ratio > size*1.3 {
			t.Errorf("%s: a %.1fx larger template costs %.1fx the allocations: something is superlinear", gen.name, size, ratio)
		}
	}
}

// TestKeystrokeCostStaysSmall guards the incremental path: a character
// typed in a value of one resource, in YAML and in JSON, keeps all but a
// handful of checks, and
// costs a small fraction of a whole analysis. The checks it examines to
// decide what to run again (Result.Visited) do not grow with the template:
// it finds them through the index of what checks read, never by asking
// every check. Its allocations do not grow with the template either: the
// facts about buckets are gathered per bucket, so that an edit of a bucket
// recomputes its own. A rule that starts reading every resource, a fact
// that loses its early cutoff, or an engine that visits every check again
// shows up here.
func TestKeystrokeCostStaysSmall(t *testing.T) {
	eng := analysis.NewEngine(All(), nil).WithoutFixes()
	cost := func(format string, size int, typ string) (allocs float64, kept, visited, checks int) {
		prev := eng.Analyze("t."+format, generate(format, size))
		at := typingSpotIn(prev.Template, typ)
		checks = len(prev.Template.Resources)
		i := 0
		allocs = testing.AllocsPerRun(20, func() {
			e := anEdit{at, at, "x"}
			if i%2 == 1 {
				e = anEdit{at, at + 1, ""}
			}
			i++
			prev, _ = eng.ReanalyzeInPlace(context.Background(), prev, splice(prev.Template.Source, e), e.start, e.end, len(e.text))
			visited = max(visited, prev.Visited)
		})
		return allocs, prev.Reused, visited, checks
	}
	for _, format := range []string{"yaml", "json"} {
		src := generate(format, 400<<10)
		full := testing.AllocsPerRun(2, func() { eng.Analyze("t."+format, src) })
		for _, typ := range []string{"AWS::Logs::LogGroup", "AWS::SQS::Queue", "AWS::S3::Bucket"} {
			typ := format + " " + typ
			small, keptSmall, visitedSmall, _ := cost(format, 100<<10, typ[len(format)+1:])
			large, keptLarge, visitedLarge, checks := cost(format, 400<<10, typ[len(format)+1:])
			t.Logf("%s: %.0f allocations at 100 KB, %.0f at 400 KB; %d and %d checks visited", typ, small, large, visitedSmall, visitedLarge)
			if large > 2*small {
				t.Errorf("%s: a keystroke makes %.0f allocations at 400 KB against %.0f at 100 KB: something grows with the template", typ, large, small)
			}
			if large > full/50 {
				t.Errorf("%s: a keystroke makes %.0f allocations, a whole analysis %.0f", typ, large, full)
			}
			if keptLarge < checks-10 || keptSmall == 0 {
				t.Errorf("%s: a keystroke kept %d checks of about %d", typ, keptLarge, checks)
			}
			if visitedSmall == 0 || visitedLarge > visitedSmall || visitedLarge > 10 {
				t.Errorf("%s: a keystroke visited %d checks at 100 KB and %d at 400 KB: finding the checks to run again must not grow with the template", typ, visitedSmall, visitedLarge)
			}
		}
	}
}

// generate returns a synthetic template of about size bytes in format
// ("yaml" or "json").
func generate(format string, size int) []byte {
	if format == "json" {
		return synth.JSON(size)
	}
	return synth.YAML(size)
}

// TestKeystrokeRecomputesOnlyTheEditedResourcesFacts guards the facts that
// rules share across resources by complexity, counted in calls of their
// Compute functions: a keystroke in a resource recomputes each resource
// fact for that resource only, and a Fact whose inputs kept their values
// not at all, whatever the size of the template. The synthetic template
// gets a KMS key, an encrypted audit log group, a metric filter that names
// it literally (which physicalNameIndex resolves, without reading every
// resource that has a physical name), an alarm, and a named bucket that a
// flow log names by ARN (an audit bucket through physicalNameIndex too),
// encrypted with a literal key id, so that the facts have values to keep.
func TestKeystrokeRecomputesOnlyTheEditedResourcesFacts(t *testing.T) {
	gathers := []*analysis.ResourceFact{auditLogGroupMarks, auditBucketMarks, retainedStoreMarks, cwEntries, kmsKeyConsumers, physicalNames, accessLogTarget, policyBucket}
	wholes := []*analysis.Fact{auditLogGroupsFact, auditBucketsFact, retainedStoresFact, cwIndexFact, kmsKeyUsesFact, physicalNameIndex, accessLogTargetsFact, bucketPolicies}
	var mu sync.Mutex
	calls := map[string]int{}
	counting := func(key string, compute func(*analysis.Pass) any) func(*analysis.Pass) any {
		return func(pass *analysis.Pass) any {
			mu.Lock()
			calls[key]++
			mu.Unlock()
			return compute(pass)
		}
	}
	for _, f := range gathers {
		compute := f.Compute
		f.Compute = counting(f.Key, compute)
		defer func() { f.Compute = compute }()
	}
	for _, f := range wholes {
		compute := f.Compute
		f.Compute = counting(f.Key, compute)
		defer func() { f.Compute = compute }()
	}
	const extra = `  AuditKey:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: true
  AuditLogs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: /audit/trail
      KmsKeyId: !GetAtt AuditKey.Arn
      Tags:
        - Key: DataClassification
          Value: audit
  AuditFilter:
    Type: AWS::Logs::MetricFilter
    Properties:
      LogGroupName: /audit/trail
      FilterPattern: '{ $.errorCode = "AccessDenied*" }'
      MetricTransformations:
        - MetricNamespace: SecurityMetrics
          MetricName: AccessDenied
          MetricValue: '1'
  AuditAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: SecurityMetrics
      MetricName: AccessDenied
      Statistic: Sum
      Period: 300
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
  FlowLogBucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: audit-flow-logs
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault:
              SSEAlgorithm: aws:kms
              KMSMasterKeyID: alias/aws/s3
  AuditFlowLog:
    Type: AWS::EC2::FlowLog
    Properties:
      ResourceId: vpc-0123456789abcdef0
      ResourceType: VPC
      TrafficType: ALL
      LogDestinationType: s3
      LogDestination: arn:aws:s3:::audit-flow-logs
Outputs:
`
	eng := analysis.NewEngine(All(), nil).WithoutFixes()
	const edits = 10
	perKeystrokes := func(size int, typ string) map[string]int {
		src := bytes.Replace(synth.YAML(size), []byte("Outputs:\n"), []byte(extra), 1)
		prev := eng.Analyze("t.yaml", src)
		for _, f := range wholes {
			if calls[f.Key] == 0 {
				t.Fatalf("fact %s was not computed: the test proves nothing for it", f.Key)
			}
		}
		at := typingSpotIn(prev.Template, typ)
		clear(calls)
		for i := range edits {
			e := anEdit{at, at, "x"}
			if i%2 == 1 {
				e = anEdit{at, at + 1, ""}
			}
			prev, _ = eng.ReanalyzeInPlace(context.Background(), prev, splice(prev.Template.Source, e), e.start, e.end, len(e.text))
		}
		return maps.Clone(calls)
	}
	for _, typ := range []string{"AWS::Logs::LogGroup", "AWS::SQS::Queue", "AWS::S3::Bucket", "AWS::S3::BucketPolicy"} {
		small, large := perKeystrokes(100<<10, typ), perKeystrokes(400<<10, typ)
		t.Logf("%s: Compute calls in %d keystrokes %v at 100 KB, %v at 400 KB", typ, edits, small, large)
		for _, f := range gathers {
			if large[f.Key] > edits || large[f.Key] != small[f.Key] {
				t.Errorf("%s: %d keystrokes compute resource fact %s %d times at 100 KB, %d at 400 KB: each should compute the edited resource's only", typ, edits, f.Key, small[f.Key], large[f.Key])
			}
		}
		for _, f := range wholes {
			if small[f.Key]+large[f.Key] > 0 {
				t.Errorf("%s: keystrokes recompute fact %s (%d times at 100 KB, %d at 400 KB) although its inputs keep their values", typ, f.Key, small[f.Key], large[f.Key])
			}
		}
	}
}

// TestKeystrokeSettlesFewResources guards the deferred move of the spans
// after an edit (template.ReparseInPlaceUnsettled): a character typed in one
// resource moves, before the findings are published, the nodes of the few
// resources the re-run checks look up, and not more of them in a larger
// template. A check that starts looking up every resource of a type (or
// all of them) on a keystroke shows up here, as a count of nodes that grows
// with the template. The template gets an AWS Config recorder and rule,
// whose check reads the whole dependency graph.
func TestKeystrokeSettlesFewResources(t *testing.T) {
	const config = `  Recorder:
    Type: AWS::Config::ConfigurationRecorder
    Properties:
      RoleARN: arn:aws:iam::123456789012:role/config
  Channel:
    Type: AWS::Config::DeliveryChannel
    Properties:
      S3BucketName: !Ref Bucket0
  VersioningRule:
    Type: AWS::Config::ConfigRule
    DependsOn: Recorder
    Properties:
      Source:
        Owner: AWS
        SourceIdentifier: S3_BUCKET_VERSIONING_ENABLED
Outputs:
`
	eng := analysis.NewEngine(All(), nil).WithoutFixes()
	moved := func(size int, typ string) int {
		prev := eng.Analyze("t.yaml", bytes.Replace(synth.YAML(size), []byte("Outputs:\n"), []byte(config), 1))
		at := typingSpotIn(prev.Template, typ)
		most := 0
		for i := range 6 {
			e := anEdit{at, at, "x"}
			if i%2 == 1 {
				e = anEdit{at, at + 1, ""}
			}
			prev, _ = eng.ReanalyzeInPlaceUnsettled(context.Background(), prev, splice(prev.Template.Source, e), e.start, e.end, len(e.text))
			if !prev.ConsumedPrevious {
				t.Fatalf("%s: the keystroke was not re-read in place", typ)
			}
			most = max(most, prev.Template.MovedAhead())
			prev.Template.Settle()
		}
		return most
	}
	for _, typ := range []string{"AWS::Logs::LogGroup", "AWS::SQS::Queue", "AWS::S3::Bucket", "AWS::S3::BucketPolicy", "AWS::IAM::Role", "AWS::EC2::SecurityGroup"} {
		small, large := moved(100<<10, typ), moved(400<<10, typ)
		t.Logf("%s: %d nodes moved ahead at 100 KB, %d at 400 KB", typ, small, large)
		if large > small+small/2+16 {
			t.Errorf("%s: a keystroke moves %d nodes ahead of settling at 400 KB, %d at 100 KB: a re-run check looks up resources in proportion to the template", typ, large, small)
		}
	}
}

// TestEntryEditCostStaysSmall is TestKeystrokeCostStaysSmall for the
// entries of the other sections: a digit typed in a parameter's default,
// and a character in an output's value, re-run the checks that read that
// parameter or output (by name, or every entry of its section), not every
// check, and the checks examined do not grow with the template. (A
// parameter that every resource refers to, such as Environment, re-runs
// every check that refers to it: that is the rule, not a cost to avoid.)
func TestEntryEditCostStaysSmall(t *testing.T) {
	eng := analysis.NewEngine(All(), nil).WithoutFixes()
	for _, c := range []struct{ name, after string }{
		{"a parameter's default", "RetentionDays:\n    Type: Number\n    Default: 36"},
		{"an output's value", "FirstBucket:\n    Value: !Ref Bucket"},
	} {
		cost := func(size int) (kept, visited, checks int) {
			prev := eng.Analyze("t.yaml", synth.YAML(size))
			i := bytes.Index(prev.Template.Source, []byte(c.after))
			if i < 0 {
				t.Fatalf("%s: no %q in the synth template", c.name, c.after)
			}
			at := i + len(c.after)
			checks = len(prev.Template.Resources)
			kept = checks
			for k := range 4 {
				e := anEdit{at, at, "7"}
				if k%2 == 1 {
					e = anEdit{at, at + 1, ""}
				}
				prev, _ = eng.ReanalyzeInPlace(context.Background(), prev, splice(prev.Template.Source, e), e.start, e.end, len(e.text))
				kept, visited = min(kept, prev.Reused), max(visited, prev.Visited)
			}
			return kept, visited, checks
		}
		keptSmall, visitedSmall, _ := cost(100 << 10)
		keptLarge, visitedLarge, checks := cost(400 << 10)
		t.Logf("%s: %d and %d checks visited at 100 KB and 400 KB; %d of about %d kept", c.name, visitedSmall, visitedLarge, keptLarge, checks)
		if keptSmall == 0 || keptLarge < checks-20 {
			t.Errorf("%s: an edit kept %d checks of about %d", c.name, keptLarge, checks)
		}
		if visitedSmall == 0 || visitedLarge > visitedSmall || visitedLarge > 30 {
			t.Errorf("%s: an edit visited %d checks at 100 KB and %d at 400 KB: finding the checks to run again must not grow with the template", c.name, visitedSmall, visitedLarge)
		}
	}
}

// TestStructuralEditCostStaysSmall is TestKeystrokeCostStaysSmall for the
// edits that change which resources there are: a character typed at the
// end of a logical id (a rename), an entry's key line typed above a
// resource (a resource added), a resource's lines deleted and pasted back,
// each of a resource in the middle of the template and of a bucket (which
// feeds the facts every bucket's checks read). Each keeps all but a few
// checks, examines a number of them that does not grow with the template,
// and moves the nodes of a few resources ahead of settling, not those of
// every resource after the edit.
func TestStructuralEditCostStaysSmall(t *testing.T) {
	eng := analysis.NewEngine(All(), nil).WithoutFixes()
	pick := map[string]func(tp *template.Template) int{
		"the middle resource": func(tp *template.Template) int { return len(tp.Resources) / 2 },
		"a bucket": func(tp *template.Template) int {
			for i := len(tp.Resources) / 2; i < len(tp.Resources); i++ {
				if tp.Resources[i].Type == "AWS::S3::Bucket" {
					return i
				}
			}
			return len(tp.Resources) / 2
		},
	}
	kinds := map[string]func(tp *template.Template, i int) (edit, undo anEdit){
		"rename": func(tp *template.Template, i int) (anEdit, anEdit) {
			key := tp.Resources[i].Key
			return anEdit{key.End, key.End, "x"}, anEdit{key.End, key.End + 1, ""}
		},
		"add": func(tp *template.Template, i int) (anEdit, anEdit) {
			at := tp.Lines.LineStart(tp.Lines.LineOf(tp.Resources[i].Key.Start))
			return anEdit{at, at, "  X:\n"}, anEdit{at, at + 5, ""}
		},
		"delete": func(tp *template.Template, i int) (anEdit, anEdit) {
			from := tp.Lines.LineStart(tp.Lines.LineOf(tp.Resources[i].Key.Start))
			to := tp.Lines.LineStart(tp.Lines.LineOf(tp.Resources[i+1].Key.Start))
			return anEdit{from, to, ""}, anEdit{from, from, string(tp.Source[from:to])}
		},
	}
	for _, which := range []string{"the middle resource", "a bucket"} {
		for _, kind := range []string{"rename", "add", "delete"} {
			name := kind + " " + which
			cost := func(size int) (kept, visited, moved, checks int) {
				prev := eng.Analyze("t.yaml", synth.YAML(size))
				edit, undo := kinds[kind](prev.Template, pick[which](prev.Template))
				checks, kept = len(prev.Template.Resources), len(prev.Template.Resources)
				for i := range 4 {
					e := edit
					if i%2 == 1 {
						e = undo
					}
					prev, _ = eng.ReanalyzeInPlaceUnsettled(context.Background(), prev, splice(prev.Template.Source, e), e.start, e.end, len(e.text))
					if !prev.ConsumedPrevious {
						t.Fatalf("%s: the edit was not re-read in place", name)
					}
					kept, visited, moved = min(kept, prev.Reused), max(visited, prev.Visited), max(moved, prev.Template.MovedAhead())
					prev.Template.Settle()
				}
				return kept, visited, moved, checks
			}
			keptSmall, visitedSmall, movedSmall, _ := cost(100 << 10)
			keptLarge, visitedLarge, movedLarge, checks := cost(400 << 10)
			t.Logf("%s: %d and %d checks visited at 100 KB and 400 KB, %d and %d nodes moved ahead; %d of about %d kept",
				name, visitedSmall, visitedLarge, movedSmall, movedLarge, keptLarge, checks)
			if keptSmall == 0 || keptLarge < checks-20 {
				t.Errorf("%s: an edit kept %d checks of about %d", name, keptLarge, checks)
			}
			if visitedSmall == 0 || visitedLarge > visitedSmall+2 || visitedLarge > 30 {
				t.Errorf("%s: an edit visited %d checks at 100 KB and %d at 400 KB: finding the checks to run again must not grow with the template", name, visitedSmall, visitedLarge)
			}
			if movedLarge > movedSmall+movedSmall/2+16 {
				t.Errorf("%s: an edit moves %d nodes ahead of settling at 400 KB, %d at 100 KB", name, movedLarge, movedSmall)
			}
		}
	}
}
