package lsp

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/rules"
	"github.com/soc2ls/soc2ls/analysis/synth"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// BenchmarkEditToDiagnostics measures one keystroke's way through the real
// server over a pipe, with every rule and no debounce delay: didChange (a
// line inserted at the top, or removed again, which moves every
// diagnostic), analysis, conversion, publication, and the client reading
// the notification.
func BenchmarkEditToDiagnostics(b *testing.B) {
	for _, size := range []int{30 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("yaml-%dKB", size>>10), func(b *testing.B) {
			src := string(synth.YAML(size))
			s := newSession(b, func(srv *Server) {
				srv.opts.Rules = rules.All()
				srv.engine = analysis.NewEngine(srv.opts.Rules, srv.cfg.engineOptions())
				srv.log = zap.NewNop()
			})
			s.initialize(b, map[string]any{"diagnosticsDelayMs": 0})
			d := s.open("file:///bench/t.yaml", src)
			s.waitVersion(b, d.uri, 1)
			top := protocol.Position{}
			b.SetBytes(int64(len(src)))
			b.ResetTimer()
			cpu := cpuTime()
			for i := 0; i < b.N; i++ {
				if i%2 == 0 {
					s.change(d, protocol.TextEdit{Range: protocol.Range{Start: top, End: top}, NewText: "# x\n"})
				} else {
					s.change(d, protocol.TextEdit{Range: protocol.Range{Start: top, End: protocol.Position{Line: 1}}})
				}
				s.waitVersion(b, d.uri, d.version)
			}
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkEditInResource is BenchmarkEditToDiagnostics with the edit the
// issue measures: inside one resource in the middle of the document (a
// comment line added below its Type, or removed again, so that every later
// diagnostic moves and each version is published). The server re-reads
// only that resource (template.Reparse); the rules still run on the whole
// template.
func BenchmarkEditInResource(b *testing.B) {
	for _, size := range []int{30 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("yaml-%dKB", size>>10), func(b *testing.B) {
			src := synth.YAML(size)
			tp := template.Parse("t.yaml", src)
			res := tp.Resources[len(tp.Resources)/2]
			line := uint32(tp.Lines.Position(res.TypeNode.Start).Line) // the line after Type, 0-based
			s := newSession(b, func(srv *Server) {
				srv.opts.Rules = rules.All()
				srv.engine = analysis.NewEngine(srv.opts.Rules, srv.cfg.engineOptions())
				srv.log = zap.NewNop()
			})
			s.initialize(b, map[string]any{"diagnosticsDelayMs": 0})
			d := s.open("file:///bench/t.yaml", string(src))
			s.waitVersion(b, d.uri, 1)
			at := protocol.Position{Line: line}
			b.SetBytes(int64(len(src)))
			b.ResetTimer()
			cpu := cpuTime()
			for i := 0; i < b.N; i++ {
				if i%2 == 0 {
					s.change(d, protocol.TextEdit{Range: protocol.Range{Start: at, End: at}, NewText: "    # x\n"})
				} else {
					s.change(d, protocol.TextEdit{Range: protocol.Range{Start: at, End: protocol.Position{Line: line + 1}}})
				}
				s.waitVersion(b, d.uri, d.version)
			}
			reportCPU(b, cpu)
		})
	}
}

// waitVersion waits for the publication of version v of uri, decoding only
// the notifications that arrived since the last call.
func (c *client) waitVersion(t testing.TB, uri string, v int32) {
	t.Helper()
	c.waitFor(fmt.Sprintf("version %d", v), func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for ; c.scanned < len(c.notes); c.scanned++ {
			m := c.notes[c.scanned]
			if m.Method != "textDocument/publishDiagnostics" {
				continue
			}
			var p struct {
				URI     string `json:"uri"`
				Version int32  `json:"version"`
			}
			if err := json.Unmarshal(m.Params, &p); err == nil && p.URI == uri && p.Version == v {
				c.notes[c.scanned] = &wireMsg{} // release the payload
				c.scanned++
				return true
			}
			c.notes[c.scanned] = &wireMsg{}
		}
		return false
	})
}

// BenchmarkApplyChange measures what the reader goroutine does for one
// keystroke: splicing the text and the line index around the edit.
func BenchmarkApplyChange(b *testing.B) {
	for _, size := range []int{30 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("yaml-%dKB", size>>10), func(b *testing.B) {
			d := newDocument("file:///bench/t.yaml", "yaml", 1, string(synth.YAML(size)))
			mid := protocol.Position{Line: uint32(d.lines.Count() / 2), Character: 2}
			ins := []contentChange{{Range: &protocol.Range{Start: mid, End: mid}, Text: "x"}}
			del := []contentChange{{Range: &protocol.Range{Start: mid, End: protocol.Position{Line: mid.Line, Character: mid.Character + 1}}}}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c := ins
				if i%2 == 1 {
					c = del
				}
				if err := d.applyChanges(int32(i+2), c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOpenToDiagnostics measures didOpen of a template to its first
// publication (delay 0 does not matter: didOpen never waits), every rule.
func BenchmarkOpenToDiagnostics(b *testing.B) {
	for _, size := range []int{30 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("yaml-%dKB", size>>10), func(b *testing.B) {
			src := string(synth.YAML(size))
			s := newBenchSession(b)
			b.SetBytes(int64(len(src)))
			cpu := cpuTime()
			for i := 0; i < b.N; i++ {
				d := s.open(fmt.Sprintf("file:///bench/t%d.yaml", i), src)
				s.waitVersion(b, d.uri, 1)
				b.StopTimer()
				s.notify("textDocument/didClose", map[string]any{"textDocument": map[string]any{"uri": d.uri}})
				b.StartTimer()
			}
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkMemoryOpen measures the memory of 20 open 1 MB templates, each
// analysed: the Go heap in use after a collection, and the process's
// resident set (which includes the test binary and the client side of the
// pipe), reported as heap-MB and rss-MB.
func BenchmarkMemoryOpen(b *testing.B) {
	src := string(synth.YAML(1 << 20))
	for i := 0; i < b.N; i++ {
		s := newBenchSession(b)
		for j := range 20 {
			d := s.open(fmt.Sprintf("file:///bench/m%d-%d.yaml", i, j), src)
			s.waitVersion(b, d.uri, 1)
		}
		heap, rss := memoryNow()
		b.ReportMetric(heap, "heap-MB")
		b.ReportMetric(rss, "rss-MB")
	}
}

// BenchmarkMemoryEdits makes b.N edits inside resources of one 30 KB
// document (run it with -benchtime 10000x) and reports the growth of the
// heap in use between the first 100 edits and the end, as growth-MB.
func BenchmarkMemoryEdits(b *testing.B) {
	src := synth.YAML(30 << 10)
	tp := template.Parse("t.yaml", src)
	s := newBenchSession(b)
	d := s.open("file:///bench/e.yaml", string(src))
	s.waitVersion(b, d.uri, 1)
	var start float64
	for i := 0; i < b.N; i++ {
		if i == min(100, b.N-1) {
			start, _ = memoryNow()
		}
		res := tp.Resources[(i/2*7)%(len(tp.Resources)/3)] // findings follow it: every version is published
		line := uint32(tp.Lines.Position(res.TypeNode.Start).Line)
		at := protocol.Position{Line: line}
		if i%2 == 0 {
			s.change(d, protocol.TextEdit{Range: protocol.Range{Start: at, End: at}, NewText: "    # x\n"})
		} else {
			s.change(d, protocol.TextEdit{Range: protocol.Range{Start: at, End: protocol.Position{Line: line + 1}}})
		}
		s.waitVersion(b, d.uri, d.version)
	}
	end, _ := memoryNow()
	b.ReportMetric(end-start, "growth-MB")
}

func newBenchSession(b *testing.B) *session {
	s := newSession(b, func(srv *Server) {
		srv.opts.Rules = rules.All()
		srv.engine = analysis.NewEngine(srv.opts.Rules, srv.cfg.engineOptions())
		srv.log = zap.NewNop()
	})
	s.initialize(b, map[string]any{"diagnosticsDelayMs": 0})
	return s
}

// memoryNow returns the heap in use after a collection and the resident
// set of the process, in MB.
func memoryNow() (heap, rss float64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
				kb, _ := strconv.Atoi(f[1])
				rss = float64(kb) / 1024
			}
		}
	}
	return float64(ms.HeapInuse) / (1 << 20), rss
}

// cpuTime returns the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process's CPU time per iteration since start, as
// cpu-ms/op. On a shared machine wall time also counts the time other
// processes held the cores; CPU time does not (it does count the client's
// decoding and the garbage collector, which runs on the other core).
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e6, "cpu-ms/op")
}
