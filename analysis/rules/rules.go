// Package rules holds the SOC 2 rules of soc2ls, one file per AWS service
// area. Each rule is an *analysis.Rule value; All lists them.
package rules

import "github.com/soc2ls/soc2ls/analysis"

// All returns every rule, in catalogue order.
func All() []*analysis.Rule {
	return []*analysis.Rule{
		CloudTrailMultiRegion,
		S3DenyInsecureTransport,
		EnvironmentTagLiteral,
		EnvironmentParameterMissing,
		RegionLiteralInCondition,
	}
}
