package lsp

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// TestCooledDocuments: with room for one hot model, opening a second
// document cools the first. The cooled one keeps its diagnostics (nothing
// is published again for it), answers a hover by analysing again, and
// publishes the right diagnostics after an edit.
func TestCooledDocuments(t *testing.T) {
	cooled := make(chan string, 16)
	s := newSession(t, func(srv *Server) {
		srv.hotBudget = 1
		srv.coolHook = func(uri string) { cooled <- uri }
	})
	s.initialize(t, map[string]any{"diagnosticsDelayMs": 0})
	a := s.open("file:///w/a.yaml", trailTemplate)
	first := s.waitDiagnostics(a.uri, func(p publishDiagnosticsParams) bool { return len(p.Diagnostics) > 0 })
	b := s.open("file:///w/b.yaml", trailTemplate)
	s.waitDiagnostics(b.uri, func(p publishDiagnosticsParams) bool { return len(p.Diagnostics) > 0 })

	if u := waitCooled(t, cooled); u != a.uri {
		t.Fatalf("cooled %s, want the least recently used %s", u, a.uri)
	}
	da, _ := s.srv.docs.get(protocol.DocumentURI(a.uri))
	da.mu.Lock()
	if !da.cold || da.snap != nil || da.base != nil || da.published != nil || !da.shown {
		t.Errorf("cooled document keeps its model: cold %v, snapshot %v, base %v, payload kept %v, shown %v",
			da.cold, da.snap != nil, da.base != nil, da.published != nil, da.shown)
	}
	da.mu.Unlock()
	published := len(s.published(a.uri))

	// A request warms it again: the hover is the same as on a hot document.
	h := s.hoverAt(t, a, pos(t, a.text, "IsMultiRegionTrail: false", len("IsMultiRegionTrail: f")))
	if h == nil || !strings.Contains(h.Contents.Value, "SOC2-CT-001") {
		t.Fatalf("hover on a cooled document: %+v", h)
	}
	da.mu.Lock()
	cold := da.cold
	da.mu.Unlock()
	if cold {
		t.Error("a request did not warm the document")
	}
	// Warming analysed the same text: the same diagnostics, not sent again;
	// and b, now the least recently used, was cooled.
	if u := waitCooled(t, cooled); u != b.uri {
		t.Errorf("cooled %s after warming a, want %s", u, b.uri)
	}
	if n := len(s.published(a.uri)); n != published {
		t.Errorf("warming republished unchanged diagnostics: %d publications, want %d", n, published)
	}

	// An edit of the cooled document is analysed from scratch and published.
	at := pos(t, a.text, "IsMultiRegionTrail: false", len("IsMultiRegionTrail: "))
	end := pos(t, a.text, "IsMultiRegionTrail: false", len("IsMultiRegionTrail: false"))
	s.change(a, protocol.TextEdit{Range: protocol.Range{Start: at, End: end}, NewText: "true"})
	after := s.waitDiagnostics(a.uri, func(p publishDiagnosticsParams) bool { return p.Version != nil && *p.Version == a.version })
	if len(after.Diagnostics) >= len(first.Diagnostics) {
		t.Errorf("fixing the trail left %d diagnostics, had %d", len(after.Diagnostics), len(first.Diagnostics))
	}
	for _, d := range after.Diagnostics {
		if d.Code == "SOC2-CT-001" {
			t.Error("SOC2-CT-001 still reported after the fix")
		}
	}
}

// waitCooled returns the next document the server cooled.
func waitCooled(t *testing.T, cooled <-chan string) string {
	t.Helper()
	select {
	case u := <-cooled:
		return u
	case <-time.After(timeout):
		t.Fatal("no document was cooled")
		return ""
	}
}

// TestInPlaceWaitsForReaders: an analysis re-reads the previous template in
// place only when no request holds a snapshot; while one does, the
// snapshot's template stays as it was parsed.
func TestInPlaceWaitsForReaders(t *testing.T) {
	results := make(chan *analysis.Result, 16)
	s := newSession(t, func(srv *Server) {
		srv.resultHook = func(res *analysis.Result) { results <- res }
	})
	s.initialize(t, map[string]any{"diagnosticsDelayMs": 0})
	d := s.open("file:///w/t.yaml", trailTemplate)
	<-results
	edit := func(text string) *analysis.Result {
		at := pos(t, d.text, "IsLogging: ", len("IsLogging: "))
		s.change(d, protocol.TextEdit{Range: protocol.Range{Start: at, End: at}, NewText: text})
		select {
		case res := <-results:
			return res
		case <-time.After(timeout):
			t.Fatal("no analysis")
			return nil
		}
	}

	ctx := context.Background()
	_, held, release, err := s.srv.current(ctx, protocol.DocumentURI(d.uri))
	if err != nil {
		t.Fatal(err)
	}
	before := held.tmpl().Source
	if res := edit("t"); res.ConsumedPrevious {
		t.Error("the template of a snapshot in use was re-read in place")
	}
	if again := template.Parse("t.yaml", before); !reflect.DeepEqual(again.Root, held.tmpl().Root) {
		t.Error("the held snapshot's template changed under its reader")
	}
	release()
	// With no reader, the analysis takes the last result over
	// (ConsumedPrevious). Its template, a copy, owns no arena and is copied
	// again (docs/performance.md): TestInPlaceAfterShortReads checks a real
	// in-place re-read.
	if res := edit("r"); !res.ConsumedPrevious {
		t.Error("with no reader, the analysis did not take the last result over")
	}
	// The snapshot a request gets now is the new one, consistent with its text.
	_, cur, release, err := s.srv.current(ctx, protocol.DocumentURI(d.uri))
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if again := template.Parse("t.yaml", cur.tmpl().Source); !reflect.DeepEqual(again.Root, cur.tmpl().Root) {
		t.Error("the current snapshot's model does not match its text")
	}
}

// TestInPlaceAfterShortReads: an analysis that finds a request reading a
// snapshot waits a little for it (defaultReaderWait; long enough here for
// a loaded machine) instead of copying at once,
// since a copy's edits are copied too from then on: the edit made while a
// short request runs is re-read in place, moving the nodes after it where
// they are (MovedAhead).
func TestInPlaceAfterShortReads(t *testing.T) {
	results := make(chan *analysis.Result, 16)
	s := newSession(t, func(srv *Server) {
		srv.resultHook = func(res *analysis.Result) { results <- res }
		srv.readerWait = timeout
	})
	s.initialize(t, map[string]any{"diagnosticsDelayMs": 0})
	d := s.open("file:///w/t.yaml", trailTemplate)
	<-results
	_, _, release, err := s.srv.current(context.Background(), protocol.DocumentURI(d.uri))
	if err != nil {
		t.Fatal(err)
	}
	at := pos(t, d.text, "IsLogging: ", len("IsLogging: "))
	s.change(d, protocol.TextEdit{Range: protocol.Range{Start: at, End: at}, NewText: "t"})
	time.Sleep(time.Millisecond)
	release()
	select {
	case res := <-results:
		if res.Template.MovedAhead() == 0 {
			t.Error("the edit made while a request read a snapshot was copied, not re-read in place")
		}
	case <-time.After(timeout):
		t.Fatal("no analysis")
	}
}
