package rules

import "github.com/soc2ls/soc2ls/analysis"

var logsRules = []*analysis.Rule{}
