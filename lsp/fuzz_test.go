package lsp

import (
	"strings"
	"testing"
	"unicode/utf8"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"
)

// refOffset is the naive reference for an LSP position: walk the text from
// its start, counting line breaks (LF, CRLF, lone CR) and then UTF-16 units.
// Columns past the line end clamp to it, lines past the end clamp to the end
// of the text, and a column inside a surrogate pair lands before the
// character. Every character counts, a byte-order mark (U+FEFF) included:
// it is part of the text the client sent.
func refOffset(text string, line, char int) int {
	i := 0
	for l := 0; l < line; l++ {
		j := strings.IndexAny(text[i:], "\r\n")
		if j < 0 {
			return len(text)
		}
		i += j
		if strings.HasPrefix(text[i:], "\r\n") {
			i += 2
		} else {
			i++
		}
	}
	end := len(text)
	if j := strings.IndexAny(text[i:], "\r\n"); j >= 0 {
		end = i + j
	}
	for col := 0; i < end; {
		r, size := utf8.DecodeRuneInString(text[i:])
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if col+w > char {
			break
		}
		col += w
		i += size
	}
	return i
}

// refApply is the naive reference for one didChange: every change applied
// to a fresh string, or nothing at all when a range ends before it starts.
func refApply(text string, changes []contentChange) (string, bool) {
	for _, c := range changes {
		if c.Range != nil && less(c.Range.End, c.Range.Start) {
			return text, false
		}
	}
	for _, c := range changes {
		if c.Range == nil {
			text = c.Text
			continue
		}
		i := refOffset(text, int(c.Range.Start.Line), int(c.Range.Start.Character))
		j := refOffset(text, int(c.Range.End.Line), int(c.Range.End.Character))
		text = text[:i] + c.Text + text[j:]
	}
	return text, true
}

// fragments are what the fuzzed changes insert: line breaks of every kind
// (a CR followed later by an LF merges two breaks), multibyte and astral
// characters, a byte-order mark, YAML punctuation.
var fragments = []string{"a", "\n", "\r", "\r\n", "é", "😀", "𝄞", "\ufeff", " ", ": ", "- ", "[", "}", "\t", "#", "Resources:\n"}

// decodeChanges turns fuzz bytes into a sequence of didChange notifications:
// each op is six bytes (kind, start line and column, end line and column,
// inserted text).
func decodeChanges(ops []byte) [][]contentChange {
	var out [][]contentChange
	var cur []contentChange
	for len(ops) >= 6 {
		op := ops[:6]
		ops = ops[6:]
		var ins strings.Builder
		for k := 0; k < int(op[5]>>6); k++ {
			ins.WriteString(fragments[(int(op[5])+k*7)%len(fragments)])
		}
		c := contentChange{Text: ins.String()}
		if op[0]%16 != 0 { // mostly ranged changes, now and then the whole text
			// Small numbers mostly, to hit real positions; large ones test
			// the clamping.
			num := func(b byte) uint32 {
				if b >= 0xf0 {
					return uint32(b) << 16
				}
				return uint32(b % 24)
			}
			c.Range = &protocol.Range{
				Start: protocol.Position{Line: num(op[1]) % 12, Character: num(op[2])},
				End:   protocol.Position{Line: num(op[3]) % 12, Character: num(op[4])},
			}
			if op[1] >= 0xf0 {
				c.Range.Start.Line = num(op[1])
			}
		}
		cur = append(cur, c)
		if op[0]&0x80 == 0 || len(cur) == 4 { // end of this notification
			out = append(out, cur)
			cur = nil
		}
	}
	if cur != nil {
		out = append(out, cur)
	}
	return out
}

// FuzzApplyChanges applies fuzzed sequences of content changes to a document
// and compares its text, after every notification, with the naive reference:
// the server's copy must always equal what the client has.
func FuzzApplyChanges(f *testing.F) {
	f.Add("", []byte{1, 0, 0, 0, 0, 0x41})
	f.Add("a\r\nb\rc\nd", []byte{1, 1, 1, 2, 0, 0x81, 0x81, 0, 1, 0, 3, 0x42, 1, 0, 0, 9, 9, 0})
	f.Add("\ufeffAWSTemplateFormatVersion: x\n", []byte{1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0x47})
	f.Add("😀𝄞é\n€", []byte{1, 0, 1, 0, 3, 0x43, 1, 1, 0, 0, 5, 0x45, 0x10, 0, 0, 0, 0, 0xc0})
	f.Add("x: 1\ny: 2\n", []byte{1, 0xff, 0xff, 0xff, 0xff, 0x40, 1, 1, 3, 0, 2, 0, 1, 3, 0, 3, 0, 0x83})
	f.Add("a\rb", []byte{1, 1, 0, 1, 0, 0x41, 1, 0, 1, 0, 1, 0x42})
	f.Add("abc\ndef", []byte{0x81, 0, 1, 0, 2, 0x41, 1, 1, 2, 0, 3, 0x42, 1, 0, 2, 0, 0, 0})
	f.Fuzz(func(t *testing.T, text string, ops []byte) {
		// Text arrives as a JSON string, which is always valid UTF-8 once
		// decoded (invalid bytes and lone surrogates become U+FFFD).
		text = strings.ToValidUTF8(text, "\uFFFD")
		d := newDocument("file:///f.yaml", "yaml", 1, text)
		for n, changes := range decodeChanges(ops) {
			want, ok := refApply(text, changes)
			err := d.applyChanges(d.version+1, changes)
			if ok != (err == nil) {
				t.Fatalf("notification %d %+v: error %v, reference accepts: %v", n, changes, err, ok)
			}
			if string(d.text) != want {
				t.Fatalf("notification %d on %q: %+v\n got %q\nwant %q", n, text, changes, d.text, want)
			}
			fresh := newDocument("file:///f.yaml", "yaml", 1, want)
			if got, wantLines := d.lines.Count(), fresh.lines.Count(); got != wantLines {
				t.Fatalf("notification %d: the spliced line index has %d lines, a fresh one %d", n, got, wantLines)
			}
			for _, p := range []protocol.Position{{Line: 0, Character: 1}, {Line: 1, Character: 2}, {Line: 3, Character: 0}} {
				if a, b := d.offset(p), fresh.offset(p); a != b {
					t.Fatalf("notification %d: position %+v is byte %d in the spliced index, %d in a fresh one", n, p, a, b)
				}
			}
			if len(want) <= 512 {
				// Both directions of the conversion agree with the reference
				// at every character boundary.
				for off := range want {
					if off > 0 && want[off-1] == '\r' && want[off] == '\n' {
						continue
					}
					p := utf16Pos(want, off)
					if got := toPosition(d.lines, off); got != p {
						t.Fatalf("text %q: offset %d is %+v, want %+v", want, off, got, p)
					}
					if got := d.offset(p); got != off {
						t.Fatalf("text %q: %+v is offset %d, want %d", want, p, got, off)
					}
				}
			}
			text = want
		}
	})
}

// fuzzTexts are the documents FuzzServer opens: valid templates in both
// formats, broken ones, and other YAML.
var fuzzTexts = []string{
	trailTemplate,
	strings.ReplaceAll(trailTemplate, "\n", "\r\n"),
	"\ufeff" + trailTemplate,
	`{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": {"Fn::Sub": "${AWS::StackName}"}}}}}`,
	cfnHead + "Resources: [\n",
	cfnHead + "Resources:\n  A: &a {Type: AWS::SQS::Queue}\n  B: *a\n",
	"",
	"kind: ConfigMap\n",
}

// fuzzMethods are the requests FuzzServer sends at fuzzed positions.
var fuzzMethods = []string{
	"textDocument/hover", "textDocument/definition", "textDocument/references", "textDocument/documentHighlight",
	"textDocument/completion", "textDocument/prepareRename", "textDocument/rename", "textDocument/codeAction",
	"textDocument/documentSymbol", "soc2ls/unknown",
}

// FuzzServer feeds the whole server a stream of valid-ish LSP messages built
// from the fuzz bytes (opens, edits at any position, closes, saves, every
// request at any position, cancellations, configuration changes, broken
// frames). Every request must be answered with a result or a refusal, the
// server's copy of every open document must equal the reference, and the
// server must then still answer a hover on a valid template.
func FuzzServer(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0, 3, 4, 5, 6, 7})
	f.Add([]byte{0, 1, 1, 0, 2, 0, 2, 2, 1, 0, 0, 0x41, 3, 0, 5, 5, 1, 2, 9, 4, 0, 7})
	f.Add([]byte{0, 2, 2, 0, 0, 0, 0, 0, 0x81, 3, 0, 0, 0, 6, 1, 4, 0, 9, 9, 5, 0, 7, 0, 6, 1})
	f.Add([]byte{0, 4, 0, 5, 2, 1, 0, 3, 0, 0x40, 1, 1, 6, 2, 8, 8, 0, 0, 0, 0})
	f.Add([]byte{0, 3, 7, 0, 1, 1, 1, 2, 3, 1, 0xff, 0xff, 0xff, 0xff, 0xc3, 6, 0, 1, 6, 0, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		s := newSession(t, func(srv *Server) { srv.log = zap.NewNop() })
		s.initialize(t, map[string]any{"diagnosticsDelayMs": 0})
		uris := []string{"file:///f/a.yaml", "file:///f/b.json", "untitled:Untitled-1"}
		open := map[string]*doc{}
		var pending []<-chan *wireMsg
		next := func() byte {
			if len(data) == 0 {
				return 0
			}
			b := data[0]
			data = data[1:]
			return b
		}
		for n := 0; n < 40 && len(data) > 0; n++ {
			uri := uris[int(next())%len(uris)]
			p := protocol.Position{Line: uint32(next() % 45), Character: uint32(next() % 40)}
			switch k := next() % 10; k {
			case 0: // didOpen
				text := fuzzTexts[int(next())%len(fuzzTexts)]
				open[uri] = s.open(uri, text)
			case 1: // didChange: fuzzed changes, tracked with the reference
				d := open[uri]
				changes := decodeChanges([]byte{next(), byte(p.Line), byte(p.Character), next(), next(), next()})[0]
				var cs []map[string]any
				for _, c := range changes {
					m := map[string]any{"text": c.Text}
					if c.Range != nil {
						m["range"] = c.Range
					}
					cs = append(cs, m)
				}
				version := int32(next())
				s.notify("textDocument/didChange", map[string]any{"textDocument": map[string]any{"uri": uri, "version": version}, "contentChanges": cs})
				if d != nil {
					if text, ok := refApply(d.text, changes); ok {
						d.text, d.version = text, version
					}
				}
			case 2: // didClose
				s.notify("textDocument/didClose", map[string]any{"textDocument": map[string]any{"uri": uri}})
				delete(open, uri)
			case 3:
				s.notify("textDocument/didSave", map[string]any{"textDocument": map[string]any{"uri": uri}})
			case 4: // configuration
				settings := []map[string]any{
					{"rules": map[string]any{"SOC2-CT-001": "off"}}, {"rules": map[string]any{}}, {"rules": 5},
					{"diagnosticsDelayMs": -1}, {"maxFileSizeMB": 0.0005}, {"maxFileSizeMB": 10}, {"logLevel": "nope"},
				}
				s.notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"soc2ls": settings[int(next())%len(settings)]}})
			case 5: // cancel one of the requests sent so far
				s.notify("$/cancelRequest", map[string]any{"id": int(next()) % (len(pending) + 1)})
			case 6: // a broken frame
				frames := []string{"Content-Length: 3\r\n\r\n{x}", "Content-Length: -1\r\n\r\n", "garbage\r\n", "Content-Length: 2\r\n\r\n[]"}
				s.wm.Lock()
				s.w.Write([]byte(frames[int(next())%len(frames)]))
				s.wm.Unlock()
			default: // a request at the position
				m := fuzzMethods[int(next())%len(fuzzMethods)]
				s.mu.Lock()
				s.nextID++
				id := s.nextID
				s.mu.Unlock()
				td := map[string]any{"uri": uri}
				pending = append(pending, s.start(id, m, map[string]any{"textDocument": td, "position": p, "newName": "NewName",
					"range":   protocol.Range{Start: protocol.Position{Line: p.Line / 2}, End: p},
					"context": map[string]any{"diagnostics": []any{}, "includeDeclaration": true, "only": []string{"quickfix", "source.fixAll"}}}))
			}
		}
		for _, ch := range pending {
			if err := s.wait(ch, nil); !acceptable(err) && !isMethodNotFound(err) {
				t.Fatalf("a request failed: %v", err)
			}
		}
		// Back to a configuration under which the canary is analysed.
		s.notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"soc2ls": map[string]any{"maxFileSizeMB": 10, "rules": map[string]any{}}}})
		a := &abused{session: s, docs: open}
		a.docs[canaryURI] = s.open(canaryURI, trailTemplate)
		a.healthy(t, "the fuzzed stream")
	})
}

func isMethodNotFound(err error) bool {
	re, ok := err.(*rpcError)
	return ok && re.Code == -32601
}
