package lsp

import (
	"strings"
	"testing"
	"unicode/utf8"

	"go.lsp.dev/protocol"
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
			text = want
		}
	})
}
