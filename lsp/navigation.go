package lsp

import (
	"context"
	"regexp"
	"strings"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// target is a referable name under the cursor: a use (Ref, GetAtt, Sub
// variable, DependsOn, Condition, FindInMap) or a definition key.
type target struct {
	ns   template.Namespace
	name string
	span template.Span // the name itself, without quotes
	def  bool          // the cursor is on the definition
	ref  template.Reference
}

// targetAt finds the name at byte offset off, from the template's reference
// index (which records the exact span of every target name) and its section
// entries.
func targetAt(t *template.Template, off int) (target, bool) {
	if t == nil || t.Refs == nil {
		return target{}, false
	}
	if r, ok := t.Refs.At(off); ok {
		return target{ns: r.Kind.Namespace(), name: r.Target, span: r.Span, ref: r}, true
	}
	for _, sec := range []struct {
		name string
		ns   template.Namespace
	}{{"Parameters", template.NSEntity}, {"Resources", template.NSEntity}, {"Conditions", template.NSCondition}, {"Mappings", template.NSMapping}} {
		p := t.Sections[sec.name]
		if p == nil || p.Value.Kind != template.Mapping {
			continue
		}
		for _, e := range p.Value.Pairs {
			if k := e.Key; off >= k.Start && off <= k.End {
				return target{ns: sec.ns, name: k.Value, span: keySpan(k), def: true}, true
			}
		}
	}
	return target{}, false
}

// keySpan is the span of a key's text, without quotes.
func keySpan(k *template.Node) template.Span {
	if k.ValueSpan.End > k.ValueSpan.Start {
		return k.ValueSpan
	}
	return k.Span
}

// definitionOf returns the key node that defines name in namespace ns, and
// what it is ("parameter", "resource", "condition", "mapping").
func definitionOf(t *template.Template, ns template.Namespace, name string) (*template.Node, string) {
	switch ns {
	case template.NSEntity:
		if p := t.Parameter(name); p != nil {
			return p.Key, "parameter"
		}
		if r := t.Resource(name); r != nil {
			return r.Key, "resource"
		}
	case template.NSCondition:
		if c := t.Condition(name); c != nil {
			return c.Key, "condition"
		}
	case template.NSMapping:
		if m := t.Mapping(name); m != nil {
			return m.Key, "mapping"
		}
	}
	return nil, ""
}

func nsName(ns template.Namespace) string {
	switch ns {
	case template.NSCondition:
		return "condition"
	case template.NSMapping:
		return "mapping"
	}
	return "parameter or resource"
}

// withTarget calls f with the model of the document and the name at pos,
// when there is one, and returns its locations; an empty list otherwise.
func (s *Server) withTarget(ctx context.Context, u protocol.DocumentURI, pos protocol.Position, f func(*template.Template, target) []protocol.Location) ([]protocol.Location, error) {
	snap, _, release, err := s.model(ctx, u)
	if err != nil {
		return []protocol.Location{}, err
	}
	defer release()
	if snap == nil {
		return []protocol.Location{}, nil
	}
	t := snap.tmpl()
	tg, ok := targetAt(t, toOffset(t.Lines, pos))
	if !ok {
		return []protocol.Location{}, nil
	}
	return f(t, tg), nil
}

func (s *Server) definition(ctx context.Context, p *protocol.DefinitionParams) (any, error) {
	return s.withTarget(ctx, p.TextDocument.URI, p.Position, func(t *template.Template, tg target) []protocol.Location {
		key, _ := definitionOf(t, tg.ns, tg.name)
		if key == nil {
			return []protocol.Location{}
		}
		return []protocol.Location{{URI: p.TextDocument.URI, Range: toRange(t.Lines, keySpan(key))}}
	})
}

func (s *Server) references(ctx context.Context, p *protocol.ReferenceParams) (any, error) {
	return s.withTarget(ctx, p.TextDocument.URI, p.Position, func(t *template.Template, tg target) []protocol.Location {
		locs := []protocol.Location{}
		if p.Context.IncludeDeclaration {
			if key, _ := definitionOf(t, tg.ns, tg.name); key != nil {
				locs = append(locs, protocol.Location{URI: p.TextDocument.URI, Range: toRange(t.Lines, keySpan(key))})
			}
		}
		for _, r := range t.Refs.To(tg.ns, tg.name) {
			sp := r.Span
			if sp.End <= sp.Start {
				sp = r.Node.Span // the name cannot be located exactly: point at the call
			}
			locs = append(locs, protocol.Location{URI: p.TextDocument.URI, Range: toRange(t.Lines, sp)})
		}
		return locs
	})
}

// validName is what CloudFormation accepts for logical ids, parameter,
// condition and mapping names.
var validName = regexp.MustCompile(`^[A-Za-z0-9]+$`)

// renameTarget checks that the name at the position can be renamed and
// returns it with the template, and the release of the snapshot (see
// current), which the caller must call. Rename needs the current text to
// parse: its edits must apply to the version the client has.
func (s *Server) renameTarget(ctx context.Context, u uri.URI, pos protocol.Position) (*snapshot, target, func(), error) {
	_, snap, release, err := s.current(ctx, u)
	if err != nil {
		return nil, target{}, nil, err
	}
	tg, err := renamable(snap.tmpl(), pos)
	if err != nil {
		release()
		return nil, target{}, nil, err
	}
	return snap, tg, release, nil
}

// renamable returns the name at pos if it can be renamed.
func renamable(t *template.Template, pos protocol.Position) (target, error) {
	if t.HasSyntaxError() {
		return target{}, refuse("cannot rename while the document has a syntax error: fix it first")
	}
	tg, ok := targetAt(t, toOffset(t.Lines, pos))
	if !ok {
		return target{}, refuse("no parameter, resource, condition or mapping name here")
	}
	if tg.ns == template.NSEntity && strings.HasPrefix(tg.name, "AWS::") {
		return target{}, refuse("%s is an AWS pseudo parameter: it cannot be renamed", tg.name)
	}
	if key, _ := definitionOf(t, tg.ns, tg.name); key == nil {
		return target{}, refuse("%q is not defined in this template (no %s of that name): it cannot be renamed", tg.name, nsName(tg.ns))
	}
	return tg, nil
}

func (s *Server) prepareRename(ctx context.Context, p *protocol.PrepareRenameParams) (any, error) {
	snap, tg, release, err := s.renameTarget(ctx, p.TextDocument.URI, p.Position)
	if err != nil {
		return nil, err
	}
	defer release()
	return map[string]any{"range": toRange(snap.tmpl().Lines, tg.span), "placeholder": tg.name}, nil
}

func (s *Server) rename(ctx context.Context, p *protocol.RenameParams) (any, error) {
	snap, tg, release, err := s.renameTarget(ctx, p.TextDocument.URI, p.Position)
	if err != nil {
		return nil, err
	}
	defer release()
	t := snap.tmpl()
	newName := p.NewName
	if !validName.MatchString(newName) {
		return nil, refuse("%q is not a valid name: CloudFormation names are letters and digits only (A-Z, a-z, 0-9)", newName)
	}
	if len(newName) > 255 {
		return nil, refuse("names are at most 255 characters long")
	}
	if newName != tg.name {
		for _, other := range namesIn(t, tg.ns) {
			if strings.EqualFold(other, newName) && other != tg.name {
				_, what := definitionOf(t, tg.ns, other)
				return nil, refuse("cannot rename %s to %s: a %s named %s already exists", tg.name, newName, what, other)
			}
		}
	}
	key, _ := definitionOf(t, tg.ns, tg.name)
	edits := []edit.Edit{{Start: keySpan(key).Start, End: keySpan(key).End, NewText: newName}}
	for _, r := range t.Refs.To(tg.ns, tg.name) {
		if r.Span.End <= r.Span.Start {
			pos := t.Lines.Position(r.Node.Start)
			return nil, refuse("%s is used at line %d in a form soc2ls cannot rewrite exactly (an escaped or folded string): rename by hand", tg.name, pos.Line)
		}
		edits = append(edits, edit.Edit{Start: r.Span.Start, End: r.Span.End, NewText: newName})
	}
	return s.workspaceEdit(p.TextDocument.URI, snap.version, t, edits)
}

// namesIn lists the names defined in a namespace.
func namesIn(t *template.Template, ns template.Namespace) []string {
	var out []string
	switch ns {
	case template.NSEntity:
		for _, p := range t.Parameters {
			out = append(out, p.Name)
		}
		for _, r := range t.Resources {
			out = append(out, r.Name)
		}
	case template.NSCondition:
		for _, c := range t.Conditions {
			out = append(out, c.Name)
		}
	case template.NSMapping:
		for _, m := range t.Mappings {
			out = append(out, m.Name)
		}
	}
	return out
}

// documentHighlight marks every occurrence of the name under the cursor: the
// definition as a write, the uses as reads.
func (s *Server) documentHighlight(ctx context.Context, p *protocol.DocumentHighlightParams) (any, error) {
	out := []protocol.DocumentHighlight{}
	snap, cur, release, err := s.model(ctx, p.TextDocument.URI)
	if err != nil {
		return out, err
	}
	defer release()
	if snap == nil || snap != cur {
		return out, nil // an older model's spans would not match the text
	}
	t := snap.tmpl()
	tg, ok := targetAt(t, toOffset(t.Lines, p.Position))
	if !ok {
		return out, nil
	}
	if key, _ := definitionOf(t, tg.ns, tg.name); key != nil {
		out = append(out, protocol.DocumentHighlight{Range: toRange(t.Lines, keySpan(key)), Kind: protocol.DocumentHighlightKindWrite})
	}
	for _, r := range t.Refs.To(tg.ns, tg.name) {
		if r.Span.End > r.Span.Start {
			out = append(out, protocol.DocumentHighlight{Range: toRange(t.Lines, r.Span), Kind: protocol.DocumentHighlightKindRead})
		}
	}
	return out, nil
}
