package rules

import (
	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/template"
)

const trailType = "AWS::CloudTrail::Trail"

// CloudTrailMultiRegion reports trails that record a single region.
var CloudTrailMultiRegion = &analysis.Rule{
	ID:       "SOC2-CT-001",
	Title:    "CloudTrail trail records only one region",
	Severity: analysis.Error,
	Controls: []string{"CC7.2", "CC2.1", "A1.2", "PI1.3"},
	Types:    []string{trailType},
	Doc: `A trail without ` + "`IsMultiRegionTrail: true`" + ` records API activity only in the region where
the stack is deployed. Activity in every other region (an attacker starting instances in a region nobody
uses, a change made from the console in the wrong region) leaves no audit record.

**Why an auditor cares.** Monitoring (CC7.2) and the reliability of the information controls depend on
(CC2.1) are tested by asking for proof that activity was logged everywhere for the whole audit period. A
single-region trail is a gap in that record that cannot be filled afterwards.

**How to fix.** Set ` + "`IsMultiRegionTrail: true`" + ` (and ` + "`IncludeGlobalServiceEvents: true`" + `, which
a multi-region trail needs). In a stack deployed to several regions, create the trail only in the primary
region with a condition such as ` + "`CreateTrailInPrimary`" + ` so that there is exactly one.`,
	Check: checkTrailMultiRegion,
}

func checkTrailMultiRegion(pass *analysis.Pass) {
	r := pass.Resource
	prop := r.Property("IsMultiRegionTrail")
	v := pass.Template.Eval(prop)
	verdict, witness := v.Judge(func(a template.Alt) bool {
		if a.Kind == template.Absent {
			return true
		}
		b, ok := a.Bool()
		return ok && !b
	})
	if verdict == template.Pass {
		return
	}
	f := analysis.Finding{
		Span:    pass.KeySpan(),
		Message: "trail " + r.Name + " records only the region it is deployed in: set IsMultiRegionTrail to true",
	}
	if prop != nil && prop.Kind != template.Null {
		f.Span = prop.Span
		if witness.Kind == template.Literal && witness.Node != prop {
			f.Message = "trail " + r.Name + " may record only the region it is deployed in: IsMultiRegionTrail can be " + witness.Text()
		}
	}
	// Offer the edit only where the value is written in place (or missing):
	// rewriting a parameter or a condition would discard the author's intent.
	if prop == nil || prop.Kind == template.Null || prop.Kind == template.Scalar {
		f.Fixes = []analysis.Fix{pass.NewFix("Set IsMultiRegionTrail: true", func(b *edit.Builder) {
			global := r.Property("IncludeGlobalServiceEvents")
			switch {
			case r.Properties == nil || r.Properties.Kind != template.Mapping:
				b.SetPath(r.Value, []string{"Properties"}, edit.Map(
					edit.KV{Key: "IsMultiRegionTrail", Value: edit.Bool(true)},
					edit.KV{Key: "IncludeGlobalServiceEvents", Value: edit.Bool(true)}))
				return
			case prop != nil:
				b.Set(r.Properties, "IsMultiRegionTrail", edit.Bool(true))
			default:
				b.Insert(r.Properties, "IsMultiRegionTrail", edit.Bool(true))
			}
			// A multi-region trail must also record global service events.
			if global == nil {
				b.Insert(r.Properties, "IncludeGlobalServiceEvents", edit.Bool(true))
			} else if on, ok := global.Bool(); ok && !on {
				b.Replace(global, edit.Bool(true))
			}
		})}
	}
	pass.ReportVerdict(verdict, witness, f)
}

var cloudtrailRules = []*analysis.Rule{CloudTrailMultiRegion}
