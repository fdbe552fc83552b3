package lsp

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// fixAllKind is the code action kind of "fix all safe findings": a sub-kind
// of source.fixAll, so that editor.codeActionsOnSave "source.fixAll" runs
// it.
const fixAllKind = "source.fixAll.soc2ls"

// suppressReason is the reason a new suppression is written with, for the
// user to replace: until they do, the engine reports the suppression
// (SOC2-SUPPRESS-001) instead of honouring it.
const suppressReason = analysis.ReasonPlaceholder

// codeAction answers textDocument/codeAction from the findings of the
// current version (waiting for its analysis if needed, never re-analysing):
// the fixes of the findings under the range, a suppression per finding, and,
// when asked for source actions, source.fixAll.soc2ls.
func (s *Server) codeAction(ctx context.Context, p *protocol.CodeActionParams) (any, error) {
	d, snap, release, err := s.current(ctx, p.TextDocument.URI)
	if err != nil {
		return nil, err
	}
	defer release()
	t := snap.tmpl()
	actions := []protocol.CodeAction{}
	want := func(kind string) bool {
		if len(p.Context.Only) == 0 {
			return !strings.HasPrefix(kind, "source")
		}
		for _, o := range p.Context.Only {
			if kind == string(o) || strings.HasPrefix(kind, string(o)+".") {
				return true
			}
		}
		return false
	}
	if want(string(protocol.QuickFix)) {
		start, end := toOffset(t.Lines, p.Range.Start), toOffset(t.Lines, p.Range.End)
		var idx []int
		for i, f := range snap.findings {
			if f.Span.Start <= end && start <= f.Span.End || mentioned(p.Context.Diagnostics, t, f) {
				idx = append(idx, i)
			}
		}
		for k, f := range snap.fixesOf(idx) {
			diag := snap.diagnostic(d.uri, idx[k], s.capabilities().diagFields())
			for j, fx := range f.Fixes {
				if len(fx.Edits) == 0 {
					continue
				}
				we, err := s.workspaceEdit(d.uri, snap.version, t, fx.Edits)
				if err != nil {
					s.log.Warn("fix has invalid edits: " + err.Error())
					continue
				}
				title := fx.Title
				if fx.Unsafe {
					title += " (review before applying)"
				}
				actions = append(actions, protocol.CodeAction{
					Title:       title,
					Kind:        protocol.QuickFix,
					Diagnostics: []protocol.Diagnostic{diag},
					IsPreferred: j == 0 && !fx.Unsafe,
					Edit:        we,
				})
			}
			if a, ok := s.suppressAction(d.uri, snap, f, diag); ok {
				actions = append(actions, a)
			}
		}
	}
	if want(fixAllKind) {
		if a, ok := s.fixAllAction(d, snap); ok {
			actions = append(actions, a)
		}
	}
	return actions, nil
}

// mentioned reports whether the client sent f's diagnostic back in the
// request's context (same rule and range).
func mentioned(diags []protocol.Diagnostic, t *template.Template, f analysis.Finding) bool {
	if len(diags) == 0 {
		return false
	}
	r := toRange(t.Lines, f.Span)
	for _, c := range diags {
		if c.Range == r && fmt.Sprint(c.Code) == f.RuleID && c.Source == diagnosticSource {
			return true
		}
	}
	return false
}

// suppressAction offers to suppress a resource's finding with a Metadata
// entry: Metadata: {soc2ls: {ignore: [{rule: ID, reason: ...}]}}.
func (s *Server) suppressAction(u uri.URI, snap *snapshot, f analysis.Finding, diag protocol.Diagnostic) (protocol.CodeAction, bool) {
	if r, ok := snap.engine.Rule(f.RuleID); !ok || r.Meta || f.Resource == "" {
		return protocol.CodeAction{}, false
	}
	t := snap.tmpl()
	res := t.Resource(f.Resource)
	if res == nil {
		return protocol.CodeAction{}, false
	}
	edits, ok := suppressEdits(t, res, f.RuleID)
	if !ok {
		return protocol.CodeAction{}, false
	}
	we, err := s.workspaceEdit(u, snap.version, t, edits)
	if err != nil {
		return protocol.CodeAction{}, false
	}
	return protocol.CodeAction{
		Title:       fmt.Sprintf("Suppress %s for this resource (%s)", f.RuleID, res.Name),
		Kind:        protocol.QuickFix,
		Diagnostics: []protocol.Diagnostic{diag},
		Edit:        we,
	}, true
}

// suppressEdits builds the edits that add {rule: ruleID, reason: ...} to the
// resource's Metadata.soc2ls.ignore list, creating what is missing. ok is
// false when the rule is already listed or the Metadata has another shape.
func suppressEdits(t *template.Template, res *template.Resource, ruleID string) ([]edit.Edit, bool) {
	if res.Value == nil || res.Value.Kind != template.Mapping {
		return nil, false
	}
	entry := edit.Map(edit.KV{Key: "rule", Value: edit.Str(ruleID)}, edit.KV{Key: "reason", Value: edit.Str(suppressReason)})
	list := edit.List(entry)
	b := edit.New(t)
	md := res.Metadata
	switch {
	case md == nil || md.Kind == template.Null:
		b.Set(res.Value, "Metadata", edit.Map(edit.KV{Key: "soc2ls", Value: edit.Map(edit.KV{Key: "ignore", Value: list})}))
	case md.Kind != template.Mapping:
		return nil, false
	default:
		own := md.Get("soc2ls")
		switch {
		case own == nil || own.Kind == template.Null:
			b.Set(md, "soc2ls", edit.Map(edit.KV{Key: "ignore", Value: list}))
		case own.Kind != template.Mapping:
			return nil, false
		default:
			ig := own.Get("ignore")
			switch {
			case ig == nil || ig.Kind == template.Null:
				b.Set(own, "ignore", list)
			case ig.Kind != template.Sequence:
				return nil, false
			default:
				for _, it := range ig.Items {
					if strings.EqualFold(it.Get("rule").Text(), ruleID) {
						return nil, false
					}
				}
				if len(ig.Items) == 0 {
					b.Replace(ig, list)
				} else {
					b.Append(ig, entry)
				}
			}
		}
	}
	edits := b.Edits()
	return edits, len(edits) > 0
}

// fixAllAction applies every safe fix of the document, with Engine.FixAll's
// semantics (the preferred fix of each finding, compatible fixes together,
// re-analysing between rounds), as one edit of the changed region.
func (s *Server) fixAllAction(d *document, snap *snapshot) (protocol.CodeAction, bool) {
	// The diagnostics' findings carry their fixes' titles and safety (the
	// same as a full run's), which is enough to tell whether there is
	// anything to fix before FixAll analyses with fixes.
	if !slices.ContainsFunc(snap.findings, func(f analysis.Finding) bool { return len(f.Fixes) > 0 && !f.Fixes[0].Unsafe }) {
		return protocol.CodeAction{}, false
	}
	t := snap.tmpl()
	out, applied, err := snap.engine.FixAll(d.filename, t.Source)
	if err != nil || len(applied) == 0 {
		if err != nil {
			s.log.Warn("fix all failed: " + err.Error())
		}
		return protocol.CodeAction{}, false
	}
	e := diffEdit(t.Source, out)
	we, err := s.workspaceEdit(d.uri, snap.version, t, []edit.Edit{e})
	if err != nil {
		return protocol.CodeAction{}, false
	}
	return protocol.CodeAction{
		Title: fmt.Sprintf("Fix all safe soc2ls findings (%d)", len(applied)),
		Kind:  fixAllKind,
		Edit:  we,
	}, true
}

// diffEdit is the single edit that turns a into b: the region between their
// common prefix and common suffix.
func diffEdit(a, b []byte) edit.Edit {
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	sa, sb := len(a), len(b)
	for sa > p && sb > p && a[sa-1] == b[sb-1] {
		sa--
		sb--
	}
	return edit.Edit{Start: p, End: sa, NewText: string(b[p:sb])}
}

// workspaceEdit turns byte edits against the snapshot's text into a
// WorkspaceEdit: versioned documentChanges when the client supports them,
// else changes.
func (s *Server) workspaceEdit(u uri.URI, version int32, t *template.Template, edits []edit.Edit) (*protocol.WorkspaceEdit, error) {
	norm, err := edit.Normalize(edits)
	if err != nil {
		return nil, err
	}
	tes := make([]protocol.TextEdit, 0, len(norm))
	for _, e := range norm {
		if e.Start < 0 || e.End > len(t.Source) || e.Start > e.End {
			return nil, fmt.Errorf("edit [%d,%d) is outside the document", e.Start, e.End)
		}
		tes = append(tes, protocol.TextEdit{Range: toRange(t.Lines, template.Span{Start: e.Start, End: e.End}), NewText: e.NewText})
	}
	if s.capabilities().Workspace.WorkspaceEdit.DocumentChanges {
		v := version
		return &protocol.WorkspaceEdit{DocumentChanges: []protocol.TextDocumentEdit{{
			TextDocument: protocol.OptionalVersionedTextDocumentIdentifier{
				TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: u}, Version: &v},
			Edits: tes,
		}}}, nil
	}
	return &protocol.WorkspaceEdit{Changes: map[uri.URI][]protocol.TextEdit{u: tes}}, nil
}
