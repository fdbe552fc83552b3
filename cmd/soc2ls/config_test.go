package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/config"
	"github.com/soc2ls/soc2ls/analysis/rules"
)

// findingsByFile runs soc2ls check --format json and returns, per file, the
// "ruleId:severity" of its findings.
func findingsByFile(t *testing.T, args ...string) (map[string][]string, result) {
	t.Helper()
	r := runCLI("", append([]string{"check", "--format", "json", "--fail-on", "none"}, args...)...)
	var rep struct {
		Files []struct {
			Path     string
			Findings []struct{ RuleID, Severity string }
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, r.stdout, r.stderr)
	}
	out := map[string][]string{}
	for _, f := range rep.Files {
		out[filepath.ToSlash(f.Path)] = []string{}
		for _, fd := range f.Findings {
			out[filepath.ToSlash(f.Path)] = append(out[filepath.ToSlash(f.Path)], fd.RuleID+":"+fd.Severity)
		}
	}
	return out, r
}

// TestCheckConfigDiscovery: each template gets its nearest .soc2ls.yaml,
// up to the repository root; ignore patterns skip files found by walks but
// not files named explicitly.
func TestCheckConfigDiscovery(t *testing.T) {
	fixedRules(t)
	base := t.TempDir()
	writeTree(t, base, map[string]string{
		config.FileName:                    "rules: {SOC2-CT-001: off}\n", // above the repository: never used
		"repo/.git/HEAD":                   "ref: refs/heads/main\n",
		"repo/" + config.FileName:          "rules: {SOC2-CT-001: warning}\nignore: [\"cdk.out/**\", \"**/*.generated.yaml\"]\n",
		"repo/app.yaml":                    cfnTemplate,
		"repo/cdk.out/Stack.yaml":          cfnTemplate,
		"repo/svc/x.generated.yaml":        cfnTemplate,
		"repo/svc/api.yaml":                cfnTemplate,
		"repo/svc/team/" + config.FileName: "rules: {SOC2-CT-001: {severity: info}}\n",
		"repo/svc/team/deep/t.yaml":        cfnTemplate,
		"norepo/t.yaml":                    cfnTemplate,
	})
	t.Chdir(base)
	got, r := findingsByFile(t, "repo", "repo/svc/x.generated.yaml", "norepo")
	want := map[string][]string{
		"repo/app.yaml":             {"SOC2-CT-001:warning"},
		"repo/svc/api.yaml":         {"SOC2-CT-001:warning"},
		"repo/svc/team/deep/t.yaml": {"SOC2-CT-001:info"},
		"repo/svc/x.generated.yaml": {"SOC2-CT-001:warning"}, // named explicitly: checked
		"norepo/t.yaml":             {},                      // no repository: the file at the top applies
	}
	if !reflect.DeepEqual(got, want) || r.code != 0 {
		t.Errorf("exit %d, findings:\n got %v\nwant %v\n%s", r.code, got, want, r.stderr)
	}

	// --config replaces discovery for every file, ignore patterns included
	// (relative to the --config file's directory).
	writeTree(t, base, map[string]string{"ci/strict.yaml": "rules: {SOC2-CT-001: {severity: error}}\nignore: [\"../repo/svc/**\"]\n"})
	r = runCLI("", "check", "--config", "ci/strict.yaml", "repo")
	if r.code != 2 || !strings.Contains(r.stderr, `ci/strict.yaml:2:10: error: ignore: pattern "../repo/svc/**" leaves the directory of .soc2ls.yaml`) {
		t.Errorf("--config with an error: exit %d\n%s", r.code, r.stderr)
	}
	writeTree(t, base, map[string]string{"repo/strict.yaml": "rules: {SOC2-CT-001: {severity: error}}\nignore: [\"svc/**\"]\n"})
	got, r = findingsByFile(t, "--config", "repo/strict.yaml", "repo")
	want = map[string][]string{
		"repo/app.yaml":           {"SOC2-CT-001:error"},
		"repo/cdk.out/Stack.yaml": {"SOC2-CT-001:error"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("--config: got %v, want %v\n%s", got, want, r.stderr)
	}
	r = runCLI("", "check", "--config", "nope.yaml", "repo")
	if r.code != 2 || !strings.Contains(r.stderr, "soc2ls: nope.yaml: no such file or directory") {
		t.Errorf("missing --config: exit %d\n%s", r.code, r.stderr)
	}
	// Standard input uses the working directory's configuration.
	t.Chdir(filepath.Join(base, "repo", "svc", "team"))
	r = runCLI(cfnTemplate, "check", "--format", "json", "-")
	if !strings.Contains(r.stdout, `"severity": "info"`) {
		t.Errorf("stdin did not use the working directory's configuration:\n%s", r.stdout)
	}
}

// TestCheckConfigErrors: every problem in a configuration file is printed
// with its position, and soc2ls check exits 2 without a report.
func TestCheckConfigErrors(t *testing.T) {
	fixedRules(t)
	t.Chdir(repoRoot)
	r := runCLI("", "check", "--config", "testdata/config/errors.soc2ls.yaml", "testdata/rules/SOC2-CT-001/missing.yaml")
	if r.code != 2 || r.stdout != "" {
		t.Errorf("exit %d, stdout %q", r.code, r.stdout)
	}
	golden(t, filepath.Join("testdata", "config", "errors.golden"), r.stderr)

	// Discovered, the file is named relative to the working directory.
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{".git/HEAD": "x\n", config.FileName: "rules:\n  SOC2-CT-001: of\n", "t.yaml": cfnTemplate})
	t.Chdir(dir)
	r = runCLI("", "check", ".")
	if want := ".soc2ls.yaml:2:16: error: rules.SOC2-CT-001: unknown severity \"of\" (want off, on, error, warning, info or hint)\n"; r.code != 2 || r.stderr != want {
		t.Errorf("exit %d, stderr %q, want %q", r.code, r.stderr, want)
	}
}

// TestCheckConfigFlag: a file setting every key parses, and its settings
// reach the rules.
func TestCheckConfigFlag(t *testing.T) {
	fixedRules(t)
	t.Chdir(repoRoot)
	got, r := findingsByFile(t, "--config", "testdata/config/full.soc2ls.yaml", "testdata/rules/SOC2-CT-001/missing.yaml")
	if want := []string{"SOC2-CT-001:info"}; !reflect.DeepEqual(got["testdata/rules/SOC2-CT-001/missing.yaml"], want) {
		t.Errorf("findings %v, want %v\n%s", got, want, r.stderr)
	}
}

// TestConfigInit: config init writes a file that parses clean and that
// check then uses; it refuses to overwrite without --force.
func TestConfigInit(t *testing.T) {
	fixedRules(t)
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{".git/HEAD": "x\n", "t.yaml": cfnTemplate})
	r := runCLI("", "config", "init", dir)
	path := filepath.Join(dir, config.FileName)
	if r.code != 0 || r.stdout != "wrote "+path+"\n" {
		t.Fatalf("init: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if f := config.Parse(path, data, nil); len(f.Errors) > 0 {
		t.Errorf("written file has errors: %v", f.Errors)
	}
	t.Chdir(dir)
	if r = runCLI("", "check", "."); r.code != 1 || !strings.Contains(r.stdout, "SOC2-CT-001") {
		t.Errorf("check with the new file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// The user's edits are never overwritten without --force.
	mine := "rules: {SOC2-CT-001: off}\n"
	os.WriteFile(path, []byte(mine), 0o644)
	r = runCLI("", "config", "init")
	if data, _ := os.ReadFile(path); r.code != 1 || string(data) != mine || !strings.Contains(r.stderr, "already exists; use --force") {
		t.Errorf("init over an existing file: exit %d, file %q\n%s", r.code, data, r.stderr)
	}
	if r = runCLI("", "check", "."); r.code != 0 {
		t.Errorf("check with the user's file: exit %d\n%s", r.code, r.stdout)
	}
	r = runCLI("", "config", "init", "--force", ".")
	if data, _ := os.ReadFile(path); r.code != 0 || string(data) != string(config.Starter()) {
		t.Errorf("init --force: exit %d\n%s", r.code, r.stderr)
	}
	for _, args := range [][]string{{"config"}, {"config", "init", "a", "b"}, {"config", "init", "missing-dir"}, {"config", "bogus"}} {
		if r = runCLI("", args...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2", args, r.code)
		}
	}
}

// TestCheckConfigProfile: the configured profile reaches the rules (here
// SOC2-TPL-107, which only baselines get), and a template's own Metadata
// declaration wins over it.
func TestCheckConfigProfile(t *testing.T) {
	saved := ruleSet
	ruleSet = func() []*analysis.Rule { return []*analysis.Rule{rules.TrailMissing} }
	t.Cleanup(func() { ruleSet = saved })
	bucket := "Resources:\n  B:\n    Type: AWS::S3::Bucket\n"
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		".git/HEAD":               "x\n",
		"plain/app.yaml":          bucket,
		"base/" + config.FileName: "profile: baseline\n",
		"base/app.yaml":           bucket,
		"base/workload.yaml":      "Metadata: {soc2ls: {profile: workload}}\n" + bucket,
	})
	t.Chdir(dir)
	got, r := findingsByFile(t, ".")
	want := map[string][]string{
		"base/app.yaml":      {"SOC2-TPL-107:warning"},
		"base/workload.yaml": {},
		"plain/app.yaml":     {},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v\n%s", got, want, r.stderr)
	}
}
