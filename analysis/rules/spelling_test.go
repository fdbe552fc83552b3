package rules

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/soc2ls/soc2ls/analysis"
)

// TestReanalyzeSameValueNewSpelling re-analyses edits that spell a value
// differently (an escape, other quotes) without changing it, in resources,
// against Analyze. Such an edit is no trivia (Delta.Trivia): the value's own
// span changed, and checkDelta holds every re-parse to that. Here the
// edited resource's checks run again, so this checks the whole path, not
// the engine's reuse of findings under trivia, which only top-level pairs
// get and on whose nodes no rule reports today.
func TestReanalyzeSameValueNewSpelling(t *testing.T) {
	for _, c := range []struct{ src, from, to string }{
		{`{"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"Tags": [{"Key": "Environment", "Value": "pro\u0064uction"}]}}}}`, `"pro\u0064uction"`, `"production"`},
		{`{"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"Tags": [{"Key": "Environment", "Value": "production"}]}}}}`, `"production"`, `"pro\u0064uction"`},
		{"Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      Tags:\n        - Key: Environment\n          Value: \"pro\\x64uction\"\n", `"pro\x64uction"`, `"production"`},
		{"Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      Tags:\n        - Key: Environment\n          Value: 'production'\n", `'production'`, `"production"`},
		{"Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      Tags:\n        - Key: Environment\n          Value: production\n", `production`, `"production"`},
	} {
		name := "t.json"
		if c.src[0] != '{' {
			name = "t.yaml"
		}
		eng := analysis.NewEngine(All(), nil).WithoutFixes()
		src := []byte(c.src)
		prev := eng.Analyze(name, src)
		i := bytes.Index(src, []byte(c.from))
		nsrc := append(append(append([]byte{}, src[:i]...), c.to...), src[i+len(c.from):]...)
		for _, inPlace := range []bool{false, true} {
			p := eng.Analyze(name, src)
			var got *analysis.Result
			if inPlace {
				got, _ = eng.ReanalyzeInPlace(context.Background(), p, nsrc, i, i+len(c.from), len(c.to))
			} else {
				got = eng.Reanalyze(prev, nsrc, i, i+len(c.from), len(c.to))
			}
			want := eng.Analyze(name, nsrc)
			g, w := fmt.Sprint(got.Findings), fmt.Sprint(want.Findings)
			if g != w {
				t.Errorf("%s -> %s (in place %v):\n got %s\nwant %s", c.from, c.to, inPlace, g, w)
			}
		}
	}
}
