package lsp

import (
	"bytes"
	"context"
	"regexp"
	"strings"

	"go.lsp.dev/protocol"

	"github.com/soc2ls/soc2ls/analysis/controls"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// completionTriggers are the characters after which clients ask for
// completions without the user asking.
var completionTriggers = []string{" ", "{", "[", "\"", "'", ","}

// completionContext is a kind of place where names can be completed.
type completionContext int

const (
	completeEntity    completionContext = iota // Ref, ${...}: parameters, resources, pseudo parameters
	completeResource                           // GetAtt, DependsOn
	completeCondition                          // Condition, !If, !Condition
	completeMapping                            // FindInMap
	completeRule                               // rule: in a soc2ls suppression
	completeCriterion                          // criteria: in soc2ls metadata
)

// completionPatterns recognise the text before the cursor; the last group
// is the partial name typed so far.
var completionPatterns = []struct {
	ctx completionContext
	re  *regexp.Regexp
}{
	{completeEntity, regexp.MustCompile(`\$\{([A-Za-z0-9:]*)$`)},
	{completeEntity, regexp.MustCompile(`(?:!Ref\s+|\bRef["']?\s*:\s*["']?)([A-Za-z0-9:]*)$`)},
	{completeResource, regexp.MustCompile(`(?:!GetAtt\s+\[?\s*|Fn::GetAtt["']?\s*:\s*\[?\s*["']?)([A-Za-z0-9]*)$`)},
	{completeResource, regexp.MustCompile(`\bDependsOn["']?\s*:\s*\[?\s*(?:["']?[A-Za-z0-9]+["']?\s*,\s*)*["']?([A-Za-z0-9]*)$`)},
	{completeCondition, regexp.MustCompile(`(?:!If\s*\[\s*|Fn::If["']?\s*:\s*\[\s*["']?|!Condition\s+|\bCondition["']?\s*:\s*["']?)([A-Za-z0-9]*)$`)},
	{completeMapping, regexp.MustCompile(`(?:!FindInMap\s*\[\s*|Fn::FindInMap["']?\s*:\s*\[\s*["']?)([A-Za-z0-9]*)$`)},
	{completeRule, regexp.MustCompile(`\brule["']?\s*:\s*["']?([A-Za-z0-9-]*)$`)},
	{completeCriterion, regexp.MustCompile(`\b(?:criteria|criterion|controls|control)["']?\s*:\s*\[?\s*(?:["']?[A-Za-z0-9.]+["']?\s*,\s*)*["']?([A-Za-z0-9.]*)$`)},
}

// completion offers names where the text before the cursor calls for one.
// It reads the current text and the newest template that parsed, without
// waiting for an analysis.
func (s *Server) completion(ctx context.Context, p *protocol.CompletionParams) (any, error) {
	d, ok := s.docs.get(p.TextDocument.URI)
	if !ok {
		return nil, errNotOpen(p.TextDocument.URI)
	}
	d.mu.Lock()
	off := d.offset(p.Position)
	line := d.lines.LineOf(off)
	prefix := string(d.text[d.lines.LineStart(line):off])
	from := max(line-30, 0)
	above := bytes.Clone(d.text[d.lines.LineStart(from):d.lines.LineStart(line)])
	good := d.good
	d.mu.Unlock()

	list := &protocol.CompletionList{Items: []protocol.CompletionItem{}}
	for _, cp := range completionPatterns {
		m := cp.re.FindStringSubmatchIndex(prefix)
		if m == nil {
			continue
		}
		if (cp.ctx == completeRule || cp.ctx == completeCriterion) && !bytes.Contains(above, []byte("soc2ls")) {
			continue
		}
		typed := prefix[m[2]:m[3]]
		d.mu.Lock()
		// The line is unchanged from the prefix read above or the request is
		// stale; both positions convert through the current index.
		rng := protocol.Range{Start: toPosition(d.lines, off-len(typed)), End: toPosition(d.lines, off)}
		d.mu.Unlock()
		var t *template.Template
		var rules func() []ruleName
		if good != nil {
			t = good.tmpl()
			e := good.engine
			rules = func() []ruleName {
				var out []ruleName
				for _, r := range e.Rules() {
					if !r.Meta {
						out = append(out, ruleName{r.ID, r.Title, strings.Join(r.Controls, ", ")})
					}
				}
				return out
			}
		}
		for _, c := range candidates(cp.ctx, t, rules) {
			if !strings.HasPrefix(strings.ToLower(c.Label), strings.ToLower(typed)) {
				continue
			}
			c.TextEdit = &protocol.TextEdit{Range: rng, NewText: c.Label}
			list.Items = append(list.Items, c)
		}
		break
	}
	return list, nil
}

type ruleName struct{ id, title, criteria string }

// candidates lists the names of one context.
func candidates(ctx completionContext, t *template.Template, rules func() []ruleName) []protocol.CompletionItem {
	var out []protocol.CompletionItem
	switch ctx {
	case completeEntity, completeResource:
		if t != nil {
			if ctx == completeEntity {
				for _, p := range t.Parameters {
					out = append(out, protocol.CompletionItem{Label: p.Name, Kind: protocol.CompletionItemKindVariable, Detail: "parameter " + p.Type})
				}
			}
			for _, r := range t.Resources {
				out = append(out, protocol.CompletionItem{Label: r.Name, Kind: protocol.CompletionItemKindClass, Detail: r.Type})
			}
		}
		if ctx == completeEntity {
			for _, name := range []string{"AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition", "AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix"} {
				out = append(out, protocol.CompletionItem{Label: name, Kind: protocol.CompletionItemKindConstant, Detail: "pseudo parameter", SortText: "~" + name})
			}
		}
	case completeCondition:
		if t != nil {
			for _, c := range t.Conditions {
				out = append(out, protocol.CompletionItem{Label: c.Name, Kind: protocol.CompletionItemKindEnumMember, Detail: "condition"})
			}
		}
	case completeMapping:
		if t != nil {
			for _, m := range t.Mappings {
				out = append(out, protocol.CompletionItem{Label: m.Name, Kind: protocol.CompletionItemKindModule, Detail: "mapping"})
			}
		}
	case completeRule:
		if rules != nil {
			for _, r := range rules() {
				out = append(out, protocol.CompletionItem{Label: r.id, Kind: protocol.CompletionItemKindKeyword, Detail: r.title + " (" + r.criteria + ")"})
			}
		}
	case completeCriterion:
		for _, c := range controls.All() {
			out = append(out, protocol.CompletionItem{Label: c.ID, Kind: protocol.CompletionItemKindReference, Detail: c.Title, Documentation: c.Summary})
		}
	}
	return out
}
