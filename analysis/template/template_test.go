package template

import (
	"strings"
	"testing"
)

// text returns the source text of a span.
func text(t *Template, s Span) string { return string(t.Source[s.Start:s.End]) }

func TestIntrinsicForms(t *testing.T) {
	cases := []struct {
		name, yaml, json string
		fn               string
		arg              string // source text of the argument
	}{
		{"Ref", "!Ref Bucket", `{"Ref": "Bucket"}`, "Ref", "Bucket"},
		{"GetAtt dotted", "!GetAtt Bucket.Arn", `{"Fn::GetAtt": "Bucket.Arn"}`, "Fn::GetAtt", "Bucket.Arn"},
		{"GetAtt list", "!GetAtt [Bucket, Arn]", `{"Fn::GetAtt": ["Bucket", "Arn"]}`, "Fn::GetAtt", ""},
		{"Sub", "!Sub 'arn:${AWS::Partition}:s3:::${Bucket}'", `{"Fn::Sub": "arn:${AWS::Partition}:s3:::${Bucket}"}`, "Fn::Sub", ""},
		{"Sub list", "!Sub ['${X}-${Y}', {X: !Ref A}]", `{"Fn::Sub": ["${X}-${Y}", {"X": {"Ref": "A"}}]}`, "Fn::Sub", ""},
		{"If", "!If [IsProd, 7, 1]", `{"Fn::If": ["IsProd", 7, 1]}`, "Fn::If", ""},
		{"Equals", "!Equals [a, b]", `{"Fn::Equals": ["a", "b"]}`, "Fn::Equals", ""},
		{"And", "!And [!Condition A, !Condition B]", `{"Fn::And": [{"Condition": "A"}, {"Condition": "B"}]}`, "Fn::And", ""},
		{"Or", "!Or [!Condition A, !Condition B]", `{"Fn::Or": [{"Condition": "A"}, {"Condition": "B"}]}`, "Fn::Or", ""},
		{"Not", "!Not [!Condition A]", `{"Fn::Not": [{"Condition": "A"}]}`, "Fn::Not", ""},
		{"Condition", "!Condition A", `{"Condition": "A"}`, "Condition", "A"},
		{"FindInMap", "!FindInMap [M, K, V]", `{"Fn::FindInMap": ["M", "K", "V"]}`, "Fn::FindInMap", ""},
		{"Join", "!Join ['', [a, b]]", `{"Fn::Join": ["", ["a", "b"]]}`, "Fn::Join", ""},
		{"Select", "!Select [0, !GetAZs '']", `{"Fn::Select": [0, {"Fn::GetAZs": ""}]}`, "Fn::Select", ""},
		{"Split", "!Split [',', a]", `{"Fn::Split": [",", "a"]}`, "Fn::Split", ""},
		{"ImportValue", "!ImportValue Shared-Vpc", `{"Fn::ImportValue": "Shared-Vpc"}`, "Fn::ImportValue", "Shared-Vpc"},
		{"Base64", "!Base64 hello", `{"Fn::Base64": "hello"}`, "Fn::Base64", "hello"},
		{"Cidr", "!Cidr [10.0.0.0/16, 6, 5]", `{"Fn::Cidr": ["10.0.0.0/16", 6, 5]}`, "Fn::Cidr", ""},
		{"GetAZs", "!GetAZs ''", `{"Fn::GetAZs": ""}`, "Fn::GetAZs", "''"},
		{"Transform", "!Transform {Name: AWS::Include, Parameters: {Location: s3://b/k}}", `{"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "s3://b/k"}}}`, "Fn::Transform", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, form := range []struct {
				file, src string
				short     bool
			}{
				{"t.yaml", "Resources:\n  R:\n    Type: AWS::SNS::Topic\n    Properties:\n      P: " + c.yaml + "\n", true},
				{"t.json", `{"Resources": {"R": {"Type": "AWS::SNS::Topic", "Properties": {"P": ` + c.json + `}}}}`, false},
			} {
				tp := Parse(form.file, []byte(form.src))
				if len(tp.Problems) > 0 {
					t.Fatalf("%s: problems %v", form.file, tp.Problems)
				}
				n := tp.Resource("R").Property("P")
				if n.Kind != Intrinsic || n.Fn != c.fn || n.Short != form.short {
					t.Fatalf("%s: got kind %v fn %q short %v, want intrinsic %q", form.file, n.Kind, n.Fn, n.Short, c.fn)
				}
				want := c.yaml
				if !form.short {
					want = c.json
				}
				if got := text(tp, n.Span); got != want {
					t.Errorf("%s: span covers %q, want %q", form.file, got, want)
				}
				if c.arg != "" && form.short && text(tp, n.Arg.Span) != c.arg {
					t.Errorf("%s: argument span %q, want %q", form.file, text(tp, n.Arg.Span), c.arg)
				}
			}
		})
	}
}

func TestGetAttAndSub(t *testing.T) {
	src := "Resources:\n  R:\n    Type: AWS::SNS::Topic\n    Properties:\n" +
		"      A: !GetAtt Bucket.Arn\n" +
		"      B: !GetAtt [Db, Endpoint.Address]\n" +
		"      C: !Sub 'arn:${AWS::Partition}:s3:::${Bucket}/${!Literal}/${Db.Endpoint.Port}'\n" +
		"      D: !Sub ['${X}', {X: !Ref Y}]\n"
	tp := Parse("t.yaml", []byte(src))
	r := tp.Resource("R")
	res, attr, span, ok := GetAtt(r.Property("A"))
	if !ok || res != "Bucket" || attr != "Arn" || text(tp, span) != "Bucket" {
		t.Errorf("dotted GetAtt: %q %q %q %v", res, attr, text(tp, span), ok)
	}
	res, attr, span, ok = GetAtt(r.Property("B"))
	if !ok || res != "Db" || attr != "Endpoint.Address" || text(tp, span) != "Db" {
		t.Errorf("list GetAtt: %q %q %q %v", res, attr, text(tp, span), ok)
	}
	parts, _, ok := Sub(r.Property("C"))
	var got []string
	for _, p := range parts {
		if p.Var != "" {
			got = append(got, "var:"+p.Var+"@"+text(tp, p.Span))
		} else {
			got = append(got, "lit:"+p.Literal)
		}
	}
	want := "lit:arn:|var:AWS::Partition@AWS::Partition|lit::s3:::|var:Bucket@Bucket|lit:/${Literal}/|var:Db.Endpoint.Port@Db.Endpoint.Port"
	if !ok || strings.Join(got, "|") != want {
		t.Errorf("Sub parts:\n got %s\nwant %s", strings.Join(got, "|"), want)
	}
	// Local Sub variables are not references; Ref Y inside the map is.
	var targets []string
	for _, ref := range tp.Refs.From("Resources", "R") {
		targets = append(targets, ref.Kind.String()+":"+ref.Target+"@"+text(tp, ref.Span))
	}
	wantRefs := "GetAtt:Bucket@Bucket GetAtt:Db@Db Sub:AWS::Partition@AWS::Partition Sub:Bucket@Bucket Sub:Db@Db Ref:Y@Y"
	if strings.Join(targets, " ") != wantRefs {
		t.Errorf("refs:\n got %s\nwant %s", strings.Join(targets, " "), wantRefs)
	}
}

func TestReferenceIndex(t *testing.T) {
	src := `Parameters:
  Env: {Type: String}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  Both: !And [!Condition IsProd, {Condition: IsProd}]
Mappings:
  M: {K: {V: x}}
Resources:
  A:
    Type: AWS::SNS::Topic
    Condition: IsProd
  B:
    Type: AWS::SQS::Queue
    DependsOn: [A]
    Properties:
      X: !If [IsProd, !Ref A, !FindInMap [M, K, V]]
  C:
    Type: AWS::SQS::Queue
    DependsOn: B
Outputs:
  O:
    Condition: Both
    Value: !GetAtt B.Arn
`
	tp := Parse("t.yaml", []byte(src))
	count := func(ns Namespace, name string) int { return len(tp.Refs.To(ns, name)) }
	checks := []struct {
		ns   Namespace
		name string
		want int
	}{
		{NSEntity, "Env", 1}, {NSCondition, "IsProd", 4}, {NSCondition, "Both", 1},
		{NSMapping, "M", 1}, {NSEntity, "A", 2}, {NSEntity, "B", 2}, {NSEntity, "C", 0},
	}
	for _, c := range checks {
		if got := count(c.ns, c.name); got != c.want {
			t.Errorf("references to %s: %d, want %d", c.name, got, c.want)
		}
	}
	for _, r := range tp.Refs.All {
		if text(tp, r.Span) != r.Target {
			t.Errorf("%v reference span covers %q, want %q", r.Kind, text(tp, r.Span), r.Target)
		}
	}
}

func TestSpansWithMultibyteCRLFAndBOM(t *testing.T) {
	src := "\ufeffAWSTemplateFormatVersion: '2010-09-09'\r\nDescription: \"Zahlungsdienst – prod 😀\"\r\nResources:\r\n  Bücket:\r\n    Type: AWS::S3::Bucket\r\n    Properties:\r\n      BucketName: ünïcode # comment\r\n      Tags:\r\n        - Key: Environment\r\n          Value: production\r\n"
	tp := Parse("t.yaml", []byte(src))
	if len(tp.Problems) > 0 || !tp.IsCloudFormation {
		t.Fatalf("problems %v, cfn %v", tp.Problems, tp.IsCloudFormation)
	}
	r := tp.Resource("Bücket")
	if r == nil {
		t.Fatal("resource with a multibyte logical id not found")
	}
	if got := text(tp, r.Key.Span); got != "Bücket" {
		t.Errorf("key span %q", got)
	}
	name := r.Property("BucketName")
	if got := text(tp, name.Span); got != "ünïcode" {
		t.Errorf("value span %q", got)
	}
	pos := tp.Lines.Position(name.Start)
	if pos.Line != 7 || pos.Column != 19 {
		t.Errorf("position %+v, want line 7 column 19", pos)
	}
	desc := tp.Root.Get("Description")
	end := tp.Lines.Position(desc.End)
	// "Description: " is 13 columns; the quoted string is 26 UTF-16 units (the emoji counts 2).
	if end.Line != 2 || end.Column != 14+26 {
		t.Errorf("end of description %+v, want line 2 column %d", end, 14+26)
	}
	if tp.Lines.Offset(1, 36) != strings.Index(src, "😀") {
		t.Errorf("UTF-16 offset of the emoji is wrong")
	}
	if tp.Lines.Offset(1, 37) != strings.Index(src, "😀") {
		t.Errorf("an offset inside a surrogate pair must land before the character")
	}
	if p := tp.Lines.Position(3); p.Line != 1 || p.Column != 1 {
		t.Errorf("the byte-order mark is not a column: first key at %+v", p)
	}
	if tp.Lines.Offset(0, 0) != 3 {
		t.Errorf("column 0 of line 0 is after the byte-order mark, got offset %d", tp.Lines.Offset(0, 0))
	}
	tag := r.PropertyPath("Tags").Items[0].Get("Value")
	if text(tp, tag.Span) != "production" {
		t.Errorf("tag value span %q", text(tp, tag.Span))
	}
}

func TestScalarStyles(t *testing.T) {
	src := "Resources:\n  R:\n    Type: AWS::Lambda::Function\n    Properties:\n" +
		"      A: \"double \\\"quoted\\\"\"\n" +
		"      B: 'single ''quoted'''\n" +
		"      C: |\n        line one\n        line two\n\n" +
		"      D: >-\n        folded\n        text\n" +
		"      E: plain text that\n        continues here\n" +
		"      F:\n" +
		"      G: ~\n" +
		"      H: 010\n"
	tp := Parse("t.yaml", []byte(src))
	r := tp.Resource("R")
	want := map[string]string{
		"A": `"double \"quoted\""`,
		"B": `'single ''quoted'''`,
		"C": "|\n        line one\n        line two",
		"D": ">-\n        folded\n        text",
		"E": "plain text that\n        continues here",
		"F": "",
		"G": "~",
		"H": "010",
	}
	for k, w := range want {
		if got := text(tp, r.Property(k).Span); got != w {
			t.Errorf("%s: span %q, want %q", k, got, w)
		}
	}
	if r.Property("A").Value != `double "quoted"` || r.Property("B").Value != "single 'quoted'" {
		t.Errorf("decoded values: %q %q", r.Property("A").Value, r.Property("B").Value)
	}
	if r.Property("F").Kind != Null || r.Property("G").Kind != Null {
		t.Errorf("empty and ~ values are null")
	}
	if r.Property("H").Value != "010" {
		t.Errorf("scalars keep their raw text, got %q", r.Property("H").Value)
	}
}

func TestJSONEscapesAndErrors(t *testing.T) {
	src := `{"Resources": {"R": {"Type": "AWS::SNS::Topic", "Properties": {"A": "a\/b \u00e9 \ud83d\ude00 \n"}}}}`
	tp := Parse("t.json", []byte(src))
	if len(tp.Problems) > 0 {
		t.Fatal(tp.Problems)
	}
	if got := tp.Resource("R").Property("A").Value; got != "a/b é 😀 \n" {
		t.Errorf("decoded %q", got)
	}
	for _, c := range []struct{ src, msg string }{
		{`{"a": [1, 2,}`, "line 1, column 13: unexpected '}'"},
		{"{\n  \"a\": tru\n}", "line 2, column 8: unexpected 't'"},
		{`{"a": "x`, "unterminated string"},
		{`{"a" 1}`, "':' was expected"},
		{`{"a": 1} x`, "after the end of the document"},
		{`{"a": "\q"}`, `invalid escape \q`},
		{strings.Repeat("[", 20000), "nesting deeper"},
	} {
		tp := Parse("t.json", []byte(c.src))
		if len(tp.Problems) != 1 || !strings.Contains(tp.Problems[0].Message, c.msg) || tp.Root != nil {
			t.Errorf("%q: problems %v, want one containing %q", c.src, tp.Problems, c.msg)
		}
	}
}

func TestProblems(t *testing.T) {
	cases := []struct {
		src  string
		code ProblemCode
		msg  string
		line int
	}{
		{"Resources:\n  A: {Type: AWS::SNS::Topic}\n  A: {Type: AWS::SQS::Queue}\n", ProblemDuplicateKey, `duplicate key "A" (first defined on line 2)`, 3},
		{"Resources:\n  A: &t {Type: AWS::SNS::Topic}\n  B: *t\n", ProblemAlias, "anchor &t", 2},
		{"Resources:\n  A:\n\tType: AWS::SNS::Topic\n", ProblemSyntax, "YAML syntax error near line 3", 3},
		{"Resources:\n  A: {Type: AWS::SNS::Topic\n", ProblemSyntax, "YAML syntax error", 0},
		{"Resources:\n  A:\n    Type: !Bogus AWS::SNS::Topic\n", ProblemUnknownTag, "unknown tag !Bogus", 3},
	}
	for _, c := range cases {
		tp := Parse("t.yaml", []byte(c.src))
		found := false
		for _, p := range tp.Problems {
			if p.Code == c.code && strings.Contains(p.Message, c.msg) {
				found = true
				if c.line > 0 && tp.Lines.Position(p.Span.Start).Line != c.line {
					t.Errorf("%q: problem on line %d, want %d", c.src, tp.Lines.Position(p.Span.Start).Line, c.line)
				}
			}
		}
		if !found {
			t.Errorf("%q: problems %v, want %q", c.src, tp.Problems, c.msg)
		}
	}
}

func TestCloudFormationDetection(t *testing.T) {
	cases := map[string]bool{
		"AWSTemplateFormatVersion: '2010-09-09'\n":               true,
		"Resources:\n  F: {Type: 'AWS::Serverless::Function'}\n": true,
		"Resources:\n  C: {Type: Custom::Thing}\n":               true,
		"apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n":       false,
		"on: push\njobs:\n  build: {runs-on: ubuntu-latest}\n":   false,
		"Resources:\n  X: {Type: Other::Thing}\n":                false,
		"":                   false,
		"# only a comment\n": false,
		`{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {}}`: true,
		`{"compilerOptions": {"strict": true}}`:                       false,
	}
	for src, want := range cases {
		name := "t.yaml"
		if strings.HasPrefix(src, "{") {
			name = "t.json"
		}
		tp := Parse(name, []byte(src))
		if tp.IsCloudFormation != want {
			t.Errorf("%q: IsCloudFormation = %v, want %v", src, tp.IsCloudFormation, want)
		}
		if len(tp.Problems) > 0 {
			t.Errorf("%q: problems %v", src, tp.Problems)
		}
	}
}

func TestEvalParametersAndConditions(t *testing.T) {
	src := `Parameters:
  Allowed: {Type: String, AllowedValues: ['true', 'false']}
  Defaulted: {Type: String, Default: 'false'}
  Free: {Type: String}
Mappings:
  Env: {prod: {Retention: 365}}
Resources:
  R:
    Type: AWS::SNS::Topic
    Properties:
      Literal: false
      Absent: !Ref AWS::NoValue
      FromAllowed: !Ref Allowed
      FromDefault: !Ref Defaulted
      FromFree: !Ref Free
      Branches: !If [C, true, !If [D, false, !Ref AWS::NoValue]]
      Mapped: !FindInMap [Env, prod, Retention]
      Attr: !GetAtt X.Y
`
	tp := Parse("t.yaml", []byte(src))
	r := tp.Resource("R")
	isFalse := func(a Alt) bool {
		if a.Kind == Absent {
			return true
		}
		b, ok := a.Bool()
		return ok && !b
	}
	cases := map[string]Verdict{
		"Literal": Definite, "Absent": Definite, "Missing": Definite, "FromAllowed": Possible,
		"FromDefault": Possible, "FromFree": Pass, "Branches": Possible, "Attr": Pass,
	}
	for prop, want := range cases {
		v, witness := tp.Eval(r.Property(prop)).Judge(isFalse)
		if v != want {
			t.Errorf("%s: verdict %v, want %v", prop, v, want)
		}
		if prop == "Branches" && witness.Describe() != "when C is false and when D is true" {
			t.Errorf("Branches witness: %q", witness.Describe())
		}
		if prop == "FromAllowed" && witness.Describe() != "with parameter Allowed = false" {
			t.Errorf("FromAllowed witness: %q", witness.Describe())
		}
	}
	if m := tp.Eval(r.Property("Mapped")); len(m) != 1 || m[0].Text() != "365" {
		t.Errorf("FindInMap: %+v", m)
	}
}

func TestNodeAt(t *testing.T) {
	src := "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n    Properties:\n      Name: !Ref Param\n"
	tp := Parse("t.yaml", []byte(src))
	off := strings.Index(src, "Param")
	n, path := tp.NodeAt(off + 2)
	if n == nil || n.Value != "Param" || len(path) < 4 {
		t.Fatalf("NodeAt: %+v (path %d)", n, len(path))
	}
	if r := tp.ResourceAt(off); r == nil || r.Name != "Bucket" {
		t.Errorf("ResourceAt: %v", r)
	}
	ref, ok := tp.Refs.At(off + 1)
	if !ok || ref.Target != "Param" {
		t.Errorf("Refs.At: %+v %v", ref, ok)
	}
}
