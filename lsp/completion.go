package lsp

import (
	"bytes"
	"context"
	"regexp"
	"sort"
	"strings"

	"go.lsp.dev/protocol"

	"github.com/soc2ls/soc2ls/analysis"
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
	completeType                               // Type: of a resource or a parameter
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
	{completeType, regexp.MustCompile(`^\s+Type\s*:\s*["']?([A-Za-z0-9:<>]*)$`)},
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
	section := sectionAbove(d.text[:d.lines.LineStart(line)])
	var good *snapshot
	release := func() {}
	if d.good != nil && !d.consuming {
		good, release = d.good, d.pin()
	}
	d.mu.Unlock()
	defer release()

	list := &protocol.CompletionList{Items: []protocol.CompletionItem{}}
	for _, cp := range completionPatterns {
		m := cp.re.FindStringSubmatchIndex(prefix)
		if m == nil {
			continue
		}
		if (cp.ctx == completeRule || cp.ctx == completeCriterion) && !bytes.Contains(above, []byte("soc2ls")) {
			continue
		}
		if cp.ctx == completeType && section != "Resources" && section != "Parameters" {
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
		items := candidates(cp.ctx, t, rules)
		if cp.ctx == completeType {
			items = typeCandidates(section, good)
		}
		for _, c := range items {
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

// sectionAbove returns the top-level YAML key the text before the cursor
// ends in ("Resources", "Parameters", ...), or "".
func sectionAbove(text []byte) string {
	for len(text) > 0 {
		i := bytes.LastIndexByte(text[:len(text)-1], '\n') + 1
		line := text[i:]
		text = text[:i]
		if len(line) > 0 && line[0] != ' ' && line[0] != '\t' && line[0] != '#' && line[0] != '\r' && line[0] != '\n' {
			key, _, ok := bytes.Cut(line, []byte(":"))
			if !ok {
				return ""
			}
			return string(bytes.TrimSpace(key))
		}
		if i == 0 {
			break
		}
	}
	return ""
}

// parameterTypes are the parameter types CloudFormation accepts most often.
var parameterTypes = []string{
	"String", "Number", "List<Number>", "CommaDelimitedList",
	"AWS::SSM::Parameter::Value<String>", "AWS::SSM::Parameter::Value<List<String>>",
	"AWS::EC2::VPC::Id", "AWS::EC2::Subnet::Id", "List<AWS::EC2::Subnet::Id>",
	"AWS::EC2::SecurityGroup::Id", "List<AWS::EC2::SecurityGroup::Id>",
	"AWS::EC2::KeyPair::KeyName", "AWS::EC2::Image::Id", "AWS::Route53::HostedZone::Id",
}

// typeCandidates offers parameter types in Parameters, and in Resources the
// resource types soc2ls describes or checks, those checked first.
func typeCandidates(section string, good *snapshot) []protocol.CompletionItem {
	var out []protocol.CompletionItem
	if section == "Parameters" {
		for _, t := range parameterTypes {
			out = append(out, protocol.CompletionItem{Label: t, Kind: protocol.CompletionItemKindTypeParameter, Detail: "parameter type"})
		}
		return out
	}
	checked := map[string][]string{}
	if good != nil {
		for _, r := range good.engine.Rules() {
			for _, t := range r.Types {
				if t != analysis.AnyType {
					checked[t] = append(checked[t], r.ID)
				}
			}
		}
	}
	seen := map[string]bool{}
	add := func(t string) {
		if seen[t] {
			return
		}
		seen[t] = true
		item := protocol.CompletionItem{Label: t, Kind: protocol.CompletionItemKindClass, Detail: resourceTypes[t], SortText: "1" + t}
		if ids := checked[t]; len(ids) > 0 {
			item.Detail = strings.TrimSpace(item.Detail + " (checked by " + strings.Join(ids, ", ") + ")")
			item.SortText = "0" + t
		}
		out = append(out, item)
	}
	for t := range checked {
		add(t)
	}
	for t := range resourceTypes {
		add(t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SortText < out[j].SortText })
	return out
}
