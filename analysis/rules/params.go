package rules

import (
	"fmt"
	"regexp"
	"sort"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// EnvironmentParameterMissing reports templates that hardcode their stage.
var EnvironmentParameterMissing = &analysis.Rule{
	ID:       "SOC2-PARAM-001",
	Title:    "No Environment parameter for a template that hardcodes its stage",
	Severity: analysis.Warning,
	Controls: []string{"CC8.1"},
	Doc: `The template carries environment-specific literals (an ` + "`Environment`" + ` tag of ` + "`production`" + `, a
bucket named ` + "`acme-prod-logs`" + `) but has no ` + "`Environment`" + ` parameter, or has one that accepts any string.
Such a template describes a single stage; the staging copy is a different document that nobody reviewed.

**Why an auditor cares.** CC8.1 asks that changes are designed, tested and approved before production. With
infrastructure as code the usual evidence is one parameterised template promoted from development through
staging to production; a template per stage, or a free-text stage, weakens that evidence.

**How to fix.** Add an ` + "`Environment`" + ` parameter with ` + "`AllowedValues: [production, staging, development]`" + `
and derive names, tags and stage-specific settings from it (` + "`!Ref Environment`" + `, ` + "`!Sub '${Environment}-logs'`" + `,
an ` + "`IsProduction`" + ` condition). The quick fix adds the parameter and converts the literal environment tags.`,
	Check: checkEnvironmentParameter,
}

var envWord = regexp.MustCompile(`(?i)(^|[^a-z])(prod|production|prd|staging|stage|stg|dev|development|qa|uat|test)([^a-z]|$)`)

func checkEnvironmentParameter(pass *analysis.Pass) {
	t := pass.Template
	name := pass.Options.EnvironmentParameter
	evidence := environmentLiterals(pass)
	if len(evidence) == 0 {
		return
	}
	related := make([]analysis.Related, 0, 3)
	for _, n := range evidence[:min(3, len(evidence))] {
		related = append(related, analysis.Related{Span: n.Span, Message: fmt.Sprintf("environment-specific literal %q", n.Value)})
	}
	p := t.Parameter(name)
	if p == nil {
		pass.Report(analysis.Finding{
			Span: pass.SectionSpan("Parameters"),
			Message: fmt.Sprintf("the template hardcodes its stage in %d %s (first: %q on line %d) but has no %s parameter",
				len(evidence), plural(len(evidence), "place"), evidence[0].Value, t.Lines.Position(evidence[0].Start).Line, name),
			Related: related,
			Fixes: []analysis.Fix{pass.NewFix("Add an "+name+" parameter and use it in environment tags", func(b *edit.Builder) {
				useEnvironmentParameter(pass, b, environmentTagLiterals(pass))
			})},
		})
		return
	}
	if len(p.AllowedValues) == 0 && p.Type != "AWS::SSM::Parameter::Value<String>" {
		f := analysis.Finding{
			Span:    p.Key.Span,
			Message: "parameter " + name + " accepts any string: list the stages in AllowedValues so that a typo cannot create an unknown environment",
			Related: related,
		}
		if p.Value.Kind == template.Mapping {
			allowed := append([]string{}, pass.Options.EnvironmentValues...)
			if d := p.Default.Text(); d != "" && !contains(allowed, d) {
				allowed = append([]string{d}, allowed...)
			}
			f.Fixes = []analysis.Fix{pass.NewFix("Add AllowedValues to parameter "+name, func(b *edit.Builder) {
				b.Insert(p.Value, "AllowedValues", edit.Strs(allowed...))
			})}
		}
		pass.Report(f)
	}
}

// environmentLiterals finds literals that name a stage: environment tag
// values, and literal names (properties ending in "Name") that contain a
// stage word such as prod or staging.
func environmentLiterals(pass *analysis.Pass) []*template.Node {
	out := append([]*template.Node{}, environmentTagLiterals(pass)...)
	for _, r := range pass.Template.Resources {
		if r.Properties == nil || r.Properties.Kind != template.Mapping {
			continue
		}
		for _, p := range r.Properties.Pairs {
			k := p.Key.Value
			if len(k) > 4 && k[len(k)-4:] == "Name" && isLiteral(p.Value) && envWord.MatchString(p.Value.Value) {
				out = append(out, p.Value)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out
}

var paramRules = []*analysis.Rule{EnvironmentParameterMissing}
