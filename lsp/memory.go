package lsp

import (
	"sort"
	"sync/atomic"

	"go.uber.org/zap"
)

// Keeping the memory of many open documents bounded. A document's model
// (its template, findings and what the incremental analysis keeps) costs
// about 35 times its text; an editor session often has many templates open
// and edits one or two. The documents used most recently keep their models
// while their texts add up to Server.hotBudget (defaultHotBudget); the
// others are cooled: their
// scheduler drops the model and keeps only the text and the diagnostics
// last published, and the next request or edit analyses the document again
// from scratch (tens of milliseconds for a large template, once).
const defaultHotBudget = 2 << 20

// useClock orders the uses of documents (analysed, or asked about).
var useClock atomic.Int64

// used records that the document was just analysed or asked about.
func (d *document) used() { d.lastUse.Store(useClock.Add(1)) }

// coolIdle cools the hot documents beyond the budget, least recently used
// first; the most recently used one always stays hot.
func (s *Server) coolIdle() {
	type hotDoc struct {
		d    *document
		use  int64
		size int64
	}
	var hot []hotDoc
	for _, d := range s.docs.all() {
		if size := d.hotBytes.Load(); size > 0 {
			hot = append(hot, hotDoc{d, d.lastUse.Load(), size})
		}
	}
	sort.Slice(hot, func(i, j int) bool { return hot[i].use > hot[j].use })
	total := int64(0)
	for i, h := range hot {
		total += h.size
		if i > 0 && total > s.hotBudget {
			h.d.sched.cool()
		}
	}
}

// cool asks the scheduler to drop the document's model.
func (sc *scheduler) cool() {
	sc.cooling.Store(true)
	sc.kick(false)
}

// coolDown drops the model of a document whose analysis is current; a
// document with a change pending is analysed instead, and cooled later if
// still idle. It runs on the scheduler's goroutine, the only user of the
// encoder.
func (sc *scheduler) coolDown() {
	d := sc.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || d.snap == nil || d.snap.gen != d.gen {
		return
	}
	d.snap, d.good, d.base, d.baseEngine, d.goodBase, d.sinceGood, d.stale = nil, nil, nil, nil, nil, editRegion{}, nil
	d.cold = true
	d.hotBytes.Store(0)
	// The published payload lives in one of the encoder's buffers: keep its
	// digest, to tell whether the next analysis changes anything, and let
	// the buffers go with the encoder.
	if d.published != nil {
		d.publishedSum = d.published.sum()
		d.published = nil
	}
	d.enc = diagEncoder{}
	sc.s.log.Debug("document cooled: its model was dropped to bound memory", zap.String("uri", string(d.uri)))
	if sc.s.coolHook != nil {
		sc.s.coolHook(string(d.uri))
	}
}

// samePublished reports whether payload is what was last published. d.mu
// must be held.
func (d *document) samePublished(payload *rope) bool {
	switch {
	case d.published != nil:
		return payload.equal(d.published)
	case d.shown:
		return payload.sum() == d.publishedSum
	}
	return false
}
