package evidence

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestMarkdownTruncates: a report too long for a comment is cut, with a
// note saying how many findings were left out; it stays valid (every
// <details> closed) and keeps its matrix, exceptions and scope.
func TestMarkdownTruncates(t *testing.T) {
	src, err := os.ReadFile("../../testdata/examples/fintech-weak.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var paths []string
	for i := range 40 {
		p := filepath.Join(dir, "stack"+strconv.Itoa(i), "weak.yaml")
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, src, 0o644)
		paths = append(paths, p)
	}
	rep, _ := analyse(t, paths...)
	var b bytes.Buffer
	if err := Markdown(&b, rep); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if n := utf8.RuneCountInString(out); n > MarkdownLimit || len(out) > 65536 {
		t.Errorf("%d characters, %d bytes: over the limit", n, len(out))
	}
	m := regexp.MustCompile(`\*\*(\d+) of (\d+) open findings not shown\*\*`).FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no truncation note")
	}
	shown := strings.Count(out, "\n- ")
	left, _ := strconv.Atoi(m[1])
	total, _ := strconv.Atoi(m[2])
	if total != rep.Summary.Findings || shown+left != total {
		t.Errorf("note says %d of %d left out; %d shown, %d findings in the report", left, total, shown, rep.Summary.Findings)
	}
	if strings.Count(out, "<details>") != strings.Count(out, "</details>") {
		t.Error("unbalanced <details>")
	}
	if !strings.Contains(out, "| **PI1.5**") || !strings.HasSuffix(out, "_"+Scope+"_\n") {
		t.Error("matrix or scope note lost")
	}
	if !rep.GroupedByFolder || !strings.Contains(out, "Columns are folders") {
		t.Error("40 templates should be grouped by folder")
	}
}

// TestMarkdownEscapes: markup in names and reasons does not take effect in
// a comment.
func TestMarkdownEscapes(t *testing.T) {
	t.Chdir("../..")
	rep, _ := analyse(t, "testdata/report/hostile.yaml")
	var b bytes.Buffer
	if err := Markdown(&b, rep); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, bad := range []string{"<script", "<img", "**bold**", "`tick`", " | pipe"} {
		if strings.Contains(out, bad) {
			t.Errorf("markdown contains %q unescaped", bad)
		}
	}
	if !strings.Contains(out, `&lt;script&gt;alert(1)&lt;/script&gt;`) || !strings.Contains(out, `\*\*bold\*\*`) {
		t.Errorf("escaped text missing:\n%s", out)
	}
}
