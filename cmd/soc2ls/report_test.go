package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// reportJSON is the part of the report's JSON shape these tests read.
type reportJSON struct {
	Version   int    `json:"version"`
	Generated string `json:"generated"`
	Files     []struct {
		Path string `json:"path"`
	} `json:"files"`
	Criteria []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"criteria"`
	Errors []string `json:"errors"`
}

func decodeReport(t *testing.T, data string) reportJSON {
	t.Helper()
	var r reportJSON
	if err := json.Unmarshal([]byte(data), &r); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, data)
	}
	return r
}

// TestReportFormats: each format on standard output; findings do not make
// the command fail.
func TestReportFormats(t *testing.T) {
	t.Chdir(repoRoot)
	weak := "testdata/examples/fintech-weak.yaml"
	for format, prefix := range map[string]string{"html": "<!DOCTYPE html>", "markdown": "## SOC 2 evidence report", "json": "{"} {
		r := runCLI("", "report", "--format", format, weak)
		if r.code != 0 || !strings.HasPrefix(r.stdout, prefix) {
			t.Errorf("%s: exit %d, output starts %.40q; stderr %s", format, r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stderr, "27 criteria: 22 with open findings, 0 pass, 5 not applicable") {
			t.Errorf("%s: stderr %q", format, r.stderr)
		}
	}
	// HTML is the default.
	if r := runCLI("", "report", weak); !strings.HasPrefix(r.stdout, "<!DOCTYPE html>") {
		t.Errorf("default format: %.40q", r.stdout)
	}
	rep := decodeReport(t, runCLI("", "report", "--format", "json", weak).stdout)
	if rep.Version != 1 || len(rep.Criteria) != 27 || len(rep.Files) != 1 || rep.Files[0].Path != weak {
		t.Errorf("json report: version %d, %d criteria, files %+v", rep.Version, len(rep.Criteria), rep.Files)
	}
}

// TestReportOutputFile: -o picks the format from the extension unless
// --format says otherwise, and leaves no temporary file behind.
func TestReportOutputFile(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(repoRoot, "testdata", "examples", "fintech-baseline.yaml")
	for name, prefix := range map[string]string{"r.md": "## SOC 2", "r.json": "{", "r.html": "<!DOCTYPE html>", "r.txt": "<!DOCTYPE html>"} {
		out := filepath.Join(dir, name)
		if r := runCLI("", "report", "-o", out, src); r.code != 0 || r.stdout != "" {
			t.Fatalf("%s: exit %d, stdout %q, stderr %s", name, r.code, r.stdout, r.stderr)
		}
		data, err := os.ReadFile(out)
		if err != nil || !strings.HasPrefix(string(data), prefix) {
			t.Errorf("%s: %v, starts %.30q", name, err, data)
		}
	}
	out := filepath.Join(dir, "forced.md")
	runCLI("", "report", "--format", "json", "-o", out, src)
	if data, _ := os.ReadFile(out); !strings.HasPrefix(string(data), "{") {
		t.Errorf("--format json -o forced.md wrote %.30q", data)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 5 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("files left in the output folder: %q", names)
	}
	if r := runCLI("", "report", "-o", filepath.Join(dir, "missing", "r.html"), src); r.code != 2 || !strings.Contains(r.stderr, "missing") {
		t.Errorf("unwritable -o: exit %d, stderr %s", r.code, r.stderr)
	}
}

// TestReportErrors: usage mistakes exit 2; a missing file exits 2 but the
// report of the others is still written, naming what was not checked.
func TestReportErrors(t *testing.T) {
	for _, args := range [][]string{{"report"}, {"report", "--format", "pdf", "x.yaml"}, {"report", "--bogus", "x.yaml"}} {
		if r := runCLI("", args...); r.code != 2 || r.stderr == "" {
			t.Errorf("%q: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
	src := filepath.Join(repoRoot, "testdata", "examples", "fintech-baseline.yaml")
	r := runCLI("", "report", "--format", "json", src, "no-such-file.yaml")
	if r.code != 2 {
		t.Errorf("missing file: exit %d", r.code)
	}
	rep := decodeReport(t, r.stdout)
	if len(rep.Files) != 1 || len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0], "no-such-file.yaml") {
		t.Errorf("missing file: files %+v, errors %q", rep.Files, rep.Errors)
	}
	if r := runCLI("", "report", "-h"); r.code != 0 || !strings.Contains(r.stderr, "Usage: soc2ls report") {
		t.Errorf("-h: exit %d, %q", r.code, r.stderr)
	}
	if r := runCLI("", "help"); !strings.Contains(r.stdout, "report ") {
		t.Errorf("help does not list report:\n%s", r.stdout)
	}
}

// TestReportStdinAndDate: "-" reads a template from standard input, and
// SOURCE_DATE_EPOCH fixes the generation time (reproducible reports).
func TestReportStdinAndDate(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1767225600")
	r := runCLI("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n", "report", "--format", "json", "-")
	rep := decodeReport(t, r.stdout)
	if r.code != 0 || rep.Generated != "2026-01-01T00:00:00Z" || len(rep.Files) != 1 || rep.Files[0].Path != "<stdin>" {
		t.Errorf("exit %d, generated %q, files %+v; stderr %s", r.code, rep.Generated, rep.Files, r.stderr)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "soon")
	if r := runCLI("Resources: {}\n", "report", "--format", "json", "-"); !strings.Contains(r.stderr, "SOURCE_DATE_EPOCH") {
		t.Errorf("bad SOURCE_DATE_EPOCH not reported: %s", r.stderr)
	}
}
