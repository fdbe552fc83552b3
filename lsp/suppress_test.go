package lsp

import (
	"strings"
	"testing"

	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// TestSuppressEdits inserts a suppression into every shape of resource
// Metadata and checks the result parses with the entry in place.
func TestSuppressEdits(t *testing.T) {
	for _, c := range []struct{ name, file, src string }{
		{"no metadata", "a.yaml", "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: x\n"},
		{"no properties", "a.yaml", "Resources:\n  B:\n    Type: AWS::S3::Bucket\n"},
		{"other metadata", "a.yaml", "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Metadata:\n      cfn-lint:\n        config: {}\n"},
		{"flow metadata", "a.yaml", "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Metadata: {Owner: team}\n"},
		{"empty soc2ls", "a.yaml", "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Metadata:\n      soc2ls:\n"},
		{"existing list", "a.yaml", "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Metadata:\n      soc2ls:\n        ignore:\n          - rule: SOC2-CT-001\n            reason: not a trail\n"},
		{"empty list", "a.yaml", "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Metadata:\n      soc2ls:\n        ignore: []\n"},
		{"crlf", "a.yaml", "Resources:\r\n  B:\r\n    Type: AWS::S3::Bucket\r\n"},
		{"json", "a.json", "{\n  \"Resources\": {\n    \"B\": {\n      \"Type\": \"AWS::S3::Bucket\"\n    }\n  }\n}\n"},
		{"json metadata", "a.json", "{\"Resources\": {\"B\": {\"Type\": \"AWS::S3::Bucket\", \"Metadata\": {\"soc2ls\": {\"ignore\": [{\"rule\": \"SOC2-CT-001\", \"reason\": \"r\"}]}}}}}\n"},
	} {
		tm := template.Parse(c.file, []byte(c.src))
		edits, ok := suppressEdits(tm, tm.Resource("B"), "SOC2-S3-001")
		if !ok {
			t.Errorf("%s: no suppression edit", c.name)
			continue
		}
		out, err := edit.Apply([]byte(c.src), edits)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		got := template.Parse(c.file, out)
		if got.HasSyntaxError() || len(got.Problems) > 0 {
			t.Errorf("%s: result does not parse cleanly:\n%s", c.name, out)
			continue
		}
		list := got.Resource("B").Metadata.Path("soc2ls", "ignore")
		if list == nil || list.Kind != template.Sequence {
			t.Errorf("%s: no ignore list:\n%s", c.name, out)
			continue
		}
		last := list.Items[len(list.Items)-1]
		if last.Get("rule").Text() != "SOC2-S3-001" || last.Get("reason").Text() != suppressReason {
			t.Errorf("%s: last entry is not the suppression:\n%s", c.name, out)
		}
		if strings.Contains(c.src, "\r\n") && strings.Contains(strings.ReplaceAll(string(out), "\r\n", ""), "\n") {
			t.Errorf("%s: bare LF in a CRLF document: %q", c.name, out)
		}
		// Suppressing the same rule again is not offered.
		if _, again := suppressEdits(got, got.Resource("B"), "SOC2-S3-001"); again {
			t.Errorf("%s: the rule is offered again once suppressed", c.name)
		}
	}
}
