package rules

import (
	"context"
	"fmt"
	"testing"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/synth"
	"github.com/soc2ls/soc2ls/analysis/template"
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

// BenchmarkReanalyze measures what the language server does per keystroke
// inside a resource: one character typed, or deleted again, in a value of
// the resource in the middle of the template, re-analysed from the previous
// result without fixes, with the copying re-parse (copy) and with the one
// that consumes the previous template (inplace), which the server uses
// when no request reads it, in YAML and JSON templates.
func BenchmarkReanalyze(b *testing.B) {
	type variant struct {
		mode, format string
		size         int
	}
	var variants []variant
	for _, format := range []string{"yaml", "json"} {
		for _, mode := range []string{"copy", "inplace", "unsettled"} {
			variants = append(variants, variant{mode, format, 30 << 10}, variant{mode, format, 1 << 20})
		}
	}
	for _, c := range variants {
		size := c.size
		b.Run(fmt.Sprintf("%s-%s-%dKB", c.mode, c.format, size>>10), func(b *testing.B) {
			eng := analysis.NewEngine(All(), nil).WithoutFixes()
			src := synth.YAML(size)
			if c.format == "json" {
				src = synth.JSON(size)
			}
			prev := eng.Analyze("t."+c.format, src)
			at := typingSpot(prev.Template)
			b.ReportAllocs()
			reused := 0
			for i := 0; b.Loop(); i++ {
				e := anEdit{at, at, "x"}
				if i%2 == 1 {
					e = anEdit{at, at + 1, ""}
				}
				src := splice(prev.Template.Source, e)
				switch c.mode {
				case "inplace":
					prev, _ = eng.ReanalyzeInPlace(context.Background(), prev, src, e.start, e.end, len(e.text))
				case "unsettled":
					// What the language server waits for before publishing:
					// the settling comes after.
					prev, _ = eng.ReanalyzeInPlaceUnsettled(context.Background(), prev, src, e.start, e.end, len(e.text))
					b.StopTimer()
					prev.Template.Settle()
					b.StartTimer()
				default:
					prev = eng.Reanalyze(prev, src, e.start, e.end, len(e.text))
				}
				reused += prev.Reused
			}
			b.ReportMetric(float64(reused)/float64(b.N), "reused/op")
		})
	}
}

// BenchmarkReanalyzeEditKinds is BenchmarkReanalyze's unsettled mode for
// the edits that are not inside one resource's value, each made and undone
// in turn: a digit typed in a parameter's default ("param"), a character
// typed at the end of the logical id of the resource in the middle
// ("rename-resource"), a new entry's key line typed above it
// ("new-entry"), the resource deleted and typed back at once ("delete-entry"),
// a comment line inserted above the Resources key ("above-section"), and a
// character typed at the end of the template's Description ("description").
func BenchmarkReanalyzeEditKinds(b *testing.B) {
	for _, size := range []int{30 << 10, 1 << 20} {
		src := synth.YAML(size)
		tp := template.Parse("t.yaml", src)
		mid := len(tp.Resources) / 2
		key := tp.Resources[mid].Key
		line := tp.Lines.LineStart(tp.Lines.LineOf(key.Start))
		next := tp.Lines.LineStart(tp.Lines.LineOf(tp.Resources[mid+1].Key.Start))
		entry := string(src[line:next])
		def := tp.Parameter("RetentionDays").Default.End
		section := tp.Sections["Resources"].Key.Start
		desc := tp.Sections["Description"].Value.End
		for _, k := range []struct {
			name       string
			edit, undo anEdit
		}{
			{"param", anEdit{def, def, "7"}, anEdit{def, def + 1, ""}},
			{"rename-resource", anEdit{key.End, key.End, "x"}, anEdit{key.End, key.End + 1, ""}},
			{"new-entry", anEdit{line, line, "  X:\n"}, anEdit{line, line + 5, ""}},
			{"delete-entry", anEdit{line, next, ""}, anEdit{line, line, entry}},
			{"above-section", anEdit{section, section, "# x\n"}, anEdit{section, section + 4, ""}},
			{"description", anEdit{desc, desc, "s"}, anEdit{desc, desc + 1, ""}},
		} {
			b.Run(fmt.Sprintf("%s-yaml-%dKB", k.name, size>>10), func(b *testing.B) {
				eng := analysis.NewEngine(All(), nil).WithoutFixes()
				prev := eng.Analyze("t.yaml", src)
				b.ReportAllocs()
				reused := 0
				for i := 0; b.Loop(); i++ {
					e := k.edit
					if i%2 == 1 {
						e = k.undo
					}
					prev, _ = eng.ReanalyzeInPlaceUnsettled(context.Background(), prev, splice(prev.Template.Source, e), e.start, e.end, len(e.text))
					b.StopTimer()
					prev.Template.Settle()
					b.StartTimer()
					reused += prev.Reused
				}
				b.ReportMetric(float64(reused)/float64(b.N), "reused/op")
			})
		}
	}
}

// typingSpot returns an offset inside the last scalar value of the
// properties of the resource in the middle of t, where a user would type.
func typingSpot(t *template.Template) int { return typingSpotIn(t, "") }

// typingSpotIn is typingSpot for the first resource of type typ (any type
// for "") from the middle of t on.
func typingSpotIn(t *template.Template, typ string) int {
	res := t.Resources[len(t.Resources)/2]
	for _, r := range t.Resources[len(t.Resources)/2:] {
		if typ == "" || r.Type == typ {
			res = r
			break
		}
	}
	at := -1
	res.Properties.Walk(func(n *template.Node) bool {
		if n.IsScalar() && n.ValueSpan.End > n.ValueSpan.Start {
			at = n.ValueSpan.End - 1
		}
		return true
	})
	return at
}
