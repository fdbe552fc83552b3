package rules

import (
	"github.com/soc2ls/soc2ls/analysis/suggest"
	"regexp"
	"strconv"
	"strings"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/template"
)

const (
	cwMetricFilterType = "AWS::Logs::MetricFilter"
	cwLogGroupType     = "AWS::Logs::LogGroup"
	// cwNamespace is the namespace of the metrics the fixes create.
	cwNamespace = "SecurityMetrics"
)

// cwMetric identifies a CloudWatch metric.
type cwMetric struct{ namespace, name string }

func (m cwMetric) String() string { return m.namespace + "/" + m.name }

// cwFilter is a metric filter with what it reads and publishes, as plain
// data (it outlives the template it was computed from).
type cwFilter struct {
	Name    string     // the filter's logical id
	Group   string     // the in-template log group it reads, or ""
	Metrics []cwMetric // literal transformations
	Pattern string     // literal FilterPattern
	Known   bool       // whether the pattern is literal
}

// cwFilterEntry is one metric filter's value of cwEntries: the filter,
// and the text of its LogGroupName when that is a Sub that names no
// resource, which the index matches against the log groups' own Subs.
type cwFilterEntry struct {
	Filter cwFilter
	Sub    string
}

// cwIndex links log groups, metric filters, metrics and alarms (RULES.md
// section 6, point 4), by logical id.
type cwIndex struct {
	Filters       []cwFilter
	FiltersOf     map[string][]int   // by log group, indices into Filters
	FiltersByName map[cwMetric][]int // by metric, indices into Filters
	Alarms        map[cwMetric][]string
	Namespaces    map[string]bool   // namespaces filters publish to
	GroupsBySub   map[string]string // log groups named by a Sub, by its text
}

// cwEntries is what each metric filter (a cwFilterEntry), alarm (the
// cwMetric it watches) and log group (the text of the Sub that names it)
// contributes to the index, gathered per resource so that an edit
// recomputes the edited resource's only; the index, a Fact, is rebuilt
// only when one of them changed. (One resource fact rather than three: a
// resource fact costs a little for every resource of every analysis.)
var cwEntries = &analysis.ResourceFact{Key: "cwEntries", Compute: func(pass *analysis.Pass) any {
	r := pass.Resource
	switch r.Type {
	case cwMetricFilterType:
		e := cwFilterEntry{Filter: cwFilter{Name: r.Name}}
		f := &e.Filter
		name := r.Property("LogGroupName")
		f.Group = resolveNameOfType(pass, name, cwLogGroupType)
		if f.Group == "" && name.IsFn("Fn::Sub") && name.Arg.IsScalar() {
			e.Sub = name.Arg.Value
		}
		f.Pattern, f.Known = literalText(r.Property("FilterPattern"))
		for _, m := range r.Property("MetricTransformations").List() {
			ns, name := m.Get("MetricNamespace").Text(), m.Get("MetricName").Text()
			if ns != "" && name != "" {
				f.Metrics = append(f.Metrics, cwMetric{ns, name})
			}
		}
		return e
	case alarmType:
		if ns, name := r.Property("Namespace").Text(), r.Property("MetricName").Text(); ns != "" && name != "" {
			return cwMetric{ns, name}
		}
	case cwLogGroupType:
		if n := r.Property("LogGroupName"); n.IsFn("Fn::Sub") && n.Arg.IsScalar() {
			return n.Arg.Value
		}
	}
	return nil
}}

var cwIndexFact = &analysis.Fact{Key: "cwAlarmIndex", Compute: func(pass *analysis.Pass) any {
	x := cwIndex{
		FiltersOf:     map[string][]int{},
		FiltersByName: map[cwMetric][]int{},
		Alarms:        map[cwMetric][]string{},
		Namespaces:    map[string]bool{},
		GroupsBySub:   map[string]string{},
	}
	entries := pass.Gather(cwEntries)
	for _, g := range entries {
		if sub, ok := g.Value.(string); ok {
			x.GroupsBySub[sub] = g.Name
		}
	}
	for _, g := range entries {
		switch v := g.Value.(type) {
		case cwFilterEntry:
			f := v.Filter
			if f.Group == "" && v.Sub != "" {
				f.Group = x.GroupsBySub[v.Sub]
			}
			i := len(x.Filters)
			for _, m := range f.Metrics {
				x.FiltersByName[m] = append(x.FiltersByName[m], i)
				x.Namespaces[m.namespace] = true
			}
			x.Filters = append(x.Filters, f)
			if f.Group != "" {
				x.FiltersOf[f.Group] = append(x.FiltersOf[f.Group], i)
			}
		case cwMetric:
			x.Alarms[v] = append(x.Alarms[v], g.Name)
		}
	}
	return x
}}

func alarmIndex(pass *analysis.Pass) cwIndex {
	return pass.Fact(cwIndexFact).(cwIndex)
}

// literalText returns the text of a literal string, or of a Sub without
// variables.
func literalText(n *template.Node) (string, bool) {
	switch {
	case n.IsScalar():
		return n.Value, true
	case n.IsFn("Fn::Sub") && n.Arg.IsScalar() && !strings.Contains(n.Arg.Value, "${"):
		return n.Arg.Value, true
	}
	return "", false
}

// alarmNotifies reports whether an alarm definitely has actions: a
// non-empty AlarmActions and ActionsEnabled not false.
func alarmNotifies(t *template.Template, a *template.Resource) bool {
	if v, _ := alarmActionsVerdict(t, a); v != template.Pass {
		return false
	}
	if v, _ := alarmDisabledVerdict(t, a); v != template.Pass {
		return false
	}
	return true
}

func alarmActionsVerdict(t *template.Template, a *template.Resource) (template.Verdict, template.Alt) {
	return t.Eval(a.Property("AlarmActions")).Judge(func(alt template.Alt) bool {
		return alt.Kind == template.Absent || (alt.Kind == template.Literal && alt.Node.Kind == template.Sequence && len(alt.Node.Items) == 0)
	})
}

func alarmDisabledVerdict(t *template.Template, a *template.Resource) (template.Verdict, template.Alt) {
	return t.Eval(a.Property("ActionsEnabled")).Judge(func(alt template.Alt) bool {
		b, ok := alt.Bool()
		return ok && !b
	})
}

// isSecurityAlarm reports whether an alarm watches a metric that a filter
// on an audit log group publishes.
func isSecurityAlarm(pass *analysis.Pass, a *template.Resource) bool {
	x := alarmIndex(pass)
	audit := auditLogGroups(pass)
	for _, i := range x.FiltersByName[cwMetric{a.Property("Namespace").Text(), a.Property("MetricName").Text()}] {
		f := x.Filters[i]
		if f.Group == "" {
			continue
		}
		if _, ok := audit[f.Group]; ok {
			return true
		}
	}
	return false
}

// AlarmWithoutActions reports alarms that notify nobody.
var AlarmWithoutActions = &analysis.Rule{
	ID:       "SOC2-CW-001",
	Title:    "CloudWatch alarm notifies nobody",
	Severity: analysis.Warning,
	Controls: []string{"CC7.3", "CC7.4", "CC7.2", "CC4.2"},
	Types:    []string{alarmType},
	Doc: `An alarm with ` + "`ActionsEnabled: false`" + `, or without ` + "`AlarmActions`" + `, changes state in the console and
nowhere else: nobody is paged, no ticket is opened. The finding is a warning for security alarms (those
watching a metric that a filter on an audit log group, such as the CloudTrail log group, publishes) and
information for other alarms.

**Why an auditor cares.** Detection (CC7.2) only helps when someone evaluates and responds to what is
detected (CC7.3, CC7.4), and deficiencies must reach the people who can act on them (CC4.2). An alarm
without actions is a control that exists on paper; auditors test it by asking who received the last
notification.

**How to fix.** Set ` + "`ActionsEnabled: true`" + ` and ` + "`AlarmActions: [!Ref SecurityAlertsTopic]`" + ` (an SNS topic
that the on-call rotation or the ticketing system subscribes to). The quick fix uses the topic the
template's other alarms notify, or adds an encrypted ` + "`SecurityAlertsTopic`" + ` with a policy that lets
CloudWatch publish.`,
	Check: checkAlarmActions,
}

func checkAlarmActions(pass *analysis.Pass) {
	t, a := pass.Template, pass.Resource
	props := a.Properties
	if props == nil || props.Kind != template.Mapping {
		return
	}
	sev := analysis.Info
	kind := "alarm"
	if isSecurityAlarm(pass, a) {
		sev, kind = analysis.Warning, "security alarm"
	}
	enabled := a.Property("ActionsEnabled")
	if verdict, witness := alarmDisabledVerdict(t, a); verdict != template.Pass {
		f := analysis.Finding{
			Severity: sev,
			Span:     enabled.Span,
			Message:  kind + " " + a.Name + " has its actions disabled: set ActionsEnabled to true so that it notifies someone",
		}
		if enabled.Kind == template.Scalar {
			f.Fixes = []analysis.Fix{pass.NewFix("Set ActionsEnabled: true", func(b *edit.Builder) { b.Replace(enabled, edit.Bool(true)) })}
		}
		pass.ReportVerdict(verdict, witness, f)
	}
	actions := a.Property("AlarmActions")
	verdict, witness := alarmActionsVerdict(t, a)
	if verdict == template.Pass {
		return
	}
	f := analysis.Finding{
		Severity: sev,
		Span:     pass.KeySpan(),
		Message:  kind + " " + a.Name + " has no AlarmActions and notifies nobody: send it to the security alerts topic",
	}
	if actions != nil && actions.Kind != template.Null {
		f.Span = actions.Span
	}
	switch {
	case actions == nil:
		f.Fixes = []analysis.Fix{pass.NewFix("Notify the security alerts topic", func(b *edit.Builder) {
			b.Insert(props, "AlarmActions", edit.List(useAlertsTopic(pass, b)))
		})}
	case actions.Kind == template.Null || (actions.Kind == template.Sequence && len(actions.Items) == 0):
		f.Fixes = []analysis.Fix{pass.NewFix("Notify the security alerts topic", func(b *edit.Builder) {
			b.Set(props, "AlarmActions", edit.List(useAlertsTopic(pass, b)))
		})}
	}
	pass.ReportVerdict(verdict, witness, f)
}

// cwClause is one required clause of a filter pattern: $.field op value.
type cwClause struct {
	field, op, value string
	re               *regexp.Regexp
}

func clause(field, op, value string) cwClause {
	c := cwClause{field: field, op: op, value: value}
	src := `\$\.` + regexp.QuoteMeta(field) + `\s*`
	if op == "NOT EXISTS" {
		src += `NOT\s+EXISTS`
	} else {
		src += regexp.QuoteMeta(op) + `\s*("` + regexp.QuoteMeta(value) + `"|` + regexp.QuoteMeta(value) + `(?:[^A-Za-z0-9_*.\-]|$))`
	}
	c.re = regexp.MustCompile(src)
	return c
}

// text renders the clause for a new filter pattern: event names and
// sources unquoted, as CloudTrail examples write them, other values quoted.
func (c cwClause) text() string {
	switch {
	case c.op == "NOT EXISTS":
		return "$." + c.field + " NOT EXISTS"
	case c.field == "eventName" || c.field == "eventSource":
		return "$." + c.field + " " + c.op + " " + c.value
	}
	return "$." + c.field + " " + c.op + " \"" + c.value + "\""
}

// cwSignature is one of the security metric filters of RULES.md section 4.1.
type cwSignature struct {
	title       string // "unauthorized API calls"
	metric      string // metric name the fix publishes
	all         []cwClause
	source      string   // eventSource, or ""
	events      []string // any of these event names (all must appear in the pattern)
	description string
	management  bool // only for an organization's management account
}

func (s *cwSignature) matches(pattern string) bool {
	for _, c := range s.all {
		if !c.re.MatchString(pattern) {
			return false
		}
	}
	for _, c := range s.eventClauses() {
		if !c.re.MatchString(pattern) {
			return false
		}
	}
	if s.source != "" && !clause("eventSource", "=", s.source).re.MatchString(pattern) {
		return false
	}
	return true
}

func (s *cwSignature) eventClauses() []cwClause {
	out := make([]cwClause, len(s.events))
	for i, e := range s.events {
		out[i] = eventClauses[e]
	}
	return out
}

// pattern builds the FilterPattern a fix writes: the event source, any of
// the event names, and every other clause.
func (s *cwSignature) pattern() string {
	var and []string
	if s.source != "" {
		and = append(and, "("+clause("eventSource", "=", s.source).text()+")")
	}
	ev := make([]string, len(s.events))
	for i, c := range s.eventClauses() {
		ev[i] = "(" + c.text() + ")"
	}
	switch {
	case len(ev) == 1:
		and = append(and, ev[0])
	case len(ev) > 1 && len(and) == 0 && len(s.all) == 0:
		return "{ " + strings.Join(ev, " || ") + " }"
	case len(ev) > 1:
		and = append(and, "("+strings.Join(ev, " || ")+")")
	}
	for _, c := range s.all {
		and = append(and, "("+c.text()+")")
	}
	return "{ " + strings.Join(and, " && ") + " }"
}

// eventClauses caches the compiled $.eventName clauses.
var eventClauses = map[string]cwClause{}

func sig(title, metric, description, source string, events ...string) *cwSignature {
	for _, e := range events {
		if _, ok := eventClauses[e]; !ok {
			eventClauses[e] = clause("eventName", "=", e)
		}
	}
	return &cwSignature{title: title, metric: metric, description: description, source: source, events: events}
}

// unauthorizedSignature is the filter SOC2-TPL-108 requires at warning
// level; the others are reported together as information.
var unauthorizedSignature = &cwSignature{
	title:       "unauthorized API calls",
	metric:      "UnauthorizedApiCalls",
	description: "Unauthorized or access-denied API calls seen by CloudTrail (SOC 2 CC7.2 / CC7.3)",
}

var otherSignatures []*cwSignature

// Criteria of the two kinds of TPL-108 finding (RULES.md section 4).
var (
	unauthorizedControls = []string{"CC7.2", "CC7.3", "PI1.3"}
	changeControls       = []string{"CC5.2", "CC7.2", "CC7.3", "CC7.4"}
)

func init() {
	// The unauthorized-API signature is an OR of its two clauses; every
	// clause must still be present.
	unauthorizedSignature.all = []cwClause{clause("errorCode", "=", "*UnauthorizedOperation"), clause("errorCode", "=", "AccessDenied*")}
	root := &cwSignature{title: "root account usage", metric: "RootAccountUsage", description: "The root user was used (SOC 2 CC6.1 / CC7.2)",
		all: []cwClause{clause("userIdentity.type", "=", "Root"), clause("userIdentity.invokedBy", "NOT EXISTS", ""), clause("eventType", "!=", "AwsServiceEvent")}}
	failures := sig("console sign-in failures", "ConsoleSignInFailures", "Failed console sign-ins (SOC 2 CC7.2)", "", "ConsoleLogin")
	failures.all = []cwClause{clause("errorMessage", "=", "Failed authentication")}
	noMFA := sig("console sign-in without MFA", "ConsoleSignInWithoutMfa", "Console sign-ins without MFA (SOC 2 CC6.1 / CC7.2)", "", "ConsoleLogin")
	noMFA.all = []cwClause{clause("additionalEventData.MFAUsed", "!=", "Yes")}
	org := sig("AWS Organizations changes", "OrganizationsChanges", "AWS Organizations changed (SOC 2 CC8.1 / CC7.2)", "organizations.amazonaws.com",
		"AcceptHandshake", "AttachPolicy", "CancelHandshake", "CreateAccount", "CreateOrganization", "CreateOrganizationalUnit", "CreatePolicy",
		"DeclineHandshake", "DeleteOrganization", "DeleteOrganizationalUnit", "DeletePolicy", "EnableAllFeatures", "EnablePolicyType",
		"InviteAccountToOrganization", "LeaveOrganization", "DetachPolicy", "DisablePolicyType", "MoveAccount", "RemoveAccountFromOrganization",
		"UpdateOrganizationalUnit", "UpdatePolicy")
	org.management = true
	otherSignatures = []*cwSignature{
		root, failures, noMFA,
		sig("IAM policy changes", "IamPolicyChanges", "An IAM policy changed (SOC 2 CC8.1 / CC7.2)", "",
			"DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy", "PutRolePolicy", "PutUserPolicy", "CreatePolicy",
			"DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion", "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy",
			"DetachUserPolicy", "AttachGroupPolicy", "DetachGroupPolicy"),
		sig("CloudTrail configuration changes", "CloudTrailChanges", "The CloudTrail configuration changed (SOC 2 CC7.2 / CC7.3)", "",
			"CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging"),
		sig("KMS keys disabled or scheduled for deletion", "KmsKeyDisabledOrDeleted", "A KMS key was disabled or scheduled for deletion (SOC 2 CC6.1 / CC7.2)",
			"kms.amazonaws.com", "DisableKey", "ScheduleKeyDeletion"),
		sig("S3 bucket policy changes", "S3BucketPolicyChanges", "An S3 bucket policy, ACL or lifecycle changed (SOC 2 CC6.1 / CC7.2)", "s3.amazonaws.com",
			"PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle", "PutBucketReplication", "DeleteBucketPolicy",
			"DeleteBucketCors", "DeleteBucketLifecycle", "DeleteBucketReplication"),
		sig("AWS Config changes", "AwsConfigChanges", "The AWS Config recorder or delivery channel changed (SOC 2 CC8.1 / CC7.2)", "config.amazonaws.com",
			"StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel", "PutConfigurationRecorder"),
		sig("security group changes", "SecurityGroupChanges", "A security group changed (SOC 2 CC6.6 / CC7.2)", "",
			"AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress",
			"CreateSecurityGroup", "DeleteSecurityGroup"),
		sig("network ACL changes", "NetworkAclChanges", "A network ACL changed (SOC 2 CC6.6 / CC7.2)", "",
			"CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl", "DeleteNetworkAclEntry", "ReplaceNetworkAclEntry",
			"ReplaceNetworkAclAssociation"),
		sig("network gateway changes", "NetworkGatewayChanges", "A network gateway changed (SOC 2 CC6.6 / CC7.2)", "",
			"CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway", "CreateInternetGateway", "DeleteInternetGateway",
			"DetachInternetGateway"),
		sig("route table changes", "RouteTableChanges", "A route table changed (SOC 2 CC6.6 / CC7.2)", "ec2.amazonaws.com",
			"CreateRoute", "CreateRouteTable", "ReplaceRoute", "ReplaceRouteTableAssociation", "DeleteRouteTable", "DeleteRoute",
			"DisassociateRouteTable"),
		sig("VPC changes", "VpcChanges", "A VPC or VPC peering changed (SOC 2 CC6.6 / CC7.2)", "",
			"CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection", "CreateVpcPeeringConnection",
			"DeleteVpcPeeringConnection", "RejectVpcPeeringConnection", "AttachClassicLinkVpc", "DetachClassicLinkVpc",
			"DisableVpcClassicLink", "EnableVpcClassicLink"),
		org,
	}
}

// SecurityMetricFilters reports trails whose log group has no metric filter
// and alarm for the security signatures.
var SecurityMetricFilters = &analysis.Rule{
	ID:       "SOC2-TPL-108",
	Title:    "No alarm on unauthorized API calls and other security events",
	Severity: analysis.Warning,
	Controls: []string{"CC7.2", "CC7.3", "PI1.3", "CC5.2", "CC7.4"},
	Doc: `CloudTrail records every API call, but nobody reads a log group. The rule looks at the log group a
trail sends its events to (` + "`CloudWatchLogsLogGroupArn`" + `) and asks for an ` + "`AWS::Logs::MetricFilter`" + ` on it whose
` + "`FilterPattern`" + ` recognises a security signature, and an ` + "`AWS::CloudWatch::Alarm`" + ` with ` + "`AlarmActions`" + ` on the
metric that filter publishes. A missing alarm on unauthorized or access-denied calls is a warning; it is
also reported for a baseline whose trail sends nothing to CloudWatch Logs, since no alarm can exist then.
The other signatures (root user activity, console sign-in failures and sign-ins without MFA, changes to
IAM policies, CloudTrail, KMS keys, bucket policies, Config, security groups, network ACLs, gateways, route
tables and VPCs, and, in an organization's management account, Organizations) are reported together, one
information finding per trail. A pattern counts when it contains every clause and every event name of the
signature, event names matched as whole words.

**Why an auditor cares.** Monitoring for anomalies (CC7.2) and evaluating them (CC7.3) are tested by showing
which events raise an alert and who receives it. Repeated access-denied calls are the classic sign of a
compromised credential probing its permissions; changes to trails, keys, policies and the network are the
changes to controls themselves (CC5.2, CC7.4).

**How to fix.** Add a metric filter (namespace ` + "`SecurityMetrics`" + `, one metric per signature) and an alarm
with ` + "`Statistic: Sum`" + `, ` + "`Threshold: 1`" + ` and ` + "`AlarmActions`" + ` to the security alerts topic. The quick fixes insert
one pair per missing signature (and the topic, and for a trail without one, the log group and delivery
role).`,
	Check: checkSecurityMetricFilters,
}

// applicableSignatures returns the §4.1 change signatures that apply to the
// template: the Organizations one only for templates that manage an
// organization.
func applicableSignatures(t *template.Template) []*cwSignature {
	management := false
	for _, typ := range t.Types() {
		if strings.HasPrefix(typ, "AWS::Organizations::") {
			management = true
			break
		}
	}
	var others []*cwSignature
	for _, s := range otherSignatures {
		if !s.management || management {
			others = append(others, s)
		}
	}
	return others
}

// addSecurityAlarms adds the F13 metric filter and alarm of every security
// signature (unauthorized API calls and the applicable change signatures) on
// a log group a fix creates, notifying the alerts topic.
func addSecurityAlarms(pass *analysis.Pass, b *edit.Builder, group, cond string) {
	topic := useAlertsTopic(pass, b)
	for _, s := range append([]*cwSignature{unauthorizedSignature}, applicableSignatures(pass.Template)...) {
		addSignaturePair(pass, b, s, group, cond, topic)
	}
}

func checkSecurityMetricFilters(pass *analysis.Pass) {
	t := pass.Template
	others := applicableSignatures(t)
	for _, trail := range t.ResourcesOfType(trailType) {
		arn := trail.Property("CloudWatchLogsLogGroupArn")
		if v, _ := t.Eval(arn).Judge(func(a template.Alt) bool { return a.Kind == template.Absent }); v == template.Definite {
			if !isBaseline(pass) {
				continue
			}
			f := analysis.Finding{
				Span:     trail.Key.Span,
				Resource: trail.Name,
				Message:  "trail " + trail.Name + " sends nothing to CloudWatch Logs, so no alarm can watch for unauthorized API calls: send it to a log group with a metric filter and an alarm on unauthorized and access-denied calls",
				Controls: unauthorizedControls,
			}
			if trail.Properties != nil && trail.Properties.Kind == template.Mapping && len(trail.Properties.Pairs) > 0 {
				f.Fixes = []analysis.Fix{pass.NewFix("Send "+trail.Name+" to a log group with an unauthorized-API alarm", func(b *edit.Builder) {
					var keyUsers []string
					if alertsTopic(pass) == nil {
						keyUsers = append(keyUsers, keyForAlarms) // the new alerts topic
					}
					group := sendTrailToLogs(pass, b, trail, keyUsers...)
					topic := useAlertsTopic(pass, b)
					addSignaturePair(pass, b, unauthorizedSignature, group, trail.Condition, topic)
				})}
			}
			pass.Report(f)
			pass.Report(analysis.Finding{
				Severity: analysis.Info,
				Span:     trail.Key.Span,
				Resource: trail.Name,
				Message:  "trail " + trail.Name + " sends nothing to CloudWatch Logs, so no alarm watches for " + signatureTitles(others),
				Controls: changeControls,
			})
			continue
		}
		group := resolveOfType(pass, arn, cwLogGroupType)
		if group == nil {
			continue // a log group outside the template
		}
		status := func(s *cwSignature) (ok, partial bool) {
			x := alarmIndex(pass)
			for _, i := range x.FiltersOf[group.Name] {
				f := x.Filters[i]
				if !f.Known {
					return true, false // cannot tell: never report
				}
				if !s.matches(f.Pattern) {
					continue
				}
				partial = true
				for _, m := range f.Metrics {
					for _, name := range x.Alarms[m] {
						if a := t.Resource(name); a != nil && alarmNotifies(t, a) {
							return true, true
						}
					}
				}
			}
			return false, partial
		}
		related := []analysis.Related{{Span: group.Key.Span, Message: "log group " + group.Name}}
		if ok, partial := status(unauthorizedSignature); !ok {
			f := analysis.Finding{
				Span:     arn.Span,
				Resource: trail.Name,
				Message:  "no metric filter on log group " + group.Name + " of trail " + trail.Name + " with an alarm that notifies someone watches for unauthorized API calls: add a filter on errorCode *UnauthorizedOperation and AccessDenied* and an alarm with AlarmActions",
				Related:  related,
				Controls: unauthorizedControls,
			}
			if partial {
				f.Message = "the filter on log group " + group.Name + " of trail " + trail.Name + " that matches unauthorized API calls has no alarm that notifies someone: add an alarm with AlarmActions on its metric"
			} else {
				f.Fixes = []analysis.Fix{pass.NewFix("Add a metric filter and alarm for unauthorized API calls", func(b *edit.Builder) {
					addSignaturePair(pass, b, unauthorizedSignature, group.Name, group.Condition, useAlertsTopic(pass, b))
				})}
			}
			pass.Report(f)
		}
		var missing []*cwSignature
		fixable := true
		for _, s := range others {
			if ok, partial := status(s); !ok {
				missing = append(missing, s)
				fixable = fixable && !partial
			}
		}
		if len(missing) == 0 {
			continue
		}
		f := analysis.Finding{
			Severity: analysis.Info,
			Span:     arn.Span,
			Resource: trail.Name,
			Message:  "no alarmed metric filter on log group " + group.Name + " of trail " + trail.Name + " watches for " + signatureTitles(missing),
			Related:  related,
			Controls: changeControls,
		}
		if fixable {
			f.Fixes = []analysis.Fix{pass.NewFix("Add metric filters and alarms for "+strconv.Itoa(len(missing))+" "+plural(len(missing), "security signature"), func(b *edit.Builder) {
				topic := useAlertsTopic(pass, b)
				for _, s := range missing {
					addSignaturePair(pass, b, s, group.Name, group.Condition, topic)
				}
			})}
		}
		pass.Report(f)
	}
}

// signatureTitles lists signatures for a message: "a, b and c".
func signatureTitles(list []*cwSignature) string {
	titles := make([]string, len(list))
	for i, s := range list {
		titles[i] = s.title
	}
	if len(titles) == 1 {
		return titles[0]
	}
	return strings.Join(titles[:len(titles)-1], ", ") + " and " + titles[len(titles)-1]
}

// addSignaturePair adds the F13 metric filter and alarm for a signature, on
// the named log group, under the given condition.
func addSignaturePair(pass *analysis.Pass, b *edit.Builder, s *cwSignature, group, cond string, topic edit.Value) {
	t := pass.Template
	gated := func(kvs ...edit.KV) edit.Value {
		if cond != "" {
			kvs = append([]edit.KV{kvs[0], {Key: "Condition", Value: edit.Str(cond)}}, kvs[1:]...)
		}
		return edit.Map(kvs...)
	}
	metric := s.metric
	b.AddEntry("Resources", uniqueLogicalID(t, metric+"Filter"), gated(
		edit.KV{Key: "Type", Value: edit.Str(cwMetricFilterType)},
		edit.KV{Key: "Properties", Value: edit.Map(
			edit.KV{Key: "LogGroupName", Value: edit.Ref(group)},
			edit.KV{Key: "FilterPattern", Value: edit.Str(s.fixPattern())},
			edit.KV{Key: "MetricTransformations", Value: edit.List(edit.Map(
				edit.KV{Key: "MetricNamespace", Value: edit.Str(cwNamespace)},
				edit.KV{Key: "MetricName", Value: edit.Str(metric)},
				edit.KV{Key: "MetricValue", Value: edit.Str("1")},
			))},
		)},
	))
	b.AddEntry("Resources", uniqueLogicalID(t, metric+"Alarm"), gated(
		edit.KV{Key: "Type", Value: edit.Str(alarmType)},
		edit.KV{Key: "Properties", Value: alarmProperties(s.description, cwMetric{cwNamespace, metric}, topic)},
	))
}

// alarmProperties are the F13 alarm settings on one metric.
func alarmProperties(description string, m cwMetric, topic edit.Value) edit.Value {
	return edit.Map(
		edit.KV{Key: "AlarmDescription", Value: edit.Str(description)},
		edit.KV{Key: "Namespace", Value: edit.Str(m.namespace)},
		edit.KV{Key: "MetricName", Value: edit.Str(m.name)},
		edit.KV{Key: "Statistic", Value: edit.Str("Sum")},
		edit.KV{Key: "Period", Value: edit.Int(300)},
		edit.KV{Key: "EvaluationPeriods", Value: edit.Int(1)},
		edit.KV{Key: "Threshold", Value: edit.Int(1)},
		edit.KV{Key: "ComparisonOperator", Value: edit.Str("GreaterThanOrEqualToThreshold")},
		edit.KV{Key: "TreatMissingData", Value: edit.Str("notBreaching")},
		edit.KV{Key: "ActionsEnabled", Value: edit.Bool(true)},
		edit.KV{Key: "AlarmActions", Value: edit.List(topic)},
	)
}

// fixPattern is the FilterPattern of a new filter for the signature.
func (s *cwSignature) fixPattern() string {
	if s == unauthorizedSignature {
		return `{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }`
	}
	return s.pattern()
}

// sendTrailToLogs connects a trail to a new F4 log group and delivery role
// and returns the group's logical id. otherKeyUsers are the other consumers
// of the audit key that the same fix adds (the alerts topic), so that a new
// key gets their statements too.
func sendTrailToLogs(pass *analysis.Pass, b *edit.Builder, trail *template.Resource, otherKeyUsers ...string) string {
	group := addTrailLogGroup(pass, b, trail.Name, trail.Condition, logGroupName(pass.Template, trail.Name), otherKeyUsers...)
	role := addTrailLogsRole(pass, b, trail.Name, trail.Condition, edit.GetAtt(group, "Arn"))
	setProperty(b, trail, edit.GetAtt(group, "Arn"), "CloudWatchLogsLogGroupArn")
	setProperty(b, trail, edit.GetAtt(role, "Arn"), "CloudWatchLogsRoleArn")
	return group
}

// FilterAlarmConsistency reports metric filters nobody alarms on, alarms on
// metrics no filter publishes, and filters on log groups that do not exist.
var FilterAlarmConsistency = &analysis.Rule{
	ID:       "SOC2-TPL-109",
	Title:    "Metric filter and alarm do not match",
	Severity: analysis.Warning,
	Controls: []string{"CC7.2", "CC7.3"},
	Doc: `A metric filter and its alarm are linked only by the metric's namespace and name, two strings typed in
two places. The rule reports a metric filter whose metrics no alarm watches; an alarm on a metric that no
filter publishes, when the namespace is one the template's filters use or the metric is a character or two away from
a filter's metric (metrics in other namespaces, which applications publish themselves, are not judged, nor
are the ` + "`AWS/*`" + ` namespaces); and a filter whose ` + "`LogGroupName`" + ` names a log group the template does not
create and that is not a parameter (the filter cannot be created, or reads an empty group).

**Why an auditor cares.** Each of these is an alert that never fires: the filter counts events nobody sees,
or the alarm waits on a metric that stays empty. The monitoring control (CC7.2, CC7.3) looks complete in
the template and does nothing.

**How to fix.** Add an alarm on the filter's metric, correct the alarm's ` + "`Namespace`" + ` or ` + "`MetricName`" + `
(the quick fix offers the closest metric a filter publishes), or point the filter at the log group the
template creates.`,
	Check: checkFilterAlarmConsistency,
}

func checkFilterAlarmConsistency(pass *analysis.Pass) {
	t := pass.Template
	x := alarmIndex(pass)
	// Alarms on metrics no filter publishes.
	nearMiss := map[cwMetric]string{} // filter metrics an alarm nearly names, to the alarm
	for _, a := range t.ResourcesOfType(alarmType) {
		nsNode, nameNode := a.Property("Namespace"), a.Property("MetricName")
		m := cwMetric{nsNode.Text(), nameNode.Text()}
		if m.namespace == "" || m.name == "" || strings.HasPrefix(m.namespace, "AWS/") || len(x.FiltersByName[m]) > 0 {
			continue
		}
		best, found := closestMetric(x, m)
		if !found && !x.Namespaces[m.namespace] {
			continue // an application's own metric
		}
		f := analysis.Finding{
			Span:     nameNode.Span,
			Resource: a.Name,
			Message:  "alarm " + a.Name + " watches metric " + m.String() + ", which no metric filter of the template publishes: it never fires",
		}
		if found {
			nearMiss[best] = a.Name
			f.Message += "; did you mean " + best.String() + "?"
			by := x.Filters[x.FiltersByName[best][0]].Name
			f.Related = []analysis.Related{{Span: t.Resource(by).Key.Span, Message: "metric filter " + by + " publishes " + best.String()}}
			f.Fixes = []analysis.Fix{pass.NewFix("Watch "+best.String(), func(b *edit.Builder) {
				if best.namespace != m.namespace {
					b.Replace(nsNode, edit.Str(best.namespace))
				}
				if best.name != m.name {
					b.Replace(nameNode, edit.Str(best.name))
				}
			})}
		}
		pass.Report(f)
	}
	for _, fl := range x.Filters {
		r := t.Resource(fl.Name)
		// Filters on a log group the template does not create.
		if n := r.Property("LogGroupName"); fl.Group == "" && unknownLogGroup(t, x, n) {
			pass.Report(analysis.Finding{
				Span:     n.Span,
				Resource: r.Name,
				Message:  "metric filter " + r.Name + " reads log group " + describeValue(n) + ", which the template does not create: create the log group in the template, refer to it with !Ref, or pass its name as a parameter",
			})
		}
		if len(fl.Metrics) == 0 {
			continue
		}
		watched, near := false, ""
		for _, m := range fl.Metrics {
			watched = watched || len(x.Alarms[m]) > 0
			if near == "" {
				near = nearMiss[m]
			}
		}
		if watched {
			continue
		}
		m := fl.Metrics[0]
		f := analysis.Finding{
			Span:     r.Key.Span,
			Resource: r.Name,
			Message:  "metric filter " + r.Name + " publishes " + m.String() + " but no alarm watches it: add an AWS::CloudWatch::Alarm on that metric",
		}
		if near != "" {
			f.Message += " (alarm " + near + " watches a misspelt metric)"
		} else {
			cond := r.Condition
			f.Fixes = []analysis.Fix{pass.NewFix("Add an alarm on "+m.String(), func(b *edit.Builder) {
				kvs := []edit.KV{{Key: "Type", Value: edit.Str(alarmType)}}
				if cond != "" {
					kvs = append(kvs, edit.KV{Key: "Condition", Value: edit.Str(cond)})
				}
				kvs = append(kvs, edit.KV{Key: "Properties", Value: alarmProperties("Events matched by metric filter "+r.Name, m, useAlertsTopic(pass, b))})
				b.AddEntry("Resources", uniqueLogicalID(t, r.Name+"Alarm"), edit.Map(kvs...))
			})}
		}
		pass.Report(f)
	}
}

// unknownLogGroup reports whether a filter's LogGroupName designates a log
// group that cannot exist: a literal name (or a Sub of pseudo parameters
// only) that no log group of the template has, or a Ref to a resource that
// is not a log group.
func unknownLogGroup(t *template.Template, x cwIndex, n *template.Node) bool {
	switch {
	case n.IsScalar():
		return n.Value != ""
	case n.IsFn("Ref"):
		return t.Resource(n.Arg.Text()) != nil
	case n.IsFn("Fn::Sub"):
		parts, vars, ok := template.Sub(n)
		if !ok || vars != nil {
			return false
		}
		for _, p := range parts {
			if p.Var != "" && !template.IsPseudoParameter(p.Var) {
				return false
			}
		}
		return x.GroupsBySub[n.Arg.Text()] == ""
	}
	return false
}

func describeValue(n *template.Node) string {
	switch {
	case n.IsScalar():
		return n.Value
	case n.IsFn("Ref"):
		return n.Arg.Text()
	case n.IsFn("Fn::Sub"):
		return n.Arg.Text()
	}
	return "?"
}

// closestMetric returns the filter metric nearest to m: at most two edits
// away over namespace and name, or the same name in another namespace, when
// exactly one is nearest.
func closestMetric(x cwIndex, m cwMetric) (cwMetric, bool) {
	var best cwMetric
	bestD, ties := 3, 0
	for fm := range x.FiltersByName {
		d := suggest.Distance(fm.namespace, m.namespace) + suggest.Distance(fm.name, m.name)
		if fm.name == m.name && d > 2 {
			d = 2 // the right metric in the wrong namespace
		}
		switch {
		case d < bestD:
			best, bestD, ties = fm, d, 1
		case d == bestD:
			ties++
		}
	}
	return best, bestD <= 2 && ties == 1
}

var alarmRules = []*analysis.Rule{AlarmWithoutActions, SecurityMetricFilters, FilterAlarmConsistency}
