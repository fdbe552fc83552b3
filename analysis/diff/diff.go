// Package diff computes line differences and renders them as unified diffs,
// the format of `git diff` and `diff -u` that patch(1) and `git apply` read.
// soc2ls check --diff uses it to show what --fix would change without
// changing anything.
package diff

import (
	"bytes"
	"fmt"
	"strings"
)

// maxTrace bounds the memory of the shortest-edit search, which keeps
// about D² positions for D changed lines: 1<<24 int32s (64 MB) allows some
// 4000 changed lines in one file. Beyond it, the differing middle of the two
// texts is reported as replaced whole, which is still a correct diff, only
// not a minimal one. Fixes change far fewer lines.
const maxTrace = 1 << 24

// Unified returns the unified diff that turns a into b, with the header
// "--- aName" / "+++ bName" and hunks with context unchanged lines around
// each change (3 is what git uses). It returns nil when a and b are equal.
//
// Lines end after each "\n" and keep their line breaks, so CRLF files diff
// and patch as CRLF. A last line without a line break is followed by
// "\ No newline at end of file", as in diff -u.
func Unified(aName, bName string, a, b []byte, context int) []byte {
	if bytes.Equal(a, b) {
		return nil
	}
	al, bl := splitLines(a), splitLines(b)
	ops := Lines(al, bl)
	var out bytes.Buffer
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", aName, bName)
	for _, h := range hunks(ops, context) {
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", hunkRange(h.aStart, h.aCount), hunkRange(h.bStart, h.bCount))
		for _, o := range ops[h.from:h.to] {
			var prefix byte
			var line string
			switch o.Kind {
			case Equal:
				prefix, line = ' ', al[o.A]
			case Delete:
				prefix, line = '-', al[o.A]
			case Insert:
				prefix, line = '+', bl[o.B]
			}
			out.WriteByte(prefix)
			out.WriteString(line)
			if !strings.HasSuffix(line, "\n") {
				out.WriteString("\n\\ No newline at end of file\n")
			}
		}
	}
	return out.Bytes()
}

// splitLines cuts text after each "\n"; a last line without one is kept.
func splitLines(text []byte) []string {
	var lines []string
	for len(text) > 0 {
		i := bytes.IndexByte(text, '\n') + 1
		if i == 0 {
			i = len(text)
		}
		lines = append(lines, string(text[:i]))
		text = text[i:]
	}
	return lines
}

// Kind is what an Op does.
type Kind uint8

// The kinds of Op.
const (
	Equal  Kind = iota // a[A] == b[B], kept
	Delete             // a[A] removed
	Insert             // b[B] added
)

// Op is one step of an edit script; A and B are the indices of the lines
// it concerns in a and b (for Delete, B is where b stands; for Insert, A).
type Op struct {
	Kind Kind
	A, B int
}

// Lines returns a shortest edit script turning a into b (Myers' O(ND)
// algorithm over the lines between the common prefix and suffix), with
// deletions before insertions within each change, as diff tools write them.
func Lines(a, b []string) []Op {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var ops []Op
	for i := range pre {
		ops = append(ops, Op{Equal, i, i})
	}
	ops = append(ops, middle(a[pre:len(a)-suf], b[pre:len(b)-suf], pre, pre)...)
	for i := range suf {
		ops = append(ops, Op{Equal, len(a) - suf + i, len(b) - suf + i})
	}
	return ops
}

// middle is Myers' greedy forward search with a trace for backtracking; a0
// and b0 offset the indices it returns.
func middle(a, b []string, a0, b0 int) []Op {
	n, m := len(a), len(b)
	if n == 0 || m == 0 {
		return replace(n, m, a0, b0)
	}
	// Compare small integers rather than strings.
	ids := map[string]int{}
	intern := func(lines []string) []int {
		out := make([]int, len(lines))
		for i, l := range lines {
			id, ok := ids[l]
			if !ok {
				id = len(ids)
				ids[l] = id
			}
			out[i] = id
		}
		return out
	}
	x1, y1 := intern(a), intern(b)
	max := n + m
	off := max + 1
	v := make([]int32, 2*max+3)
	var trace [][]int32 // trace[d][k+d]: v at the start of step d
	used := 0
	for d := 0; d <= max; d++ {
		if used += 2*d + 1; used > maxTrace {
			return replace(n, m, a0, b0)
		}
		trace = append(trace, append([]int32(nil), v[off-d:off+d+1]...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = int(v[off+k+1]) // down: an insertion
			} else {
				x = int(v[off+k-1]) + 1 // right: a deletion
			}
			y := x - k
			for x < n && y < m && x1[x] == y1[y] {
				x++
				y++
			}
			v[off+k] = int32(x)
			if x >= n && y >= m {
				return backtrack(trace, d, n, m, a0, b0)
			}
		}
	}
	panic("unreachable: the search ends by step n+m")
}

func backtrack(trace [][]int32, dEnd, x, y, a0, b0 int) []Op {
	var rev []Op
	for d := dEnd; d > 0; d-- {
		v := trace[d]
		at := func(k int) int { return int(v[k+d]) }
		k := x - y
		var prevK int
		if k == -d || (k != d && at(k-1) < at(k+1)) {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := at(prevK)
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x, y = x-1, y-1
			rev = append(rev, Op{Equal, a0 + x, b0 + y})
		}
		if x == prevX {
			rev = append(rev, Op{Insert, a0 + x, b0 + prevY})
		} else {
			rev = append(rev, Op{Delete, a0 + prevX, b0 + y})
		}
		x, y = prevX, prevY
	}
	for x > 0 && y > 0 {
		x, y = x-1, y-1
		rev = append(rev, Op{Equal, a0 + x, b0 + y})
	}
	ops := make([]Op, len(rev))
	for i, o := range rev {
		ops[len(rev)-1-i] = o
	}
	return groupChanges(ops)
}

// groupChanges moves the deletions of each run of changes before its
// insertions ("-old" lines, then "+new" lines), which is how diff tools show
// a replaced block; the script stays valid since the run has no Equal.
func groupChanges(ops []Op) []Op {
	for i := 0; i < len(ops); {
		if ops[i].Kind == Equal {
			i++
			continue
		}
		j := i
		for j < len(ops) && ops[j].Kind != Equal {
			j++
		}
		var dels, inss []Op
		for _, o := range ops[i:j] {
			if o.Kind == Delete {
				dels = append(dels, o)
			} else {
				inss = append(inss, o)
			}
		}
		aAt, bAt := ops[i].A, ops[i].B
		for n, o := range dels {
			ops[i+n] = Op{Delete, o.A, bAt}
		}
		for n, o := range inss {
			ops[i+len(dels)+n] = Op{Insert, aAt + len(dels), o.B}
		}
		i = j
	}
	return ops
}

// replace is the script that deletes n lines and inserts m.
func replace(n, m, a0, b0 int) []Op {
	ops := make([]Op, 0, n+m)
	for i := range n {
		ops = append(ops, Op{Delete, a0 + i, b0})
	}
	for j := range m {
		ops = append(ops, Op{Insert, a0 + n, b0 + j})
	}
	return ops
}

// hunk is ops[from:to], covering aCount lines of a from line aStart
// (0-based) and bCount of b from bStart.
type hunk struct {
	from, to               int
	aStart, aCount, bStart int
	bCount                 int
}

// hunks groups the changes of ops with context lines around them, merging
// changes whose contexts touch or overlap.
func hunks(ops []Op, context int) []hunk {
	var out []hunk
	for i := 0; i < len(ops); {
		if ops[i].Kind == Equal {
			i++
			continue
		}
		from := max(0, i-context)
		last := i // the last change of the hunk
		for j := i + 1; j < len(ops) && j-last <= 2*context+1; j++ {
			if ops[j].Kind != Equal {
				last = j
			}
		}
		to := min(len(ops), last+1+context)
		h := hunk{from: from, to: to, aStart: ops[from].A, bStart: ops[from].B}
		for _, o := range ops[from:to] {
			if o.Kind != Insert {
				h.aCount++
			}
			if o.Kind != Delete {
				h.bCount++
			}
		}
		out = append(out, h)
		i = to
	}
	return out
}

// hunkRange renders "start,count" as diff -u does: 1-based, ",1" omitted,
// and for an empty range the line before it (0 at the start of the file).
func hunkRange(start, count int) string {
	switch count {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, count)
}
