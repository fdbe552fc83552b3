package rules

import "github.com/soc2ls/soc2ls/analysis"

var iamRules = []*analysis.Rule{}
