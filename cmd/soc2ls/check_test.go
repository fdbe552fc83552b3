package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/rules"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/cli")

// repoRoot is the repository root, relative to this package.
const repoRoot = "../.."

// fixedRules makes the CLI run a fixed rule set for the rest of the test, so
// that its golden files do not change when the catalogue grows, and sets a
// version that does not depend on the build.
func fixedRules(t *testing.T) {
	saved, savedVersion := ruleSet, version
	ruleSet = func() []*analysis.Rule {
		return []*analysis.Rule{rules.CloudTrailMultiRegion, rules.S3DenyInsecureTransport}
	}
	version = "0.0.0-test"
	t.Cleanup(func() { ruleSet, version = saved, savedVersion })
}

type result struct {
	code           int
	stdout, stderr string
}

func runCLI(stdin string, args ...string) result {
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

func TestCheckGolden(t *testing.T) {
	fixedRules(t)
	t.Chdir(repoRoot)
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	srcRoot := (&url.URL{Scheme: "file", Path: filepath.ToSlash(wd) + "/"}).String()
	for _, format := range []string{"text", "json", "sarif", "github", "junit"} {
		t.Run(format, func(t *testing.T) {
			// Files named one by one: new cases in these folders must not
			// change the golden files.
			r := runCLI("", "check", "--format", format,
				"testdata/rules/SOC2-S3-001/incomplete_policy.yaml", "testdata/rules/SOC2-S3-001/bucket.json",
				"testdata/rules/SOC2-CT-001/possible.yaml", "testdata/rules/SOC2-CT-001/missing.yaml", "testdata/rules/SOC2-S3-001/ok.yaml")
			if r.code != 1 {
				t.Errorf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
			}
			// The SARIF source root is the working directory: make it
			// machine independent.
			got := strings.ReplaceAll(r.stdout, srcRoot, "file:///SRCROOT/")
			golden(t, filepath.Join("testdata", "cli", "check."+format+".golden"), got)
			if want := "6 errors, 2 warnings in 4 files (5 files checked)\n"; r.stderr != want {
				t.Errorf("stderr: got %q, want %q", r.stderr, want)
			}
		})
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/soc2ls -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run go test ./cmd/soc2ls -update and review the diff): %s", path, firstDifference(got, string(want)))
	}
}

// firstDifference describes the first line where got and want differ, so a
// failure shows the change rather than the whole output.
func firstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n  got:  %q\n  want: %q", i+1, gl, wl)
		}
	}
	return "(no line differs)"
}

func TestCheckExitCodes(t *testing.T) {
	fixedRules(t)
	const (
		errs     = repoRoot + "/testdata/rules/SOC2-CT-001/missing.yaml"  // errors
		warnings = repoRoot + "/testdata/rules/SOC2-CT-001/possible.yaml" // warnings only
		clean    = repoRoot + "/testdata/rules/SOC2-S3-001/ok.yaml"
	)
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string // regexp
	}{
		{"no findings", []string{clean}, 0, `^no findings \(1 file checked\)\n$`},
		{"errors fail by default", []string{errs}, 1, `2 errors in 1 file`},
		{"warnings fail by default", []string{warnings}, 1, `2 warnings`},
		{"fail-on error ignores warnings", []string{"--fail-on", "error", warnings}, 0, `2 warnings`},
		{"fail-on info", []string{"--fail-on=info", warnings}, 1, ``},
		{"fail-on none", []string{"--fail-on", "none", errs}, 0, `2 errors`},
		{"flags after paths", []string{errs, "--fail-on", "none", "--format", "json"}, 0, ``},
		{"-- ends flags", []string{"--fail-on", "none", "--", errs}, 0, ``},
		{"missing file", []string{repoRoot + "/testdata/x.yaml"}, 2, `(?m)^soc2ls: \.\./\.\./testdata/x\.yaml: no such file or directory$`},
		{"missing file and findings", []string{errs, "nope.yaml"}, 2, `soc2ls: nope.yaml: no such file or directory`},
		{"no path", nil, 2, `soc2ls check: no PATH given`},
		{"unknown format", []string{"--format", "xml", clean}, 2, `unknown format "xml"`},
		{"unknown fail-on", []string{"--fail-on", "fatal", clean}, 2, `unknown --fail-on level "fatal"`},
		{"unknown flag", []string{"--colour", clean}, 2, `flag provided but not defined`},
		{"help", []string{"-h"}, 0, `Usage: soc2ls check`},
		{"unwritable -o", []string{"-o", filepath.Join(t.TempDir(), "no", "such", "dir", "out.txt"), clean}, 2, `out.txt: no such file or directory`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI("", append([]string{"check"}, tt.args...)...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d\nstderr:\n%s", r.code, tt.code, r.stderr)
			}
			if !regexp.MustCompile(tt.stderr).MatchString(r.stderr) {
				t.Errorf("stderr %q does not match %q", r.stderr, tt.stderr)
			}
		})
	}
}

func TestCheckOutputFile(t *testing.T) {
	fixedRules(t)
	out := filepath.Join(t.TempDir(), "report.json")
	r := runCLI("", "check", "--format", "json", "-o", out, repoRoot+"/testdata/rules/SOC2-CT-001/missing.yaml")
	if r.code != 1 || r.stdout != "" {
		t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if paths := jsonPaths(t, data); len(paths) != 1 {
		t.Errorf("report file lists %v", paths)
	}
}

// jsonPaths returns the paths of the files a JSON report lists.
func jsonPaths(t *testing.T, data []byte) []string {
	t.Helper()
	var rep struct{ Files []struct{ Path string } }
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	var out []string
	for _, f := range rep.Files {
		out = append(out, filepath.ToSlash(f.Path))
	}
	return out
}

const (
	cfnTemplate = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Trail:\n    Type: AWS::CloudTrail::Trail\n    Properties:\n      IsMultiRegionTrail: false\n"
	cleanCFN    = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
	k8s         = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
)

// writeTree creates files (path -> content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCheckWalk(t *testing.T) {
	fixedRules(t)
	base := t.TempDir()
	root := filepath.Join(base, "root")
	writeTree(t, base, map[string]string{
		"outside.yaml":                            cfnTemplate,
		"root/app.yaml":                           cfnTemplate,
		"root/nested/deeper/db.yml":               cleanCFN,
		"root/nested/stack.template":              cfnTemplate,
		"root/k8s/configmap.yaml":                 k8s,
		"root/k8s/Resources.yaml":                 "Resources: [1, 2]\n", // mentions Resources, still not a template
		"root/broken-other.yaml":                  "key: [unclosed\n",
		"root/broken-cfn.yaml":                    "AWSTemplateFormatVersion: '2010-09-09'\nResources: [\n",
		"root/package.json":                       `{"name": "x"}`,
		"root/notes.txt":                          cfnTemplate,
		"root/node_modules/dep/t.yaml":            cfnTemplate,
		"root/.git/t.yaml":                        cfnTemplate,
		"root/cdk.out/Stack.template.json":        `{"Resources": {"T": {"Type": "AWS::CloudTrail::Trail", "Properties": {}}}}`,
		"root/cdk.out/manifest.json":              `{"version": "36.0.0", "artifacts": {}}`,
		"root/nested/deeper/.hidden/shown.yaml":   cleanCFN,
		"root/big/huge.json":                      "",
		"root/nested/deeper/nothing-to-say.yaml":  "",
		"root/nested/deeper/empty-resources.yaml": "Resources: {}\n",
	})
	// A file over the size limit, found by the walk: skipped with a warning.
	huge := []byte(`{"Resources": {}, "pad": "` + strings.Repeat("x", defaultMaxSizeMB<<20) + `"}`)
	if err := os.WriteFile(filepath.Join(root, "big", "huge.json"), huge, 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"root/nested/loop":        "..",                  // a directory loop
		"root/nested/up.yaml":     "../app.yaml",         // a file inside the root: checked once
		"root/escape.yaml":        "../outside.yaml",     // a file outside the root: not followed
		"root/dangling.yaml":      "does-not-exist.yaml", // ignored
		"root/nested/parent.yaml": "..",                  // a directory named like a template
	} {
		if err := os.Symlink(target, filepath.Join(base, filepath.FromSlash(link))); err != nil {
			t.Skipf("symlinks unavailable: %v", err)
		}
	}
	t.Chdir(base)

	r := runCLI("", "check", "--format", "json", "root")
	if r.code != 1 {
		t.Errorf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	want := []string{
		"root/app.yaml",
		"root/broken-cfn.yaml",
		"root/cdk.out/Stack.template.json",
		"root/nested/deeper/.hidden/shown.yaml",
		"root/nested/deeper/db.yml",
		"root/nested/stack.template",
	}
	if got := jsonPaths(t, []byte(r.stdout)); !reflect.DeepEqual(got, want) {
		t.Errorf("checked files:\n got %v\nwant %v", got, want)
	}
	if !strings.Contains(r.stderr, "soc2ls: warning: "+filepath.Join("root", "big", "huge.json")+": skipped, larger than 10 MB (--max-size)\n") {
		t.Errorf("no warning for the large file:\n%s", r.stderr)
	}
	if !strings.HasSuffix(r.stderr, "(6 files checked)\n") {
		t.Errorf("summary: %s", r.stderr)
	}

	// Named explicitly, a file is always analysed: a syntax error is reported
	// even where it does not look like CloudFormation, and other YAML gets a
	// warning instead of silence.
	r = runCLI("", "check", "root/broken-other.yaml")
	if r.code != 1 || !strings.Contains(r.stdout, "root/broken-other.yaml:") || !strings.Contains(r.stdout, "[SOC2-PARSE-001]") {
		t.Errorf("explicit broken file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runCLI("", "check", "--format", "json", "root", "root/broken-other.yaml", "root/app.yaml")
	if got := jsonPaths(t, []byte(r.stdout)); len(got) != 7 || got[2] != "root/broken-other.yaml" {
		t.Errorf("a file found by the walk and named explicitly: %v", got)
	}
	r = runCLI("", "check", "root/k8s/configmap.yaml")
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "configmap.yaml: not a CloudFormation template") {
		t.Errorf("explicit non-template: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A symlink to a directory, named explicitly, is walked.
	r = runCLI("", "check", "--format", "json", "root/nested/loop")
	if got := jsonPaths(t, []byte(r.stdout)); len(got) != 6 || got[0] != "root/nested/loop/app.yaml" {
		t.Errorf("walk through an explicit link: %v\n%s", got, r.stderr)
	}
	// Nothing found: a warning, exit 0.
	r = runCLI("", "check", "root/k8s")
	if r.code != 0 || !strings.Contains(r.stderr, "no CloudFormation templates found") {
		t.Errorf("empty walk: exit %d\n%s", r.code, r.stderr)
	}
}

func TestCheckStdin(t *testing.T) {
	fixedRules(t)
	r := runCLI(cfnTemplate, "check", "-")
	want := "<stdin>:6:27: error: trail Trail records only the region it is deployed in: set IsMultiRegionTrail to true [SOC2-CT-001] (CC7.2, CC2.1, A1.2, PI1.3)\n"
	if r.code != 1 || r.stdout != want {
		t.Errorf("exit %d, stdout %q, want %q", r.code, r.stdout, want)
	}
	r = runCLI(k8s, "check", "-")
	if r.code != 0 || !strings.Contains(r.stderr, "<stdin>: not a CloudFormation template") {
		t.Errorf("non-template on stdin: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestCheckFix(t *testing.T) {
	fixedRules(t)
	dir := t.TempDir()
	src, err := os.ReadFile(repoRoot + "/testdata/rules/SOC2-CT-001/missing.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "missing.yaml")
	if err := os.WriteFile(path, src, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil { // beat the umask
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.yaml")
	if err := os.WriteFile(filepath.Join(dir, "target.yaml"), []byte(cfnTemplate), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("target.yaml", link); err != nil {
		t.Skipf("symlinks unavailable: %v", err)
	}
	// A report that cannot be written stops the run before anything is fixed.
	if r := runCLI("", "check", "--fix", "-o", filepath.Join(dir, "no", "report.txt"), path); r.code != 2 {
		t.Errorf("unwritable -o: exit %d", r.code)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, src) {
		t.Errorf("the file was fixed although the report could not be written")
	}
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}

	r := runCLI("", "check", "--fix", path, link)
	if r.code != 0 || r.stdout != "" {
		t.Errorf("exit %d, want 0 (everything fixed); stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		path + ": fixed: ProdCloudTrail: Set IsMultiRegionTrail: true [SOC2-CT-001]\n",
		path + ": fixed: TrailBucket: ",
		link + ": fixed: Trail: Set IsMultiRegionTrail: true [SOC2-CT-001]\n",
		"fixed 3 findings in 2 files\n",
		"no findings (2 files checked)\n",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}

	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if after.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", after.Mode().Perm())
	}
	// A rename puts a new file in place; rewriting in place would keep the
	// inode and expose a half-written file to concurrent readers.
	if os.SameFile(before, after) {
		t.Errorf("the file was rewritten in place, not replaced atomically")
	}
	fixed, _ := os.ReadFile(path)
	if !bytes.Contains(fixed, []byte("IsMultiRegionTrail: true")) || !bytes.Contains(fixed, []byte("# comments survive the fix")) {
		t.Errorf("fixed file:\n%s", fixed)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced by a file: %v", err)
	}
	if target, _ := os.ReadFile(filepath.Join(dir, "target.yaml")); !bytes.Contains(target, []byte("IsMultiRegionTrail: true")) {
		t.Errorf("link target not fixed:\n%s", target)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "target.yaml")); fi.Mode().Perm() != 0o600 {
		t.Errorf("target mode %v, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if want := []string{"link.yaml", "missing.yaml", "target.yaml"}; !reflect.DeepEqual(names, want) {
		t.Errorf("directory holds %v, want %v (temporary files left behind?)", names, want)
	}

	// Nothing left to fix: the file is not touched.
	again, _ := os.Stat(path)
	if r := runCLI("", "check", "--fix", path); r.code != 0 || strings.Contains(r.stderr, "fixed") {
		t.Errorf("second run: exit %d\n%s", r.code, r.stderr)
	}
	if now, _ := os.Stat(path); !os.SameFile(again, now) {
		t.Errorf("a file without fixes was rewritten")
	}
}

func TestCheckFixStdin(t *testing.T) {
	fixedRules(t)
	r := runCLI(cfnTemplate, "check", "--fix", "-")
	if r.code != 0 {
		t.Errorf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "IsMultiRegionTrail: true") || !strings.HasPrefix(r.stdout, "AWSTemplateFormatVersion") {
		t.Errorf("stdout is not the fixed document:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "<stdin>: fixed: Trail: Set IsMultiRegionTrail: true [SOC2-CT-001]") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	// Findings that remain go to stderr, since stdout carries the document.
	const unfixable = "Parameters:\n  M: {Type: String, AllowedValues: ['true', 'false']}\nResources:\n  T:\n    Type: AWS::CloudTrail::Trail\n    Properties: {IsMultiRegionTrail: !Ref M}\n"
	r = runCLI(unfixable, "check", "--fix", "-")
	if r.code != 1 || r.stdout != unfixable || !strings.Contains(r.stderr, "<stdin>:6:38: warning: ") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestVersion(t *testing.T) {
	saved := version
	t.Cleanup(func() { version = saved })
	version = "1.4.0"
	if r := runCLI("", "version"); r.stdout != "soc2ls 1.4.0\n" {
		t.Errorf("got %q", r.stdout)
	}
	version = "dev"
	if r := runCLI("", "--version"); !regexp.MustCompile(`^soc2ls \S+\n$`).MatchString(r.stdout) {
		t.Errorf("got %q", r.stdout)
	}
}

// TestCheckShowSuppressed: a documented exception silences its finding (exit
// 0, the summary counts it) and --show-suppressed lists it with its reason.
func TestCheckShowSuppressed(t *testing.T) {
	fixedRules(t)
	path := filepath.Join(t.TempDir(), "t.yaml")
	src := "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Trail: # soc2ls:ignore SOC2-CT-001 sandbox account trail, see RISK-7\n" +
		"    Type: AWS::CloudTrail::Trail\n    Properties: {IsLogging: true, S3BucketName: logs}\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI("", "check", path)
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "1 finding suppressed") {
		t.Errorf("without --show-suppressed: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = runCLI("", "check", "--show-suppressed", path)
	if r.code != 0 || !strings.Contains(r.stdout, "suppressed error:") || !strings.Contains(r.stdout, "[SOC2-CT-001] (comment: sandbox account trail, see RISK-7)") {
		t.Errorf("with --show-suppressed: exit %d, stdout %q", r.code, r.stdout)
	}
}
