package lsp

import (
	"strings"
	"testing"

	"go.lsp.dev/protocol"
)

// TestEditorSession is one editing session from start to exit, in the order
// an editor sends things: open, type, fix, hover, navigate, rename, list
// symbols, shut down.
func TestEditorSession(t *testing.T) {
	s := newSession(t, nil)
	s.initialize(t, nil)
	d := s.open("file:///w/session.yaml", trailTemplate)
	p := s.waitDiagnostics(d.uri, atVersion(1))
	if !hasCode(p, "SOC2-CT-001") || !hasCode(p, "SOC2-TAG-001") {
		t.Fatalf("initial diagnostics %v", codes(p))
	}

	// Type a new output key, one character per change.
	for _, c := range "  Name:\n" {
		at := pos(t, d.text, "  TrailArn:", 0)
		s.change(d, protocol.TextEdit{Range: protocol.Range{Start: at, End: at}, NewText: string(c)})
	}
	for _, c := range "    Value: !Ref Trail\n" {
		at := pos(t, d.text, "  TrailArn:", 0)
		s.change(d, protocol.TextEdit{Range: protocol.Range{Start: at, End: at}, NewText: string(c)})
	}
	if !strings.Contains(d.text, "Outputs:\n  Name:\n    Value: !Ref Trail\n  TrailArn:") {
		t.Fatalf("typing went wrong:\n%s", d.text)
	}

	// Quick fix the tag.
	at := pos(t, d.text, "Value: production", len("Value: "))
	a := findAction(s.codeActions(t, d, protocol.Range{Start: at, End: at}), "Use !Ref Environment")
	if a == nil || !a.IsPreferred {
		t.Fatalf("no preferred tag fix: %+v", a)
	}
	s.applyWorkspaceEdit(t, d, a.Edit)
	p = s.waitDiagnostics(d.uri, atVersion(d.version))
	if hasCode(p, "SOC2-TAG-001") || !hasCode(p, "SOC2-CT-001") {
		t.Errorf("after the tag fix: %v", codes(p))
	}

	// Hover the new reference, jump to its definition, list its uses.
	h := s.hoverAt(t, d, pos(t, d.text, "!Ref Trail", 6))
	if h == nil || !strings.Contains(h.Contents.Value, "**Resource** `Trail`: `AWS::CloudTrail::Trail`") {
		t.Errorf("hover on the typed Ref: %+v", h)
	}
	locs := s.locations(t, "textDocument/definition", d, pos(t, d.text, "!Ref Trail", 6), nil)
	if len(locs) != 1 || locs[0].Range != span(t, d.text, "Resources:\n  ", "Trail") {
		t.Errorf("definition of the typed Ref: %+v", locs)
	}
	refs := s.locations(t, "textDocument/references", d, pos(t, d.text, "!Ref Trail", 6), map[string]any{"context": map[string]any{"includeDeclaration": false}})
	if len(refs) != 2 { // !Ref Trail, !GetAtt Trail.Arn
		t.Errorf("references of Trail: %+v", refs)
	}

	// Rename the trail everywhere.
	var we *protocol.WorkspaceEdit
	if err := s.call("textDocument/rename", map[string]any{"textDocument": map[string]any{"uri": d.uri},
		"position": pos(t, d.text, "!GetAtt Trail.Arn", 9), "newName": "AuditTrail"}, &we); err != nil {
		t.Fatal(err)
	}
	s.applyWorkspaceEdit(t, d, we)
	for _, w := range []string{"  AuditTrail:\n    Type: AWS::CloudTrail::Trail", "!Ref AuditTrail", "!GetAtt AuditTrail.Arn"} {
		if !strings.Contains(d.text, w) {
			t.Errorf("after rename, no %q", w)
		}
	}
	p = s.waitDiagnostics(d.uri, atVersion(d.version)) // the CT-001 message names the trail
	for _, dg := range p.Diagnostics {
		if dg.Code == "SOC2-CT-001" && !strings.Contains(dg.Message, "AuditTrail") {
			t.Errorf("CT-001 message after rename: %q", dg.Message)
		}
	}

	var syms []protocol.DocumentSymbol
	if err := s.call("textDocument/documentSymbol", map[string]any{"textDocument": map[string]any{"uri": d.uri}}, &syms); err != nil {
		t.Fatal(err)
	}
	if len(syms) != 6 || syms[4].Children[0].Name != "AuditTrail" || syms[5].Children[0].Name != "Name" {
		t.Errorf("symbols after the session: %+v", syms)
	}

	s.notify("textDocument/didSave", map[string]any{"textDocument": map[string]any{"uri": d.uri}})
	s.notify("textDocument/didClose", map[string]any{"textDocument": map[string]any{"uri": d.uri}})
	if code := s.shutdownAndExit(t); code != 0 {
		t.Errorf("exit code %d", code)
	}
}
