package lsp

import (
	"math/rand"
	"strings"
	"testing"
	"unicode/utf16"

	"go.lsp.dev/protocol"
)

// utf16Pos is the reference conversion: the LSP position of byte offset off,
// computed from scratch over the text as UTF-16.
func utf16Pos(text string, off int) protocol.Position {
	line, col := 0, 0
	for i := 0; i < off; {
		r := []rune(text[i:])[0]
		n := len(string(r))
		switch {
		case r == '\r' && i+1 < len(text) && text[i+1] == '\n':
			if i+1 == off {
				return protocol.Position{Line: uint32(line), Character: uint32(col)}
			}
			line, col = line+1, 0
			n = 2
		case r == '\n' || r == '\r':
			line, col = line+1, 0
		default:
			col += len(utf16.Encode([]rune{r}))
		}
		i += n
	}
	return protocol.Position{Line: uint32(line), Character: uint32(col)}
}

// TestApplyChanges applies random ranged edits to text with surrogate
// pairs, multibyte characters and mixed line breaks, and compares with a
// reference model of the text.
func TestApplyChanges(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	pieces := []string{"a", "Key: ", "é", "€", "😀", "𝄞", "\n", "\r\n", "\r", " ", "!Ref X"}
	randText := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteString(pieces[rng.Intn(len(pieces))])
		}
		return b.String()
	}
	// boundaries are the byte offsets a position can name: not inside a
	// character, not between CR and LF.
	boundaries := func(s string) []int {
		var out []int
		for i := range s {
			if i > 0 && s[i-1] == '\r' && s[i] == '\n' {
				continue
			}
			out = append(out, i)
		}
		return append(out, len(s))
	}
	for iter := 0; iter < 300; iter++ {
		text := randText(rng.Intn(30))
		d := newDocument("file:///x.yaml", "yaml", 1, text)
		for step := 0; step < 10; step++ {
			b := boundaries(text)
			i, j := b[rng.Intn(len(b))], b[rng.Intn(len(b))]
			if i > j {
				i, j = j, i
			}
			ins := randText(rng.Intn(4))
			rg := protocol.Range{Start: utf16Pos(text, i), End: utf16Pos(text, j)}
			if err := d.applyChanges(d.version+1, []contentChange{{Range: &rg, Text: ins}}); err != nil {
				t.Fatal(err)
			}
			text = text[:i] + ins + text[j:]
			if string(d.text) != text {
				t.Fatalf("after replacing %+v with %q: text %q, want %q", rg, ins, d.text, text)
			}
			for _, off := range boundaries(text) {
				if got := d.offset(utf16Pos(text, off)); got != off {
					t.Fatalf("text %q: position %+v maps to byte %d, want %d", text, utf16Pos(text, off), got, off)
				}
			}
		}
	}
}

// TestFullTextChange tells a change without a range (the whole text) from
// an insertion at 0:0, which the library's own struct cannot.
func TestFullTextChange(t *testing.T) {
	d := newDocument("file:///x.yaml", "yaml", 1, "old text\n")
	if err := d.applyChanges(2, []contentChange{{Text: "new\n"}}); err != nil {
		t.Fatal(err)
	}
	if string(d.text) != "new\n" {
		t.Errorf("full change: %q", d.text)
	}
	zero := protocol.Range{}
	if err := d.applyChanges(3, []contentChange{{Range: &zero, Text: "# head\n"}}); err != nil {
		t.Fatal(err)
	}
	if string(d.text) != "# head\nnew\n" {
		t.Errorf("insert at 0:0: %q", d.text)
	}
	// Several changes in one notification apply in order.
	r1 := protocol.Range{Start: protocol.Position{Line: 1, Character: 0}, End: protocol.Position{Line: 1, Character: 3}}
	r2 := protocol.Range{Start: protocol.Position{Line: 0, Character: 2}, End: protocol.Position{Line: 0, Character: 6}}
	if err := d.applyChanges(4, []contentChange{{Range: &r1, Text: "😀"}, {Range: &r2, Text: "top"}}); err != nil {
		t.Fatal(err)
	}
	if string(d.text) != "# top\n😀\n" || d.version != 4 {
		t.Errorf("two changes: %q (version %d)", d.text, d.version)
	}
	// A position inside a surrogate pair lands before the character.
	mid := protocol.Range{Start: protocol.Position{Line: 1, Character: 1}, End: protocol.Position{Line: 1, Character: 1}}
	if err := d.applyChanges(5, []contentChange{{Range: &mid, Text: "x"}}); err != nil {
		t.Fatal(err)
	}
	if string(d.text) != "# top\nx😀\n" {
		t.Errorf("insert inside a surrogate pair: %q", d.text)
	}
}

// TestDidChangeDecoding decodes didChange params as they come off the wire.
func TestDidChangeDecoding(t *testing.T) {
	var p didChangeParams
	raw := `{"textDocument":{"uri":"file:///a.yaml","version":3},"contentChanges":[{"text":"all"},{"range":{"start":{"line":0,"character":0},"end":{"line":0,"character":0}},"rangeLength":0,"text":"x"}]}`
	if err := decodeParams([]byte(raw), &p); err != nil {
		t.Fatal(err)
	}
	if p.ContentChanges[0].Range != nil || p.ContentChanges[1].Range == nil {
		t.Errorf("ranges decoded as %v and %v", p.ContentChanges[0].Range, p.ContentChanges[1].Range)
	}
}

func TestFilenameOf(t *testing.T) {
	for _, c := range []struct{ uri, lang, want string }{
		{"file:///w/a.yaml", "yaml", "/w/a.yaml"},
		{"untitled:Untitled-1", "yaml", "Untitled-1"},
		{"untitled:Untitled-2", "json", "Untitled-2.json"},
		{"vscode-notebook-cell:/w/x.ipynb#cell1", "yaml", "/w/x.ipynb"},
		{"file://%zz", "yaml", "file://%zz"},
	} {
		if got := filenameOf(protocol.DocumentURI(c.uri), c.lang); got != c.want {
			t.Errorf("filenameOf(%q, %q) = %q, want %q", c.uri, c.lang, got, c.want)
		}
	}
}
