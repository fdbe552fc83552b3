package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soc2ls/soc2ls/analysis/baseline"
	"github.com/soc2ls/soc2ls/analysis/diff"
)

const estate = `AWSTemplateFormatVersion: '2010-09-09'
Resources:
  A:
    Type: AWS::CloudTrail::Trail
    Properties: {IsMultiRegionTrail: false}
  B:
    Type: AWS::CloudTrail::Trail
    Properties:
      IsMultiRegionTrail: false
  Logs:
    Type: AWS::S3::Bucket
  Topic:
    Type: AWS::SNS::Topic
`

// estateLater: lines inserted above, an unrelated resource changed, B
// fixed, and a new trail D with the old flaw.
const estateLater = `# Owned by the platform team.
AWSTemplateFormatVersion: '2010-09-09'
Description: audit stack
Resources:
  A:
    Type: AWS::CloudTrail::Trail
    Properties: {IsMultiRegionTrail: false}
  B:
    Type: AWS::CloudTrail::Trail
    Properties:
      IsMultiRegionTrail: true
  Logs:
    Type: AWS::S3::Bucket
  Topic:
    Type: AWS::SNS::Topic
    Properties: {TopicName: alerts}
  D:
    Type: AWS::CloudTrail::Trail
    Properties:
      IsMultiRegionTrail: false
`

func mustContain(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, s)
		}
	}
}

func TestCheckBaseline(t *testing.T) {
	fixedRules(t)
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"templates/audit.yaml": estate})
	t.Chdir(dir)
	const b = "soc2ls-baseline.json"

	// Missing, then recorded.
	r := runCLI("", "check", "--baseline", b, "templates")
	if r.code != 2 || !strings.Contains(r.stderr, "soc2ls: soc2ls-baseline.json: no such baseline (create it with --write-baseline soc2ls-baseline.json)") {
		t.Errorf("missing baseline: exit %d\n%s", r.code, r.stderr)
	}
	r = runCLI("", "check", "--write-baseline", b, "templates")
	if r.code != 0 || r.stdout != "" {
		t.Errorf("write: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	mustContain(t, "stderr", r.stderr, "soc2ls: wrote soc2ls-baseline.json: 3 findings\n", "no findings (1 file checked, 3 findings baselined)\n")
	recorded, err := baseline.Read(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range recorded.Findings {
		if e.Path != "templates/audit.yaml" {
			t.Errorf("entry path %q, want it relative to the baseline's directory", e.Path)
		}
	}
	if r := runCLI("", "check", "--baseline", b, "templates"); r.code != 0 || r.stdout != "" {
		t.Errorf("unchanged: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// A month later: only D is new, B's entry is stale.
	writeTree(t, dir, map[string]string{"templates/audit.yaml": estateLater})
	r = runCLI("", "check", "--baseline", b, "--format", "json", "templates")
	if r.code != 1 {
		t.Errorf("new finding: exit %d\n%s", r.code, r.stderr)
	}
	var rep struct {
		Files []struct {
			Findings []struct {
				RuleID, Resource string
			}
			Baselined int
		}
		Summary struct{ Findings, Baselined int }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Files) != 1 || len(rep.Files[0].Findings) != 1 || rep.Files[0].Findings[0].Resource != "D" ||
		rep.Files[0].Baselined != 2 || rep.Summary.Findings != 1 || rep.Summary.Baselined != 2 {
		t.Errorf("json report: %+v", rep)
	}
	mustContain(t, "stderr", r.stderr,
		"soc2ls: soc2ls-baseline.json: 1 entry no longer matches a finding (fixed, or the code at fault changed):\n"+
			"    templates/audit.yaml: SOC2-CT-001 B: trail B records only the region it is deployed in",
		"soc2ls: run with --baseline soc2ls-baseline.json --write-baseline soc2ls-baseline.json to drop them\n",
		"1 error in 1 file (1 file checked, 2 findings baselined)\n")

	// Text: only the new finding.
	r = runCLI("", "check", "--baseline", b, "templates")
	if want := "templates/audit.yaml:20:27: error: trail D records only the region it is deployed in"; !strings.HasPrefix(r.stdout, want) || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("text report:\n%s", r.stdout)
	}

	// From another directory, paths stay relative to the baseline file.
	t.Chdir(filepath.Join(dir, "templates"))
	if r := runCLI("", "check", "--baseline", "../"+b, "--fail-on", "none", "audit.yaml"); !strings.Contains(r.stderr, "2 findings baselined") {
		t.Errorf("from templates/: %s", r.stderr)
	}
	t.Chdir(dir)

	// Pruning: the stale entry goes, the new finding is reported, not recorded.
	r = runCLI("", "check", "--baseline", b, "--write-baseline", b, "templates")
	if r.code != 1 {
		t.Errorf("prune: exit %d\n%s", r.code, r.stderr)
	}
	mustContain(t, "stderr", r.stderr, "soc2ls: wrote soc2ls-baseline.json: 2 findings\n")
	if strings.Contains(r.stderr, "to drop them") {
		t.Errorf("pruning still suggests pruning:\n%s", r.stderr)
	}
	if r := runCLI("", "check", "--baseline", b, "templates"); r.code != 1 || strings.Contains(r.stderr, "no longer") {
		t.Errorf("after pruning: exit %d\n%s", r.code, r.stderr)
	}

	// Pruning into another directory keeps the paths right, including
	// those of files not checked.
	writeTree(t, dir, map[string]string{"other/x.yaml": estate})
	if r := runCLI("", "check", "--write-baseline", b, "templates", "other"); r.code != 0 {
		t.Fatalf("record two files: exit %d\n%s", r.code, r.stderr)
	}
	if err := os.Mkdir("ci", 0o755); err != nil {
		t.Fatal(err)
	}
	if r := runCLI("", "check", "--baseline", b, "--write-baseline", "ci/b.json", "templates"); r.code != 0 ||
		!strings.Contains(r.stderr, "wrote ci/b.json: 6 findings") {
		t.Errorf("prune elsewhere: exit %d\n%s", r.code, r.stderr)
	}
	if r := runCLI("", "check", "--baseline", "ci/b.json", "templates", "other"); r.code != 0 || !strings.Contains(r.stderr, "6 findings baselined") {
		t.Errorf("the pruned copy: exit %d\n%s", r.code, r.stderr)
	}
	if r := runCLI("", "check", "--write-baseline", b, "templates"); r.code != 0 {
		t.Fatalf("record again: exit %d\n%s", r.code, r.stderr)
	}

	// A baseline is not written when files could not be checked.
	before, _ := os.ReadFile(b)
	r = runCLI("", "check", "--write-baseline", b, "templates", "gone.yaml")
	if r.code != 2 || !strings.Contains(r.stderr, "soc2ls: soc2ls-baseline.json: baseline not written, since some files could not be checked") {
		t.Errorf("I/O error: exit %d\n%s", r.code, r.stderr)
	}
	if now, _ := os.ReadFile(b); !bytes.Equal(now, before) {
		t.Errorf("the baseline changed although a file could not be checked")
	}

	// A baseline that cannot be written stops the run before --fix.
	if r := runCLI("", "check", "--fix", "--write-baseline", "no/such/dir/b.json", "templates"); r.code != 2 ||
		!strings.Contains(r.stderr, "soc2ls: no/such/dir: no such file or directory") || strings.Contains(r.stderr, "fixed") {
		t.Errorf("unwritable baseline: exit %d\n%s", r.code, r.stderr)
	}
	if now, _ := os.ReadFile("templates/audit.yaml"); string(now) != estateLater {
		t.Errorf("the template was fixed although the baseline could not be written")
	}

	// A broken baseline stops the run with its position.
	writeTree(t, dir, map[string]string{"bad.json": "{\"version\": 1,\n \"findings\": [,]}\n"})
	if r := runCLI("", "check", "--baseline", "bad.json", "templates"); r.code != 2 ||
		!strings.Contains(r.stderr, "soc2ls: bad.json:2:15: not a soc2ls baseline: invalid character ','") {
		t.Errorf("bad baseline: exit %d\n%s", r.code, r.stderr)
	}
	// The first run of `--baseline b --write-baseline b` creates it.
	if r := runCLI("", "check", "--baseline", "new.json", "--write-baseline", "new.json", "templates"); r.code != 0 || !strings.Contains(r.stderr, "wrote new.json: 3 findings") {
		t.Errorf("create with both flags: exit %d\n%s", r.code, r.stderr)
	}
}

// TestBaselineGolden pins the baseline file format, on the inputs of
// TestCheckGolden copied to a temporary directory.
func TestBaselineGolden(t *testing.T) {
	fixedRules(t)
	goldenPath, err := filepath.Abs(filepath.Join(repoRoot, "testdata", "cli", "baseline.json.golden"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	names := []string{"SOC2-S3-001/incomplete_policy.yaml", "SOC2-S3-001/bucket.json", "SOC2-CT-001/possible.yaml", "SOC2-CT-001/missing.yaml", "SOC2-S3-001/ok.yaml"}
	tree := map[string]string{}
	for _, n := range names {
		src, err := os.ReadFile(filepath.Join(repoRoot, "testdata", "rules", n))
		if err != nil {
			t.Fatal(err)
		}
		tree["testdata/rules/"+n] = string(src)
	}
	writeTree(t, dir, tree)
	t.Chdir(dir)
	args := []string{"check", "--write-baseline", "ci/soc2ls-baseline.json"}
	for _, n := range names {
		args = append(args, "testdata/rules/"+n)
	}
	if err := os.Mkdir("ci", 0o755); err != nil {
		t.Fatal(err)
	}
	if r := runCLI("", args...); r.code != 0 || !strings.Contains(r.stderr, "wrote ci/soc2ls-baseline.json: 8 findings") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	data, err := os.ReadFile("ci/soc2ls-baseline.json")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, goldenPath, string(data))
}

func TestCheckDiff(t *testing.T) {
	fixedRules(t)
	dir := t.TempDir()
	files := map[string]string{
		// No final newline, and CRLF line breaks: the diff keeps both.
		"trail.yaml": "Resources:\n  Trail:\n    Type: AWS::CloudTrail::Trail\n    Properties: {IsMultiRegionTrail: false}",
		"crlf.yaml":  "Resources:\r\n  Trail:\r\n    Type: AWS::CloudTrail::Trail\r\n    Properties:\r\n      IsLogging: true\r\n      IsMultiRegionTrail: false\r\n",
		"clean.yaml": cleanCFN,
	}
	writeTree(t, dir, files)
	goldenPath, err := filepath.Abs(filepath.Join(repoRoot, "testdata", "cli", "check.diff.golden"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	stats := map[string]os.FileInfo{}
	for name := range files {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		stats[name] = fi
	}

	r := runCLI("", "check", "--diff", "trail.yaml", "crlf.yaml", "clean.yaml")
	// Nothing was fixed: the findings are still in the files.
	if r.code != 1 {
		t.Errorf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	golden(t, goldenPath, r.stdout)
	mustContain(t, "stderr", r.stderr,
		"trail.yaml: would fix: Trail: Set IsMultiRegionTrail: true [SOC2-CT-001]\n",
		"crlf.yaml: would fix: Trail: Set IsMultiRegionTrail: true [SOC2-CT-001]\n",
		"trail.yaml:4:38: error: trail Trail records only the region",
		"--fix would fix 2 findings in 2 files\n",
		"2 errors in 2 files (3 files checked)\n")
	for name, want := range files {
		now, _ := os.ReadFile(name)
		fi, _ := os.Stat(name)
		if string(now) != want || !os.SameFile(fi, stats[name]) || !fi.ModTime().Equal(stats[name].ModTime()) {
			t.Errorf("%s was written", name)
		}
	}

	// The diff is exactly what --fix does.
	var fixedDiff []byte
	for _, name := range []string{"trail.yaml", "crlf.yaml"} {
		copyPath := filepath.Join(t.TempDir(), name)
		writeTree(t, filepath.Dir(copyPath), map[string]string{name: files[name]})
		if r := runCLI("", "check", "--fix", copyPath); r.code != 0 {
			t.Fatalf("--fix %s: exit %d\n%s", name, r.code, r.stderr)
		}
		fixed, _ := os.ReadFile(copyPath)
		fixedDiff = append(fixedDiff, diff.Unified("a/"+name, "b/"+name, []byte(files[name]), fixed, 3)...)
	}
	if string(fixedDiff) != r.stdout {
		t.Errorf("--diff:\n%s\ndiff of --fix:\n%s", r.stdout, fixedDiff)
	}

	// With a machine format the report goes to -o or stderr, stdout stays
	// the diff.
	r = runCLI("", "check", "--diff", "--format", "json", "-o", "report.json", "trail.yaml")
	data, _ := os.ReadFile("report.json")
	if r.code != 1 || !strings.HasPrefix(r.stdout, "--- a/trail.yaml\n+++ b/trail.yaml\n@@ ") || len(jsonPaths(t, data)) != 1 {
		t.Errorf("--diff --format json -o: exit %d\nstdout:\n%s\nreport:\n%s", r.code, r.stdout, data)
	}
	r = runCLI("", "check", "--diff", "--format", "github", "trail.yaml")
	if !strings.Contains(r.stderr, "::error file=trail.yaml,line=4,") || strings.Contains(r.stdout, "::error") {
		t.Errorf("--diff --format github: stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	// Standard input.
	r = runCLI(cfnTemplate, "check", "--diff", "-")
	if !strings.HasPrefix(r.stdout, "--- a/<stdin>\n+++ b/<stdin>\n") || !strings.Contains(r.stdout, "+      IsMultiRegionTrail: true\n") {
		t.Errorf("stdin: %s", r.stdout)
	}
	// Nothing to fix: no diff, status from the findings.
	if r := runCLI("", "check", "--diff", "clean.yaml"); r.code != 0 || r.stdout != "" {
		t.Errorf("clean: exit %d, stdout %q", r.code, r.stdout)
	}
	if r := runCLI("", "check", "--diff", "--fix", "trail.yaml"); r.code != 2 || !strings.Contains(r.stderr, "--diff shows what --fix would do") {
		t.Errorf("--diff --fix: exit %d\n%s", r.code, r.stderr)
	}
}
