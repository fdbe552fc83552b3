package rules

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/template"
)

const (
	vpcFlowLogType = "AWS::EC2::FlowLog"
	vpcNACLEntry   = "AWS::EC2::NetworkAclEntry"
)

// ---------------------------------------------------------------- VPC-001

// VPCFlowLogs reports VPCs whose traffic is not recorded by a flow log.
var VPCFlowLogs = &analysis.Rule{
	ID:       "SOC2-VPC-001",
	Title:    "VPC has no flow log recording all traffic",
	Severity: analysis.Warning,
	Controls: []string{"CC7.2", "CC7.3", "CC6.6"},
	Types:    []string{ec2VPCType},
	Doc: `A VPC has no ` + "`AWS::EC2::FlowLog`" + ` (with ` + "`ResourceType: VPC`" + ` and ` + "`ResourceId`" + ` pointing at it), or its
flow logs record only accepted or only rejected traffic. Without flow logs there is no record of which
addresses talked to which instances, on which ports, and whether the security groups and network ACLs let
the traffic through. The finding is an error in a template that deploys to production.

**Why an auditor cares.** Detecting anomalies (CC7.2) and investigating a suspected incident (CC7.3) both
depend on network evidence: connections to unknown addresses, port scans, data leaving the VPC. A flow log
is also how boundary protections (CC6.6) are shown to work in operation, not only on paper. Flow logs cannot
be produced after the fact.

**How to fix.** Add a flow log with ` + "`TrafficType: ALL`" + ` delivered to CloudWatch Logs (through a delivery role) or
to the audit bucket. The quick fix adds the log group (encrypted with the audit key, kept for
` + "`AuditLogRetentionDays`" + `, retained when the stack is deleted), the delivery role and the flow log, with the
parameters they need.`,
	Check: checkVPCFlowLogs,
}

// flowLogsByVPC maps each VPC to the flow logs that record it, computed once
// per analysis.
func flowLogsByVPC(pass *analysis.Pass) map[*template.Resource][]*template.Resource {
	return pass.Memo("vpcFlowLogs", func() any {
		t := pass.Template
		out := map[*template.Resource][]*template.Resource{}
		for _, fl := range t.ResourcesOfType(vpcFlowLogType) {
			if typ, ok := ec2Single(t, fl.Property("ResourceType")); ok && typ != "VPC" {
				continue
			}
			if vpc := ec2Resolve(pass, fl.Property("ResourceId"), ec2VPCType); vpc != nil {
				out[vpc] = append(out[vpc], fl)
			}
		}
		return out
	}).(map[*template.Resource][]*template.Resource)
}

func checkVPCFlowLogs(pass *analysis.Pass) {
	t, vpc := pass.Template, pass.Resource
	logs := flowLogsByVPC(pass)[vpc]
	severity := analysis.Warning
	if pass.IsProductionTemplate() {
		severity = analysis.Error
	}
	if len(logs) == 0 {
		pass.Report(analysis.Finding{
			Span:     pass.KeySpan(),
			Severity: severity,
			Message:  "VPC " + vpc.Name + " has no flow log: add an AWS::EC2::FlowLog with TrafficType ALL so that its network traffic is recorded",
			Fixes: []analysis.Fix{pass.NewFix("Add a flow log for "+vpc.Name+" to an encrypted CloudWatch Logs group", func(b *edit.Builder) {
				addVPCFlowLog(pass, b, vpc)
			})},
		})
		return
	}
	// Which traffic the flow logs record together; a value the template
	// cannot know counts as recording everything.
	seen := map[string]bool{}
	for _, fl := range logs {
		traffic, ok := ec2Single(t, fl.Property("TrafficType"))
		if !ok || strings.EqualFold(traffic, "ALL") {
			return
		}
		seen[strings.ToUpper(traffic)] = true
	}
	if seen["ACCEPT"] && seen["REJECT"] {
		return
	}
	only, missing := "accepted", "rejected"
	if seen["REJECT"] {
		only, missing = "rejected", "accepted"
	}
	fl := logs[0]
	prop := fl.Property("TrafficType")
	f := analysis.Finding{
		Span:     prop.Span,
		Severity: severity,
		Resource: vpc.Name,
		Message: "VPC " + vpc.Name + " records only " + only + " traffic (flow log " + fl.Name + "): set TrafficType to ALL so that " +
			missing + " connections are recorded too",
		Related: []analysis.Related{{Span: vpc.Key.Span, Message: "VPC " + vpc.Name}},
	}
	if len(logs) == 1 && prop.IsScalar() {
		f.Fixes = []analysis.Fix{ec2Unsafe(pass.NewFix("Set TrafficType: ALL (replaces flow log "+fl.Name+")", func(b *edit.Builder) {
			b.Replace(prop, edit.Str("ALL"))
		}))}
	}
	pass.Report(f)
}

// addVPCFlowLog inserts F11 for a VPC: an encrypted log group kept for
// AuditLogRetentionDays, the delivery role, and a flow log of all traffic.
// The new resources share the VPC's Condition.
func addVPCFlowLog(pass *analysis.Pass, b *edit.Builder, vpc *template.Resource) {
	t := pass.Template
	group := uniqueLogicalID(t, vpc.Name+"FlowLogGroup")
	role := uniqueLogicalID(t, vpc.Name+"FlowLogRole")
	flow := uniqueLogicalID(t, vpc.Name+"FlowLog")
	b.AddEntry("Resources", group, auditLogGroup(pass, b, vpc.Condition, ""))
	env := ensureParameter(pass, b, pass.Options.EnvironmentParameter)
	b.AddEntry("Resources", role, deliveryRole(vpc.Condition, "vpc-flow-logs.amazonaws.com", "flow-logs-delivery",
		[]string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"}, edit.GetAtt(group, "Arn")))
	b.AddEntry("Resources", flow, newResource(vpcFlowLogType, vpc.Condition,
		edit.KV{Key: "Properties", Value: edit.Map(
			edit.KV{Key: "ResourceId", Value: edit.Ref(vpc.Name)},
			edit.KV{Key: "ResourceType", Value: edit.Str("VPC")},
			edit.KV{Key: "TrafficType", Value: edit.Str("ALL")},
			edit.KV{Key: "LogDestinationType", Value: edit.Str("cloud-watch-logs")},
			edit.KV{Key: "LogGroupName", Value: edit.Ref(group)},
			edit.KV{Key: "DeliverLogsPermissionArn", Value: edit.GetAtt(role, "Arn")},
			edit.KV{Key: "MaxAggregationInterval", Value: edit.Int(60)},
			edit.KV{Key: "Tags", Value: edit.List(edit.Map(
				edit.KV{Key: "Key", Value: edit.Str("Environment")},
				edit.KV{Key: "Value", Value: edit.Ref(env)},
			))},
		)}))
}

// ---------------------------------------------------------------- VPC-002

// NACLAdminFromWorld reports network ACL entries that let the whole
// internet in on every protocol or on SSH or RDP.
var NACLAdminFromWorld = &analysis.Rule{
	ID:       "SOC2-VPC-002",
	Title:    "Network ACL admits remote administration from the internet",
	Severity: analysis.Warning,
	Controls: []string{"CC6.6"},
	Types:    []string{vpcNACLEntry},
	Doc: `An inbound network ACL entry (` + "`Egress: false`" + `, ` + "`RuleAction: allow`" + `) admits every address
(` + "`CidrBlock: 0.0.0.0/0`" + ` or ` + "`Ipv6CidrBlock: ::/0`" + `) on every protocol (` + "`Protocol: -1`" + `) or on a port range that
contains SSH (22) or RDP (3389). The ephemeral range 1024-65535, which return traffic needs through a
stateless ACL, is not read as opening RDP. The network ACL is the subnet-wide layer behind the security groups; when it
lets everything in, a single security group mistake exposes the instance directly.

**Why an auditor cares.** Boundary protection (CC6.6) is expected in depth: subnet filters that at least keep
remote administration ports closed to the internet, so that no single control failure exposes them.

**How to fix.** Narrow the entry: allow only the ports the subnet serves (for a public subnet, 80, 443 and the
ephemeral return ports 1024-65535), admit administration ports only from the corporate range, and leave the
fine-grained filtering to security groups.`,
	Check: checkNACLAdminFromWorld,
}

func checkNACLAdminFromWorld(pass *analysis.Pass) {
	t, r := pass.Template, pass.Resource
	if egress := r.Property("Egress"); egress != nil {
		// Inbound entries only; an Egress the template cannot know is left alone.
		if v, ok := ec2Single(t, egress); !ok || !strings.EqualFold(v, "false") {
			return
		}
	}
	if action, ok := ec2Single(t, r.Property("RuleAction")); !ok || !strings.EqualFold(action, "allow") {
		return
	}
	protoText, ok := ec2Single(t, r.Property("Protocol"))
	if !ok {
		return
	}
	proto, err := strconv.Atoi(strings.TrimSpace(protoText))
	if err != nil {
		return
	}
	var opens string
	anchor := r.Property("Protocol")
	switch proto {
	case -1:
		opens = "all traffic"
	case 6, 17:
		pr := r.Property("PortRange")
		fromText, ok1 := ec2Single(t, pr.Get("From"))
		toText, ok2 := ec2Single(t, pr.Get("To"))
		from, err1 := strconv.Atoi(strings.TrimSpace(fromText))
		to, err2 := strconv.Atoi(strings.TrimSpace(toText))
		if !ok1 || !ok2 || err1 != nil || err2 != nil {
			return
		}
		// 1024-65535 inbound is the ephemeral range that return traffic needs
		// through a stateless ACL: it is not read as opening RDP.
		ephemeral := from >= 1024 && to == 65535
		var names []string
		for _, a := range sgAdminPorts {
			if from <= a.port && a.port <= to && (proto == 6 || a.port == 3389) && !ephemeral {
				names = append(names, fmt.Sprintf("%s (port %d)", a.name, a.port))
			}
		}
		if len(names) == 0 {
			return
		}
		opens = strings.Join(names, " and ")
		anchor = pr
	default:
		return
	}
	for _, key := range []string{"CidrBlock", "Ipv6CidrBlock"} {
		n := r.Property(key)
		if n == nil {
			continue
		}
		verdict, witness := t.Eval(n).Judge(func(a template.Alt) bool {
			return a.Kind == template.Literal && isWorldCIDR(a.Text())
		})
		src := key
		if witness.Kind == template.Literal {
			src += " " + witness.Text()
		}
		pass.ReportVerdict(verdict, witness, analysis.Finding{
			Span: anchor.Span,
			Message: "network ACL entry " + r.Name + " admits " + opens + " from the whole internet (" + src +
				"): narrow the PortRange or the source range and leave the rest to security groups",
		})
	}
}

var vpcRules = []*analysis.Rule{VPCFlowLogs, NACLAdminFromWorld}
