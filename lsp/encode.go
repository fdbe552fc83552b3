package lsp

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"unicode/utf8"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// The diagnostics of a document are published as one publishDiagnostics
// notification, about 270 bytes of JSON per finding: 1.5 MB for the 5,571
// findings of a 1 MB template. Converting them to protocol diagnostics and
// encoding those with json.Marshal (reflective) on every version cost about
// 10 ms there, and jsonrpc2 then validated and copied them again. diagEncoder writes the notification's frame itself, in
// one buffer, and re-encodes on each version only what moves when the text is
// edited: the ranges. The rest of each diagnostic's JSON (severity, code,
// link, message, data, related messages) is kept from the versions before,
// looked up by the finding's content.
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
	entries map[diagKey]*diagEntry
	// prev are the entries of the last version, in its order, and cur the
	// slice the next version fills (the two are swapped after each).
	prev, cur []*diagEntry
	epoch     uint64 // counts the versions encoded

	// bufs are the two buffers frames are written into. The published
	// payload (document.published, compared with the next version's) lives in
	// one of them, pinned, which is never written until the other has been
	// published.
	bufs   [2][]byte
	pinned int // 1 + the index of the pinned buffer; 0 before any publication

	scratch []byte // for encoding a new entry

	// last describes the version encoded last, so that the next can copy
	// the diagnostics that did not change: where each one's JSON lies in
	// its array (off, two per diagnostic), its span and related spans
	// (spans, from spanAt[i]), and whether that array was published and so
	// is the pinned one (kept), which the next version may read while it
	// writes the other buffer. next is filled by the version being encoded.
	last, next encodedVersion
	copied     int // diagnostics the last encode copied (tests)
}

// encodedVersion is the layout of one version's diagnostics array.
type encodedVersion struct {
	off    []int
	spans  []template.Span
	spanAt []int
	epoch  uint64
	kept   bool
}

// stableTail says that the text of the new version from offset From on is
// the last version's text from From-Delta on, on the same line numbers: a
// diagnostic that lies wholly there, with the same content, has the same
// JSON as in the last version. The scheduler knows it from the edited
// region (zero value: nothing is known).
type stableTail struct {
	ok          bool
	from, delta int
}

// holds reports whether span lies in the stable tail and is the last
// version's was span.
func (st stableTail) holds(span, was template.Span) bool {
	return span.Start >= st.from && span.Start-st.delta == was.Start && span.End-st.delta == was.End
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

	used uint64     // the epoch of the last version that used the entry
	idx  int        // its index in that version
	next *diagEntry // another entry with the same key

	// The arrays of the criteria and fixes of the finding the entry was
	// made from: a finding kept by an incremental analysis shares them, and
	// then matches without comparing them element by element. (The entry
	// keeps them alive, so no other finding can have them.)
	controlsData *string
	fixesData    *analysis.Fix
}

// publication is one version's publishDiagnostics frame, its header not yet
// written: buf[start:end] is the diagnostics array, and the header and the
// envelope are written in the headroom before start when the version is
// published (publication.frame).
type publication struct {
	enc        *diagEncoder
	buf        int // which of enc.bufs
	start, end int
	epoch      uint64
}

// diagnostics returns the JSON array of the diagnostics. It stays intact
// while it is the published payload (publication.keep).
func (p publication) diagnostics() []byte { return p.enc.bufs[p.buf][p.start:p.end:p.end] }

const (
	publishPrefix  = `{"jsonrpc":"2.0","method":"` + protocol.MethodTextDocumentPublishDiagnostics + `","params":{"uri":`
	versionField   = `,"version":`
	diagnosticsKey = `,"diagnostics":`
	contentLength  = "Content-Length: "
)

// headroom is the room a frame needs before its diagnostics array: the
// largest header and envelope (a 20-digit length, an 11-character version).
func headroom(uriJSON int) int {
	return len(contentLength) + 20 + 4 + len(publishPrefix) + uriJSON + len(versionField) + 11 + len(diagnosticsKey)
}

// frame writes the header and the envelope of the notification for version
// in front of the diagnostics and returns the whole message: the
// Content-Length header, and a JSON-RPC notification whose params are
// {"uri", "version", "diagnostics"}, as json.Marshal of
// publishDiagnosticsParams writes them.
func (p publication) frame(version int32) []byte {
	enc := p.enc
	var envArr [256]byte
	env := append(envArr[:0], publishPrefix...)
	env = append(env, enc.uriJSON...)
	env = append(env, versionField...)
	env = strconv.AppendInt(env, int64(version), 10)
	env = append(env, diagnosticsKey...)
	body := len(env) + p.end + len("}}") - p.start
	var headArr [48]byte
	head := append(headArr[:0], contentLength...)
	head = strconv.AppendInt(head, int64(body), 10)
	head = append(head, "\r\n\r\n"...)
	buf := enc.bufs[p.buf]
	at := p.start - len(env) - len(head) // headroom leaves room for the largest
	copy(buf[at:], head)
	copy(buf[at+len(head):], env)
	return buf[at : p.end+len("}}")]
}

// keep pins the buffer of a published version: its payload is what the next
// version is compared with, so the next one is written into the other.
func (p publication) keep() {
	p.enc.pinned = p.buf + 1
	if p.enc.last.epoch == p.epoch {
		p.enc.last.kept = true
	}
}

// encode encodes the diagnostics of findings (in their order) on t's text,
// for the document u, with the rules (documentation links) of e.
func (enc *diagEncoder) encode(u uri.URI, t *template.Template, findings []analysis.Finding, e *analysis.Engine, tail stableTail) publication {
	// The last version's array can be copied from when it is the pinned one.
	var from []byte
	if tail.ok && enc.last.kept && enc.pinned > 0 && enc.entries != nil && enc.engine == e && enc.uri == u {
		from = enc.bufs[enc.pinned-1][headroom(len(enc.uriJSON)):]
	}
	if enc.entries == nil || enc.engine != e || enc.uri != u {
		// Entries hold the engine's documentation links and the document's
		// URI (in related locations): another engine or document starts over.
		enc.entries = make(map[diagKey]*diagEntry, len(findings))
		enc.prev = enc.prev[:0]
		enc.engine, enc.uri = e, u
		enc.uriJSON = appendJSONString(nil, string(u))
	}
	enc.epoch++
	k := 0
	if enc.pinned == 1 {
		k = 1
	}
	start := headroom(len(enc.uriJSON))
	buf := enc.bufs[k]
	if cap(buf) < start+2 {
		buf = make([]byte, start, start+256+300*len(findings))
	}
	buf = append(buf[:start], '[')

	conv := newPosConv(t)
	spans, ends, rel := conv, conv, conv // cursors: findings come sorted by start, not by end
	cur, prev := enc.cur[:0], enc.prev
	last, next := &enc.last, &enc.next
	next.off, next.spans, next.spanAt = next.off[:0], next.spans[:0], next.spanAt[:0]
	shift := 0 // where the last version had the finding before this one, relative to it
	enc.copied = 0
	for i := range findings {
		f := &findings[i]
		var de *diagEntry
		was := -1 // the finding's index in the last version
		if j := i + shift; j >= 0 && j < len(prev) && prev[j].matches(f) {
			de, was = prev[j], j // the common case: same order as the last version
		} else if de = enc.lookup(f); de != nil {
			if de.used == enc.epoch-1 {
				shift = de.idx - i // resynchronise after the findings the edit changed
				was = de.idx
			}
		} else {
			de = enc.add(f)
		}
		de.used, de.idx = enc.epoch, i
		cur = append(cur, de)

		if i > 0 {
			buf = append(buf, ',')
		}
		next.spanAt = append(next.spanAt, len(next.spans))
		next.spans = append(next.spans, f.Span)
		for r := range f.Related {
			next.spans = append(next.spans, f.Related[r].Span)
		}
		at := len(buf) - start
		if from != nil && was >= 0 && unchanged(tail, f, last, was) {
			// Same content, same place on the same lines: the same bytes.
			buf = append(buf, from[last.off[2*was]:last.off[2*was+1]]...)
			next.off = append(next.off, at, len(buf)-start)
			enc.copied++
			continue
		}
		buf = append(buf, `{"range":`...)
		buf = appendRange(buf, spans.position(f.Span.Start), ends.position(max(f.Span.End, f.Span.Start)))
		off := 0
		for r := range f.Related {
			buf = append(buf, de.text[off:de.cuts[r]]...)
			off = de.cuts[r]
			s := f.Related[r].Span
			buf = appendRange(buf, rel.position(s.Start), rel.position(max(s.End, s.Start)))
		}
		buf = append(buf, de.text[off:]...)
		next.off = append(next.off, at, len(buf)-start)
	}
	buf = append(buf, ']')
	end := len(buf)
	buf = append(buf, "}}"...)
	enc.bufs[k] = buf
	clear(prev) // the entries are referenced by the map and cur only
	enc.prev, enc.cur = cur, prev[:0]
	enc.sweep(len(findings))
	next.epoch, next.kept = enc.epoch, false
	enc.last, enc.next = enc.next, enc.last
	return publication{enc: enc, buf: k, start: start, end: end, epoch: enc.epoch}
}

// unchanged reports whether finding f, which was finding was of the last
// version with the same content, lies in the stable tail at the same place,
// related locations included.
func unchanged(tail stableTail, f *analysis.Finding, last *encodedVersion, was int) bool {
	at := last.spanAt[was]
	end := len(last.spans)
	if was+1 < len(last.spanAt) {
		end = last.spanAt[was+1]
	}
	if end-at != 1+len(f.Related) || !tail.holds(f.Span, last.spans[at]) {
		return false
	}
	for r := range f.Related {
		if !tail.holds(f.Related[r].Span, last.spans[at+1+r]) {
			return false
		}
	}
	return true
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

// sweep drops the entries no version has used lately, when they outnumber
// the live ones twice: findings that come and go while the user types (a
// value typed and deleted again) keep theirs.
func (enc *diagEncoder) sweep(live int) {
	if len(enc.entries) <= 2*live+64 {
		return
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
	enc.scratch = appendDiagnosticRest(enc.scratch[:0], de, enc.engine, enc.uriJSON)
	de.text = bytes.Clone(enc.scratch)
	k := de.key
	de.next = enc.entries[k]
	enc.entries[k] = de
	return de
}

// appendDiagnosticRest appends the JSON of de's diagnostic after its range,
// as json.Marshal writes toDiagnostic's result (the fields in
// protocol.Diagnostic's order, empty ones omitted as its tags say), and
// records in de.cuts where the related ranges go.
func appendDiagnosticRest(b []byte, de *diagEntry, e *analysis.Engine, uriJSON []byte) []byte {
	b = append(b, `,"severity":`...)
	b = strconv.AppendInt(b, int64(toSeverity(de.key.severity)), 10) // a float64 of 1 to 4: json writes it as an integer
	b = append(b, `,"code":`...)
	b = appendJSONString(b, de.key.rule)
	if r, ok := e.Rule(de.key.rule); ok {
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
	if de.controls != nil || de.key.resource != "" || de.key.possible || de.fixes != nil {
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
