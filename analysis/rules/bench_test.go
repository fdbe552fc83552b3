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
	benchEngine(b, analysis.NewEngine(All(), nil), name, src)
}

// benchEngine measures e's analysis of src.
func benchEngine(b *testing.B, e *analysis.Engine, name string, src []byte) {
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		e.Analyze(name, src)
	}
}

func BenchmarkAnalyzeYAML1MB(b *testing.B)  { benchAnalyze(b, "t.yaml", synth.YAML(1<<20)) }
func BenchmarkAnalyzeYAML30KB(b *testing.B) { benchAnalyze(b, "t.yaml", synth.YAML(30<<10)) }
func BenchmarkAnalyzeJSON1MB(b *testing.B)  { benchAnalyze(b, "t.json", synth.JSON(1<<20)) }

// The same without building fixes (Engine.WithoutFixes), as the language
// server computes diagnostics and the CLI's text formats report.
func BenchmarkAnalyzeNoFixesYAML1MB(b *testing.B) {
	benchEngine(b, analysis.NewEngine(All(), nil).WithoutFixes(), "t.yaml", synth.YAML(1<<20))
}
func BenchmarkAnalyzeNoFixesYAML30KB(b *testing.B) {
	benchEngine(b, analysis.NewEngine(All(), nil).WithoutFixes(), "t.yaml", synth.YAML(30<<10))
}
