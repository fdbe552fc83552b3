package rules

import (
	"regexp"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// RegionLiteralInCondition reports conditions that compare the stack's
// region with a literal region name.
var RegionLiteralInCondition = &analysis.Rule{
	ID:       "SOC2-TPL-001",
	Title:    "Condition compares the region with a literal",
	Severity: analysis.Warning,
	Controls: []string{"CC8.1", "A1.3"},
	Doc: `A condition such as ` + "`IsUSEast1: !Equals [!Ref 'AWS::Region', us-east-1]`" + ` ties the template's
behaviour to one named region. Rebuilding the stack in another region, the core of a recovery test, silently
changes what gets created: the trail or the global Config recording that only the "primary" region owned
disappears.

**Why an auditor cares.** A1.3 asks that recovery is tested; a template that can be deployed unchanged to a
recovery region is the evidence. CC8.1 prefers configuration in parameters that a change record can show,
over values buried in conditions.

**How to fix.** Compare with a parameter: ` + "`IsPrimaryRegion: !Equals [!Ref 'AWS::Region', !Ref PrimaryRegion]`" + `.
The quick fix rewrites the literal and adds a ` + "`PrimaryRegion`" + ` parameter (defaulting to the literal, so
nothing changes on the next deploy) when the template has none.`,
	Check: checkRegionLiterals,
}

var regionName = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$`)

func checkRegionLiterals(pass *analysis.Pass) {
	t := pass.Template
	param := pass.Options.PrimaryRegionParameter
	for _, c := range t.Conditions {
		c.Value.Walk(func(n *template.Node) bool {
			if !n.IsFn("Fn::Equals") || n.Arg.Kind != template.Sequence || len(n.Arg.Items) != 2 {
				return true
			}
			a, b := n.Arg.Items[0], n.Arg.Items[1]
			if refTarget(b) == "AWS::Region" {
				a, b = b, a
			}
			if refTarget(a) != "AWS::Region" || !b.IsScalar() || !regionName.MatchString(b.Value) {
				return true
			}
			lit := b
			fix := pass.NewFix("Compare with !Ref "+param, func(eb *edit.Builder) {
				eb.Replace(lit, edit.Ref(param))
				if t.Parameter(param) == nil {
					eb.AddEntry("Parameters", param, primaryRegionParameter(lit.Value))
				}
			})
			if p := t.Parameter(param); p != nil && p.Default.Text() != lit.Value {
				// The existing parameter defaults to another region: the edit
				// would change which region the condition selects.
				fix.Title += " (its default is " + p.Default.Text() + ", not " + lit.Value + ": check before deploying)"
				if p.Default == nil {
					fix.Title = "Compare with !Ref " + param + " (it has no default: deployments must then name the region)"
				}
				fix.Unsafe = true
			}
			pass.Report(analysis.Finding{
				Span: lit.Span,
				Message: "condition " + c.Name + " pins the template to region " + lit.Value +
					": compare AWS::Region with a " + param + " parameter so the stack can be rebuilt in another region",
				Fixes: []analysis.Fix{fix},
			})
			return false
		})
	}
}

// primaryRegionParameter is the definition of a new PrimaryRegion parameter.
func primaryRegionParameter(def string) edit.Value {
	return edit.Map(
		edit.KV{Key: "Type", Value: edit.Str("String")},
		edit.KV{Key: "Description", Value: edit.Str("Region that owns account-wide resources (multi-region trail, global Config recording)")},
		edit.KV{Key: "Default", Value: edit.Str(def)},
		edit.KV{Key: "AllowedPattern", Value: edit.Str(`^[a-z]{2}(-gov)?-[a-z]+-\d$`)},
	)
}

var templateRules = []*analysis.Rule{RegionLiteralInCondition}
