package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/soc2ls/soc2ls/analysis"
)

var knownIDs = map[string]bool{"SOC2-TPL-001": true, "SOC2-S3-006": true, "SOC2-SG-005": true, "SOC2-PARSE-001": true}

func known(id string) bool { return knownIDs[id] }

func TestParseFull(t *testing.T) {
	src := `rules:
  SOC2-TPL-001: off
  soc2-s3-006: {severity: error}
  SOC2-SG-005: {enabled: false}
  SOC2-PARSE-001: warning
options:
  requiredTags: [Environment, Owner]
  publicPorts: [443, 8443]
  auditLogRetentionDays: 400
  minBackupRetentionDays: 14
  environmentParameter: Stage
  environmentValues: [prod, dev]
  primaryRegionParameter: HomeRegion
profile: Baseline
ignore: ["cdk.out/**", "**/*.generated.yaml"]
`
	f := Parse("/p/.soc2ls.yaml", []byte(src), known)
	if len(f.Errors) > 0 {
		t.Fatalf("errors: %v", f.Errors)
	}
	o := f.Apply(analysis.DefaultOptions())
	want := &analysis.Options{
		EnvironmentParameter:   "Stage",
		EnvironmentValues:      []string{"prod", "dev"},
		PrimaryRegionParameter: "HomeRegion",
		PublicPorts:            []int{443, 8443},
		AuditLogRetentionDays:  400,
		MinBackupRetentionDays: 14,
		RequiredTags:           []string{"Environment", "Owner"},
		Profile:                "baseline",
		Rules: map[string]analysis.RuleSetting{
			"SOC2-TPL-001":   {Off: true},
			"SOC2-S3-006":    {Severity: analysis.Error},
			"SOC2-SG-005":    {Off: true},
			"SOC2-PARSE-001": {Severity: analysis.Warning},
		},
	}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("Apply:\n got %+v\nwant %+v", o, want)
	}
	for path, ign := range map[string]bool{
		"/p/cdk.out/a/b.template.json": true,
		"/p/cdk.out":                   true,
		"/p/x.generated.yaml":          true,
		"/p/a/b/x.generated.yaml":      true,
		"/p/app.yaml":                  false,
		"/p/src/cdk.out/t.json":        false,
		"/elsewhere/x.generated.yaml":  false,
	} {
		if got := f.Ignored(path); got != ign {
			t.Errorf("Ignored(%s) = %v, want %v", path, got, ign)
		}
	}
}

// TestParseKeepsDefaults: an empty file, a file of comments and absent keys
// leave the defaults alone, and Apply does not alias the base's slices.
func TestParseKeepsDefaults(t *testing.T) {
	for _, src := range []string{"", "# nothing\n", "rules:\noptions: {}\nignore:\n", "{}"} {
		f := Parse(".soc2ls.yaml", []byte(src), known)
		if len(f.Errors) > 0 {
			t.Errorf("%q: %v", src, f.Errors)
		}
		base := analysis.DefaultOptions()
		o := f.Apply(base)
		o.PublicPorts[0] = 1
		o.Rules["X"] = analysis.RuleSetting{}
		if base.PublicPorts[0] != 80 || base.Rules != nil {
			t.Errorf("Apply changed its base")
		}
		o.PublicPorts[0] = 80
		o.Rules = nil
		if !reflect.DeepEqual(o, base) {
			t.Errorf("%q: options %+v, want the defaults", src, o)
		}
	}
}

// TestParseErrors checks every kind of error, each at its line and column.
func TestParseErrors(t *testing.T) {
	cases := []struct {
		src  string
		want []string // "line:col: message substring"
	}{
		{"rule:\n  X: off\n", []string{`1:1: unknown key "rule" (want rules, options, profile or ignore) (did you mean "rules"?)`}},
		{"rules:\n  SOC2-NOPE-999: off\n", []string{`2:3: rules: unknown rule "SOC2-NOPE-999"`}},
		{"rules:\n  SOC2-TPL-001: loud\n", []string{`2:17: rules.SOC2-TPL-001: unknown severity "loud"`}},
		{"rules:\n  SOC2-TPL-001: {severity: big}\n", []string{`2:28: rules.SOC2-TPL-001.severity: unknown severity "big"`}},
		{"rules:\n  SOC2-TPL-001: {level: error}\n", []string{`2:18: rules.SOC2-TPL-001: unknown key "level" (want severity or enabled)`}},
		{"rules:\n  SOC2-TPL-001: {enabled: maybe}\n", []string{`2:27: rules.SOC2-TPL-001.enabled: want true or false`}},
		{"rules:\n  SOC2-TPL-001: [off]\n", []string{`2:17: rules.SOC2-TPL-001: want off, on, a severity`}},
		{"rules: [SOC2-TPL-001]\n", []string{`1:8: rules: want a mapping`}},
		{"rules:\n  SOC2-TPL-001: off\n  soc2-tpl-001: error\n", []string{`3:3: duplicate key rules.soc2-tpl-001 (first defined at line 2)`}},
		{"profile: baseline\nprofile: workload\n", []string{`2:1: duplicate key profile (first defined at line 1)`}},
		{"options:\n  publicPorts: [80, 0, 70000, \"443\", 80]\n", []string{
			`2:21: options.publicPorts: port 0 out of range (want 1 to 65535)`,
			`2:24: options.publicPorts: port 70000 out of range`,
			`2:31: options.publicPorts: want a whole number`,
			`2:38: options.publicPorts: port 80 listed twice`,
		}},
		{"options:\n  publicPorts: 443\n", []string{`2:16: options.publicPorts: want a list of TCP ports`}},
		{"options:\n  auditLogRetentionDays: 364\n", []string{`2:26: options.auditLogRetentionDays: 364 is not a retention CloudWatch Logs accepts`}},
		{"options:\n  auditLogRetentionDays: 0\n", []string{`2:26: options.auditLogRetentionDays: 0 is not a retention`}},
		{"options:\n  auditLogRetentionDays: a year\n", []string{`2:26: options.auditLogRetentionDays: want a whole number`}},
		{"options:\n  minBackupRetentionDays: 36\n", []string{`2:27: options.minBackupRetentionDays: 36 out of range (want 1 to 35 days`}},
		{"options:\n  environmentParameter: Env-Name\n", []string{`2:25: options.environmentParameter: "Env-Name" is not a CloudFormation parameter name`}},
		{"options:\n  requiredTags: [Owner, Owner, '']\n", []string{`2:25: options.requiredTags: "Owner" listed twice`, `2:32: options.requiredTags: empty value`}},
		{"options:\n  environmentValues: []\n", []string{`2:22: options.environmentValues: want at least one value`}},
		{"options:\n  requiredTag: [Owner]\n", []string{`2:3: options: unknown option "requiredTag" (did you mean "requiredTags"?)`}},
		{"profile: app\n", []string{`1:10: profile: unknown profile "app" (want baseline or workload)`}},
		{"ignore: ['[a-']\n", []string{`1:10: ignore: pattern "[a-": bad segment "[a-": syntax error in pattern`}},
		{"ignore: [/abs/**, ../up, '']\n", []string{`1:10: ignore: pattern "/abs/**" is absolute`, `1:19: ignore: pattern "../up" leaves the directory`, `1:26: ignore: empty pattern`}},
		{"ignore: cdk.out\n", []string{`1:9: ignore: want a list of patterns`}},
		{"ignore: ['[x', 'ok/**']\n", []string{`1:10: ignore: pattern "[x"`}},
		{"- rules\n", []string{`1:1: the configuration must be a mapping`}},
		{"base: &b {x: 1}\n", []string{`1:7: YAML anchors are not supported`}},
		{"rules:\n  SOC2-TPL-001: off\n   bad: [\n", []string{`3:`}},
		{"rules:\n\tSOC2-TPL-001: off\n", []string{`2:`}},
		{"profile: baseline\n---\nprofile: workload\n", []string{`2:1: .soc2ls.yaml holds one YAML document`}},
		{"profile: baseline\n---\nprofile: [\n", []string{`3:1: YAML syntax error near line 3`}},
		{"rules: {SOC2-TPL-001: off}\nprofile: workload\noptions: {publicPorts: [1, 99999]}\n", []string{`3:28: options.publicPorts: port 99999`}},
	}
	for _, c := range cases {
		f := Parse(".soc2ls.yaml", []byte(c.src), known)
		var got []string
		for _, e := range f.Errors {
			got = append(got, strings.TrimPrefix(e.Error(), ".soc2ls.yaml:"))
		}
		if len(got) != len(c.want) {
			t.Errorf("%q: got %d errors %q, want %q", c.src, len(got), got, c.want)
			continue
		}
		for i := range got {
			if !strings.HasPrefix(got[i], c.want[i]) {
				t.Errorf("%q: error %d is %q, want prefix %q", c.src, i, got[i], c.want[i])
			}
		}
	}
}

// TestParseValidPartsApply: the valid settings of a file with errors still
// apply (an editor keeps working while the file is written).
func TestParseValidPartsApply(t *testing.T) {
	f := Parse(".soc2ls.yaml", []byte("rules:\n  SOC2-TPL-001: off\n  SOC2-NOPE-1: off\nprofile: nope\noptions:\n  publicPorts: [0]\n  auditLogRetentionDays: 30\n"), known)
	if len(f.Errors) != 3 {
		t.Fatalf("errors: %v", f.Errors)
	}
	o := f.Apply(analysis.DefaultOptions())
	if !o.Rules["SOC2-TPL-001"].Off || o.Profile != "" || !reflect.DeepEqual(o.PublicPorts, []int{80, 443}) || o.AuditLogRetentionDays != 30 {
		t.Errorf("options %+v", o)
	}
}

func TestErrorSpan(t *testing.T) {
	src := "rules:\n  SOC2-TPL-001: 'loud'\n"
	f := Parse(".soc2ls.yaml", []byte(src), known)
	if len(f.Errors) != 1 {
		t.Fatalf("%v", f.Errors)
	}
	if s := f.Errors[0].Span; src[s.Start:s.End] != "'loud'" {
		t.Errorf("span covers %q", src[f.Errors[0].Span.Start:f.Errors[0].Span.End])
	}
}

func TestGlob(t *testing.T) {
	cases := []struct {
		pat   string
		match []string
		miss  []string
	}{
		{"cdk.out/**", []string{"cdk.out", "cdk.out/a.json", "cdk.out/x/y/z.yaml"}, []string{"app/cdk.out/a.json", "cdk.outx/a"}},
		{"**/*.generated.yaml", []string{"a.generated.yaml", "x/y/a.generated.yaml"}, []string{"a.generated.yml", "a.yaml"}},
		{"*.json", []string{"a.json"}, []string{"d/a.json"}},
		{"build", []string{"build", "build/t.yaml"}, []string{"src/build/t.yaml"}},
		{"a/**/b/*.yaml", []string{"a/b/t.yaml", "a/x/y/b/t.yaml"}, []string{"a/b/c/t.yaml", "b/t.yaml"}},
		{"./tmp/", []string{"tmp/x.yaml"}, []string{"x/tmp/y"}},
		{"**/**/**/z", []string{"z", "a/b/c/d/z"}, []string{"a/zz"}},
		{"t[0-9].yaml", []string{"t1.yaml"}, []string{"tx.yaml"}},
	}
	for _, c := range cases {
		g, err := CompileGlob(c.pat)
		if err != nil {
			t.Fatalf("%q: %v", c.pat, err)
		}
		for _, m := range c.match {
			if !g.Match(m) {
				t.Errorf("%q does not match %q", c.pat, m)
			}
		}
		for _, m := range c.miss {
			if g.Match(m) {
				t.Errorf("%q matches %q", c.pat, m)
			}
		}
	}
}

// TestGlobDeep: ** against a deep path costs one pass per ** segment, not an
// exponential search (consecutive ** collapse).
func TestGlobDeep(t *testing.T) {
	g, err := CompileGlob(strings.Repeat("**/", 40) + "z")
	if err != nil {
		t.Fatal(err)
	}
	if len(g.segs) != 2 {
		t.Errorf("consecutive ** not collapsed: %d segments", len(g.segs))
	}
	if g.Match(strings.Repeat("a/", 200) + "y") {
		t.Error("matched")
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDiscovery(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, FileName), "profile: workload\n") // above the repository: not used
	repo := filepath.Join(root, "repo")
	write(t, filepath.Join(repo, ".git", "HEAD"), "ref: refs/heads/main\n")
	write(t, filepath.Join(repo, FileName), "profile: baseline\n")
	write(t, filepath.Join(repo, "svc", "nested", FileName), "rules: {SOC2-TPL-001: off}\n")
	os.MkdirAll(filepath.Join(repo, "svc", "nested", "deep"), 0o755)
	os.MkdirAll(filepath.Join(repo, "other", "a"), 0o755)
	bare := filepath.Join(root, "bare", "x")
	os.MkdirAll(bare, 0o755)
	norepo := filepath.Join(root, "norepo")
	os.MkdirAll(filepath.Join(norepo, ".git"), 0o755)

	l := &Loader{Known: known}
	cases := map[string]string{
		repo:                                         filepath.Join(repo, FileName),
		filepath.Join(repo, "other", "a"):            filepath.Join(repo, FileName),
		filepath.Join(repo, "svc"):                   filepath.Join(repo, FileName),
		filepath.Join(repo, "svc", "nested"):         filepath.Join(repo, "svc", "nested", FileName),
		filepath.Join(repo, "svc", "nested", "deep"): filepath.Join(repo, "svc", "nested", FileName),
		bare:   filepath.Join(root, FileName), // no repository: up to the root
		norepo: "",                            // the repository root stops the search
	}
	for dir, want := range cases {
		if got := l.Find(dir); got != want {
			t.Errorf("Find(%s) = %q, want %q", dir, got, want)
		}
	}
	// Every directory was looked at once: a second round hits the cache.
	before := l.stats
	for dir := range cases {
		l.Find(dir)
	}
	if l.stats != before {
		t.Errorf("second round made %d lookups, want 0", l.stats-before)
	}
	f, err := l.ForDir(filepath.Join(repo, "svc", "nested", "deep"))
	if err != nil || f == nil || !f.Rules["SOC2-TPL-001"].Off || f.Dir != filepath.Join(repo, "svc", "nested") {
		t.Fatalf("ForDir: %+v, %v", f, err)
	}
	if g, _ := l.ForDir(filepath.Join(repo, "svc", "nested")); g != f {
		t.Error("the parsed file is not cached")
	}
	// A new file is seen after Invalidate.
	write(t, filepath.Join(repo, "other", FileName), "profile: workload\n")
	if got := l.Find(filepath.Join(repo, "other", "a")); got != filepath.Join(repo, FileName) {
		t.Errorf("cached lookup changed before Invalidate: %s", got)
	}
	l.Invalidate()
	if got := l.Find(filepath.Join(repo, "other", "a")); got != filepath.Join(repo, "other", FileName) {
		t.Errorf("after Invalidate: %s", got)
	}
}

func TestLoadErrors(t *testing.T) {
	l := &Loader{}
	if _, err := l.Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || strings.Contains(err.Error(), "open ") {
		t.Errorf("Load of a missing file: %v", err)
	}
	l.ReadFile = func(string) ([]byte, error) { return []byte("profile: x\n"), nil }
	f, err := l.Load("/virtual/" + FileName)
	if err != nil || len(f.Errors) != 1 || f.Errors[0].Path != "/virtual/"+FileName {
		t.Errorf("Load through ReadFile: %+v %v", f, err)
	}
}

// TestStarter: the file config init writes parses clean, shows the
// defaults, and with its examples uncommented still parses clean.
func TestStarter(t *testing.T) {
	src := Starter()
	f := Parse(FileName, src, known)
	if len(f.Errors) > 0 {
		t.Fatalf("starter has errors: %v\n%s", f.Errors, src)
	}
	if o := f.Apply(analysis.DefaultOptions()); !reflect.DeepEqual(o, f.Apply(nil2(analysis.DefaultOptions()))) {
		t.Errorf("starter options differ from the defaults: %+v", o)
	}
	for _, key := range append(append([]string{}, topKeys...), optionKeys...) {
		if !strings.Contains(string(src), key+":") {
			t.Errorf("starter does not mention %s", key)
		}
	}
	uncommented := strings.NewReplacer("  # SOC2-", "  SOC2-", "# profile: workload", "profile: workload", "  # - ", "  - ").Replace(string(src))
	g := Parse(FileName, []byte(uncommented), known)
	if len(g.Errors) > 0 || len(g.Rules) != 3 || g.Profile != "workload" || len(g.Ignore) != 2 {
		t.Errorf("uncommented starter: %+v\n%s", g.Errors, uncommented)
	}
}

// nil2 returns the defaults with an empty rule map, what Apply of a file
// that sets nothing produces.
func nil2(o *analysis.Options) *analysis.Options {
	o.Rules = map[string]analysis.RuleSetting{}
	return o
}

func TestIgnoreKeepsValidPatterns(t *testing.T) {
	f := Parse("/p/"+FileName, []byte("ignore: ['[x', 'ok/**']\n"), known)
	if len(f.Errors) != 1 || len(f.Ignore) != 1 || !f.Ignored("/p/ok/t.yaml") {
		t.Errorf("errors %v, ignore %v", f.Errors, f.Ignore)
	}
}
