package rules

import (
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// This file holds the cross-resource facts that several rules share: which
// resource a value points at, which buckets and log groups hold audit
// evidence, and whether the template is a security baseline. Facts that
// need a walk over the whole template are computed once per analysis with
// pass.Memo.

// nameProperties are the properties that give a resource its physical name,
// by type, so that literal names can be matched to resources.
var nameProperties = map[string]string{
	"AWS::S3::Bucket":                    "BucketName",
	"AWS::Logs::LogGroup":                "LogGroupName",
	"AWS::SNS::Topic":                    "TopicName",
	"AWS::SQS::Queue":                    "QueueName",
	"AWS::IAM::Role":                     "RoleName",
	"AWS::KMS::Key":                      "",
	"AWS::CloudTrail::Trail":             "TrailName",
	"AWS::DynamoDB::Table":               "TableName",
	"AWS::SecretsManager::Secret":        "Name",
	"AWS::Lambda::Function":              "FunctionName",
	"AWS::Config::ConfigurationRecorder": "Name",
}

// physicalName returns the literal physical name of a resource, or "".
func physicalName(r *template.Resource) string {
	if p := nameProperties[r.Type]; p != "" {
		return r.Property(p).Text()
	}
	return ""
}

// resolveResource returns the in-template resource a value designates:
// through Ref, GetAtt, a Sub whose only variable is ${X} or ${X.Attr}, either
// branch of Fn::If, or a literal name or ARN that matches a resource's
// physical name. It returns nil when the value designates nothing in the
// template (a parameter, an import, an external ARN).
func resolveResource(pass *analysis.Pass, n *template.Node) *template.Resource {
	if name := resolveName(pass, n); name != "" {
		return pass.Template.Resource(name)
	}
	return nil
}

// resolveName is resolveResource for callers that need only which resource
// a value designates, not what it contains: it returns the logical id, or
// "". Facts that pair resources (a policy and its bucket) use it, so that
// they do not depend on the contents of every resource they name. A literal
// name is matched through physicalNameIndex, whose value changes only when
// a physical name does, rather than by reading every resource that can have
// one: an edit of a bucket does not concern every check that names
// something literally.
func resolveName(pass *analysis.Pass, n *template.Node) string {
	t := pass.Template
	return resolveNameBy(t, n, func(s string) string {
		index := pass.Fact(physicalNameIndex).(map[string]string)
		best := ""
		for _, c := range physicalNameCandidates(s) {
			name, ok := index[c]
			switch {
			case !ok || name == best:
			case best == "" || t.Resource(name).Key.Start < t.Resource(best).Key.Start:
				best = name
			}
		}
		return best
	})
}

// resolveNameOfType is resolveName restricted to one resource type.
func resolveNameOfType(pass *analysis.Pass, n *template.Node, typ string) string {
	if name := resolveName(pass, n); name != "" && pass.Template.TypeOf(name) == typ {
		return name
	}
	return ""
}

// resolveOfType is resolveResource restricted to one resource type.
func resolveOfType(pass *analysis.Pass, n *template.Node, typ string) *template.Resource {
	if r := resolveResource(pass, n); r != nil && r.Type == typ {
		return r
	}
	return nil
}

// physicalNames is each resource's literal physical name.
var physicalNames = &analysis.ResourceFact{Key: "physicalNames", Compute: func(pass *analysis.Pass) any {
	if name := physicalName(pass.Resource); name != "" {
		return name
	}
	return nil
}}

// physicalNameIndex maps each literal physical name to the first resource,
// in document order, that has it.
var physicalNameIndex = &analysis.Fact{Key: "physicalNameIndex", Compute: func(pass *analysis.Pass) any {
	out := map[string]string{}
	for _, g := range pass.Gather(physicalNames) {
		if name := g.Value.(string); out[name] == "" {
			out[name] = g.Name
		}
	}
	return out
}}

// resolveNameBy is resolveName with byPhysicalName matching a literal name
// or ARN to a logical id.
func resolveNameBy(t *template.Template, n *template.Node, byPhysicalName func(string) string) string {
	if n == nil {
		return ""
	}
	exists := func(name string) string {
		if t.TypeOf(name) != "" {
			return name
		}
		return ""
	}
	switch {
	case n.IsFn("Ref"):
		return exists(n.Arg.Text())
	case n.IsFn("Fn::GetAtt"):
		if res, _, _, ok := template.GetAtt(n); ok {
			return exists(res)
		}
	case n.IsFn("Fn::Sub"):
		parts, _, ok := template.Sub(n)
		if !ok {
			return ""
		}
		for _, p := range parts {
			if p.Var == "" || strings.HasPrefix(p.Var, "AWS::") {
				continue
			}
			name, _, _ := strings.Cut(p.Var, ".")
			if exists(name) != "" {
				return name
			}
		}
	case n.IsFn("Fn::If"):
		if n.Arg.Kind == template.Sequence && len(n.Arg.Items) == 3 {
			if name := resolveNameBy(t, n.Arg.Items[1], byPhysicalName); name != "" {
				return name
			}
			return resolveNameBy(t, n.Arg.Items[2], byPhysicalName)
		}
	case n.IsScalar() && n.Value != "":
		return byPhysicalName(n.Value)
	}
	return ""
}

// physicalNameCandidates returns the names a literal may be: itself, and
// the name an ARN ends in (arn:aws:s3:::name, ...:log-group:name:*).
func physicalNameCandidates(s string) []string {
	candidates := []string{s}
	if strings.HasPrefix(s, "arn:") {
		rest := s
		if i := strings.LastIndex(rest, ":::"); i >= 0 {
			candidates = append(candidates, strings.SplitN(rest[i+3:], "/", 2)[0])
		}
		if i := strings.Index(rest, ":log-group:"); i >= 0 {
			candidates = append(candidates, strings.TrimSuffix(strings.TrimSuffix(rest[i+len(":log-group:"):], ":*"), "*"))
		}
	}
	return candidates
}

// tagValue returns the literal value of a tag (key matched
// case-insensitively), or "".
func tagValue(r *template.Resource, key string) string {
	for _, tg := range tagsOf(r) {
		if strings.EqualFold(tg.Key, key) {
			return tg.Value.Text()
		}
	}
	return ""
}

// classification returns the resource's DataClassification tag, lower-cased.
func classification(r *template.Resource) string {
	return strings.ToLower(tagValue(r, "DataClassification"))
}

// isConfidential reports whether a resource is tagged as holding
// confidential or restricted data.
func isConfidential(r *template.Resource) bool {
	switch classification(r) {
	case "confidential", "restricted", "secret", "sensitive", "pii":
		return true
	}
	return false
}

// auditBuckets maps each in-template bucket that receives audit evidence to
// the reason, e.g. "trail Trail writes its logs here": trail and Config
// delivery buckets, flow-log and load-balancer log destinations, S3
// access-log targets, and buckets tagged DataClassification: audit.
func auditBuckets(pass *analysis.Pass) map[string]string {
	return pass.Fact(auditBucketsFact).(map[string]string)
}

// auditBucketReason returns why bucket name receives audit evidence, if it
// does (see auditBuckets). The check depends on that bucket's entry only.
func auditBucketReason(pass *analysis.Pass, name string) (string, bool) {
	return analysis.FactAt[string](pass, auditBucketsFact, name)
}

// auditBucketMark is what one resource says about which buckets hold audit
// evidence: bucket Bucket does, for reason Why. The first mark of a bucket,
// in document order, gives the reason.
type auditBucketMark struct {
	Bucket, Why string
}

// auditBucketMarks are each trail's, Config delivery channel's, flow log's,
// load balancer's and bucket's marks, gathered per resource so that an edit
// recomputes only the edited resource's (a bucket's tags, say) rather than
// those of every bucket and every log source.
var auditBucketMarks = &analysis.ResourceFact{Key: "auditBucketMarks", Compute: func(pass *analysis.Pass) any {
	r := pass.Resource
	var out []auditBucketMark
	mark := func(n *template.Node, why string) {
		if b := resolveNameOfType(pass, n, bucketType); b != "" {
			out = append(out, auditBucketMark{Bucket: b, Why: why})
		}
	}
	switch r.Type {
	case trailType:
		mark(r.Property("S3BucketName"), "trail "+r.Name+" writes its logs here")
	case "AWS::Config::DeliveryChannel":
		mark(r.Property("S3BucketName"), "Config delivery channel "+r.Name+" writes here")
	case "AWS::EC2::FlowLog":
		if strings.EqualFold(r.Property("LogDestinationType").Text(), "s3") {
			mark(r.Property("LogDestination"), "flow log "+r.Name+" writes here")
		}
	case "AWS::ElasticLoadBalancingV2::LoadBalancer":
		for _, a := range r.Property("LoadBalancerAttributes").List() {
			if a.Get("Key").Text() == "access_logs.s3.bucket" {
				mark(a.Get("Value"), "load balancer "+r.Name+" writes its access logs here")
			}
		}
	case bucketType:
		mark(r.PropertyPath("LoggingConfiguration", "DestinationBucketName"), "bucket "+r.Name+" writes its access logs here")
		if classification(r) == "audit" {
			out = append(out, auditBucketMark{Bucket: r.Name, Why: "it is tagged DataClassification: audit"})
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}}

var auditBucketsFact = &analysis.Fact{Key: "auditBuckets", Compute: func(pass *analysis.Pass) any {
	out := map[string]string{}
	for _, g := range pass.Gather(auditBucketMarks) {
		for _, m := range g.Value.([]auditBucketMark) {
			if _, seen := out[m.Bucket]; !seen {
				out[m.Bucket] = m.Why
			}
		}
	}
	return out
}}

// accessLogTargets returns the buckets that receive S3 server access logs.
func accessLogTargets(pass *analysis.Pass) map[string]bool {
	return pass.Fact(accessLogTargetsFact).(map[string]bool)
}

var accessLogTargetsFact = &analysis.Fact{Key: "accessLogTargets", Compute: func(pass *analysis.Pass) any {
	out := map[string]bool{}
	for _, g := range pass.Gather(accessLogTarget) {
		out[g.Value.(string)] = true
	}
	return out
}}

// accessLogTarget is the in-template bucket a bucket sends its server
// access logs to, gathered per bucket so that an edit of one bucket
// recomputes its own target only.
var accessLogTarget = &analysis.ResourceFact{Key: "accessLogTarget", Compute: func(pass *analysis.Pass) any {
	r := pass.Resource
	if r.Type != bucketType {
		return nil
	}
	if b := resolveNameOfType(pass, r.PropertyPath("LoggingConfiguration", "DestinationBucketName"), bucketType); b != "" {
		return b
	}
	return nil
}}

var auditLogGroupName = regexp.MustCompile(`(?i)cloudtrail|flow-?logs?|vpc-?flow|audit|security`)

// auditLogGroups maps each in-template log group that holds audit or
// security logs to the reason: trail and flow-log destinations, groups
// tagged as audit or security data, and groups whose name says so.
func auditLogGroups(pass *analysis.Pass) map[string]string {
	return pass.Fact(auditLogGroupsFact).(map[string]string)
}

// auditLogGroupReason returns why log group name holds audit logs, if it
// does (see auditLogGroups). The check depends on that group's entry only.
func auditLogGroupReason(pass *analysis.Pass, name string) (string, bool) {
	return analysis.FactAt[string](pass, auditLogGroupsFact, name)
}

// auditLogGroupMark is what one resource says about which log groups hold
// audit logs: group Group does, for reason Why. A mark that does not
// Override counts only when no earlier resource marked the group.
type auditLogGroupMark struct {
	Group, Why string
	Override   bool
}

// auditLogGroupMarks are each trail's, flow log's and log group's marks,
// gathered per resource so that an edit recomputes only the edited
// resource's (a log group's tags, say) rather than those of every group.
var auditLogGroupMarks = &analysis.ResourceFact{Key: "auditLogGroupMarks", Compute: func(pass *analysis.Pass) any {
	r := pass.Resource
	var out []auditLogGroupMark
	mark := func(n *template.Node, why string) {
		if g := resolveNameOfType(pass, n, "AWS::Logs::LogGroup"); g != "" {
			out = append(out, auditLogGroupMark{Group: g, Why: why})
		}
	}
	switch r.Type {
	case trailType:
		mark(r.Property("CloudWatchLogsLogGroupArn"), "trail "+r.Name+" sends its events here")
	case "AWS::EC2::FlowLog":
		mark(r.Property("LogGroupName"), "flow log "+r.Name+" writes here")
		mark(r.Property("LogDestination"), "flow log "+r.Name+" writes here")
	case "AWS::Logs::LogGroup":
		switch c := classification(r); c {
		case "audit", "security":
			out = append(out, auditLogGroupMark{Group: r.Name, Why: "it is tagged DataClassification: " + c, Override: true})
		default:
			if auditLogGroupName.MatchString(r.Property("LogGroupName").Text()) {
				out = append(out, auditLogGroupMark{Group: r.Name, Why: "its name says it holds audit logs"})
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}}

var auditLogGroupsFact = &analysis.Fact{Key: "auditLogGroups", Compute: func(pass *analysis.Pass) any {
	out := map[string]string{}
	for _, g := range pass.Gather(auditLogGroupMarks) {
		for _, m := range g.Value.([]auditLogGroupMark) {
			if _, seen := out[m.Group]; m.Override || !seen {
				out[m.Group] = m.Why
			}
		}
	}
	return out
}}

// baselineTypes are the account-level security services whose presence
// makes a template a security baseline.
var baselineTypes = []string{trailType, "AWS::Config::ConfigurationRecorder", "AWS::Config::DeliveryChannel", "AWS::GuardDuty::Detector", "AWS::SecurityHub::Hub"}

var baselineDescription = regexp.MustCompile(`(?i)baseline|landing.?zone|security foundation|account (setup|bootstrap)`)

// isBaseline reports whether the template claims to be a security baseline
// (RULES.md section 4): an explicit Metadata soc2ls profile wins, then the
// project's configured profile (Options.Profile); otherwise declaring a
// trail, recorder, delivery channel, detector or Security Hub, or a
// description that says so.
func isBaseline(pass *analysis.Pass) bool {
	return pass.Memo("isBaseline", func() any {
		t := pass.Template
		switch strings.ToLower(t.Section("Metadata").Path("soc2ls", "profile").Text()) {
		case "baseline":
			return true
		case "workload":
			return false
		}
		switch pass.Options.Profile {
		case "baseline":
			return true
		case "workload":
			return false
		}
		for _, typ := range baselineTypes {
			if len(t.ResourcesOfType(typ)) > 0 {
				return true
			}
		}
		return baselineDescription.MatchString(t.Section("Description").Text())
	}).(bool)
}

// toggleParameter returns the first parameter whose name matches one of the
// patterns (case-insensitive regular expressions), e.g. an EnableAWSConfig
// or ConfigAlreadyEnabled parameter saying that a service is managed by this
// switch or elsewhere.
func toggleParameter(t *template.Template, patterns ...string) *template.Parameter {
	for _, p := range t.AllParameters() {
		if isToggleName(p.Name, patterns) {
			return p
		}
	}
	return nil
}

// toggleRegexps holds the compiled toggle patterns (pattern ->
// *regexp.Regexp): rules run concurrently over templates, and compiling a
// pattern per parameter was most of what an edit of a parameter cost them.
var toggleRegexps sync.Map

// isToggleName reports whether a parameter name matches one of the toggle
// patterns, as toggleParameter matches them.
func isToggleName(name string, patterns []string) bool {
	for _, pat := range patterns {
		re, ok := toggleRegexps.Load(pat)
		if !ok {
			re, _ = toggleRegexps.LoadOrStore(pat, regexp.MustCompile(`(?i)`+pat))
		}
		if re.(*regexp.Regexp).MatchString(name) {
			return true
		}
	}
	return false
}

// resourcesOfTypes returns the resources of the given types in document
// order. Facts that look at a few types list them this way rather than
// walking every resource, so that an edit of a resource of another type
// leaves them, and the checks that use them, untouched.
func resourcesOfTypes(t *template.Template, types ...string) []*template.Resource {
	var out []*template.Resource
	lists := 0
	for _, typ := range types {
		if rs := t.ResourcesOfType(typ); len(rs) > 0 {
			out = append(out, rs...)
			lists++
		}
	}
	if lists > 1 {
		slices.SortFunc(out, func(a, b *template.Resource) int { return a.Key.Start - b.Key.Start })
	}
	return out
}

// namedTypes are the types whose resources can have a literal physical name.
var namedTypes = typesWith(nameProperties)

// iamNamedTypes are the types of iamNameProperty.
var iamNamedTypes = typesWith(iamNameProperty)

// typesWith returns the keys of m whose value is not empty.
func typesWith(m map[string]string) []string {
	var out []string
	for typ, prop := range m {
		if prop != "" {
			out = append(out, typ)
		}
	}
	sort.Strings(out)
	return out
}
