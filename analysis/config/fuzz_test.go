package config

import (
	"testing"
)

// FuzzParse: any input yields a File, never a panic, and every error has a
// position inside the text.
func FuzzParse(f *testing.F) {
	f.Add([]byte(Starter()))
	f.Add([]byte("rules: {SOC2-TPL-001: off}\nignore: ['**/x', '[']\n"))
	f.Add([]byte("a: &x 1\nb: *x\n---\n- 1\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		cf := Parse(FileName, src, known)
		for _, e := range cf.Errors {
			if e.Span.Start < 0 || e.Span.End > len(src) || e.Span.Start > e.Span.End || e.Line < 1 || e.Column < 1 {
				t.Fatalf("bad position %+v for %q", e, src)
			}
		}
	})
}
