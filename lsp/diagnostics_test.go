package lsp

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"go.lsp.dev/protocol"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/template"
)

func version(p publishDiagnosticsParams) int32 {
	if p.Version == nil {
		return -1
	}
	return *p.Version
}

func atVersion(v int32) func(publishDiagnosticsParams) bool {
	return func(p publishDiagnosticsParams) bool { return version(p) == v }
}

func TestDiagnosticsContent(t *testing.T) {
	s := newSession(t, nil)
	s.initialize(t, nil)
	d := s.open("file:///w/trail.yaml", trailTemplate)
	p := s.waitDiagnostics(d.uri, atVersion(1))
	ct := diagnosticOf(t, p, "SOC2-CT-001")
	if ct.Source != "soc2ls" || ct.Severity != protocol.DiagnosticSeverityError {
		t.Errorf("source %q severity %v, want soc2ls and error", ct.Source, ct.Severity)
	}
	if ct.CodeDescription == nil || !strings.HasSuffix(string(ct.CodeDescription.Href), "docs/rules.md#soc2-ct-001") {
		t.Errorf("codeDescription = %+v, want the rule's docs", ct.CodeDescription)
	}
	if !strings.Contains(ct.Message, "CC7.2") {
		t.Errorf("message %q does not name the criteria", ct.Message)
	}
	// The diagnostic sits exactly on `false`.
	want := pos(t, d.text, "IsMultiRegionTrail: false", len("IsMultiRegionTrail: "))
	if ct.Range.Start != want || ct.Range.End.Character != want.Character+5 {
		t.Errorf("range %+v, want 5 characters at %+v", ct.Range, want)
	}
	data, _ := json.Marshal(ct.Data)
	if !strings.Contains(string(data), `"criteria":["CC7.2"`) || !strings.Contains(string(data), `"resource":"Trail"`) {
		t.Errorf("data = %s, want criteria and resource", data)
	}
	// Related information of the S3 finding, if any, points into the document.
	for _, dg := range p.Diagnostics {
		for _, r := range dg.RelatedInformation {
			if string(r.Location.URI) != d.uri {
				t.Errorf("related information in %s", r.Location.URI)
			}
		}
	}
	// Closing clears the diagnostics with [] (never null).
	s.notify("textDocument/didClose", map[string]any{"textDocument": map[string]any{"uri": d.uri}})
	s.waitFor("cleared diagnostics", func() bool {
		all := s.published(d.uri)
		last := all[len(all)-1]
		return last.Diagnostics != nil && len(last.Diagnostics) == 0
	})
	for _, raw := range s.notifications("textDocument/publishDiagnostics") {
		if strings.Contains(string(raw), `"diagnostics":null`) {
			t.Errorf("diagnostics sent as null: %s", raw)
		}
	}
}

// TestQuickFixRemovesDiagnostic applies the preferred quick fix the way an
// editor does and expects the finding gone in the next version.
func TestQuickFixRemovesDiagnostic(t *testing.T) {
	s := newSession(t, nil)
	s.initialize(t, nil)
	d := s.open("file:///w/trail.yaml", trailTemplate)
	p := s.waitDiagnostics(d.uri, atVersion(1))
	var target protocol.Diagnostic
	for _, dg := range p.Diagnostics {
		if dg.Code == "SOC2-CT-001" {
			target = dg
		}
	}
	var actions []protocol.CodeAction
	if err := s.call("textDocument/codeAction", map[string]any{
		"textDocument": map[string]any{"uri": d.uri},
		"range":        target.Range,
		"context":      map[string]any{"diagnostics": []protocol.Diagnostic{target}},
	}, &actions); err != nil {
		t.Fatal(err)
	}
	var fix *protocol.CodeAction
	var suppress *protocol.CodeAction
	for i, a := range actions {
		if a.IsPreferred && a.Kind == protocol.QuickFix && len(a.Diagnostics) == 1 && a.Diagnostics[0].Code == "SOC2-CT-001" {
			fix = &actions[i]
		}
		if strings.HasPrefix(a.Title, "Suppress SOC2-CT-001 for this resource") {
			suppress = &actions[i]
		}
	}
	if fix == nil || suppress == nil {
		t.Fatalf("want a preferred fix and a suppression for SOC2-CT-001, got %+v", actions)
	}
	if fix.Title != "Set IsMultiRegionTrail: true" {
		t.Errorf("fix title %q", fix.Title)
	}
	s.applyWorkspaceEdit(t, d, fix.Edit)
	if !strings.Contains(d.text, "IsMultiRegionTrail: true") {
		t.Fatalf("fix did not set the property:\n%s", d.text)
	}
	p = s.waitDiagnostics(d.uri, atVersion(d.version))
	if hasCode(p, "SOC2-CT-001") {
		t.Errorf("SOC2-CT-001 still reported after its fix: %v", codes(p))
	}
	if !hasCode(p, "SOC2-TAG-001") {
		t.Errorf("other findings disappeared: %v", codes(p))
	}
}

// TestStaleVersionNeverPublished holds the analysis of version 1 until
// version 2 has arrived: version 1's result must be dropped.
func TestStaleVersionNeverPublished(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan int32, 16)
	s := newSession(t, func(srv *Server) {
		srv.analyzeHook = func(uri string, v int32) {
			entered <- v
			if v == 1 {
				<-release
			}
		}
	})
	s.initialize(t, map[string]any{"diagnosticsDelayMs": 0})
	d := s.open("file:///w/stale.yaml", trailTemplate)
	if v := <-entered; v != 1 {
		t.Fatalf("first analysis of version %d", v)
	}
	s.change(d, replaceEdit(t, d.text, "IsMultiRegionTrail: false", "IsMultiRegionTrail: true"))
	// A reply proves the server has read (and applied) the change.
	if err := s.call("soc2ls/ping", nil, nil); rpcCode(t, err) != -32601 {
		t.Fatalf("ping: %v", err)
	}
	close(release)
	p := s.waitDiagnostics(d.uri, func(publishDiagnosticsParams) bool { return true })
	if version(p) != 2 {
		t.Errorf("first publication is for version %d, want 2 (version 1 was stale)", version(p))
	}
	if hasCode(p, "SOC2-CT-001") {
		t.Errorf("version 2 diagnostics include the finding fixed in version 2")
	}
	for _, q := range s.published(d.uri) {
		if version(q) == 1 {
			t.Errorf("stale version 1 was published")
		}
	}
}

// TestBurstPublishesLastVersion types a burst of edits with a long delay,
// then asks for symbols (which needs the current analysis): only the last
// version's diagnostics are published.
func TestBurstPublishesLastVersion(t *testing.T) {
	s := newSession(t, nil)
	s.initialize(t, map[string]any{"diagnosticsDelayMs": 60000})
	d := s.open("file:///w/burst.yaml", trailTemplate)
	s.waitDiagnostics(d.uri, atVersion(1)) // didOpen is analysed at once
	// Delete "false" letter by letter, then type "true".
	for i := 0; i < 5; i++ {
		at := pos(t, d.text, "IsMultiRegionTrail: ", len("IsMultiRegionTrail: "))
		s.change(d, protocol.TextEdit{Range: protocol.Range{Start: at, End: protocol.Position{Line: at.Line, Character: at.Character + 1}}})
	}
	for _, c := range []string{"t", "r", "u", "e"} {
		at := pos(t, d.text, "IsMultiRegionTrail: ", len("IsMultiRegionTrail: ")+strings.Index("true", c))
		s.change(d, protocol.TextEdit{Range: protocol.Range{Start: at, End: at}, NewText: c})
	}
	if !strings.Contains(d.text, "IsMultiRegionTrail: true\n") {
		t.Fatalf("bad edit script:\n%s", d.text)
	}
	var syms []protocol.DocumentSymbol
	if err := s.call("textDocument/documentSymbol", map[string]any{"textDocument": map[string]any{"uri": d.uri}}, &syms); err != nil {
		t.Fatal(err)
	}
	var versions []int32
	for _, p := range s.published(d.uri) {
		versions = append(versions, version(p))
	}
	if len(versions) != 2 || versions[0] != 1 || versions[1] != d.version {
		t.Errorf("published versions %v, want [1 %d]", versions, d.version)
	}
}

func TestNonCloudFormationIsSilent(t *testing.T) {
	s := newSession(t, nil)
	s.initialize(t, nil)
	docs := map[string]string{
		"file:///w/deploy.yaml":              "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n",
		"file:///w/.github/workflows/ci.yml": "name: CI\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: go test ./...\n",
		"file:///w/package.json":             `{"name": "x", "version": "1.0.0", "scripts": {"test": "jest"}}`,
	}
	for uri, text := range docs {
		d := s.open(uri, text)
		s.change(d, insertEdit(t, d.text, d.text[:1], d.text[:1]))
		// documentSymbol waits for the analysis of the current version,
		// which publishes before it answers.
		var syms []protocol.DocumentSymbol
		if err := s.call("textDocument/documentSymbol", map[string]any{"textDocument": map[string]any{"uri": uri}}, &syms); err != nil {
			t.Fatal(err)
		}
		if len(syms) != 0 {
			t.Errorf("%s: symbols %v for a non-CloudFormation file", uri, syms)
		}
		s.notify("textDocument/didClose", map[string]any{"textDocument": map[string]any{"uri": uri}})
	}
	// A reply after the closes proves they were handled.
	if err := s.call("soc2ls/ping", nil, nil); rpcCode(t, err) != -32601 {
		t.Fatal(err)
	}
	for uri := range docs {
		if got := s.published(uri); len(got) != 0 {
			t.Errorf("%s: published %v", uri, got)
		}
	}
}

// TestSyntaxError publishes the error at its position and keeps answering
// hover and navigation from the last good model.
func TestSyntaxError(t *testing.T) {
	s := newSession(t, nil)
	s.initialize(t, nil)
	d := s.open("file:///w/broken.yaml", trailTemplate)
	s.waitDiagnostics(d.uri, atVersion(1))
	s.change(d, insertEdit(t, d.text, "Outputs:", "  Broken: [unclosed\n"))
	p := s.waitDiagnostics(d.uri, atVersion(2))
	syntax := slices.IndexFunc(p.Diagnostics, func(d protocol.Diagnostic) bool { return d.Code == "SOC2-PARSE-001" })
	if syntax < 0 {
		t.Fatalf("want a syntax error, got %v", codes(p))
	}
	if line := p.Diagnostics[syntax].Range.Start.Line; line < 30 {
		t.Errorf("syntax error at line %d, want near the inserted line (%d)", line, pos(t, d.text, "Broken", 0).Line)
	}
	var locs []protocol.Location
	if err := s.call("textDocument/definition", map[string]any{"textDocument": map[string]any{"uri": d.uri},
		"position": pos(t, d.text, "!Ref Logs", 6)}, &locs); err != nil {
		t.Fatal(err)
	}
	if len(locs) != 1 || locs[0].Range.Start != pos(t, d.text, "  Logs:\n", 2) {
		t.Errorf("definition from the last good model = %+v", locs)
	}
	// Rename refuses: its edits would not match the text.
	err := s.call("textDocument/rename", map[string]any{"textDocument": map[string]any{"uri": d.uri},
		"position": pos(t, d.text, "!Ref Logs", 6), "newName": "AuditLogs"}, nil)
	if err == nil || !strings.Contains(err.Error(), "syntax error") {
		t.Errorf("rename during a syntax error: %v", err)
	}
}

func TestUntitledDocument(t *testing.T) {
	s := newSession(t, nil)
	s.initialize(t, nil)
	d := s.open("untitled:Untitled-1", trailTemplate)
	p := s.waitDiagnostics(d.uri, atVersion(1))
	if !hasCode(p, "SOC2-CT-001") {
		t.Errorf("untitled document: %v", codes(p))
	}
}

// TestPublishOnlyWhenChanged edits a comment after the last finding: the
// diagnostics are the same, so nothing is published again.
func TestPublishOnlyWhenChanged(t *testing.T) {
	s := newSession(t, nil)
	s.initialize(t, nil)
	d := s.open("file:///w/same.yaml", trailTemplate)
	s.waitDiagnostics(d.uri, atVersion(1))
	s.change(d, insertEdit(t, d.text, "Outputs:", "# a comment\n"))
	var syms []protocol.DocumentSymbol
	if err := s.call("textDocument/documentSymbol", map[string]any{"textDocument": map[string]any{"uri": d.uri}}, &syms); err != nil {
		t.Fatal(err)
	}
	if n := len(s.published(d.uri)); n != 1 {
		t.Errorf("%d publications, want 1: the diagnostics did not change", n)
	}
	// A change above the findings moves them: published again.
	s.change(d, insertEdit(t, d.text, "Parameters:", "# moved\n"))
	s.waitDiagnostics(d.uri, atVersion(d.version))
}

// TestLargeDocumentNotAnalysed leaves documents above the size limit
// (maxFileSizeMB) unparsed, with one diagnostic that says so.
func TestLargeDocumentNotAnalysed(t *testing.T) {
	s := newSession(t, nil)
	s.initialize(t, map[string]any{"maxFileSizeMB": 0.0005}) // 524 bytes
	d := s.open("file:///w/huge.yaml", trailTemplate)
	var syms []protocol.DocumentSymbol
	if err := s.call("textDocument/documentSymbol", map[string]any{"textDocument": map[string]any{"uri": d.uri}}, &syms); err != nil {
		t.Fatal(err)
	}
	p := s.waitDiagnostics(d.uri, atVersion(1))
	if len(p.Diagnostics) != 1 || p.Diagnostics[0].Code != "SOC2-PARSE-005" || len(syms) != 0 ||
		!strings.Contains(p.Diagnostics[0].Message, "above the 0.0 MB limit") {
		t.Errorf("a document above the limit: %+v, symbols %v", p.Diagnostics, syms)
	}
}

// TestCRLFAndSurrogatePairs checks positions on a CRLF document whose
// finding follows astral-plane characters on its line, and applies the fix.
func TestCRLFAndSurrogatePairs(t *testing.T) {
	text := strings.ReplaceAll(`AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Environment:
    Type: String
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      Tags: [{Key: Owner, Value: "😀𝄞 é"}, {Key: Environment, Value: production}]
`, "\n", "\r\n")
	s := newSession(t, nil)
	s.initialize(t, nil)
	d := s.open("file:///w/crlf.yaml", text)
	p := s.waitDiagnostics(d.uri, atVersion(1))
	var tag *protocol.Diagnostic
	for i := range p.Diagnostics {
		if p.Diagnostics[i].Code == "SOC2-TAG-001" {
			tag = &p.Diagnostics[i]
		}
	}
	if tag == nil {
		t.Fatalf("no SOC2-TAG-001: %v", codes(p))
	}
	// Line 8; the column counts 😀 and 𝄞 as two UTF-16 units each.
	line := strings.Split(text, "\r\n")[8]
	byteCol := strings.Index(line, "production")
	want := protocol.Position{Line: 8, Character: uint32(len(utf16.Encode([]rune(line[:byteCol]))))}
	if tag.Range.Start != want || tag.Range.End.Character != want.Character+uint32(len("production")) {
		t.Fatalf("range %+v, want start %+v", tag.Range, want)
	}
	a := findAction(s.codeActions(t, d, tag.Range), "Use !Ref Environment")
	if a == nil {
		t.Fatal("no TAG-001 fix")
	}
	s.applyWorkspaceEdit(t, d, a.Edit)
	if strings.Contains(strings.ReplaceAll(d.text, "\r\n", ""), "\n") {
		t.Errorf("the fix wrote a bare LF into a CRLF document:\n%q", d.text)
	}
	p = s.waitDiagnostics(d.uri, atVersion(d.version))
	if hasCode(p, "SOC2-TAG-001") {
		t.Errorf("SOC2-TAG-001 left after the fix:\n%s", d.text)
	}
}

// TestRulePanic turns a panicking rule into an internal-error diagnostic;
// the other rules still report and the session goes on.
func TestRulePanic(t *testing.T) {
	boom := &analysis.Rule{ID: "SOC2-TEST-999", Title: "panics", Severity: analysis.Error, Controls: []string{"CC7.2"},
		Types: []string{"AWS::S3::Bucket"}, Check: func(*analysis.Pass) { panic("boom") }}
	s := newSession(t, func(srv *Server) {
		srv.opts.Rules = append(testRules(t), boom)
		srv.engine = analysis.NewEngine(srv.opts.Rules, srv.cfg.engineOptions())
	})
	s.initialize(t, nil)
	d := s.open("file:///w/panic.yaml", trailTemplate)
	p := s.waitDiagnostics(d.uri, atVersion(1))
	if !hasCode(p, "SOC2-INTERNAL-001") || !hasCode(p, "SOC2-CT-001") {
		t.Fatalf("want the internal error and the other findings, got %v", codes(p))
	}
	var h *protocol.Hover
	if err := s.call("textDocument/hover", map[string]any{"textDocument": map[string]any{"uri": d.uri}, "position": pos(t, d.text, "AWS::S3::Bucket", 3)}, &h); err != nil || h == nil {
		t.Errorf("the session did not survive the panic: %v", err)
	}
}

// TestDiagnosticsWithoutOptionalFields: a client that does not declare
// codeDescriptionSupport and dataSupport (Neovim 0.7 declares neither) gets
// diagnostics without codeDescription and data, whose bytes it would only
// decode and drop; the criteria are still in the message, and the quick
// fixes, which never needed data, are still offered.
func TestDiagnosticsWithoutOptionalFields(t *testing.T) {
	s := newSession(t, nil)
	var res map[string]any
	if err := s.call("initialize", map[string]any{"processId": nil, "rootUri": nil,
		"capabilities": map[string]any{"textDocument": map[string]any{"publishDiagnostics": map[string]any{"relatedInformation": true}}}}, &res); err != nil {
		t.Fatal(err)
	}
	s.notify("initialized", map[string]any{})
	d := s.open("file:///w/trail.yaml", trailTemplate)
	p := s.waitDiagnostics(d.uri, atVersion(1))
	ct := diagnosticOf(t, p, "SOC2-CT-001")
	if !strings.Contains(ct.Message, "CC7.2") {
		t.Errorf("message %q does not name the criteria", ct.Message)
	}
	for _, raw := range s.notifications("textDocument/publishDiagnostics") {
		if strings.Contains(string(raw), `"codeDescription"`) || strings.Contains(string(raw), `"data"`) {
			t.Fatalf("a client that reads neither got codeDescription or data: %s", raw)
		}
	}
	actions := s.codeActions(t, d, ct.Range)
	fixed := false
	for _, a := range actions {
		if a.Kind == protocol.QuickFix && strings.Contains(a.Title, "IsMultiRegionTrail") {
			fixed = true
			if len(a.Diagnostics) == 0 || a.Diagnostics[0].CodeDescription != nil || a.Diagnostics[0].Data != nil {
				t.Errorf("the quick fix's diagnostic %+v is not the one published", a.Diagnostics)
			}
		}
	}
	if !fixed {
		t.Errorf("no quick fix for SOC2-CT-001 among %d actions", len(actions))
	}
}

// diagnosticOf returns the published diagnostic of the given rule.
func diagnosticOf(t *testing.T, p publishDiagnosticsParams, code string) *protocol.Diagnostic {
	t.Helper()
	for i := range p.Diagnostics {
		if p.Diagnostics[i].Code == code {
			return &p.Diagnostics[i]
		}
	}
	t.Fatalf("no %s diagnostic in %v", code, codes(p))
	return nil
}

// TestSyntaxErrorKeepsLastFindings holds the diagnostics of a template that
// stops parsing to its syntax error and the last good findings, moved with
// the edits made while it is broken and dropped where those edits touch
// them; the repair re-reads only the edits since the last good text.
func TestSyntaxErrorKeepsLastFindings(t *testing.T) {
	results := make(chan *analysis.Result, 16)
	s := newSession(t, func(srv *Server) { srv.resultHook = func(res *analysis.Result) { results <- res } })
	s.initialize(t, nil)
	d := s.open("file:///w/broken.yaml", trailTemplate)
	good := s.waitDiagnostics(d.uri, atVersion(1)).Diagnostics
	if got := codesOf(good); !slices.Equal(got, []string{"SOC2-CT-001", "SOC2-TAG-001", "SOC2-S3-001"}) {
		t.Fatalf("the template's findings are %v: the test needs others", got)
	}
	moved := func(ds []protocol.Diagnostic, lines uint32) []protocol.Diagnostic {
		out := slices.Clone(ds)
		for i := range out {
			out[i].Range.Start.Line += lines
			out[i].Range.End.Line += lines
		}
		return out
	}
	// Diagnostics compares what a client shows: ranges, codes and messages.
	same := func(step string, got, want []protocol.Diagnostic) {
		t.Helper()
		key := func(d protocol.Diagnostic) string { return fmt.Sprint(d.Range, d.Code, d.Message) }
		var g, w []string
		for _, d := range got {
			if d.Code != "SOC2-PARSE-001" {
				g = append(g, key(d))
			}
		}
		for _, d := range want {
			w = append(w, key(d))
		}
		if !slices.Equal(g, w) {
			t.Errorf("%s: published\n%v\nwant the syntax error and\n%v", step, g, w)
		}
		if !slices.ContainsFunc(got, func(d protocol.Diagnostic) bool { return d.Code == "SOC2-PARSE-001" }) {
			t.Errorf("%s: no syntax error in %v", step, codesOf(got))
		}
	}

	// Broken above the findings: they move with the line added.
	s.change(d, insertEdit(t, d.text, "  Environment:\n", "  Broken: [unclosed\n"))
	same("broken", s.waitDiagnostics(d.uri, atVersion(2)).Diagnostics, moved(good, 1))

	s.change(d, replaceEdit(t, d.text, "Value: production", "Value: productio"))
	same("the tag edited", s.waitDiagnostics(d.uri, atVersion(3)).Diagnostics, moved([]protocol.Diagnostic{good[0], good[2]}, 1))

	fresh := func(v int32) {
		t.Helper()
		p := s.waitDiagnostics(d.uri, atVersion(v))
		res := analysis.NewEngine(testRules(t), nil).Analyze("broken.yaml", []byte(d.text))
		if got, want := codesOf(p.Diagnostics), codesOfFindings(res.Findings); !slices.Equal(got, want) {
			t.Errorf("repaired: published %v, a fresh analysis finds %v", got, want)
		}
	}
	s.change(d, replaceEdit(t, d.text, "  Broken: [unclosed\n", ""))
	fresh(4)

	// Broken and repaired inside one resource: the repair re-reads it
	// and keeps the other checks.
	s.change(d, replaceEdit(t, d.text, "IsLogging: true", "IsLogging: [true"))
	s.waitDiagnostics(d.uri, atVersion(5))
	next := func() *analysis.Result { return nextResult(t, results) }
	for string(next().Template.Source) != d.text { // up to version 5's
	}
	s.change(d, replaceEdit(t, d.text, "IsLogging: [true", "IsLogging: true"))
	fresh(6)
	if res := next(); res.Template.HasSyntaxError() || res.Reused == 0 {
		t.Errorf("the repair re-ran every check (reused %d): it should re-read the edits since the last good text", res.Reused)
	}
}

// nextResult returns the next analysis result a resultHook sent.
func nextResult(t *testing.T, results <-chan *analysis.Result) *analysis.Result {
	t.Helper()
	select {
	case res := <-results:
		return res
	case <-time.After(10 * time.Second):
		t.Fatal("no analysis result")
	}
	return nil
}

func codesOf(ds []protocol.Diagnostic) []string {
	var out []string
	for _, d := range ds {
		out = append(out, fmt.Sprint(d.Code))
	}
	return out
}

func codesOfFindings(fs []analysis.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.RuleID)
	}
	return out
}

// TestMovedFindings pins which of the last good findings a broken text
// keeps: those wholly before or after the edited bytes, moved with them,
// among its own findings in the engine's order.
func TestMovedFindings(t *testing.T) {
	f := func(id string, start, end int, related ...int) analysis.Finding {
		out := analysis.Finding{RuleID: id, Span: template.Span{Start: start, End: end}}
		for _, r := range related {
			out.Related = append(out.Related, analysis.Related{Span: template.Span{Start: r, End: r + 1}, Message: "r"})
		}
		return out
	}
	ids := func(fs []analysis.Finding) []string {
		var out []string
		for _, g := range fs {
			out = append(out, fmt.Sprint(g.RuleID, g.Span.Start, "-", g.Span.End))
		}
		return out
	}
	good := []analysis.Finding{f("before", 0, 5), f("touching-start", 5, 10), f("inside", 12, 14),
		f("touching-end", 18, 20), f("after", 21, 25, 2), f("related-inside", 30, 31, 13)}
	syntax := []analysis.Finding{f("syntax", 11, 12)}
	// The bytes [10, 20) of the good text became 3 bytes: [10, 13).
	var r editRegion
	r.add(10, 20, 3)
	moved := movedFindings(good, r)
	got := lastGoodFindings(syntax, moved)
	if want := []string{"before0-5", "syntax11-12", "after14-18"}; !slices.Equal(ids(got), want) {
		t.Errorf("kept %v, want %v", ids(got), want)
	}
	if got[2].Related[0].Span.Start != 2 {
		t.Errorf("a related location before the edit moved to %d", got[2].Related[0].Span.Start)
	}
	if good[4].Span.Start != 21 {
		t.Errorf("the good findings were modified")
	}
	if got := lastGoodFindings(syntax, movedFindings(good, editRegion{whole: true})); len(got) != 1 {
		t.Errorf("after a replacement of the whole text, kept %d findings", len(got))
	}
	// A second edit, far from the first, moves what the first kept.
	var r2 editRegion
	r2.add(10, 10, 2)
	if got, want := ids(movedFindings(moved, r2)), []string{"before0-5", "after16-20"}; !slices.Equal(got, want) {
		t.Errorf("after a second edit kept %v, want %v", got, want)
	}
	if got := movedFindings(moved, editRegion{}); len(got) != 2 {
		t.Errorf("no edit (a new configuration) kept %d of 2", len(got))
	}
}

// TestDuplicateKeyRepairIsIncremental renames a resource to another's name
// (a duplicate key, which parses from scratch) and back, as a rename by
// backspacing does: the keystroke that removes the duplicate re-reads the
// edits since the last template without problems instead of the whole
// text, and publishes what a fresh analysis finds.
func TestDuplicateKeyRepairIsIncremental(t *testing.T) {
	results := make(chan *analysis.Result, 16)
	s := newSession(t, func(srv *Server) { srv.resultHook = func(res *analysis.Result) { results <- res } })
	s.initialize(t, nil)
	d := s.open("file:///w/dup.yaml", trailTemplate)
	s.waitDiagnostics(d.uri, atVersion(1))
	next := func() *analysis.Result { return nextResult(t, results) }
	for string(next().Template.Source) != d.text {
	}
	fresh := func(v int32) {
		t.Helper()
		p := s.waitDiagnostics(d.uri, atVersion(v))
		res := analysis.NewEngine(testRules(t), nil).Analyze("dup.yaml", []byte(d.text))
		if got, want := codesOf(p.Diagnostics), codesOfFindings(res.Findings); !slices.Equal(got, want) {
			t.Errorf("version %d: published %v, a fresh analysis finds %v", v, got, want)
		}
	}
	// Logs renamed Trail (a duplicate), and back.
	logs, trail := "  Logs:\n    Type: AWS::S3::Bucket", "  Trail:\n    Type: AWS::S3::Bucket"
	edit := func(v int32, from, to string) *analysis.Result {
		t.Helper()
		s.change(d, replaceEdit(t, d.text, from, to))
		fresh(v)
		return next()
	}
	if res := edit(2, logs, trail); !slices.ContainsFunc(res.Findings, func(f analysis.Finding) bool { return f.RuleID == "SOC2-PARSE-002" }) {
		t.Fatalf("the renamed resource is no duplicate: %v", codesOfFindings(res.Findings))
	}
	if res := edit(3, trail, logs); len(res.Template.Problems) > 0 || res.Reused == 0 {
		t.Errorf("the repair re-ran every check (reused %d, problems %v): it should re-read the edits since the last template without problems", res.Reused, res.Template.Problems)
	}
	// Again, with an edit of the other resource while the duplicate
	// stands: both resources are re-read, so every check of this small
	// template runs again, but on a template re-read from the last one
	// without problems, which it consumed.
	edit(4, logs, trail)
	edit(5, "Value: production", "Value: productio")
	if res := edit(6, trail, logs); len(res.Template.Problems) > 0 || !res.ConsumedPrevious {
		t.Errorf("the second repair parsed the whole text")
	}
	// A key repeated inside one resource: the re-read of that resource
	// finds it in place, consuming the last template without problems;
	// the next keystrokes must not re-read from it.
	edit(7, "      IsLogging: true\n", "      IsLogging: true\n      IsLogging: false\n")
	edit(8, "Value: productio", "Value: production")
	edit(9, "      IsLogging: false\n", "")
}
