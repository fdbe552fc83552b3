package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// The JUnit XML subset that GitLab, Jenkins and Azure DevOps all read: the
// attributes of the common "JUnit 4 / Ant" schema, no timings (so that the
// output is deterministic) and no properties.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Skipped  int          `xml:"skipped,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name     string      `xml:"name,attr"`
		Tests    int         `xml:"tests,attr"`
		Failures int         `xml:"failures,attr"`
		Errors   int         `xml:"errors,attr"`
		Skipped  int         `xml:"skipped,attr"`
		Cases    []junitCase `xml:"testcase"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		File      string        `xml:"file,attr,omitempty"`
		Line      int           `xml:"line,attr,omitempty"`
		Failure   *junitProblem `xml:"failure"`
		Error     *junitProblem `xml:"error"`
		Skipped   *junitSkipped `xml:"skipped"`
	}
	junitProblem struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		// Text is escaped by xmlText: encoding/xml would write its line
		// breaks as &#xA;, which CI services show verbatim in places.
		Text string `xml:",innerxml"`
	}
	junitSkipped struct {
		Message string `xml:"message,attr"`
	}
)

// JUnit writes the results as JUnit XML, the test report format that CI
// services display (GitLab's artifacts:reports:junit, Jenkins' junit step,
// Azure DevOps' PublishTestResults). Each file is a testsuite named by its
// path. Its testcases are:
//
//   - a failing testcase per finding, named "RULE-ID RESOURCE" (plus " #2",
//     " #3" for identical ones), with the message and file:line:column;
//   - a passing testcase per rule of Info.Rules that inspected the file and
//     found nothing, named by the rule id, so that a clean file still counts
//     its checks;
//   - a skipped testcase per suppressed finding, with the exception's reason,
//     and per finding matched by the baseline.
//
// Names carry no line numbers, so that a CI service that compares test
// results between pipelines (GitLab does) sees the same finding as the same
// test after unrelated edits. I/O errors (Info.Errors) form a last testsuite,
// "soc2ls", of erroring testcases.
func JUnit(w io.Writer, files []FileResult, info Info) error {
	out := junitSuites{Name: "soc2ls"}
	for _, f := range files {
		s := junitSuite{Name: f.Path}
		names := map[string]int{}
		failed := map[string]bool{} // rules that do not pass: a baselined finding is known, not fixed
		for _, fd := range f.Baselined {
			failed[fd.RuleID] = true
		}
		for _, fd := range f.Findings {
			failed[fd.RuleID] = true
			c := junitFindingCase(f, fd, names)
			text := fmt.Sprintf("%s: %s: %s [%s]", junitLocation(f, fd.Span.Start), fd.Severity, oneLine(fd.Message), fd.RuleID)
			if len(fd.Controls) > 0 {
				text += " (" + strings.Join(fd.Controls, ", ") + ")"
			}
			for _, r := range fd.Related {
				text += "\n    " + junitLocation(f, r.Span.Start) + ": note: " + oneLine(r.Message)
			}
			c.Failure = &junitProblem{Message: oneLine(fd.Message), Type: fd.Severity.String(), Text: xmlText(text)}
			s.Cases = append(s.Cases, c)
			s.Failures++
		}
		for _, r := range info.Rules {
			if !failed[r.ID] && inspected(r, f.Template) {
				s.Cases = append(s.Cases, junitCase{Name: r.ID, Classname: f.Path, File: junitFile(f)})
			}
		}
		for _, fd := range f.Suppressed {
			c := junitFindingCase(f, fd, names)
			c.Skipped = &junitSkipped{Message: fmt.Sprintf("suppressed (%s): %s", fd.Suppression.Source, oneLine(fd.Suppression.Reason))}
			s.Cases = append(s.Cases, c)
			s.Skipped++
		}
		for _, fd := range f.Baselined {
			c := junitFindingCase(f, fd, names)
			c.Skipped = &junitSkipped{Message: "baselined: " + oneLine(fd.Message)}
			s.Cases = append(s.Cases, c)
			s.Skipped++
		}
		s.Tests = len(s.Cases)
		out.Suites = append(out.Suites, s)
	}
	if len(info.Errors) > 0 {
		s := junitSuite{Name: "soc2ls"}
		for i, e := range info.Errors {
			s.Cases = append(s.Cases, junitCase{Name: "error " + strconv.Itoa(i+1), Classname: "soc2ls",
				Error: &junitProblem{Message: oneLine(e), Type: "io", Text: xmlText(e)}})
		}
		s.Tests, s.Errors = len(s.Cases), len(s.Cases)
		out.Suites = append(out.Suites, s)
	}
	for _, s := range out.Suites {
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Errors += s.Errors
		out.Skipped += s.Skipped
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// junitFindingCase is the testcase of a finding, active or suppressed, named
// without its line number; names counts the names used in the file.
func junitFindingCase(f FileResult, fd analysis.Finding, names map[string]int) junitCase {
	name := fd.RuleID
	if fd.Resource != "" {
		name += " " + fd.Resource
	}
	names[name]++
	if n := names[name]; n > 1 {
		name += " #" + strconv.Itoa(n)
	}
	return junitCase{Name: name, Classname: f.Path, File: junitFile(f), Line: f.Template.Lines.Position(fd.Span.Start).Line}
}

// xmlText escapes s as XML character data, keeping its line breaks: it
// escapes as encoding/xml does (which also replaces the characters XML 1.0
// cannot carry) and turns the escaped line feeds back into line feeds, which
// is safe since a literal "&#xA;" in s has had its "&" escaped.
func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s)) // a strings.Builder does not fail
	return strings.ReplaceAll(b.String(), "&#xA;", "\n")
}

func junitFile(f FileResult) string {
	if f.Path == StdinPath {
		return ""
	}
	return f.Path
}

func junitLocation(f FileResult, off int) string {
	p := f.Template.Lines.Position(off)
	return fmt.Sprintf("%s:%d:%d", f.Path, p.Line, p.Column)
}

// inspected reports whether the engine ran rule r on template t, by the
// rule's Types as Rule documents them: a whole-template rule runs on every
// template, a typed rule when a resource has one of its types (any resource,
// for AnyType). Meta rules are not counted: they are about the text, and
// their findings are listed anyway.
func inspected(r *analysis.Rule, t *template.Template) bool {
	if r.Meta || t.Root == nil || !(t.IsCloudFormation || t.HasSyntaxError() && template.LooksLikeCloudFormation(t.Source)) {
		return false
	}
	if len(r.Types) == 0 {
		return true
	}
	for _, res := range t.Resources {
		for _, typ := range r.Types {
			if typ == analysis.AnyType || typ == res.Type {
				return true
			}
		}
	}
	return false
}
