package lsp

import (
	"bytes"
	"encoding/binary"
	"sort"
	"strconv"
	"unicode/utf8"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// The diagnostics of a document are published as one publishDiagnostics
// notification, about 540 bytes of JSON per finding: 3 MB for the 5,571
// findings of a 1 MB template. Converting them to protocol diagnostics and
// encoding those with json.Marshal (reflective) on every version cost about
// 10 ms there, and jsonrpc2 then validated and copied them again.
// diagEncoder writes the notification's frame itself, and on each version
// does only what the edit requires:
//
//   - A diagnostic whose finding the engine kept (the same strings and
//     arrays: a tight comparison with the last version's flat record of
//     it, findingSig) and whose offsets lie before the edited lines, or in
//     lines after them that kept their numbers (stableText), has the bytes
//     it had: they are not even copied, the new payload takes them as a
//     slice of the last one (a rope, rope.go).
//   - Any other diagnostic is formatted again, but only its ranges: the rest
//     of its JSON (severity, code, link, message, data, related messages)
//     is kept from the versions before, looked up by the finding's content
//     (diagEntry).
//
// The output is what json.Marshal of toDiagnostic's protocol.Diagnostic
// writes, byte for byte (TestEncodeMatchesMarshal, FuzzDiagnosticEncoding).

// diagEncoder encodes the diagnostics of one document. It belongs to the
// document's scheduler: analyses of a document never overlap, so it needs
// no lock. The zero value is ready to use.
type diagEncoder struct {
	uri     uri.URI
	uriJSON []byte // uri as a JSON string
	engine  *analysis.Engine
	fields  diagFields // the optional fields the entries were written with
	entries map[diagKey]*diagEntry

	// The records of the version encoded last, one per diagnostic, which
	// the next version takes its unchanged diagnostics from and overwrites
	// in place as it goes (the records it displaces before reading them
	// wait in displaced): a flat record of the finding (sig), its entry, and
	// where its JSON lies in the payload (off, two offsets per diagnostic).
	// rel holds the related locations the records refer to, and nextRel
	// the next version's. valid is false while the records are being
	// overwritten (an encoding that panicked leaves them unusable).
	sig       []findingSig
	entry     []*diagEntry
	off       []int
	rel       []analysis.Related
	nextRel   []analysis.Related
	displaced []record
	dhead     int   // the displaced from displaced[dhead] on are kept
	payload   *rope // the last version's
	textLen   int   // the length of its text
	written   int   // the bytes its encoding wrote into the arena
	valid     bool
	epoch     uint64 // counts the versions encoded

	// published is the payload of the version published last
	// (publication.keep): the document compares the next one with it.
	published *rope

	// arena is where new bytes go: arenaC.buf, of which arena is the part
	// written. chunks are the chunks last, published and the arena may
	// reference, and at most one spare that no rope references, which a
	// new arena reuses; stamp numbers the markings of the referenced ones.
	arena  []byte
	arenaC *chunk
	chunks []*chunk
	stamp  uint64
	segs   []segment // the version being encoded, before its new bytes are placed

	scratch []byte // for encoding a new entry

	copied    int // diagnostics the last encode took from the version before (tests)
	compacted int // ropes compacted (tests)
}

// record is a diagnostic's record of the last version, displaced from the
// arrays (diagEncoder.sig, entry, off) by the new version's before being
// read: idx is its index in the last version.
type record struct {
	idx    int
	sig    findingSig
	entry  *diagEntry
	lo, hi int
}

// findingSig is what tells whether a finding is one of the last version's,
// kept by the engine: its strings (a kept finding shares them, and strings
// with the same data compare without being read), the arrays of its
// criteria and fixes, and its spans. Comparing one with a finding reads no
// other memory than the two.
type findingSig struct {
	rule, message, resource string
	controls                *string
	fixes                   *analysis.Fix
	span                    template.Span
	nControls, nFixes       int32
	relAt, nRelated         int32 // its related locations, in diagEncoder.rel
	severity                analysis.Severity
	possible, noControls    bool
}

// sigOf returns f's record, but for where its related locations are.
func sigOf(f *analysis.Finding) findingSig {
	return findingSig{rule: f.RuleID, message: f.Message, resource: f.Resource,
		controls: first(f.Controls), fixes: first(f.Fixes), span: f.Span,
		nControls: int32(len(f.Controls)), nFixes: int32(len(f.Fixes)), nRelated: int32(len(f.Related)),
		severity: f.Severity, possible: f.Possible, noControls: f.Controls == nil}
}

// same reports whether f has the content of the finding s records, sharing
// its arrays of criteria and fixes (which findings never change in place; s
// keeps them alive, so no other finding can have them). False means only
// that the cheap comparison cannot tell.
func (s *findingSig) same(f *analysis.Finding, rel []analysis.Related) bool {
	// The words first: a finding of a fresh analysis has other arrays, and
	// fails before its strings are read.
	if first(f.Controls) != s.controls || first(f.Fixes) != s.fixes || f.Severity != s.severity || f.Possible != s.possible ||
		len(f.Controls) != int(s.nControls) || (f.Controls == nil) != s.noControls ||
		len(f.Fixes) != int(s.nFixes) || len(f.Related) != int(s.nRelated) ||
		f.RuleID != s.rule || f.Message != s.message || f.Resource != s.resource {
		return false
	}
	r := rel[s.relAt : int(s.relAt)+len(f.Related)]
	for k := range f.Related {
		if f.Related[k].Message != r[k].Message {
			return false
		}
	}
	return true
}

// stableText says which parts of the new version's text are the last
// version's, where a diagnostic with the same content and the same offsets
// (moved as the text was) has the same JSON: the text before head (the
// start of the first edited line), at the same offsets; and, when tail is
// set, the text from offset from on (the line after the last edited one),
// which is the last version's from from-delta on, on the same line
// numbers (the edits kept the line count). was is the length of the text
// the edits apply to, which must be the encoder's last version's. The
// scheduler knows all this from the edited region; the zero value says that
// nothing is known.
type stableText struct {
	head        int
	tail        bool
	from, delta int
	was         int
}

// keeps reports whether span, which was was in the last version, has the
// same positions, for the offsets a diagnostic's range is made of (its
// start, and its end when that is not before the start).
func (st *stableText) keeps(span, was template.Span) bool {
	if span == was && span.Start >= 0 && max(span.Start, span.End) < st.head {
		return true
	}
	return st.tail && span.Start >= st.from && span.Start-st.delta == was.Start && span.End-st.delta == was.End
}

// before returns the offset the last version's text had where the new one
// has off, if the text there is unchanged.
func (st *stableText) before(off int) (int, bool) {
	switch {
	case st.tail && off >= st.from:
		return off - st.delta, true
	case off >= 0 && off < st.head:
		return off, true
	}
	return 0, false
}

// placed reports whether f, which has the content of the last version's
// finding s, has its positions too, related locations included.
func (st *stableText) placed(f *analysis.Finding, s *findingSig, rel []analysis.Related) bool {
	if !st.keeps(f.Span, s.span) {
		return false
	}
	r := rel[s.relAt : int(s.relAt)+len(f.Related)]
	for k := range f.Related {
		if !st.keeps(f.Related[k].Span, r[k].Span) {
			return false
		}
	}
	return true
}

// diagKey is the part of a finding's content a lookup hashes.
type diagKey struct {
	rule, message, resource string
	severity                analysis.Severity
	possible                bool
}

// diagEntry is the JSON of one finding's diagnostic without its ranges.
// Findings are values, and an incremental analysis hands back the same
// findings, with shifted spans, for the resources an edit did not touch; an
// entry matches any finding with the same content (key, criteria, fix titles
// and related messages), whatever its spans, so that reuse across versions
// is correct without knowing which findings were reused.
type diagEntry struct {
	key      diagKey
	controls []string // nil or not as the finding's: the data field depends on it
	fixes    []string // the fixes' titles
	related  []string // the related locations' messages
	// text is the diagnostic's JSON after its range, with the range of
	// related location i left out at cuts[i]: the range goes between
	// text[:cuts[0]] and text[cuts[0]:cuts[1]], and so on.
	text []byte
	cuts []int

	// used is the epoch of the last version that used the entry, as the
	// sweep marks it; idx is the entry's index in the last version that
	// looked it up (a hint to resynchronise with that version, checked).
	used uint64
	idx  int
	next *diagEntry // another entry with the same key

	// The arrays of the criteria and fixes of the finding the entry was
	// made from: a finding kept by an incremental analysis shares them, and
	// then matches without comparing them element by element. (The entry
	// keeps them alive, so no other finding can have them.)
	controlsData *string
	fixesData    *analysis.Fix
}

// publication is one version's publishDiagnostics notification: its
// diagnostics array, to which frame adds the header and the envelope when
// the version is published.
type publication struct {
	enc     *diagEncoder
	payload *rope
}

// diagnostics returns the JSON array of the diagnostics. It never changes.
func (p publication) diagnostics() *rope { return p.payload }

const (
	publishPrefix  = `{"jsonrpc":"2.0","method":"` + protocol.MethodTextDocumentPublishDiagnostics + `","params":{"uri":`
	versionField   = `,"version":`
	diagnosticsKey = `,"diagnostics":`
	contentLength  = "Content-Length: "
	publishSuffix  = "}}"
)

// frame returns the message publishing the diagnostics for version, as the
// parts to write in order: the Content-Length header with the start of a
// JSON-RPC notification whose params are {"uri", "version", "diagnostics"},
// as json.Marshal of publishDiagnosticsParams writes them, then the pieces
// of the diagnostics array, then the closing braces. Nothing is copied but
// the header.
func (p publication) frame(version int32) [][]byte {
	env := make([]byte, 0, len(publishPrefix)+len(p.enc.uriJSON)+len(versionField)+11+len(diagnosticsKey))
	env = append(env, publishPrefix...)
	env = append(env, p.enc.uriJSON...)
	env = append(env, versionField...)
	env = strconv.AppendInt(env, int64(version), 10)
	env = append(env, diagnosticsKey...)
	body := len(env) + p.payload.size + len(publishSuffix)
	head := make([]byte, 0, len(contentLength)+24+len(env))
	head = append(head, contentLength...)
	head = strconv.AppendInt(head, int64(body), 10)
	head = append(head, "\r\n\r\n"...)
	head = append(head, env...)
	parts := make([][]byte, 0, len(p.payload.pieces)+2)
	parts = append(parts, head)
	for _, pc := range p.payload.pieces {
		parts = append(parts, pc.b)
	}
	return append(parts, []byte(publishSuffix))
}

// keep records that the version was published: the next one is compared
// with it, so no chunk it references is written again.
func (p publication) keep() { p.enc.published = p.payload }

const (
	// editRoom is the arena kept for the edits of a large document: what a
	// few hundred keystrokes write.
	editRoom = 256 << 10
	// maxPieces bounds a payload's pieces (each edit at another place
	// splits one in three): beyond, it is copied into one chunk, which
	// costs a copy of the payload once in that many edits.
	maxPieces = 256
)

// room returns the arena kept for the next edits of a payload of size
// bytes: a quarter of it, up to editRoom, so that a small document's encoder
// stays small.
func room(size int) int { return min(editRoom, 4<<10+size/4) }

// segment is a stretch of the payload being encoded: bytes [lo, hi) of the
// last version's payload (old), or of the arena.
type segment struct {
	old    bool
	lo, hi int
}

// encode encodes the diagnostics of findings (in their order) on t's text,
// for the document u, with the rules (documentation links) of e and the
// optional fields the client reads. st says which text the edits since the
// last version encoded left unchanged.
func (enc *diagEncoder) encode(u uri.URI, t *template.Template, findings []analysis.Finding, e *analysis.Engine, st stableText, fields diagFields) publication {
	if enc.entries == nil || enc.engine != e || enc.uri != u || enc.fields != fields {
		// Entries hold the engine's documentation links, the document's
		// URI (in related locations) and the fields the client reads:
		// another engine, document or client starts over.
		enc.entries = make(map[diagKey]*diagEntry, len(findings))
		enc.engine, enc.uri, enc.fields = e, u, fields
		enc.uriJSON = appendJSONString(nil, string(u))
		enc.valid = false
	}
	if !enc.valid {
		clear(enc.entry)
		enc.sig, enc.entry, enc.off, enc.rel, enc.payload = enc.sig[:0], enc.entry[:0], enc.off[:0], enc.rel[:0], nil
	}
	if enc.payload == nil || st.was != enc.textLen {
		st = stableText{} // the edits are not relative to the last version
	}
	enc.epoch++
	enc.reserve(enc.estimate(len(findings), st))
	written := len(enc.arena)
	enc.valid = false

	old := len(enc.sig) // the last version's records, overwritten from the start
	enc.nextRel = enc.nextRel[:0]
	enc.segs = enc.segs[:0]
	size := 0 // of the payload so far
	conv := newPosConv(t)
	spans, ends, rel := conv, conv, conv // cursors: findings come sorted by start, not by end
	shift := 0                           // where the last version had the finding before this one, relative to it
	read := -1                           // the last record of the last version taken
	runs := true                         // whether a run of kept findings may start here
	enc.copied = 0
	for i := 0; i < len(findings); i++ {
		if runs && shift == 0 && i < old {
			// The common case first, in a tight loop: findings the engine
			// kept, in their place and with their bytes.
			if k, n := enc.keptRun(findings, i, old, &st, size); k > i {
				size, read, i = n, k-1, k-1
				continue
			}
		}
		f := &findings[i]
		// The finding's record in the last version: records from i on are
		// still in the arrays, those before it were displaced.
		idx, lo, hi := -1, 0, 0
		var de *diagEntry
		var s *findingSig
		identical := false
		if j := i + shift; j >= i && j < old {
			s = &enc.sig[j]
			if identical = s.same(f, enc.rel); identical || enc.entry[j].matches(f) {
				idx, de, lo, hi = j, enc.entry[j], enc.off[2*j], enc.off[2*j+1]
			} else {
				s = nil
			}
		} else if r := enc.displacedAt(j); r != nil && (r.sig.same(f, enc.rel) || r.entry.matches(f)) {
			idx, de, lo, hi, s = r.idx, r.entry, r.lo, r.hi, &r.sig
		}
		if s == nil {
			// Resynchronised after the findings the edit changed, by the
			// finding's position, else by its entry's last index.
			if j := enc.find(f, st, i, old); j >= 0 {
				shift = j - i
				idx, de, lo, hi, s = j, enc.entry[j], enc.off[2*j], enc.off[2*j+1], &enc.sig[j]
			} else if r := enc.findDisplaced(f, st); r != nil {
				shift = r.idx - i
				idx, de, lo, hi, s = r.idx, r.entry, r.lo, r.hi, &r.sig
			} else if de = enc.lookup(f); de != nil {
				if k := de.idx; k >= i && k < old && enc.entry[k] == de {
					shift = k - i
					idx, lo, hi, s = k, enc.off[2*k], enc.off[2*k+1], &enc.sig[k]
				} else if r := enc.displacedAt(k); r != nil && r.entry == de {
					shift = k - i
					idx, lo, hi, s = k, r.lo, r.hi, &r.sig
				}
				de.idx = i
			} else {
				de = enc.add(f)
				de.idx = i
			}
		}
		read = max(read, idx)

		// The payload: the last version's bytes when the finding has its
		// content and positions, else its JSON formatted. A finding that
		// has to be formatted is often followed by more (the lines after
		// an added one, a fresh analysis): no run is tried until one has
		// its bytes again.
		placed := s != nil && st.placed(f, s, enc.rel)
		runs = placed
		if placed {
			// With the separator before them when it is this one's.
			if (idx == 0) == (i == 0) {
				size = enc.addOld(size, lo-1, hi)
			} else {
				size = enc.addNew(size, append(enc.arena, sep(i)))
				size = enc.addOld(size, lo, hi)
			}
			lo, hi = size-(hi-lo), size
			enc.copied++
		} else {
			at := len(enc.arena)
			buf := append(enc.arena, sep(i), '{')
			buf = append(buf, `"range":`...)
			buf = appendRange(buf, spans.position(f.Span.Start), ends.position(max(f.Span.End, f.Span.Start)))
			off := 0
			for r := range f.Related {
				buf = append(buf, de.text[off:de.cuts[r]]...)
				off = de.cuts[r]
				s := f.Related[r].Span
				buf = appendRange(buf, rel.position(s.Start), rel.position(max(s.End, s.Start)))
			}
			buf = append(buf, de.text[off:]...)
			lo = size + 1
			size = enc.addNew(size, buf)
			hi = lo + len(buf) - at - 1
		}

		// The new record goes where record i of the last version was, which
		// waits among the displaced if it has not been read yet.
		if i >= old {
			enc.sig = append(enc.sig, findingSig{})
			enc.entry = append(enc.entry, nil)
			enc.off = append(enc.off, 0, 0)
		} else if i > read {
			enc.displace(i, read)
		}
		if ns := &enc.sig[i]; identical && idx == i {
			// A kept finding in its place: only its spans may have moved.
			// (Written only when they did: the record stays clean in the
			// cache.)
			if ns.span != f.Span {
				ns.span = f.Span
			}
		} else {
			*ns = sigOf(f)
		}
		if len(f.Related) > 0 {
			enc.sig[i].relAt = int32(len(enc.nextRel))
			enc.nextRel = append(enc.nextRel, f.Related...)
		}
		if enc.entry[i] != de {
			enc.entry[i] = de
		}
		if o := enc.off[2*i : 2*i+2]; o[0] != lo || o[1] != hi {
			o[0], o[1] = lo, hi
		}
	}
	switch n := len(enc.segs); {
	case len(findings) == 0:
		size = enc.addNew(size, append(enc.arena, '[', ']'))
	case enc.segs[n-1].old && enc.segs[n-1].hi == enc.payload.size-1:
		size = enc.addOld(size, enc.payload.size-1, enc.payload.size) // the last version's closing bracket follows
	default:
		size = enc.addNew(size, append(enc.arena, ']'))
	}
	n := len(findings)
	clear(enc.entry[n:]) // the entries are referenced by the map and these records only
	enc.sig, enc.entry, enc.off = enc.sig[:n], enc.entry[:n], enc.off[:2*n]
	clear(enc.displaced)
	enc.displaced, enc.dhead = enc.displaced[:0], 0
	enc.rel, enc.nextRel = enc.nextRel, enc.rel

	// The arena may have grown into a new array: the new bytes are in that
	// one, the older pieces keep the old.
	if cap(enc.arena) != cap(enc.arenaC.buf) {
		enc.arenaC = &chunk{buf: enc.arena[:cap(enc.arena)]}
		enc.chunks = append(enc.chunks, enc.arenaC)
	}
	r := &rope{pieces: make([]piece, 0, len(enc.segs)+4), at: make([]int, 0, len(enc.segs)+4)}
	for _, s := range enc.segs {
		if s.old {
			r.addRange(enc.payload, s.lo, s.hi)
		} else {
			r.add(enc.arenaC, s.lo, s.hi)
		}
	}
	enc.written = len(enc.arena) - written
	if len(r.pieces) > maxPieces || enc.live(r) > 2*(r.size+room(r.size)) {
		r = enc.compact(r)
	}
	enc.payload, enc.textLen, enc.valid = r, len(t.Source), true
	enc.prune()
	enc.sweep()
	return publication{enc: enc, payload: r}
}

// keptRun takes the findings from i on that the engine kept in their place,
// as the records of the last version from i on tell (shift 0), with their
// bytes, into the payload being encoded, of size bytes so far, and updates
// their records. It returns the end of the run and the new size.
func (enc *diagEncoder) keptRun(findings []analysis.Finding, i, old int, st *stableText, size int) (int, int) {
	k, end := i, min(len(findings), old)
	for ; k < end; k++ {
		f, s := &findings[k], &enc.sig[k]
		if !s.same(f, enc.rel) || !st.placed(f, s, enc.rel) {
			break
		}
		if s.span != f.Span {
			s.span = f.Span // written only when it moved: the record stays clean in the cache
		}
		if len(f.Related) > 0 {
			s.relAt = int32(len(enc.nextRel))
			enc.nextRel = append(enc.nextRel, f.Related...)
		}
	}
	if k == i {
		return i, size
	}
	// Their bytes follow each other, the separator before the first
	// included (the bracket for the first diagnostic): one stretch of the
	// last payload, which moves by d.
	lo, hi := enc.off[2*i]-1, enc.off[2*k-1]
	if d := size - lo; d != 0 {
		for m := 2 * i; m < 2*k; m++ {
			enc.off[m] += d
		}
	}
	enc.copied += k - i
	return k, enc.addOld(size, lo, hi)
}

// sep is the byte before diagnostic i in the array.
func sep(i int) byte {
	if i == 0 {
		return '['
	}
	return ','
}

// estimate returns about the bytes the next version writes into the arena:
// everything the first time; after an edit, what follows the edited line,
// unless the lines after it keep their numbers: then about what the last
// edit wrote.
func (enc *diagEncoder) estimate(findings int, st stableText) int {
	if enc.payload == nil {
		return 256 + 600*findings
	}
	j := sort.Search(len(enc.sig), func(k int) bool { return enc.sig[k].span.Start >= st.head })
	from := enc.payload.size
	if j < len(enc.sig) {
		from = enc.off[2*j]
	}
	need := 256 + enc.payload.size - from
	need += need / 8 // a version a little larger than the last must not outgrow the arena, and copy it
	if st.tail {
		need = min(need, max(room(enc.payload.size), enc.written+enc.written/4))
	}
	return need
}

// addOld appends the bytes [lo, hi) of the last version's payload to the
// one being encoded, of size bytes so far; it returns the new size.
func (enc *diagEncoder) addOld(size, lo, hi int) int {
	if n := len(enc.segs); n > 0 && enc.segs[n-1].old && enc.segs[n-1].hi == lo {
		enc.segs[n-1].hi = hi
	} else {
		enc.segs = append(enc.segs, segment{old: true, lo: lo, hi: hi})
	}
	return size + hi - lo
}

// addNew makes buf, the arena with bytes appended, the arena, and appends
// those bytes to the payload being encoded, of size bytes so far; it
// returns the new size.
func (enc *diagEncoder) addNew(size int, buf []byte) int {
	lo, hi := len(enc.arena), len(buf)
	enc.arena = buf
	if n := len(enc.segs); n > 0 && !enc.segs[n-1].old && enc.segs[n-1].hi == lo {
		enc.segs[n-1].hi = hi
	} else {
		enc.segs = append(enc.segs, segment{lo: lo, hi: hi})
	}
	return size + hi - lo
}

// displace keeps record i of the last version, about to be overwritten
// before it was read, among the displaced ones, and forgets those that can
// no longer be read in order (up to read, the last one read). The
// displaced are in the order of their indices, and consecutive: a record is
// displaced when the version being encoded has read none after it, and from
// then on each one is until one after them is read, which makes the ones
// before useless.
func (enc *diagEncoder) displace(i, read int) {
	d := enc.displaced
	if n := len(d); n > enc.dhead && d[n-1].idx != i-1 {
		clear(d)
		d, enc.dhead = d[:0], 0
	}
	for enc.dhead < len(d) && d[enc.dhead].idx <= read {
		d[enc.dhead] = record{}
		enc.dhead++
	}
	if enc.dhead > 32 && enc.dhead > len(d)/2 {
		// Moved down now and then, so that a long run of findings after an
		// added one, each displacing one record and reading another, keeps
		// the queue short.
		n := copy(d, d[enc.dhead:])
		clear(d[n:])
		d, enc.dhead = d[:n], 0
	}
	enc.displaced = append(d, record{idx: i, sig: enc.sig[i], entry: enc.entry[i], lo: enc.off[2*i], hi: enc.off[2*i+1]})
}

// findDisplaced is find among the displaced records: after findings were
// added.
func (enc *diagEncoder) findDisplaced(f *analysis.Finding, st stableText) *record {
	start, ok := st.before(f.Span.Start)
	if !ok {
		return nil
	}
	d := enc.displaced[enc.dhead:]
	for k := range d[:min(len(d), 16)] {
		if r := &d[k]; r.sig.span.Start == start && r.sig.same(f, enc.rel) {
			return r
		}
	}
	return nil
}

// displacedAt returns the last version's record j if it waits among the
// displaced ones, else nil.
func (enc *diagEncoder) displacedAt(j int) *record {
	d := enc.displaced[enc.dhead:]
	if len(d) == 0 || j < d[0].idx {
		return nil
	}
	if k := j - d[0].idx; k < len(d) && d[k].idx == j {
		return &d[k]
	}
	return nil
}

// find returns the index of the last version's record of the finding that
// f is, looked up where the edit moved its start among the records not yet
// overwritten (from i to old), or -1: for a finding before the edit or in
// the stable tail, after findings were removed.
func (enc *diagEncoder) find(f *analysis.Finding, st stableText, i, old int) int {
	start, ok := st.before(f.Span.Start)
	if !ok || i >= old {
		return -1
	}
	sig := enc.sig[i:old]
	j := sort.Search(len(sig), func(k int) bool { return sig[k].span.Start >= start })
	for end := min(j+16, len(sig)); j < end && sig[j].span.Start == start; j++ {
		if sig[j].same(f, enc.rel) {
			return i + j
		}
	}
	return -1
}

// reserve makes room for need bytes in the arena: the rest of the current
// one, else a chunk no rope references any more, else a new one.
func (enc *diagEncoder) reserve(need int) {
	if enc.arenaC != nil && cap(enc.arena)-len(enc.arena) >= need {
		return
	}
	stamp := enc.markLive()
	for _, c := range enc.chunks {
		if c.mark != stamp && cap(c.buf) >= need {
			enc.arena, enc.arenaC = c.buf[:0], c
			return
		}
	}
	c := &chunk{buf: make([]byte, need)}
	enc.chunks = append(enc.chunks, c)
	enc.arena, enc.arenaC = c.buf[:0], c
}

// markLive marks the chunks the last version's payload and the published
// one reference, and returns the mark.
func (enc *diagEncoder) markLive() uint64 {
	enc.stamp++
	for _, r := range [2]*rope{enc.payload, enc.published} {
		if r != nil {
			for k := range r.pieces {
				r.pieces[k].c.mark = enc.stamp
			}
		}
	}
	return enc.stamp
}

// live returns the bytes of the chunks r references: what keeping it
// keeps in memory.
func (enc *diagEncoder) live(r *rope) int {
	enc.stamp++
	n := 0
	for _, p := range r.pieces {
		if p.c.mark != enc.stamp {
			p.c.mark = enc.stamp
			n += cap(p.c.buf)
		}
	}
	return n
}

// compact copies r into one new chunk, whose rest becomes the arena: when
// it has too many pieces, or keeps too much memory alive that it no longer
// uses.
func (enc *diagEncoder) compact(r *rope) *rope {
	buf := make([]byte, 0, r.size+room(r.size))
	for _, p := range r.pieces {
		buf = append(buf, p.b...)
	}
	c := &chunk{buf: buf[:cap(buf)]}
	enc.chunks = append(enc.chunks, c)
	enc.arena, enc.arenaC = buf, c
	out := &rope{}
	out.add(c, 0, len(buf))
	enc.compacted++
	return out
}

// prune forgets the chunks that no rope the encoder keeps references, but
// one, which the next arena may reuse.
func (enc *diagEncoder) prune() {
	stamp := enc.markLive()
	enc.arenaC.mark = stamp
	kept, spare := enc.chunks[:0], false
	for _, c := range enc.chunks {
		if c.mark == stamp || !spare {
			spare = spare || c.mark != stamp
			kept = append(kept, c)
		}
	}
	clear(enc.chunks[len(kept):])
	enc.chunks = kept
}

// lookup returns the entry matching f's content, or nil.
func (enc *diagEncoder) lookup(f *analysis.Finding) *diagEntry {
	for de := enc.entries[keyOf(f)]; de != nil; de = de.next {
		if de.matches(f) {
			return de
		}
	}
	return nil
}

// sweep drops the entries the last version does not use, when they
// outnumber the ones it uses twice: findings that come and go while the
// user types (a value typed and deleted again) keep theirs.
func (enc *diagEncoder) sweep() {
	live := enc.entry
	if len(enc.entries) <= 2*len(live)+64 {
		return
	}
	for _, de := range live {
		de.used = enc.epoch
	}
	for k, de := range enc.entries {
		var head, tail *diagEntry
		for de != nil {
			next := de.next
			if de.used == enc.epoch {
				de.next = nil
				if tail == nil {
					head = de
				} else {
					tail.next = de
				}
				tail = de
			}
			de = next
		}
		if head == nil {
			delete(enc.entries, k)
		} else {
			enc.entries[k] = head
		}
	}
}

func keyOf(f *analysis.Finding) diagKey {
	return diagKey{rule: f.RuleID, message: f.Message, resource: f.Resource, severity: f.Severity, possible: f.Possible}
}

// matches reports whether de is the entry of f's content. Strings that an
// incremental analysis reused are compared by their pointers first.
func (de *diagEntry) matches(f *analysis.Finding) bool {
	if de.key != keyOf(f) || len(de.controls) != len(f.Controls) || (de.controls == nil) != (f.Controls == nil) ||
		len(de.fixes) != len(f.Fixes) || len(de.related) != len(f.Related) {
		return false
	}
	if first(f.Controls) != de.controlsData {
		for i, c := range f.Controls {
			if de.controls[i] != c {
				return false
			}
		}
	}
	if first(f.Fixes) != de.fixesData {
		for i := range f.Fixes {
			if de.fixes[i] != f.Fixes[i].Title {
				return false
			}
		}
	}
	for i := range f.Related {
		if de.related[i] != f.Related[i].Message {
			return false
		}
	}
	return true
}

// add encodes f's diagnostic without its ranges and stores it.
func (enc *diagEncoder) add(f *analysis.Finding) *diagEntry {
	de := &diagEntry{key: keyOf(f), controlsData: first(f.Controls), fixesData: first(f.Fixes)}
	if f.Controls != nil {
		de.controls = append(make([]string, 0, len(f.Controls)), f.Controls...)
	}
	if len(f.Fixes) > 0 {
		de.fixes = make([]string, len(f.Fixes))
		for i, fx := range f.Fixes {
			de.fixes[i] = fx.Title
		}
	}
	if len(f.Related) > 0 {
		de.related = make([]string, len(f.Related))
		de.cuts = make([]int, len(f.Related))
		for i, r := range f.Related {
			de.related[i] = r.Message
		}
	}
	// Encoded into scratch, then copied to a slice of its size: the entries
	// stay for the next versions, about as many bytes as the payload.
	enc.scratch = appendDiagnosticRest(enc.scratch[:0], de, enc.engine, enc.uriJSON, enc.fields)
	de.text = bytes.Clone(enc.scratch)
	k := de.key
	de.next = enc.entries[k]
	enc.entries[k] = de
	return de
}

// appendDiagnosticRest appends the JSON of de's diagnostic after its range,
// as json.Marshal writes toDiagnostic's result (the fields in
// protocol.Diagnostic's order, empty ones omitted as its tags say), and
// records in de.cuts where the related ranges go. fields are the optional
// fields written.
func appendDiagnosticRest(b []byte, de *diagEntry, e *analysis.Engine, uriJSON []byte, fields diagFields) []byte {
	b = append(b, `,"severity":`...)
	b = strconv.AppendInt(b, int64(toSeverity(de.key.severity)), 10) // a float64 of 1 to 4: json writes it as an integer
	b = append(b, `,"code":`...)
	b = appendJSONString(b, de.key.rule)
	if r, ok := e.Rule(de.key.rule); ok && fields.codeDescription {
		b = append(b, `,"codeDescription":{"href":`...)
		b = appendJSONString(b, r.DocURL())
		b = append(b, '}')
	}
	b = append(b, `,"source":`...)
	b = appendJSONString(b, diagnosticSource)
	b = append(b, `,"message":`...)
	b = appendMessage(b, de.key.message, de.controls)
	if len(de.related) > 0 {
		b = append(b, `,"relatedInformation":[`...)
		for i, m := range de.related {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"location":{"uri":`...)
			b = append(b, uriJSON...)
			b = append(b, `,"range":`...)
			de.cuts[i] = len(b)
			b = append(b, `},"message":`...)
			b = appendJSONString(b, m)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if fields.data && (de.controls != nil || de.key.resource != "" || de.key.possible || de.fixes != nil) {
		b = append(b, `,"data":`...)
		sep := byte('{') // before each field: the object's brace, then commas
		if len(de.controls) > 0 {
			b = append(append(b, sep), `"criteria":`...)
			b = appendJSONStrings(b, de.controls)
			sep = ','
		}
		if de.key.resource != "" {
			b = append(append(b, sep), `"resource":`...)
			b = appendJSONString(b, de.key.resource)
			sep = ','
		}
		if de.key.possible {
			b = append(append(b, sep), `"possible":true`...)
			sep = ','
		}
		if len(de.fixes) > 0 {
			b = append(append(b, sep), `"fixes":`...)
			b = appendJSONStrings(b, de.fixes)
			sep = ','
		}
		if sep == '{' {
			b = append(b, '{') // data with no field set: {}
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendMessage appends the message toDiagnostic writes: the finding's, with
// its criteria in parentheses. The parts are escaped one by one: the
// separators are ASCII, which never completes or continues a UTF-8 sequence,
// so this is the escaping of the concatenation.
func appendMessage(b []byte, msg string, controls []string) []byte {
	b = append(b, '"')
	b = appendJSONChars(b, msg)
	if len(controls) > 0 {
		b = append(b, " ("...)
		for i, c := range controls {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendJSONChars(b, c)
		}
		b = append(b, ')')
	}
	return append(b, '"')
}

// appendJSONStrings appends a JSON array of strings.
func appendJSONStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// appendRange appends an LSP range as json.Marshal writes protocol.Range.
func appendRange(b []byte, start, end protocol.Position) []byte {
	b = append(b, `{"start":{"line":`...)
	b = strconv.AppendUint(b, uint64(start.Line), 10)
	b = append(b, `,"character":`...)
	b = strconv.AppendUint(b, uint64(start.Character), 10)
	b = append(b, `},"end":{"line":`...)
	b = strconv.AppendUint(b, uint64(end.Line), 10)
	b = append(b, `,"character":`...)
	b = strconv.AppendUint(b, uint64(end.Character), 10)
	return append(b, `}}`...)
}

// jsonSafe marks the ASCII bytes json.Marshal writes as they are: printable,
// and neither a quote, a backslash, nor one of the HTML characters <, >, &,
// which it escapes by default.
var jsonSafe = func() (safe [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		safe[b] = b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	return safe
}()

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaped as json.Marshal
// escapes it (encoding/json's appendString with HTML escaping): \" \\ \b \f
// \n \r \t, other control characters and <, >, & as \u00XX, U+2028 and
// U+2029 as \u2028 and \u2029, and each byte of invalid UTF-8 as \ufffd.
// Payloads are compared byte for byte, and tests compare them with
// json.Marshal's.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendJSONChars(b, s)
	return append(b, '"')
}

// appendJSONChars appends s escaped as in a JSON string, without the quotes.
func appendJSONChars(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}

// posConv converts byte offsets to LSP positions exactly as toPosition does,
// faster for an offset at or a little after the one before (a diagnostic's
// start after the one before, its end after its start): the line is found by
// a search from the last one, and on an ASCII line the column is a
// subtraction instead of a decoding of the line. Anything else (non-ASCII
// text before the offset on its line, a byte-order mark among it; an offset
// in a line break) is toPosition's.
type posConv struct {
	l     *template.Lines
	src   []byte // the text l indexes; nil when that cannot be told
	lines int
	line  int // the cursor: the line of the last offset converted

	last    int // the last offset converted, and its position
	lastPos protocol.Position
}

func newPosConv(t *template.Template) posConv {
	c := posConv{l: t.Lines, lines: t.Lines.Count(), last: -1}
	// Lines keeps its text to itself; a template's Lines indexes its Source,
	// which the lengths confirm.
	if c.l.LineStart(c.lines) == len(t.Source) {
		c.src = t.Source
	}
	return c
}

// position is toPosition(c.l, off).
func (c *posConv) position(off int) protocol.Position {
	if off == c.last {
		return c.lastPos // the diagnostics of one node
	}
	if c.src == nil || off < 0 || off > len(c.src) {
		return toPosition(c.l, off)
	}
	l := c.l
	line := c.lineOf(off)
	start, next := l.LineStart(line), len(c.src)
	if line+1 < c.lines {
		next = l.LineStart(line + 1)
	}
	// The line's end is at most two bytes (CRLF) before the next line:
	// before that, off is not in the line break, and the text there need
	// not be read.
	if off >= next-2 && off > l.LineEnd(line) {
		return toPosition(l, off)
	}
	if !ascii(c.src[start:off]) {
		return toPosition(l, off)
	}
	p := protocol.Position{Line: uint32(line), Character: uint32(off - start)}
	c.last, c.lastPos = off, p
	return p
}

// lineOf returns the line containing off (as Lines.LineOf, for 0 <= off <=
// len(src)), searching from the cursor, which it moves there: a step or two
// for the next diagnostic, a few doublings and a bisection for the far end of
// a resource.
func (c *posConv) lineOf(off int) int {
	l := c.l
	lo, hi := c.line, c.line+1 // LineStart(lo) <= off < LineStart(hi), once found
	if l.LineStart(lo) <= off {
		for step := 1; hi < c.lines && l.LineStart(hi) <= off; step *= 2 {
			lo, hi = hi, hi+step
		}
		hi = min(hi, c.lines)
	} else {
		hi = lo
		for step := 1; ; step *= 2 {
			lo = max(hi-step, 0)
			if l.LineStart(lo) <= off {
				break
			}
			hi = lo
		}
	}
	for hi-lo > 1 {
		m := int(uint(lo+hi) >> 1)
		if l.LineStart(m) <= off {
			lo = m
		} else {
			hi = m
		}
	}
	c.line = lo
	return lo
}

// ascii reports whether b is all ASCII, eight bytes at a time.
func ascii(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b)&0x8080808080808080 != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// first returns the address of a slice's first element, which tells two
// slices of the same length apart from one and the same array; nil for an
// empty slice.
func first[T any](s []T) *T {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}
