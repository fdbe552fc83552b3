package template

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soc2ls/soc2ls/analysis/synth"
)

// diffNodes returns the first difference between two models, with its path,
// or "".
func diffNodes(path string, a, b *Node) string {
	if a == nil || b == nil {
		if a != b {
			return fmt.Sprintf("%s: one side is nil (%v vs %v)", path, a, b)
		}
		return ""
	}
	type flat struct {
		Kind            Kind
		Span, ValueSpan Span
		Value           string
		ScalarType      ScalarType
		Quoted          bool
		Fn              string
		Short           bool
		FnSpan          Span
		Flow, InFlow    bool
		NPairs, NItems  int
		HasArg          bool
	}
	f := func(n *Node) flat {
		return flat{n.Kind, n.Span, n.ValueSpan, n.Value, n.ScalarType, n.Quoted, n.Fn, n.Short, n.FnSpan, n.Flow, n.InFlow, len(n.Pairs), len(n.Items), n.Arg != nil}
	}
	if fa, fb := f(a), f(b); fa != fb {
		return fmt.Sprintf("%s:\n fast %+v\n yaml %+v", path, fa, fb)
	}
	for i := range a.Pairs {
		if d := diffNodes(path+".key["+a.Pairs[i].Key.Value+"]", a.Pairs[i].Key, b.Pairs[i].Key); d != "" {
			return d
		}
		if d := diffNodes(path+"."+a.Pairs[i].Key.Value, a.Pairs[i].Value, b.Pairs[i].Value); d != "" {
			return d
		}
	}
	for i := range a.Items {
		if d := diffNodes(fmt.Sprintf("%s[%d]", path, i), a.Items[i], b.Items[i]); d != "" {
			return d
		}
	}
	if a.Arg != nil {
		return diffNodes(path+"("+a.Fn+")", a.Arg, b.Arg)
	}
	return ""
}

// compareFast parses src both ways and returns whether the fast path took
// it, and the first difference (or "").
func compareFast(src []byte) (bool, string) {
	lines := NewLines(src)
	fast, fp, ok := parseYAMLFast(src, lines, &allocator{})
	if !ok {
		return false, ""
	}
	ref, rp := parseYAMLv3(src, lines)
	if ref == nil && len(rp) > 0 {
		return true, fmt.Sprintf("the fast path accepted a document yaml.v3 rejects: %s", rp[0].Message)
	}
	if d := diffNodes("$", fast, ref); d != "" {
		return true, d
	}
	if len(fp) != len(rp) {
		return true, fmt.Sprintf("problems differ:\n fast %v\n yaml %v", fp, rp)
	}
	for i := range fp {
		if fp[i] != rp[i] {
			return true, fmt.Sprintf("problem %d differs:\n fast %v\n yaml %v", i, fp[i], rp[i])
		}
	}
	return true, ""
}

// yamlCorpus lists the project's YAML files (testdata, goldens, examples)
// and, when SOC2LS_YAML_CORPUS names a directory, every YAML file below it
// (a checkout of public templates, for a local run).
func yamlCorpus(t testing.TB) []string {
	var files []string
	roots := []string{"../../testdata"}
	if d := os.Getenv("SOC2LS_YAML_CORPUS"); d != "" {
		roots = append(roots, d)
	}
	for _, root := range roots {
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				if d != nil && d.Name() == "node_modules" {
					return filepath.SkipDir
				}
				return nil
			}
			name := strings.TrimSuffix(p, ".golden")
			switch filepath.Ext(name) {
			case ".yaml", ".yml", ".template":
				files = append(files, p)
			}
			return nil
		})
	}
	return files
}

// TestYAMLFastPathMatchesYAMLv3 holds the fast path to the model yaml.v3
// and the converter build, on every YAML file of the project and on
// generated templates, and checks that it takes the common cases.
func TestYAMLFastPathMatchesYAMLv3(t *testing.T) {
	taken := 0
	files := yamlCorpus(t)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ok, d := compareFast(src)
		if d != "" {
			t.Errorf("%s: %s", f, d)
		}
		if ok {
			taken++
		}
	}
	t.Logf("fast path took %d of %d files", taken, len(files))
	for _, size := range []int{1 << 10, 64 << 10} {
		ok, d := compareFast(synth.YAML(size))
		if !ok || d != "" {
			t.Errorf("synthetic %d-byte template: fast path taken %v, difference %q", size, ok, d)
		}
	}
	src, err := os.ReadFile("../../testdata/examples/fintech-baseline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := compareFast(src); !ok {
		t.Error("the fast path gave up on the baseline template: it should take ordinary templates")
	}
}

// TestYAMLFastPathCases pins the fast path's behaviour on the constructs it
// handles and the ones it leaves to yaml.v3.
func TestYAMLFastPathCases(t *testing.T) {
	for _, tc := range []struct {
		src  string
		fast bool
	}{
		{"a: 1\n", true},
		{"a: 1", true},
		{"a:\n  b: c\n  d: [x, 'y', \"z\"]\n", true},
		{"a:\n- x\n- y\nb: 2\n", true},
		{"a:\n  - x: 1\n    y: 2\n  - - z\n", true},
		{"a: !Ref B\nc: !GetAtt D.Arn\ne: !Sub '${A}'\n", true},
		{"a: !If\n  - C\n  - x\n  - !Ref AWS::NoValue\n", true},
		{"a: |\n  line 1\n\n  line 3\nb: x\n", true},
		{"a: >-\n  folded\n  text\n\n  para\nb: x\n", true},
		{"a: |+\n  keep\n\n\nb: x\n", true},
		{"a: {Ref: B}\nc:\n  Fn::GetAtt: [D, Arn]\n", true},
		{"a: {\"k\":\"v\", \"n\":1}\n", true},
		{"a: [1, 0x1F, 1.5, 2010-09-09, true, ~, null, .inf]\n", true},
		{"a: x # comment\n# c\nb: 'it''s'\n", true},
		{"a: \"tab\\tand\\u00e9\"\n", true},
		{"a: 1\na: 2\n", true},
		{"a: !Rain::Embed x\n", true},
		{"a: [x,\n  y]\n", true},
		{"\ufeffa: 1\r\nb: 2\r\n", true},
		{"---\na: 1\n", true},
		{"a:\n", true},
		{"a: &x 1\nb: *x\n", false},
		{"? a\n: b\n", false},
		{"a: b\n  c\n", false},
		{"a: 'multi\n  line'\n", false},
		{"%YAML 1.2\n---\na: 1\n", false},
		{"a: 1\n---\nb: 2\n", false},
		{"a: |2\n   x\n", false},
		{"a: [x, y,]\n", false},
		{"a: b: c\n", false},
		{"a: - b\n", false},
		{"\ta: 1\n", false},
		{"a: [\nb]\n", false},
		{"<<: {a: 1}\n", false},
		{"a: !!str 1\n", false},
		{"a: " + strings.Repeat("[", 600) + strings.Repeat("]", 600) + "\n", false},
	} {
		ok, d := compareFast([]byte(tc.src))
		if d != "" {
			t.Errorf("%q: %s", tc.src, d)
		}
		if ok != tc.fast {
			t.Errorf("%q: fast path taken = %v, want %v", tc.src, ok, tc.fast)
		}
	}
}

// FuzzYAMLFastPath is the licence of the fast path: whatever it accepts,
// yaml.v3 accepts too, with the same model and problems.
func FuzzYAMLFastPath(f *testing.F) {
	seedFromTestdata(f, ".yaml", ".yml")
	f.Add([]byte("a: !If [C, {Ref: X}, [1, 'b']]\nb: |\n  t\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > 1<<16 {
			return
		}
		if _, d := compareFast(src); d != "" {
			t.Fatalf("%q: %s", src, d)
		}
	})
}
