package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestPreCommitHooks checks .pre-commit-hooks.yaml: it parses, has the keys
// pre-commit requires, runs a command that exists, and its files pattern
// selects exactly the names a directory walk checks.
func TestPreCommitHooks(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, ".pre-commit-hooks.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var hooks []map[string]any
	if err := yaml.Unmarshal(data, &hooks); err != nil {
		t.Fatalf("not YAML: %v", err)
	}
	if len(hooks) != 1 {
		t.Fatalf("want one hook, got %d", len(hooks))
	}
	h := hooks[0]
	for _, key := range []string{"id", "name", "entry", "language"} { // required by pre-commit
		if s, ok := h[key].(string); !ok || s == "" {
			t.Errorf("%s: missing or not a string: %v", key, h[key])
		}
	}
	if h["id"] != "soc2ls" || h["language"] != "golang" || h["pass_filenames"] != true {
		t.Errorf("hook: %v", h)
	}
	entry := strings.Fields(h["entry"].(string))
	found := false
	for _, c := range commands() {
		found = found || (len(entry) == 2 && entry[0] == "soc2ls" && entry[1] == c.name)
	}
	if !found || entry[1] != "check" {
		t.Errorf("entry %q does not run soc2ls check", h["entry"])
	}
	// pre-commit matches with Python's re.search; this pattern means the
	// same in RE2.
	files, err := regexp.Compile(h["files"].(string))
	if err != nil {
		t.Fatalf("files: %v", err)
	}
	for _, name := range []string{"a.yaml", "b/c.yml", "d.json", "e.template", "F.YAML", "g.Template", "h.txt", "i.yaml.bak", "yaml", "j.jsonl", "k.tpl"} {
		if got, want := files.MatchString(name), isTemplateName(filepath.Base(name)); got != want {
			t.Errorf("files pattern on %q: %v, a walk: %v", name, got, want)
		}
	}
}
