package rules

import (
	"testing"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/synth"
)

// The analysis benchmarks measure a whole check of one document (parse,
// index, every rule), which is what the CLI does per file and the language
// server per version.

func benchAnalyze(b *testing.B, name string, src []byte) {
	e := analysis.NewEngine(All(), nil)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		e.Analyze(name, src)
	}
}

func BenchmarkAnalyzeYAML1MB(b *testing.B)  { benchAnalyze(b, "t.yaml", synth.YAML(1<<20)) }
func BenchmarkAnalyzeYAML30KB(b *testing.B) { benchAnalyze(b, "t.yaml", synth.YAML(30<<10)) }
func BenchmarkAnalyzeJSON1MB(b *testing.B)  { benchAnalyze(b, "t.json", synth.JSON(1<<20)) }
