package lsp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
	"go.uber.org/zap"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/rules"
	"github.com/soc2ls/soc2ls/analysis/synth"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// marshalDiagnostics is the reference the encoder must match: json.Marshal
// of the protocol diagnostics toDiagnostics builds, [] for none.
func marshalDiagnostics(t testing.TB, u uri.URI, tp *template.Template, findings []analysis.Finding, e *analysis.Engine) []byte {
	t.Helper()
	return marshalDiagnosticsWith(t, u, tp, findings, e, allDiagFields)
}

// marshalDiagnosticsWith is marshalDiagnostics for a client that reads the
// given optional fields.
func marshalDiagnosticsWith(t testing.TB, u uri.URI, tp *template.Template, findings []analysis.Finding, e *analysis.Engine, fields diagFields) []byte {
	t.Helper()
	diags := toDiagnostics(u, tp, findings, e, fields)
	if diags == nil {
		diags = []protocol.Diagnostic{}
	}
	want, err := json.Marshal(diags)
	if err != nil {
		t.Fatal(err)
	}
	return want
}

// sameJSON fails unless got and want decode to the same value, and are the
// same bytes (json.Marshal's escaping, which decoding does not show).
func sameJSON(t testing.TB, what string, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: the encoding is not JSON: %v\n%s", what, err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: the reference is not JSON: %v", what, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s: decodes to another value than json.Marshal's\n got %s\nwant %s", what, got, want)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("%s: same value, other bytes than json.Marshal's, from byte %d:\n got %q\nwant %q", what, i, clip(got, i), clip(want, i))
	}
}

func clip(b []byte, i int) []byte { return b[max(0, i-80):min(len(b), i+80)] }

// checkFrame checks that a publication's frame is one LSP message: a
// Content-Length header giving the body's length, and a JSON-RPC
// notification whose params are what json.Marshal of the publish params
// gives.
func checkFrame(t testing.TB, frame []byte, u uri.URI, version int32, diags []byte) {
	t.Helper()
	head, body, ok := bytes.Cut(frame, []byte("\r\n\r\n"))
	if !ok || !bytes.HasPrefix(head, []byte("Content-Length: ")) {
		t.Fatalf("no header: %q", clip(frame, 0))
	}
	if n, err := strconv.Atoi(string(head[len("Content-Length: "):])); err != nil || n != len(body) {
		t.Fatalf("header %q, body of %d bytes", head, len(body))
	}
	params, _ := json.Marshal(map[string]any{"uri": u, "version": version, "diagnostics": json.RawMessage(diags)})
	want, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "textDocument/publishDiagnostics", "params": json.RawMessage(params)})
	msg, err := jsonrpc2.DecodeMessage(body) // as a client built on jsonrpc2 reads it
	if n, ok := msg.(*jsonrpc2.Notification); err != nil || !ok || n.Method() != "textDocument/publishDiagnostics" {
		t.Fatalf("the body is no publishDiagnostics notification to jsonrpc2 (%T, %v): %s", msg, err, clip(body, 0))
	}
	var g, w any
	if err := json.Unmarshal(body, &g); err != nil {
		t.Fatalf("the body is not JSON: %v", err)
	}
	_ = json.Unmarshal(want, &w)
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("frame body\n%s\nwant\n%s", clip(body, 0), clip(want, 0))
	}
}

// templateFiles are the repository's test and example templates.
func templateFiles(t testing.TB) []string {
	var files []string
	err := filepath.WalkDir("../testdata", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch filepath.Ext(path) {
		case ".yaml", ".yml", ".json", ".template":
			files = append(files, path)
		}
		return nil
	})
	if err != nil || len(files) < 100 {
		t.Fatalf("%d templates under ../testdata: %v", len(files), err)
	}
	return files
}

// TestEncodeMatchesMarshal encodes the diagnostics of every test template,
// of the synth templates, and of texts whose positions need care (a
// byte-order mark, CRLF, non-ASCII before a finding), with a fresh encoder
// and again from its entries, and compares them with json.Marshal's, as well
// as each publication's frame.
func TestEncodeMatchesMarshal(t *testing.T) {
	full := analysis.NewEngine(rules.All(), nil)
	engines := map[string]*analysis.Engine{"without fixes": full.WithoutFixes(), "with fixes": full}
	type doc struct {
		name string
		src  []byte
	}
	var docs []doc
	for _, f := range templateFiles(t) {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, doc{f, src})
	}
	queue := "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n    Properties:\n      Tags: [{Key: Owner, Value: \"😀𝄞 é\"}, {Key: Environment, Value: production}]\n"
	docs = append(docs,
		doc{"synth-30KB.yaml", synth.YAML(30 << 10)},
		doc{"synth-1MB.yaml", synth.YAML(1 << 20)},
		doc{"synth-100KB.json", synth.JSON(100 << 10)},
		doc{"bom.yaml", []byte("\ufeffResources:\n  Queue:\n    Type: AWS::SQS::Queue\n")},
		doc{"bom-first-line.json", []byte("\ufeff{\"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\"}}}")},
		doc{"crlf.yaml", []byte(strings.ReplaceAll(queue, "\n", "\r\n"))},
		doc{"lone-cr.yaml", []byte(strings.ReplaceAll(queue, "\n", "\r"))},
		doc{"wide.yaml", []byte(queue)},
		doc{"no-newline.yaml", []byte(strings.TrimSuffix(queue, "\n"))},
		doc{"empty.yaml", nil},
	)
	u := uri.URI("file:///w/t.yaml")
	total := 0
	for ename, e := range engines {
		var enc diagEncoder
		for _, d := range docs {
			res := e.Analyze(filepath.Base(d.name), d.src)
			want := marshalDiagnostics(t, u, res.Template, res.Findings, e)
			for pass := range 2 { // a fresh entry, then the same one found again
				pub := enc.encode(u, res.Template, res.Findings, e, stableText{}, allDiagFields)
				what := fmt.Sprintf("%s, %s, pass %d", d.name, ename, pass)
				sameJSON(t, what, pub.diagnostics().bytes(), want)
				checkFrame(t, frameBytes(pub, int32(pass+1)), u, int32(pass+1), want)
				if pass == 0 {
					pub.keep()
				}
			}
			total += len(res.Findings)
		}
	}
	if total < 10000 {
		t.Errorf("%d findings compared: the templates report fewer than expected", total)
	}
}

// oddStrings need escaping, or care: quotes, backslashes, every control
// character, the HTML characters json.Marshal escapes, U+2028 and U+2029,
// non-ASCII, and invalid UTF-8 (a lone continuation byte, a truncated
// sequence, an encoded surrogate, an overlong form, a sequence cut by the
// end).
var oddStrings = func() []string {
	ss := []string{"", `say "hi"`, `C:\path\n`, "<script>&amp;</script>", "line\u2028sep\u2029para", "é 日本 😀 𝄞",
		"\xff", "a\xe2\x80b", "\xed\xa0\x80", "\xc0\xaf", "end\xe2\x80", "\x7f DEL", "\u00a0\ufeff\ufffd", "/", "'single'"}
	var ctl strings.Builder
	for c := range 0x20 {
		ctl.WriteByte(byte(c))
	}
	return append(ss, ctl.String())
}()

// TestEncodeStrings encodes findings built from oddStrings in every field
// the encoder writes, for documents with odd URIs, and compares with
// json.Marshal.
func TestEncodeStrings(t *testing.T) {
	e := analysis.NewEngine(rules.All(), nil)
	src := []byte("a: 1\nb: é\r\nc: 😀 x\n\ufeffd\n")
	tp := template.Parse("t.yaml", src)
	var findings []analysis.Finding
	for i, s := range oddStrings {
		o := oddStrings[(i+1)%len(oddStrings)]
		findings = append(findings,
			analysis.Finding{RuleID: s, Severity: analysis.Severity(i%4 + 1), Span: template.Span{Start: i % len(src), End: (i * 7) % (len(src) + 3)}, Message: s},
			analysis.Finding{RuleID: "SOC2-S3-002", Severity: analysis.Error, Message: "m " + s, Controls: []string{s, o}, Resource: s,
				Related: []analysis.Related{{Span: template.Span{Start: 3, End: 1}, Message: s}, {Span: template.Span{Start: -4, End: len(src) + 9}, Message: o}},
				Fixes:   []analysis.Fix{{Title: s}, {Title: o}}, Possible: i%2 == 0},
			analysis.Finding{RuleID: "SOC2-TAG-001", Message: s, Controls: []string{}},
			analysis.Finding{RuleID: "SOC2-TAG-001", Message: s}, // the same but for the nil criteria: no data
			analysis.Finding{RuleID: "SOC2-TAG-001", Message: s, Fixes: []analysis.Fix{{Title: o}}},
			analysis.Finding{RuleID: "SOC2-TAG-001", Message: s, Possible: true},
			analysis.Finding{RuleID: "SOC2-TAG-001", Message: s, Controls: []string{"CC1.1", s}},
			analysis.Finding{RuleID: "SOC2-TAG-001", Message: s, Controls: []string{"CC1.1", o}},
			analysis.Finding{RuleID: "SOC2-TAG-001", Message: s, Related: []analysis.Related{{Message: o}}},
			analysis.Finding{RuleID: "SOC2-TAG-001", Message: s, Fixes: []analysis.Fix{{Title: ""}}},
		)
	}
	for _, u := range []uri.URI{"file:///w/t.yaml", `file:///w/a "b" \c <d>&e é.yaml`, "untitled:Untitled-1", ""} {
		var enc diagEncoder
		want := marshalDiagnostics(t, u, tp, findings, e)
		for pass := range 2 {
			pub := enc.encode(u, tp, findings, e, stableText{}, allDiagFields)
			sameJSON(t, fmt.Sprintf("uri %q, pass %d", u, pass), pub.diagnostics().bytes(), want)
			checkFrame(t, frameBytes(pub, -7), u, -7, want)
		}
		for i, s := range oddStrings { // the escaper alone
			want, _ := json.Marshal(s)
			if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
				t.Errorf("string %d %q: %s, want %s", i, s, got, want)
			}
		}
	}
}

// TestEncodeReuse follows an incremental analysis: the same findings (the
// same strings) with shifted spans, some changed, dropped, added or
// reordered, versions in a row, with another engine in between; every
// version must be json.Marshal's, and the entries of findings that went away
// are dropped in the end.
func TestEncodeReuse(t *testing.T) {
	e := analysis.NewEngine(rules.All(), nil).WithoutFixes()
	src := synth.YAML(100 << 10)
	res := e.Analyze("t.yaml", src)
	base := res.Findings
	tp := res.Template
	u := uri.URI("file:///w/t.yaml")
	var enc diagEncoder
	rng := rand.New(rand.NewSource(1))
	for v := range 60 {
		findings := make([]analysis.Finding, 0, len(base)+2)
		shift := rng.Intn(40) - 20
		for i, f := range base {
			switch {
			case i == v*7%len(base):
				continue // dropped
			case i == v*13%len(base):
				f.Message += fmt.Sprintf(" (version %d)", v) // changed
			case i == v*5%len(base):
				f.Controls = append([]string(nil), f.Controls...) // same content, other slices
				f.Related = append([]analysis.Related{{Span: f.Span, Message: "added"}}, f.Related...)
			}
			if i > len(base)/2 {
				f.Span.Start += shift // after the edit: moved
				f.Span.End += shift
				for j := range f.Related {
					r := &f.Related[j]
					r.Span.Start += shift
					r.Span.End += shift
				}
			}
			findings = append(findings, f)
		}
		if v%9 == 4 {
			findings[3], findings[len(findings)-3] = findings[len(findings)-3], findings[3]
			findings = append(findings, findings[10]) // a duplicate
		}
		if v%10 == 9 {
			findings = findings[:len(findings)/3] // most gone: the sweep
		}
		ev := e
		if v == 30 {
			ev = analysis.NewEngine(rules.All(), nil) // another configuration
		}
		want := marshalDiagnostics(t, u, tp, findings, ev)
		pub := enc.encode(u, tp, findings, ev, stableText{}, allDiagFields)
		sameJSON(t, fmt.Sprintf("version %d", v), pub.diagnostics().bytes(), want)
		if v%3 != 0 {
			pub.keep()
		}
	}
	n := 0
	for _, de := range enc.entries {
		for ; de != nil; de = de.next {
			n++
		}
	}
	if n > 3*len(base)+64 {
		t.Errorf("%d entries kept for %d findings: the sweep drops nothing", n, len(base))
	}
}

// TestEncodeRandomEdits follows a long session of edits at random places,
// analysed incrementally as the server does: every version must be
// json.Marshal's; encoding a version must never overwrite the payload last
// published, which the next version is compared with, nor the last one
// encoded, which the next takes its bytes from, whether or not the
// versions in between were published, as arenas are reused and payloads
// compacted; and comparing payloads by their pieces must agree with
// comparing their bytes.
func TestEncodeRandomEdits(t *testing.T) {
	e := analysis.NewEngine(rules.All(), nil).WithoutFixes()
	u := uri.URI("file:///w/t.yaml")
	var enc diagEncoder
	type kept struct {
		r    *rope
		text []byte
	}
	var published, last kept
	rng := rand.New(rand.NewSource(3))
	prev := e.Analyze("t.yaml", synth.YAML(30<<10))
	reused, same := 0, 0
	const versions = 600
	for v := range versions {
		res, st := prev, stableText{}
		if v%100 != 99 {
			res, st = typeAt(t, e, prev, rng)
		}
		if res.Template.HasSyntaxError() {
			t.Fatalf("version %d: the edit broke the template", v)
		}
		pub := enc.encode(u, res.Template, res.Findings, e, st, allDiagFields)
		for _, k := range []kept{published, last} {
			if k.r != nil && !bytes.Equal(k.r.bytes(), k.text) {
				t.Fatalf("version %d overwrote a payload it had to keep", v)
			}
		}
		got := pub.diagnostics()
		text := got.bytes()
		sameJSON(t, fmt.Sprintf("version %d", v), text, marshalDiagnostics(t, u, res.Template, res.Findings, e))
		if published.r != nil {
			if eq := got.equal(published.r); eq != bytes.Equal(text, published.text) {
				t.Fatalf("version %d: equal says %v of different payloads", v, eq)
			} else if eq {
				same++
			}
		}
		// The memory kept is bounded: the payload's pieces and the chunks
		// they keep alive, and the encoder's chunks (what the published and
		// the last payload reference, the arena, a spare).
		held := 0
		for _, c := range enc.chunks {
			held += cap(c.buf)
		}
		if bound := 2 * (got.size + room(got.size)); len(got.pieces) > maxPieces || enc.live(got) > bound || held > 3*bound {
			t.Fatalf("version %d: %d pieces keep %d bytes alive for %d; the encoder holds %d bytes in %d chunks",
				v, len(got.pieces), enc.live(got), got.size, held, len(enc.chunks))
		}
		last = kept{got, text}
		if v%3 != 1 { // some versions are not published
			pub.keep()
			published = last
		}
		reused += enc.copied
		prev = res
	}
	if enc.compacted == 0 || reused < versions*len(prev.Findings)/2 || same == 0 {
		t.Errorf("%d compactions, %d diagnostics reused in %d versions of %d, %d versions equal to the published one: the test exercises too little",
			enc.compacted, reused, versions, len(prev.Findings), same)
	}
}

// typeAt edits prev's text as a user does, at the end of a random line
// holding a scalar value: it types a character, deletes one, or adds a
// comment line below (which moves the lines after it), so that the text
// stays a template. It returns the incremental analysis of the result, with
// what the edit keeps as the scheduler tells the encoder.
func typeAt(t testing.TB, e *analysis.Engine, prev *analysis.Result, rng *rand.Rand) (*analysis.Result, stableText) {
	t.Helper()
	src := prev.Template.Source
	lines := prev.Template.Lines
	for {
		l := rng.Intn(lines.Count())
		text := src[lines.LineStart(l):lines.LineEnd(l)]
		k := bytes.Index(text, []byte(": "))
		if k < 0 || len(text) < k+4 || bytes.ContainsAny(text[len(text)-1:], "]}\"'|>:") || text[k+2] == '&' || text[k+2] == '*' {
			continue
		}
		at, end, ins := lines.LineEnd(l), lines.LineEnd(l), ""
		switch rng.Intn(6) {
		case 0:
			ins = "\n" + strings.Repeat(" ", len(text)-len(bytes.TrimLeft(text, " "))) + "# note"
		case 1, 2:
			if c := src[at-1]; c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
				at--
				break
			}
			fallthrough
		default:
			ins = []string{"x", "é", "1", "production"}[rng.Intn(4)]
		}
		next := slices.Concat(src[:at], []byte(ins), src[end:])
		var region editRegion
		region.add(at, end, len(ins))
		st := stableTextOf(prev, region, template.NewLines(next))
		return e.Reanalyze(prev, next, at, end, len(ins)), st
	}
}

// TestPosConv compares posConv with toPosition at every offset of texts
// with every kind of line break, multi-byte characters and a byte-order
// mark, in order (the cursor's fast path) and in a random order.
func TestPosConv(t *testing.T) {
	texts := []string{"", "a", "\n", "\r\n", "\r", "ab\ncd\r\nef\rgh\n\nij", "\ufeffab\ncd", "\ufeff", "é😀\nab😀c\r\n\xff\xe2\x80x\n  z",
		strings.Repeat("line\n", 50) + "é\n" + strings.Repeat("x\r\n", 20)}
	rng := rand.New(rand.NewSource(2))
	for _, text := range texts {
		tp := template.Parse("t.yaml", []byte(text))
		offs := make([]int, 0, len(text)+4)
		for off := -2; off <= len(text)+2; off++ {
			offs = append(offs, off)
		}
		for pass := range 2 {
			c := newPosConv(tp)
			if c.src == nil && len(text) > 0 {
				t.Fatalf("%q: the template's Source is not taken for its Lines' text", text)
			}
			for _, off := range offs {
				if got, want := c.position(off), toPosition(tp.Lines, off); got != want {
					t.Fatalf("%q, pass %d, offset %d: %+v, want %+v", text, pass, off, got, want)
				}
			}
			rng.Shuffle(len(offs), func(i, j int) { offs[i], offs[j] = offs[j], offs[i] })
		}
	}
}

// FuzzDiagnosticEncoding compares the encoder with json.Marshal on findings
// made of arbitrary strings and spans over an arbitrary text, encoded once
// fresh and once more, moved, from the encoder's entries; then on the text
// edited (ins replacing del bytes at at) and the edit undone, twice, the
// findings moved, dropped and added as an incremental analysis does, with
// what the edit keeps (stableText): the bytes taken from the last payload,
// the records overwritten in place, must still be json.Marshal's.
func FuzzDiagnosticEncoding(f *testing.F) {
	for i, s := range oddStrings {
		f.Add(s, oddStrings[(i+3)%len(oddStrings)], "SOC2-S3-002", "file:///w/t.yaml", "a: 1\nb: é\r\nc: 😀 x\n", i, i*3, 1, "x\n"[:i%3], i*5, i%3)
	}
	f.Add("m", "", "", "", "", 0, 0, 0, "", 0, 0)
	f.Add("m", "o", "R", "file:///a", "\ufeffa: 1\r\nb: 2\rc: 3\n\nd: é\n", 4, 9, 3, "\n", 10, 1)
	e := analysis.NewEngine(rules.All(), nil)
	f.Fuzz(func(t *testing.T, msg, other, rule, u, text string, start, end, shift int, ins string, at, del int) {
		tp := template.Parse("t.yaml", []byte(text))
		span := template.Span{Start: start % (len(text) + 2), End: end % (len(text) + 2)}
		mk := func(d int) []analysis.Finding {
			sp := template.Span{Start: span.Start + d, End: span.End + d}
			return []analysis.Finding{
				{RuleID: rule, Severity: analysis.Warning, Span: sp, Message: msg, Resource: other},
				{RuleID: other, Severity: analysis.Hint, Span: sp, Message: other, Controls: []string{msg, other}, Possible: true,
					Related: []analysis.Related{{Span: sp, Message: msg}, {Span: span, Message: other}}, Fixes: []analysis.Fix{{Title: msg}}},
				{RuleID: "SOC2-TAG-001", Message: msg + other, Controls: []string{}},
			}
		}
		var enc diagEncoder
		// The second pass may be for a client that reads fewer of the
		// optional fields: the encoder starts over for it.
		fields := []diagFields{allDiagFields, {}, {codeDescription: true}, {data: true}}
		for pass, d := range []int{0, shift % 64} {
			findings := mk(d)
			fs := fields[pass*(start&3)]
			want := marshalDiagnosticsWith(t, uri.URI(u), tp, findings, e, fs)
			pub := enc.encode(uri.URI(u), tp, findings, e, stableText{}, fs)
			sameJSON(t, fmt.Sprintf("pass %d, fields %+v", pass, fs), pub.diagnostics().bytes(), want)
			checkFrame(t, frameBytes(pub, int32(start)), uri.URI(u), int32(start), want)
		}

		// Findings spread over the text, then the edit and its undoing.
		var findings []analysis.Finding
		for k := range 12 {
			m := len(text) + 2
			sp := template.Span{Start: (span.Start + k*(shift%17+5)) % m, End: (span.End + k*(shift%13+3)) % m}
			fd := mk(0)[k%3]
			fd.Span = sp
			if len(fd.Related) > 0 {
				fd.Related = []analysis.Related{{Span: template.Span{Start: (sp.Start + k) % m, End: sp.End}, Message: other}}
			}
			findings = append(findings, fd)
		}
		enc.encode(uri.URI(u), tp, findings, e, stableText{}, allDiagFields).keep()
		at, del = at%(len(text)+1), del%4
		if at < 0 {
			at += len(text) + 1
		}
		del = min(max(del, 0), len(text)-at)
		type textEdit struct {
			src        []byte // the text before it
			at, del    int
			ins, added string // what it inserts, and what findings it touches say
		}
		next := slices.Concat([]byte(text[:at]), []byte(ins), []byte(text[at+del:]))
		edits := [2]textEdit{{[]byte(text), at, del, ins, "inserted"}, {next, at, len(ins), text[at : at+del], "undone"}}
		base := &analysis.Result{Template: tp}
		for v := range 4 {
			ed := edits[v%2]
			after := slices.Concat(ed.src[:ed.at], []byte(ed.ins), ed.src[ed.at+ed.del:])
			var region editRegion
			region.add(ed.at, ed.at+ed.del, len(ed.ins))
			tp2 := template.Parse("t.yaml", after)
			st := stableTextOf(base, region, tp2.Lines)
			moved := make([]analysis.Finding, 0, len(findings)+1)
			for k, fd := range findings {
				ok := true
				if fd.Span, ok = moveSpan(fd.Span, ed.at, ed.del, len(ed.ins)); !ok {
					fd = analysis.Finding{RuleID: rule, Message: msg + ed.added, Span: template.Span{Start: ed.at, End: ed.at + len(ed.ins)}}
				}
				if len(fd.Related) > 0 {
					rel := slices.Clone(fd.Related)
					for r := range rel {
						if rel[r].Span, ok = moveSpan(rel[r].Span, ed.at, ed.del, len(ed.ins)); !ok {
							rel[r].Message += ed.added
						}
					}
					fd.Related = rel
				}
				if k == v%len(findings) && shift%2 == 0 {
					fd.Controls = slices.Clone(fd.Controls) // the same content in other arrays
				}
				moved = append(moved, fd)
				if k == (v+shift)%len(findings) && v >= 2 {
					moved = append(moved, analysis.Finding{RuleID: other, Message: ed.added, Span: fd.Span}) // added
				}
			}
			if v == 3 {
				moved = slices.Delete(moved, 1, 3) // removed
			}
			findings = moved
			want := marshalDiagnostics(t, uri.URI(u), tp2, findings, e)
			pub := enc.encode(uri.URI(u), tp2, findings, e, st, allDiagFields)
			sameJSON(t, fmt.Sprintf("edit %d (%+v)", v, st), pub.diagnostics().bytes(), want)
			checkFrame(t, frameBytes(pub, int32(v)), uri.URI(u), int32(v), want)
			if v%2 == 0 {
				pub.keep()
			}
			base = &analysis.Result{Template: tp2}
		}
	})
}

// moveSpan moves a span as the engine moves a kept finding's over an edit
// replacing del bytes at at by n: offsets before the edit stay, offsets
// after it move, a span touching it is not kept.
func moveSpan(s template.Span, at, del, n int) (template.Span, bool) {
	move := func(o int) (int, bool) {
		switch {
		case o < at:
			return o, true
		case o > at+del:
			return o + n - del, true
		}
		return 0, false
	}
	var ok1, ok2 bool
	s.Start, ok1 = move(s.Start)
	s.End, ok2 = move(s.End)
	return s, ok1 && ok2
}

// TestEncodeStableTail: a keystroke leaves the diagnostics on the lines
// before its own with the bytes they had, and when it keeps the line count,
// those after its line too; the encoder takes them from the last payload,
// and the result is what a fresh encoder writes.
func TestEncodeStableTail(t *testing.T) {
	e := analysis.NewEngine(rules.All(), nil).WithoutFixes()
	u := uri.URI("file:///w/tail.yaml")
	src := synth.YAML(30 << 10)
	prev := e.Analyze("tail.yaml", src)
	var enc diagEncoder
	enc.encode(u, prev.Template, prev.Findings, e, stableText{}, allDiagFields)
	for step, text := range []string{"x", "", "é", " ", " ", "\n"} {
		// One change in a value of the middle resource, or, for the spaces,
		// just before a finding's node on its line, which moves it along
		// the line: its bytes change although its content does not.
		res := prev.Template.Resources[len(prev.Template.Resources)/2]
		at := res.TypeNode.End - 2
		if text == " " {
			for _, f := range prev.Findings[len(prev.Findings)/2:] {
				if f.RuleID == "SOC2-TAG-001" {
					at = f.Span.Start
					break
				}
			}
		}
		next := slices.Concat(prev.Template.Source[:at], []byte(text), prev.Template.Source[at:])
		region := editRegion{}
		region.add(at, at, len(text))
		st := stableTextOf(prev, region, template.NewLines(next))
		if st.tail != (text != "\n") || st.head == 0 || st.head > at {
			t.Fatalf("step %d: stable text %+v for %q at %d", step, st, text, at)
		}
		cur := e.Reanalyze(prev, next, at, at, len(text))
		pub := enc.encode(u, cur.Template, cur.Findings, e, st, allDiagFields)
		if step%2 == 0 {
			pub.keep() // published or not, the next version takes its bytes
		}
		var fresh diagEncoder
		want := fresh.encode(u, cur.Template, cur.Findings, e, stableText{}, allDiagFields).diagnostics().bytes()
		if got := pub.diagnostics().bytes(); string(got) != string(want) {
			t.Fatalf("step %d (%q): taking the unchanged diagnostics changed the payload", step, text)
		}
		before := 0
		for _, f := range cur.Findings {
			if max(f.Span.Start, f.Span.End) < st.head {
				before++
			}
		}
		// The diagnostics before the edited line are taken; with the line
		// count kept, all but the few on the edited line.
		low, high := before, len(cur.Findings)
		if st.tail {
			low = len(cur.Findings) - 10
		} else {
			high = before + 10
		}
		if enc.copied < low || enc.copied > high {
			t.Errorf("step %d (%q): %d of %d diagnostics taken, %d of them before the edit", step, text, enc.copied, len(cur.Findings), before)
		}
		if len(pub.diagnostics().pieces) > 12 {
			t.Errorf("step %d (%q): the payload is %d pieces", step, text, len(pub.diagnostics().pieces))
		}
		prev = cur
	}
}

// TestEncodeAddedFindings: findings added or removed before others (which
// moves their records: the new version's overwrite the last one's in
// place) leave the others' bytes taken from the last payload, and the
// payload json.Marshal's.
func TestEncodeAddedFindings(t *testing.T) {
	e := analysis.NewEngine(rules.All(), nil).WithoutFixes()
	u := uri.URI("file:///w/added.yaml")
	res := e.Analyze("added.yaml", synth.YAML(30<<10))
	base, n := res.Findings, len(res.Findings)
	// The text does not change: every offset keeps its position.
	same := stableText{tail: true, was: len(res.Template.Source)}
	added := func(at int, msg string) analysis.Finding {
		return analysis.Finding{RuleID: "SOC2-TAG-001", Message: msg, Span: base[at].Span}
	}
	for _, c := range []struct {
		name     string
		findings []analysis.Finding
		kept     int // the diagnostics whose bytes must be taken
	}{
		{"one added first", slices.Insert(slices.Clone(base), 0, added(0, "first")), n},
		{"three added in the middle", slices.Insert(slices.Clone(base), n/2, added(n/2, "a"), added(n/2, "b"), added(n/2, "c")), n},
		{"added here and there", slices.Insert(slices.Insert(slices.Clone(base), 2*n/3, added(2*n/3, "later")), n/3, added(n/3, "sooner")), n},
		{"one removed first", slices.Clone(base[1:]), n - 1},
		{"removed and added", slices.Insert(slices.Delete(slices.Clone(base), n/4, n/4+5), n/2, added(n/2, "x")), n - 5},
	} {
		var enc diagEncoder
		enc.encode(u, res.Template, base, e, stableText{}, allDiagFields)
		pub := enc.encode(u, res.Template, c.findings, e, same, allDiagFields)
		sameJSON(t, c.name, pub.diagnostics().bytes(), marshalDiagnostics(t, u, res.Template, c.findings, e))
		if enc.copied != c.kept {
			t.Errorf("%s: %d diagnostics taken, want %d", c.name, enc.copied, c.kept)
		}
		// And back: the records moved in place are the new version's.
		pub = enc.encode(u, res.Template, base, e, same, allDiagFields)
		sameJSON(t, c.name+", back", pub.diagnostics().bytes(), marshalDiagnostics(t, u, res.Template, base, e))
		if enc.copied != c.kept {
			t.Errorf("%s, back: %d diagnostics taken, want %d", c.name, enc.copied, c.kept)
		}
	}
}

// frameBytes is the publication's frame in one buffer.
func frameBytes(pub publication, version int32) []byte { return bytes.Join(pub.frame(version), nil) }

// TestFrameWrittenInPieces writes publications whose payloads are several
// pieces through the stream, while other goroutines write small messages,
// and checks that each is written as the one-buffer frame json.Marshal's
// encoding of the params gives, whole between the others, and that its
// large pieces are written without being gathered into one buffer.
func TestFrameWrittenInPieces(t *testing.T) {
	e := analysis.NewEngine(rules.All(), nil).WithoutFixes()
	u := uri.URI("file:///w/pieces.yaml")
	rng := rand.New(rand.NewSource(4))
	prev := e.Analyze("pieces.yaml", synth.YAML(100<<10))
	var enc diagEncoder
	enc.encode(u, prev.Template, prev.Findings, e, stableText{}, allDiagFields).keep()
	for v := int32(2); v < 8; v++ {
		res, st := typeAt(t, e, prev, rng)
		pub := enc.encode(u, res.Template, res.Findings, e, st, allDiagFields)
		pub.keep()
		prev = res

		params, err := json.Marshal(newPublishParams(u, &v, toDiagnostics(u, res.Template, res.Findings, e, allDiagFields)))
		if err != nil {
			t.Fatal(err)
		}
		body := `{"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":` + string(params) + "}"
		want := fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)
		if got := frameBytes(pub, v); string(got) != want {
			sameJSON(t, fmt.Sprintf("version %d", v), got, []byte(want))
		}

		w := &recordingWriter{}
		s := newStream(w, zap.NewNop())
		var wg sync.WaitGroup
		for k := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 20 {
					_, _ = s.write([]byte(fmt.Sprintf(`{"jsonrpc":"2.0","method":"other","params":%d}`, k)))
				}
			}()
		}
		if _, err := s.writeFrame(pub.frame(v)...); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		out := w.buf.Bytes()
		found := 0
		for len(out) > 0 {
			head, rest, ok := bytes.Cut(out, []byte("\r\n\r\n"))
			n, err := strconv.Atoi(strings.TrimPrefix(string(head), "Content-Length: "))
			if !ok || err != nil || n > len(rest) {
				t.Fatalf("version %d: not a frame at %q", v, clip(out, 0))
			}
			if msg := rest[:n]; bytes.Contains(msg, []byte("publishDiagnostics")) {
				found++
				if frame := out[:len(head)+4+n]; string(frame) != want {
					t.Fatalf("version %d: the frame written in pieces is not the one-buffer frame", v)
				}
			} else if !json.Valid(msg) {
				t.Fatalf("version %d: a message is broken: %q", v, clip(msg, 0))
			}
			out = rest[n:]
		}
		large, direct := 0, 0
		for _, pc := range pub.diagnostics().pieces {
			if len(pc.b) < gatherSize+holdBack {
				continue // may go with the parts around it
			}
			large++
			for _, b := range w.writes {
				// A slice of the piece ends where the piece does (pieces
				// are capped).
				if c := cap(b); c > 0 && &b[:c][c-1] == &pc.b[len(pc.b)-1] {
					direct++
					break
				}
			}
		}
		if found != 1 || direct < large || large == 0 {
			t.Errorf("version %d: %d publications, %d of %d large pieces written from where they are", v, found, direct, large)
		}
	}
}

// recordingWriter keeps what is written to it, and the slices written.
type recordingWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes [][]byte
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, p)
	return w.buf.Write(p)
}
func (w *recordingWriter) Read([]byte) (int, error) { return 0, io.EOF }
func (w *recordingWriter) Close() error             { return nil }

// toDiagnostics converts the findings of one analysis, in their order, into
// protocol diagnostics: the reference the encoder is held to (its output
// must be json.Marshal's of these).
func toDiagnostics(u uri.URI, t *template.Template, findings []analysis.Finding, e *analysis.Engine, fields diagFields) []protocol.Diagnostic {
	out := make([]protocol.Diagnostic, 0, len(findings))
	for _, f := range findings {
		out = append(out, toDiagnostic(u, t, f, e, fields))
	}
	return out
}
