package report

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/rules"
)

const testdata = "../../testdata/rules"

// testRules is a fixed rule set, so that these tests do not change when the
// catalogue grows.
var testRules = []*analysis.Rule{rules.CloudTrailMultiRegion, rules.S3DenyInsecureTransport}

func testInfo() Info {
	return Info{ToolVersion: "1.2.3", Rules: append(append([]*analysis.Rule{}, testRules...), analysis.MetaRules()...)}
}

// analyse analyses src as path with the test rules.
func analyse(t *testing.T, path string, src []byte) FileResult {
	t.Helper()
	res := analysis.NewEngine(testRules, nil).Analyze(path, src)
	return FileResult{Path: path, Template: res.Template, Findings: res.Findings, Suppressed: res.Suppressed}
}

// load analyses testdata files, shown by their path below testdata/rules.
func load(t *testing.T, names ...string) []FileResult {
	t.Helper()
	var out []FileResult
	for _, n := range names {
		src, err := os.ReadFile(filepath.Join(testdata, n))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, analyse(t, n, src))
	}
	return out
}

func TestText(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		want  string
	}{
		{"no findings", []string{"SOC2-S3-001/ok.yaml"}, ""},
		{"finding on a logical id", []string{"SOC2-CT-001/missing.yaml"},
			"SOC2-CT-001/missing.yaml:4:3: error: trail ProdCloudTrail records only the region it is deployed in: set IsMultiRegionTrail to true [SOC2-CT-001] (CC7.2, CC2.1, A1.2, PI1.3)\n" +
				"SOC2-CT-001/missing.yaml:10:3: error: bucket TrailBucket accepts plain-HTTP requests: no bucket policy denies requests where aws:SecureTransport is false [SOC2-S3-001] (CC6.7, CC6.1)\n"},
		{"possible finding on a value", []string{"SOC2-CT-001/possible.yaml"},
			"SOC2-CT-001/possible.yaml:17:27: warning: trail ParamTrail may record only the region it is deployed in: IsMultiRegionTrail can be false (with parameter MultiRegion = false) [SOC2-CT-001] (CC7.2, CC2.1, A1.2, PI1.3)\n" +
				"SOC2-CT-001/possible.yaml:23:27: warning: trail IfTrail records only the region it is deployed in: set IsMultiRegionTrail to true (when IsProd is false) [SOC2-CT-001] (CC7.2, CC2.1, A1.2, PI1.3)\n"},
		{"related locations", []string{"SOC2-S3-001/bucket.json"},
			"SOC2-S3-001/bucket.json:3:5: error: bucket Bucket accepts plain-HTTP requests: its policy Policy has no statement denying requests where aws:SecureTransport is false [SOC2-S3-001] (CC6.7, CC6.1)\n" +
				"    SOC2-S3-001/bucket.json:6:5: note: bucket policy Policy\n" +
				"SOC2-S3-001/bucket.json:22:5: error: bucket Lonely accepts plain-HTTP requests: no bucket policy denies requests where aws:SecureTransport is false [SOC2-S3-001] (CC6.7, CC6.1)\n"},
		{"meta rule without criteria", nil, "broken.yaml:3:2: error: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := load(t, tt.files...)
			if tt.files == nil {
				files = []FileResult{analyse(t, "broken.yaml", []byte("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n\t- [\n"))}
			}
			var buf bytes.Buffer
			if err := Text(&buf, files, testInfo()); err != nil {
				t.Fatal(err)
			}
			got := buf.String()
			if tt.files == nil {
				if !strings.HasPrefix(got, tt.want) || !strings.Contains(got, "[SOC2-PARSE-001]\n") {
					t.Errorf("got %q, want a syntax error at %q without criteria", got, tt.want)
				}
				return
			}
			if got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// utf16Template has a multibyte character (é: 2 bytes, 1 UTF-16 unit) and an
// emoji (4 bytes, 2 UTF-16 units) before the finding on line 5.
const utf16Template = "AWSTemplateFormatVersion: '2010-09-09'\n" +
	"Resources:\n" +
	"  Trail:\n" +
	"    Type: AWS::CloudTrail::Trail\n" +
	"    Properties: {S3BucketName: \"café😀\", IsMultiRegionTrail: false}\n"

func TestUTF16Columns(t *testing.T) {
	f := analyse(t, "utf16.yaml", []byte(utf16Template))
	if len(f.Findings) != 1 {
		t.Fatalf("want 1 finding, got %v", f.Findings)
	}
	line := "    Properties: {S3BucketName: \"café😀\", IsMultiRegionTrail: "
	wantCol := len(utf16.Encode([]rune(line))) + 1 // 1-based
	wantOff := strings.Index(utf16Template, "false}")
	if wantCol == len(line)+1 {
		t.Fatal("test template has no multibyte character before the finding")
	}

	var text, js, sarif bytes.Buffer
	for _, w := range []struct {
		write Writer
		buf   *bytes.Buffer
	}{{Text, &text}, {JSON, &js}, {SARIF, &sarif}} {
		if err := w.write(w.buf, []FileResult{f}, testInfo()); err != nil {
			t.Fatal(err)
		}
	}
	if want := "utf16.yaml:5:" + strconv.Itoa(wantCol) + ": error:"; !strings.HasPrefix(text.String(), want) {
		t.Errorf("text: got %q, want prefix %q", text.String(), want)
	}
	var jr struct {
		Files []struct {
			Findings []struct {
				Range struct {
					Start, End struct{ Line, Column, Offset int }
				}
			}
		}
	}
	mustUnmarshal(t, js.Bytes(), &jr)
	start := jr.Files[0].Findings[0].Range.Start
	end := jr.Files[0].Findings[0].Range.End
	if start.Line != 5 || start.Column != wantCol || start.Offset != wantOff || end.Column != wantCol+5 || end.Offset != wantOff+5 {
		t.Errorf("json: got start %+v end %+v, want line 5 column %d offset %d, 5 units long", start, end, wantCol, wantOff)
	}
	var sr struct {
		Runs []struct {
			ColumnKind string
			Results    []struct {
				Locations []struct {
					PhysicalLocation struct {
						Region struct{ StartLine, StartColumn, EndColumn, ByteOffset, ByteLength int }
					}
				}
			}
		}
	}
	mustUnmarshal(t, sarif.Bytes(), &sr)
	r := sr.Runs[0].Results[0].Locations[0].PhysicalLocation.Region
	if sr.Runs[0].ColumnKind != "utf16CodeUnits" || r.StartLine != 5 || r.StartColumn != wantCol || r.EndColumn != wantCol+5 || r.ByteOffset != wantOff || r.ByteLength != 5 {
		t.Errorf("sarif: got %+v (columnKind %q), want column %d byte offset %d", r, sr.Runs[0].ColumnKind, wantCol, wantOff)
	}
}

func TestJSON(t *testing.T) {
	files := load(t, "SOC2-S3-001/bucket.json", "SOC2-S3-001/ok.yaml")
	info := testInfo()
	info.Errors = []string{"x.yaml: permission denied"}
	var buf bytes.Buffer
	if err := JSON(&buf, files, info); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	mustUnmarshal(t, buf.Bytes(), &doc)
	checkKeys(t, "report", doc, "version", "tool", "files", "summary", "errors")
	if doc["version"] != float64(1) || !reflect.DeepEqual(doc["tool"], map[string]any{"name": "soc2ls", "version": "1.2.3"}) {
		t.Errorf("version/tool: %v %v", doc["version"], doc["tool"])
	}
	if !reflect.DeepEqual(doc["errors"], []any{"x.yaml: permission denied"}) {
		t.Errorf("errors: %v", doc["errors"])
	}
	fs := doc["files"].([]any)
	if len(fs) != 2 {
		t.Fatalf("want both files listed, got %d", len(fs))
	}
	okFile := fs[1].(map[string]any)
	if okFile["path"] != "SOC2-S3-001/ok.yaml" || !reflect.DeepEqual(okFile["findings"], []any{}) {
		t.Errorf("a file without findings has findings: [], got %v", okFile)
	}
	f := fs[0].(map[string]any)["findings"].([]any)[0].(map[string]any)
	checkKeys(t, "finding", f, "ruleId", "severity", "message", "controls", "resource", "possible", "range", "related", "fixes")
	if f["ruleId"] != "SOC2-S3-001" || f["severity"] != "error" || f["resource"] != "Bucket" || f["possible"] != false ||
		!reflect.DeepEqual(f["controls"], []any{"CC6.7", "CC6.1"}) {
		t.Errorf("finding: %v", f)
	}
	wantRange := map[string]any{
		"start": map[string]any{"line": float64(3), "column": float64(5), "offset": float64(23)},
		"end":   map[string]any{"line": float64(3), "column": float64(13), "offset": float64(31)},
	}
	if !reflect.DeepEqual(f["range"], wantRange) {
		t.Errorf("range: got %v, want %v", f["range"], wantRange)
	}
	rel := f["related"].([]any)[0].(map[string]any)
	checkKeys(t, "related", rel, "range", "message")
	fix := f["fixes"].([]any)[0].(map[string]any)
	checkKeys(t, "fix", fix, "title", "unsafe", "edits")
	edit := fix["edits"].([]any)[0].(map[string]any)
	checkKeys(t, "edit", edit, "range", "newText")
	if !strings.Contains(edit["newText"].(string), `"aws:SecureTransport": "false"`) {
		t.Errorf("edit: %v", edit)
	}
	want := map[string]any{"filesChecked": float64(2), "filesWithFindings": float64(1), "findings": float64(2), "suppressed": float64(0), "baselined": float64(0),
		"bySeverity": map[string]any{"error": float64(2), "warning": float64(0), "info": float64(0), "hint": float64(0)}}
	if !reflect.DeepEqual(doc["summary"], want) {
		t.Errorf("summary: got %v, want %v", doc["summary"], want)
	}
}

func TestSARIF(t *testing.T) {
	files := load(t, "SOC2-S3-001/bucket.json", "SOC2-CT-001/possible.yaml", "SOC2-S3-001/ok.yaml")
	files = append(files, analyse(t, StdinPath, []byte("Resources:\n  B:\n    Type: AWS::S3::Bucket\n")))
	info := testInfo()
	info.SrcRoot = "/src/project"
	var buf bytes.Buffer
	if err := SARIF(&buf, files, info); err != nil {
		t.Fatal(err)
	}
	var log sarifLog
	mustUnmarshal(t, buf.Bytes(), &log)
	if log.Schema != SARIFSchema || log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("log header: %q %q %d runs", log.Schema, log.Version, len(log.Runs))
	}
	run := log.Runs[0]
	if run.ColumnKind != "utf16CodeUnits" || run.OriginalURIBaseIDs["%SRCROOT%"].URI != "file:///src/project/" {
		t.Errorf("run: columnKind %q, base ids %v", run.ColumnKind, run.OriginalURIBaseIDs)
	}
	if len(run.Invocations) != 1 || !run.Invocations[0].ExecutionSuccessful {
		t.Errorf("invocations: %+v", run.Invocations)
	}
	d := run.Tool.Driver
	if d.Name != "soc2ls" || d.Version != "1.2.3" || d.InformationURI == "" || len(d.Rules) != len(info.Rules) {
		t.Fatalf("driver: %+v", d)
	}
	for i, r := range d.Rules {
		rule := info.Rules[i]
		if r.ID != rule.ID || r.Name == "" || strings.ContainsAny(r.Name, " -") || r.ShortDescription.Text != rule.Title ||
			r.FullDescription.Text == "" || r.Help.Markdown != strings.TrimSpace(rule.Doc) || r.HelpURI != rule.DocURL() {
			t.Errorf("rule %d: %+v", i, r)
		}
		wantTags := append(append([]string{}, rule.Controls...), "security")
		if rule.Meta {
			wantTags = append([]string{}, rule.Controls...)
		}
		if !reflect.DeepEqual(r.Properties.Tags, wantTags) {
			t.Errorf("%s tags: got %v, want %v", r.ID, r.Properties.Tags, wantTags)
		}
	}
	if d.Rules[0].Name != "CloudTrailTrailRecordsOnlyOneRegion" || d.Rules[0].DefaultConfiguration.Level != "error" {
		t.Errorf("rule 0: %+v", d.Rules[0])
	}
	if len(run.Artifacts) != len(files) {
		t.Errorf("want one artifact per file, got %d", len(run.Artifacts))
	}
	if got := run.Artifacts[0].Location; got.URI != "SOC2-S3-001/bucket.json" || got.URIBaseID != "%SRCROOT%" {
		t.Errorf("artifact 0: %+v", got)
	}
	if got := run.Artifacts[3].Location; got.URI != "" || got.Description == nil {
		t.Errorf("stdin artifact: %+v", got)
	}
	levels := map[string]int{}
	for _, res := range run.Results {
		levels[res.Level]++
		if res.RuleIndex == nil || d.Rules[*res.RuleIndex].ID != res.RuleID {
			t.Errorf("%s: ruleIndex %v does not point to its rule", res.RuleID, res.RuleIndex)
		}
		loc := res.Locations[0].PhysicalLocation
		if loc.ArtifactLocation.Index == nil || loc.Region.StartLine < 1 || loc.Region.StartColumn < 1 || loc.Region.EndLine < loc.Region.StartLine {
			t.Errorf("%s: bad location %+v", res.RuleID, loc)
		}
		if len(res.PartialFingerprints[fingerprintKey]) != 34 {
			t.Errorf("%s: fingerprint %q", res.RuleID, res.PartialFingerprints)
		}
		for i, rl := range res.RelatedLocations {
			if rl.ID == nil || *rl.ID != i+1 || rl.Message == nil || rl.Message.Text == "" {
				t.Errorf("%s: related location %d: %+v", res.RuleID, i, rl)
			}
		}
	}
	if !reflect.DeepEqual(levels, map[string]int{"error": 3, "warning": 2}) {
		t.Errorf("levels: %v", levels)
	}
	first := run.Results[0]
	if len(first.RelatedLocations) != 1 || len(first.Fixes) != 1 {
		t.Fatalf("first result: %+v", first)
	}
	rep := first.Fixes[0].ArtifactChanges[0].Replacements[0]
	src := files[0].Template.Source
	if r := rep.DeletedRegion; r.ByteOffset == nil || r.ByteLength == nil || *r.ByteLength != 0 || r.StartColumn != r.EndColumn ||
		!bytes.HasPrefix(src[*r.ByteOffset:], []byte("\n          ]")) {
		t.Errorf("insertion point: %+v", rep.DeletedRegion)
	}
	if first.Properties == nil || !reflect.DeepEqual(first.Properties.Controls, []string{"CC6.7", "CC6.1"}) {
		t.Errorf("properties: %+v", first.Properties)
	}
	if first.Locations[0].LogicalLocations[0] != (sarifLogicalLocation{Name: "Bucket", Kind: "resource"}) {
		t.Errorf("logical location: %+v", first.Locations[0].LogicalLocations)
	}

	info.Errors = []string{"gone.yaml: no such file or directory"}
	buf.Reset()
	if err := SARIF(&buf, files, info); err != nil {
		t.Fatal(err)
	}
	mustUnmarshal(t, buf.Bytes(), &log)
	if inv := log.Runs[0].Invocations[0]; inv.ExecutionSuccessful || len(inv.ToolExecutionNotifications) != 1 {
		t.Errorf("a run with errors: %+v", inv)
	}
}

// TestFingerprintIgnoresLineNumbers: inserting lines above a finding must not
// change its fingerprint, or code scanning would close and reopen it.
func TestFingerprintIgnoresLineNumbers(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(testdata, "SOC2-S3-001/no_policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	prints := func(src []byte) []string {
		var out []string
		seen := map[string]int{}
		for _, f := range analyse(t, "t.yaml", src).Findings {
			out = append(out, fingerprint(f, seen))
		}
		return out
	}
	before := prints(src)
	after := prints(append([]byte("# a comment\n# another\n"), src...))
	if len(before) != 2 || !reflect.DeepEqual(before, after) || before[0] == before[1] {
		t.Errorf("fingerprints before %v, after %v", before, after)
	}
	seen := map[string]int{}
	f := analysis.Finding{RuleID: "R", Message: "first: x on line 12"}
	g := analysis.Finding{RuleID: "R", Message: "first: x on line 40"}
	if a, b := fingerprint(f, seen), fingerprint(g, seen); a[:32] != b[:32] || a == b {
		t.Errorf("line numbers in messages: %s %s", a, b)
	}
}

func TestArtifactLocation(t *testing.T) {
	tests := []struct {
		path, root string
		want       sarifArtifactLoc
	}{
		{"templates/app.yaml", "/src", sarifArtifactLoc{URI: "templates/app.yaml", URIBaseID: "%SRCROOT%"}},
		{"./a b/c#1.yaml", "/src", sarifArtifactLoc{URI: "a%20b/c%231.yaml", URIBaseID: "%SRCROOT%"}},
		{"c:x.yaml", "/src", sarifArtifactLoc{URI: "./c:x.yaml", URIBaseID: "%SRCROOT%"}},
		{"/abs/t.yaml", "/src", sarifArtifactLoc{URI: "file:///abs/t.yaml"}},
		{"../other/t.yaml", "/src/project", sarifArtifactLoc{URI: "file:///src/other/t.yaml"}},
		{"../other/t.yaml", "", sarifArtifactLoc{URI: "../other/t.yaml"}},
		{StdinPath, "/src", sarifArtifactLoc{Description: &sarifMessage{Text: "standard input"}}},
	}
	for _, tt := range tests {
		if got := artifactLocation(tt.path, tt.root); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("artifactLocation(%q, %q) = %+v, want %+v", tt.path, tt.root, got, tt.want)
		}
	}
}

func TestCamelCase(t *testing.T) {
	for title, want := range map[string]string{
		"S3 bucket accepts requests without TLS":                 "S3BucketAcceptsRequestsWithoutTLS",
		"YAML anchors, aliases and merge keys are not supported": "YAMLAnchorsAliasesAndMergeKeysAreNotSupported",
		"soc2ls internal error":                                  "Soc2lsInternalError",
	} {
		if got := camelCase(title); got != want {
			t.Errorf("camelCase(%q) = %q, want %q", title, got, want)
		}
	}
}

func TestSummary(t *testing.T) {
	tests := []struct {
		s    Summary
		want string
	}{
		{Summary{FilesChecked: 5}, "no findings (5 files checked)"},
		{Summary{FilesChecked: 1}, "no findings (1 file checked)"},
		{Summary{FilesChecked: 5, FilesWithFindings: 2, Findings: 5, Errors: 3, Warnings: 2}, "3 errors, 2 warnings in 2 files (5 files checked)"},
		{Summary{FilesChecked: 1, FilesWithFindings: 1, Findings: 3, Errors: 1, Info: 1, Hints: 1}, "1 error, 1 info, 1 hint in 1 file (1 file checked)"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	s := Summary{Errors: 1, Warnings: 2, Info: 3, Hints: 4}
	for sev, want := range map[analysis.Severity]int{analysis.Error: 1, analysis.Warning: 3, analysis.Info: 6, analysis.Hint: 10} {
		if got := s.AtLeast(sev); got != want {
			t.Errorf("AtLeast(%v) = %d, want %d", sev, got, want)
		}
	}
}

func TestSort(t *testing.T) {
	files := load(t, "SOC2-S3-001/no_policy.yaml", "SOC2-CT-001/missing.yaml")
	fs := files[0].Findings
	fs[0], fs[1] = fs[1], fs[0]
	Sort(files)
	if files[0].Path != "SOC2-CT-001/missing.yaml" || files[1].Findings[0].Span.Start > files[1].Findings[1].Span.Start {
		t.Errorf("not sorted by path, then position")
	}
}

func TestRulesMarkdownAnchors(t *testing.T) {
	all := append(rules.All(), analysis.MetaRules()...)
	var buf bytes.Buffer
	if err := RulesMarkdown(&buf, all); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, r := range all {
		_, fragment, _ := strings.Cut(r.DocURL(), "#")
		// GitHub derives a heading's anchor by lower-casing it; a heading
		// that is the bare id gives exactly the fragment DocURL uses.
		if !strings.Contains(md, "\n### "+r.ID+"\n") || strings.ToLower(r.ID) != fragment || !strings.Contains(md, "(#"+fragment+")") {
			t.Errorf("%s: no section whose anchor is #%s", r.ID, fragment)
		}
	}
}

// TestSARIFSchema validates SARIF output against the official 2.1.0 JSON
// schema with testdata/sarif-validate (node and ajv). It is skipped when the
// validator is not installed (npm ci --prefix testdata/sarif-validate), unless
// SOC2LS_REQUIRE_SARIF_SCHEMA is set, as CI should.
func TestSARIFSchema(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "sarif-validate")
	node, err := exec.LookPath("node")
	if _, statErr := os.Stat(filepath.Join(dir, "node_modules", "ajv")); err != nil || statErr != nil {
		if os.Getenv("SOC2LS_REQUIRE_SARIF_SCHEMA") != "" {
			t.Fatalf("SARIF schema validator missing: install node and run npm ci --prefix testdata/sarif-validate")
		}
		t.Skip("SARIF schema validator not installed: npm ci --prefix testdata/sarif-validate")
	}
	var names []string
	for _, dir := range []string{"SOC2-CT-001", "SOC2-S3-001"} {
		entries, err := os.ReadDir(filepath.Join(testdata, dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if ext := filepath.Ext(e.Name()); ext == ".yaml" || ext == ".json" {
				names = append(names, filepath.Join(dir, e.Name()))
			}
		}
	}
	sort.Strings(names)
	files := load(t, names...)
	files = append(files,
		analyse(t, StdinPath, []byte(utf16Template)),
		analyse(t, "/abs/broken.yaml", []byte("AWSTemplateFormatVersion: '2010-09-09'\nResources: [\n")),
		analyse(t, "suppressed.yaml", []byte(suppressedTemplate)))
	info := testInfo()
	info.SrcRoot = "/src/project"
	info.Errors = []string{"gone.yaml: no such file or directory"}
	var buf bytes.Buffer
	if err := SARIF(&buf, files, info); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out.sarif")
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command(node, filepath.Join(dir, "validate.js"), out).CombinedOutput(); err != nil {
		t.Errorf("SARIF output does not validate: %v\n%s", err, msg)
	}
}

func checkKeys(t *testing.T, what string, m map[string]any, keys ...string) {
	t.Helper()
	var got []string
	for k := range m {
		got = append(got, k)
	}
	sort.Strings(got)
	sort.Strings(keys)
	if !reflect.DeepEqual(got, keys) {
		t.Errorf("%s keys: got %v, want %v", what, got, keys)
	}
}

func mustUnmarshal(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
}

// suppressedTemplate has one trail finding silenced with a reason.
const suppressedTemplate = `AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Trail: # soc2ls:ignore SOC2-CT-001 regional trail for the sandbox account, see RISK-7
    Type: AWS::CloudTrail::Trail
    Properties:
      IsLogging: true
      S3BucketName: logs
`

// TestSuppressedOutput checks that every format keeps the record of an
// exception: JSON lists it with its reason, SARIF as a result with a
// suppression and its justification, text only when asked.
func TestSuppressedOutput(t *testing.T) {
	files := []FileResult{analyse(t, "suppressed.yaml", []byte(suppressedTemplate))}
	if len(files[0].Suppressed) != 1 || len(files[0].Findings) != 0 {
		t.Fatalf("want one suppressed finding and no active one, got %v / %v", files[0].Suppressed, files[0].Findings)
	}
	info := testInfo()
	var js bytes.Buffer
	if err := JSON(&js, files, info); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Files []struct {
			Suppressed []struct {
				RuleID      string `json:"ruleId"`
				Suppression struct {
					Source, Reason string
				} `json:"suppression"`
			} `json:"suppressed"`
		} `json:"files"`
		Summary struct {
			Suppressed int `json:"suppressed"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if s := doc.Files[0].Suppressed; len(s) != 1 || s[0].RuleID != "SOC2-CT-001" || s[0].Suppression.Source != "comment" ||
		s[0].Suppression.Reason != "regional trail for the sandbox account, see RISK-7" || doc.Summary.Suppressed != 1 {
		t.Errorf("JSON: %s", js.String())
	}
	var sarif bytes.Buffer
	if err := SARIF(&sarif, files, info); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sarif.String(), `"justification": "regional trail for the sandbox account, see RISK-7"`) ||
		!strings.Contains(sarif.String(), `"kind": "inSource"`) {
		t.Errorf("SARIF has no suppression:\n%s", sarif.String())
	}
	var text bytes.Buffer
	if err := Text(&text, files, info); err != nil || text.Len() != 0 {
		t.Errorf("text without ShowSuppressed: %q, %v", text.String(), err)
	}
	info.ShowSuppressed = true
	text.Reset()
	if err := Text(&text, files, info); err != nil || !strings.Contains(text.String(), "suppressed error:") || !strings.Contains(text.String(), "(comment: regional trail") {
		t.Errorf("text with ShowSuppressed: %q, %v", text.String(), err)
	}
}
