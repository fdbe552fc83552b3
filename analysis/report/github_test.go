package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/template"
)

func TestGitHub(t *testing.T) {
	files := load(t, "SOC2-CT-001/missing.yaml", "SOC2-CT-001/possible.yaml", "SOC2-S3-001/ok.yaml")
	info := testInfo()
	info.Errors = []string{"gone.yaml: no such file or directory"}
	var buf bytes.Buffer
	if err := GitHub(&buf, files, info); err != nil {
		t.Fatal(err)
	}
	want := "::error file=SOC2-CT-001/missing.yaml,line=4,col=3,endLine=4,endColumn=17,title=SOC2-CT-001::trail ProdCloudTrail records only the region it is deployed in: set IsMultiRegionTrail to true (CC7.2, CC2.1, A1.2, PI1.3)\n" +
		"::error file=SOC2-CT-001/missing.yaml,line=10,col=3,endLine=10,endColumn=14,title=SOC2-S3-001::bucket TrailBucket accepts plain-HTTP requests: no bucket policy denies requests where aws:SecureTransport is false (CC6.7, CC6.1)\n"
	got := buf.String()
	if !strings.HasPrefix(got, want) {
		t.Errorf("got:\n%s\nwant prefix:\n%s", got, want)
	}
	if !strings.Contains(got, "::warning file=SOC2-CT-001/possible.yaml,line=17,col=27,") {
		t.Errorf("possible findings are warnings:\n%s", got)
	}
	if !strings.HasSuffix(got, "::error title=soc2ls::gone.yaml: no such file or directory\n") {
		t.Errorf("I/O errors are file-less errors:\n%s", got)
	}
	// Every line is one well-formed command.
	command := regexp.MustCompile(`^::(error|warning|notice) ([a-zA-Z]+=[^,:]*)(,[a-zA-Z]+=[^,:]*)*::[^\r\n]*$`)
	for _, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		if !command.MatchString(line) {
			t.Errorf("malformed command %q", line)
		}
	}
}

// TestGitHubEscaping: a message or property with the characters that end a
// command, or its properties, must arrive intact: the runner unescapes %25,
// %0D, %0A (and %3A, %2C in properties).
func TestGitHubEscaping(t *testing.T) {
	src := []byte("Resources:\n  B:\n    Type: AWS::S3::Bucket\n")
	tpl := template.Parse("we:ird,dir/100%\n.yaml", src)
	f := FileResult{Path: "we:ird,dir/100%\n.yaml", Template: tpl, Findings: []analysis.Finding{
		{RuleID: "SOC2-X-001", Severity: analysis.Info, Span: template.Span{Start: 13, End: 14},
			Message: "50% of\r\nthe: things, really"},
		{RuleID: "SOC2-X-002", Severity: analysis.Hint, Span: template.Span{Start: 0, End: len(src)}, Message: "spans lines"},
	}}
	var buf bytes.Buffer
	if err := GitHub(&buf, []FileResult{f}, Info{}); err != nil {
		t.Fatal(err)
	}
	want := "::notice file=we%3Aird%2Cdir/100%25%0A.yaml,line=2,col=3,endLine=2,endColumn=4,title=SOC2-X-001::50%25 of%0D%0Athe: things, really\n" +
		// Columns only for one-line ranges.
		"::notice file=we%3Aird%2Cdir/100%25%0A.yaml,line=1,endLine=4,title=SOC2-X-002::spans lines\n"
	if got := buf.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}

	// Round trip through the runner's unescaping (actions/toolkit).
	unescapeData := strings.NewReplacer("%0D", "\r", "%0A", "\n", "%25", "%")
	unescapeProp := strings.NewReplacer("%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",", "%25", "%")
	for _, s := range []string{"a%0Ab", "100%", "%25", "x\r\ny", ":,%:,"} {
		if got := unescapeData.Replace(escapeGitHubData(s)); got != s {
			t.Errorf("data %q: round trip gives %q", s, got)
		}
		if got := unescapeProp.Replace(escapeGitHubProperty(s)); got != s {
			t.Errorf("property %q: round trip gives %q", s, got)
		}
	}

	// Standard input has no file.
	buf.Reset()
	f.Path = StdinPath
	if err := GitHub(&buf, []FileResult{f}, Info{}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "::notice line=2,col=3,") {
		t.Errorf("stdin: %s", buf.String())
	}
}

// TestFormats: every advertised format has a writer, and each writes
// something sensible for a run without files.
func TestFormats(t *testing.T) {
	for _, name := range Formats {
		w, ok := Lookup(name)
		if !ok {
			t.Errorf("Lookup(%q) fails", name)
			continue
		}
		var buf bytes.Buffer
		if err := w(&buf, nil, testInfo()); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, ok := Lookup("xml"); ok {
		t.Errorf("Lookup accepts an unknown format")
	}
}
