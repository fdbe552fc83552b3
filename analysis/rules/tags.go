package rules

import (
	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// EnvironmentTagLiteral reports environment tags written as literals.
var EnvironmentTagLiteral = &analysis.Rule{
	ID:       "SOC2-TAG-001",
	Title:    "Environment tag is hardcoded",
	Severity: analysis.Warning,
	Controls: []string{"CC8.1", "CC6.1"},
	Types:    []string{analysis.AnyType},
	Doc: `A resource's environment tag (` + "`Environment`" + `, ` + "`environment`" + `, ` + "`Env`" + `, ` + "`Stage`" + `) is written as a
literal such as ` + "`production`" + ` instead of referring to the template's ` + "`Environment`" + ` parameter.
The template can then only describe one stage: deploying it to staging either mislabels every resource as
production or needs an edited copy of the template.

**Why an auditor cares.** Change management (CC8.1) is evidenced by one reviewed template promoted through
development, staging and production. Copies that differ only in their tags break that chain, and tags that
lie about the stage undermine the asset inventory and classification that CC6.1 relies on.

**How to fix.** Write ` + "`Value: !Ref Environment`" + `. The quick fix does it and, when the template has no
` + "`Environment`" + ` parameter, adds one in the same edit, with ` + "`AllowedValues`" + ` for the usual stages and the
literal that was there as its default, so that the deployed stack does not change.`,
	Check: checkEnvironmentTags,
}

func checkEnvironmentTags(pass *analysis.Pass) {
	param := pass.Options.EnvironmentParameter
	for _, tg := range tagsOf(pass.Resource) {
		if !isEnvironmentKey(tg.Key, param) || !isLiteral(tg.Value) || tg.Value.Value == "" {
			continue
		}
		pass.Report(analysis.Finding{
			Span: tg.Value.Span,
			Message: "resource " + pass.Resource.Name + " tags " + tg.Key + " with the literal \"" + tg.Value.Value +
				"\": use !Ref " + param + " so that one template serves every stage",
			Fixes: []analysis.Fix{pass.NewFix("Use !Ref "+param+" for the "+tg.Key+" tag", func(b *edit.Builder) {
				useEnvironmentParameter(pass, b, []*template.Node{tg.Value})
			})},
		})
	}
}

// environmentTagLiterals returns every literal environment tag value of the
// template, in document order, computed once per analysis.
func environmentTagLiterals(pass *analysis.Pass) []*template.Node {
	return pass.Memo("environmentTagLiterals", func() any {
		param := pass.Options.EnvironmentParameter
		var out []*template.Node
		for _, r := range pass.Template.Resources {
			for _, tg := range tagsOf(r) {
				if isEnvironmentKey(tg.Key, param) && isLiteral(tg.Value) && tg.Value.Value != "" {
					out = append(out, tg.Value)
				}
			}
		}
		return out
	}).([]*template.Node)
}

// useEnvironmentParameter is the fix shared by TAG-001 (one tag) and
// PARAM-001 (every tag): the given literal tags become !Ref Environment, and
// the parameter is added when missing, defaulting to the first literal tag of
// the template so that deploying the fixed template changes nothing. Both
// rules build their edits here, so the parameter insertion is the same edit
// in every fix and any combination of them applies cleanly.
func useEnvironmentParameter(pass *analysis.Pass, b *edit.Builder, tags []*template.Node) {
	t := pass.Template
	param := pass.Options.EnvironmentParameter
	for _, n := range tags {
		b.Replace(n, edit.Ref(param))
	}
	if t.Parameter(param) != nil {
		return
	}
	def := ""
	if all := environmentTagLiterals(pass); len(all) > 0 {
		def = all[0].Value
	}
	b.AddEntry("Parameters", param, environmentParameter(pass.Options, def))
}

// environmentParameter is the definition of a new Environment parameter.
func environmentParameter(o *analysis.Options, def string) edit.Value {
	allowed := append([]string{}, o.EnvironmentValues...)
	if def != "" && !contains(allowed, def) {
		allowed = append([]string{def}, allowed...)
	}
	kvs := []edit.KV{
		{Key: "Type", Value: edit.Str("String")},
		{Key: "Description", Value: edit.Str("Deployment stage; drives environment-specific settings and tags")},
		{Key: "AllowedValues", Value: edit.Strs(allowed...)},
	}
	if def != "" {
		kvs = append(kvs, edit.KV{Key: "Default", Value: edit.Str(def)})
	}
	return edit.Map(kvs...)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var tagRules = []*analysis.Rule{EnvironmentTagLiteral}
