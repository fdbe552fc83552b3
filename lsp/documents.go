package lsp

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/url"
	"path"
	"strings"
	"sync"
	"sync/atomic"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// document is one open text document: its current text and version, and the
// analysis state the scheduler maintains for it.
type document struct {
	uri      uri.URI
	filename string // for format detection and logs; may be synthetic

	mu      sync.Mutex
	version int32
	// gen counts changes of the text or of the configuration; a snapshot is
	// current when its gen equals the document's.
	gen    uint64
	text   []byte // edited in place; the scheduler analyses a copy
	lines  *template.Lines
	closed bool

	// base is the last analysis (nil before the first), and edits the part
	// of the current text that differs from the text it read, so that the
	// next analysis re-reads only that part and re-runs only the checks
	// that may see it (analysis.Engine.Reanalyze).
	base  *analysis.Result
	edits editRegion
	// baseEngine is the engine base was analysed with: the findings kept
	// while the text does not parse must come from the same configuration.
	baseEngine *analysis.Engine
	// goodBase is the newest analysis whose template had no problems (stale
	// or not), and sinceGood the part of base's text that differs from
	// goodBase's (nothing when base is goodBase's result): while base's
	// template has problems (a syntax error, a duplicate key), which the
	// re-parse does not take as a starting point, the next analysis
	// re-reads the edits since goodBase, so that a keystroke costs the
	// edited entries and the one that repairs the text takes the
	// incremental path. stale are the last good findings that base's
	// publication kept, in base's text (movedFindings).
	goodBase  *snapshot
	sinceGood editRegion
	stale     []analysis.Finding

	// snap is the newest analysis result (it may be older than gen); good is
	// the newest one that parsed, kept for hover and navigation while the
	// text has a syntax error.
	snap, good *snapshot
	// ready is closed, and replaced, whenever snap changes.
	ready chan struct{}
	// published is the JSON of the diagnostics last sent, nil before any;
	// a cooled document keeps only its digest, publishedSum (shown says
	// whether anything was published).
	published    *rope
	publishedSum [sha256.Size]byte
	shown        bool
	// enc encodes the diagnostics; only the scheduler uses it.
	enc diagEncoder

	// cold says the model was dropped to bound memory (memory.go): the
	// diagnostics published are current, and a request re-analyses the
	// text. hotBytes is the size of the text while the model is kept, else
	// 0; lastUse orders the documents' uses.
	cold     bool
	hotBytes atomic.Int64
	lastUse  atomic.Int64

	// readers counts the requests using a snapshot of the document (pin),
	// and idle is closed when their count falls back to 0 (nil while it is
	// 0); consuming is set while an analysis re-reads the last analysed
	// template in place, which it does only when no request reads it
	// (scheduler.analyze). All are guarded by mu.
	readers   int
	idle      chan struct{}
	consuming bool

	sched *scheduler
	// cancel stops the analysis in progress (nil when none runs): a change
	// makes its result stale, so it need not finish.
	cancel context.CancelFunc
}

// changed records a change of the text or the configuration: the current
// analysis, if any, is for an older generation and is stopped. d.mu must be
// held.
func (d *document) changed() {
	d.gen++
	d.cold = false // the new text is analysed, and the document is hot again
	if d.cancel != nil {
		d.cancel()
		d.cancel = nil
	}
}

// pin records a request using the document's snapshots, and returns the
// function that ends that use. d.mu must be held; release takes it.
func (d *document) pin() (release func()) {
	if d.readers == 0 {
		d.idle = make(chan struct{})
	}
	d.readers++
	var once sync.Once
	return func() {
		once.Do(func() {
			d.mu.Lock()
			if d.readers--; d.readers == 0 {
				close(d.idle)
				d.idle = nil
			}
			d.mu.Unlock()
		})
	}
}

// snapshot is the analysis of one version of a document. It is immutable.
type snapshot struct {
	version int32
	gen     uint64
	result  *analysis.Result
	engine  *analysis.Engine
	// findings were computed without their fixes' edits (Engine.WithoutFixes):
	// withFixes builds them when a client asks for a repair.
	findings []analysis.Finding
	// kept are the last good findings published with a syntax error
	// (movedFindings), in this version's text: hover explains them.
	kept []analysis.Finding

	fixOnce sync.Once
	fixed   []analysis.Finding
}

// fixesOf returns the findings idx with their fixes built: only the checks
// that reported them run again, with fixes (Engine.FixesOf), so that a code
// action or a hover costs the resource under the cursor, not the template.
// Diagnostics never wait for fixes.
func (s *snapshot) fixesOf(idx []int) (fs []analysis.Finding) {
	if len(idx) == 0 {
		return nil
	}
	if s.result != nil && s.engine != nil {
		ok := false
		func() {
			defer func() {
				if recover() != nil {
					ok = false // a bug in a fix costs the fixes, not the session
				}
			}()
			fs, ok = s.engine.FixesOf(s.result, idx)
		}()
		if ok {
			return fs
		}
	}
	all := s.withFixes()
	fs = make([]analysis.Finding, len(idx))
	for k, i := range idx {
		fs[k] = all[i]
	}
	return fs
}

// withFixes returns the findings, in the same order, with their fixes built:
// the snapshot's template is checked again by the full engine, once, the
// first time a fix is asked for and fixesOf cannot tell which checks to
// run.
func (s *snapshot) withFixes() []analysis.Finding {
	s.fixOnce.Do(func() {
		s.fixed = s.findings
		if s.result == nil || s.engine == nil || len(s.findings) == 0 {
			return
		}
		defer func() {
			if recover() != nil {
				s.fixed = s.findings // a bug in a fix costs the fixes, not the session
			}
		}()
		type key struct {
			rule    string
			span    template.Span
			message string
		}
		full := map[key][]analysis.Fix{}
		for _, f := range s.engine.Run(s.result.Template) {
			full[key{f.RuleID, f.Span, f.Message}] = f.Fixes
		}
		fixed := make([]analysis.Finding, len(s.findings))
		for i, f := range s.findings {
			if fixes, ok := full[key{f.RuleID, f.Span, f.Message}]; ok {
				f.Fixes = fixes
			}
			fixed[i] = f
		}
		s.fixed = fixed
	})
	return s.fixed
}

// tmpl returns the analysed template.
func (s *snapshot) tmpl() *template.Template { return s.result.Template }

// store holds the open documents.
type store struct {
	mu   sync.Mutex
	docs map[uri.URI]*document
}

func newStore() *store { return &store{docs: map[uri.URI]*document{}} }

func (s *store) get(u uri.URI) (*document, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.docs[u]
	return d, ok
}

func (s *store) put(d *document) (old *document) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old = s.docs[d.uri]
	s.docs[d.uri] = d
	return old
}

func (s *store) remove(u uri.URI) *document {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.docs[u]
	delete(s.docs, u)
	return d
}

func (s *store) all() []*document {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*document, 0, len(s.docs))
	for _, d := range s.docs {
		out = append(out, d)
	}
	return out
}

func newDocument(u uri.URI, languageID string, version int32, text string) *document {
	src := []byte(text)
	return &document{
		uri:      u,
		filename: filenameOf(u, languageID),
		version:  version,
		gen:      1,
		text:     src,
		lines:    template.NewLines(src),
		ready:    make(chan struct{}),
	}
}

// filenameOf names a document for the parser, which uses the extension to
// tell JSON from YAML, and for logs.
//
// NOTE(uri v0.3.0): uri.URI.Filename panics on URIs that are not file URIs,
// such as VS Code's untitled:Untitled-1. Only file URIs go through it.
func filenameOf(u uri.URI, languageID string) string {
	name := ""
	if strings.HasPrefix(string(u), uri.FileScheme+":") {
		name = fileName(u)
	}
	if p, err := url.Parse(string(u)); name == "" && err == nil {
		name = p.Path
		if name == "" {
			name = p.Opaque
		}
	}
	if name == "" {
		name = string(u)
	}
	if strings.EqualFold(languageID, "json") && !strings.EqualFold(path.Ext(name), ".json") {
		name += ".json"
	}
	return name
}

// applyChanges applies the changes of one didChange, in order, and sets the
// new version. Ranged changes splice the text in place and update the line
// index around the edit only; a change without a range replaces the text.
// A notification with a range that ends before it starts is rejected as a
// whole, before anything is applied, so that the text is never left half
// edited; positions outside the text clamp to it (Lines.Offset).
// The caller holds d.mu.
func (d *document) applyChanges(version int32, changes []contentChange) error {
	for i, c := range changes {
		// Offsets grow with positions (clamping included), so comparing the
		// positions decides it without applying the earlier changes.
		if c.Range != nil && (c.Range.End.Line < c.Range.Start.Line ||
			c.Range.End.Line == c.Range.Start.Line && c.Range.End.Character < c.Range.Start.Character) {
			return &jsonrpc2.Error{Code: jsonrpc2.InvalidParams, Message: fmt.Sprintf(
				"didChange of %s: change %d: range end %d:%d is before its start %d:%d; no change applied", d.uri, i,
				c.Range.End.Line, c.Range.End.Character, c.Range.Start.Line, c.Range.Start.Character)}
		}
	}
	for _, c := range changes {
		if c.Range == nil {
			d.text = []byte(c.Text)
			d.lines = template.NewLines(d.text)
			d.edits.whole = true
			continue
		}
		start := d.offset(c.Range.Start)
		end := max(d.offset(c.Range.End), start)
		d.text = splice(d.text, start, end, c.Text)
		d.lines = d.lines.Splice(d.text, start, end, len(c.Text))
		d.edits.add(start, end, len(c.Text))
	}
	d.version = version
	d.changed()
	return nil
}

// editRegion is the part of a document's text that changed since a mark
// (the text the last analysis read): before start and from end on, the
// current text is the marked text, the latter shifted by delta bytes.
type editRegion struct {
	start, end, delta int
	any               bool // some ranged change since the mark
	whole             bool // the text was replaced: nothing is known
}

// add records that the bytes [start, end) of the current text were
// replaced by n bytes.
func (r *editRegion) add(start, end, n int) {
	d := n - (end - start)
	if !r.any {
		*r = editRegion{start: start, end: start + n, delta: d, any: true, whole: r.whole}
		return
	}
	// The current text after max(r.end, end) is the marked text's, and
	// moves by d.
	r.start = min(r.start, start)
	r.end = max(r.end, end) + d
	r.delta += d
}

// then returns the region that differs from the marked text after the
// changes r records and then those next records (marked at the text r
// led to).
func (r editRegion) then(next editRegion) editRegion {
	switch {
	case r.whole || next.whole:
		return editRegion{whole: true}
	case !next.any:
		return r
	case !r.any:
		return next
	}
	r.add(next.start, next.end-next.delta, next.end-next.start)
	return r
}

// offset converts an LSP position (0-based line, UTF-16 column) in the
// current text to a byte offset, through the one converter, template.Lines.
func (d *document) offset(p protocol.Position) int {
	return toOffset(d.lines, p)
}

// splice replaces text[start:end] with ins, in place when the capacity
// allows; growth leaves a quarter of spare room so that typing rarely
// reallocates.
func splice(text []byte, start, end int, ins string) []byte {
	delta := len(ins) - (end - start)
	n := len(text)
	switch {
	case delta > 0 && n+delta > cap(text):
		out := make([]byte, n+delta, (n+delta)*5/4+64)
		copy(out, text[:start])
		copy(out[start:], ins)
		copy(out[start+len(ins):], text[end:])
		return out
	case delta > 0:
		text = text[:n+delta]
		copy(text[start+len(ins):], text[end:n])
	case delta < 0:
		copy(text[start+len(ins):], text[end:])
		text = text[:n+delta]
	}
	copy(text[start:], ins)
	return text
}

// fileName is u.Filename without its panic on malformed file URIs.
func fileName(u uri.URI) (name string) {
	defer func() {
		if recover() != nil {
			name = ""
		}
	}()
	return u.Filename()
}
