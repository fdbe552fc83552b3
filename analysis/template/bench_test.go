package template_test

import (
	"fmt"
	"runtime"
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

// BenchmarkReparse measures template.Reparse for one character typed (and
// deleted again) inside a resource in the middle of the document, against
// BenchmarkParseYAML*'s whole parse. Each iteration edits the previous
// one's result. The two texts are made once: the server's copy of the text
// is not the parser's cost.
func BenchmarkReparse(b *testing.B) {
	benchReparse(b, func(old *template.Template, src []byte, start, end, n int) *template.Template {
		return template.Reparse(old, src, start, end, n)
	})
}

// BenchmarkReparseInPlace is BenchmarkReparse with template.ReparseInPlace,
// each iteration consuming the previous one's result, as the language
// server does.
func BenchmarkReparseInPlace(b *testing.B) {
	benchReparse(b, func(old *template.Template, src []byte, start, end, n int) *template.Template {
		t, _ := template.ReparseInPlace(old, src, start, end, n)
		return t
	})
}

// BenchmarkReparseInPlaceCold is BenchmarkReparseInPlace on the 1 MB
// template with the CPU caches evicted before each edit (outside the
// timer), as in the language server, where the client's JSON decoding on
// the other core and the analysis between keystrokes leave little of the
// template in cache.
func BenchmarkReparseInPlaceCold(b *testing.B) {
	benchReparseSizes(b, []int{1 << 20}, true, func(old *template.Template, src []byte, start, end, n int) *template.Template {
		t, _ := template.ReparseInPlace(old, src, start, end, n)
		return t
	})
}

// evictBuf is larger than the last-level cache of the machines we measure
// on: writing one byte of each of its cache lines evicts everything else.
var evictBuf []byte

func evictCaches() {
	if evictBuf == nil {
		evictBuf = make([]byte, 64<<20)
	}
	for i := 0; i < len(evictBuf); i += 64 {
		evictBuf[i]++
	}
}

func benchReparse(b *testing.B, reparse func(old *template.Template, src []byte, start, end, n int) *template.Template) {
	benchReparseSizes(b, []int{30 << 10, 1 << 20}, false, reparse)
}

func benchReparseSizes(b *testing.B, sizes []int, cold bool, reparse func(old *template.Template, src []byte, start, end, n int) *template.Template) {
	for _, size := range sizes {
		b.Run(fmt.Sprintf("yaml-%dKB", size>>10), func(b *testing.B) {
			cur := template.Parse("t.yaml", synth.YAML(size))
			res := cur.Resources[len(cur.Resources)/2]
			at := res.TypeNode.End
			without := cur.Source
			with := append(append(append(make([]byte, 0, len(without)+1), without[:at]...), 'x'), without[at:]...)
			b.SetBytes(int64(len(cur.Source)))
			b.ReportAllocs()
			runtime.GC() // the parse's garbage, so that a short run measures the edits alone
			i := 0
			for b.Loop() {
				if cold {
					b.StopTimer()
					evictCaches()
					b.StartTimer()
				}
				if i%2 == 0 {
					cur = reparse(cur, with, at, at, 1)
				} else {
					cur = reparse(cur, without, at, at+1, 0)
				}
				i++
			}
			if len(cur.Problems) > 0 || cur.Resource(res.Name) == nil {
				b.Fatal("the edits broke the template")
			}
		})
	}
}
