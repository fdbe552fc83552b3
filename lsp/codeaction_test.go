package lsp

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"go.lsp.dev/protocol"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/template"
)

func (s *session) codeActions(t *testing.T, d *doc, rng protocol.Range, only ...string) []protocol.CodeAction {
	t.Helper()
	ctx := map[string]any{"diagnostics": []any{}}
	if len(only) > 0 {
		ctx["only"] = only
	}
	var actions []protocol.CodeAction
	if err := s.call("textDocument/codeAction", map[string]any{"textDocument": map[string]any{"uri": d.uri}, "range": rng, "context": ctx}, &actions); err != nil {
		t.Fatal(err)
	}
	return actions
}

func findAction(actions []protocol.CodeAction, prefix string) *protocol.CodeAction {
	for i := range actions {
		if strings.HasPrefix(actions[i].Title, prefix) {
			return &actions[i]
		}
	}
	return nil
}

// TestSuppressAction inserts the Metadata suppression in exactly the agreed
// shape, in a resource without Metadata and in one whose list exists.
func TestSuppressAction(t *testing.T) {
	s := newSession(t, nil)
	s.initialize(t, nil)
	d := s.open("file:///w/suppress.yaml", trailTemplate)
	s.waitDiagnostics(d.uri, atVersion(1))
	at := pos(t, d.text, "IsMultiRegionTrail: false", len("IsMultiRegionTrail: "))
	a := findAction(s.codeActions(t, d, protocol.Range{Start: at, End: at}), "Suppress SOC2-CT-001 for this resource")
	if a == nil {
		t.Fatal("no suppression action")
	}
	if a.IsPreferred || a.Kind != protocol.QuickFix {
		t.Errorf("suppression: preferred %v kind %q, want a non-preferred quickfix", a.IsPreferred, a.Kind)
	}
	s.applyWorkspaceEdit(t, d, a.Edit)
	tm := template.Parse("x.yaml", []byte(d.text))
	if tm.HasSyntaxError() {
		t.Fatalf("suppression broke the template:\n%s", d.text)
	}
	ignore := tm.Resource("Trail").Metadata.Path("soc2ls", "ignore")
	if ignore == nil || len(ignore.Items) != 1 || ignore.Items[0].Get("rule").Text() != "SOC2-CT-001" ||
		ignore.Items[0].Get("reason").Text() == "" {
		t.Fatalf("Metadata.soc2ls.ignore is not [{rule: SOC2-CT-001, reason: ...}]:\n%s", d.text)
	}
	// The placeholder is no reason: the finding stays, and the suppression is
	// reported until someone writes why the finding is accepted.
	p := s.waitDiagnostics(d.uri, atVersion(d.version))
	if !hasCode(p, "SOC2-CT-001") || !hasCode(p, "SOC2-SUPPRESS-001") {
		t.Fatalf("after the suppression with its placeholder: %v, want SOC2-CT-001 and SOC2-SUPPRESS-001", codes(p))
	}
	s.replaceAll(d, strings.Replace(d.text, suppressReason, "regional sandbox trail, see RISK-7", 1))
	p = s.waitDiagnostics(d.uri, atVersion(d.version))
	if hasCode(p, "SOC2-CT-001") || hasCode(p, "SOC2-SUPPRESS-001") {
		t.Fatalf("with a reason written: %v, want neither SOC2-CT-001 nor SOC2-SUPPRESS-001", codes(p))
	}
	// A second suppression on the same resource appends to the list.
	s.waitDiagnostics(d.uri, atVersion(d.version))
	at = pos(t, d.text, "Value: production", len("Value: "))
	actions := s.codeActions(t, d, protocol.Range{Start: at, End: at})
	b := findAction(actions, "Suppress SOC2-TAG-001 for this resource")
	if b == nil {
		t.Fatalf("no TAG-001 suppression in %+v", actions)
	}
	s.applyWorkspaceEdit(t, d, b.Edit)
	tm = template.Parse("x.yaml", []byte(d.text))
	ignore = tm.Resource("Trail").Metadata.Path("soc2ls", "ignore")
	if ignore == nil || len(ignore.Items) != 2 || ignore.Items[1].Get("rule").Text() != "SOC2-TAG-001" {
		t.Fatalf("second suppression not appended:\n%s", d.text)
	}
}

// TestFixAll applies source.fixAll.soc2ls and expects the same text as
// Engine.FixAll, with no safe fix left.
func TestFixAll(t *testing.T) {
	s := newSession(t, nil)
	s.initialize(t, nil)
	d := s.open("file:///w/fixall.yaml", trailTemplate)
	s.waitDiagnostics(d.uri, atVersion(1))
	// Not offered unless source actions are asked for.
	if a := findAction(s.codeActions(t, d, protocol.Range{}), "Fix all"); a != nil {
		t.Errorf("fix all offered without only=source")
	}
	actions := s.codeActions(t, d, protocol.Range{}, "source.fixAll")
	if len(actions) != 1 || actions[0].Kind != fixAllKind {
		t.Fatalf("source.fixAll gave %+v", actions)
	}
	want, applied, err := analysis.NewEngine(testRules(t), nil).FixAll("fixall.yaml", []byte(trailTemplate))
	if err != nil || len(applied) < 2 {
		t.Fatalf("FixAll: %v, %d applied", err, len(applied))
	}
	s.applyWorkspaceEdit(t, d, actions[0].Edit)
	if d.text != string(want) {
		t.Errorf("fix all gave\n%s\nwant\n%s", d.text, want)
	}
	p := s.waitDiagnostics(d.uri, atVersion(d.version))
	for _, c := range codes(p) {
		if c == "SOC2-CT-001" || c == "SOC2-TAG-001" || c == "SOC2-S3-001" {
			t.Errorf("%s left after fix all", c)
		}
	}
}

// TestCodeActionChanges sends changes (not documentChanges) to clients
// without versioned edits.
func TestCodeActionChanges(t *testing.T) {
	s := newSession(t, nil)
	if err := s.call("initialize", map[string]any{"capabilities": map[string]any{}}, nil); err != nil {
		t.Fatal(err)
	}
	d := s.open("file:///w/plain.yaml", trailTemplate)
	at := pos(t, d.text, "IsMultiRegionTrail: false", len("IsMultiRegionTrail: "))
	a := findAction(s.codeActions(t, d, protocol.Range{Start: at, End: at}), "Set IsMultiRegionTrail")
	if a == nil || a.Edit == nil || len(a.Edit.DocumentChanges) != 0 || len(a.Edit.Changes[protocol.DocumentURI(d.uri)]) == 0 {
		t.Fatalf("want a changes edit, got %+v", a)
	}
}

// TestConcurrentFixRequests asks for code actions and hovers on every
// finding of one version at once: each builds its findings' fixes on the
// shared template (snapshot.fixesOf), which must be safe for concurrent use
// (go test -race) and give every request the fixes a lone request gets.
func TestConcurrentFixRequests(t *testing.T) {
	s := newSession(t, nil)
	s.initialize(t, nil)
	d := s.open("file:///w/concurrent.yaml", trailTemplate)
	p := s.waitDiagnostics(d.uri, atVersion(1))
	if len(p.Diagnostics) < 3 {
		t.Fatalf("want findings to fix, got %v", codes(p))
	}
	params := func(dg protocol.Diagnostic) map[string]any {
		return map[string]any{"textDocument": map[string]any{"uri": d.uri}, "range": dg.Range,
			"position": dg.Range.Start, "context": map[string]any{"diagnostics": []any{}}}
	}
	var alone [][]protocol.CodeAction
	for _, dg := range p.Diagnostics {
		var got []protocol.CodeAction
		if err := s.call("textDocument/codeAction", params(dg), &got); err != nil {
			t.Fatal(err)
		}
		alone = append(alone, got)
	}
	var pending []<-chan *wireMsg
	for round := range 4 {
		for _, dg := range p.Diagnostics {
			s.mu.Lock()
			s.nextID++
			id := s.nextID
			s.mu.Unlock()
			method := "textDocument/codeAction"
			if round%2 == 1 {
				method = "textDocument/hover"
			}
			pending = append(pending, s.start(id, method, params(dg)))
		}
	}
	for k, ch := range pending {
		round, i := k/len(p.Diagnostics), k%len(p.Diagnostics)
		if round%2 == 1 {
			var h protocol.Hover
			if err := s.wait(ch, &h); err != nil || !strings.Contains(h.Contents.Value, fmt.Sprint(p.Diagnostics[i].Code)) {
				t.Errorf("hover %d: %v %+v", k, err, h)
			}
			continue
		}
		var got []protocol.CodeAction
		if err := s.wait(ch, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, alone[i]) {
			t.Errorf("concurrent code actions for %v differ from a lone request's:\n%+v\n%+v", p.Diagnostics[i].Code, got, alone[i])
		}
	}
}
