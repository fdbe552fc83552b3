// Package analysistest runs rules over testdata templates whose expected
// findings are written next to the offending lines, in the style of
// golang.org/x/tools/go/analysis/analysistest:
//
//	Value: production # want "SOC2-TAG-001 warning: .*literal \"production\""
//
// Each expectation is a Go-quoted regular expression matched against
// "RULE-ID severity: message" of a finding that starts on that line. A
// finding with no matching expectation, and an expectation with no matching
// finding, both fail the test. JSON templates, which have no comments, keep
// their expectations in a side file NAME.json.want with lines of the form
// `LINE "regexp" ...`.
//
// A file NAME.golden holds the template after every preferred fix has been
// applied. The test applies the fixes, compares with the golden file (run
// with -update to rewrite it), and re-analyses the result with every rule:
// it must parse, the fixed findings must be gone and no new finding may
// appear.
package analysistest

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/template"
)

var update = flag.Bool("update", false, "rewrite golden files from the fixes' output")

// IsTemplateFile reports whether a testdata file is a template to analyse.
func IsTemplateFile(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json", ".template":
		return true
	}
	return false
}

// Files returns the template files of dir, sorted.
func Files(t testing.TB, dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && IsTemplateFile(e.Name()) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out
}

// Run checks the findings of rules on every template in dir against the
// expectations in the files; fixes are checked against golden files with
// every rule of all.
func Run(t *testing.T, dir string, rules, all []*analysis.Rule) {
	t.Helper()
	files := Files(t, dir)
	if len(files) == 0 {
		t.Fatalf("no templates in %s", dir)
	}
	e := analysis.NewEngine(rules, nil)
	full := analysis.NewEngine(all, nil)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			res := e.Analyze(file, src)
			CheckExpectations(t, file, res)
			CheckGolden(t, file, src, e, full)
		})
	}
}

type expectation struct {
	line    int
	re      *regexp.Regexp
	matched bool
}

var wantRE = regexp.MustCompile(`#\s*want\s+(.*)$`)

// Expectations reads the expectations of a template file.
func Expectations(t testing.TB, file string, src []byte) []*expectation {
	var out []*expectation
	add := func(line int, rest string) {
		for _, q := range splitQuoted(t, file, line, rest) {
			re, err := regexp.Compile(q)
			if err != nil {
				t.Fatalf("%s:%d: bad regexp %q: %v", file, line, q, err)
			}
			out = append(out, &expectation{line: line, re: re})
		}
	}
	if strings.EqualFold(filepath.Ext(file), ".json") {
		side, err := os.ReadFile(file + ".want")
		if os.IsNotExist(err) {
			return nil
		} else if err != nil {
			t.Fatal(err)
		}
		for i, l := range strings.Split(string(side), "\n") {
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			num, rest, _ := strings.Cut(l, " ")
			n, err := strconv.Atoi(num)
			if err != nil {
				t.Fatalf("%s.want:%d: a line starts with the template's line number", file, i+1)
			}
			add(n, rest)
		}
		return out
	}
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for n := 1; sc.Scan(); n++ {
		if m := wantRE.FindStringSubmatch(sc.Text()); m != nil {
			add(n, m[1])
		}
	}
	return out
}

// splitQuoted splits `"a" "b"` (or backquoted strings) into their contents.
func splitQuoted(t testing.TB, file string, line int, s string) []string {
	var out []string
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			t.Fatalf("%s:%d: want expects Go-quoted regexps, got %q", file, line, s)
		}
		u, _ := strconv.Unquote(q)
		out = append(out, u)
		s = s[len(q):]
	}
	return out
}

// Describe renders a finding as expectations see it.
func Describe(f analysis.Finding) string {
	return fmt.Sprintf("%s %s: %s", f.RuleID, f.Severity, f.Message)
}

// CheckExpectations compares a result's findings with the file's
// expectations.
func CheckExpectations(t testing.TB, file string, res *analysis.Result) {
	t.Helper()
	exps := Expectations(t, file, res.Template.Source)
	for _, f := range res.Findings {
		line := res.Template.Lines.Position(f.Span.Start).Line
		text := Describe(f)
		found := false
		for _, e := range exps {
			if !e.matched && e.line == line && e.re.MatchString(text) {
				e.matched, found = true, true
				break
			}
		}
		if !found {
			t.Errorf("%s:%d: unexpected finding: %s", file, line, text)
		}
	}
	for _, e := range exps {
		if !e.matched {
			t.Errorf("%s:%d: no finding matches %q", file, e.line, e.re)
		}
	}
}

// CheckGolden applies the fixes of e to src and checks the result against
// NAME.golden, then re-analyses it with full.
func CheckGolden(t *testing.T, file string, src []byte, e, full *analysis.Engine) {
	t.Helper()
	golden := file + ".golden"
	fixed, applied, err := e.FixAll(file, src)
	if err != nil {
		t.Fatalf("applying fixes: %v", err)
	}
	_, statErr := os.Stat(golden)
	if len(applied) == 0 {
		if statErr == nil {
			t.Errorf("%s exists but no fix applies to %s", golden, file)
		}
		return
	}
	if *update {
		if err := os.WriteFile(golden, fixed, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Errorf("%d fixes apply to %s but there is no golden file (run go test -update): %v", len(applied), file, err)
		return
	}
	if !bytes.Equal(fixed, want) {
		t.Errorf("fixed %s differs from %s:\n--- got ---\n%s\n--- want ---\n%s", file, golden, fixed, want)
	}
	if bytes.Equal(fixed, src) {
		t.Errorf("fixes were applied to %s but did not change it", file)
	}
	CheckFixResult(t, file, src, fixed, applied, full)
}

// CheckFixResult re-analyses fixed text: it must parse, and for every rule
// and resource it may have at most the findings the original had, less the
// ones that were fixed.
func CheckFixResult(t testing.TB, file string, before, after []byte, applied []analysis.Finding, full *analysis.Engine) {
	t.Helper()
	orig := full.Analyze(file, before)
	res := full.Analyze(file, after)
	for _, p := range res.Template.Problems {
		t.Errorf("fixed %s does not parse cleanly: %s", file, p.Message)
	}
	type key struct{ rule, resource string }
	budget := map[key]int{}
	for _, f := range orig.Findings {
		budget[key{f.RuleID, f.Resource}]++
	}
	for _, f := range applied {
		budget[key{f.RuleID, f.Resource}]--
	}
	for _, f := range res.Findings {
		k := key{f.RuleID, f.Resource}
		budget[k]--
		if budget[k] < 0 {
			line := res.Template.Lines.Position(f.Span.Start).Line
			t.Errorf("fixed %s:%d: finding not removed, or added by a fix: %s", file, line, Describe(f))
		}
	}
}

// Lines returns the 1-based line of each finding, for table tests.
func Lines(t *template.Template, fs []analysis.Finding) []int {
	out := make([]int, len(fs))
	for i, f := range fs {
		out[i] = t.Lines.Position(f.Span.Start).Line
	}
	return out
}
