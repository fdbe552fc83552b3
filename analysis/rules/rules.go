// Package rules holds the SOC 2 rules of soc2ls, one file per AWS service
// area. Each rule is an *analysis.Rule value; each area file lists its rules
// in a slice, and All concatenates them in catalogue order.
package rules

import "github.com/soc2ls/soc2ls/analysis"

// All returns every rule, in catalogue order.
func All() []*analysis.Rule {
	var all []*analysis.Rule
	for _, area := range [][]*analysis.Rule{
		cloudtrailRules, configRules, guarddutyRules, kmsRules, s3Rules, ec2Rules, vpcRules, iamRules,
		rdsRules, logsRules, alarmRules, tagRules, paramRules, secretsRules, templateRules, lambdaRules, dynamodbRules,
		elbRules, messagingRules,
	} {
		all = append(all, area...)
	}
	return all
}
