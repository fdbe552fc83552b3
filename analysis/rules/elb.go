package rules

import "github.com/soc2ls/soc2ls/analysis"

var elbRules = []*analysis.Rule{}

const loadBalancerType = "AWS::ElasticLoadBalancingV2::LoadBalancer"
