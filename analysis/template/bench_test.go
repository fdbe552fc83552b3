package template_test

import (
	"testing"

	"github.com/soc2ls/soc2ls/analysis/synth"
	"github.com/soc2ls/soc2ls/analysis/template"
	"gopkg.in/yaml.v3"
)

// The parse benchmarks compare template.Parse with yaml.v3's own parse into
// yaml.Node, which is the floor for YAML: the target is that our
// model costs no more than that.

func benchParse(b *testing.B, name string, src []byte) {
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		tp := template.Parse(name, src)
		if len(tp.Problems) > 0 {
			b.Fatal(tp.Problems)
		}
	}
}

func BenchmarkParseYAML1MB(b *testing.B)  { benchParse(b, "t.yaml", synth.YAML(1<<20)) }
func BenchmarkParseYAML30KB(b *testing.B) { benchParse(b, "t.yaml", synth.YAML(30<<10)) }
func BenchmarkParseJSON1MB(b *testing.B)  { benchParse(b, "t.json", synth.JSON(1<<20)) }

func BenchmarkYAMLv3Node1MB(b *testing.B) {
	src := synth.YAML(1 << 20)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		var n yaml.Node
		if err := yaml.Unmarshal(src, &n); err != nil {
			b.Fatal(err)
		}
	}
}
