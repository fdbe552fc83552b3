package lsp

import (
	"encoding/json"
	"math/rand"
	"strings"
	"testing"

	"go.lsp.dev/protocol"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// TestRandomEditing makes random edits through the server (comment lines
// with multibyte and astral characters, value changes that add and remove
// findings, line deletions, and arbitrary edits that break the syntax and
// are undone in the next step) and checks after each that the diagnostics
// the client holds are exactly those of analysing the client's own copy of
// the text (while it does not parse: its syntax error, and the findings of
// the last text that did, moved by the edits since): sync, positions and
// publish-if-changed agree end to end.
func TestRandomEditing(t *testing.T) {
	for seed := int64(1); seed <= 20; seed++ {
		randomEditing(t, seed)
	}
}

func randomEditing(t *testing.T, seed int64) {
	s := newSession(t, nil)
	s.initialize(t, map[string]any{"diagnosticsDelayMs": 60000})
	d := s.open("file:///w/random.yaml", trailTemplate)
	engine := analysis.NewEngine(testRules(t), nil)
	rng := rand.New(rand.NewSource(seed))
	chars := []string{"a", " ", "é", "😀", "𝄞", "€", "\t"}
	junk := []string{"a", " ", "\n", "\r\n", "\r", "é", "😀", "x: y\n", ": ", "[", "  "}
	word := func(from []string, n int) string {
		var b strings.Builder
		for ; n > 0; n-- {
			b.WriteString(from[rng.Intn(len(from))])
		}
		return b.String()
	}
	// boundaries are the byte offsets an LSP position can name.
	boundaries := func(text string) []int {
		var out []int
		for i := range text {
			if i > 0 && text[i-1] == '\r' && text[i] == '\n' {
				continue
			}
			out = append(out, i)
		}
		return append(out, len(text))
	}
	lineStarts := func(text string) []int {
		out := []int{0}
		for i := 0; i < len(text); i++ {
			if text[i] == '\n' {
				out = append(out, i+1)
			}
		}
		return out
	}
	var undo *protocol.TextEdit
	parsed, broken := 0, 0
	s.waitDiagnostics(d.uri, atVersion(1)) // the first text that parsed
	shown := engine.Analyze("random.yaml", []byte(d.text)).Findings
	for step := 0; step < 50; step++ {
		l := template.NewLines([]byte(d.text))
		rangeOf := func(i, j int) protocol.Range { return protocol.Range{Start: toPosition(l, i), End: toPosition(l, j)} }
		var e protocol.TextEdit
		switch k := rng.Intn(5); {
		case undo != nil:
			e, undo = *undo, nil
		case k == 0: // a comment line
			starts := lineStarts(d.text)
			at := starts[rng.Intn(len(starts))]
			brk := "\n"
			if rng.Intn(2) == 0 {
				brk = "\r\n"
			}
			e = protocol.TextEdit{Range: rangeOf(at, at), NewText: "#" + word(chars, 1+rng.Intn(4)) + brk}
		case k == 1: // remove a comment line
			starts := lineStarts(d.text)
			var comments [][2]int
			for n, st := range starts {
				if strings.HasPrefix(d.text[st:], "#") && n+1 < len(starts) {
					comments = append(comments, [2]int{st, starts[n+1]})
				}
			}
			if len(comments) == 0 {
				continue
			}
			c := comments[rng.Intn(len(comments))]
			e = protocol.TextEdit{Range: rangeOf(c[0], c[1])}
		case k == 2: // toggle a value that decides a finding
			pairs := [][2]string{{"IsMultiRegionTrail: false", "IsMultiRegionTrail: true"}, {"Value: production", "Value: staging"}}
			p := pairs[rng.Intn(len(pairs))]
			from, to := p[0], p[1]
			if !strings.Contains(d.text, from) {
				from, to = to, from
			}
			i := strings.Index(d.text, from)
			e = protocol.TextEdit{Range: rangeOf(i, i+len(from)), NewText: to}
		default: // anything at all, undone in the next step
			b := boundaries(d.text)
			n := rng.Intn(len(b))
			i, j := b[n], b[min(len(b)-1, n+rng.Intn(8))]
			e = protocol.TextEdit{Range: rangeOf(i, j), NewText: word(junk, rng.Intn(3))}
			old := d.text[i:j]
			after := d.text[:i] + e.NewText + d.text[j:]
			la := template.NewLines([]byte(after))
			undo = &protocol.TextEdit{Range: protocol.Range{Start: toPosition(la, i), End: toPosition(la, i+len(e.NewText))}, NewText: old}
		}
		var edit editRegion
		edit.add(toOffset(l, e.Range.Start), toOffset(l, e.Range.End), len(e.NewText))
		s.change(d, e)
		var syms []protocol.DocumentSymbol
		if err := s.call("textDocument/documentSymbol", map[string]any{"textDocument": map[string]any{"uri": d.uri}}, &syms); err != nil {
			t.Fatal(err)
		}
		res := engine.Analyze("random.yaml", []byte(d.text))
		// While the text does not parse, the server keeps showing the
		// findings of the last text that did, moved by each edit since.
		findings := res.Findings
		if res.Template.HasSyntaxError() {
			broken++
			shown = movedFindings(shown, edit)
			findings = lastGoodFindings(findings, shown)
		} else {
			parsed++
			shown = res.Findings
		}
		want, _ := json.Marshal(toDiagnostics(protocol.DocumentURI(d.uri), res.Template, findings, engine, allDiagFields))
		var norm []protocol.Diagnostic // data decoded as a map, as the client sees it
		_ = json.Unmarshal(want, &norm)
		want, _ = json.Marshal(norm)
		got := []byte("[]")
		if all := s.published(d.uri); len(all) > 0 {
			got, _ = json.Marshal(all[len(all)-1].Diagnostics)
		}
		if string(got) != string(want) {
			t.Fatalf("seed %d, step %d: the client holds\n%s\nbut the text gives\n%s\ntext:\n%q", seed, step, got, want, d.text)
		}
	}
	if parsed == 0 || broken == 0 {
		t.Errorf("seed %d: %d versions parsed, %d did not: the edits do not exercise both paths", seed, parsed, broken)
	}
}
