package lsp

import (
	"slices"
	"strings"
	"testing"

	"go.lsp.dev/protocol"

	"github.com/soc2ls/soc2ls/analysis/template"
)

func (s *session) hoverAt(t *testing.T, d *doc, p protocol.Position) *protocol.Hover {
	t.Helper()
	var h *protocol.Hover
	if err := s.call("textDocument/hover", map[string]any{"textDocument": map[string]any{"uri": d.uri}, "position": p}, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHover(t *testing.T) {
	s := newSession(t, nil)
	s.initialize(t, nil)
	d := s.open("file:///w/hover.yaml", trailTemplate)
	for _, c := range []struct {
		name   string
		at     protocol.Position
		want   []string
		absent []string
	}{
		{"finding", pos(t, d.text, "IsMultiRegionTrail: false", len("IsMultiRegionTrail: f")),
			[]string{"SOC2-CT-001", "CloudTrail", "records only the region", "CC7.2 —", "Set IsMultiRegionTrail: true", "**SOC 2 criteria**"}, nil},
		{"resource type", pos(t, d.text, "AWS::CloudTrail::Trail", 8),
			[]string{"**AWS::CloudTrail::Trail**", "CloudTrail trail", "SOC2-CT-001", "aws-resource-cloudtrail-trail.html"}, []string{"SOC2-S3-001"}},
		{"parameter", pos(t, d.text, "!Ref Environment", 7),
			[]string{"**Parameter** `Environment`: `String`", "Deployment stage", "Default: `staging`", "Allowed values: `production`, `staging`"}, nil},
		{"resource via Sub attribute", pos(t, d.text, "${Logs.Arn}", 3),
			[]string{"**Resource** `Logs`: `AWS::S3::Bucket`", "Attribute `Arn`", "condition `IsProd`"}, nil},
		{"condition", pos(t, d.text, "!Condition IsProd", 12), []string{"**Condition** `IsProd`", "!Equals"}, nil},
		{"mapping", pos(t, d.text, "[RegionMap", 2), []string{"**Mapping** `RegionMap`", "`us-east-1`"}, nil},
		{"pseudo parameter", pos(t, d.text, "AWS::StackName", 6), []string{"**Pseudo parameter** `AWS::StackName`"}, nil},
		{"criterion in a comment", pos(t, d.text, "CC7.2 evidence", 3), []string{"CC7.2", "Template evidence supports"}, nil},
		{"function tag", pos(t, d.text, "!FindInMap", 3), []string{"**Fn::FindInMap** (`!FindInMap`)", "Mappings section"}, nil},
		{"definition key", pos(t, d.text, "\n  Logs:", 4), []string{"**Resource** `Logs`: `AWS::S3::Bucket`", "Used 5 times."}, nil},
	} {
		h := s.hoverAt(t, d, c.at)
		if h == nil {
			t.Errorf("%s: no hover", c.name)
			continue
		}
		if h.Contents.Kind != protocol.Markdown {
			t.Errorf("%s: kind %q, want markdown", c.name, h.Contents.Kind)
		}
		for _, w := range c.want {
			if !strings.Contains(h.Contents.Value, w) {
				t.Errorf("%s: hover lacks %q:\n%s", c.name, w, h.Contents.Value)
			}
		}
		for _, w := range c.absent {
			if strings.Contains(h.Contents.Value, w) {
				t.Errorf("%s: hover has %q", c.name, w)
			}
		}
	}
	if h := s.hoverAt(t, d, pos(t, d.text, "IsLogging", 2)); h != nil {
		t.Errorf("hover on a plain key: %q", h.Contents.Value)
	}
}

func TestHoverPlainText(t *testing.T) {
	s := newSession(t, nil)
	if err := s.call("initialize", map[string]any{"capabilities": map[string]any{}}, nil); err != nil {
		t.Fatal(err)
	}
	d := s.open("file:///w/plain.yaml", trailTemplate)
	h := s.hoverAt(t, d, pos(t, d.text, "IsMultiRegionTrail: false", len("IsMultiRegionTrail: f")))
	if h == nil || h.Contents.Kind != protocol.PlainText || strings.Contains(h.Contents.Value, "**") || !strings.Contains(h.Contents.Value, "SOC2-CT-001") {
		t.Fatalf("plain-text hover = %+v", h)
	}
}

func (s *session) locations(t *testing.T, method string, d *doc, p protocol.Position, extra map[string]any) []protocol.Location {
	t.Helper()
	params := map[string]any{"textDocument": map[string]any{"uri": d.uri}, "position": p}
	for k, v := range extra {
		params[k] = v
	}
	var locs []protocol.Location
	if err := s.call(method, params, &locs); err != nil {
		t.Fatal(err)
	}
	return locs
}

// span returns the range of the first occurrence of name after the first
// occurrence of anchor.
func span(t testing.TB, text, anchor, name string) protocol.Range {
	i := strings.Index(text, anchor)
	j := strings.Index(text[i:], name)
	if i < 0 || j < 0 {
		t.Fatalf("%q after %q not found", name, anchor)
	}
	l := template.NewLines([]byte(text))
	return protocol.Range{Start: toPosition(l, i+j), End: toPosition(l, i+j+len(name))}
}

func TestDefinition(t *testing.T) {
	s := newSession(t, nil)
	s.initialize(t, nil)
	d := s.open("file:///w/nav.yaml", trailTemplate)
	logsDef := span(t, d.text, "\n  Logs:", "Logs")
	trailDef := span(t, d.text, "\n  Trail:", "Trail")
	for _, c := range []struct {
		name string
		at   protocol.Position
		want protocol.Range
	}{
		{"Ref", pos(t, d.text, "!Ref Logs", 6), logsDef},
		{"DependsOn list", pos(t, d.text, "DependsOn: [Logs]", 13), logsDef},
		{"Sub ${X.Attr}", pos(t, d.text, "${Logs.Arn}", 2), logsDef},
		{"GetAtt dotted", pos(t, d.text, "!GetAtt Trail.Arn", 9), trailDef},
		{"GetAtt list", pos(t, d.text, "!GetAtt [Logs, Arn]", 9), logsDef},
		{"Ref parameter", pos(t, d.text, "!Ref Environment", 6), span(t, d.text, "Parameters:\n  ", "Environment")},
		{"resource Condition", pos(t, d.text, "Condition: IsProd", 12), span(t, d.text, "Conditions:\n  ", "IsProd")},
		{"!Condition", pos(t, d.text, "!Condition IsProd", 12), span(t, d.text, "Conditions:\n  ", "IsProd")},
		{"!If", pos(t, d.text, "!If [IsProd", 6), span(t, d.text, "Conditions:\n  ", "IsProd")},
		{"FindInMap", pos(t, d.text, "[RegionMap", 2), span(t, d.text, "Mappings:\n  ", "RegionMap")},
	} {
		locs := s.locations(t, "textDocument/definition", d, c.at, nil)
		if len(locs) != 1 || locs[0].Range != c.want || string(locs[0].URI) != d.uri {
			t.Errorf("%s: definition %+v, want %+v", c.name, locs, c.want)
		}
	}
	if locs := s.locations(t, "textDocument/definition", d, pos(t, d.text, "AWS::StackName", 3), nil); len(locs) != 0 {
		t.Errorf("pseudo parameter has a definition: %+v", locs)
	}
}

func TestReferences(t *testing.T) {
	s := newSession(t, nil)
	s.initialize(t, nil)
	d := s.open("file:///w/refs.yaml", trailTemplate)
	// From the definition key: DependsOn, Ref, Sub, GetAtt list, If's Ref.
	locs := s.locations(t, "textDocument/references", d, pos(t, d.text, "\n  Logs:", 4), map[string]any{"context": map[string]any{"includeDeclaration": true}})
	if len(locs) != 6 {
		t.Fatalf("references of Logs: %d, want 6 (declaration + 5 uses): %+v", len(locs), locs)
	}
	if locs[0].Range != span(t, d.text, "\n  Logs:", "Logs") {
		t.Errorf("declaration first: %+v", locs[0])
	}
	for _, l := range locs {
		if l.Range.End.Character-l.Range.Start.Character != 4 || l.Range.Start.Line != l.Range.End.Line {
			t.Errorf("reference range %+v does not cover exactly the name", l.Range)
		}
	}
	var hl []protocol.DocumentHighlight
	if err := s.call("textDocument/documentHighlight", map[string]any{"textDocument": map[string]any{"uri": d.uri}, "position": pos(t, d.text, "${Logs.Arn}", 3)}, &hl); err != nil {
		t.Fatal(err)
	}
	if len(hl) != 6 || hl[0].Kind != protocol.DocumentHighlightKindWrite || hl[1].Kind != protocol.DocumentHighlightKindRead || hl[0].Range != locs[0].Range {
		t.Errorf("highlights of Logs: %+v", hl)
	}
	conds := s.locations(t, "textDocument/references", d, pos(t, d.text, "!If [IsProd", 6), map[string]any{"context": map[string]any{"includeDeclaration": false}})
	if len(conds) != 3 { // !Condition IsProd, Condition: IsProd, !If [IsProd
		t.Errorf("references of IsProd: %+v", conds)
	}
}

func TestRename(t *testing.T) {
	s := newSession(t, nil)
	s.initialize(t, nil)
	d := s.open("file:///w/rename.yaml", trailTemplate)
	at := pos(t, d.text, "${Logs.Arn}", 3)
	var prep struct {
		Range       protocol.Range `json:"range"`
		Placeholder string         `json:"placeholder"`
	}
	if err := s.call("textDocument/prepareRename", map[string]any{"textDocument": map[string]any{"uri": d.uri}, "position": at}, &prep); err != nil {
		t.Fatal(err)
	}
	if prep.Placeholder != "Logs" || prep.Range != span(t, d.text, "${Logs.Arn}", "Logs") {
		t.Errorf("prepareRename = %+v", prep)
	}
	rename := func(p protocol.Position, name string) (*protocol.WorkspaceEdit, error) {
		var we *protocol.WorkspaceEdit
		err := s.call("textDocument/rename", map[string]any{"textDocument": map[string]any{"uri": d.uri}, "position": p, "newName": name}, &we)
		return we, err
	}
	for _, c := range []struct{ name, want string }{
		{"Audit-Logs", "not a valid name"},
		{"", "not a valid name"},
		{"Trail", "a resource named Trail already exists"},
		{"environment", "a parameter named Environment already exists"},
	} {
		if _, err := rename(at, c.name); err == nil || !strings.Contains(err.Error(), c.want) || rpcCode(t, err) != -32803 {
			t.Errorf("rename to %q: %v, want %q", c.name, err, c.want)
		}
	}
	if err := s.call("textDocument/prepareRename", map[string]any{"textDocument": map[string]any{"uri": d.uri},
		"position": pos(t, d.text, "AWS::StackName", 3)}, nil); err == nil || !strings.Contains(err.Error(), "pseudo parameter") {
		t.Errorf("prepareRename on a pseudo parameter: %v", err)
	}
	we, err := rename(at, "AuditLogs")
	if err != nil {
		t.Fatal(err)
	}
	s.applyWorkspaceEdit(t, d, we)
	if strings.Count(d.text, "AuditLogs") != 6 {
		t.Errorf("want 6 AuditLogs after rename:\n%s", d.text)
	}
	for _, w := range []string{"  AuditLogs:\n", "DependsOn: [AuditLogs]", "!Ref AuditLogs", "${AuditLogs.Arn}", "!GetAtt [AuditLogs, Arn]", "!If [IsProd, !Ref AuditLogs"} {
		if !strings.Contains(d.text, w) {
			t.Errorf("renamed text lacks %q", w)
		}
	}
	// Conditions rename through Condition keys, !Condition and !If.
	we, err = rename(pos(t, d.text, "Condition: IsProd", 12), "IsProduction")
	if err != nil {
		t.Fatal(err)
	}
	s.applyWorkspaceEdit(t, d, we)
	if strings.Contains(d.text, "IsProd,") || strings.Count(d.text, "IsProduction") != 4 {
		t.Errorf("condition rename:\n%s", d.text)
	}
	if tm := template.Parse("x.yaml", []byte(d.text)); tm.HasSyntaxError() || tm.Condition("IsProduction") == nil {
		t.Errorf("rename broke the template")
	}
}

func TestDocumentSymbols(t *testing.T) {
	s := newSession(t, nil)
	s.initialize(t, nil)
	d := s.open("file:///w/syms.yaml", trailTemplate)
	var syms []protocol.DocumentSymbol
	if err := s.call("textDocument/documentSymbol", map[string]any{"textDocument": map[string]any{"uri": d.uri}}, &syms); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sec := range syms {
		names = append(names, sec.Name)
	}
	if strings.Join(names, " ") != "AWSTemplateFormatVersion Parameters Mappings Conditions Resources Outputs" {
		t.Errorf("sections %v", names)
	}
	res := syms[4]
	if len(res.Children) != 2 || res.Children[0].Name != "Trail" || res.Children[0].Detail != "AWS::CloudTrail::Trail" ||
		res.Children[1].Detail != "AWS::S3::Bucket (if IsProd)" || res.Children[0].Kind != protocol.SymbolKindClass {
		t.Errorf("resources %+v", res.Children)
	}
	if p := syms[1].Children[0]; p.Name != "Environment" || p.Detail != "String" {
		t.Errorf("parameter symbol %+v", p)
	}
	for _, sec := range syms {
		for _, c := range sec.Children {
			if less(c.SelectionRange.Start, c.Range.Start) || less(c.Range.End, c.SelectionRange.End) || less(c.Range.Start, sec.Range.Start) {
				t.Errorf("%s: selection range outside range", c.Name)
			}
		}
	}
}

func TestCompletion(t *testing.T) {
	s := newSession(t, nil)
	s.initialize(t, nil)
	d := s.open("file:///w/complete.yaml", trailTemplate)
	s.waitDiagnostics(d.uri, atVersion(1)) // names come from the last good model
	complete := func(p protocol.Position) []string {
		var list protocol.CompletionList
		if err := s.call("textDocument/completion", map[string]any{"textDocument": map[string]any{"uri": d.uri}, "position": p}, &list); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, it := range list.Items {
			out = append(out, it.Label)
		}
		return out
	}
	type want struct {
		typed    string
		has, not []string
	}
	s.change(d, insertEdit(t, d.text, "Outputs:", "  Extra:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: !Ref E\n"))
	got := complete(pos(t, d.text, "!Ref E\n", 6))
	if strings.Join(got, " ") != "Environment" {
		t.Errorf("!Ref E: %v", got)
	}
	s.change(d, replaceEdit(t, d.text, "!Ref E\n", "!Sub '${'\n"))
	got = complete(pos(t, d.text, "!Sub '${'", 8))
	if !contains(got, "Environment") || !contains(got, "Logs") || !contains(got, "AWS::Region") {
		t.Errorf("${: %v", got)
	}
	s.change(d, replaceEdit(t, d.text, "!Sub '${'\n", "!If [\n"))
	if got = complete(pos(t, d.text, "!If [\n", 5)); strings.Join(got, " ") != "IsProd IsNotProd" {
		t.Errorf("!If [: %v", got)
	}
	s.change(d, replaceEdit(t, d.text, "    Type: AWS::SNS::Topic\n", "    Type: AWS::Cloud\n"))
	if got = complete(pos(t, d.text, "Type: AWS::Cloud\n", 16)); len(got) == 0 || got[0] != "AWS::CloudTrail::Trail" {
		t.Errorf("Type: AWS::Cloud: %v", got)
	}
	if got = complete(pos(t, d.text, "    Type: String", 16)); len(got) == 0 || got[0] != "String" {
		t.Errorf("parameter Type: String: %v", got)
	}
	s.change(d, replaceEdit(t, d.text, "    Type: AWS::Cloud\n", "    Type: AWS::SNS::Topic\n"))
	s.change(d, replaceEdit(t, d.text, "      DisplayName: !If [\n", "      DisplayName: x\n    Metadata:\n      soc2ls:\n        ignore:\n          - rule: SOC2-C\n"))
	if got = complete(pos(t, d.text, "rule: SOC2-C", 12)); strings.Join(got, " ") != "SOC2-CT-001" {
		t.Errorf("rule: SOC2-C: %v", got)
	}
	if got = complete(pos(t, d.text, "DisplayName: x", 14)); len(got) != 0 {
		t.Errorf("completion outside any context: %v", got)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestHoverDuringSyntaxError explains the syntax error from the current
// text, the findings kept from the last good version, and Ref targets from
// the last good model.
func TestHoverDuringSyntaxError(t *testing.T) {
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
	h := s.hoverAt(t, d, p.Diagnostics[syntax].Range.Start)
	if h == nil || !strings.Contains(h.Contents.Value, "SOC2-PARSE-001") {
		t.Errorf("hover on the syntax error: %+v", h)
	}
	h = s.hoverAt(t, d, pos(t, d.text, "!Ref Environment", 7))
	if h == nil || !strings.Contains(h.Contents.Value, "**Parameter** `Environment`") || h.Range != nil {
		t.Errorf("hover from the last good model: %+v", h)
	}
	// A finding kept from the last good version is explained, without the
	// fixes the current text cannot take.
	h = s.hoverAt(t, d, pos(t, d.text, "IsMultiRegionTrail: false", len("IsMultiRegionTrail: ")))
	if h == nil || !strings.Contains(h.Contents.Value, "SOC2-CT-001") || !strings.Contains(h.Contents.Value, "last version that parsed") ||
		strings.Contains(h.Contents.Value, "Quick fixes") {
		t.Errorf("hover on a kept finding: %+v", h)
	}
}

const jsonTemplate = `{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Parameters": {"Environment": {"Type": "String", "Default": "staging"}},
  "Resources": {
    "Trail": {
      "Type": "AWS::CloudTrail::Trail",
      "Properties": {
        "IsLogging": true,
        "S3BucketName": {"Ref": "Logs"},
        "IsMultiRegionTrail": false,
        "TrailName": {"Fn::Sub": "${Logs}-${Environment}"}
      }
    },
    "Logs": {"Type": "AWS::S3::Bucket"}
  },
  "Outputs": {"Arn": {"Value": {"Fn::GetAtt": ["Logs", "Arn"]}}}
}
`

// TestJSONTemplate runs diagnostics, a quick fix and navigation on a JSON
// template.
func TestJSONTemplate(t *testing.T) {
	s := newSession(t, nil)
	s.initialize(t, nil)
	d := s.open("file:///w/trail.json", jsonTemplate)
	p := s.waitDiagnostics(d.uri, atVersion(1))
	if !hasCode(p, "SOC2-CT-001") {
		t.Fatalf("JSON diagnostics: %v", codes(p))
	}
	logsDef := span(t, d.text, `"Logs": {"Type"`, "Logs")
	for _, at := range []protocol.Position{pos(t, d.text, `{"Ref": "Logs"}`, 10), pos(t, d.text, `${Logs}`, 3), pos(t, d.text, `["Logs", "Arn"]`, 3)} {
		if locs := s.locations(t, "textDocument/definition", d, at, nil); len(locs) != 1 || locs[0].Range != logsDef {
			t.Errorf("definition at %+v: %+v, want %+v", at, locs, logsDef)
		}
	}
	if h := s.hoverAt(t, d, pos(t, d.text, `"Fn::Sub"`, 3)); h == nil || !strings.Contains(h.Contents.Value, "**Fn::Sub** (`!Sub`)") {
		t.Errorf("hover on a long-form function: %+v", h)
	}
	at := pos(t, d.text, `"IsMultiRegionTrail": false`, len(`"IsMultiRegionTrail": `))
	a := findAction(s.codeActions(t, d, protocol.Range{Start: at, End: at}), "Set IsMultiRegionTrail")
	if a == nil {
		t.Fatal("no JSON quick fix")
	}
	s.applyWorkspaceEdit(t, d, a.Edit)
	if !strings.Contains(d.text, `"IsMultiRegionTrail": true`) {
		t.Errorf("JSON fix:\n%s", d.text)
	}
	p = s.waitDiagnostics(d.uri, atVersion(d.version))
	if hasCode(p, "SOC2-CT-001") {
		t.Errorf("finding left after the JSON fix")
	}
	we := &protocol.WorkspaceEdit{}
	if err := s.call("textDocument/rename", map[string]any{"textDocument": map[string]any{"uri": d.uri},
		"position": pos(t, d.text, `${Logs}`, 3), "newName": "AuditLogs"}, &we); err != nil {
		t.Fatal(err)
	}
	s.applyWorkspaceEdit(t, d, we)
	if strings.Count(d.text, `AuditLogs`) != 4 || strings.Contains(d.text, `"Logs"`) {
		t.Errorf("JSON rename:\n%s", d.text)
	}
}
