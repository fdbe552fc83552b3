package lsp

import (
	"slices"
	"sort"
	"strings"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// diagnosticSource is the source of every diagnostic soc2ls publishes.
const diagnosticSource = "soc2ls"

// diagnosticData is the data field of a diagnostic: what a client (or a
// code action request sending the diagnostic back) may want beyond the
// message.
type diagnosticData struct {
	Criteria []string `json:"criteria,omitempty"`
	Resource string   `json:"resource,omitempty"`
	Possible bool     `json:"possible,omitempty"`
	Fixes    []string `json:"fixes,omitempty"`
}

// diagFields says which optional fields of a diagnostic the client reads:
// codeDescription and data, which it declares in its publishDiagnostics
// capabilities. The others are always written. A client that ignores them
// (Neovim 0.7, for one) is spared their bytes: about 40 % of a publication.
type diagFields struct{ codeDescription, data bool }

// allDiagFields are the fields of a client that reads them all (VS Code).
var allDiagFields = diagFields{codeDescription: true, data: true}

// diagFields returns the optional fields of a diagnostic the client reads.
func (c clientCapabilities) diagFields() diagFields {
	p := c.TextDocument.PublishDiagnostics
	return diagFields{codeDescription: p.CodeDescriptionSupport, data: p.DataSupport}
}

// diagnostic returns the protocol diagnostic of the snapshot's finding i, as
// it was published. Diagnostics are built when a request needs one: the
// publication is encoded from the findings (diagEncoder), and nothing else
// reads them.
func (s *snapshot) diagnostic(u uri.URI, i int, fields diagFields) protocol.Diagnostic {
	return toDiagnostic(u, s.tmpl(), s.findings[i], s.engine, fields)
}

func toDiagnostic(u uri.URI, t *template.Template, f analysis.Finding, e *analysis.Engine, fields diagFields) protocol.Diagnostic {
	d := protocol.Diagnostic{
		Range:    toRange(t.Lines, f.Span),
		Severity: toSeverity(f.Severity),
		Code:     f.RuleID,
		Source:   diagnosticSource,
		Message:  f.Message,
	}
	if r, ok := e.Rule(f.RuleID); ok && fields.codeDescription {
		d.CodeDescription = &protocol.CodeDescription{Href: uri.URI(r.DocURL())}
	}
	if len(f.Controls) > 0 {
		d.Message += " (" + strings.Join(f.Controls, ", ") + ")"
	}
	data := diagnosticData{Criteria: f.Controls, Resource: f.Resource, Possible: f.Possible}
	for _, fx := range f.Fixes {
		data.Fixes = append(data.Fixes, fx.Title)
	}
	if fields.data && (data.Criteria != nil || data.Resource != "" || data.Possible || data.Fixes != nil) {
		d.Data = data
	}
	for _, r := range f.Related {
		d.RelatedInformation = append(d.RelatedInformation, protocol.DiagnosticRelatedInformation{
			Location: protocol.Location{URI: u, Range: toRange(t.Lines, r.Span)},
			Message:  r.Message,
		})
	}
	return d
}

func toSeverity(s analysis.Severity) protocol.DiagnosticSeverity {
	switch s {
	case analysis.Error:
		return protocol.DiagnosticSeverityError
	case analysis.Warning:
		return protocol.DiagnosticSeverityWarning
	case analysis.Info:
		return protocol.DiagnosticSeverityInformation
	}
	return protocol.DiagnosticSeverityHint
}

// toPosition converts a byte offset to an LSP position (0-based line and
// UTF-16 column) through template.Lines, the one converter.
func toPosition(l *template.Lines, off int) protocol.Position {
	p := l.Position(off)
	col := p.Column - 1
	if p.Line == 1 && off >= len(bom) && hasBOM(l) {
		col++ // the mark is a character of the client's text
	}
	return protocol.Position{Line: uint32(p.Line - 1), Character: uint32(col)}
}

// toRange converts a byte span to an LSP range.
func toRange(l *template.Lines, s template.Span) protocol.Range {
	return protocol.Range{Start: toPosition(l, s.Start), End: toPosition(l, max(s.End, s.Start))}
}

// toOffset converts an LSP position to a byte offset.
func toOffset(l *template.Lines, p protocol.Position) int {
	if p.Line == 0 && hasBOM(l) {
		if p.Character == 0 {
			return 0
		}
		return l.Offset(0, int(p.Character)-1)
	}
	return l.Offset(int(p.Line), int(p.Character))
}

// bom is the UTF-8 byte-order mark.
const bom = "\ufeff"

// hasBOM reports whether the document starts with a byte-order mark.
//
// Lines does not count the mark as a column, as SARIF and the CLI want and as
// editors that strip it (VS Code, Neovim) never send it. But a client that
// keeps it sends it as the character U+FEFF and counts it in every position
// on the first line; without this, deleting it would delete the character
// after it instead and corrupt the server's copy (found by
// FuzzApplyChanges). Lines skips exactly the mark, so Offset(0, 0) is past
// it only when there is one.
func hasBOM(l *template.Lines) bool { return l.Offset(0, 0) == len(bom) }

// movedFindings returns the findings of a text that are still to be shown
// after the edits r: those whose span and related locations the edits do
// not touch, moved as the edits moved the text (nothing is known after a
// replacement of the whole text). good is not modified.
//
// While a text does not parse, its diagnostics are its syntax error and
// the findings of the last text that did, moved through every edit since
// (lastGoodFindings), instead of vanishing for a keystroke and coming back
// with the next while a bracket or a quote is open. The analysis of the
// repaired text replaces them.
func movedFindings(good []analysis.Finding, r editRegion) []analysis.Finding {
	if r.whole || len(good) == 0 {
		return nil
	}
	oldEnd := r.end - r.delta
	move := func(s template.Span) (template.Span, bool) {
		switch {
		case !r.any || s.End < r.start:
			return s, true
		case s.Start > oldEnd:
			return template.Span{Start: s.Start + r.delta, End: s.End + r.delta}, true
		}
		return s, false
	}
	out := make([]analysis.Finding, 0, len(good))
	var rel []analysis.Related // one array for the moved related locations
findings:
	for _, f := range good {
		var ok bool
		if f.Span, ok = move(f.Span); !ok {
			continue
		}
		if len(f.Related) > 0 && r.any && r.delta != 0 {
			at := len(rel)
			for _, x := range f.Related {
				if x.Span, ok = move(x.Span); !ok {
					rel = rel[:at]
					continue findings
				}
				rel = append(rel, x)
			}
			f.Related = rel[at:len(rel):len(rel)]
		} else {
			for _, x := range f.Related {
				if _, ok := move(x.Span); !ok {
					continue findings
				}
			}
		}
		out = append(out, f)
	}
	return out
}

// lastGoodFindings returns the diagnostics of a text that does not parse:
// its own findings (the syntax error) among the moved findings of the last
// text that did (movedFindings), in the engine's order.
func lastGoodFindings(own, moved []analysis.Finding) []analysis.Finding {
	if len(moved) == 0 {
		return own
	}
	out := slices.Clip(slices.Clone(moved))
	for _, f := range own {
		i := sort.Search(len(out), func(i int) bool { return out[i].Span.Start > f.Span.Start })
		out = slices.Insert(out, i, f)
	}
	return out
}
