package template

import (
	"os"
	"path/filepath"
	"testing"
)

// checkInvariants verifies what every consumer of the model relies on:
// spans inside the document and ordered, children inside parents, problems
// positioned inside the document, and position conversion round-tripping.
func checkInvariants(t *testing.T, tp *Template) {
	n := len(tp.Source)
	inDoc := func(what string, s Span) {
		if s.Start < 0 || s.End > n || s.Start > s.End {
			t.Fatalf("%s span %v outside a %d-byte document", what, s, n)
		}
	}
	for _, p := range tp.Problems {
		inDoc("problem", p.Span)
	}
	var walk func(parent Span, nd *Node, depth int)
	walk = func(parent Span, nd *Node, depth int) {
		if nd == nil || depth > 20000 {
			return
		}
		inDoc("node", nd.Span)
		if nd.Kind == Scalar {
			inDoc("scalar value", nd.ValueSpan)
		}
		switch nd.Kind {
		case Mapping:
			for _, p := range nd.Pairs {
				inDoc("key", p.Key.Span)
				walk(nd.Span, p.Value, depth+1)
			}
		case Sequence:
			for _, it := range nd.Items {
				walk(nd.Span, it, depth+1)
			}
		case Intrinsic:
			walk(nd.Span, nd.Arg, depth+1)
		}
	}
	walk(Span{0, n}, tp.Root, 0)
	for _, r := range tp.Refs.All {
		inDoc("reference", r.Span)
	}
	for off := 0; off <= n; off += 1 + n/64 {
		p := tp.Lines.Position(off)
		back := tp.Lines.Offset(p.Line-1, p.Column-1)
		if back != p.Offset || (p.Offset > off && p.Offset > 3) {
			t.Fatalf("offset %d -> %+v -> %d", off, p, back)
		}
	}
}

func seedFromTestdata(f *testing.F, exts ...string) {
	matches, _ := filepath.Glob("../../testdata/rules/*/*")
	for _, m := range matches {
		for _, e := range exts {
			if filepath.Ext(m) == e {
				if b, err := os.ReadFile(m); err == nil {
					f.Add(b)
				}
			}
		}
	}
}

func FuzzParseYAML(f *testing.F) {
	seedFromTestdata(f, ".yaml")
	for _, s := range []string{
		"a: !Ref b\n", "- [\n", "a: |\n  x\n b", "\ufeff\r\na: 'x''y'\r\n", "a: &x [*x]\n", "? [a]\n: b\n",
		"a: !GetAtt [\n", "Resources:\n  A:\n    Type: AWS::S3::Bucket\n    Properties: {x: !If [a, b]}\n",
		"a: \"\\u00e9\\\n b\"\n", "a:\tb\n", "\x00\xff\xfe", "a: >\n\n  x\n\n", "{a: 1, b: [2, {c: d}]}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		checkInvariants(t, Parse("f.yaml", src))
	})
}

func FuzzParseJSON(f *testing.F) {
	seedFromTestdata(f, ".json")
	for _, s := range []string{
		`{}`, `{"a": [1, -2.5e3, true, null, "\ud83d\ude00"]}`, `{"a": "\ud83d"}`, `{"a": {"Ref": "b"}}`,
		`[`, `{"a"`, `{"a": 01}`, "\ufeff{}", `{"a": "\u12"}`, `{"Fn::If": ["c", 1, 2]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		checkInvariants(t, Parse("f.json", src))
	})
}
