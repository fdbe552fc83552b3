package edit

import (
	"strings"
	"testing"

	"github.com/soc2ls/soc2ls/analysis/template"
)

// apply runs build against src and returns the edited text, failing if the
// result does not parse.
func apply(t *testing.T, name, src string, build func(b *Builder, tp *template.Template)) string {
	t.Helper()
	tp := template.Parse(name, []byte(src))
	if len(tp.Problems) > 0 {
		t.Fatalf("input does not parse: %v", tp.Problems)
	}
	b := New(tp)
	build(b, tp)
	out, err := Apply([]byte(src), b.Edits())
	if err != nil {
		t.Fatal(err)
	}
	if re := template.Parse(name, out); len(re.Problems) > 0 {
		t.Fatalf("output does not parse: %v\n%s", re.Problems, out)
	}
	return string(out)
}

func TestBuilderYAML(t *testing.T) {
	cases := []struct {
		name, src, want string
		build           func(b *Builder, tp *template.Template)
	}{{
		name: "insert after a trailing comment, keeping indentation",
		src:  "Resources:\n    T:\n        Type: AWS::CloudTrail::Trail\n        Properties:\n            IsLogging: true # on\n",
		want: "Resources:\n    T:\n        Type: AWS::CloudTrail::Trail\n        Properties:\n            IsLogging: true # on\n            IsMultiRegionTrail: true\n",
		build: func(b *Builder, tp *template.Template) {
			b.Set(tp.Resource("T").Properties, "IsMultiRegionTrail", Bool(true))
		},
	}, {
		name: "set path creates Properties with the document's indent step",
		src:  "Resources:\n    T:\n        Type: AWS::CloudTrail::Trail\n",
		want: "Resources:\n    T:\n        Type: AWS::CloudTrail::Trail\n        Properties:\n            A:\n                B: x\n",
		build: func(b *Builder, tp *template.Template) {
			b.SetPath(tp.Resource("T").Value, []string{"Properties", "A", "B"}, Str("x"))
		},
	}, {
		name: "fill a key that has no value",
		src:  "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n  U:\n    Type: AWS::SNS::Topic\n",
		want: "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: t\n  U:\n    Type: AWS::SNS::Topic\n",
		build: func(b *Builder, tp *template.Template) {
			b.Set(tp.Resource("T").Value, "Properties", Map(KV{"TopicName", Str("t")}))
		},
	}, {
		name: "insert into a flow mapping",
		src:  "Resources:\n  T: {Type: AWS::SNS::Topic}\n",
		want: "Resources:\n  T: {Type: AWS::SNS::Topic, Condition: C}\n",
		build: func(b *Builder, tp *template.Template) {
			b.Set(tp.Resource("T").Value, "Condition", Str("C"))
		},
	}, {
		name: "replace a scalar with a short-form call",
		src:  "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      Tags: [{Key: Env, Value: prod}]\n",
		want: "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      Tags: [{Key: Env, Value: !Ref Environment}]\n",
		build: func(b *Builder, tp *template.Template) {
			b.Replace(tp.Resource("T").Property("Tags").Items[0].Get("Value"), Ref("Environment"))
		},
	}, {
		name: "append to a zero-indented block sequence",
		src:  "Resources:\n  P:\n    Type: AWS::S3::BucketPolicy\n    Properties:\n      Statement:\n      - Effect: Allow\n        Action: s3:GetObject\n",
		want: "Resources:\n  P:\n    Type: AWS::S3::BucketPolicy\n    Properties:\n      Statement:\n      - Effect: Allow\n        Action: s3:GetObject\n      - Effect: Deny\n        Resource: [!GetAtt B.Arn, !Sub '${B.Arn}/*']\n",
		build: func(b *Builder, tp *template.Template) {
			b.Append(tp.Resource("P").Property("Statement"), Map(KV{"Effect", Str("Deny")}, KV{"Resource", List(GetAtt("B", "Arn"), Sub("${B.Arn}/*"))}))
		},
	}, {
		name: "add a section in its conventional place, before a commented section",
		src:  "AWSTemplateFormatVersion: '2010-09-09'\n\n# Things we run\nResources:\n  T:\n    Type: AWS::SNS::Topic\n",
		want: "AWSTemplateFormatVersion: '2010-09-09'\n\nParameters:\n  Environment:\n    Type: String\n    AllowedValues: [production, staging]\n\n# Things we run\nResources:\n  T:\n    Type: AWS::SNS::Topic\n",
		build: func(b *Builder, tp *template.Template) {
			b.AddEntry("Parameters", "Environment", Map(KV{"Type", Str("String")}, KV{"AllowedValues", Strs("production", "staging")}))
			b.AddEntry("Parameters", "Environment", Map(KV{"Type", Str("String")})) // added once
		},
	}, {
		name: "CRLF documents get CRLF",
		src:  "Resources:\r\n  T:\r\n    Type: AWS::SNS::Topic\r\n    Properties:\r\n      TopicName: t\r\n",
		want: "Resources:\r\n  T:\r\n    Type: AWS::SNS::Topic\r\n    Properties:\r\n      TopicName: t\r\n      Tags:\r\n        - Key: a\r\n          Value: b\r\n",
		build: func(b *Builder, tp *template.Template) {
			b.Insert(tp.Resource("T").Properties, "Tags", List(Map(KV{"Key", Str("a")}, KV{"Value", Str("b")})))
		},
	}, {
		name: "quoting where YAML would misread",
		src:  "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      A: x\n",
		want: "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      A: x\n      B:\n        - 'true'\n        - '2010-09-09'\n        - 'a: b'\n        - '*'\n        - ''\n        - it's\n        - \"line\\nbreak\"\n        - plain text\n",
		build: func(b *Builder, tp *template.Template) {
			b.Insert(tp.Resource("T").Properties, "B", Strs("true", "2010-09-09", "a: b", "*", "", "it's", "line\nbreak", "plain text"))
		},
	}, {
		name: "Fn::If with a mapping branch renders as a block",
		src:  "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      A: x\n",
		want: "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      A: x\n      B: !If\n        - C\n        - K: v\n        - !Ref AWS::NoValue\n",
		build: func(b *Builder, tp *template.Template) {
			b.Insert(tp.Resource("T").Properties, "B", If("C", Map(KV{"K", Str("v")}), Ref("AWS::NoValue")))
		},
	}, {
		name: "a new resource comes after edits to the last resource, whatever the call order",
		src:  "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      A: x\n",
		want: "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      A: x\n      KmsMasterKeyId: !GetAtt K.Arn\n  K:\n    Type: AWS::KMS::Key\n",
		build: func(b *Builder, tp *template.Template) {
			b.AddEntry("Resources", "K", Map(KV{"Type", Str("AWS::KMS::Key")}))
			b.Insert(tp.Resource("T").Properties, "KmsMasterKeyId", GetAtt("K", "Arn"))
		},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := apply(t, "t.yaml", c.src, c.build); got != c.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, c.want)
			}
		})
	}
}

func TestBuilderJSON(t *testing.T) {
	cases := []struct {
		name, src, want string
		build           func(b *Builder, tp *template.Template)
	}{{
		name: "insert into a multi-line object",
		src:  "{\n  \"Resources\": {\n    \"T\": {\n      \"Type\": \"AWS::SNS::Topic\",\n      \"Properties\": {\n        \"TopicName\": \"t\"\n      }\n    }\n  }\n}\n",
		want: "{\n  \"Resources\": {\n    \"T\": {\n      \"Type\": \"AWS::SNS::Topic\",\n      \"Properties\": {\n        \"TopicName\": \"t\",\n        \"KmsMasterKeyId\": {\"Fn::GetAtt\": [\"K\", \"Arn\"]}\n      }\n    }\n  }\n}\n",
		build: func(b *Builder, tp *template.Template) {
			b.Set(tp.Resource("T").Properties, "KmsMasterKeyId", GetAtt("K", "Arn"))
		},
	}, {
		name: "insert into a one-line object and an empty one",
		src:  "{\"Resources\": {\"T\": {\"Type\": \"AWS::SNS::Topic\", \"Properties\": {}}}}",
		want: "{\"Resources\": {\"T\": {\"Type\": \"AWS::SNS::Topic\", \"Properties\": {\n  \"A\": true\n}, \"Condition\": \"C\"}}}",
		build: func(b *Builder, tp *template.Template) {
			b.Set(tp.Resource("T").Properties, "A", Bool(true))
			b.Set(tp.Resource("T").Value, "Condition", Str("C"))
		},
	}, {
		name: "add a section before Resources",
		src:  "{\n  \"AWSTemplateFormatVersion\": \"2010-09-09\",\n  \"Resources\": {}\n}\n",
		want: "{\n  \"AWSTemplateFormatVersion\": \"2010-09-09\",\n  \"Parameters\": {\n    \"Env\": {\n      \"Type\": \"String\",\n      \"AllowedValues\": [\"a\", \"b\"]\n    }\n  },\n  \"Resources\": {}\n}\n",
		build: func(b *Builder, tp *template.Template) {
			b.AddEntry("Parameters", "Env", Map(KV{"Type", Str("String")}, KV{"AllowedValues", Strs("a", "b")}))
		},
	}, {
		name: "append to a multi-line array",
		src:  "{\n  \"Resources\": {\n    \"P\": {\n      \"Type\": \"AWS::S3::BucketPolicy\",\n      \"Properties\": {\n        \"S\": [\n          {\"Effect\": \"Allow\"}\n        ]\n      }\n    }\n  }\n}\n",
		want: "{\n  \"Resources\": {\n    \"P\": {\n      \"Type\": \"AWS::S3::BucketPolicy\",\n      \"Properties\": {\n        \"S\": [\n          {\"Effect\": \"Allow\"},\n          {\n            \"Effect\": \"Deny\",\n            \"Principal\": \"*\"\n          }\n        ]\n      }\n    }\n  }\n}\n",
		build: func(b *Builder, tp *template.Template) {
			b.Append(tp.Resource("P").Property("S"), Map(KV{"Effect", Str("Deny")}, KV{"Principal", Str("*")}))
		},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := apply(t, "t.json", c.src, c.build); got != c.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, c.want)
			}
		})
	}
}

func TestApplyAndCompatible(t *testing.T) {
	src := []byte("0123456789")
	out, err := Apply(src, []Edit{{5, 7, "x"}, {0, 0, "<"}, {5, 7, "x"}, {10, 10, ">"}})
	if err != nil || string(out) != "<01234x789>" {
		t.Errorf("Apply: %q %v", out, err)
	}
	if _, err := Apply(src, []Edit{{1, 4, "a"}, {3, 5, "b"}}); err == nil || !strings.Contains(err.Error(), "overlap") {
		t.Errorf("overlapping edits must fail, got %v", err)
	}
	if _, err := Apply(src, []Edit{{8, 12, "a"}}); err == nil {
		t.Error("an edit past the end must fail")
	}
	a := []Edit{{3, 3, "param"}, {5, 6, "x"}}
	if !Compatible(a, []Edit{{3, 3, "param"}, {7, 8, "y"}}) {
		t.Error("sharing an identical insertion is compatible")
	}
	if Compatible(a, []Edit{{3, 3, "other"}}) {
		t.Error("different insertions at one offset conflict")
	}
	if Compatible(a, []Edit{{4, 6, "z"}}) {
		t.Error("overlapping replacements conflict")
	}
}
