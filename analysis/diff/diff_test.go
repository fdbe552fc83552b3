package diff

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the .diff golden files")

// TestUnifiedGolden diffs each testdata/NAME.old against NAME.new and
// compares with NAME.diff, which was checked against GNU diff -u and git
// apply when written.
func TestUnifiedGolden(t *testing.T) {
	olds, err := filepath.Glob(filepath.Join("testdata", "*.old"))
	if err != nil || len(olds) == 0 {
		t.Fatalf("no test cases: %v", err)
	}
	for _, oldPath := range olds {
		name := strings.TrimSuffix(filepath.Base(oldPath), ".old")
		t.Run(name, func(t *testing.T) {
			a := read(t, oldPath)
			b := read(t, filepath.Join("testdata", name+".new"))
			got := Unified("a/"+name, "b/"+name, a, b, 3)
			golden := filepath.Join("testdata", name+".diff")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if want := read(t, golden); !bytes.Equal(got, want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
			if patched, err := apply(a, got); err != nil || !bytes.Equal(patched, b) {
				t.Errorf("applying the diff: %q, %v; want %q", patched, err, b)
			}
		})
	}
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestUnifiedEqual(t *testing.T) {
	if d := Unified("a", "b", []byte("x\n"), []byte("x\n"), 3); d != nil {
		t.Errorf("equal texts: %q", d)
	}
}

// TestLinesMinimal compares the length of the edit script with the edit
// distance computed by dynamic programming, on random texts over a small
// alphabet (many repeated lines, the hard case), and applies each diff.
func TestLinesMinimal(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	text := func() []string {
		lines := make([]string, r.Intn(12))
		for i := range lines {
			lines[i] = string(rune('a'+r.Intn(3))) + "\n"
		}
		return lines
	}
	for i := range 2000 {
		a, b := text(), text()
		ops := Lines(a, b)
		changes := 0
		var ia, ib int
		for _, o := range ops {
			switch o.Kind {
			case Equal:
				if o.A != ia || o.B != ib || a[o.A] != b[o.B] {
					t.Fatalf("case %d: bad equal op %+v at %d,%d", i, o, ia, ib)
				}
				ia, ib = ia+1, ib+1
			case Delete:
				if o.A != ia {
					t.Fatalf("case %d: delete %+v at %d", i, o, ia)
				}
				ia++
				changes++
			case Insert:
				if o.B != ib {
					t.Fatalf("case %d: insert %+v at %d", i, o, ib)
				}
				ib++
				changes++
			}
		}
		if ia != len(a) || ib != len(b) {
			t.Fatalf("case %d: script covers %d,%d of %d,%d lines", i, ia, ib, len(a), len(b))
		}
		if want := len(a) + len(b) - 2*lcs(a, b); changes != want {
			t.Fatalf("case %d: %d changes, want %d\na=%q\nb=%q", i, changes, want, a, b)
		}
		ja, jb := []byte(strings.Join(a, "")), []byte(strings.Join(b, ""))
		for _, ctx := range []int{0, 1, 3} {
			if got, err := apply(ja, Unified("a", "b", ja, jb, ctx)); err != nil || !bytes.Equal(got, jb) {
				t.Fatalf("case %d, context %d: patch gives %q, %v; want %q", i, ctx, got, err, jb)
			}
		}
	}
}

func lcs(a, b []string) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

// TestLinesLarge: a few changes in a long text cost O((N+M)D), and the
// memory bound turns a hopeless case into a replacement, not an explosion.
func TestLinesLarge(t *testing.T) {
	var a, b []string
	for i := range 50000 {
		a = append(a, "line "+strconv.Itoa(i)+"\n")
		b = append(b, "line "+strconv.Itoa(i)+"\n")
	}
	b[10] = "changed\n"
	b[49990] = "changed too\n"
	ops := Lines(a, b)
	if n := countChanges(ops); n != 4 {
		t.Errorf("%d changes, want 4", n)
	}
	// Nothing in common: the search would need D = N+M steps.
	var c []string
	for i := range 20000 {
		c = append(c, "other "+strconv.Itoa(i)+"\n")
	}
	if n := countChanges(Lines(a[:20000], c)); n != 40000 {
		t.Errorf("%d changes, want 40000", n)
	}
}

func countChanges(ops []Op) int {
	n := 0
	for _, o := range ops {
		if o.Kind != Equal {
			n++
		}
	}
	return n
}

// apply is a minimal patch(1) for a single-file unified diff, strict about
// context, so that the tests check the diff's meaning, not only its text.
func apply(src, patch []byte) ([]byte, error) {
	if len(patch) == 0 {
		return src, nil
	}
	old := splitLines(src)
	lines := splitLines(patch)
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "--- ") || !strings.HasPrefix(lines[1], "+++ ") {
		return nil, fmt.Errorf("no header")
	}
	var out []string
	pos := 0
	for i := 2; i < len(lines); {
		var aStart, aCount, bStart, bCount int
		h := strings.TrimSuffix(lines[i], "\n")
		if _, err := fmt.Sscanf(normaliseHeader(h), "@@ -%d,%d +%d,%d @@", &aStart, &aCount, &bStart, &bCount); err != nil {
			return nil, fmt.Errorf("bad hunk header %q: %v", h, err)
		}
		first := aStart - 1
		if aCount == 0 {
			first = aStart
		}
		if first < pos {
			return nil, fmt.Errorf("hunks overlap")
		}
		out = append(out, old[pos:first]...)
		pos = first
		i++
		gotA, gotB := 0, 0
		for i < len(lines) && !strings.HasPrefix(lines[i], "@@") {
			l := lines[i]
			body := l[1:]
			if i+1 < len(lines) && lines[i+1] == "\\ No newline at end of file\n" {
				body = strings.TrimSuffix(body, "\n")
				i++
			}
			switch l[0] {
			case ' ', '-':
				if pos >= len(old) || old[pos] != body {
					return nil, fmt.Errorf("context mismatch at line %d: %q", pos+1, body)
				}
				pos++
				gotA++
				if l[0] == ' ' {
					out = append(out, body)
					gotB++
				}
			case '+':
				out = append(out, body)
				gotB++
			default:
				return nil, fmt.Errorf("bad line %q", l)
			}
			i++
		}
		if gotA != aCount || gotB != bCount {
			return nil, fmt.Errorf("hunk %q has %d,%d lines", h, gotA, gotB)
		}
	}
	out = append(out, old[pos:]...)
	return []byte(strings.Join(out, "")), nil
}

// normaliseHeader restores the ",1" that diff -u omits.
func normaliseHeader(h string) string {
	f := strings.Fields(h)
	for i := 1; i <= 2 && i < len(f); i++ {
		if !strings.Contains(f[i], ",") {
			f[i] += ",1"
		}
	}
	return strings.Join(f, " ")
}
