package lsp

import (
	"bytes"
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// scheduler analyses one document off the request path: it waits until the
// edits pause for the configured delay, analyses a copy of the newest text,
// drops the result if the document changed meanwhile, and publishes the
// diagnostics if they differ from the last ones sent. One goroutine per open
// document; analyses of one document never overlap.
//
// A change stops the analysis of the older text at the engine's next check
// of its context (between two checks); the stopped result is never
// published, and the newer version is analysed after its own delay. The
// scheduler is also where a document is cooled (memory.go) and where the
// last analysed template is handed to the next analysis, in place when no
// request holds it.
type scheduler struct {
	s      *Server
	d      *document
	wake   chan struct{} // buffered 1: a change or a flush is pending
	urgent atomic.Bool   // skip the rest of the delay
	// cooling asks to drop the model (memory.go); warm asks to analyse a
	// cooled document again, for a request.
	cooling, warm atomic.Bool
	quit          chan struct{}
	once          sync.Once
}

func newScheduler(s *Server, d *document) *scheduler {
	sc := &scheduler{s: s, d: d, wake: make(chan struct{}, 1), quit: make(chan struct{})}
	go sc.run()
	return sc
}

// kick tells the scheduler the document changed; urgent skips the delay
// (didOpen, didSave, and requests that need the current findings).
func (sc *scheduler) kick(urgent bool) {
	if urgent {
		sc.urgent.Store(true)
	}
	select {
	case sc.wake <- struct{}{}:
	default:
	}
}

func (sc *scheduler) stop() { sc.once.Do(func() { close(sc.quit) }) }

func (sc *scheduler) run() {
	for {
		select {
		case <-sc.quit:
			return
		case <-sc.wake:
		}
		if sc.cooling.Swap(false) {
			sc.coolDown()
		}
		if !sc.debounce() {
			return
		}
		sc.analyzeRecovering()
		sc.s.coolIdle()
	}
}

// analyzeRecovering runs analyze, logging a panic (in conversion or
// publication; the engine's own are turned into diagnostics) instead of
// ending the server.
func (sc *scheduler) analyzeRecovering() {
	defer func() {
		if v := recover(); v != nil {
			sc.s.log.Error("scheduler panicked", zap.String("uri", string(sc.d.uri)), zap.Any("panic", v), zap.ByteString("stack", debug.Stack()))
		}
	}()
	sc.analyze()
}

// debounce waits until no change has arrived for the configured delay, or
// until a flush. It returns false when the scheduler is stopped.
func (sc *scheduler) debounce() bool {
	delay := sc.s.delay()
	if sc.urgent.Swap(false) || delay <= 0 {
		return true
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for {
		select {
		case <-sc.quit:
			return false
		case <-timer.C:
			return true
		case <-sc.wake:
			if sc.urgent.Swap(false) {
				return true
			}
			if !timer.Stop() {
				<-timer.C
			}
			timer.Reset(delay)
		}
	}
}

// defaultReaderWait bounds how long an analysis waits for the requests
// reading a snapshot of its document before it copies the last template
// instead of re-reading it in place.
const defaultReaderWait = 10 * time.Millisecond

// analyze runs the engine on the newest text and stores and publishes the
// result, unless the document changed or closed meanwhile.
func (sc *scheduler) analyze() {
	d, s := sc.d, sc.s
	d.mu.Lock()
	if d.readers > 0 && d.base != nil {
		// A request reads a snapshot: the analysis would copy the last
		// template instead of re-reading it in place, and a copy's edits
		// are copied too from then on (it owns no arena of its nodes).
		// Requests take a millisecond or so: wait for them, a little.
		idle := d.idle
		d.mu.Unlock()
		limit := defaultReaderWait
		if s.readerWait > 0 {
			limit = s.readerWait
		}
		wait := time.NewTimer(limit)
		select {
		case <-idle:
		case <-wait.C:
		case <-sc.quit:
		}
		wait.Stop()
		d.mu.Lock()
	}
	if d.closed || (d.snap != nil && d.snap.gen == d.gen) || (d.cold && !sc.warm.Swap(false)) {
		d.mu.Unlock()
		return
	}
	version, gen := d.version, d.gen
	size, limit := int64(len(d.text)), s.maxFileSize()
	var src []byte
	if size <= limit {
		src = bytes.Clone(d.text) // the template keeps its source: it gets its own copy
	}
	base, baseEngine, edits := d.base, d.baseEngine, d.edits
	// src is the new mark: edits from now on are relative to it, and base
	// is set again to its template once it is read.
	d.base, d.edits = nil, editRegion{}
	// The analysis re-reads the edits since prev: base, or, while base's
	// template has problems (it does not parse, or repeats a key), the last
	// one without (goodBase), so that a keystroke in a broken template
	// re-reads the edited entries instead of the whole text, and the one
	// that repairs it takes the incremental path.
	goodBase, sinceGood, staleBefore := d.goodBase, d.sinceGood.then(edits), d.stale
	prev, region := base, edits
	if base != nil && goodBase != nil && base != goodBase.result && len(base.Template.Problems) > 0 && edits.any && !sinceGood.whole {
		prev, region = goodBase.result, sinceGood
	}
	// With no request reading a snapshot, the analysis may re-read prev's
	// template in place (template.ReparseInPlace) instead of copying what
	// follows the edit; until it is done, no request gets a snapshot of
	// this document (they wait for the new one) and completion does without
	// the model. Afterwards prev's template belongs to the new result.
	inPlace := prev != nil && d.readers == 0
	d.consuming = inPlace
	stable := stableTextOf(base, edits, d.lines)
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	d.mu.Unlock()
	defer cancel()

	if s.analyzeHook != nil {
		s.analyzeHook(string(d.uri), version)
	}
	// As many analyses at once as there are cores: more would not finish
	// sooner, and each holds a model until it is stored (and the least
	// recently used ones cooled), so that a change of configuration that
	// re-analyses every open document does not build all their models at
	// once.
	s.analysisSlots <- struct{}{}
	defer func() { <-s.analysisSlots }()
	plan := s.planFor(d)
	engine := plan.engine
	start := time.Now()
	var res *analysis.Result
	switch {
	case plan.config:
		// A .soc2ls.yaml: its problems are published by publishConfig, which
		// also covers configuration files that are not open.
		s.configDocumentAnalysed(d.filename, src)
		res = &analysis.Result{Template: template.Parse(d.filename, src)}
	case plan.ignored:
		// The project configuration ignores the file: no findings, but a
		// model for hover and navigation.
		res = &analysis.Result{Template: template.Parse(d.filename, src)}
	case size > limit:
		// Not a template (CloudFormation accepts 1 MB at most): a data file
		// that happens to be YAML or JSON. Analysing it on every keystroke
		// would only burn CPU; one diagnostic says so.
		s.log.Info("document too large to analyse", zap.String("uri", string(d.uri)), zap.Int64("bytes", size), zap.Int64("limit", limit))
		res = engine.TooLarge(d.filename, size, limit)
	default:
		// Diagnostics need no fix edits, and building them is most of an
		// analysis: a code action builds them (snapshot.withFixes).
		res = analyzeSafely(ctx, s, engine.WithoutFixes(), d.filename, src, prev, region, inPlace)
	}
	// While the text does not parse, the diagnostics are the syntax error
	// and the last good findings, moved by every edit since and dropped
	// where one touched them (movedFindings), when the same configuration
	// found them. A broken result never consumed base: base's findings are
	// intact.
	published, stale := res.Findings, []analysis.Finding(nil)
	if res.Template.HasSyntaxError() && base != nil && baseEngine == engine && !plan.config && !plan.ignored && size <= limit {
		shown := staleBefore
		if base != nil && !base.Template.HasSyntaxError() {
			shown = base.Findings
		}
		stale = movedFindings(shown, edits)
		published = lastGoodFindings(res.Findings, stale)
	}
	// An in-place re-read leaves most of the spans after the edit to move
	// (template.ReparseInPlaceUnsettled): that is done after the
	// publication, under d.mu, before anyone else can read the template
	// (requests and the next analysis wait for d.mu); and, should the
	// encoding panic, before the panic leaves.
	settled := false
	defer func() {
		if !settled {
			d.mu.Lock()
			res.Template.Settle()
			d.mu.Unlock()
		}
	}()
	snap := &snapshot{version: version, gen: gen, result: res, engine: engine, findings: res.Findings, kept: stale}
	pub := d.enc.encode(d.uri, res.Template, published, engine, stable, s.capabilities().diagFields())
	payload := pub.diagnostics()

	d.mu.Lock()
	defer d.mu.Unlock()
	defer func() {
		res.Template.Settle()
		settled = true
		if s.resultHook != nil {
			s.resultHook(res)
		}
	}()
	// Stale or not, res holds the template of src, the text the edits
	// since are relative to.
	d.base, d.baseEngine = res, engine
	d.consuming = false
	if res.ConsumedPrevious {
		// The snapshots of prev have lost their template to res: replace
		// them, stale or not, with this newer one (requests wait for the
		// current version anyway).
		if d.snap != nil && d.snap.result == prev {
			d.snap = snap
		}
		if d.good != nil && d.good.result == prev {
			d.good = snap
		}
	}
	switch {
	case len(res.Template.Problems) == 0:
		d.goodBase, d.sinceGood, d.stale = snap, editRegion{}, nil
	case res.ConsumedPrevious && goodBase != nil && prev == goodBase.result:
		// (A re-read of one entry may find a problem inside it, in place.)
		// goodBase's template is now res's: nothing is left to re-read from.
		d.goodBase, d.sinceGood, d.stale = nil, editRegion{}, stale
	default:
		d.sinceGood, d.stale = sinceGood, stale
	}
	if d.closed || d.gen != gen {
		// A newer version (or configuration) arrived: this result is stale
		// and is never published.
		s.log.Debug("analysis overtaken", zap.String("uri", string(d.uri)), zap.Int32("version", version))
		return
	}
	s.log.Debug("analysed", zap.String("uri", string(d.uri)), zap.Int32("version", version),
		zap.Int("findings", len(res.Findings)), zap.Int("checksKept", res.Reused), zap.Bool("inPlace", res.ConsumedPrevious),
		zap.Int("nodesMovedAhead", res.Template.MovedAhead()), zap.Duration("took", time.Since(start)))
	d.snap = snap
	if !res.Template.HasSyntaxError() {
		d.good = snap
	}
	d.cold = false
	d.hotBytes.Store(max(1, int64(len(src))))
	d.used()
	if !d.samePublished(payload) && !(!d.shown && len(res.Findings) == 0) {
		// Published under d.mu, so that no didChange can slip between the
		// version check above and the notification.
		s.publishEncoded(d.uri, version, pub)
		d.published, d.shown = payload, true
	}
	close(d.ready)
	d.ready = make(chan struct{})
}

// stableTextOf returns what the edits since base leave unchanged, for the
// encoder: the lines before the first edited one, and, with as many lines
// as base's text, the lines after the last edited one, which are base's,
// shifted by the edits' length change. The encoder's last version is
// base's (every analysis encodes its result, then becomes the base; the
// encoder checks the length). lines is the current text's line index;
// d.mu must be held.
func stableTextOf(base *analysis.Result, edits editRegion, lines *template.Lines) stableText {
	if base == nil || !edits.any || edits.whole || base.Template.Lines == nil {
		return stableText{}
	}
	st := stableText{head: lines.LineStart(lines.LineOf(edits.start)), was: len(base.Template.Source)}
	if base.Template.Lines.Count() == lines.Count() {
		if next := lines.LineOf(edits.end) + 1; next < lines.Count() {
			st.tail, st.from, st.delta = true, lines.LineStart(next), edits.delta
		}
	}
	return st
}

// analyzeSafely runs the engine, turning a panic outside the rules (the
// engine recovers those into SOC2-INTERNAL-001 findings, and the server logs
// them through analysis.PanicHook) into the same kind of finding, so that a
// bug costs a diagnostic, not the editor session.
func analyzeSafely(ctx context.Context, s *Server, e *analysis.Engine, filename string, src []byte, base *analysis.Result, edits editRegion, inPlace bool) (res *analysis.Result) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("analysis panicked", zap.String("file", filename), zap.Any("panic", v), zap.ByteString("stack", debug.Stack()))
			t := template.Parse(filename, nil)
			t.Source, t.Lines = src, template.NewLines(src)
			res = &analysis.Result{Template: t, Findings: []analysis.Finding{{
				RuleID:   analysis.InternalErrorRule.ID,
				Severity: analysis.Error,
				Message:  fmt.Sprintf("internal error: soc2ls failed to analyse this document: %v. Please report this bug.", v),
			}}}
			// It may have failed after re-reading base's template in place:
			// that template is not to be trusted any more.
			res.ConsumedPrevious = inPlace
		}
	}()
	return analyzeEdited(ctx, e, filename, src, base, edits, inPlace)
}

// analyzeEdited analyses src, re-reading only the edited region of base's
// text when the edits since base are known; inPlace lets it consume base's
// template. The region is checked against both texts first (a few memcmp,
// against a bug in its bookkeeping costing a wrong model).
func analyzeEdited(ctx context.Context, e *analysis.Engine, filename string, src []byte, base *analysis.Result, edits editRegion, inPlace bool) *analysis.Result {
	if base == nil || edits.whole || base.Template.Filename != filename {
		return analyzeOrStop(e.AnalyzeContext(ctx, filename, src))
	}
	old := base.Template.Source
	if !edits.any {
		if !bytes.Equal(old, src) {
			return analyzeOrStop(e.AnalyzeContext(ctx, filename, src))
		}
		// Only the configuration changed: the template is immutable and
		// is checked again as it is.
		return analyzeOrStop(e.CheckContext(ctx, base.Template))
	}
	start, end, oldEnd := edits.start, edits.end, edits.end-edits.delta
	if start < 0 || start > end || end > len(src) || oldEnd < start || oldEnd > len(old) || len(src)-len(old) != edits.delta ||
		!bytes.Equal(src[:start], old[:start]) || !bytes.Equal(src[end:], old[oldEnd:]) {
		return analyzeOrStop(e.AnalyzeContext(ctx, filename, src)) // the region is out of step with the text: a bug, but not the user's problem
	}
	if inPlace {
		// Unsettled: the findings are final, but most spans after the edit
		// are moved only once they are published (see analyze).
		return analyzeOrStop(e.ReanalyzeInPlaceUnsettled(ctx, base, src, start, oldEnd, end-start))
	}
	return analyzeOrStop(e.ReanalyzeContext(ctx, base, src, start, oldEnd, end-start))
}

// analyzeOrStop keeps the result of an analysis that may have been stopped:
// a stopped one has its template (the next edit is relative to it) and no
// findings, and is dropped as stale by its caller, whose document has moved
// on.
func analyzeOrStop(res *analysis.Result, _ error) *analysis.Result { return res }

// current returns the analysis of the document's current text, waiting for
// it (and cutting the delay short) if it is not there yet. The caller must
// call release when it no longer uses the snapshot: until then, the next
// analysis does not re-read the snapshot's template in place.
func (s *Server) current(ctx context.Context, u protocol.DocumentURI) (d *document, snap *snapshot, release func(), err error) {
	d, ok := s.docs.get(u)
	if !ok {
		return nil, nil, nil, errNotOpen(u)
	}
	for {
		d.mu.Lock()
		if d.closed {
			d.mu.Unlock()
			return nil, nil, nil, errNotOpen(u)
		}
		if d.snap != nil && d.snap.gen == d.gen {
			snap := d.snap
			release := d.pin()
			d.mu.Unlock()
			d.used()
			return d, snap, release, nil
		}
		if d.cold {
			d.sched.warm.Store(true)
		}
		ready := d.ready
		d.mu.Unlock()
		d.sched.kick(true)
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, nil, nil, ctx.Err()
		}
	}
}

// model returns the snapshot to answer from: the current one, or, while the
// current text does not parse, the last one that did (nil if none did).
// cur is always the current snapshot, whose findings (the syntax error)
// match the text the client has. release is current's.
func (s *Server) model(ctx context.Context, u protocol.DocumentURI) (snap, cur *snapshot, release func(), err error) {
	d, cur, release, err := s.current(ctx, u)
	if err != nil {
		return nil, nil, nil, err
	}
	if !cur.tmpl().HasSyntaxError() {
		return cur, cur, release, nil
	}
	// The pin of cur covers d.good too: pins are per document.
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.good, cur, release, nil
}

// close stops the document's scheduler; no result is stored or published
// for it afterwards. It reports whether diagnostics were ever published for
// it (which the caller then clears).
func (d *document) close() (shown bool) {
	d.mu.Lock()
	d.closed = true
	shown = d.shown
	close(d.ready)
	d.ready = make(chan struct{})
	d.mu.Unlock()
	d.sched.stop()
	return shown
}
