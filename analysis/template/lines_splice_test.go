package template

import (
	"math/rand"
	"reflect"
	"testing"
)

// TestLinesSplice checks Splice against a full rebuild on random edits made
// of characters that matter to line breaking.
func TestLinesSplice(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	alphabet := []byte("ab\r\n\n\r€")
	randText := func(n int) []byte {
		b := make([]byte, 0, n)
		for len(b) < n {
			b = append(b, alphabet[rng.Intn(len(alphabet))])
		}
		return b
	}
	for iter := 0; iter < 3000; iter++ {
		src := randText(rng.Intn(40))
		l := NewLines(append([]byte(nil), src...))
		for step := 0; step < 8; step++ {
			start := rng.Intn(len(src) + 1)
			end := start + rng.Intn(len(src)-start+1)
			ins := randText(rng.Intn(6))
			next := append(append(append([]byte(nil), src[:start]...), ins...), src[end:]...)
			l = l.Splice(next, start, end, len(ins))
			want := NewLines(next)
			if !reflect.DeepEqual(l.starts, want.starts) {
				t.Fatalf("splice %q [%d,%d) <- %q: starts %v, want %v", src, start, end, ins, l.starts, want.starts)
			}
			src = next
		}
	}
}
