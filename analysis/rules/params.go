package rules

import (
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strings"

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
	evidence := environmentLiterals(pass, false)
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
			// The places are related locations, not line numbers in the
			// message: a message must not change when lines move elsewhere.
			Message: fmt.Sprintf("the template hardcodes its stage in %d %s (first: %q) but has no %s parameter",
				len(evidence), plural(len(evidence), "place"), evidence[0].Value, name),
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

// stageLiteral is a literal that names a stage: the value of an
// environment tag, or a literal name (a property ending in "Name") that
// contains a stage word such as prod or staging.
type stageLiteral struct {
	Value string
	Span  template.Span // relative to the resource's key in stageLiterals' values, else absolute
	Tag   bool
}

// stageLiterals are each resource's stage literals, in document order.
var stageLiterals = &analysis.ResourceFact{Key: "stageLiterals", Compute: func(pass *analysis.Pass) any {
	r := pass.Resource
	var out []stageLiteral
	for _, n := range environmentTags(r, pass.Options.EnvironmentParameter) {
		out = append(out, stageLiteral{Value: n.Value, Span: analysis.Relative(r, n.Span), Tag: true})
	}
	if r.Properties != nil && r.Properties.Kind == template.Mapping {
		for _, p := range r.Properties.Pairs {
			k := p.Key.Value
			if len(k) > 4 && k[len(k)-4:] == "Name" && isLiteral(p.Value) && envWord.MatchString(p.Value.Value) {
				out = append(out, stageLiteral{Value: p.Value.Value, Span: analysis.Relative(r, p.Value.Span)})
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Span.Start < out[j].Span.Start })
	return out
}}

// environmentLiterals returns the template's stage literals (tagsOnly: the
// environment tags only), in document order, with their spans in the
// document.
func environmentLiterals(pass *analysis.Pass, tagsOnly bool) []stageLiteral {
	var out []stageLiteral
	for _, g := range pass.Gather(stageLiterals) {
		for _, l := range g.Value.([]stageLiteral) {
			if l.Tag || !tagsOnly {
				l.Span = g.Span(l.Span)
				out = append(out, l)
			}
		}
	}
	return out
}

const (
	vpcType          = "AWS::EC2::VPC"
	subnetType       = "AWS::EC2::Subnet"
	vpcCidrBlockType = "AWS::EC2::VPCCidrBlock"
)

// vpcCidrPattern is the AllowedPattern of a VPC CIDR parameter (F12).
const vpcCidrPattern = `^(\d{1,3}\.){3}\d{1,3}/(1[6-9]|2[0-8])$`

// HardcodedCidr reports VPC and subnet CIDR blocks written as literals.
var HardcodedCidr = &analysis.Rule{
	ID:       "SOC2-PARAM-003",
	Title:    "VPC or subnet CIDR is hardcoded",
	Severity: analysis.Info,
	Controls: []string{"CC8.1", "CC6.6"},
	Types:    []string{vpcType, subnetType, vpcCidrBlockType},
	Doc: `A VPC, subnet or additional VPC CIDR block has its address range written as a literal. Every
deployment of the template then claims the same range: a staging and a production VPC that overlap cannot be
peered or routed through a transit gateway, and changing the plan means editing each subnet by hand.

**Why an auditor cares.** Network segmentation (CC6.6) is easier to show, and to keep, when the address
plan is an explicit input reviewed with each deployment rather than copies of literals; one parameterised
template promoted between environments is the change-management evidence of CC8.1.

**How to fix.** Put the VPC range in a parameter (` + "`VpcCidr`" + `, with an ` + "`AllowedPattern`" + `) and derive the
subnets from it: ` + "`CidrBlock: !Select [1, !Cidr [!Ref VpcCidr, 4, 8]]`" + `. The quick fix adds the parameter
with the current range as its default and rewrites subnets to the ` + "`!Cidr`" + ` slice that yields the same range,
so the deployed network does not change.`,
	Check: checkHardcodedCidr,
}

func checkHardcodedCidr(pass *analysis.Pass) {
	r := pass.Resource
	n := r.Property("CidrBlock")
	if !isLiteral(n) {
		return
	}
	prefix, err := netip.ParsePrefix(n.Value)
	if err != nil || !prefix.Addr().Is4() {
		return
	}
	f := analysis.Finding{Span: n.Span}
	switch r.Type {
	case vpcType, vpcCidrBlockType:
		name := cidrParameterName(pass, r)
		what := "VPC "
		if r.Type == vpcCidrBlockType {
			what = "VPC CIDR block "
		}
		f.Message = what + r.Name + " hardcodes its range " + n.Value + ": take it from a parameter such as " + name + " so that each deployment can get its own address space"
		f.Fixes = []analysis.Fix{pass.NewFix("Move "+n.Value+" to a parameter "+name, func(b *edit.Builder) {
			useCidrParameter(pass, b, r)
		})}
	case subnetType:
		f.Message = "subnet " + r.Name + " hardcodes its range " + n.Value + ": derive it from the VPC's range with !Select and !Cidr"
		if vpc, index, count, bits, ok := subnetSlice(pass, r, prefix); ok {
			f.Fixes = []analysis.Fix{pass.NewFix(fmt.Sprintf("Derive the range with !Select [%d, !Cidr [...]]", index), func(b *edit.Builder) {
				param := useCidrParameter(pass, b, vpc)
				b.Replace(n, edit.Fn("Fn::Select", edit.List(edit.Int(index),
					edit.Fn("Fn::Cidr", edit.List(edit.Ref(param), edit.Int(count), edit.Int(bits))))))
			})}
		}
	}
	pass.Report(f)
}

// cidrParameterName is the parameter that holds a VPC's (or a CIDR block's)
// range: the parameter its CidrBlock already refers to, else VpcCidr for the
// template's only VPC, else <LogicalId>Cidr.
func cidrParameterName(pass *analysis.Pass, r *template.Resource) string {
	t := pass.Template
	n := r.Property("CidrBlock")
	if p := t.Parameter(refTarget(n)); p != nil {
		return p.Name
	}
	base := r.Name + "Cidr"
	if r.Type == vpcType && len(t.ResourcesOfType(vpcType)) == 1 {
		base = "VpcCidr"
	}
	if p := t.Parameter(base); p != nil && p.Default.Text() == n.Text() {
		return base
	}
	return uniqueLogicalID(t, base)
}

// useCidrParameter makes a VPC (or CIDR block) take its range from its
// parameter, adding the parameter (defaulting to the current literal) when
// needed, and returns the parameter's name.
func useCidrParameter(pass *analysis.Pass, b *edit.Builder, r *template.Resource) string {
	t := pass.Template
	name := cidrParameterName(pass, r)
	n := r.Property("CidrBlock")
	if isLiteral(n) {
		if t.Parameter(name) == nil {
			b.AddEntry("Parameters", name, edit.Map(
				edit.KV{Key: "Type", Value: edit.Str("String")},
				edit.KV{Key: "Default", Value: edit.Str(n.Value)},
				edit.KV{Key: "AllowedPattern", Value: edit.Str(vpcCidrPattern)},
				edit.KV{Key: "Description", Value: edit.Str("Address range of " + r.Name)},
			))
		}
		b.Replace(n, edit.Ref(name))
	}
	return name
}

// vpcRange returns the range of a VPC: its literal CidrBlock, or the default
// of the parameter it refers to.
func vpcRange(t *template.Template, vpc *template.Resource) (netip.Prefix, bool) {
	n := vpc.Property("CidrBlock")
	text := n.Text()
	if p := t.Parameter(refTarget(n)); p != nil {
		text = p.Default.Text()
	}
	prefix, err := netip.ParsePrefix(text)
	return prefix, err == nil && prefix.Addr().Is4() && prefix.Masked() == prefix
}

// subnetSlice finds the !Cidr slice that yields a subnet's literal range
// within its VPC: the VPC, the index, the count (the highest index among the
// VPC's subnets of that size, plus one, so that all its subnets agree) and
// the host bits.
func subnetSlice(pass *analysis.Pass, subnet *template.Resource, prefix netip.Prefix) (vpc *template.Resource, index, count, bits int, ok bool) {
	t := pass.Template
	vpc = resolveOfType(pass, subnet.Property("VpcId"), vpcType)
	if vpc == nil {
		return nil, 0, 0, 0, false
	}
	index, ok = sliceIndex(t, vpc, prefix)
	if !ok {
		return nil, 0, 0, 0, false
	}
	bits = 32 - prefix.Bits()
	count = subnetCounts(pass)[cidrKey{vpc, bits}]
	return vpc, index, count, bits, count > index && count <= 256
}

// sliceIndex is the position of prefix among the blocks of its size in the
// VPC's range.
func sliceIndex(t *template.Template, vpc *template.Resource, prefix netip.Prefix) (int, bool) {
	vr, ok := vpcRange(t, vpc)
	if !ok || prefix.Masked() != prefix || prefix.Bits() < vr.Bits() || !vr.Contains(prefix.Addr()) {
		return 0, false
	}
	a, v := prefix.Addr().As4(), vr.Addr().As4()
	offset := (uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])) -
		(uint32(v[0])<<24 | uint32(v[1])<<16 | uint32(v[2])<<8 | uint32(v[3]))
	return int(offset >> (32 - prefix.Bits())), true
}

type cidrKey struct {
	vpc  *template.Resource
	bits int
}

// subnetCounts maps each VPC and subnet size to one more than the highest
// slice index of its literal subnets, computed once per analysis.
func subnetCounts(pass *analysis.Pass) map[cidrKey]int {
	return pass.Memo("subnetCounts", func() any {
		t := pass.Template
		out := map[cidrKey]int{}
		for _, s := range t.ResourcesOfType(subnetType) {
			prefix, err := netip.ParsePrefix(s.Property("CidrBlock").Text())
			vpc := resolveOfType(pass, s.Property("VpcId"), vpcType)
			if err != nil || vpc == nil {
				continue
			}
			if i, ok := sliceIndex(t, vpc, prefix); ok {
				k := cidrKey{vpc, 32 - prefix.Bits()}
				out[k] = max(out[k], i+1)
			}
		}
		return out
	}).(map[cidrKey]int)
}

// regionScoped is a resource that only one region of a multi-region
// deployment should create or configure, and why.
type regionScoped struct {
	r   *template.Resource
	why string
}

// regionScopedResources returns the multi-region trails and the recorders
// that record global resource types, in document order.
func regionScopedResources(pass *analysis.Pass) []regionScoped {
	return pass.Memo("regionScopedResources", func() any {
		t := pass.Template
		var out []regionScoped
		for _, r := range resourcesOfTypes(t, trailType, "AWS::Config::ConfigurationRecorder") {
			switch r.Type {
			case trailType:
				if mayBeTrue(t, r.Property("IsMultiRegionTrail")) {
					out = append(out, regionScoped{r, "trail " + r.Name + " records every region"})
				}
			case "AWS::Config::ConfigurationRecorder":
				if mayBeTrue(t, r.PropertyPath("RecordingGroup", "IncludeGlobalResourceTypes")) {
					out = append(out, regionScoped{r, "Config recorder " + r.Name + " records global resource types"})
				}
			}
		}
		return out
	}).([]regionScoped)
}

// mayBeTrue reports whether some known value of n is true.
func mayBeTrue(t *template.Template, n *template.Node) bool {
	v, _ := t.Eval(n).Judge(func(a template.Alt) bool { b, ok := a.Bool(); return ok && b })
	return v != template.Pass
}

// isMultiRegion reports whether the template says it is deployed to several
// regions: explicitly (Metadata: {soc2ls: {deployment: multi-region}}), or
// by a condition that selects regions (!Equals [!Ref 'AWS::Region', ...]).
func isMultiRegion(t *template.Template) bool {
	if strings.EqualFold(t.Section("Metadata").Path("soc2ls", "deployment").Text(), "multi-region") {
		return true
	}
	for _, c := range t.AllConditions() {
		if conditionSelectsRegion(t, c.Name, 0) {
			return true
		}
	}
	return false
}

// conditionSelectsRegion reports whether a condition only holds in chosen
// regions: it is, or requires through Fn::And and Condition, an Fn::Equals
// on AWS::Region.
func conditionSelectsRegion(t *template.Template, name string, depth int) bool {
	c := t.Condition(name)
	if c == nil || depth > 16 {
		return false
	}
	var selects func(n *template.Node) bool
	selects = func(n *template.Node) bool {
		switch {
		case n.IsFn("Condition"):
			return conditionSelectsRegion(t, n.Arg.Text(), depth+1)
		case n.IsFn("Fn::And"):
			for _, it := range n.Arg.List() {
				if selects(it) {
					return true
				}
			}
		case n.IsFn("Fn::Equals"):
			for _, it := range n.Arg.List() {
				if refTarget(it) == "AWS::Region" {
					return true
				}
			}
		}
		return false
	}
	return selects(c.Value)
}

// PrimaryRegionMissing reports templates with account-global resources but
// no PrimaryRegion parameter.
var PrimaryRegionMissing = &analysis.Rule{
	ID:       "SOC2-PARAM-002",
	Title:    "No PrimaryRegion parameter for account-global resources",
	Severity: analysis.Info,
	Controls: []string{"CC8.1", "A1.3", "CC7.2"},
	Doc: `The template is meant for several regions (its conditions select on ` + "`AWS::Region`" + `, or its
` + "`Metadata`" + ` says ` + "`soc2ls: {deployment: multi-region}`" + `, as for StackSets) and creates something that one
region should own for the whole account: a multi-region trail, a Config recorder that records global
resource types such as IAM, or named IAM resources. Yet it has no ` + "`PrimaryRegion`" + ` parameter to say which
region that is. Deployed to a second region, the stack duplicates the trail and the global recording, or
collides on IAM names. Single-region templates are not reported.

**Why an auditor cares.** Monitoring (CC7.2) should cover the account once and completely; duplicated trails
and recordings blur the evidence and its cost. Recovery (A1.3) means deploying the same template in another
region; a named primary region in a parameter, reviewed like any change (CC8.1), makes that a parameter
change instead of an edit.

**How to fix.** Add a ` + "`PrimaryRegion`" + ` parameter (with an ` + "`AllowedPattern`" + `) and an
` + "`IsPrimaryRegion: !Equals [!Ref 'AWS::Region', !Ref PrimaryRegion]`" + ` condition; create the multi-region trail
only where it holds and record global types with ` + "`!If [IsPrimaryRegion, true, false]`" + `. The quick fix does this;
check its default region before deploying, since a wrong one removes the trail from the region it runs in.`,
	Check: checkPrimaryRegionParameter,
}

func checkPrimaryRegionParameter(pass *analysis.Pass) {
	t, o := pass.Template, pass.Options
	if t.Parameter(o.PrimaryRegionParameter) != nil {
		return
	}
	if !isMultiRegion(t) {
		return
	}
	// Resources already limited to chosen regions (by a condition on a
	// literal region, which TPL-001 reports) are not counted again.
	regional := func(r *template.Resource) bool {
		return r.Condition != "" && conditionSelectsRegion(t, r.Condition, 0)
	}
	var scoped []regionScoped
	for _, s := range regionScopedResources(pass) {
		if regional(s.r) {
			continue
		}
		if n := s.r.PropertyPath("RecordingGroup", "IncludeGlobalResourceTypes"); s.r.Type != trailType && n.IsFn("Fn::If") {
			if items := n.Arg.List(); len(items) == 3 && conditionSelectsRegion(t, items[0].Text(), 0) {
				continue
			}
		}
		scoped = append(scoped, s)
	}
	for _, r := range resourcesOfTypes(t, iamNamedTypes...) {
		if p := iamNameProperty[r.Type]; p != "" && r.Property(p) != nil && !regional(r) {
			scoped = append(scoped, regionScoped{r, "IAM resource " + r.Name + " has an account-wide name"})
		}
	}
	if len(scoped) == 0 {
		return
	}
	related := make([]analysis.Related, 0, len(scoped))
	for _, s := range scoped {
		related = append(related, analysis.Related{Span: s.r.Key.Span, Message: s.why})
	}
	def := primaryRegionDefault(t)
	fix := pass.NewFix("Add "+o.PrimaryRegionParameter+" (default "+def+": check it) and create global resources only there", func(b *edit.Builder) {
		primary := ensureCondition(pass, b, condIsPrimaryRegion)
		for _, s := range scoped {
			gatePrimary(pass, b, s.r, primary)
		}
	})
	fix.Unsafe = true
	pass.Report(analysis.Finding{
		Span: pass.SectionSpan("Parameters"),
		Message: scoped[0].why + " but the template has no " + o.PrimaryRegionParameter +
			" parameter: name the region that owns account-global resources so that other regions do not duplicate them",
		Related: related,
		Fixes:   []analysis.Fix{fix},
	})
}

// gatePrimary makes a region-scoped resource belong to the primary region:
// a trail gets the condition (combined with its own), a recorder records
// global types only there. Other resources are left alone.
func gatePrimary(pass *analysis.Pass, b *edit.Builder, r *template.Resource, primary string) {
	switch r.Type {
	case trailType:
		gateResource(pass, b, r, primary)
	case "AWS::Config::ConfigurationRecorder":
		if n := r.PropertyPath("RecordingGroup", "IncludeGlobalResourceTypes"); n.IsScalar() {
			b.Replace(n, edit.If(primary, edit.Bool(true), edit.Bool(false)))
		}
	}
}

// iamNameProperty is the property that gives an IAM resource its
// account-wide name.
var iamNameProperty = map[string]string{
	"AWS::IAM::Role":            "RoleName",
	"AWS::IAM::ManagedPolicy":   "ManagedPolicyName",
	"AWS::IAM::User":            "UserName",
	"AWS::IAM::Group":           "GroupName",
	"AWS::IAM::InstanceProfile": "InstanceProfileName",
}

// singleton describes an account or region singleton and the toggle that
// gates it.
type singleton struct {
	label    string   // how messages name it
	patterns []string // names of parameters that toggle it (toggleParameter)
	param    string   // the F12 toggle parameter a fix adds
	cond     string   // the F12 condition a fix adds
}

const (
	securityHubType        = "AWS::SecurityHub::Hub"
	paramEnableSecurityHub = "EnableSecurityHub"
	condCreateSecurityHub  = "CreateSecurityHub"
)

var (
	trailToggles       = []string{`^(enable|create|deploy|manage).*trail`, `trail.*(enabled|exists)$`}
	configToggles      = []string{`^(enable|create|deploy|manage).*config`, `config.*(enabled|exists|setup)$`, `deliverychannelexists`, `recorderexists`, `alreadyhave.*config`}
	guardDutyToggles   = []string{`^(enable|create|deploy|manage).*guardduty`, `guardduty.*(enabled|exists)$`, `detectorexists`}
	securityHubToggles = []string{`^(enable|create|deploy|manage).*securityhub`, `securityhub.*(enabled|exists)$`}
)

var singletons = map[string]singleton{
	trailType:                            {"trail", trailToggles, paramEnableCloudTrail, condCreateCloudTrail},
	"AWS::Config::ConfigurationRecorder": {"Config recorder", configToggles, paramEnableAWSConfig, condCreateConfig},
	"AWS::Config::DeliveryChannel":       {"Config delivery channel", configToggles, paramEnableAWSConfig, condCreateConfig},
	"AWS::GuardDuty::Detector":           {"GuardDuty detector", guardDutyToggles, paramEnableGuardDuty, condCreateGuardDuty},
	securityHubType:                      {"Security Hub", securityHubToggles, paramEnableSecurityHub, condCreateSecurityHub},
}

// SingletonNotToggled reports account and region singletons created without
// a condition on an Enable* parameter.
var SingletonNotToggled = &analysis.Rule{
	ID:       "SOC2-PARAM-004",
	Title:    "Account or region singleton has no Enable toggle",
	Severity: analysis.Warning,
	Controls: []string{"CC8.1", "CC7.2"},
	Types:    []string{trailType, "AWS::Config::ConfigurationRecorder", "AWS::Config::DeliveryChannel", "AWS::GuardDuty::Detector", securityHubType},
	Doc: `A CloudTrail trail, AWS Config recorder or delivery channel, GuardDuty detector or Security Hub is
created without a ` + "`Condition`" + ` that depends on an Enable parameter (` + "`EnableCloudTrail`" + `, ` + "`EnableAWSConfig`" + `,
` + "`EnableGuardDuty`" + `, ` + "`EnableSecurityHub`" + `). A region holds one Config recorder, one delivery channel, one
detector and one Security Hub: deploying the stack into an account where another stack, the organization or
Control Tower already created them fails, and a second trail duplicates an organization trail's events and
cost.

**Why an auditor cares.** A baseline that cannot be deployed where the services are already managed gets
copied and edited by hand, which breaks the single reviewed template that change management (CC8.1) relies
on; worse, the monitoring (CC7.2) ends up owned by nobody in particular. A toggle makes the ownership an
explicit, reviewable parameter.

**How to fix.** Add a ` + "`'true'`" + `/` + "`'false'`" + ` parameter such as ` + "`EnableAWSConfig`" + ` with a condition
` + "`CreateConfig: !Equals [!Ref EnableAWSConfig, 'true']`" + ` and set ` + "`Condition: CreateConfig`" + ` on the resource and
on the resources and outputs that refer to it. The quick fix does this, combining an existing condition
with the toggle (` + "`!And`" + `).`,
	Check: checkSingletonToggle,
}

func checkSingletonToggle(pass *analysis.Pass) {
	t, r := pass.Template, pass.Resource
	sg := singletons[r.Type]
	toggle := toggleParameter(t, sg.patterns...)
	if toggle != nil && r.Condition != "" {
		// Any of the template's toggles for this service will do.
		for _, p := range t.AllParameters() {
			if isToggleName(p.Name, sg.patterns) && conditionUses(t, r.Condition, p.Name, 0) {
				return
			}
		}
	}
	f := analysis.Finding{
		Span: pass.KeySpan(),
		Message: sg.label + " " + r.Name + " is created unconditionally: an account or region that already has one makes the stack fail or duplicate it; " +
			"gate it with a condition on an " + sg.param + " parameter",
	}
	if r.Condition != "" && r.ConditionNode != nil {
		f.Span = r.ConditionNode.Span
		f.Message = sg.label + " " + r.Name + " is gated by " + r.Condition + ", which does not depend on an Enable parameter: " +
			"add an " + sg.param + " toggle so that stacks can leave it to whoever already manages it"
	}
	fix := gateFix(pass, r, "Gate "+r.Name+" with an "+sg.param+" toggle", func(b *edit.Builder) string {
		return toggleCondition(pass, b, sg)
	})
	if toggle != nil && toggle.Name != sg.param {
		// The template has a toggle of its own whose meaning (enable, or
		// "already exists") the fix cannot tell.
		fix.Title += " (the template already has " + toggle.Name + ": check which one to keep)"
		fix.Unsafe = true
		f.Message += " (parameter " + toggle.Name + " looks like one but " + r.Name + " does not depend on it)"
	}
	f.Fixes = []analysis.Fix{fix}
	pass.Report(f)
}

// toggleCondition makes sure the toggle's condition exists and returns its
// name: an existing condition on the template's toggle parameter, or the
// F12 one (and a local one for Security Hub, which F12 lacks).
func toggleCondition(pass *analysis.Pass, b *edit.Builder, sg singleton) string {
	t := pass.Template
	if sg.cond != condCreateSecurityHub {
		return ensureCondition(pass, b, sg.cond)
	}
	if t.Condition(sg.cond) != nil {
		return sg.cond
	}
	if t.Parameter(sg.param) == nil {
		b.AddEntry("Parameters", sg.param, toggle("Enable Security Hub in this stack (false when the organization or another stack manages it)"))
	}
	b.AddEntry("Conditions", sg.cond, edit.Equals(edit.Ref(sg.param), edit.Str("true")))
	return sg.cond
}

// conditionUses reports whether a condition depends on a parameter (or a
// pseudo parameter such as AWS::Region), directly or through the conditions
// it refers to.
func conditionUses(t *template.Template, cond, param string, depth int) bool {
	c := t.Condition(cond)
	if c == nil || depth > 16 {
		return false
	}
	found := false
	c.Value.Walk(func(n *template.Node) bool {
		switch {
		case found:
			return false
		case n.IsFn("Ref") && n.Arg.Text() == param:
			found = true
		case n.IsFn("Condition"):
			found = conditionUses(t, n.Arg.Text(), param, depth+1)
		}
		return !found
	})
	return found
}

// gateFix builds the fix that puts a resource under a condition (the one
// cond returns) with gateResource. When the edits need a human check, the fix
// says why and is marked unsafe.
func gateFix(pass *analysis.Pass, r *template.Resource, title string, cond func(b *edit.Builder) string) analysis.Fix {
	review := ""
	fix := pass.NewFixNow(title, func(b *edit.Builder) {
		review = gateResource(pass, b, r, cond(b))
	})
	if review != "" {
		fix.Title += " (check " + review + ")"
		fix.Unsafe = true
	}
	return fix
}

// gateResource puts r under gate, combined with r's own condition if it has
// one, together with the resources and outputs that refer to it. It returns
// what needs a human check, or "": a referrer that already has another
// condition, or a second-level referrer the edits do not gate.
func gateResource(pass *analysis.Pass, b *edit.Builder, r *template.Resource, gate string) string {
	t := pass.Template
	review := ""
	if r.Condition != "" {
		gate = combinedCondition(pass, b, r.Condition, gate)
	}
	setCondition(b, r.Value, r.ConditionNode, gate)
	gated := map[string]bool{r.Name: true}
	for _, ref := range t.RefsTo(template.NSEntity, r.Name) {
		if gated[ref.Section+"/"+ref.From] || ref.From == r.Name {
			continue
		}
		gated[ref.Section+"/"+ref.From] = true
		var value, condNode *template.Node
		var current string
		switch ref.Section {
		case "Resources":
			x := t.Resource(ref.From)
			if x == nil {
				continue
			}
			value, condNode, current = x.Value, x.ConditionNode, x.Condition
			gated[x.Name] = true
		case "Outputs":
			for _, o := range t.AllOutputs() {
				if o.Name == ref.From {
					value = o.Value
					condNode = o.Value.Get("Condition")
					current = condNode.Text()
				}
			}
		default:
			continue
		}
		if value == nil || value.Kind != template.Mapping {
			continue
		}
		switch current {
		case "", r.Condition:
			setCondition(b, value, condNode, gate)
		case gate:
		default:
			review = ref.From + " has its own condition " + current
		}
	}
	// Second-level referrers would now refer to a resource that may not
	// exist: leave them to a human. (In name order: the review note is the
	// fix's title, which must not change from one run to the next.)
	for _, name := range slices.Sorted(maps.Keys(gated)) {
		if strings.Contains(name, "/") || name == r.Name {
			continue
		}
		for _, ref := range t.RefsTo(template.NSEntity, name) {
			if ref.Section == "Resources" && !gated[ref.From] || ref.Section == "Outputs" && !gated["Outputs/"+ref.From] {
				review = ref.From + " refers to " + name
			}
		}
	}
	return review
}

// setCondition sets the Condition attribute of a resource or output.
func setCondition(b *edit.Builder, value, current *template.Node, cond string) {
	if current != nil {
		b.Replace(current, edit.Str(cond))
		return
	}
	b.Insert(value, "Condition", edit.Str(cond))
}

// combinedCondition returns a condition that holds when both existing and
// gate hold: CreateTrailInPrimary for a trail gated by the primary region,
// else a new !And of the two.
func combinedCondition(pass *analysis.Pass, b *edit.Builder, existing, gate string) string {
	t := pass.Template
	if existing == gate {
		return gate
	}
	isToggle := func(c string) bool {
		return c == condCreateCloudTrail || c == equivalentCondition(pass, condCreateCloudTrail)
	}
	isPrimary := func(c string) bool {
		return c == condIsPrimaryRegion || c == equivalentCondition(pass, condIsPrimaryRegion)
	}
	if isToggle(gate) && isPrimary(existing) || isPrimary(gate) && isToggle(existing) {
		return ensureCondition(pass, b, condCreateTrailInPrimary)
	}
	name := uniqueLogicalID(t, gate+"And"+existing)
	b.AddEntry("Conditions", name, edit.And(edit.Condition(gate), edit.Condition(existing)))
	return name
}

// reusable describes a resource that deployments may prefer to bring from
// elsewhere, with the F12 parameter and condition that let them.
type reusable struct {
	label, param, cond, what string
}

var reusables = map[string]reusable{
	kmsKeyType:             {"KMS key", paramExistingKmsKeyArn, condCreateKmsKey, "a centrally managed key"},
	"AWS::EC2::NatGateway": {"NAT gateway", paramExistingNatGatewayID, condCreateNatGateway, "the network stack's NAT gateway"},
}

// NoReuseParameter reports KMS keys and NAT gateways that are always created.
var NoReuseParameter = &analysis.Rule{
	ID:       "SOC2-PARAM-005",
	Title:    "KMS key or NAT gateway cannot be brought from outside the stack",
	Severity: analysis.Info,
	Controls: []string{"CC8.1", "CC6.1"},
	Types:    []string{kmsKeyType, "AWS::EC2::NatGateway"},
	Doc: `A KMS key or NAT gateway is created unconditionally: the template offers no parameter to use an
existing one. Organisations that manage keys centrally (one audit key per account, keys owned by a security
team) or share NAT gateways from a network stack must then edit the template, or end up with a key per
stack that nobody governs.

**Why an auditor cares.** Key management is part of CC6.1: the key that protects audit data should be one
whose policy and rotation are controlled by its owners, not recreated by each workload. A template that can
take the existing key or gateway as a parameter is deployed unchanged everywhere, which keeps the change
evidence of CC8.1 simple.

**How to fix.** Add an ` + "`ExistingKmsKeyArn`" + ` parameter (default ` + "`''`" + `) and a condition
` + "`CreateKmsKey: !Equals [!Ref ExistingKmsKeyArn, '']`" + `, put the key under that condition and let consumers use
` + "`!If [CreateKmsKey, !GetAtt Key.Arn, !Ref ExistingKmsKeyArn]`" + `; likewise ` + "`ExistingNatGatewayId`" + ` and
` + "`CreateNatGateway`" + ` for a NAT gateway and its Elastic IP. The quick fix does this; with the defaults the deployed
stack does not change.`,
	Check: checkReuseParameter,
}

func checkReuseParameter(pass *analysis.Pass) {
	t, r := pass.Template, pass.Resource
	if r.Condition != "" {
		return
	}
	ru := reusables[r.Type]
	msg := ru.label + " " + r.Name + " is always created: add an " + ru.param + " parameter and a " + ru.cond +
		" condition so that a deployment can use " + ru.what
	if t.Parameter(ru.param) != nil {
		msg = ru.label + " " + r.Name + " is created even when " + ru.param + " names an existing one: put it under a " + ru.cond + " condition"
	}
	pass.Report(analysis.Finding{
		Span:    pass.KeySpan(),
		Message: msg,
		Fixes:   []analysis.Fix{reuseFix(pass, r, ru)},
	})
}

// reuseFix puts r under the reuse condition and makes its consumers fall
// back to the parameter: !Ref R and !GetAtt R.X become
// !If [Cond, <the same>, !Ref Param]; aliases, Elastic IPs that only the NAT
// gateway uses, and outputs are put under the condition too. References the
// fix cannot rewrite (inside Sub, DependsOn) make it a fix to review.
func reuseFix(pass *analysis.Pass, r *template.Resource, ru reusable) analysis.Fix {
	t := pass.Template
	review := ""
	fix := pass.NewFixNow("Add "+ru.param+" and create "+r.Name+" only when it is empty", func(b *edit.Builder) {
		cond := ensureCondition(pass, b, ru.cond)
		param := ensureParameter(pass, b, ru.param)
		setCondition(b, r.Value, nil, cond)
		if r.Type == "AWS::EC2::NatGateway" {
			if eip := resolveOfType(pass, r.Property("AllocationId"), "AWS::EC2::EIP"); eip != nil && eip.Condition == "" {
				for _, ref := range t.RefsTo(template.NSEntity, eip.Name) {
					if ref.From != r.Name {
						review = eip.Name + " is also used by " + ref.From
					}
				}
				setCondition(b, eip.Value, nil, cond)
			}
		}
		for _, ref := range t.RefsTo(template.NSEntity, r.Name) {
			switch {
			case ref.Section == "Outputs":
				for _, o := range t.AllOutputs() {
					if o.Name == ref.From && o.Value.Kind == template.Mapping {
						if c := o.Value.Get("Condition"); c == nil {
							setCondition(b, o.Value, nil, cond)
						} else if c.Text() != cond {
							review = "output " + o.Name + " has its own condition"
						}
					}
				}
			case ref.Section != "Resources" || ref.From == r.Name:
			case ref.Kind == template.RefRef || ref.Kind == template.RefGetAtt:
				x := t.Resource(ref.From)
				if x == nil {
					continue
				}
				if x.Type == "AWS::KMS::Alias" && x.Condition == "" {
					setCondition(b, x.Value, nil, cond)
					continue
				}
				if wrappedIn(x, ref.Node, cond) {
					continue
				}
				orig := edit.Ref(r.Name)
				if ref.Kind == template.RefGetAtt {
					orig = edit.GetAtt(r.Name, ref.Attr)
				}
				b.Replace(ref.Node, edit.If(cond, orig, edit.Ref(param)))
			default:
				review = ref.From + " refers to " + r.Name + " with " + ref.Kind.String()
			}
		}
	})
	if review != "" {
		fix.Title += " (check: " + review + ")"
		fix.Unsafe = true
	}
	return fix
}

// wrappedIn reports whether node is already a branch of an
// Fn::If [cond, ...] inside resource x.
func wrappedIn(x *template.Resource, node *template.Node, cond string) bool {
	found := false
	x.Value.Walk(func(n *template.Node) bool {
		if n.IsFn("Fn::If") && n.Arg.Kind == template.Sequence && len(n.Arg.Items) == 3 && n.Arg.Items[0].Text() == cond {
			if n.Arg.Items[1] == node || n.Arg.Items[2] == node {
				found = true
			}
		}
		return !found
	})
	return found
}

// secretName matches parameter names that say they hold a secret.
var secretName = regexp.MustCompile(`(?i)(pass(word|wd|phrase)|secret|token|api[-_]?key|private[-_]?key|credential)|(^|[^a-z])pass([^a-z]|$)|Pass$`)

// secretMetaSuffix matches names that describe a secret without being one:
// its ARN, name, length, rotation period...
var secretMetaSuffix = regexp.MustCompile(`(?i)(arns?|ids?|names?|length|ttl|policy|days|hours|version|path|prefix|enabled|rotation|type|kind|count|duration|expiry|expiration|lifetime|parameter|param|location|uri|url|endpoint|source|role)$`)

// isSecretParameter reports whether a parameter's name and type say it
// holds a secret value (a password, token, key), not a reference to one or a
// setting about one (ManagePassword: 'true').
func isSecretParameter(p *template.Parameter) bool {
	if strings.HasPrefix(p.Type, "AWS::") || p.Type == "Number" || p.Type == "List<Number>" {
		return false
	}
	if len(p.AllowedValues) > 0 {
		return false // a switch or a choice from a list, not a secret
	}
	return secretName.MatchString(p.Name) && !secretMetaSuffix.MatchString(p.Name)
}

// secretProperty matches resource properties that take a secret value.
var secretProperty = newSuffixMatcher("password", "passwd", "passphrase", "secretstring", "authtoken", "privatekey", "apikey", "secretaccesskey", "clientsecret")

// SecretParameterExposed reports parameters that hold secrets without
// NoEcho, or with a default value.
var SecretParameterExposed = &analysis.Rule{
	ID:       "SOC2-PARAM-006",
	Title:    "Secret parameter is not NoEcho, or has a default",
	Severity: analysis.Error,
	Controls: []string{"CC6.1"},
	Doc: `A parameter whose name says it holds a secret (a password, token, API key, private key or credential),
or that is passed to a password-like property such as ` + "`MasterUserPassword`" + `, lacks ` + "`NoEcho: true`" + `, or
carries its value in a ` + "`Default`" + `. Without NoEcho, CloudFormation shows the value to anyone who can describe
the stack, in the console, the API and change sets; a default puts the secret in the template, and so in source
control and every copy of it.

**Why an auditor cares.** Logical access (CC6.1) depends on credentials being known only to those who need
them. A database password readable by every engineer with ` + "`cloudformation:DescribeStacks`" + `, or committed
to a repository, is a credential outside any access control, and usually impossible to show was never misused.

**How to fix.** Set ` + "`NoEcho: true`" + ` and remove the ` + "`Default`" + `. Better, do not pass the secret at all: let
RDS manage it (` + "`ManageMasterUserPassword: true`" + `), generate it with a Secrets Manager secret, or read it at the
point of use with a ` + "`{{resolve:secretsmanager:...}}`" + ` dynamic reference. Names that describe a secret
rather than hold one (` + "`DbSecretArn`" + `, ` + "`PasswordLength`" + `) are not reported.`,
	Check: checkSecretParameters,
}

func checkSecretParameters(pass *analysis.Pass) {
	t := pass.Template
	reported := map[string]bool{}
	for _, p := range t.AllParameters() {
		if p.Value.Kind != template.Mapping || !isSecretParameter(p) {
			continue
		}
		reported[p.Name] = true
		reportNoEcho(pass, p, "parameter "+p.Name+" holds a secret but is not NoEcho: set NoEcho: true so that its value is masked in the console, the API and change sets", nil)
		if d := p.Default; d != nil && d.Kind != template.Null && !(d.Kind == template.Scalar && d.Value == "") {
			param := p
			pass.Report(analysis.Finding{
				Span: d.Span,
				Message: "parameter " + p.Name + " has a default value, so the secret is written in the template: remove the Default " +
					"and supply it at deploy time, or use a {{resolve:secretsmanager:...}} reference",
				Fixes: []analysis.Fix{unsafe(pass.NewFix("Remove the Default of "+p.Name+" (deployments must then supply it)", func(b *edit.Builder) {
					b.Delete(param.Value, "Default")
				}))},
			})
		}
	}
	// Parameters passed to password-like properties.
	for _, g := range pass.Gather(secretFlows) {
		for _, fl := range g.Value.([]secretFlow) {
			p := t.Parameter(fl.Param)
			if reported[fl.Param] || p.Value.Kind != template.Mapping {
				continue
			}
			reported[fl.Param] = true
			reportNoEcho(pass, p, "parameter "+fl.Param+" is passed to "+fl.Key+" of "+g.Name+" but is not NoEcho: set NoEcho: true so that its value is masked",
				[]analysis.Related{{Span: g.Span(fl.Span), Message: fl.Key + " of " + g.Name}})
		}
	}
}

// secretFlow is a parameter passed to a password-like property of a
// resource; Span is the property's value, relative to the resource's key.
type secretFlow struct {
	Param, Key string
	Span       template.Span
}

// secretFlows are the parameters each resource passes to password-like
// properties, in document order.
var secretFlows = &analysis.ResourceFact{Key: "secretFlows", Compute: func(pass *analysis.Pass) any {
	r, t := pass.Resource, pass.Template
	var out []secretFlow
	r.Properties.Walk(func(n *template.Node) bool {
		if n.Kind != template.Mapping {
			return true
		}
		for _, pair := range n.Pairs {
			k := pair.Key.Value
			if !secretProperty.MatchString(k) || strings.HasPrefix(k, "Manage") || strings.HasPrefix(k, "Generate") {
				continue
			}
			for _, name := range referencedParameters(t, pair.Value) {
				out = append(out, secretFlow{Param: name, Key: k, Span: analysis.Relative(r, pair.Value.Span)})
			}
		}
		return true
	})
	if len(out) == 0 {
		return nil
	}
	return out
}}

// reportNoEcho reports a secret parameter whose NoEcho is not true.
func reportNoEcho(pass *analysis.Pass, p *template.Parameter, msg string, related []analysis.Related) {
	noEcho := p.Value.Get("NoEcho")
	if on, ok := noEcho.Bool(); ok && on {
		return
	}
	f := analysis.Finding{Span: p.Key.Span, Message: msg, Related: related}
	switch {
	case noEcho == nil:
		f.Fixes = []analysis.Fix{pass.NewFix("Set NoEcho: true on "+p.Name, func(b *edit.Builder) { b.Insert(p.Value, "NoEcho", edit.Bool(true)) })}
	case noEcho.Kind == template.Scalar || noEcho.Kind == template.Null:
		f.Span = noEcho.Span
		if noEcho.Kind == template.Null {
			f.Span = p.Key.Span
		}
		f.Fixes = []analysis.Fix{pass.NewFix("Set NoEcho: true on "+p.Name, func(b *edit.Builder) { b.Set(p.Value, "NoEcho", edit.Bool(true)) })}
	}
	pass.Report(f)
}

func unsafe(f analysis.Fix) analysis.Fix {
	f.Unsafe = true
	return f
}

// referencedParameters returns the parameters a value refers to directly:
// Ref, either branch of Fn::If, and ${Param} variables of Fn::Sub.
func referencedParameters(t *template.Template, n *template.Node) []string {
	var out []string
	n.Walk(func(x *template.Node) bool {
		switch {
		case x.IsFn("Ref"):
			if t.Parameter(x.Arg.Text()) != nil {
				out = append(out, x.Arg.Text())
			}
		case x.IsFn("Fn::Sub"):
			parts, _, _ := template.Sub(x)
			for _, part := range parts {
				if part.Var != "" && t.Parameter(part.Var) != nil {
					out = append(out, part.Var)
				}
			}
		}
		return true
	})
	return out
}

// secretLiteral matches literal text that looks like a credential.
var secretLiteral = regexp.MustCompile(`AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----|(?i)(password|passwd|secret|token)\s*[=:]\s*[^\s${}]{4,}`)

// SecretInOutputs reports outputs that reveal a secret.
var SecretInOutputs = &analysis.Rule{
	ID:       "SOC2-PARAM-007",
	Title:    "Stack output reveals a secret",
	Severity: analysis.Error,
	Controls: []string{"CC6.1", "CC6.7"},
	Doc: `An entry of ` + "`Outputs`" + ` returns a secret: a NoEcho or secret-named parameter, the
` + "`SecretAccessKey`" + ` of an ` + "`AWS::IAM::AccessKey`" + `, a value read with ` + "`{{resolve:secretsmanager:...}}`" + ` or
` + "`{{resolve:ssm-secure:...}}`" + `, or literal text that looks like a credential. Outputs are not masked, even
for NoEcho parameters: anyone who can describe the stack reads them, and exported outputs reach every stack
of the account that imports them.

**Why an auditor cares.** A credential published as a stack output has escaped the controls that protect
it (CC6.1) and travels to readers and systems nobody approved (CC6.7).

**How to fix.** Remove the output. If consumers need to find the secret, output the ARN or name of the
Secrets Manager secret that holds it and let them read it with their own permissions. The quick fix removes
the output; when it is exported, other stacks may import it, so that fix needs a review.`,
	Check: checkSecretOutputs,
}

func checkSecretOutputs(pass *analysis.Pass) {
	t := pass.Template
	section := t.Section("Outputs")
	for _, o := range t.AllOutputs() {
		n, why := secretIn(t, o.Value.Get("Value"))
		if n == nil {
			continue
		}
		out := o
		fix := pass.NewFix("Remove output "+o.Name, func(b *edit.Builder) { b.Delete(section, out.Name) })
		if o.Value.Get("Export") != nil {
			fix.Title += " (it is exported: check which stacks import it)"
			fix.Unsafe = true
		}
		pass.Report(analysis.Finding{
			Span:    n.Span,
			Message: "output " + o.Name + " reveals " + why + ": outputs are never masked; remove it, or output the ARN of a secret that holds the value",
			Fixes:   []analysis.Fix{fix},
		})
	}
}

// secretIn returns the first node of an output value that reveals a secret,
// and what it reveals.
func secretIn(t *template.Template, v *template.Node) (*template.Node, string) {
	var found *template.Node
	why := ""
	param := func(name string) string {
		p := t.Parameter(name)
		switch {
		case p == nil:
			return ""
		case p.NoEcho:
			return "the NoEcho parameter " + name
		case isSecretParameter(p):
			return "the secret parameter " + name
		}
		return ""
	}
	accessKey := func(res, attr string) string {
		if r := t.Resource(res); r != nil && r.Type == "AWS::IAM::AccessKey" && attr == "SecretAccessKey" {
			return "the secret access key of " + res
		}
		return ""
	}
	literal := func(s string) string {
		switch {
		case strings.Contains(s, "{{resolve:secretsmanager:"), strings.Contains(s, "{{resolve:ssm-secure:"):
			return "a secret read with a dynamic reference"
		case secretLiteral.MatchString(s):
			return "text that looks like a credential"
		}
		return ""
	}
	v.Walk(func(n *template.Node) bool {
		if found != nil {
			return false
		}
		switch {
		case n.IsFn("Ref"):
			why = param(n.Arg.Text())
		case n.IsFn("Fn::GetAtt"):
			if res, attr, _, ok := template.GetAtt(n); ok {
				why = accessKey(res, attr)
			}
		case n.IsFn("Fn::Sub"):
			parts, _, ok := template.Sub(n)
			for _, part := range parts {
				if !ok || why != "" {
					break
				}
				if part.Var == "" {
					why = literal(part.Literal)
					continue
				}
				res, attr, _ := strings.Cut(part.Var, ".")
				if why = param(part.Var); why == "" {
					why = accessKey(res, attr)
				}
			}
			if why != "" {
				found = n
				return false
			}
			// The Sub template scalar was judged above; its variable map is
			// judged below.
			if n.Arg.Kind == template.Sequence && len(n.Arg.Items) > 1 {
				if m, w := secretIn(t, n.Arg.Items[1]); m != nil {
					found, why = m, w
				}
			}
			return false
		case n.IsScalar():
			why = literal(n.Value)
		}
		if why != "" {
			found = n
			return false
		}
		return true
	})
	return found, why
}

var paramRules = []*analysis.Rule{EnvironmentParameterMissing, PrimaryRegionMissing, HardcodedCidr, SingletonNotToggled, NoReuseParameter, SecretParameterExposed, SecretInOutputs}
