package rules

import (
	"regexp"
	"strings"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/template"
)

const (
	cfgRecorderType        = "AWS::Config::ConfigurationRecorder"
	cfgChannelType         = "AWS::Config::DeliveryChannel"
	cfgRuleType            = "AWS::Config::ConfigRule"
	cfgConformancePackType = "AWS::Config::ConformancePack"
	cfgRoleType            = "AWS::IAM::Role"
)

// cfgRuleTypes are the resources that evaluate recorded configuration and
// therefore need a running recorder.
var cfgRuleTypes = []string{cfgRuleType, cfgConformancePackType}

// ConfigRecorderCoverage reports recorders that record only part of the
// inventory, or whose global resource recording is not tied to one region.
var ConfigRecorderCoverage = &analysis.Rule{
	ID:       "SOC2-CFG-001",
	Title:    "AWS Config recorder records only part of the inventory",
	Severity: analysis.Warning,
	Controls: []string{"CC8.1", "CC7.1", "CC3.4", "CC2.1"},
	Types:    []string{cfgRecorderType},
	Doc: `A configuration recorder with ` + "`RecordingGroup.AllSupported: false`" + `, or with only a ` + "`ResourceTypes`" + `
list, keeps history for the types somebody thought of when the template was written. Resource types added
later (a new database engine, a new network service) change without any record. A second, informational
finding concerns ` + "`IncludeGlobalResourceTypes`" + `: IAM users, roles and policies are global, so they
should be recorded in exactly one region. Written as a literal, the setting either records them in every
region the stack is deployed to (duplicate items and cost) or in none.

**Why an auditor cares.** Change management (CC8.1) and the assessment of changes (CC3.4) are evidenced by a
configuration history that covers every resource for the whole period; a partial recorder leaves gaps that
cannot be filled afterwards, and the configuration inventory is part of the information controls rely on
(CC2.1).

**How to fix.** Write ` + "`RecordingGroup: {AllSupported: true, IncludeGlobalResourceTypes: !If [IsPrimaryRegion, true, false]}`" + `,
with ` + "`IsPrimaryRegion`" + ` comparing ` + "`AWS::Region`" + ` with a ` + "`PrimaryRegion`" + ` parameter. The quick fixes
do both, adding the condition and the parameter when they are missing.`,
	Check: checkRecorderCoverage,
}

func checkRecorderCoverage(pass *analysis.Pass) {
	t, r := pass.Template, pass.Resource
	rg := r.Property("RecordingGroup")
	if rg != nil && rg.Kind != template.Mapping && rg.Kind != template.Null {
		return // written as a function call: unknown
	}
	all := rg.Get("AllSupported")
	types := rg.Get("ResourceTypes")
	strategy := rg.Path("RecordingStrategy", "UseOnly").Text()
	partialList := len(types.List()) > 0 || strategy == "INCLUSION_BY_RESOURCE_TYPES" || strategy == "EXCLUSION_BY_RESOURCE_TYPES"
	verdict, witness := t.Eval(all).Judge(func(a template.Alt) bool {
		if a.Kind == template.Absent {
			return rg != nil && partialList
		}
		b, ok := a.Bool()
		return ok && !b
	})
	if verdict != template.Pass {
		f := analysis.Finding{Span: pass.KeySpan(),
			Message: "configuration recorder " + r.Name + " records only some resource types: set RecordingGroup.AllSupported to true"}
		switch {
		case all != nil && all.Kind != template.Null:
			f.Span = all.Span
			if witness.Kind == template.Literal && witness.Node != all {
				f.Message = "configuration recorder " + r.Name + " may record only some resource types: AllSupported can be " + witness.Text()
			}
		case types != nil:
			f.Span = rg.Pair("ResourceTypes").Key.Span
			f.Message = "configuration recorder " + r.Name + " records only the types listed in ResourceTypes: set RecordingGroup.AllSupported to true and drop the list"
		case rg.Pair("ExclusionByResourceTypes") != nil:
			f.Span = rg.Pair("ExclusionByResourceTypes").Key.Span
			f.Message = "configuration recorder " + r.Name + " records only some resource types (every type but those in ExclusionByResourceTypes): set RecordingGroup.AllSupported to true and drop the exclusions"
		}
		if fix, ok := recordAllSupportedFix(pass, r, rg); ok {
			f.Fixes = []analysis.Fix{fix}
		}
		pass.ReportVerdict(verdict, witness, f)
		return
	}
	// Global resource types: only judged when the recorder records
	// everything (otherwise the setting does not apply).
	if rec, _ := t.Eval(all).Judge(func(a template.Alt) bool { b, ok := a.Bool(); return a.Kind == template.Absent || (ok && b) }); rec != template.Definite {
		return
	}
	global := rg.Get("IncludeGlobalResourceTypes")
	if global != nil && global.Kind != template.Scalar && global.Kind != template.Null {
		return // decided by a condition or a parameter
	}
	on, _ := global.Bool()
	if on && r.Condition != "" && conditionUses(t, r.Condition, "AWS::Region", 0) {
		return // the recorder itself exists in one region only
	}
	if on && !severalRegions(pass) {
		return // a single-region stack records global types once
	}
	f := analysis.Finding{Severity: analysis.Info, Span: pass.KeySpan()}
	if on {
		f.Span = global.Span
		f.Message = "configuration recorder " + r.Name + " records IAM and other global resources in every region the stack is deployed to: use IncludeGlobalResourceTypes: !If [IsPrimaryRegion, true, false]"
	} else {
		if global != nil && global.Kind == template.Scalar {
			f.Span = global.Span
		}
		f.Message = "configuration recorder " + r.Name + " never records IAM users, roles and policies: use IncludeGlobalResourceTypes: !If [IsPrimaryRegion, true, false]"
	}
	f.Fixes = []analysis.Fix{pass.NewFix("Record global resources in the primary region only", func(b *edit.Builder) {
		v := edit.If(ensureCondition(pass, b, condIsPrimaryRegion), edit.Bool(true), edit.Bool(false))
		switch {
		case global != nil && global.Kind == template.Scalar:
			b.Replace(global, v)
		case rg != nil && rg.Kind == template.Mapping && len(rg.Pairs) > 0:
			b.Insert(rg, "IncludeGlobalResourceTypes", v)
		case rg != nil:
			b.Set(r.Properties, "RecordingGroup", edit.Map(
				edit.KV{Key: "AllSupported", Value: edit.Bool(true)},
				edit.KV{Key: "IncludeGlobalResourceTypes", Value: v}))
		case r.Properties != nil && r.Properties.Kind == template.Mapping:
			b.Insert(r.Properties, "RecordingGroup", edit.Map(
				edit.KV{Key: "AllSupported", Value: edit.Bool(true)},
				edit.KV{Key: "IncludeGlobalResourceTypes", Value: v}))
		}
	})}
	pass.Report(f)
}

// recordAllSupportedFix sets AllSupported: true and drops the type lists
// that contradict it. It is offered only where the value is written in
// place, and only where the edits cannot collide (a new key is appended
// after the last pair, which must then not be one that goes).
func recordAllSupportedFix(pass *analysis.Pass, r *template.Resource, rg *template.Node) (analysis.Fix, bool) {
	all := rg.Get("AllSupported")
	if rg == nil || rg.Kind != template.Mapping || len(rg.Pairs) == 0 || (all != nil && all.Kind != template.Scalar) {
		return analysis.Fix{}, false
	}
	drop := []string{"ResourceTypes", "ExclusionByResourceTypes", "RecordingStrategy"}
	if all == nil {
		last := rg.Pairs[len(rg.Pairs)-1].Key.Value
		for _, k := range drop {
			if k == last {
				return analysis.Fix{}, false
			}
		}
	}
	return pass.NewFix("Record all supported resource types", func(b *edit.Builder) {
		if all != nil {
			b.Replace(all, edit.Bool(true))
		} else {
			b.Insert(rg, "AllSupported", edit.Bool(true))
		}
		for _, k := range drop {
			b.Delete(rg, k)
		}
	}), true
}

// ConfigRecorderRole reports recorders whose in-template role lacks the
// permissions AWS Config needs.
var ConfigRecorderRole = &analysis.Rule{
	ID:       "SOC2-CFG-002",
	Title:    "AWS Config recorder role lacks the AWS_ConfigRole policy",
	Severity: analysis.Warning,
	Controls: []string{"CC8.1", "CC6.3"},
	Types:    []string{cfgRecorderType},
	Doc: `The recorder's ` + "`RoleARN`" + ` points at an IAM role of the template that does not carry the AWS managed
policy ` + "`service-role/AWS_ConfigRole`" + `. That policy holds the read permissions Config needs to describe
every resource type; a hand-written subset silently stops recording the types it forgot, and the recorder
reports failures instead of configuration items.

**Why an auditor cares.** The configuration history is change-management evidence (CC8.1) only if the
recorder can read everything it is asked to record. Using the AWS-maintained policy (or the
` + "`AWSServiceRoleForConfig`" + ` service-linked role) also shows that the recorder has exactly the access AWS
defines for it, not more (CC6.3).

**How to fix.** Add ` + "`!Sub 'arn:${AWS::Partition}:iam::aws:policy/service-role/AWS_ConfigRole'`" + ` to the role's
` + "`ManagedPolicyArns`" + `, or point ` + "`RoleARN`" + ` at the service-linked role
` + "`arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig`" + `.
The quick fix attaches the managed policy.`,
	Check: checkRecorderRole,
}

var configManagedPolicy = regexp.MustCompile(`policy/service-role/AWS_?ConfigRole$`)

func checkRecorderRole(pass *analysis.Pass) {
	r := pass.Resource
	arn := r.Property("RoleARN")
	role := resolveOfType(pass, arn, cfgRoleType)
	if role == nil {
		return // the service-linked role, or a role managed elsewhere
	}
	managed := role.Property("ManagedPolicyArns")
	for _, p := range managed.List() {
		text := p.Text()
		if p.IsFn("Fn::Sub") {
			text = p.Arg.Text()
		} else if p.Kind != template.Scalar {
			return // a parameter or an import: unknown
		}
		if configManagedPolicy.MatchString(text) {
			return
		}
	}
	if managed != nil && managed.Kind != template.Sequence && managed.Kind != template.Null && managed.Kind != template.Scalar {
		return
	}
	policy := edit.Sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AWS_ConfigRole")
	f := analysis.Finding{
		Span:    arn.Span,
		Message: "configuration recorder " + r.Name + " uses role " + role.Name + ", which lacks the AWS_ConfigRole managed policy: attach it so Config can read every resource type",
		Related: []analysis.Related{{Span: role.Key.Span, Message: "role " + role.Name}},
	}
	switch {
	case managed != nil && managed.Kind == template.Sequence:
		f.Fixes = []analysis.Fix{pass.NewFix("Attach AWS_ConfigRole to "+role.Name, func(b *edit.Builder) { b.Append(managed, policy) })}
	case managed == nil && role.Properties != nil && role.Properties.Kind == template.Mapping:
		f.Fixes = []analysis.Fix{pass.NewFix("Attach AWS_ConfigRole to "+role.Name, func(b *edit.Builder) {
			b.Insert(role.Properties, "ManagedPolicyArns", edit.List(policy))
		})}
	}
	pass.Report(f)
}

// ConfigRuleDependsOnRecorder reports Config rules that CloudFormation may
// create before the recorder.
var ConfigRuleDependsOnRecorder = &analysis.Rule{
	ID:       "SOC2-CFG-003",
	Title:    "AWS Config rule does not depend on the recorder",
	Severity: analysis.Error,
	Controls: []string{"CC8.1"},
	Types:    cfgRuleTypes,
	Doc: `A Config rule or conformance pack is created by calling Config, which refuses it with
` + "`NoAvailableConfigurationRecorderException`" + ` while no recorder exists. When the recorder is in the same
template, CloudFormation creates resources in parallel unless told otherwise, so the rule must ` + "`DependsOn`" + `
the recorder (directly or through another resource); otherwise the first deployment fails, or succeeds only
by luck of timing.

**Why an auditor cares.** The rules are the detective controls that show configuration is evaluated
continuously (CC8.1, CC7.1). A baseline that cannot be deployed reliably from its template is weak evidence
that the reviewed template is what runs.

**How to fix.** Add ` + "`DependsOn: ConfigRecorder`" + ` (the recorder's logical id), and give the rule the
recorder's ` + "`Condition`" + ` so that it is not created when the recorder is not. The quick fix does both.`,
	Check: checkConfigRuleDependsOn,
}

func checkConfigRuleDependsOn(pass *analysis.Pass) {
	t, r := pass.Template, pass.Resource
	recorders := t.ResourcesOfType(cfgRecorderType)
	if len(recorders) == 0 || dependsOnRecorderOf(pass, r.Name) {
		return
	}
	rec := recorders[0]
	for _, x := range recorders {
		if x.Condition == r.Condition {
			rec = x
			break
		}
	}
	f := analysis.Finding{
		Span:    pass.KeySpan(),
		Message: "Config " + cfgKind(r) + " " + r.Name + " does not depend on configuration recorder " + rec.Name + ": it can be created first and fail with NoAvailableConfigurationRecorderException; add DependsOn: " + rec.Name,
		Related: []analysis.Related{{Span: rec.Key.Span, Message: "configuration recorder " + rec.Name}},
	}
	if d := r.Value.Get("DependsOn"); d != nil {
		f.Span = d.Span
	}
	if r.Value.Kind == template.Mapping {
		f.Fixes = []analysis.Fix{pass.NewFix("Add DependsOn: "+rec.Name, func(b *edit.Builder) {
			dependOn(b, r, rec.Name, rec.Condition)
		})}
	}
	pass.Report(f)
}

// dependOn makes r depend on the resource target, copying target's
// condition when r has none (a rule must not outlive its recorder).
func dependOn(b *edit.Builder, r *template.Resource, target, cond string) {
	addDependsOn(b, r, target)
	if r.ConditionNode == nil && cond != "" {
		b.Insert(r.Value, "Condition", edit.Str(cond))
	}
}

func cfgKind(r *template.Resource) string {
	if r.Type == cfgConformancePackType {
		return "conformance pack"
	}
	return "rule"
}

// cfgEdge is one dependency of a resource on another: a DependsOn entry or
// a Ref, GetAtt or Sub reference.
type cfgEdge struct {
	To        string
	DependsOn bool
}

// isDependency reports whether ref, made by resource from, is a dependency
// on another resource of the template.
func isDependency(t *template.Template, from string, ref template.Reference) bool {
	switch ref.Kind {
	case template.RefRef, template.RefGetAtt, template.RefSub, template.RefDependsOn:
		return ref.Target != from && t.TypeOf(ref.Target) != ""
	}
	return false
}

// cfgDependencies are each resource's dependencies, in document order,
// gathered per resource so that an edit recomputes the edited resource's
// only; what does not change them (a character typed in a value) changes
// no fact built from them.
var cfgDependencies = &analysis.ResourceFact{Key: "cfgDependencies", Compute: func(pass *analysis.Pass) any {
	r, t := pass.Resource, pass.Template
	var out []cfgEdge
	for _, ref := range t.RefsFrom(r.Name) {
		if isDependency(t, r.Name, ref) {
			out = append(out, cfgEdge{ref.Target, ref.Kind == template.RefDependsOn})
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}}

// resourceDeps maps each resource to the resources it depends on.
func resourceDeps(pass *analysis.Pass) map[string][]cfgEdge {
	return pass.Fact(resourceDepsFact).(map[string][]cfgEdge)
}

var resourceDepsFact = &analysis.Fact{Key: "cfgResourceDeps", Compute: func(pass *analysis.Pass) any {
	out := map[string][]cfgEdge{}
	for _, g := range pass.Gather(cfgDependencies) {
		out[g.Name] = g.Value.([]cfgEdge)
	}
	return out
}}

// dependsOnRecorderOf reports whether resource name depends, directly or
// transitively, on a configuration recorder of the template. The check
// depends on that resource's entry of the fact only.
func dependsOnRecorderOf(pass *analysis.Pass, name string) bool {
	on, _ := analysis.FactAt[bool](pass, dependsOnRecorderFact, name)
	return on
}

var dependsOnRecorderFact = &analysis.Fact{Key: "cfgDependsOnRecorder", Compute: func(pass *analysis.Pass) any {
	deps := resourceDeps(pass)
	reverse := map[string][]string{}
	for from, edges := range deps {
		for _, e := range edges {
			reverse[e.To] = append(reverse[e.To], from)
		}
	}
	seen := map[string]bool{}
	var queue []string
	for _, r := range pass.Template.ResourcesOfType(cfgRecorderType) {
		queue = append(queue, r.Name)
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, from := range reverse[n] {
			if !seen[from] {
				seen[from] = true
				queue = append(queue, from)
			}
		}
	}
	return seen
}}

// dependencyPath returns the chain of dependencies from resource from to
// resource to (breadth first, so the shortest), or nil.
func dependencyPath(pass *analysis.Pass, from, to string) []cfgEdge {
	deps := resourceDeps(pass)
	type step struct {
		prev string
		edge cfgEdge
	}
	came := map[string]step{from: {}}
	queue := []string{from}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, e := range deps[n] {
			if _, seen := came[e.To]; seen {
				continue
			}
			came[e.To] = step{n, e}
			if e.To == to {
				var path []cfgEdge
				for at := to; at != from; at = came[at].prev {
					path = append([]cfgEdge{came[at].edge}, path...)
				}
				return path
			}
			queue = append(queue, e.To)
		}
	}
	return nil
}

// ConfigDeliveryBucketPolicy reports delivery channels whose in-template
// bucket does not let AWS Config write.
var ConfigDeliveryBucketPolicy = &analysis.Rule{
	ID:       "SOC2-CFG-004",
	Title:    "Config delivery bucket policy does not allow AWS Config",
	Severity: analysis.Error,
	Controls: []string{"CC8.1"},
	Types:    []string{cfgChannelType},
	Doc: `A delivery channel writes configuration snapshots and history to an S3 bucket. When that bucket is
created by the same template, its bucket policy must let the ` + "`config.amazonaws.com`" + ` service check the bucket
(` + "`s3:GetBucketAcl`" + `, ` + "`s3:ListBucket`" + `) and write under ` + "`<prefix>/AWSLogs/<account>/Config/`" + `
(` + "`s3:PutObject`" + `). Without those statements the channel is refused with "Insufficient delivery policy" and the
recorder never starts. AWS Config also does not deliver to a bucket with S3 Object Lock enabled, which the
rule reports too.

**Why an auditor cares.** Without delivery there is no configuration history to show for the audit period:
the change-management evidence (CC8.1) the recorder was meant to produce does not exist.

**How to fix.** Add the three statements to the bucket's policy, each for the ` + "`config.amazonaws.com`" + `
principal and limited with ` + "`aws:SourceAccount`" + ` to the account, the write also requiring
` + "`s3:x-amz-acl: bucket-owner-full-control`" + `. The quick fix adds the missing ones, or creates the bucket
policy (with a statement refusing plain HTTP as well). Keep configuration history in a bucket without
Object Lock (protect it with versioning, a lifecycle rule and the bucket policy instead).`,
	Check: checkConfigDeliveryBucket,
}

const configService = "config.amazonaws.com"

// configBucketGrant is one permission the delivery channel needs on its
// bucket.
type configBucketGrant struct {
	sid, action string
	object      bool // on the delivery path rather than the bucket
}

var configBucketGrants = []configBucketGrant{
	{"AWSConfigBucketPermissionsCheck", "s3:GetBucketAcl", false},
	{"AWSConfigBucketExistenceCheck", "s3:ListBucket", false},
	{"AWSConfigBucketDelivery", "s3:PutObject", true},
}

var accountID = regexp.MustCompile(`\b\d{12}\b`)

func checkConfigDeliveryBucket(pass *analysis.Pass) {
	t, ch := pass.Template, pass.Resource
	bucketNode := ch.Property("S3BucketName")
	bucket := resolveOfType(pass, bucketNode, bucketType)
	if bucket == nil {
		return
	}
	if objectLocked(bucket) {
		pass.Report(analysis.Finding{
			Span:    bucketNode.Span,
			Message: "delivery channel " + ch.Name + " writes to bucket " + bucket.Name + ", which has S3 Object Lock enabled: AWS Config does not deliver to such buckets; give configuration history a bucket without Object Lock",
			Related: []analysis.Related{{Span: bucket.Key.Span, Message: "bucket " + bucket.Name}},
		})
	}
	prefix, known := configPrefix(ch)
	policies := policiesOf(pass, bucket)
	var missing []configBucketGrant
	for _, g := range configBucketGrants {
		if !bucketGrantsConfig(t, policies, bucket, g, prefix, known) {
			missing = append(missing, g)
		}
	}
	if len(missing) == 0 {
		return
	}
	actions := make([]string, len(missing))
	for i, g := range missing {
		actions[i] = g.action
	}
	f := analysis.Finding{Span: bucketNode.Span}
	if len(policies) == 0 {
		f.Message = "delivery channel " + ch.Name + " writes to bucket " + bucket.Name + ", which has no bucket policy allowing config.amazonaws.com: the channel is refused with \"Insufficient delivery policy\"; add a policy granting " + strings.Join(actions, ", ")
	} else {
		f.Message = "delivery channel " + ch.Name + " writes to bucket " + bucket.Name + ", whose policy " + policies[0].Name + " does not allow config.amazonaws.com " + strings.Join(actions, ", ") + ": the channel is refused with \"Insufficient delivery policy\""
		f.Related = []analysis.Related{{Span: policies[0].Key.Span, Message: "bucket policy " + policies[0].Name}}
	}
	path, ok := configObjectPath(ch, prefix, known)
	if ok && (len(policies) == 0 || isSequence(policies[0].PropertyPath("PolicyDocument", "Statement"))) {
		f.Fixes = []analysis.Fix{pass.NewFix("Allow AWS Config to deliver to "+bucket.Name, func(b *edit.Builder) {
			addConfigBucketStatements(pass, b, bucket, path, missing)
		})}
	}
	pass.Report(f)
}

// objectLocked reports whether a bucket is created with S3 Object Lock.
func objectLocked(bucket *template.Resource) bool {
	on, _ := bucket.Property("ObjectLockEnabled").Bool()
	return on || bucket.PropertyPath("ObjectLockConfiguration", "ObjectLockEnabled").Text() == "Enabled"
}

// nodeValue converts a literal, a Ref or a GetAtt into a value a fix can
// write elsewhere.
func nodeValue(t *template.Template, n *template.Node) (edit.Value, bool) {
	switch {
	case n.IsScalar() && n.Value != "":
		return edit.Str(n.Value), true
	case n.IsFn("Ref") && n.Arg.IsScalar():
		return edit.Ref(n.Arg.Value), true
	case n.IsFn("Fn::GetAtt"):
		if res, attr, _, ok := template.GetAtt(n); ok {
			return edit.GetAtt(res, attr), true
		}
	}
	return nil, false
}

func isSequence(n *template.Node) bool { return n != nil && n.Kind == template.Sequence }

// configPrefix returns the channel's literal S3KeyPrefix (without slashes
// at either end), and whether it is known.
func configPrefix(ch *template.Resource) (string, bool) {
	p := ch.Property("S3KeyPrefix")
	if p == nil || p.Kind == template.Null || refTarget(p) == "AWS::NoValue" {
		return "", true
	}
	if p.Kind != template.Scalar {
		return "", false
	}
	return strings.Trim(p.Value, "/"), true
}

// configObjectPath is the Sub text, after "${Bucket.Arn}/", of the objects
// the channel writes.
func configObjectPath(ch *template.Resource, prefix string, known bool) (string, bool) {
	tail := "AWSLogs/${AWS::AccountId}/Config/*"
	switch {
	case known && prefix == "":
		return tail, true
	case known:
		return prefix + "/" + tail, true
	}
	if p := refTarget(ch.Property("S3KeyPrefix")); p != "" && !strings.HasPrefix(p, "AWS::") {
		return "${" + p + "}/" + tail, true
	}
	return "", false
}

// bucketGrantsConfig reports whether one of the policies allows Config the
// grant on the bucket (or on its delivery path).
func bucketGrantsConfig(t *template.Template, policies []*template.Resource, bucket *template.Resource, g configBucketGrant, prefix string, known bool) bool {
	target := bucketPlaceholderARN
	if g.object {
		if known && prefix != "" {
			target += "/" + prefix
		}
		target += "/AWSLogs/\x00other/Config/x"
	}
	for _, pol := range policies {
		for _, st := range statements(pol.Property("PolicyDocument")) {
			if effect(st) != "allow" || !principalHasService(st, configService) || !actionsCover(st, g.action) || excludesConfig(st) {
				continue
			}
			for _, r := range st.Get("Resource").List() {
				s, ok := bucketARNPattern(t, r, bucket)
				if !ok {
					continue
				}
				s = accountID.ReplaceAllString(s, "\x00other")
				if globMatch(s, target) || (g.object && !known && strings.Contains(s, "/AWSLogs/")) {
					return true
				}
			}
		}
	}
	return false
}

// excludesConfig reports whether a statement's source-ARN condition names
// something other than AWS Config (the CloudTrail statements, say).
func excludesConfig(st *template.Node) bool {
	for _, op := range []string{"StringEquals", "StringLike", "ArnEquals", "ArnLike"} {
		v := conditionValue(st, op, "aws:SourceArn")
		if v == nil {
			continue
		}
		for _, x := range v.List() {
			text := x.Text()
			if x.IsFn("Fn::Sub") {
				text = x.Arg.Text()
			}
			if text != "" && !strings.Contains(text, ":config:") {
				return true
			}
		}
	}
	return false
}

// configBucketStatement is the F7 bucket-policy statement for one grant.
func configBucketStatement(bucket string, g configBucketGrant, path string) edit.Value {
	resource := edit.GetAtt(bucket, "Arn")
	cond := sourceAccountCondition()
	if g.object {
		resource = edit.Sub("${" + bucket + ".Arn}/" + path)
		cond = edit.Map(edit.KV{Key: "StringEquals", Value: edit.Map(
			edit.KV{Key: "s3:x-amz-acl", Value: edit.Str("bucket-owner-full-control")},
			edit.KV{Key: "aws:SourceAccount", Value: edit.Ref("AWS::AccountId")})})
	}
	return edit.Map(
		edit.KV{Key: "Sid", Value: edit.Str(g.sid)},
		edit.KV{Key: "Effect", Value: edit.Str("Allow")},
		edit.KV{Key: "Principal", Value: edit.Map(edit.KV{Key: "Service", Value: edit.Str(configService)})},
		edit.KV{Key: "Action", Value: edit.Str(g.action)},
		edit.KV{Key: "Resource", Value: resource},
		edit.KV{Key: "Condition", Value: cond},
	)
}

// addConfigBucketStatements adds the grants to the bucket's policy, or
// creates the policy (refusing plain HTTP too) when the bucket has none.
func addConfigBucketStatements(pass *analysis.Pass, b *edit.Builder, bucket *template.Resource, path string, grants []configBucketGrant) {
	stmts := make([]edit.Value, 0, len(grants)+1)
	for _, g := range grants {
		stmts = append(stmts, configBucketStatement(bucket.Name, g, path))
	}
	if policies := policiesOf(pass, bucket); len(policies) > 0 {
		list := policies[0].PropertyPath("PolicyDocument", "Statement")
		if isSequence(list) {
			for _, st := range stmts {
				b.Append(list, st)
			}
		}
		return
	}
	stmts = append([]edit.Value{denyInsecureTransportStatement(bucket.Name)}, stmts...)
	res := []edit.KV{{Key: "Type", Value: edit.Str(bucketPolicyType)}}
	if bucket.Condition != "" {
		res = append(res, edit.KV{Key: "Condition", Value: edit.Str(bucket.Condition)})
	}
	res = append(res, edit.KV{Key: "Properties", Value: edit.Map(
		edit.KV{Key: "Bucket", Value: edit.Ref(bucket.Name)},
		edit.KV{Key: "PolicyDocument", Value: edit.Map(
			edit.KV{Key: "Version", Value: edit.Str("2012-10-17")},
			edit.KV{Key: "Statement", Value: edit.List(stmts...)},
		)},
	)})
	b.AddEntry("Resources", uniqueLogicalID(pass.Template, bucket.Name+"Policy"), edit.Map(res...))
}

// ConfigDeliverySettings reports delivery channels without a snapshot
// frequency or a KMS key, and key prefixes AWS Config rejects.
var ConfigDeliverySettings = &analysis.Rule{
	ID:       "SOC2-CFG-005",
	Title:    "Config delivery channel settings",
	Severity: analysis.Info,
	Controls: []string{"CC8.1", "CC6.1"},
	Types:    []string{cfgChannelType},
	Doc: `Three settings of a delivery channel. Without ` + "`ConfigSnapshotDeliveryProperties.DeliveryFrequency`" + `
Config delivers history files but no periodic snapshot of the whole inventory, the easiest artefact to hand
to an auditor. Without ` + "`S3KmsKeyArn`" + ` (and with a bucket that has no KMS default encryption) the
configuration history, which describes every resource of the account, is encrypted only with S3-managed
keys. Both are reported as information. An ` + "`S3KeyPrefix`" + ` containing ` + "`AWSLogs/`" + ` is an error: Config
adds that segment itself and refuses such a prefix, so the channel cannot be created.

**Why an auditor cares.** Snapshots make configuration evidence (CC8.1) easy to sample for any date;
encrypting it with a customer managed key keeps the inventory under the same access control as the rest of
the audit evidence (CC6.1).

**How to fix.** Add ` + "`ConfigSnapshotDeliveryProperties: {DeliveryFrequency: TwentyFour_Hours}`" + `, set
` + "`S3KmsKeyArn`" + ` to the audit key, and remove ` + "`AWSLogs/`" + ` from the prefix. The quick fixes do each.`,
	Check: checkConfigDeliverySettings,
}

func checkConfigDeliverySettings(pass *analysis.Pass) {
	t, ch := pass.Template, pass.Resource
	props := ch.Properties
	if props == nil || props.Kind != template.Mapping {
		return
	}
	if p := ch.Property("S3KeyPrefix"); p.IsScalar() && strings.Contains(p.Value+"/", "AWSLogs/") {
		fixed := strings.Trim(strings.ReplaceAll(p.Value+"/", "AWSLogs/", ""), "/")
		for strings.Contains(fixed, "//") {
			fixed = strings.ReplaceAll(fixed, "//", "/")
		}
		f := analysis.Finding{
			Severity: analysis.Error,
			Span:     p.Span,
			Message:  "delivery channel " + ch.Name + " has S3KeyPrefix \"" + p.Value + "\": AWS Config adds AWSLogs/ itself and rejects a prefix containing it; remove that segment",
		}
		title := "Remove AWSLogs/ from the prefix"
		f.Fixes = []analysis.Fix{pass.NewFix(title, func(b *edit.Builder) {
			if fixed == "" {
				b.Delete(props, "S3KeyPrefix")
			} else {
				b.Replace(p, edit.Str(fixed))
			}
		})}
		pass.Report(f)
	}
	if freq := ch.PropertyPath("ConfigSnapshotDeliveryProperties", "DeliveryFrequency"); freq == nil || freq.Kind == template.Null {
		f := analysis.Finding{
			Span:    pass.KeySpan(),
			Message: "delivery channel " + ch.Name + " delivers no periodic configuration snapshot: set ConfigSnapshotDeliveryProperties.DeliveryFrequency (e.g. TwentyFour_Hours)",
		}
		f.Fixes = []analysis.Fix{pass.NewFix("Deliver a daily configuration snapshot", func(b *edit.Builder) {
			b.SetPath(props, []string{"ConfigSnapshotDeliveryProperties", "DeliveryFrequency"}, edit.Str("TwentyFour_Hours"))
		})}
		pass.Report(f)
	}
	key := ch.Property("S3KmsKeyArn")
	if verdict, witness := t.Eval(key).Judge(func(a template.Alt) bool {
		return a.Kind == template.Absent
	}); verdict != template.Pass {
		if bucket := resolveOfType(pass, ch.Property("S3BucketName"), bucketType); bucket != nil && bucketUsesKMS(bucket) {
			return // the bucket's default encryption already uses a KMS key
		}
		f := analysis.Finding{
			Span:    pass.KeySpan(),
			Message: "delivery channel " + ch.Name + " does not encrypt configuration history with a KMS key: set S3KmsKeyArn to the audit key",
		}
		if key != nil && key.Kind != template.Null {
			f.Span = key.Span
		}
		if key == nil || key.Kind == template.Null {
			f.Fixes = []analysis.Fix{pass.NewFix("Encrypt configuration history with the audit key", func(b *edit.Builder) {
				b.Set(props, "S3KmsKeyArn", useAuditKey(pass, b, keyForConfig))
			})}
		}
		pass.ReportVerdict(verdict, witness, f)
	}
}

// bucketUsesKMS reports whether a bucket's default encryption uses a KMS key.
func bucketUsesKMS(bucket *template.Resource) bool {
	for _, rule := range bucket.PropertyPath("BucketEncryption", "ServerSideEncryptionConfiguration").List() {
		alg := rule.Path("ServerSideEncryptionByDefault", "SSEAlgorithm").Text()
		if strings.HasPrefix(alg, "aws:kms") {
			return true
		}
	}
	return false
}

// ConfigMissingInBaseline reports baselines with a trail but no Config.
var ConfigMissingInBaseline = &analysis.Rule{
	ID:       "SOC2-TPL-101",
	Title:    "Security baseline without AWS Config",
	Severity: analysis.Warning,
	Controls: []string{"CC8.1", "CC7.1", "CC3.4"},
	Doc: `The template is a security baseline (it creates a CloudTrail trail, or says so) but defines no AWS
Config recorder, and no parameter such as ` + "`EnableAWSConfig`" + ` or ` + "`ConfigAlreadyEnabled`" + ` records that Config
is managed by another stack. CloudTrail tells who called which API; only Config tells what the resources
looked like before and after, and evaluates them against rules.

**Why an auditor cares.** Change management (CC8.1), the detection of misconfiguration (CC7.1) and the
assessment of changes (CC3.4) are usually evidenced with Config: its history and its rule evaluations are
the sample an auditor draws. A baseline without it leaves those controls to manual review.

**How to fix.** Add the Config bundle: an ` + "`EnableAWSConfig`" + ` parameter and ` + "`CreateConfig`" + ` condition, a
role with ` + "`AWS_ConfigRole`" + `, a recorder recording all types, a delivery channel to the audit bucket (whose
policy must allow Config) and a starter set of managed rules. When another stack owns Config, add the
parameter instead. The quick fix inserts the bundle.`,
	Check: checkConfigInBaseline,
}

// configToggle matches parameters that say whether this stack creates Config
// (EnableAWSConfig, CreateConfig) or that it exists already
// (ConfigAlreadyEnabled, AlreadyHaveConfigSetup, DeliveryChannelExists).
var configToggle = []string{`^(Enable|Create|Deploy)(AWS)?Config(Recorder)?$`, `ConfigAlready`, `^(AWS)?Config(Is)?(Enabled|Exists|Managed|ManagedElsewhere)$`,
	`AlreadyHave.*Config`, `(DeliveryChannel|Recorder)Exists`}

func checkConfigInBaseline(pass *analysis.Pass) {
	t := pass.Template
	if len(t.ResourcesOfType(cfgRecorderType)) > 0 || !isBaseline(pass) || toggleParameter(t, configToggle...) != nil {
		return
	}
	f := analysis.Finding{
		Span:    pass.SectionSpan("Resources"),
		Message: "this security baseline creates no AWS Config recorder: add the Config bundle (recorder, delivery channel, rules), or an EnableAWSConfig parameter if another stack manages Config",
	}
	trails := t.ResourcesOfType(trailType)
	if len(trails) == 0 {
		// The fix delivers to the trail's bucket; without a trail there is
		// no audit bucket to choose (SOC2-TPL-107 adds one).
		pass.Report(f)
		return
	}
	trail := trails[0]
	f.Related = []analysis.Related{{Span: trail.Key.Span, Message: "trail " + trail.Name + " writes its logs to the bucket the fix uses"}}
	if target, ok := configTarget(pass, trail.Property("S3BucketName")); ok {
		f.Fixes = []analysis.Fix{pass.NewFix("Add the AWS Config bundle (recorder, delivery channel, rules)", func(b *edit.Builder) {
			addConfigBucketGrants(pass, b, target)
			cond := ensureCondition(pass, b, condCreateConfig)
			rec := addConfigRecorder(pass, b, cond, target, useAuditKey(pass, b, keyForConfig))
			addDeliveryChannel(pass, b, cond, target)
			addStarterRules(pass, b, rec, cond)
		})}
	}
	pass.Report(f)
}

// configDest is where a delivery channel a fix inserts writes to.
type configDest struct {
	bucket *template.Resource // the in-template bucket, or nil
	name   edit.Value         // the S3BucketName value
	arn    edit.Value         // the bucket's ARN
	sub    string             // Sub text of the bucket ARN, for object ARNs
}

// configTarget derives a delivery destination from a bucket value (a trail's
// S3BucketName): an in-template bucket without Object Lock, a parameter or a
// literal name.
func configTarget(pass *analysis.Pass, n *template.Node) (configDest, bool) {
	t := pass.Template
	if b := resolveOfType(pass, n, bucketType); b != nil {
		if objectLocked(b) {
			return configDest{}, false // Config cannot deliver there (SOC2-CFG-004)
		}
		return configDest{bucket: b, name: edit.Ref(b.Name), arn: edit.GetAtt(b.Name, "Arn"), sub: "${" + b.Name + ".Arn}"}, true
	}
	if p := refTarget(n); p != "" && t.Parameter(p) != nil {
		s := "arn:${AWS::Partition}:s3:::${" + p + "}"
		return configDest{name: edit.Ref(p), arn: edit.Sub(s), sub: s}, true
	}
	if n.IsScalar() && n.Value != "" && !strings.ContainsAny(n.Value, "${}") {
		s := "arn:${AWS::Partition}:s3:::" + n.Value
		return configDest{name: edit.Str(n.Value), arn: edit.Sub(s), sub: s}, true
	}
	return configDest{}, false
}

// configDeliveryPrefix is the S3KeyPrefix of a delivery channel a fix
// inserts.
const configDeliveryPrefix = "config"

// addConfigRecorder adds the F7 role and recorder under condition cond and
// returns the recorder's logical id. Config writes to the bucket as the
// role, so the role may write the delivery path and, when the channel
// encrypts with key (nil: none), use that key.
func addConfigRecorder(pass *analysis.Pass, b *edit.Builder, cond string, dest configDest, key edit.Value) string {
	t := pass.Template
	role := uniqueLogicalID(t, "ConfigRole")
	stmts := []edit.Value{
		edit.Map(
			edit.KV{Key: "Effect", Value: edit.Str("Allow")},
			edit.KV{Key: "Action", Value: edit.Str("s3:GetBucketAcl")},
			edit.KV{Key: "Resource", Value: dest.arn},
		),
		edit.Map(
			edit.KV{Key: "Effect", Value: edit.Str("Allow")},
			edit.KV{Key: "Action", Value: edit.Str("s3:PutObject")},
			edit.KV{Key: "Resource", Value: edit.Sub(dest.sub + "/" + configDeliveryPrefix + "/AWSLogs/${AWS::AccountId}/*")},
			edit.KV{Key: "Condition", Value: edit.Map(edit.KV{Key: "StringEquals", Value: edit.Map(
				edit.KV{Key: "s3:x-amz-acl", Value: edit.Str("bucket-owner-full-control")})})},
		),
	}
	if key != nil {
		stmts = append(stmts, edit.Map(
			edit.KV{Key: "Effect", Value: edit.Str("Allow")},
			edit.KV{Key: "Action", Value: edit.Strs("kms:Decrypt", "kms:GenerateDataKey")},
			edit.KV{Key: "Resource", Value: key},
		))
	}
	gated := func(kvs ...edit.KV) edit.Value {
		if cond != "" {
			kvs = append([]edit.KV{kvs[0], {Key: "Condition", Value: edit.Str(cond)}}, kvs[1:]...)
		}
		return edit.Map(kvs...)
	}
	b.AddEntry("Resources", role, gated(
		edit.KV{Key: "Type", Value: edit.Str(cfgRoleType)},
		edit.KV{Key: "Properties", Value: edit.Map(
			edit.KV{Key: "AssumeRolePolicyDocument", Value: edit.Map(
				edit.KV{Key: "Version", Value: edit.Str("2012-10-17")},
				edit.KV{Key: "Statement", Value: edit.List(edit.Map(
					edit.KV{Key: "Effect", Value: edit.Str("Allow")},
					edit.KV{Key: "Principal", Value: edit.Map(edit.KV{Key: "Service", Value: edit.Str(configService)})},
					edit.KV{Key: "Action", Value: edit.Str("sts:AssumeRole")},
					edit.KV{Key: "Condition", Value: sourceAccountCondition()},
				))},
			)},
			edit.KV{Key: "ManagedPolicyArns", Value: edit.List(edit.Sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AWS_ConfigRole"))},
			edit.KV{Key: "Policies", Value: edit.List(edit.Map(
				edit.KV{Key: "PolicyName", Value: edit.Str("config-delivery")},
				edit.KV{Key: "PolicyDocument", Value: edit.Map(
					edit.KV{Key: "Version", Value: edit.Str("2012-10-17")},
					edit.KV{Key: "Statement", Value: edit.List(stmts...)},
				)},
			))},
		)},
	))
	rec := uniqueLogicalID(t, "ConfigRecorder")
	b.AddEntry("Resources", rec, gated(
		edit.KV{Key: "Type", Value: edit.Str(cfgRecorderType)},
		edit.KV{Key: "Properties", Value: edit.Map(
			edit.KV{Key: "RoleARN", Value: edit.GetAtt(role, "Arn")},
			edit.KV{Key: "RecordingGroup", Value: edit.Map(
				edit.KV{Key: "AllSupported", Value: edit.Bool(true)},
				edit.KV{Key: "IncludeGlobalResourceTypes", Value: globalRecording(pass, b)},
			)},
		)},
	))
	return rec
}

// severalRegions reports whether the template is meant for more than one
// region: it says so, selects regions in a condition, or has a
// PrimaryRegion parameter.
func severalRegions(pass *analysis.Pass) bool {
	t := pass.Template
	return isMultiRegion(t) || t.Parameter(pass.Options.PrimaryRegionParameter) != nil
}

// globalRecording is the IncludeGlobalResourceTypes a new recorder gets:
// true in a single-region template, !If [IsPrimaryRegion, true, false] in
// one deployed to several regions, so that global types are recorded once.
func globalRecording(pass *analysis.Pass, b *edit.Builder) edit.Value {
	if !severalRegions(pass) {
		return edit.Bool(true)
	}
	return edit.If(ensureCondition(pass, b, condIsPrimaryRegion), edit.Bool(true), edit.Bool(false))
}

// addDeliveryChannel adds the F7 delivery channel under condition cond
// (addConfigBucketGrants adds the bucket-policy statements it needs).
func addDeliveryChannel(pass *analysis.Pass, b *edit.Builder, cond string, dest configDest) {
	kvs := []edit.KV{{Key: "Type", Value: edit.Str(cfgChannelType)}}
	if cond != "" {
		kvs = append(kvs, edit.KV{Key: "Condition", Value: edit.Str(cond)})
	}
	kvs = append(kvs, edit.KV{Key: "Properties", Value: edit.Map(
		edit.KV{Key: "S3BucketName", Value: dest.name},
		edit.KV{Key: "S3KeyPrefix", Value: edit.Str(configDeliveryPrefix)},
		edit.KV{Key: "S3KmsKeyArn", Value: useAuditKey(pass, b, keyForConfig)},
		edit.KV{Key: "ConfigSnapshotDeliveryProperties", Value: edit.Map(edit.KV{Key: "DeliveryFrequency", Value: edit.Str("TwentyFour_Hours")})},
	)})
	b.AddEntry("Resources", uniqueLogicalID(pass.Template, "ConfigDeliveryChannel"), edit.Map(kvs...))
}

// addConfigBucketGrants adds to an in-template delivery bucket's policy the
// statements a new delivery channel needs. Fixes call it before adding
// resources: when the policy is the last resource, its new statements and
// the new resources share an offset, and edits at one offset keep their
// order.
func addConfigBucketGrants(pass *analysis.Pass, b *edit.Builder, dest configDest) {
	if dest.bucket == nil {
		return
	}
	var missing []configBucketGrant
	policies := policiesOf(pass, dest.bucket)
	for _, g := range configBucketGrants {
		if !bucketGrantsConfig(pass.Template, policies, dest.bucket, g, configDeliveryPrefix, true) {
			missing = append(missing, g)
		}
	}
	if len(missing) > 0 {
		addConfigBucketStatements(pass, b, dest.bucket, configDeliveryPrefix+"/AWSLogs/${AWS::AccountId}/Config/*", missing)
	}
}

// starterConfigRules are the AWS managed rules a fix inserts when a
// recorder has none (RULES.md TPL-104).
var starterConfigRules = []string{
	"MULTI_REGION_CLOUD_TRAIL_ENABLED", "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED", "CLOUD_TRAIL_ENCRYPTION_ENABLED",
	"S3_BUCKET_SSL_REQUESTS_ONLY", "S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED", "ENCRYPTED_VOLUMES",
	"RDS_STORAGE_ENCRYPTED", "RDS_INSTANCE_PUBLIC_ACCESS_CHECK", "INCOMING_SSH_DISABLED", "RESTRICTED_INCOMING_TRAFFIC",
	"IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS", "CMK_BACKING_KEY_ROTATION_ENABLED", "VPC_FLOW_LOGS_ENABLED",
	"GUARDDUTY_ENABLED_CENTRALIZED", "CLOUDWATCH_LOG_GROUP_ENCRYPTED", "CW_LOGGROUP_RETENTION_PERIOD_CHECK",
}

// addStarterRules adds the starter managed rules, each depending on the
// recorder and gated like it.
func addStarterRules(pass *analysis.Pass, b *edit.Builder, recorder, cond string) {
	for _, id := range starterConfigRules {
		kvs := []edit.KV{{Key: "Type", Value: edit.Str(cfgRuleType)}}
		if cond != "" {
			kvs = append(kvs, edit.KV{Key: "Condition", Value: edit.Str(cond)})
		}
		kvs = append(kvs,
			edit.KV{Key: "DependsOn", Value: edit.Str(recorder)},
			edit.KV{Key: "Properties", Value: edit.Map(edit.KV{Key: "Source", Value: edit.Map(
				edit.KV{Key: "Owner", Value: edit.Str("AWS")},
				edit.KV{Key: "SourceIdentifier", Value: edit.Str(id)},
			)})},
		)
		b.AddEntry("Resources", uniqueLogicalID(pass.Template, "Rule"+camelIdentifier(id)), edit.Map(kvs...))
	}
}

// camelIdentifier turns MULTI_REGION_CLOUD_TRAIL_ENABLED into
// MultiRegionCloudTrailEnabled.
func camelIdentifier(id string) string {
	var b strings.Builder
	for _, w := range strings.Split(strings.ToLower(id), "_") {
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

// ConfigPairing reports recorders without a delivery channel, channels
// without a recorder, pairs under different conditions, and second
// recorders or channels (one of each per region).
var ConfigPairing = &analysis.Rule{
	ID:       "SOC2-TPL-102",
	Title:    "AWS Config recorder and delivery channel are not paired",
	Severity: analysis.Error,
	Controls: []string{"CC8.1"},
	Doc: `AWS Config needs exactly one configuration recorder and one delivery channel per region. A recorder
without a channel cannot start (` + "`NoAvailableDeliveryChannelException`" + `); a channel without a recorder is
refused (` + "`NoAvailableConfigurationRecorderException`" + `) unless one already exists outside the stack; a second
recorder or channel in the same region is refused too. When the recorder and the channel carry different
` + "`Condition`" + `s, some parameter values deploy one without the other.

**Why an auditor cares.** A Config setup that cannot start produces no configuration history: the change
evidence (CC8.1) the template promises does not exist, and the failure is easy to miss when the stack is
rolled back in a pipeline.

**How to fix.** Keep the recorder and its channel together in one template, under the same ` + "`Condition`" + `,
one of each. When another stack owns one half, say so with a parameter (` + "`DeliveryChannelExists`" + `,
` + "`ConfigAlreadyEnabled`" + `). The quick fix adds the missing half from the F7 snippet.`,
	Check: checkConfigPairing,
}

// configExistsToggle matches parameters saying that a recorder or channel
// already exists outside the stack.
var configExistsToggle = []string{`(DeliveryChannel|Recorder)Exists`, `ConfigAlready`, `^(AWS)?Config(Is)?(Enabled|Exists|Managed|ManagedElsewhere)$`,
	`AlreadyHave.*Config`, `Existing(DeliveryChannel|ConfigRecorder|Recorder)`}

func checkConfigPairing(pass *analysis.Pass) {
	t := pass.Template
	recorders, channels := t.ResourcesOfType(cfgRecorderType), t.ResourcesOfType(cfgChannelType)
	existsParam := toggleParameter(t, configExistsToggle...) != nil
	for _, list := range [][]*template.Resource{recorders, channels} {
		for i, r := range list {
			for _, first := range list[:i] {
				if sameCondition(t, first.Condition, r.Condition) {
					kind := "configuration recorder"
					if r.Type == cfgChannelType {
						kind = "delivery channel"
					}
					pass.Report(analysis.Finding{
						Span:     r.Key.Span,
						Resource: r.Name,
						Message:  "second " + kind + " " + r.Name + " (after " + first.Name + "): AWS Config allows one per region, so the stack cannot be created; remove one",
						Related:  []analysis.Related{{Span: first.Key.Span, Message: kind + " " + first.Name}},
					})
					break
				}
			}
		}
	}
	switch {
	case len(recorders) > 0 && len(channels) == 0:
		if existsParam {
			return
		}
		rec := recorders[0]
		f := analysis.Finding{
			Span:     rec.Key.Span,
			Resource: rec.Name,
			Message:  "configuration recorder " + rec.Name + " has no delivery channel in the template and cannot start (NoAvailableDeliveryChannelException): add an AWS::Config::DeliveryChannel with the same Condition",
		}
		if dest, ok := configDeliveryDest(pass); ok {
			f.Fixes = []analysis.Fix{pass.NewFix("Add a delivery channel for "+rec.Name, func(b *edit.Builder) {
				addConfigBucketGrants(pass, b, dest)
				addDeliveryChannel(pass, b, rec.Condition, dest)
			})}
		}
		pass.Report(f)
	case len(channels) > 0 && len(recorders) == 0:
		if existsParam || toggleParameter(t, configToggle...) != nil {
			return
		}
		ch := channels[0]
		f := analysis.Finding{
			Span:     ch.Key.Span,
			Resource: ch.Name,
			Message:  "delivery channel " + ch.Name + " has no configuration recorder in the template and is refused (NoAvailableConfigurationRecorderException): add an AWS::Config::ConfigurationRecorder with the same Condition",
		}
		if dest, ok := configTarget(pass, ch.Property("S3BucketName")); ok {
			title := "Add a configuration recorder for " + ch.Name
			if ch.Condition == "" {
				title += " and gate both with " + condCreateConfig
			}
			f.Fixes = []analysis.Fix{pass.NewFix(title, func(b *edit.Builder) {
				cond := ch.Condition
				if cond == "" {
					// A recorder is a region singleton (SOC2-PARAM-004): the
					// new pair gets the EnableAWSConfig switch together.
					cond = ensureCondition(pass, b, condCreateConfig)
					setCondition(b, ch.Value, ch.ConditionNode, cond)
				}
				rec := uniqueLogicalID(t, "ConfigRecorder")
				rules := false
				for _, typ := range cfgRuleTypes {
					for _, r := range t.ResourcesOfType(typ) {
						rules = true
						if r.Value.Kind == template.Mapping {
							dependOn(b, r, rec, cond)
						}
					}
				}
				key, _ := nodeValue(t, ch.Property("S3KmsKeyArn"))
				addConfigRecorder(pass, b, cond, dest, key)
				if !rules {
					addStarterRules(pass, b, rec, cond)
				}
			})}
		}
		pass.Report(f)
	case len(recorders) > 0 && len(channels) > 0:
		rec, ch := recorders[0], channels[0]
		if sameCondition(t, rec.Condition, ch.Condition) || existsParam {
			return
		}
		span := ch.Key.Span
		if ch.ConditionNode != nil {
			span = ch.ConditionNode.Span
		}
		pass.Report(analysis.Finding{
			Span:     span,
			Resource: ch.Name,
			Message:  "configuration recorder " + rec.Name + " (" + describeCondition(rec.Condition) + ") and delivery channel " + ch.Name + " (" + describeCondition(ch.Condition) + ") are created under different conditions: give both the same Condition so that one never exists without the other",
			Related:  []analysis.Related{{Span: rec.Key.Span, Message: "configuration recorder " + rec.Name}},
		})
	}
}

// sameCondition reports whether two Condition names mean the same: equal
// names, or conditions written identically.
func sameCondition(t *template.Template, a, b string) bool {
	if a == b {
		return true
	}
	ca, cb := t.Condition(a), t.Condition(b)
	if ca == nil || cb == nil {
		return false
	}
	return string(t.Source[ca.Value.Start:ca.Value.End]) == string(t.Source[cb.Value.Start:cb.Value.End])
}

func describeCondition(c string) string {
	if c == "" {
		return "always created"
	}
	return "Condition " + c
}

// configDeliveryDest picks the bucket a new delivery channel writes to: the
// trail's bucket, else the first audit bucket of the template, leaving out
// buckets with Object Lock.
func configDeliveryDest(pass *analysis.Pass) (configDest, bool) {
	t := pass.Template
	for _, tr := range t.ResourcesOfType(trailType) {
		if d, ok := configTarget(pass, tr.Property("S3BucketName")); ok {
			return d, true
		}
	}
	audit := auditBuckets(pass)
	for _, r := range t.ResourcesOfType(bucketType) {
		if _, ok := audit[r.Name]; ok && !objectLocked(r) {
			return configDest{bucket: r, name: edit.Ref(r.Name), arn: edit.GetAtt(r.Name, "Arn"), sub: "${" + r.Name + ".Arn}"}, true
		}
	}
	return configDest{}, false
}

// ConfigOrdering reports a dependency between the recorder and the
// delivery channel.
var ConfigOrdering = &analysis.Rule{
	ID:       "SOC2-TPL-103",
	Title:    "AWS Config recorder and delivery channel depend on each other",
	Severity: analysis.Warning,
	Controls: []string{"CC8.1"},
	Doc: `The configuration recorder and the delivery channel must be created side by side: CloudFormation
starts the recorder once both exist. A ` + "`DependsOn`" + ` (or a reference) from one to the other, directly or
through a chain of resources, makes CloudFormation wait for the first before creating the second, and the
stack stalls until it times out or fails.

**Why an auditor cares.** A baseline whose Config part cannot be deployed from the reviewed template gives
no configuration history and weakens the change-management evidence (CC8.1) that the template is what runs.

**How to fix.** Remove the ` + "`DependsOn`" + ` between them and keep both in the same template. Resources that must
wait for Config (the Config rules) depend on the recorder instead. The quick fix removes a direct
` + "`DependsOn`" + `.`,
	Check: checkConfigOrdering,
}

func checkConfigOrdering(pass *analysis.Pass) {
	t := pass.Template
	for _, rec := range t.ResourcesOfType(cfgRecorderType) {
		for _, ch := range t.ResourcesOfType(cfgChannelType) {
			for _, pair := range [][2]*template.Resource{{rec, ch}, {ch, rec}} {
				from, to := pair[0], pair[1]
				path := dependencyPath(pass, from.Name, to.Name)
				if path == nil {
					continue
				}
				first := path[0]
				// The reference the first edge stands for: the first of
				// from's dependencies on that resource.
				var node *template.Node
				for _, ref := range t.RefsFrom(from.Name) {
					if ref.Target == first.To && isDependency(t, from.Name, ref) {
						node = ref.Node
						break
					}
				}
				chain := from.Name
				for _, e := range path {
					chain += " → " + e.To
				}
				f := analysis.Finding{
					Span:     node.Span,
					Resource: from.Name,
					Message:  cfgKindName(from) + " " + from.Name + " depends on " + cfgKindName(to) + " " + to.Name,
					Related:  []analysis.Related{{Span: to.Key.Span, Message: cfgKindName(to) + " " + to.Name}},
				}
				if len(path) > 1 {
					f.Message += " through " + chain
				}
				f.Message += ": the stack stalls until it times out; remove the dependency and let both be created together"
				if len(path) == 1 && first.DependsOn {
					f.Fixes = []analysis.Fix{pass.NewFix("Remove DependsOn: "+to.Name+" from "+from.Name, func(b *edit.Builder) {
						d := from.Value.Get("DependsOn")
						if d.Kind == template.Sequence && len(d.Items) > 1 {
							b.Remove(d, node)
						} else {
							b.Delete(from.Value, "DependsOn")
						}
					})}
				}
				pass.Report(f)
			}
		}
	}
}

func cfgKindName(r *template.Resource) string {
	if r.Type == cfgChannelType {
		return "delivery channel"
	}
	return "configuration recorder"
}

// ConfigRulesMissing reports recorders with no rule evaluating what they
// record.
var ConfigRulesMissing = &analysis.Rule{
	ID:       "SOC2-TPL-104",
	Title:    "AWS Config recorder without Config rules",
	Severity: analysis.Warning,
	Controls: []string{"CC8.1", "CC7.1"},
	Doc: `The template records configuration but defines no ` + "`AWS::Config::ConfigRule`" + ` or
` + "`AWS::Config::ConformancePack`" + `, and no ` + "`ConformancePackTemplate*`" + ` parameter says rules are deployed
another way. Recording alone keeps history; nothing evaluates it, so a bucket made public or a trail
stopped is recorded but never flagged.

**Why an auditor cares.** CC7.1 asks that misconfiguration is detected, and CC8.1 that configuration stays
as approved. Config rules are the continuous, evidenced check an auditor samples; without them those
controls depend on someone looking.

**How to fix.** Add managed rules for the controls the baseline claims (multi-region trail, log file
validation, TLS-only buckets, encrypted volumes and databases, restricted SSH, key rotation, flow logs,
GuardDuty, log group encryption and retention), each with ` + "`DependsOn`" + ` on the recorder and the recorder's
` + "`Condition`" + `, or deploy a conformance pack. The quick fix inserts that starter set.`,
	Check: checkConfigRules,
}

var conformancePackParam = `^ConformancePackTemplate`

func checkConfigRules(pass *analysis.Pass) {
	t := pass.Template
	recorders := t.ResourcesOfType(cfgRecorderType)
	if len(recorders) == 0 || toggleParameter(t, conformancePackParam) != nil {
		return
	}
	for _, typ := range append([]string{"AWS::Config::OrganizationConfigRule", "AWS::Config::OrganizationConformancePack"}, cfgRuleTypes...) {
		if len(t.ResourcesOfType(typ)) > 0 {
			return
		}
	}
	rec := recorders[0]
	pass.Report(analysis.Finding{
		Span:     rec.Key.Span,
		Resource: rec.Name,
		Message:  "configuration recorder " + rec.Name + " records configuration but no Config rule or conformance pack evaluates it: add managed rules for the controls this template claims",
		Fixes: []analysis.Fix{pass.NewFix("Add a starter set of AWS managed Config rules", func(b *edit.Builder) {
			addStarterRules(pass, b, rec.Name, rec.Condition)
		})},
	})
}

var configRules = []*analysis.Rule{
	ConfigRecorderCoverage, ConfigRecorderRole, ConfigRuleDependsOnRecorder, ConfigDeliveryBucketPolicy,
	ConfigDeliverySettings, ConfigMissingInBaseline, ConfigPairing, ConfigOrdering, ConfigRulesMissing,
}
