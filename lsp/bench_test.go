package lsp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
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
			s, timer := newTimedBenchSession(b)
			d := s.open("file:///bench/t.yaml", src)
			s.waitVersion(b, d.uri, 1)
			top := protocol.Position{}
			editAndUndo(b, s, d, timer, len(src), protocol.TextEdit{Range: protocol.Range{Start: top, End: top}, NewText: "# x\n"}, protocol.TextEdit{Range: protocol.Range{Start: top, End: protocol.Position{Line: 1}}})
		})
	}
}

// editAndUndo makes b.N changes of d, edit and undo in turn, each waited
// for until its diagnostics are published, and reports the CPU and the
// server's time per change.
func editAndUndo(b *testing.B, s *session, d *doc, timer *serverTimer, size int, edit, undo protocol.TextEdit) {
	b.SetBytes(int64(size))
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			s.change(d, edit)
		} else {
			s.change(d, undo)
		}
		s.waitVersion(b, d.uri, d.version)
	}
	reportCPU(b, cpu)
	timer.report(b)
}

// BenchmarkEditInResource is BenchmarkEditToDiagnostics with the edit the
// issue measures: inside one resource in the middle of the document (a
// comment line added below its Type, or removed again, so that every later
// diagnostic moves and each version is published). The server re-reads
// only that resource and re-runs only the checks that may see it
// (Engine.ReanalyzeInPlace).
func BenchmarkEditInResource(b *testing.B) {
	for _, size := range []int{30 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("yaml-%dKB", size>>10), func(b *testing.B) {
			src := synth.YAML(size)
			tp := template.Parse("t.yaml", src)
			res := tp.Resources[len(tp.Resources)/2]
			line := uint32(tp.Lines.Position(res.TypeNode.Start).Line) // the line after Type, 0-based
			s, timer := newTimedBenchSession(b)
			d := s.open("file:///bench/t.yaml", string(src))
			s.waitVersion(b, d.uri, 1)
			at := protocol.Position{Line: line}
			editAndUndo(b, s, d, timer, len(src), protocol.TextEdit{Range: protocol.Range{Start: at, End: at}, NewText: "    # x\n"}, protocol.TextEdit{Range: protocol.Range{Start: at, End: protocol.Position{Line: line + 1}}})
		})
	}
}

// BenchmarkTypeInResource types one character inside a resource in the
// middle of the document and deletes it again, alternately: the keystroke
// the latency target is about. The character goes at the end of the
// literal "production" of a queue's environment tag, which SOC2-TAG-001
// reports with the literal in its message ("productionx", then "production"
// again) and its range: the diagnostics of every version differ from the
// last, so every version is published, and no line is added, so the
// positions of the other diagnostics stay put. The JSON variants type into
// the same tag of synth.JSON.
func BenchmarkTypeInResource(b *testing.B) {
	for _, c := range []struct {
		format string
		size   int
		gen    func(int) []byte
	}{{"yaml", 30 << 10, synth.YAML}, {"yaml", 1 << 20, synth.YAML}, {"json", 30 << 10, synth.JSON}, {"json", 1 << 20, synth.JSON}} {
		b.Run(fmt.Sprintf("%s-%dKB", c.format, c.size>>10), func(b *testing.B) {
			src := c.gen(c.size)
			typeAndDelete(b, c.format, src, typingPosition(b, src))
		})
	}
}

// BenchmarkEditKinds is BenchmarkEditInResource for the edits that are not
// inside one resource's value, each made and undone in turn: a comment line
// inserted inside a parameter ("param-line"), a character typed at the end
// of the logical id of the resource in the middle ("rename-resource"), a
// new entry's key line typed above it ("new-entry"), a comment line
// inserted above the Resources key ("above-section"), and a "[" typed
// before the value of BenchmarkTypeInResource's tag, which leaves a flow
// sequence open until it is deleted ("syntax-error": edit-ms is the
// keystroke that breaks the template, undo-ms the one that repairs it),
// and the last character of a logical id deleted, which makes it another's
// (a duplicate key) until it is typed back ("duplicate-key").
// Each version's
// diagnostics differ from the last (names in messages, or positions), so
// each is published.
func BenchmarkEditKinds(b *testing.B) {
	for _, size := range []int{30 << 10, 1 << 20} {
		src := synth.YAML(size)
		tp := template.Parse("t.yaml", src)
		pos := func(off int) protocol.Position {
			p := tp.Lines.Position(off)
			return protocol.Position{Line: uint32(p.Line - 1), Character: uint32(p.Column - 1)}
		}
		insert := func(at protocol.Position, text string) protocol.TextEdit {
			return protocol.TextEdit{Range: protocol.Range{Start: at, End: at}, NewText: text}
		}
		deleteLine := func(at protocol.Position) protocol.TextEdit {
			return protocol.TextEdit{Range: protocol.Range{Start: at, End: protocol.Position{Line: at.Line + 1}}}
		}
		mid := len(tp.Resources) / 2
		key := tp.Resources[mid].Key
		keyLine := pos(tp.Lines.LineStart(tp.Lines.LineOf(key.Start)))
		afterKey := pos(key.End)
		param := pos(tp.Parameter("RetentionDays").Key.End + 1) // the line after the key
		param.Line, param.Character = param.Line+1, 0
		section := pos(tp.Sections["Resources"].Key.Start)
		bracket := typingPosition(b, src)
		bracket.Character -= uint32(len("production"))
		// A resource from the middle on whose logical id, less its last
		// character, is another's (Queue12 and Queue1).
		var dupEnd protocol.Position
		var dupChar string
		for _, r := range tp.Resources[mid:] {
			if n := r.Key.Value; len(n) > 1 && tp.Resource(n[:len(n)-1]) != nil {
				dupEnd, dupChar = pos(r.Key.End), n[len(n)-1:]
				break
			}
		}
		if dupEnd.Line == 0 {
			b.Fatal("no logical id of the synth template is another's plus one character")
		}
		dupLast := protocol.Position{Line: dupEnd.Line, Character: dupEnd.Character - 1}
		for _, k := range []struct {
			name       string
			edit, undo protocol.TextEdit
		}{
			{"param-line", insert(param, "    # x\n"), deleteLine(param)},
			{"rename-resource", insert(afterKey, "x"), protocol.TextEdit{Range: protocol.Range{Start: afterKey, End: protocol.Position{Line: afterKey.Line, Character: afterKey.Character + 1}}}},
			{"new-entry", insert(keyLine, "  X:\n"), deleteLine(keyLine)},
			{"above-section", insert(section, "# x\n"), deleteLine(section)},
			{"syntax-error", insert(bracket, "["), protocol.TextEdit{Range: protocol.Range{Start: bracket, End: protocol.Position{Line: bracket.Line, Character: bracket.Character + 1}}}},
			{"duplicate-key", protocol.TextEdit{Range: protocol.Range{Start: dupLast, End: dupEnd}}, insert(dupLast, dupChar)},
		} {
			b.Run(fmt.Sprintf("%s/yaml-%dKB", k.name, size>>10), func(b *testing.B) {
				s, timer := newTimedBenchSession(b)
				d := s.open("file:///bench/t.yaml", string(src))
				s.waitVersion(b, d.uri, 1)
				editAndUndo(b, s, d, timer, len(src), k.edit, k.undo)
			})
		}
	}
}

// BenchmarkJSONSyntaxError is BenchmarkEditKinds/syntax-error in a JSON
// template (synth.JSON): an "x" typed before the value of
// BenchmarkTypeInResource's tag, a bad token until it is deleted (edit-ms
// breaks the template, undo-ms repairs it).
func BenchmarkJSONSyntaxError(b *testing.B) {
	for _, size := range []int{30 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("json-%dKB", size>>10), func(b *testing.B) {
			src := synth.JSON(size)
			at := typingPosition(b, src)
			at.Character -= uint32(len(`"production`))
			typeAndDelete(b, "json", src, at)
		})
	}
}

// typeAndDelete opens src (a template in format) in a timed session and
// types an "x" at at, then deletes it, alternately (editAndUndo).
func typeAndDelete(b *testing.B, format string, src []byte, at protocol.Position) {
	s, timer := newTimedBenchSession(b)
	d := s.open("file:///bench/t."+format, string(src))
	s.waitVersion(b, d.uri, 1)
	after := protocol.Position{Line: at.Line, Character: at.Character + 1}
	editAndUndo(b, s, d, timer, len(src), protocol.TextEdit{Range: protocol.Range{Start: at, End: at}, NewText: "x"}, protocol.TextEdit{Range: protocol.Range{Start: at, End: after}})
}

// BenchmarkRequestAfterEdit is what an editor does around every
// keystroke: after BenchmarkTypeInResource's edit (made and undone in turn)
// is published, it asks for something at the cursor, for the new version:
// the code actions there (VS Code, after every change), the hover, the
// document's symbols (the outline and breadcrumbs), the occurrences of the
// name there, its definition, completion. It reports the median time from
// the request to its response as request-ms: the server's work, and the
// client decoding the response (most of documentSymbol's at 1 MB: about
// 4,000 symbols).
func BenchmarkRequestAfterEdit(b *testing.B) {
	for _, size := range []int{30 << 10, 1 << 20} {
		src := synth.YAML(size)
		at := typingPosition(b, src)
		tp := template.Parse("t.yaml", src)
		// A Ref in the resource typed in, for the requests about names.
		var ref protocol.Position
		for _, r := range tp.Refs.All {
			if p := tp.Lines.Position(r.Span.Start); uint32(p.Line-1) > at.Line && r.Span.End > r.Span.Start {
				ref = protocol.Position{Line: uint32(p.Line - 1), Character: uint32(p.Column - 1)}
				break
			}
		}
		for _, method := range []string{"codeAction", "hover", "documentSymbol", "documentHighlight", "definition", "completion"} {
			b.Run(fmt.Sprintf("%s/yaml-%dKB", method, size>>10), func(b *testing.B) {
				s, _ := newTimedBenchSession(b)
				d := s.open("file:///bench/t.yaml", string(src))
				s.waitVersion(b, d.uri, 1)
				after := protocol.Position{Line: at.Line, Character: at.Character + 1}
				edit := protocol.TextEdit{Range: protocol.Range{Start: at, End: at}, NewText: "x"}
				undo := protocol.TextEdit{Range: protocol.Range{Start: at, End: after}}
				pos := at
				if method == "documentHighlight" || method == "definition" {
					pos = ref
				}
				params := map[string]any{"textDocument": map[string]any{"uri": d.uri}, "position": pos,
					"range": protocol.Range{Start: pos, End: pos}, "context": map[string]any{"diagnostics": []any{}}}
				took := make([]time.Duration, 0, b.N)
				answered := 0
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if i%2 == 0 {
						s.change(d, edit)
					} else {
						s.change(d, undo)
					}
					s.waitVersion(b, d.uri, d.version)
					var got json.RawMessage
					start := time.Now()
					if err := s.call("textDocument/"+method, params, &got); err != nil {
						b.Fatal(err)
					}
					took = append(took, time.Since(start))
					if len(got) > 4 && string(got) != "null" {
						answered++
					}
				}
				b.StopTimer()
				if answered == 0 {
					b.Fatalf("%s answered nothing at %v", method, pos)
				}
				slices.Sort(took)
				b.ReportMetric(float64(took[len(took)/2])/1e6, "request-ms")
			})
		}
	}
}

// typingPosition is where BenchmarkTypeInResource types: right after
// "production" in the environment tag of the queue of the middle group of a
// synth template.
func typingPosition(b *testing.B, src []byte) protocol.Position {
	name, value := "t.yaml", "Value: production"
	if len(src) > 0 && src[0] == '{' {
		name, value = "t.json", `"Value": "production`
	}
	tp := template.Parse(name, src)
	groups := 0
	for _, r := range tp.Resources {
		if r.Type == "AWS::SQS::Queue" {
			groups++
		}
	}
	res := tp.Resource(fmt.Sprintf("Queue%d", groups/2))
	if res == nil {
		b.Fatalf("no queue in the middle of the synth template (%d groups)", groups)
	}
	i := bytes.Index(src[res.TypeNode.Start:], []byte(value))
	if i < 0 {
		b.Fatalf("no %q in %s", value, res.Name)
	}
	p := tp.Lines.Position(res.TypeNode.Start + i + len(value))
	return protocol.Position{Line: uint32(p.Line - 1), Character: uint32(p.Column - 1)}
}

// serverTimer measures the server's part of each edit: from the didChange
// arriving to the publication of that version's diagnostics having been
// written (Server.changeHook and publishHook). Wall time also counts the
// client decoding each publication, and on a shared machine, the time other
// processes held the cores. The write of a publication larger than the
// pipe's buffer (64 KB) returns when the client has read all but the last
// 64 KB of it, as with an editor.
type serverTimer struct {
	mu       sync.Mutex
	received map[int32]time.Time
	took     []time.Duration
	version  []int32 // of each took
}

// newTimedBenchSession is newBenchSession with a serverTimer on the server.
func newTimedBenchSession(b *testing.B) (*session, *serverTimer) {
	t := &serverTimer{received: map[int32]time.Time{}}
	s := newPipeSession(b, func(srv *Server) {
		srv.opts.Rules = rules.All()
		srv.engine = analysis.NewEngine(srv.opts.Rules, srv.cfg.engineOptions())
		srv.log = zap.NewNop()
		srv.changeHook = func(_ string, v int32) {
			now := time.Now()
			t.mu.Lock()
			t.received[v] = now
			t.mu.Unlock()
		}
		srv.publishHook = func(_ string, v int32) {
			now := time.Now()
			t.mu.Lock()
			if r, ok := t.received[v]; ok {
				t.took = append(t.took, now.Sub(r))
				t.version = append(t.version, v)
				delete(t.received, v)
			}
			t.mu.Unlock()
		}
	})
	s.initialize(b, map[string]any{"diagnosticsDelayMs": 0})
	return s, t
}

// newPipeSession is newSession over two OS pipes, as soc2ls serve talks to
// an editor over its standard input and output: the server's write returns
// once the kernel holds the bytes (up to the pipe's 64 KB), where a write to
// net.Pipe waits until the client goroutine has taken every byte, which on a
// loaded machine is mostly the wait for that goroutine to be scheduled.
func newPipeSession(b *testing.B, configure func(*Server)) *session {
	b.Helper()
	toClient, fromServer, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	toServer, fromClient, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	s := &session{served: make(chan int, 1), exits: make(chan int, 1)}
	s.srv = NewServer(Options{Rules: testRules(b), Logger: testLogger(b), Version: "test",
		Exit: func(code int) { s.exits <- code }})
	configure(s.srv)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		code, _ := s.srv.Serve(ctx, pipeConn{toServer, fromServer})
		s.served <- code
	}()
	s.client = newClient(b, toClient, fromClient)
	b.Cleanup(func() {
		cancel()
		for _, f := range []*os.File{fromClient, fromServer, toClient, toServer} {
			f.Close()
		}
	})
	return s
}

// pipeConn is the server's end of two pipes.
type pipeConn struct{ r, w *os.File }

func (c pipeConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c pipeConn) Write(p []byte) (int, error) { return c.w.Write(p) }
func (c pipeConn) Close() error {
	c.w.Close()
	return c.r.Close()
}

// report reports the median of the server times as server-ms/op, and
// those of the edits and of their undos (editAndUndo: the even and the odd
// versions) as edit-ms and undo-ms.
func (t *serverTimer) report(b *testing.B) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.took) == 0 {
		return
	}
	median := func(took []time.Duration) float64 {
		took = slices.Clone(took)
		slices.Sort(took)
		return float64(took[len(took)/2]) / 1e6
	}
	b.ReportMetric(median(t.took), "server-ms/op")
	var edits, undos []time.Duration
	for i, d := range t.took {
		if t.version[i]%2 == 0 {
			edits = append(edits, d)
		} else {
			undos = append(undos, d)
		}
	}
	if len(edits) > 0 && len(undos) > 0 {
		b.ReportMetric(median(edits), "edit-ms")
		b.ReportMetric(median(undos), "undo-ms")
	}
}

// BenchmarkEncodeDiagnostics measures what the server does for a version
// after the analysis: encoding the diagnostics into their publication (the
// frame written as it is). A comment line is inserted in the middle of the
// document and removed again, alternately, so that half the diagnostics move
// a line: "fresh" encodes the findings of two analyses (equal strings, not
// the same), "reused" the same findings with their spans shifted, as an
// incremental analysis hands them back; "marshal" is the conversion to
// protocol diagnostics and json.Marshal the server did before. "typed" is
// BenchmarkTypeInResource's keystroke (a character typed in a value in the
// middle, then deleted), analysed incrementally, with what the edit keeps
// (stableText): encoding, the frame, and the comparison with the payload
// published last, as the scheduler does them.
func BenchmarkEncodeDiagnostics(b *testing.B) {
	e := analysis.NewEngine(rules.All(), nil).WithoutFixes()
	u := uri.URI("file:///bench/t.yaml")
	for _, size := range []int{30 << 10, 1 << 20} {
		src := synth.YAML(size)
		tp := template.Parse("t.yaml", src)
		at := tp.Lines.LineStart(tp.Lines.Count() / 2)
		const line = "    # x\n"
		src2 := slices.Concat(src[:at], []byte(line), src[at:])
		r1, r2 := e.Analyze("t.yaml", src), e.Analyze("t.yaml", src2)
		shifted := slices.Clone(r1.Findings)
		for i := range shifted {
			f := &shifted[i]
			if f.Span.Start >= at {
				f.Span.Start += len(line)
				f.Span.End += len(line)
			}
			f.Related = slices.Clone(f.Related)
			for j := range f.Related {
				if r := &f.Related[j]; r.Span.Start >= at {
					r.Span.Start += len(line)
					r.Span.End += len(line)
				}
			}
		}
		versions := map[string][2][]analysis.Finding{"fresh": {r1.Findings, r2.Findings}, "reused": {r1.Findings, shifted}}
		tmpls := [2]*template.Template{r1.Template, r2.Template}
		b.Run(fmt.Sprintf("yaml-%dKB/typed", size>>10), func(b *testing.B) {
			benchmarkTyping(b, e, u, r1)
		})
		for _, name := range []string{"fresh", "reused", "marshal"} {
			b.Run(fmt.Sprintf("yaml-%dKB/%s", size>>10, name), func(b *testing.B) {
				var enc diagEncoder
				for k := range 2 { // the entries of both versions: what a session has after its first edits
					enc.encode(u, tmpls[k], versions["fresh"][k], e, stableText{}, allDiagFields).keep()
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					k := i % 2
					if name == "marshal" {
						_, _ = json.Marshal(toDiagnostics(u, tmpls[k], versions["fresh"][k], e, allDiagFields))
						continue
					}
					pub := enc.encode(u, tmpls[k], versions[name][k], e, stableText{}, allDiagFields)
					pub.frame(int32(i))
					pub.keep()
				}
				b.ReportMetric(float64(len(r1.Findings)), "findings")
			})
		}
	}
}

// benchmarkTyping is BenchmarkEncodeDiagnostics' "typed".
func benchmarkTyping(b *testing.B, e *analysis.Engine, u uri.URI, r0 *analysis.Result) {
	src0 := r0.Template.Source
	p := typingPosition(b, src0)
	at := r0.Template.Lines.Offset(int(p.Line), int(p.Character))
	src1 := slices.Concat(src0[:at], []byte("x"), src0[at:])
	r1 := e.Reanalyze(r0, src1, at, at, 1)
	res := [2]*analysis.Result{r0, r1}
	var typed, deleted editRegion
	typed.add(at, at, 1)
	deleted.add(at, at+1, 0)
	st := [2]stableText{stableTextOf(r1, deleted, r0.Template.Lines), stableTextOf(r0, typed, r1.Template.Lines)}
	var enc diagEncoder
	enc.encode(u, r0.Template, r0.Findings, e, stableText{}, allDiagFields).keep()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 1; i <= b.N; i++ {
		k := i % 2
		pub := enc.encode(u, res[k].Template, res[k].Findings, e, st[k], allDiagFields)
		pub.frame(int32(i))
		if !pub.diagnostics().equal(enc.published) {
			pub.keep()
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(enc.copied), "copied")
	b.ReportMetric(float64(len(enc.published.pieces)), "pieces")
	b.ReportMetric(float64(enc.published.size)/1e6, "payload-MB")
	held := 0
	for _, c := range enc.chunks {
		held += cap(c.buf)
	}
	b.ReportMetric(float64(held)/1e6, "chunks-MB") // what the encoder keeps of payloads and arenas
}

// BenchmarkPublicationWrite measures the floor under a keystroke's
// server time: writing the publication of the template's diagnostics (3 MB
// of JSON at 1 MB, 90 KB at 30 KB) to the pipe of BenchmarkTypeInResource's
// session, whose client reads and decodes it on the other core. It reports
// the median write as server-ms/op, as the keystroke benchmarks report
// theirs. "one-buffer" writes the frame in one buffer, "pieces" as a
// keystroke's payload is written: the header, the diagnostics before the
// changed one, that one, the rest.
func BenchmarkPublicationWrite(b *testing.B) {
	e := analysis.NewEngine(rules.All(), nil).WithoutFixes()
	for _, size := range []int{30 << 10, 1 << 20} {
		src := synth.YAML(size)
		res := e.Analyze("t.yaml", src)
		for _, mode := range []string{"one-buffer", "pieces"} {
			b.Run(fmt.Sprintf("yaml-%dKB/%s", size>>10, mode), func(b *testing.B) {
				s, _ := newTimedBenchSession(b)
				d := s.open("file:///bench/t.yaml", string(src))
				s.waitVersion(b, d.uri, 1)
				var enc diagEncoder
				pub := enc.encode(uri.URI(d.uri), res.Template, res.Findings, e, stableText{}, allDiagFields)
				payload := pub.diagnostics().bytes()
				mid := len(payload) / 2
				took := make([]time.Duration, 0, b.N)
				b.SetBytes(int64(len(payload)))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					v := int32(i + 2)
					parts := pub.frame(v)
					if mode == "one-buffer" {
						parts = [][]byte{bytes.Join(parts, nil)}
					} else {
						parts = [][]byte{parts[0], payload[:mid], payload[mid : mid+600], payload[mid+600:], parts[len(parts)-1]}
					}
					start := time.Now()
					if _, err := s.srv.stream.writeFrame(parts...); err != nil {
						b.Fatal(err)
					}
					took = append(took, time.Since(start))
					s.waitVersion(b, d.uri, v)
				}
				b.StopTimer()
				slices.Sort(took)
				b.ReportMetric(float64(took[len(took)/2])/1e6, "server-ms/op")
			})
		}
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
// publication (delay 0 does not matter: didOpen never waits), every rule:
// ns/op until the client has the publication, server-ms/op until the
// server has written it.
func BenchmarkOpenToDiagnostics(b *testing.B) {
	for _, size := range []int{30 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("yaml-%dKB", size>>10), func(b *testing.B) {
			src := string(synth.YAML(size))
			s, timer := newTimedBenchSession(b)
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
			timer.report(b)
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
