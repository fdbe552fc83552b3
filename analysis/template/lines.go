package template

import (
	"sort"
	"unicode/utf8"
)

// Span is a half-open range of byte offsets [Start, End) into a document.
type Span struct {
	Start, End int
}

// Contains reports whether the byte offset off lies inside s (an empty span
// contains its start).
func (s Span) Contains(off int) bool {
	return off >= s.Start && (off < s.End || off == s.Start)
}

// Position is a human-facing location: 1-based line, 1-based column counted in
// UTF-16 code units (what editors and SARIF use), and the byte offset.
type Position struct {
	Line   int // 1-based
	Column int // 1-based, UTF-16 code units
	Offset int // byte offset
}

// Lines indexes the start of every line of a document so that byte offsets and
// (line, UTF-16 column) pairs convert both ways. It is the project's single
// position converter: the CLI, SARIF and the language server all go through it.
// Line breaks are LF, CRLF and lone CR, as in LSP.
type Lines struct {
	src    []byte
	starts []int // byte offset of the first byte of each line
}

// NewLines indexes src.
func NewLines(src []byte) *Lines {
	starts := make([]int, 1, 64+len(src)/32)
	for i := 0; i < len(src); i++ {
		switch src[i] {
		case '\n':
			starts = append(starts, i+1)
		case '\r':
			if i+1 < len(src) && src[i+1] == '\n' {
				i++
			}
			starts = append(starts, i+1)
		}
	}
	return &Lines{src: src, starts: starts}
}

// Count returns the number of lines (a document always has at least one).
func (l *Lines) Count() int { return len(l.starts) }

// LineStart returns the byte offset where 0-based line i starts, clamped to the
// document.
func (l *Lines) LineStart(i int) int {
	if i < 0 {
		return 0
	}
	if i >= len(l.starts) {
		return len(l.src)
	}
	return l.starts[i]
}

// LineEnd returns the byte offset of the end of 0-based line i, before its line
// break.
func (l *Lines) LineEnd(i int) int {
	if i < 0 {
		i = 0
	}
	if i+1 >= len(l.starts) {
		return len(l.src)
	}
	end := l.starts[i+1]
	if end > 0 && l.src[end-1] == '\n' {
		end--
	}
	if end > l.starts[i] && l.src[end-1] == '\r' {
		end--
	}
	return end
}

// LineOf returns the 0-based line that contains byte offset off.
func (l *Lines) LineOf(off int) int {
	if off <= 0 {
		return 0
	}
	if off > len(l.src) {
		off = len(l.src)
	}
	return sort.Search(len(l.starts), func(i int) bool { return l.starts[i] > off }) - 1
}

// Position converts a byte offset into a Position. Offsets inside a UTF-8
// sequence or a CRLF pair are moved back to the start of that character.
func (l *Lines) Position(off int) Position {
	if off < 0 {
		off = 0
	}
	if off > len(l.src) {
		off = len(l.src)
	}
	line := l.LineOf(off)
	start := l.lineContentStart(line)
	end := l.LineEnd(line)
	if off > end {
		off = end
	}
	if off < start { // inside the byte-order mark
		off = start
	}
	col := 0
	for i := start; i < off; {
		r, size := utf8.DecodeRune(l.src[i:])
		if i+size > off { // inside a multibyte sequence
			off = i
			break
		}
		col += utf16Len(r)
		i += size
	}
	return Position{Line: line + 1, Column: col + 1, Offset: off}
}

// Offset converts a 0-based line and a 0-based UTF-16 column into a byte
// offset. Positions past the end of a line clamp to the line end, lines past
// the end clamp to the end of the document, and a column inside a surrogate
// pair lands before the character, as LSP requires.
func (l *Lines) Offset(line, utf16Col int) int {
	if line < 0 {
		return 0
	}
	if line >= len(l.starts) {
		return len(l.src)
	}
	i := l.lineContentStart(line)
	end := l.LineEnd(line)
	for col := 0; i < end && col < utf16Col; {
		r, size := utf8.DecodeRune(l.src[i:])
		w := utf16Len(r)
		if col+w > utf16Col {
			break
		}
		col += w
		i += size
	}
	return i
}

// lineContentStart is where columns start counting on 0-based line i: the
// line start, except after a byte-order mark on the first line, which is not
// a character (SARIF and LSP clients do not count it).
func (l *Lines) lineContentStart(i int) int {
	if i == 0 && len(l.src) >= 3 && l.src[0] == 0xEF && l.src[1] == 0xBB && l.src[2] == 0xBF {
		return 3
	}
	return l.starts[i]
}

// OffsetOfRuneColumn converts a 1-based line and a 1-based column counted in
// Unicode code points (yaml.v3's convention) into a byte offset. On the first
// line a byte-order mark is skipped, since yaml.v3 does not count it.
func (l *Lines) OffsetOfRuneColumn(line, col int) int {
	if line < 1 {
		line = 1
	}
	if line > len(l.starts) {
		return len(l.src)
	}
	i := l.lineContentStart(line - 1)
	end := l.LineEnd(line - 1)
	for c := 1; c < col && i < end; c++ {
		_, size := utf8.DecodeRune(l.src[i:])
		i += size
	}
	return i
}

// Indent returns the number of leading spaces of the line containing off.
func (l *Lines) Indent(off int) int {
	i := l.starts[l.LineOf(off)]
	n := 0
	for i+n < len(l.src) && l.src[i+n] == ' ' {
		n++
	}
	return n
}

func utf16Len(r rune) int {
	if r >= 0x10000 && r <= utf8.MaxRune {
		return 2
	}
	return 1
}

// Splice updates the index after the bytes [start, end) of the old document
// were replaced by n new bytes, giving src. Only the lines around the edit
// are rescanned; the line starts after it are shifted. The language server
// uses it so that applying a keystroke does not rescan the whole document.
// l is modified and returned.
func (l *Lines) Splice(src []byte, start, end, n int) *Lines {
	l.starts = l.splice(src, start, end, n, true)
	l.src = src
	return l
}

// spliced is Splice that leaves l alone and returns a new index: Reparse
// must keep the old template's valid. It builds the new line starts in one
// pass, instead of copying l and splicing the copy.
func (l *Lines) spliced(src []byte, start, end, n int) *Lines {
	return &Lines{src: src, starts: l.splice(src, start, end, n, false)}
}

// splice returns the line starts of src after the edit; unless inPlace,
// l.starts is not modified.
func (l *Lines) splice(src []byte, start, end, n int, inPlace bool) []int {
	// Rescan from the start of the line before the edit (a CR before the edit
	// and an LF at its start merge into one break) to the start of the second
	// line after it (the edit may remove or add the break before the next).
	a := max(l.LineOf(start)-1, 0)
	b := l.LineOf(end)
	scanFrom := l.starts[a]
	tail := b + 2 // first line start that is kept and shifted
	oldStop := len(l.src)
	if tail < len(l.starts) {
		oldStop = l.starts[tail]
	} else {
		tail = len(l.starts)
	}
	delta := n - (end - start)
	stop := oldStop + delta
	var buf [16]int // the few lines of a keystroke's rescan, without allocating
	mid := buf[:0]
	for i := scanFrom; i < stop; i++ {
		switch src[i] {
		case '\n':
			mid = append(mid, i+1)
		case '\r':
			if i+1 < len(src) && src[i+1] == '\n' {
				i++
			}
			mid = append(mid, i+1)
		}
	}
	// A break found by the scan that ends exactly at stop is the start of the
	// kept tail, which is added below.
	if len(mid) > 0 && mid[len(mid)-1] == stop && tail < len(l.starts) {
		mid = mid[:len(mid)-1]
	}
	kept := l.starts[tail:]
	out := l.starts[:a+1]
	if need := a + 1 + len(mid) + len(kept); !inPlace || need > cap(l.starts) || len(mid) > tail-(a+1) {
		out = make([]int, a+1, need+16)
		copy(out, l.starts[:a+1])
		out = append(out, mid...)
		for _, s := range kept {
			out = append(out, s+delta)
		}
	} else {
		// In place: the new middle is no longer than the old one.
		out = append(out, mid...)
		for _, s := range kept {
			out = append(out, s+delta)
		}
	}
	return out
}

// lineOf returns the 1-based line of offset off of src, as lines.Position
// would. When lines is nil (an incremental re-parse reads an entry before
// it updates the line index), base is the 0-based line of offset baseOff,
// which precedes off, and the line starts in (baseOff, off] are counted as
// NewLines finds them: after an LF, and after a CR that no LF follows.
func lineOf(src []byte, lines *Lines, base, baseOff, off int) int {
	if lines != nil {
		return lines.Position(off).Line
	}
	n := base
	for i := baseOff; i < off; i++ {
		switch src[i] {
		case '\n':
			n++
		case '\r':
			if i+1 >= len(src) || src[i+1] != '\n' {
				n++
			}
		}
	}
	return n + 1
}
