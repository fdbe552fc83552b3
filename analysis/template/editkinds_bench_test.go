package template_test

import (
	"bytes"
	"fmt"
	"runtime"
	"slices"
	"testing"

	"github.com/soc2ls/soc2ls/analysis/synth"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// editKind is an edit a user makes, found in a synthetic template: the
// bytes [start, end) replaced by text.
type editKind struct {
	name string
	at   func(t *template.Template) (start, end int, text string)
}

// lineStart returns the start of the line holding off.
func lineStart(src []byte, off int) int {
	return bytes.LastIndexByte(src[:off], '\n') + 1
}

// editKinds are the edits BenchmarkReparseEditKinds measures, around the
// resource in the middle of the template and the one after it.
var editKinds = []editKind{
	{"value", func(t *template.Template) (int, int, string) {
		at := t.Resources[len(t.Resources)/2].TypeNode.End
		return at, at, "x"
	}},
	{"rename", func(t *template.Template) (int, int, string) {
		at := t.Resources[len(t.Resources)/2].Key.End
		return at, at, "x"
	}},
	{"add-entry", func(t *template.Template) (int, int, string) {
		at := lineStart(t.Source, t.Resources[len(t.Resources)/2+1].Key.Start)
		return at, at, "  NewQueue:\n    Type: AWS::SQS::Queue\n"
	}},
	{"delete-entry", func(t *template.Template) (int, int, string) {
		i := len(t.Resources) / 2
		return lineStart(t.Source, t.Resources[i].Key.Start), lineStart(t.Source, t.Resources[i+1].Key.Start), ""
	}},
	{"join", func(t *template.Template) (int, int, string) {
		i := len(t.Resources) / 2
		return t.Resources[i].TypeNode.Start + 5, t.Resources[i+1].TypeNode.Start + 5, ""
	}},
	{"comment-above-entry", func(t *template.Template) (int, int, string) {
		at := lineStart(t.Source, t.Resources[len(t.Resources)/2+1].Key.Start)
		return at, at, "  # note\n"
	}},
	{"comment-above-section", func(t *template.Template) (int, int, string) {
		at := t.Sections["Resources"].Key.Start
		return at, at, "# note\n"
	}},
	{"section-gap", func(t *template.Template) (int, int, string) {
		at := bytes.Index(t.Source, []byte("# Group 0\n")) + len("# Group 0")
		return at, at, "x"
	}},
	{"top-comment", func(t *template.Template) (int, int, string) { return 0, 0, "# top\n" }},
	{"description", func(t *template.Template) (int, int, string) {
		at := t.Sections["Description"].Value.End
		return at, at, "x"
	}},
}

// brokenEditKinds are edits that break the template's syntax: the
// benchmark re-parses the broken text relative to the good template in
// each iteration, as the language server does while the text does not
// parse.
var brokenEditKinds = []editKind{
	{"syntax-error", func(t *template.Template) (int, int, string) {
		at := t.Resources[len(t.Resources)/2].TypeNode.Start
		return at, at, "["
	}},
}

// BenchmarkReparseEditKinds measures the re-parse of each kind of edit,
// applied and undone in turn, each iteration editing the previous one's
// result: with ReparseDelta (copy), ReparseInPlace (inplace) and
// ReparseInPlaceUnsettled (unsettled, settled outside the timer, as the
// language server settles after publishing). The edits that are not
// incremental cost a Parse (BenchmarkParseYAML1MB), but for those that
// break the syntax (syntax-error: each iteration re-parses the broken text
// relative to the good template), which the syntax error's place decides.
func BenchmarkReparseEditKinds(b *testing.B) {
	for ki, k := range append(slices.Clone(editKinds), brokenEditKinds...) {
		broken := ki >= len(editKinds)
		for _, mode := range []string{"copy", "inplace", "unsettled"} {
			for _, size := range []int{30 << 10, 1 << 20} {
				b.Run(fmt.Sprintf("%s/%s/%dKB", k.name, mode, size>>10), func(b *testing.B) {
					cur := template.Parse("t.yaml", synth.YAML(size))
					start, end, text := k.at(cur)
					without := cur.Source
					with := append(append(append(make([]byte, 0, len(without)+len(text)), without[:start]...), text...), without[end:]...)
					removed := len(without[start:end])
					re := template.ReparseDelta
					switch mode {
					case "inplace":
						re = template.ReparseInPlace
					case "unsettled":
						re = template.ReparseInPlaceUnsettled
					}
					b.ReportAllocs()
					runtime.GC()
					if broken {
						good := cur
						for b.Loop() {
							// A parse from scratch leaves good as it was.
							if t, d := re(good, with, start, end, len(text)); d != nil || !t.HasSyntaxError() {
								b.Fatal("the edit did not break the template")
							}
						}
						return
					}
					incremental, i := 0, 0
					for b.Loop() {
						var d *template.Delta
						if i%2 == 0 {
							cur, d = re(cur, with, start, end, len(text))
						} else {
							cur, d = re(cur, without, start, start+len(text), removed)
						}
						if d != nil {
							incremental++
						}
						if mode == "unsettled" {
							b.StopTimer()
							cur.Settle()
							b.StartTimer()
						}
						i++
					}
					// The share of the edits re-parsed incrementally.
					b.ReportMetric(float64(incremental)/float64(i), "incr")
					if len(cur.Problems) > 0 {
						b.Fatal("the edits broke the template:", cur.Problems[0].Message)
					}
				})
			}
		}
	}
}

// jsonEditKinds are the edits BenchmarkReparseJSON measures in a synthetic
// JSON template, around the resource in the middle: a character typed in a
// value (before the closing quote of its Type), in its logical id, and in
// the template's one parameter's default (a section before Resources), and
// a resource pasted before it (a run of entries).
var jsonEditKinds = []editKind{
	{"value", func(t *template.Template) (int, int, string) {
		at := t.Resources[len(t.Resources)/2].TypeNode.End - 1
		return at, at, "x"
	}},
	{"rename", func(t *template.Template) (int, int, string) {
		at := t.Resources[len(t.Resources)/2].Key.End - 1
		return at, at, "x"
	}},
	{"param", func(t *template.Template) (int, int, string) {
		at := t.Parameter("Environment").Default.End - 1
		return at, at, "x"
	}},
	{"paste-entry", func(t *template.Template) (int, int, string) {
		at := t.Resources[len(t.Resources)/2].Key.Start
		return at, at, `"Pasted": {"Type": "AWS::SQS::Queue"}, `
	}},
}

// BenchmarkReparseJSON is BenchmarkReparseEditKinds for a JSON template
// (synth.JSON): each edit typed and deleted in turn, each iteration editing
// the previous one's result. incr is the share of the edits re-parsed
// incrementally; the others cost a Parse (BenchmarkParseJSON1MB).
func BenchmarkReparseJSON(b *testing.B) {
	for _, k := range jsonEditKinds {
		for _, mode := range []string{"copy", "inplace", "unsettled"} {
			for _, size := range []int{30 << 10, 1 << 20} {
				b.Run(fmt.Sprintf("%s/%s/%dKB", k.name, mode, size>>10), func(b *testing.B) {
					cur := template.Parse("t.json", synth.JSON(size))
					start, end, text := k.at(cur)
					without := cur.Source
					with := append(append(append(make([]byte, 0, len(without)+len(text)), without[:start]...), text...), without[end:]...)
					removed := len(without[start:end])
					re := template.ReparseDelta
					switch mode {
					case "inplace":
						re = template.ReparseInPlace
					case "unsettled":
						re = template.ReparseInPlaceUnsettled
					}
					b.ReportAllocs()
					runtime.GC()
					incremental, i := 0, 0
					for b.Loop() {
						var d *template.Delta
						if i%2 == 0 {
							cur, d = re(cur, with, start, end, len(text))
						} else {
							cur, d = re(cur, without, start, start+len(text), removed)
						}
						if d != nil {
							incremental++
						}
						if mode == "unsettled" {
							b.StopTimer()
							cur.Settle()
							b.StartTimer()
						}
						i++
					}
					b.ReportMetric(float64(incremental)/float64(i), "incr")
					if len(cur.Problems) > 0 || cur.Format != template.JSON {
						b.Fatal("the edits broke the template")
					}
				})
			}
		}
	}
}
