package rules

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/template"
)

const (
	ec2SecurityGroupType  = "AWS::EC2::SecurityGroup"
	ec2IngressType        = "AWS::EC2::SecurityGroupIngress"
	ec2InstanceType       = "AWS::EC2::Instance"
	ec2LaunchTemplateType = "AWS::EC2::LaunchTemplate"
	ec2LaunchConfigType   = "AWS::AutoScaling::LaunchConfiguration"
	ec2VolumeType         = "AWS::EC2::Volume"
	ec2ENIType            = "AWS::EC2::NetworkInterface"
	ec2SubnetType         = "AWS::EC2::Subnet"
	ec2VPCType            = "AWS::EC2::VPC"
	ec2IGWType            = "AWS::EC2::InternetGateway"
	ec2ALBType            = "AWS::ElasticLoadBalancingV2::LoadBalancer"
	ec2ClassicELBType     = "AWS::ElasticLoadBalancing::LoadBalancer"
	ec2ECSServiceType     = "AWS::ECS::Service"
	ec2CorporateRange     = "CorporateIPRange"
	ec2CorporatePattern   = `^(\d{1,3}\.){3}\d{1,3}/(1[6-9]|2[0-9]|3[0-2])$`
)

var ec2IngressTypes = []string{ec2SecurityGroupType, ec2IngressType}

// ---------------------------------------------------------------- ingress model

// sgIngress is one ingress rule: an entry of a group's SecurityGroupIngress
// list, or a standalone AWS::EC2::SecurityGroupIngress resource.
type sgIngress struct {
	res   *template.Resource // the group (inline entry) or the standalone resource
	group *template.Resource // the group the rule opens; nil when outside the template
	entry *template.Node     // the rule's mapping: the list item, or the standalone resource's Properties
	list  *template.Node     // the SecurityGroupIngress list of an inline entry; nil for standalone
	// conds are the Fn::If conditions under which an inline entry exists.
	conds []template.CondAssumption
}

// who names the rule for messages: "security group Web" or "ingress
// WebHttps of security group Web".
func (in sgIngress) who() string {
	if in.list != nil {
		return "security group " + in.res.Name
	}
	if in.group != nil {
		return "ingress " + in.res.Name + " of security group " + in.group.Name
	}
	return "ingress " + in.res.Name
}

// ingressesOf returns the ingress rules a resource under inspection declares:
// the inline entries of a security group (both branches of an Fn::If entry)
// or the standalone ingress resource itself.
func ingressesOf(pass *analysis.Pass, r *template.Resource) []sgIngress {
	switch r.Type {
	case ec2SecurityGroupType:
		list := r.Property("SecurityGroupIngress")
		if list == nil || list.Kind != template.Sequence {
			return nil
		}
		var out []sgIngress
		for _, it := range list.Items {
			for _, b := range ec2Branches(it, nil) {
				out = append(out, sgIngress{res: r, group: r, entry: b.node, list: list, conds: b.conds})
			}
		}
		return out
	case ec2IngressType:
		if r.Properties == nil || r.Properties.Kind != template.Mapping {
			return nil
		}
		g := ec2Resolve(pass, r.Property("GroupId"), ec2SecurityGroupType)
		if g == nil {
			g = ec2Resolve(pass, r.Property("GroupName"), ec2SecurityGroupType)
		}
		return []sgIngress{{res: r, group: g, entry: r.Properties}}
	}
	return nil
}

// ec2Resolve is resolveOfType for network resources, which have no
// physical names to match: a literal id (sg-..., vpc-...) designates
// something outside the template, so it is not looked up.
func ec2Resolve(pass *analysis.Pass, n *template.Node, typ string) *template.Resource {
	if n == nil || n.Kind == template.Scalar {
		return nil
	}
	return resolveOfType(pass, n, typ)
}

// ec2Branch is a mapping a list item stands for, with the Fn::If
// conditions that select it.
type ec2Branch struct {
	node  *template.Node
	conds []template.CondAssumption
}

// ec2Branches returns the mappings a list item stands for: itself, or the
// mapping branches of an Fn::If.
func ec2Branches(n *template.Node, conds []template.CondAssumption) []ec2Branch {
	switch {
	case n == nil:
		return nil
	case n.Kind == template.Mapping:
		return []ec2Branch{{n, conds}}
	case n.IsFn("Fn::If") && n.Arg.Kind == template.Sequence && len(n.Arg.Items) == 3:
		name := n.Arg.Items[0].Text()
		yes := append(append([]template.CondAssumption(nil), conds...), template.CondAssumption{Name: name, Value: true})
		no := append(append([]template.CondAssumption(nil), conds...), template.CondAssumption{Name: name, Value: false})
		return append(ec2Branches(n.Arg.Items[1], yes), ec2Branches(n.Arg.Items[2], no)...)
	}
	return nil
}

// sgPorts is what an ingress rule lets through.
type sgPorts struct {
	proto    string // "all", "tcp", "udp", "icmp", or a protocol number
	from, to int    // the port range for tcp and udp
}

// all reports whether the rule lets every protocol through.
func (p sgPorts) all() bool { return p.proto == "all" }

// covers reports whether the rule lets tcp port n through.
func (p sgPorts) coversTCP(n int) bool {
	return p.all() || (p.proto == "tcp" && p.from <= n && n <= p.to)
}

// within reports whether the rule lets through only tcp ports of the set.
func (p sgPorts) withinTCP(set []int) bool {
	if p.proto != "tcp" || p.to-p.from+1 > len(set) {
		return false
	}
	for n := p.from; n <= p.to; n++ {
		if !containsInt(set, n) {
			return false
		}
	}
	return true
}

// describe says what the rule lets through, for messages.
func (p sgPorts) describe() string {
	switch p.proto {
	case "all":
		return "all traffic (every protocol and port)"
	case "tcp", "udp":
		switch {
		case p.from == 0 && p.to == 65535:
			return "all " + p.proto + " traffic (ports 0-65535)"
		case p.from == p.to:
			return fmt.Sprintf("%s port %d", p.proto, p.from)
		}
		return fmt.Sprintf("%s ports %d-%d", p.proto, p.from, p.to)
	case "icmp":
		return "icmp"
	}
	return "all traffic of IP protocol " + p.proto
}

func containsInt(list []int, n int) bool {
	for _, v := range list {
		if v == n {
			return true
		}
	}
	return false
}

// ec2Single resolves a value that must be known to decide anything: a
// literal, or a parameter or condition whose every value is the same
// literal. ok is false for unknown or ambiguous values.
func ec2Single(t *template.Template, n *template.Node) (string, bool) {
	if n == nil {
		return "", false
	}
	text, seen := "", false
	for _, a := range t.Eval(n) {
		if a.Kind != template.Literal {
			return "", false
		}
		if seen && a.Text() != text {
			return "", false
		}
		text, seen = a.Text(), true
	}
	return text, seen
}

// portsOf decodes IpProtocol, FromPort and ToPort; ok is false when they
// cannot be known from the template.
func portsOf(t *template.Template, entry *template.Node) (sgPorts, bool) {
	proto, ok := ec2Single(t, entry.Get("IpProtocol"))
	if !ok {
		return sgPorts{}, false
	}
	switch strings.ToLower(proto) {
	case "-1", "all":
		return sgPorts{proto: "all"}, true
	case "tcp", "6":
		proto = "tcp"
	case "udp", "17":
		proto = "udp"
	case "icmp", "1", "icmpv6", "58":
		return sgPorts{proto: "icmp"}, true
	default:
		if _, err := strconv.Atoi(proto); err != nil {
			return sgPorts{}, false
		}
		return sgPorts{proto: proto}, true
	}
	fromText, ok1 := ec2Single(t, entry.Get("FromPort"))
	toText, ok2 := ec2Single(t, entry.Get("ToPort"))
	from, err1 := strconv.Atoi(strings.TrimSpace(fromText))
	to, err2 := strconv.Atoi(strings.TrimSpace(toText))
	if !ok1 || !ok2 || err1 != nil || err2 != nil {
		return sgPorts{}, false
	}
	if from == -1 || to == -1 {
		from, to = 0, 65535
	}
	return sgPorts{proto: proto, from: from, to: to}, true
}

// isWorldCIDR reports whether s is a CIDR covering every address
// (0.0.0.0/0, ::/0, and their spellings).
func isWorldCIDR(s string) bool {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	return err == nil && p.Bits() == 0
}

// sgWorld is an ingress rule's exposure to the whole internet.
type sgWorld struct {
	key     string         // CidrIp or CidrIpv6
	cidr    *template.Node // its value
	verdict template.Verdict
	witness template.Alt
	ports   sgPorts
}

// worldOpen returns how an ingress rule is open to the world: for CidrIp
// and CidrIpv6, whether the source is (definitely or possibly) every
// address, with the ports it opens. Rules whose ports cannot be known are
// left out.
func worldOpen(t *template.Template, in sgIngress) []sgWorld {
	entry := in.entry
	var out []sgWorld
	for _, key := range []string{"CidrIp", "CidrIpv6"} {
		n := entry.Get(key)
		if n == nil {
			continue
		}
		verdict, witness := t.Eval(n).Judge(func(a template.Alt) bool {
			return a.Kind == template.Literal && isWorldCIDR(a.Text())
		})
		if verdict == template.Pass {
			continue
		}
		ports, ok := portsOf(t, entry)
		if !ok {
			continue
		}
		if len(in.conds) > 0 {
			// An entry inside Fn::If exists only under its conditions.
			witness.Conds = append(append([]template.CondAssumption(nil), in.conds...), witness.Conds...)
			verdict = template.Possible
		}
		out = append(out, sgWorld{key: key, cidr: n, verdict: verdict, witness: witness, ports: ports})
	}
	return out
}

// source renders the world source for messages: "CidrIp 0.0.0.0/0".
func (w sgWorld) source() string {
	if w.witness.Kind == template.Literal {
		return w.key + " " + w.witness.Text()
	}
	return w.key
}

// ---------------------------------------------------------------- group users

// sgUse is the template-wide index of who uses each security group, built
// once per analysis.
type sgUse struct {
	compute    map[*template.Resource][]*template.Resource // group -> instances, launch templates, ENIs, ...
	balancers  map[*template.Resource][]*template.Resource // group -> load balancers
	lbGroups   []*template.Resource                        // groups used by load balancers, in document order
	standalone map[*template.Resource][]*template.Resource // group -> standalone ingress resources
}

func securityGroupUse(pass *analysis.Pass) *sgUse {
	return pass.Memo("ec2SecurityGroupUse", func() any {
		t := pass.Template
		u := &sgUse{
			compute:    map[*template.Resource][]*template.Resource{},
			balancers:  map[*template.Resource][]*template.Resource{},
			standalone: map[*template.Resource][]*template.Resource{},
		}
		add := func(idx map[*template.Resource][]*template.Resource, user *template.Resource, lists ...*template.Node) {
			for _, l := range lists {
				for _, it := range l.List() {
					g := ec2Resolve(pass, it, ec2SecurityGroupType)
					if g == nil {
						continue
					}
					if n := len(idx[g]); n == 0 || idx[g][n-1] != user {
						idx[g] = append(idx[g], user)
					}
				}
			}
		}
		for _, r := range resourcesOfTypes(t, ec2InstanceType, ec2LaunchTemplateType, ec2LaunchConfigType, ec2ENIType,
			ec2ECSServiceType, ec2ALBType, ec2ClassicELBType, ec2IngressType) {
			switch r.Type {
			case ec2InstanceType:
				add(u.compute, r, r.Property("SecurityGroupIds"), r.Property("SecurityGroups"))
				for _, ni := range r.Property("NetworkInterfaces").List() {
					add(u.compute, r, ni.Get("GroupSet"))
				}
			case ec2LaunchTemplateType:
				data := r.Property("LaunchTemplateData")
				add(u.compute, r, data.Get("SecurityGroupIds"), data.Get("SecurityGroups"))
				for _, ni := range data.Get("NetworkInterfaces").List() {
					add(u.compute, r, ni.Get("Groups"))
				}
			case ec2LaunchConfigType:
				add(u.compute, r, r.Property("SecurityGroups"))
			case ec2ENIType:
				add(u.compute, r, r.Property("GroupSet"))
			case ec2ECSServiceType:
				add(u.compute, r, r.PropertyPath("NetworkConfiguration", "AwsvpcConfiguration", "SecurityGroups"))
			case ec2ALBType, ec2ClassicELBType:
				add(u.balancers, r, r.Property("SecurityGroups"))
			case ec2IngressType:
				for _, in := range ingressesOf(pass, r) {
					if in.group != nil {
						u.standalone[in.group] = append(u.standalone[in.group], r)
					}
				}
			}
		}
		// In document order, from the groups found, without listing every
		// group: the memo then depends only on the groups something uses,
		// and an edit of another group leaves every check that reads it
		// alone.
		for g := range u.balancers {
			u.lbGroups = append(u.lbGroups, g)
		}
		slices.SortFunc(u.lbGroups, func(a, b *template.Resource) int { return t.ResourceIndex(a.Name) - t.ResourceIndex(b.Name) })
		return u
	}).(*sgUse)
}

// balancerGroupFor returns a load balancer's security group other than g
// that g's rules could admit instead of the world, or nil.
func balancerGroupFor(pass *analysis.Pass, g *template.Resource) *template.Resource {
	for _, lb := range securityGroupUse(pass).lbGroups {
		if lb != g {
			return lb
		}
	}
	return nil
}

// ---------------------------------------------------------------- shared fixes

// corporateRangeFix replaces a world source with !Ref CorporateIPRange,
// adding the parameter (F12, with its CIDR pattern) when the template has
// none. IPv6 sources become CidrIp, since the parameter is an IPv4 range.
func corporateRangeFix(pass *analysis.Pass, w sgWorld, entry *template.Node) analysis.Fix {
	return pass.NewFix("Allow only "+ec2CorporateRange+" instead of the world", func(b *edit.Builder) {
		param := ensureCorporateRange(pass, b)
		if w.key == "CidrIpv6" {
			if entry.Get("CidrIp") != nil {
				b.Delete(entry, "CidrIpv6")
				return
			}
			b.Replace(entry.Pair("CidrIpv6").Key, edit.Str("CidrIp"))
		}
		b.Replace(w.cidr, edit.Ref(param))
	})
}

// ensureCorporateRange adds the F12 CorporateIPRange parameter when it is
// missing and returns its name.
func ensureCorporateRange(pass *analysis.Pass, b *edit.Builder) string {
	if pass.Template.Parameter(ec2CorporateRange) == nil {
		b.AddEntry("Parameters", ec2CorporateRange, edit.Map(
			edit.KV{Key: "Type", Value: edit.Str("String")},
			edit.KV{Key: "AllowedPattern", Value: edit.Str(ec2CorporatePattern)},
			edit.KV{Key: "ConstraintDescription", Value: edit.Str("a /16 to /32 IPv4 CIDR; 0.0.0.0/0 is not allowed")},
			edit.KV{Key: "Description", Value: edit.Str("Corporate network range allowed to reach restricted ports")},
		))
	}
	return ec2CorporateRange
}

// balancerSourceFix replaces a world source with the load balancer's
// security group.
func balancerSourceFix(pass *analysis.Pass, w sgWorld, entry *template.Node, lb *template.Resource) analysis.Fix {
	return pass.NewFix("Allow only the load balancer's security group "+lb.Name, func(b *edit.Builder) {
		b.Replace(entry.Pair(w.key).Key, edit.Str("SourceSecurityGroupId"))
		b.Replace(w.cidr, edit.GetAtt(lb.Name, "GroupId"))
	})
}

// ---------------------------------------------------------------- SG-001

// SGWorldOpenPorts reports ingress rules open to the whole internet on
// anything but the public web ports.
var SGWorldOpenPorts = &analysis.Rule{
	ID:       "SOC2-SG-001",
	Title:    "Security group opens ports to the whole internet",
	Severity: analysis.Error,
	Controls: []string{"CC6.6", "CC6.1"},
	Types:    ec2IngressTypes,
	Doc: `An ingress rule of a security group (an entry of ` + "`SecurityGroupIngress`" + `, or a standalone
` + "`AWS::EC2::SecurityGroupIngress`" + `) accepts traffic from every address (` + "`CidrIp: 0.0.0.0/0`" + ` or
` + "`CidrIpv6: ::/0`" + `) on something other than the public web ports (TCP 80 and 443 by default, configurable).
` + "`IpProtocol: -1`" + ` and the port range 0-65535 are reported as all traffic. Sources and ports are read through
parameters and conditions; a source that is 0.0.0.0/0 only for some parameter value is reported one level
lower. ICMP is not reported.

**Why an auditor cares.** Boundary protection (CC6.6) means exposing only the ports a service needs, and only
to the clients that need them. Every port open to the internet is scanned within minutes; an auditor sampling
security groups asks for a business reason for each world-open rule, and a database or admin port has none.

**How to fix.** Restrict the source: a corporate range (` + "`CidrIp: !Ref CorporateIPRange`" + `), or the load
balancer's security group (` + "`SourceSecurityGroupId`" + `) for application ports. When the rule was meant to
serve the web, narrow it to the public ports. The quick fixes do each of these; the corporate range fix adds
the ` + "`CorporateIPRange`" + ` parameter, with a CIDR pattern that refuses /0, when the template has none.`,
	Check: checkSGWorldOpenPorts,
}

func checkSGWorldOpenPorts(pass *analysis.Pass) {
	t, public := pass.Template, pass.Options.PublicPorts
	for _, in := range ingressesOf(pass, pass.Resource) {
		for _, w := range worldOpen(t, in) {
			if w.ports.proto == "icmp" || w.ports.withinTCP(public) {
				continue
			}
			f := analysis.Finding{
				Span: w.cidr.Span,
				Message: in.who() + " opens " + w.ports.describe() + " to the whole internet (" + w.source() +
					"): " + worldOpenAllowance(public) + "; restrict the source",
			}
			if w.cidr.IsScalar() {
				f.Fixes = append(f.Fixes, corporateRangeFix(pass, w, in.entry))
				if lb := balancerGroupFor(pass, in.group); lb != nil && in.group != nil {
					f.Fixes = append(f.Fixes, balancerSourceFix(pass, w, in.entry, lb))
				}
				if fix, ok := narrowToPublicFix(pass, in, w, public); ok {
					f.Fixes = append(f.Fixes, fix)
				}
			}
			pass.ReportVerdict(w.verdict, w.witness, f)
		}
	}
}

// worldOpenAllowance says what may be open to the world, for messages.
func worldOpenAllowance(public []int) string {
	if len(public) == 0 {
		return "no port may be world-open"
	}
	return "only " + describePorts(public) + " may be world-open, on a load balancer"
}

// describePorts renders the public ports: "tcp 80, 443".
func describePorts(ports []int) string {
	if len(ports) == 0 {
		return "no port"
	}
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(p)
	}
	return "tcp " + strings.Join(s, ", ")
}

// narrowToPublicFix narrows a world-open rule down to the public ports it
// covers: the rule keeps the first, and new entries (inline rules only) take
// the others.
func narrowToPublicFix(pass *analysis.Pass, in sgIngress, w sgWorld, public []int) (analysis.Fix, bool) {
	var keep []int
	for _, p := range public {
		if w.ports.coversTCP(p) {
			keep = append(keep, p)
		}
	}
	sort.Ints(keep)
	if len(keep) == 0 || (len(keep) > 1 && (in.list == nil || !ec2IsItem(in.list, in.entry))) {
		return analysis.Fix{}, false
	}
	title := "Narrow the rule to " + describePorts(keep)
	return pass.NewFix(title, func(b *edit.Builder) {
		b.Set(in.entry, "IpProtocol", edit.Str("tcp"))
		b.Set(in.entry, "FromPort", edit.Int(keep[0]))
		b.Set(in.entry, "ToPort", edit.Int(keep[0]))
		for _, p := range keep[1:] {
			kv := []edit.KV{
				{Key: "IpProtocol", Value: edit.Str("tcp")},
				{Key: "FromPort", Value: edit.Int(p)},
				{Key: "ToPort", Value: edit.Int(p)},
				{Key: w.key, Value: edit.Str(w.cidr.Value)},
			}
			if d := in.entry.Get("Description"); d.IsScalar() {
				kv = append(kv, edit.KV{Key: "Description", Value: edit.Str(d.Value)})
			}
			b.Append(in.list, edit.Map(kv...))
		}
	}), true
}

// ---------------------------------------------------------------- SG-002

// sgAdminPorts are the remote administration ports SG-002 looks for.
var sgAdminPorts = []struct {
	port int
	name string
}{{22, "SSH"}, {3389, "RDP"}}

// SGWorldOpenAdmin reports SSH and RDP open to the whole internet.
var SGWorldOpenAdmin = &analysis.Rule{
	ID:       "SOC2-SG-002",
	Title:    "Security group opens SSH or RDP to the whole internet",
	Severity: analysis.Error,
	Controls: []string{"CC6.6", "CC7.2"},
	Types:    ec2IngressTypes,
	Doc: `An ingress rule accepts SSH (TCP 22) or RDP (TCP 3389) from every address, directly or through a
port range or ` + "`IpProtocol: -1`" + ` that contains them. Remote administration ports open to the internet are
brute-forced continuously and are a common first step of an intrusion.

**Why an auditor cares.** CC6.6 expects remote access to come only through authenticated, restricted
channels, and CC7.2 expects administrative access to be monitored. A world-open SSH or RDP port is one of the
findings auditors and penetration testers look for first.

**How to fix.** Restrict the source to a corporate range (` + "`CidrIp: !Ref CorporateIPRange`" + `), or remove the
rule and reach instances through AWS Systems Manager Session Manager, which needs no inbound port and records
every session. The quick fix restricts the source and adds the ` + "`CorporateIPRange`" + ` parameter when needed.`,
	Check: checkSGWorldOpenAdmin,
}

func checkSGWorldOpenAdmin(pass *analysis.Pass) {
	t := pass.Template
	for _, in := range ingressesOf(pass, pass.Resource) {
		for _, w := range worldOpen(t, in) {
			var names []string
			for _, a := range sgAdminPorts {
				if w.ports.coversTCP(a.port) || (w.ports.proto == "udp" && a.port == 3389 && w.ports.from <= a.port && a.port <= w.ports.to) {
					names = append(names, fmt.Sprintf("%s (port %d)", a.name, a.port))
				}
			}
			if len(names) == 0 {
				continue
			}
			f := analysis.Finding{
				Span: w.cidr.Span,
				Message: in.who() + " opens " + strings.Join(names, " and ") + " to the whole internet (" + w.source() +
					"): restrict the source to " + ec2CorporateRange + " or use SSM Session Manager",
			}
			if w.cidr.IsScalar() {
				f.Fixes = []analysis.Fix{corporateRangeFix(pass, w, in.entry)}
				if in.list != nil && ec2IsItem(in.list, in.entry) {
					list, entry := in.list, in.entry
					f.Fixes = append(f.Fixes, ec2Unsafe(pass.NewFix("Remove the rule (reach instances through SSM Session Manager)", func(b *edit.Builder) {
						b.Remove(list, entry)
					})))
				}
			}
			pass.ReportVerdict(w.verdict, w.witness, f)
		}
	}
}

// ec2IsItem reports whether n is an item of sequence s itself (not a
// branch of an Fn::If item).
func ec2IsItem(s, n *template.Node) bool {
	for _, it := range s.Items {
		if it == n {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------- SG-003

// sgSensitivePorts are administration and data-store ports whose source
// parameter SG-003 checks.
var sgSensitivePorts = []int{22, 3389, 1433, 1521, 2049, 2375, 2376, 3306, 5432, 5439, 5601, 5984, 6379, 7000, 7001, 8020, 8086, 8888, 9042, 9092, 9200, 9300, 11211, 27017, 27018, 50070}

// sgCIDRSamples are ranges a CIDR AllowedPattern is expected to accept.
var sgCIDRSamples = map[string][]string{
	"CidrIp":   {"10.0.0.0/16", "192.168.10.0/24", "203.0.113.10/32"},
	"CidrIpv6": {"2001:db8::/32", "2001:db8:1234::/48", "2001:db8::1/128"},
}

// SGSourceParameter reports admin and data ports whose source is a
// parameter that does not refuse 0.0.0.0/0.
var SGSourceParameter = &analysis.Rule{
	ID:       "SOC2-SG-003",
	Title:    "Restricted port's source parameter accepts any CIDR",
	Severity: analysis.Warning,
	Controls: []string{"CC6.6"},
	Types:    ec2IngressTypes,
	Doc: `An ingress rule on an administration or data-store port (SSH, RDP, MySQL, PostgreSQL, SQL Server,
Oracle, Redis, MongoDB, Elasticsearch, ...) takes its source from a parameter (` + "`CidrIp: !Ref CorporateIPRange`" + `),
and that parameter does not stop a deployer from passing ` + "`0.0.0.0/0`" + `: it has no ` + "`AllowedPattern`" + ` (or one
that is not a CIDR pattern), its pattern accepts a /0 range, or its default is the whole internet. A parameter
whose pattern only accepts real network ranges, and that has no world default, is the right way to write
this and is not reported.

**Why an auditor cares.** The template is the reviewed control (CC6.6); a parameter without a constraint moves
the decision to whoever deploys the stack, outside that review. One mistyped or convenient ` + "`0.0.0.0/0`" + `
opens the port to the internet without any change to the template.

**How to fix.** Give the parameter ` + "`AllowedPattern: '" + ec2CorporatePattern + "'`" + ` and a
` + "`ConstraintDescription`" + `, and remove a ` + "`0.0.0.0/0`" + ` default. The quick fix does both when the parameter has no
pattern yet.`,
	Check: checkSGSourceParameter,
}

func checkSGSourceParameter(pass *analysis.Pass) {
	t := pass.Template
	for _, in := range ingressesOf(pass, pass.Resource) {
		ports, ok := portsOf(t, in.entry)
		if !ok {
			continue
		}
		port := 0
		for _, p := range sgSensitivePorts {
			if ports.coversTCP(p) {
				port = p
				break
			}
		}
		if port == 0 {
			continue
		}
		for _, key := range []string{"CidrIp", "CidrIpv6"} {
			n := in.entry.Get(key)
			param := t.Parameter(refTarget(n))
			if param == nil || strings.HasPrefix(param.Type, "AWS::") || strings.HasPrefix(param.Type, "List<") {
				continue
			}
			why, fixable := sgParameterWeakness(param, key)
			if why == "" {
				continue
			}
			opens := fmt.Sprintf("tcp port %d", port)
			if ports.all() {
				opens = "all traffic"
			}
			f := analysis.Finding{
				Span: n.Span,
				Message: in.who() + " admits " + opens + " from parameter " + param.Name + ", which " + why +
					": add a CIDR AllowedPattern that refuses /0 and no 0.0.0.0/0 default",
				Related: []analysis.Related{{Span: param.Key.Span, Message: "parameter " + param.Name}},
			}
			if fixable {
				f.Fixes = []analysis.Fix{pass.NewFix("Constrain parameter "+param.Name+" to a /16 to /32 IPv4 range", func(b *edit.Builder) {
					b.Insert(param.Value, "AllowedPattern", edit.Str(ec2CorporatePattern))
					if param.Value.Get("ConstraintDescription") == nil {
						b.Insert(param.Value, "ConstraintDescription", edit.Str("a /16 to /32 IPv4 CIDR; 0.0.0.0/0 is not allowed"))
					}
					if param.Default != nil && isWorldCIDR(param.Default.Text()) {
						b.Delete(param.Value, "Default")
					}
				})}
			}
			pass.Report(f)
		}
	}
}

// sgParameterWeakness says why a source parameter does not keep the world
// out ("" when it does), and whether adding the IPv4 pattern (and dropping
// a world default) would fix it.
func sgParameterWeakness(p *template.Parameter, key string) (why string, fixable bool) {
	world := "0.0.0.0/0"
	if key == "CidrIpv6" {
		world = "::/0"
	}
	if len(p.AllowedValues) > 0 {
		for _, v := range p.AllowedValues {
			if isWorldCIDR(v.Text()) {
				return "allows the value " + v.Text(), false
			}
		}
		return "", false
	}
	pattern := p.Value.Get("AllowedPattern")
	if pattern == nil || pattern.Text() == "" {
		why = "has no AllowedPattern"
		if p.Default != nil && isWorldCIDR(p.Default.Text()) {
			why = "defaults to " + p.Default.Text() + " and has no AllowedPattern"
		}
		return why, key == "CidrIp" && p.Value.Kind == template.Mapping
	}
	if p.Default != nil && isWorldCIDR(p.Default.Text()) {
		return "defaults to " + p.Default.Text(), false
	}
	re, err := regexp.Compile(`^(?:` + pattern.Text() + `)$`)
	if err != nil {
		// A pattern Go cannot read (Java syntax): trust the author.
		return "", false
	}
	if re.MatchString(world) {
		return "has an AllowedPattern that accepts " + world, false
	}
	for _, s := range sgCIDRSamples[key] {
		if re.MatchString(s) {
			return "", false
		}
	}
	return "has an AllowedPattern that accepts no CIDR range", false
}

// ---------------------------------------------------------------- SG-004

// SGWebPortsOnCompute reports world-open web ports on security groups of
// instances rather than load balancers.
var SGWebPortsOnCompute = &analysis.Rule{
	ID:       "SOC2-SG-004",
	Title:    "Web ports open to the internet directly on instances",
	Severity: analysis.Info,
	Controls: []string{"CC6.6"},
	Types:    ec2IngressTypes,
	Doc: `A security group opens the public web ports (TCP 80 and 443 by default) to every address, and it is
attached to compute (an instance, a launch template, a launch configuration, a network interface or an ECS
service), not only to load balancers. World-open web ports are expected on a load balancer's security
group; on an instance they expose the host's web server, its operating system and its metadata to the
internet, with no TLS termination, WAF or health checks in front.

**Why an auditor cares.** Boundary protection (CC6.6) is easier to evidence when the internet reaches only a
small, known set of entry points. Instances that answer the internet directly each become an entry point of
their own, outside the WAF and the load balancer's access logs.

**How to fix.** Put a load balancer in front, give it the world-open rules, and let the instance's group admit
only the load balancer's group (` + "`SourceSecurityGroupId: !GetAtt LoadBalancerSecurityGroup.GroupId`" + `). When the template
has a load balancer security group, the quick fix points the rule at it.`,
	Check: checkSGWebPortsOnCompute,
}

func checkSGWebPortsOnCompute(pass *analysis.Pass) {
	t, public := pass.Template, pass.Options.PublicPorts
	use := securityGroupUse(pass)
	for _, in := range ingressesOf(pass, pass.Resource) {
		if in.group == nil || len(use.compute[in.group]) == 0 {
			continue
		}
		users := use.compute[in.group]
		for _, w := range worldOpen(t, in) {
			if !w.ports.withinTCP(public) {
				continue
			}
			names := make([]string, 0, len(users))
			related := make([]analysis.Related, 0, len(users))
			for _, u := range users {
				names = append(names, ec2Kind(u)+" "+u.Name)
				related = append(related, analysis.Related{Span: u.Key.Span, Message: ec2Kind(u) + " " + u.Name + " uses security group " + in.group.Name})
			}
			f := analysis.Finding{
				Span: w.cidr.Span,
				Message: in.who() + " opens " + w.ports.describe() + " to the whole internet and is attached to " +
					strings.Join(names, ", ") + ": serve the web through a load balancer and admit only its security group",
				Related: related,
			}
			if lb := balancerGroupFor(pass, in.group); lb != nil && w.cidr.IsScalar() {
				f.Fixes = []analysis.Fix{balancerSourceFix(pass, w, in.entry, lb)}
			}
			pass.ReportVerdict(w.verdict, w.witness, f)
		}
	}
}

// ec2Kind names a resource's type for messages.
func ec2Kind(r *template.Resource) string {
	switch r.Type {
	case ec2InstanceType:
		return "instance"
	case ec2LaunchTemplateType:
		return "launch template"
	case ec2LaunchConfigType:
		return "launch configuration"
	case ec2ENIType:
		return "network interface"
	case ec2ECSServiceType:
		return "ECS service"
	case ec2VolumeType:
		return "volume"
	}
	return "resource"
}

// ---------------------------------------------------------------- SG-005

// SGRuleDescription reports ingress rules without a description.
var SGRuleDescription = &analysis.Rule{
	ID:       "SOC2-SG-005",
	Title:    "Security group ingress rule has no description",
	Severity: analysis.Info,
	Controls: []string{"CC6.1"},
	Types:    ec2IngressTypes,
	Doc: `An ingress rule (an entry of ` + "`SecurityGroupIngress`" + ` or a standalone
` + "`AWS::EC2::SecurityGroupIngress`" + `) has no ` + "`Description`" + `. The description is shown next to the rule in the
console and the API, and is the only place the rule's purpose travels with it.

**Why an auditor cares.** CC6.1 expects each point of access to be identified and its purpose known. During a
firewall review an auditor asks why each rule exists; a described rule answers from the template itself.

**How to fix.** Add ` + "`Description`" + ` saying who needs the access and why ("HTTPS from the load balancer").
The quick fix inserts a description to complete, so it is never applied automatically.`,
	Check: checkSGRuleDescription,
}

func checkSGRuleDescription(pass *analysis.Pass) {
	t := pass.Template
	for _, in := range ingressesOf(pass, pass.Resource) {
		if d := in.entry.Get("Description"); d != nil && !(d.IsScalar() && strings.TrimSpace(d.Value) == "") {
			continue
		}
		span := in.entry.Span
		if in.list == nil {
			span = pass.KeySpan()
		}
		what := "an ingress rule"
		if ports, ok := portsOf(t, in.entry); ok {
			what = "the ingress rule for " + ports.describe()
		}
		entry := in.entry
		pass.Report(analysis.Finding{
			Span:    span,
			Message: in.who() + " has no Description on " + what + ": say who needs this access and why",
			Fixes: []analysis.Fix{ec2Unsafe(pass.NewFix("Add a Description to complete", func(b *edit.Builder) {
				b.Set(entry, "Description", edit.Str("TODO: who needs this access and why"))
			}))},
		})
	}
}

// ---------------------------------------------------------------- EC2-001

// EBSEncryption reports EBS volumes that are not encrypted.
var EBSEncryption = &analysis.Rule{
	ID:       "SOC2-EC2-001",
	Title:    "EBS volume is not encrypted",
	Severity: analysis.Error,
	Controls: []string{"CC6.1", "C1.1", "PI1.5"},
	Types:    []string{ec2VolumeType, ec2InstanceType, ec2LaunchTemplateType, ec2LaunchConfigType},
	Doc: `An EBS volume is created without ` + "`Encrypted: true`" + `: an ` + "`AWS::EC2::Volume`" + `, or an ` + "`Ebs`" + ` block
device of an instance, a launch template or a launch configuration. Whether such a volume ends up encrypted
then depends on an account setting ("EBS encryption by default") that CloudFormation cannot declare, so the
template does not show it. Volumes the template does not describe (an instance's root volume taken from its
AMI) are not reported.

**Why an auditor cares.** Encryption at rest is one of the logical access controls of CC6.1, and for volumes
holding customer or financial data it is how confidentiality (C1.1) and the integrity of stored data (PI1.5)
are evidenced. Unencrypted volumes leak through their snapshots, which are easily shared or copied.

**How to fix.** Set ` + "`Encrypted: true`" + ` (and ` + "`KmsKeyId`" + ` for a customer managed key). An existing volume cannot
be encrypted in place: for a volume or an instance, the change creates new volumes, so copy the data first;
a launch template or configuration only affects instances launched afterwards.`,
	Check: checkEBSEncryption,
}

func checkEBSEncryption(pass *analysis.Pass) {
	r := pass.Resource
	if r.Type == ec2VolumeType {
		prop := r.Property("Encrypted")
		verdict, witness := pass.Template.Eval(prop).Judge(ec2NotTrue)
		f := analysis.Finding{
			Span:    pass.KeySpan(),
			Message: "volume " + r.Name + " is not encrypted: set Encrypted to true",
		}
		if prop != nil && prop.Kind != template.Null {
			f.Span = prop.Span
		}
		if prop == nil || prop.Kind == template.Null || prop.Kind == template.Scalar {
			f.Fixes = []analysis.Fix{ec2Unsafe(pass.NewFix("Set Encrypted: true (recreates the volume: copy its data first)", func(b *edit.Builder) {
				ec2SetProperty(b, r, []string{"Encrypted"}, edit.Bool(true))
			}))}
		}
		pass.ReportVerdict(verdict, witness, f)
		return
	}
	base := []string{}
	if r.Type == ec2LaunchTemplateType {
		base = []string{"LaunchTemplateData"}
	}
	mappings := r.PropertyPath(append(base, "BlockDeviceMappings")...)
	if mappings == nil || mappings.Kind != template.Sequence {
		return
	}
	for _, m := range mappings.Items {
		ebsPair := m.Pair("Ebs")
		if ebsPair == nil || ebsPair.Value.Kind != template.Mapping {
			continue
		}
		ebs := ebsPair.Value
		prop := ebs.Get("Encrypted")
		verdict, witness := pass.Template.Eval(prop).Judge(ec2NotTrue)
		device := m.Get("DeviceName").Text()
		if device == "" {
			device = "a block device"
		}
		f := analysis.Finding{
			Span:    ebsPair.Key.Span,
			Message: ec2Kind(r) + " " + r.Name + " creates an unencrypted EBS volume for " + device + ": set Ebs.Encrypted to true",
		}
		if prop != nil && prop.Kind != template.Null {
			f.Span = prop.Span
		}
		if prop == nil || prop.Kind == template.Null || prop.Kind == template.Scalar {
			var fix analysis.Fix
			build := func(b *edit.Builder) { b.Set(ebs, "Encrypted", edit.Bool(true)) }
			switch r.Type {
			case ec2InstanceType:
				fix = ec2Unsafe(pass.NewFix("Set Ebs.Encrypted: true (replaces the instance and its volumes: copy their data first)", build))
			case ec2LaunchConfigType:
				fix = ec2Unsafe(pass.NewFix("Set Ebs.Encrypted: true (replaces the launch configuration)", build))
			default:
				fix = pass.NewFix("Set Ebs.Encrypted: true (instances launched afterwards get encrypted volumes)", build)
			}
			f.Fixes = []analysis.Fix{fix}
		}
		pass.ReportVerdict(verdict, witness, f)
	}
}

// ec2NotTrue judges a boolean setting that must be true: absent or false is bad.
func ec2NotTrue(a template.Alt) bool {
	if a.Kind == template.Absent {
		return true
	}
	b, ok := a.Bool()
	return ok && !b
}

func ec2Unsafe(f analysis.Fix) analysis.Fix {
	f.Unsafe = true
	return f
}

// ec2SetProperty sets a property path of a resource, creating Properties
// when the resource has none.
func ec2SetProperty(b *edit.Builder, r *template.Resource, path []string, v edit.Value) {
	if r.Properties == nil || r.Properties.Kind != template.Mapping || len(r.Properties.Pairs) == 0 {
		b.SetPath(r.Value, append([]string{"Properties"}, path...), v)
		return
	}
	b.SetPath(r.Properties, path, v)
}

// ---------------------------------------------------------------- EC2-002

// IMDSv2Required reports instances that accept IMDSv1 requests.
var IMDSv2Required = &analysis.Rule{
	ID:       "SOC2-EC2-002",
	Title:    "Instance metadata service accepts IMDSv1",
	Severity: analysis.Warning,
	Controls: []string{"CC6.1", "CC6.6", "CC7.2"},
	Types:    []string{ec2InstanceType, ec2LaunchTemplateType, ec2LaunchConfigType},
	Doc: `An instance, launch template or launch configuration does not set
` + "`MetadataOptions.HttpTokens: required`" + `, so the instance metadata service also answers IMDSv1 requests, which
need no session token. A server-side request forgery in any application on the instance can then read the
instance role's temporary credentials. An instance launched from a launch template is judged by the launch
template; turning the metadata service off (` + "`HttpEndpoint: disabled`" + `) also passes.

**Why an auditor cares.** The instance role's credentials are access credentials like any other (CC6.1), and
IMDSv1 is a well-known way of stealing them from outside the boundary (CC6.6). Requiring IMDSv2 is a standard
hardening item auditors and cloud security benchmarks check.

**How to fix.** Set ` + "`MetadataOptions: {HttpTokens: required}`" + ` (with ` + "`HttpPutResponseHopLimit: 1`" + ` unless
containers on the instance need the metadata service). Check first that the software on the instance uses an
SDK recent enough to speak IMDSv2.`,
	Check: checkIMDSv2,
}

func checkIMDSv2(pass *analysis.Pass) {
	r, t := pass.Resource, pass.Template
	base := []string{}
	if r.Type == ec2LaunchTemplateType {
		base = []string{"LaunchTemplateData"}
	}
	container := r.PropertyPath(base...)
	if len(base) == 0 {
		container = r.Properties
	}
	options := container.Get("MetadataOptions")
	if r.Type == ec2InstanceType && r.Property("LaunchTemplate") != nil && options.Get("HttpTokens") == nil {
		// The launch template decides; it is judged on its own.
		return
	}
	if endpoint, ok := ec2Single(t, options.Get("HttpEndpoint")); ok && strings.EqualFold(endpoint, "disabled") {
		return
	}
	tokens := options.Get("HttpTokens")
	verdict, witness := t.Eval(tokens).Judge(func(a template.Alt) bool {
		return a.Kind == template.Absent || (a.Kind == template.Literal && !strings.EqualFold(a.Text(), "required"))
	})
	where := "MetadataOptions.HttpTokens"
	if len(base) > 0 {
		where = "LaunchTemplateData.MetadataOptions.HttpTokens"
	}
	f := analysis.Finding{
		Span:    pass.KeySpan(),
		Message: ec2Kind(r) + " " + r.Name + " accepts IMDSv1 metadata requests: set " + where + " to required",
	}
	if tokens != nil && tokens.Kind != template.Null {
		f.Span = tokens.Span
	} else if p := container.Pair("MetadataOptions"); p != nil {
		f.Span = p.Key.Span
	}
	if tokens == nil || tokens.Kind == template.Null || tokens.Kind == template.Scalar {
		build := func(b *edit.Builder) {
			if options != nil && options.Kind == template.Mapping && len(options.Pairs) > 0 {
				b.Set(options, "HttpTokens", edit.Str("required"))
				return
			}
			ec2SetProperty(b, r, append(base, "MetadataOptions"), edit.Map(edit.KV{Key: "HttpTokens", Value: edit.Str("required")}))
		}
		if r.Type == ec2LaunchConfigType {
			f.Fixes = []analysis.Fix{ec2Unsafe(pass.NewFix("Require IMDSv2 (replaces the launch configuration)", build))}
		} else {
			f.Fixes = []analysis.Fix{pass.NewFix("Require IMDSv2 (HttpTokens: required)", build)}
		}
	}
	pass.ReportVerdict(verdict, witness, f)
}

// ---------------------------------------------------------------- EC2-003

// PublicIPAssignment reports instances and subnets that hand out public
// IP addresses.
var PublicIPAssignment = &analysis.Rule{
	ID:       "SOC2-EC2-003",
	Title:    "Instances get public IP addresses",
	Severity: analysis.Warning,
	Controls: []string{"CC6.6"},
	Types:    []string{ec2InstanceType, ec2LaunchTemplateType, ec2SubnetType},
	Doc: `An instance or launch template network interface sets ` + "`AssociatePublicIpAddress: true`" + `, or a subnet
sets ` + "`MapPublicIpOnLaunch: true`" + ` so that every instance launched in it gets a public address. A subnet is
reported as a warning when it looks private (its name or Name tag says private, internal, isolated, data or
database) or when its route table has no route to an internet gateway, and as info when it is a genuine
public subnet.

**Why an auditor cares.** Boundary protection (CC6.6) is easier to show when instances are reachable only
through known entry points. An instance with a public address is one security group change away from being
exposed, and a private subnet that hands out public addresses is a design error waiting for a route.

**How to fix.** Set ` + "`AssociatePublicIpAddress: false`" + ` or ` + "`MapPublicIpOnLaunch: false`" + `, place instances in
private subnets, and reach the internet through a NAT gateway and serve it through a load balancer. Changing an
instance's network interfaces replaces the instance.`,
	Check: checkPublicIPAssignment,
}

var ec2PrivateName = regexp.MustCompile(`(?i)private|internal|isolated|\bdata|database|\bdb|backend`)

func checkPublicIPAssignment(pass *analysis.Pass) {
	r, t := pass.Resource, pass.Template
	isTrue := func(a template.Alt) bool {
		b, ok := a.Bool()
		return ok && b
	}
	switch r.Type {
	case ec2SubnetType:
		prop := r.Property("MapPublicIpOnLaunch")
		verdict, witness := t.Eval(prop).Judge(isTrue)
		if verdict == template.Pass {
			return
		}
		f := analysis.Finding{Span: prop.Span}
		private, why := subnetLooksPrivate(pass, r)
		fix := pass.NewFix("Set MapPublicIpOnLaunch: false", func(b *edit.Builder) { b.Replace(prop, edit.Bool(false)) })
		if private {
			f.Message = "subnet " + r.Name + " gives every instance a public IP address but " + why + ": set MapPublicIpOnLaunch to false"
		} else {
			f.Severity = analysis.Info
			f.Message = "subnet " + r.Name + " gives every instance launched in it a public IP address: launch instances in private subnets and set MapPublicIpOnLaunch to false"
			fix.Title += " (instances launched here lose their public address)"
			fix.Unsafe = true
		}
		if prop.IsScalar() {
			f.Fixes = []analysis.Fix{fix}
		}
		pass.ReportVerdict(verdict, witness, f)
	case ec2InstanceType, ec2LaunchTemplateType:
		list := r.Property("NetworkInterfaces")
		if r.Type == ec2LaunchTemplateType {
			list = r.PropertyPath("LaunchTemplateData", "NetworkInterfaces")
		}
		for _, ni := range list.List() {
			prop := ni.Get("AssociatePublicIpAddress")
			verdict, witness := t.Eval(prop).Judge(isTrue)
			if verdict == template.Pass {
				continue
			}
			f := analysis.Finding{
				Span:    prop.Span,
				Message: ec2Kind(r) + " " + r.Name + " gives its network interface a public IP address: set AssociatePublicIpAddress to false and reach it through a load balancer or NAT",
			}
			if prop.IsScalar() {
				build := func(b *edit.Builder) { b.Replace(prop, edit.Bool(false)) }
				if r.Type == ec2InstanceType {
					f.Fixes = []analysis.Fix{ec2Unsafe(pass.NewFix("Set AssociatePublicIpAddress: false (replaces the instance)", build))}
				} else {
					f.Fixes = []analysis.Fix{pass.NewFix("Set AssociatePublicIpAddress: false", build)}
				}
			}
			pass.ReportVerdict(verdict, witness, f)
		}
	}
}

// subnetRoutes is the template-wide index of subnets' route tables and the
// route tables that route to an internet gateway.
type subnetRoutes struct {
	tables map[*template.Resource][]*template.Resource // subnet -> associated route tables
	igw    map[*template.Resource]bool                 // route table -> has a route to an internet gateway
}

func subnetRouting(pass *analysis.Pass) *subnetRoutes {
	return pass.Memo("ec2SubnetRoutes", func() any {
		t := pass.Template
		s := &subnetRoutes{tables: map[*template.Resource][]*template.Resource{}, igw: map[*template.Resource]bool{}}
		for _, r := range resourcesOfTypes(t, "AWS::EC2::SubnetRouteTableAssociation", "AWS::EC2::Route") {
			switch r.Type {
			case "AWS::EC2::SubnetRouteTableAssociation":
				sub := ec2Resolve(pass, r.Property("SubnetId"), ec2SubnetType)
				rt := ec2Resolve(pass, r.Property("RouteTableId"), "AWS::EC2::RouteTable")
				if sub != nil && rt != nil {
					s.tables[sub] = append(s.tables[sub], rt)
				}
			case "AWS::EC2::Route":
				rt := ec2Resolve(pass, r.Property("RouteTableId"), "AWS::EC2::RouteTable")
				gw := r.Property("GatewayId")
				if rt != nil && (ec2Resolve(pass, gw, ec2IGWType) != nil || strings.HasPrefix(gw.Text(), "igw-")) {
					s.igw[rt] = true
				}
			}
		}
		return s
	}).(*subnetRoutes)
}

// subnetLooksPrivate reports whether a subnet that maps public IPs is meant
// to be private, and why.
func subnetLooksPrivate(pass *analysis.Pass, sub *template.Resource) (bool, string) {
	if ec2PrivateName.MatchString(sub.Name) {
		return true, "its name says it is private"
	}
	if name := tagValue(sub, "Name"); ec2PrivateName.MatchString(name) {
		return true, "its Name tag (" + name + ") says it is private"
	}
	routes := subnetRouting(pass)
	tables := routes.tables[sub]
	if len(tables) == 0 {
		if ec2Resolve(pass, sub.Property("VpcId"), ec2VPCType) != nil {
			return true, "it uses the VPC's main route table, which has no route to an internet gateway"
		}
		return false, ""
	}
	for _, rt := range tables {
		if routes.igw[rt] {
			return false, ""
		}
	}
	return true, "its route table " + tables[0].Name + " has no route to an internet gateway"
}

var ec2Rules = []*analysis.Rule{
	SGWorldOpenPorts, SGWorldOpenAdmin, SGSourceParameter, SGWebPortsOnCompute, SGRuleDescription,
	EBSEncryption, IMDSv2Required, PublicIPAssignment,
}
