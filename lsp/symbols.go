package lsp

import (
	"context"
	"fmt"

	"go.lsp.dev/protocol"

	"github.com/soc2ls/soc2ls/analysis/template"
)

// documentSymbol lists the template's sections and, below each, its entries
// with their type (or a short description) as detail. Clients without
// hierarchical support get a flat list with the section as container.
func (s *Server) documentSymbol(ctx context.Context, p *protocol.DocumentSymbolParams) (any, error) {
	snap, _, release, err := s.model(ctx, p.TextDocument.URI)
	if err != nil {
		return []protocol.DocumentSymbol{}, err
	}
	defer release()
	if snap == nil {
		return []protocol.DocumentSymbol{}, nil
	}
	t := snap.tmpl()
	syms := templateSymbols(t)
	if s.capabilities().TextDocument.DocumentSymbol.HierarchicalDocumentSymbolSupport {
		return syms, nil
	}
	flat := []protocol.SymbolInformation{}
	for _, sec := range syms {
		flat = append(flat, protocol.SymbolInformation{Name: sec.Name, Kind: sec.Kind,
			Location: protocol.Location{URI: p.TextDocument.URI, Range: sec.Range}})
		for _, c := range sec.Children {
			flat = append(flat, protocol.SymbolInformation{Name: c.Name, Kind: c.Kind, ContainerName: sec.Name,
				Location: protocol.Location{URI: p.TextDocument.URI, Range: c.Range}})
		}
	}
	return flat, nil
}

// templateSymbols builds the symbol tree of a template.
func templateSymbols(t *template.Template) []protocol.DocumentSymbol {
	out := []protocol.DocumentSymbol{}
	if !t.IsCloudFormation || t.Root == nil || t.Root.Kind != template.Mapping {
		return out
	}
	for _, sec := range t.Root.Pairs {
		sym := pairSymbol(t, sec, protocol.SymbolKindNamespace, "")
		if sec.Value.IsScalar() {
			sym.Detail = sec.Value.Value
		}
		if sec.Value.Kind == template.Mapping {
			for _, e := range sec.Value.Pairs {
				kind, detail := entrySymbol(sec.Key.Value, e.Value)
				sym.Children = append(sym.Children, pairSymbol(t, e, kind, detail))
			}
		}
		out = append(out, sym)
	}
	return out
}

// entrySymbol gives the kind and detail of an entry of a section.
func entrySymbol(section string, v *template.Node) (protocol.SymbolKind, string) {
	switch section {
	case "Parameters":
		return protocol.SymbolKindVariable, v.Get("Type").Text()
	case "Resources":
		d := v.Get("Type").Text()
		if c := v.Get("Condition").Text(); c != "" {
			d += " (if " + c + ")"
		}
		return protocol.SymbolKindClass, d
	case "Conditions":
		if v.Kind == template.Intrinsic {
			return protocol.SymbolKindBoolean, v.Fn
		}
		return protocol.SymbolKindBoolean, ""
	case "Mappings":
		if v.Kind == template.Mapping {
			return protocol.SymbolKindObject, fmt.Sprintf("%d keys", len(v.Pairs))
		}
		return protocol.SymbolKindObject, ""
	case "Outputs":
		d := v.Get("Description").Text()
		if n := v.Path("Export", "Name"); n != nil {
			d = "exported"
		}
		return protocol.SymbolKindProperty, d
	case "Rules":
		return protocol.SymbolKindInterface, ""
	}
	return protocol.SymbolKindKey, ""
}

func pairSymbol(t *template.Template, p *template.Pair, kind protocol.SymbolKind, detail string) protocol.DocumentSymbol {
	end := max(p.Value.End, p.Key.End)
	return protocol.DocumentSymbol{
		Name:           p.Key.Value,
		Detail:         detail,
		Kind:           kind,
		Range:          toRange(t.Lines, template.Span{Start: p.Key.Start, End: end}),
		SelectionRange: toRange(t.Lines, p.Key.Span),
	}
}
