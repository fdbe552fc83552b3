package rules

import (
	"encoding/json"
	"strings"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/template"
)

const (
	detectorType       = "AWS::GuardDuty::Detector"
	eventsRuleType     = "AWS::Events::Rule"
	snsTopicPolicyType = "AWS::SNS::TopicPolicy"
)

// GuardDutyEnabled reports detectors created switched off.
var GuardDutyEnabled = &analysis.Rule{
	ID:       "SOC2-GD-001",
	Title:    "GuardDuty detector is disabled",
	Severity: analysis.Error,
	Controls: []string{"CC7.2", "CC6.8", "CC3.2", "CC7.1", "CC7.3", "CC4.2"},
	Types:    []string{detectorType},
	Doc: `A detector with ` + "`Enable: false`" + ` exists but analyses nothing: no findings for credential misuse,
crypto-mining, calls from known malicious addresses or data exfiltration. Because a region can hold only one
detector, it also blocks anyone else from turning GuardDuty on there.

**Why an auditor cares.** GuardDuty is the usual evidence for continuous threat detection: the anomaly
monitoring of CC7.2, the malware detection of CC6.8, and the threat data that risk assessment (CC3.2) and
vulnerability management (CC7.1) draw on. A disabled detector supports none of them.

**How to fix.** Set ` + "`Enable: true`" + `. If GuardDuty is managed by a delegated administrator account, do
not create a detector here at all: gate it with an ` + "`EnableGuardDuty`" + ` parameter set to false.`,
	Check: func(pass *analysis.Pass) {
		// Enable is required; a missing value is a schema error, not ours.
		checkTrueOf(pass, "GuardDuty detector", "Enable", false, "does not detect anything")
	},
}

// GuardDutyProtections reports detectors that leave out the protection
// plans, use both configuration styles, or publish updates slowly.
var GuardDutyProtections = &analysis.Rule{
	ID:       "SOC2-GD-002",
	Title:    "GuardDuty detector leaves out protection plans or publishes slowly",
	Severity: analysis.Info,
	Controls: []string{"CC6.8", "CC7.2", "CC7.3"},
	Types:    []string{detectorType},
	Doc: `A detector analyses CloudTrail management events, VPC flow logs and DNS logs. Everything else is a
protection plan turned on under ` + "`Features`" + `: S3 data events (` + "`S3_DATA_EVENTS`" + `), malware scans of EBS
volumes (` + "`EBS_MALWARE_PROTECTION`" + `), database sign-in anomalies (` + "`RDS_LOGIN_EVENTS`" + `), Lambda network
activity (` + "`LAMBDA_NETWORK_LOGS`" + `) and runtime monitoring for EKS, ECS and EC2 (` + "`RUNTIME_MONITORING`" + `).
The rule reports a detector with none of the first three, one that lacks the Lambda or runtime plan while
the template creates functions or clusters, one that sets both ` + "`Features`" + ` and the legacy
` + "`DataSources`" + ` (which conflict), and one without ` + "`FindingPublishingFrequency`" + `: updates to existing
findings then reach EventBridge only every six hours.

**Why an auditor cares.** Malware and intrusion detection (CC6.8, CC7.2) is only as wide as the data the
detector sees, and evaluating an event in time (CC7.3) needs its updates promptly.

**How to fix.** List the plans under ` + "`Features`" + ` with ` + "`Status: ENABLED`" + ` (and drop ` + "`DataSources`" + `), and set
` + "`FindingPublishingFrequency: FIFTEEN_MINUTES`" + `.`,
	Check: checkGuardDutyProtections,
}

// coreFeatures are the protection plans a detector should have whatever
// the template holds.
var coreFeatures = []string{"S3_DATA_EVENTS", "EBS_MALWARE_PROTECTION", "RDS_LOGIN_EVENTS"}

// feature is a protection plan to turn on, with the agent-management
// settings it needs.
type feature struct {
	name       string
	additional []string
}

// runtimeAgents maps resource types to the agent management a runtime
// monitoring plan needs for them.
var runtimeAgents = []struct{ typ, agent string }{
	{"AWS::EKS::Cluster", "EKS_ADDON_MANAGEMENT"},
	{"AWS::ECS::Cluster", "ECS_FARGATE_AGENT_MANAGEMENT"},
	{"AWS::ECS::Service", "ECS_FARGATE_AGENT_MANAGEMENT"},
}

// workloadFeatures returns the plans the template's workloads call for:
// Lambda network logs when it creates functions, runtime monitoring when
// it creates EKS or ECS clusters.
func workloadFeatures(t *template.Template) []feature {
	var out []feature
	if len(t.ResourcesOfType("AWS::Lambda::Function")) > 0 || len(t.ResourcesOfType("AWS::Serverless::Function")) > 0 {
		out = append(out, feature{name: "LAMBDA_NETWORK_LOGS"})
	}
	var agents []string
	for _, ra := range runtimeAgents {
		if len(t.ResourcesOfType(ra.typ)) > 0 && !contains(agents, ra.agent) {
			agents = append(agents, ra.agent)
		}
	}
	if len(agents) > 0 {
		out = append(out, feature{name: "RUNTIME_MONITORING", additional: agents})
	}
	return out
}

// enabledFeatures returns the plans a detector may have on, by name: from
// Features (a Status that is not definitely something other than ENABLED),
// and from the legacy DataSources.
func enabledFeatures(t *template.Template, d *template.Resource) map[string]bool {
	out := map[string]bool{}
	for _, f := range d.Property("Features").List() {
		name := f.Get("Name").Text()
		if name == "" {
			continue
		}
		verdict, _ := t.Eval(f.Get("Status")).Judge(func(a template.Alt) bool {
			return a.Kind == template.Absent || !strings.EqualFold(a.Text(), "ENABLED")
		})
		if verdict != template.Definite {
			out[name] = true
		}
	}
	ds := d.Property("DataSources")
	on := func(n *template.Node) bool {
		verdict, _ := t.Eval(n).Judge(falseOrAbsent(true))
		return verdict != template.Definite
	}
	if on(ds.Path("S3Logs", "Enable")) {
		out["S3_DATA_EVENTS"] = true
	}
	if on(ds.Path("MalwareProtection", "ScanEc2InstanceWithFindings", "EbsVolumes")) {
		out["EBS_MALWARE_PROTECTION"] = true
	}
	if on(ds.Path("Kubernetes", "AuditLogs", "Enable")) {
		out["EKS_AUDIT_LOGS"] = true
	}
	return out
}

func checkGuardDutyProtections(pass *analysis.Pass) {
	t, d := pass.Template, pass.Resource
	features, sources := d.Property("Features"), d.Property("DataSources")
	hasFeatures := features != nil && features.Kind != template.Null
	hasSources := sources != nil && sources.Kind != template.Null
	if hasFeatures && hasSources {
		pass.Report(analysis.Finding{
			Span:    d.Properties.Pair("DataSources").Key.Span,
			Message: "GuardDuty detector " + d.Name + " sets both Features and the legacy DataSources, which conflict: configure the protection plans under Features only",
		})
	}
	anchor := pass.KeySpan()
	if hasFeatures {
		anchor = d.Properties.Pair("Features").Key.Span
	}
	on := enabledFeatures(t, d)
	coreOn := false
	for _, name := range coreFeatures {
		coreOn = coreOn || on[name]
	}
	if !coreOn {
		want := make([]feature, 0, len(coreFeatures))
		for _, name := range coreFeatures {
			want = append(want, feature{name: name})
		}
		f := analysis.Finding{
			Span:    anchor,
			Message: "GuardDuty detector " + d.Name + " enables none of the S3, EBS malware and RDS login protection plans: add S3_DATA_EVENTS, EBS_MALWARE_PROTECTION and RDS_LOGIN_EVENTS to Features",
		}
		if fix, ok := featuresFix(pass, "Enable the S3, EBS malware and RDS login protection plans", want); ok {
			f.Fixes = []analysis.Fix{fix}
		}
		pass.Report(f)
	}
	for _, w := range workloadFeatures(t) {
		if on[w.name] || (w.name == "RUNTIME_MONITORING" && on["EKS_RUNTIME_MONITORING"]) {
			continue
		}
		why := "the template creates Lambda functions"
		if w.name == "RUNTIME_MONITORING" {
			why = "the template creates container clusters"
		}
		f := analysis.Finding{
			Span:    anchor,
			Message: "GuardDuty detector " + d.Name + " does not enable " + w.name + " although " + why + ": add it to Features",
		}
		if fix, ok := featuresFix(pass, "Enable "+w.name, []feature{w}); ok {
			f.Fixes = []analysis.Fix{fix}
		}
		pass.Report(f)
	}
	if freq := d.Property("FindingPublishingFrequency"); freq == nil || freq.Kind == template.Null {
		f := analysis.Finding{
			Span:    pass.KeySpan(),
			Message: "GuardDuty detector " + d.Name + " publishes updates to its findings every six hours (the default): set FindingPublishingFrequency to FIFTEEN_MINUTES",
		}
		if d.Properties != nil && d.Properties.Kind == template.Mapping {
			f.Fixes = []analysis.Fix{pass.NewFix("Set FindingPublishingFrequency: FIFTEEN_MINUTES", func(b *edit.Builder) {
				b.Set(d.Properties, "FindingPublishingFrequency", edit.Str("FIFTEEN_MINUTES"))
			})}
		}
		pass.Report(f)
	}
}

// featureValue is a Features entry that turns a plan on.
func featureValue(f feature) edit.Value {
	kvs := []edit.KV{{Key: "Name", Value: edit.Str(f.name)}, {Key: "Status", Value: edit.Str("ENABLED")}}
	if len(f.additional) > 0 {
		var add []edit.Value
		for _, a := range f.additional {
			add = append(add, edit.Map(edit.KV{Key: "Name", Value: edit.Str(a)}, edit.KV{Key: "Status", Value: edit.Str("ENABLED")}))
		}
		kvs = append(kvs, edit.KV{Key: "AdditionalConfiguration", Value: edit.List(add...)})
	}
	return edit.Map(kvs...)
}

// featuresFix turns plans on in the detector under inspection: a literal
// Status of an existing entry becomes ENABLED, missing entries are added.
// A detector configured with the legacy DataSources gets no fix: adding
// Features next to it would conflict.
func featuresFix(pass *analysis.Pass, title string, want []feature) (analysis.Fix, bool) {
	d := pass.Resource
	if d.Properties == nil || d.Properties.Kind != template.Mapping {
		return analysis.Fix{}, false
	}
	if ds := d.Property("DataSources"); ds != nil && ds.Kind != template.Null {
		return analysis.Fix{}, false
	}
	features := d.Property("Features")
	if features != nil && features.Kind != template.Null && features.Kind != template.Sequence {
		return analysis.Fix{}, false
	}
	existing := map[string]*template.Node{}
	if features != nil {
		for _, f := range features.Items {
			if name := f.Get("Name").Text(); name != "" {
				existing[name] = f
			}
		}
	}
	var add []edit.Value
	var enable []*template.Node
	for _, w := range want {
		if f, ok := existing[w.name]; ok {
			st := f.Get("Status")
			if st == nil || st.Kind != template.Scalar {
				return analysis.Fix{}, false
			}
			enable = append(enable, st)
			continue
		}
		add = append(add, featureValue(w))
	}
	return pass.NewFix(title, func(b *edit.Builder) {
		for _, st := range enable {
			b.Replace(st, edit.Str("ENABLED"))
		}
		switch {
		case len(add) == 0:
		case features == nil || features.Kind == template.Null || len(features.Items) == 0:
			b.Set(d.Properties, "Features", edit.List(add...))
		default:
			for _, v := range add {
				b.Append(features, v)
			}
		}
	}), true
}

// GuardDutyMissing reports baseline templates without threat detection.
var GuardDutyMissing = &analysis.Rule{
	ID:       "SOC2-TPL-105",
	Title:    "Baseline template has no GuardDuty detector",
	Severity: analysis.Warning,
	Controls: []string{"CC7.2", "CC6.8", "CC3.2", "CC7.1"},
	Doc: `A template that sets up an account's security services (it declares a trail, a Config recorder or
Security Hub, says it is a baseline, or opts in with ` + "`Metadata: {soc2ls: {profile: baseline}}`" + `) but
creates no ` + "`AWS::GuardDuty::Detector`" + ` leaves the account without threat detection, unless another
stack or a delegated administrator provides it. Workload templates are not asked to add one.

**Why an auditor cares.** Continuous threat detection is the usual evidence for anomaly monitoring (CC7.2),
malware detection (CC6.8), and the threat data behind risk assessment (CC3.2) and vulnerability management
(CC7.1). Where it is provided elsewhere, the template should say so.

**How to fix.** Add a detector gated by an ` + "`EnableGuardDuty`" + ` parameter (false where a delegated
administrator already manages GuardDuty), with the protection plans on and findings routed by an
EventBridge rule to the security alerts topic. A parameter such as ` + "`EnableGuardDuty`" + ` or
` + "`GuardDutyDelegatedAdmin`" + ` is enough to record that GuardDuty is handled elsewhere.`,
	Check: checkGuardDutyMissing,
}

func checkGuardDutyMissing(pass *analysis.Pass) {
	t := pass.Template
	if !isBaseline(pass) || len(t.ResourcesOfType(detectorType)) > 0 {
		return
	}
	if toggleParameter(t, `guardduty`, `delegated.?admin`) != nil {
		return
	}
	pass.Report(analysis.Finding{
		Span:    pass.SectionSpan("Resources"),
		Message: "this baseline template creates no GuardDuty detector and no parameter says that GuardDuty is managed elsewhere: add a detector gated by an EnableGuardDuty parameter",
		Fixes: []analysis.Fix{pass.NewFix("Add a GuardDuty detector with finding routing, gated by EnableGuardDuty", func(b *edit.Builder) {
			addGuardDuty(pass, b)
		})},
	})
}

// addGuardDuty adds the F8 bundle: the EnableGuardDuty parameter and
// CreateGuardDuty condition, a detector with the protection plans the
// template calls for, and the EventBridge rule routing its findings.
func addGuardDuty(pass *analysis.Pass, b *edit.Builder) {
	t := pass.Template
	cond := ensureCondition(pass, b, condCreateGuardDuty)
	name := uniqueLogicalID(t, "GuardDutyDetector")
	var features []edit.Value
	for _, name := range coreFeatures {
		features = append(features, featureValue(feature{name: name}))
	}
	for _, w := range workloadFeatures(t) {
		features = append(features, featureValue(w))
	}
	b.AddEntry("Resources", name, edit.Map(
		edit.KV{Key: "Type", Value: edit.Str(detectorType)},
		edit.KV{Key: "Condition", Value: edit.Str(cond)},
		edit.KV{Key: "Properties", Value: edit.Map(
			edit.KV{Key: "Enable", Value: edit.Bool(true)},
			edit.KV{Key: "FindingPublishingFrequency", Value: edit.Str("FIFTEEN_MINUTES")},
			edit.KV{Key: "Features", Value: edit.List(features...)},
		)},
	))
	addFindingsRule(pass, b, cond)
}

// addFindingsRule adds the F8 EventBridge rule that sends GuardDuty
// findings of medium severity and above to the security alerts topic,
// under condition cond (if any), and makes sure EventBridge may publish to
// the topic.
func addFindingsRule(pass *analysis.Pass, b *edit.Builder, cond string) {
	t := pass.Template
	kvs := []edit.KV{{Key: "Type", Value: edit.Str(eventsRuleType)}}
	if cond != "" {
		kvs = append(kvs, edit.KV{Key: "Condition", Value: edit.Str(cond)})
	}
	topic := alertsTopic(pass)
	target := useAlertsTopic(pass, b)
	if topic != nil {
		letEventBridgePublish(pass, b, topic)
	}
	kvs = append(kvs, edit.KV{Key: "Properties", Value: edit.Map(
		edit.KV{Key: "Description", Value: edit.Str("Route GuardDuty findings of severity 4 and above to the security alerts topic")},
		edit.KV{Key: "State", Value: edit.Str("ENABLED")},
		edit.KV{Key: "EventPattern", Value: edit.Map(
			edit.KV{Key: "source", Value: edit.Strs("aws.guardduty")},
			edit.KV{Key: "detail-type", Value: edit.Strs("GuardDuty Finding")},
			edit.KV{Key: "detail", Value: edit.Map(edit.KV{Key: "severity", Value: edit.List(
				edit.Map(edit.KV{Key: "numeric", Value: edit.List(edit.Str(">="), edit.Int(4))}))})},
		)},
		edit.KV{Key: "Targets", Value: edit.List(edit.Map(
			edit.KV{Key: "Id", Value: edit.Str("security-alerts")},
			edit.KV{Key: "Arn", Value: target},
		))},
	)})
	b.AddEntry("Resources", uniqueLogicalID(t, "GuardDutyFindingsRule"), edit.Map(kvs...))
}

// letEventBridgePublish makes sure an existing topic accepts messages from
// EventBridge: a statement in its topic policy (or a new policy), and the
// publishers' statement in the policy of its in-template KMS key.
func letEventBridgePublish(pass *analysis.Pass, b *edit.Builder, topic *template.Resource) {
	t := pass.Template
	if key := keyOf(pass, topic.Property("KmsMasterKeyId")); key != nil {
		addKeyStatements(b, key, keyForAlarms)
	}
	statement := edit.Map(
		edit.KV{Key: "Sid", Value: edit.Str("AllowEventBridge")},
		edit.KV{Key: "Effect", Value: edit.Str("Allow")},
		edit.KV{Key: "Principal", Value: edit.Map(edit.KV{Key: "Service", Value: edit.Str("events.amazonaws.com")})},
		edit.KV{Key: "Action", Value: edit.Str("sns:Publish")},
		edit.KV{Key: "Resource", Value: edit.Ref(topic.Name)},
		edit.KV{Key: "Condition", Value: sourceAccountCondition()},
	)
	var policy *template.Resource
	for _, p := range t.ResourcesOfType(snsTopicPolicyType) {
		for _, ref := range p.Property("Topics").List() {
			if resolveOfType(pass, ref, snsTopicType) != topic {
				continue
			}
			for _, st := range statements(p.Property("PolicyDocument")) {
				if effect(st) == "allow" && principalHasService(st, "events.amazonaws.com") && actionsCover(st, "sns:Publish") {
					return
				}
			}
			if policy == nil {
				policy = p
			}
		}
	}
	if policy != nil {
		if list := policy.PropertyPath("PolicyDocument", "Statement"); list != nil && list.Kind == template.Sequence && len(list.Items) > 0 {
			b.Append(list, statement)
		}
		return
	}
	kvs := []edit.KV{{Key: "Type", Value: edit.Str(snsTopicPolicyType)}}
	if topic.Condition != "" {
		kvs = append(kvs, edit.KV{Key: "Condition", Value: edit.Str(topic.Condition)})
	}
	kvs = append(kvs, edit.KV{Key: "Properties", Value: edit.Map(
		edit.KV{Key: "Topics", Value: edit.List(edit.Ref(topic.Name))},
		edit.KV{Key: "PolicyDocument", Value: edit.Map(
			edit.KV{Key: "Version", Value: edit.Str("2012-10-17")},
			edit.KV{Key: "Statement", Value: edit.List(statement)},
		)},
	)})
	b.AddEntry("Resources", uniqueLogicalID(t, topic.Name+"Policy"), edit.Map(kvs...))
}

// GuardDutyRouting reports detectors whose findings reach nobody.
var GuardDutyRouting = &analysis.Rule{
	ID:       "SOC2-TPL-106",
	Title:    "GuardDuty findings are not routed to anyone",
	Severity: analysis.Warning,
	Controls: []string{"CC7.3", "CC7.4", "CC4.2"},
	Doc: `GuardDuty writes its findings to its own console and to EventBridge, and nowhere else. Unless an
` + "`AWS::Events::Rule`" + ` matching ` + "`source: [aws.guardduty]`" + ` sends them to a target (an SNS topic, a queue, a
function, or an event bus in the security account), a finding waits until someone happens to open the
console.

**Why an auditor cares.** CC7.3 and CC7.4 expect detected events to be evaluated and responded to, and CC4.2
expects deficiencies to be reported to those who act on them. Auditors sample findings and ask when the team
was told; a detector without routing has no answer.

**How to fix.** Add a rule with the pattern ` + "`{source: [aws.guardduty], detail-type: [GuardDuty Finding]}`" + `
(optionally ` + "`detail.severity: [{numeric: ['>=', 4]}]`" + `) targeting the security alerts topic, and let
` + "`events.amazonaws.com`" + ` publish to the topic (its topic policy, and its KMS key policy if it is encrypted).`,
	Check: checkGuardDutyRouting,
}

func checkGuardDutyRouting(pass *analysis.Pass) {
	t := pass.Template
	detectors := t.ResourcesOfType(detectorType)
	if len(detectors) == 0 {
		return
	}
	for _, r := range t.ResourcesOfType(eventsRuleType) {
		if routesGuardDuty(r) {
			return
		}
	}
	for _, d := range detectors {
		det := d
		pass.Report(analysis.Finding{
			Span:     d.Key.Span,
			Resource: d.Name,
			Message:  "the findings of GuardDuty detector " + d.Name + " reach no one: no EventBridge rule matching source aws.guardduty has a target; add one that notifies the security alerts topic",
			Fixes: []analysis.Fix{pass.NewFix("Route GuardDuty findings to the security alerts topic", func(b *edit.Builder) {
				addFindingsRule(pass, b, det.Condition)
			})},
		})
	}
}

// routesGuardDuty reports whether an EventBridge rule sends GuardDuty
// events to a target: its pattern's source lists aws.guardduty, it has a
// target, and it is not disabled.
func routesGuardDuty(r *template.Resource) bool {
	if strings.EqualFold(r.Property("State").Text(), "DISABLED") {
		return false
	}
	if len(r.Property("Targets").List()) == 0 {
		return false
	}
	pattern := r.Property("EventPattern")
	if pattern.IsScalar() {
		// A pattern written as a JSON string.
		var p struct {
			Source any `json:"source"`
		}
		if json.Unmarshal([]byte(pattern.Value), &p) != nil {
			return false
		}
		switch s := p.Source.(type) {
		case string:
			return s == "aws.guardduty"
		case []any:
			for _, v := range s {
				if v == "aws.guardduty" {
					return true
				}
			}
		}
		return false
	}
	return contains(literalStrings(pattern.Get("source")), "aws.guardduty")
}

var guarddutyRules = []*analysis.Rule{GuardDutyEnabled, GuardDutyProtections, GuardDutyMissing, GuardDutyRouting}
