package rules

import (
	"regexp"
	"sort"
	"strings"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// This file holds the building blocks that fixes in several service areas
// share (RULES.md section 5): the well-known parameters and conditions of
// F12, the audit KMS key of F1 with its service statements, the security
// alerts topic of F13, and the tags inserted resources carry. A fix that
// inserts a resource must leave a template that every rule accepts, so the
// inserted resources are built here, once, to the catalogue's standard.

// Names of the well-known parameters (F12).
const (
	paramExistingKmsKeyArn     = "ExistingKmsKeyArn"
	paramExistingNatGatewayID  = "ExistingNatGatewayId"
	paramAuditLogRetentionDays = "AuditLogRetentionDays"
	paramEnableCloudTrail      = "EnableCloudTrail"
	paramEnableAWSConfig       = "EnableAWSConfig"
	paramEnableGuardDuty       = "EnableGuardDuty"
)

// Names of the well-known conditions (F12).
const (
	condIsProduction         = "IsProduction"
	condIsPrimaryRegion      = "IsPrimaryRegion"
	condCreateKmsKey         = "CreateKmsKey"
	condCreateCloudTrail     = "CreateCloudTrail"
	condCreateTrailInPrimary = "CreateTrailInPrimary"
	condCreateConfig         = "CreateConfig"
	condCreateGuardDuty      = "CreateGuardDuty"
	condCreateNatGateway     = "CreateNatGateway"
)

// logRetentionValues are the CloudWatch Logs retention values of at least
// one year, the AllowedValues of a new AuditLogRetentionDays parameter.
var logRetentionValues = []int{365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// toggle is an Enable* parameter: 'true' or 'false', default 'true'.
func toggle(description string) edit.Value {
	return edit.Map(
		edit.KV{Key: "Type", Value: edit.Str("String")},
		edit.KV{Key: "AllowedValues", Value: edit.Strs("true", "false")},
		edit.KV{Key: "Default", Value: edit.Str("true")},
		edit.KV{Key: "Description", Value: edit.Str(description)},
	)
}

// ensureParameter makes sure the template has the well-known parameter name
// (F12), adding it to the fix when it is missing, and returns its name. The
// Environment and PrimaryRegion parameters get the options' names and
// defaults that keep the deployed stack unchanged.
func ensureParameter(pass *analysis.Pass, b *edit.Builder, name string) string {
	t, o := pass.Template, pass.Options
	if t.Parameter(name) != nil {
		return name
	}
	var def edit.Value
	switch name {
	case o.EnvironmentParameter:
		first := ""
		if all := environmentTagLiterals(pass); len(all) > 0 {
			first = all[0].Value
		}
		def = environmentParameter(o, first)
	case o.PrimaryRegionParameter:
		def = primaryRegionParameter(primaryRegionDefault(t))
	case paramExistingKmsKeyArn:
		def = edit.Map(
			edit.KV{Key: "Type", Value: edit.Str("String")},
			edit.KV{Key: "Default", Value: edit.Str("")},
			edit.KV{Key: "Description", Value: edit.Str("ARN of an existing KMS key for audit data; leave empty to create one in this stack")},
		)
	case paramExistingNatGatewayID:
		def = edit.Map(
			edit.KV{Key: "Type", Value: edit.Str("String")},
			edit.KV{Key: "Default", Value: edit.Str("")},
			edit.KV{Key: "Description", Value: edit.Str("ID of an existing NAT gateway; leave empty to create one in this stack")},
		)
	case paramAuditLogRetentionDays:
		allowed := make([]edit.Value, 0, len(logRetentionValues))
		def := logRetentionValues[0]
		for _, v := range logRetentionValues {
			allowed = append(allowed, edit.Int(v))
			if v <= o.AuditLogRetentionDays {
				def = v
			}
		}
		return addParameter(b, name, edit.Map(
			edit.KV{Key: "Type", Value: edit.Str("Number")},
			edit.KV{Key: "Default", Value: edit.Int(def)},
			edit.KV{Key: "AllowedValues", Value: edit.List(allowed...)},
			edit.KV{Key: "Description", Value: edit.Str("Days audit logs are kept before they expire")},
		))
	case paramEnableCloudTrail:
		def = toggle("Create the CloudTrail trail (false when an organization trail already covers the account)")
	case paramEnableAWSConfig:
		def = toggle("Create the AWS Config recorder and delivery channel (false when another stack owns them)")
	case paramEnableGuardDuty:
		def = toggle("Create the GuardDuty detector (false when a delegated administrator manages it)")
	default:
		// A required tag or another plain string the deployer supplies.
		def = edit.Map(
			edit.KV{Key: "Type", Value: edit.Str("String")},
			edit.KV{Key: "Description", Value: edit.Str("Value of the " + name + " tag of the resources this stack creates")},
		)
	}
	return addParameter(b, name, def)
}

func addParameter(b *edit.Builder, name string, def edit.Value) string {
	b.AddEntry("Parameters", name, def)
	return name
}

// primaryRegionDefault is the region a new PrimaryRegion parameter defaults
// to: the region a condition already compares with, else us-east-1.
func primaryRegionDefault(t *template.Template) string {
	for _, c := range t.AllConditions() {
		found := ""
		c.Value.Walk(func(n *template.Node) bool {
			if found == "" && n.IsScalar() && regionName.MatchString(n.Value) {
				found = n.Value
			}
			return found == ""
		})
		if found != "" {
			return found
		}
	}
	return "us-east-1"
}

// ensureCondition makes sure the template has a condition with the meaning
// of the well-known condition name (F12) and returns the name to use: an
// existing condition of that name, an existing condition that means the
// same (IsProd: !Equals [!Ref Environment, production]), or name itself,
// added to the fix with the parameters it needs.
func ensureCondition(pass *analysis.Pass, b *edit.Builder, name string) string {
	t, o := pass.Template, pass.Options
	if t.Condition(name) != nil {
		return name
	}
	if existing := equivalentCondition(pass, name); existing != "" {
		return existing
	}
	var def edit.Value
	switch name {
	case condIsProduction:
		env := ensureParameter(pass, b, o.EnvironmentParameter)
		def = edit.Equals(edit.Ref(env), edit.Str(analysis.ProductionValue))
	case condIsPrimaryRegion:
		region := ensureParameter(pass, b, o.PrimaryRegionParameter)
		def = edit.Equals(edit.Ref("AWS::Region"), edit.Ref(region))
	case condCreateTrailInPrimary:
		def = edit.And(
			edit.Condition(ensureCondition(pass, b, condCreateCloudTrail)),
			edit.Condition(ensureCondition(pass, b, condIsPrimaryRegion)))
	default:
		sw, ok := switchConditions[name]
		if !ok {
			panic("ensureCondition: no definition for condition " + name)
		}
		def = edit.Equals(edit.Ref(ensureParameter(pass, b, sw.param)), edit.Str(sw.on))
	}
	b.AddEntry("Conditions", name, def)
	return name
}

// switchConditions are the conditions that test one parameter against one
// value: CreateConfig is !Equals [!Ref EnableAWSConfig, 'true'].
var switchConditions = map[string]struct{ param, on string }{
	condCreateKmsKey:     {paramExistingKmsKeyArn, ""},
	condCreateNatGateway: {paramExistingNatGatewayID, ""},
	condCreateCloudTrail: {paramEnableCloudTrail, "true"},
	condCreateConfig:     {paramEnableAWSConfig, "true"},
	condCreateGuardDuty:  {paramEnableGuardDuty, "true"},
}

// equivalentCondition returns an existing condition that means the same as
// the well-known condition name, or "".
func equivalentCondition(pass *analysis.Pass, name string) string {
	t, o := pass.Template, pass.Options
	switch name {
	case condIsProduction:
		if t.Parameter(o.EnvironmentParameter) == nil {
			return ""
		}
		others := []string{}
		for _, v := range o.EnvironmentValues {
			if v != analysis.ProductionValue {
				others = append(others, v)
			}
		}
		for _, c := range t.AllConditions() {
			v, known := t.EvalCondition(c.Name, map[string]string{o.EnvironmentParameter: analysis.ProductionValue})
			if !known || !v {
				continue
			}
			same := true
			for _, other := range others {
				if v, known := t.EvalCondition(c.Name, map[string]string{o.EnvironmentParameter: other}); !known || v {
					same = false
				}
			}
			if same {
				return c.Name
			}
		}
	case condIsPrimaryRegion:
		for _, c := range t.AllConditions() {
			if equalsRefs(c.Value, "AWS::Region", o.PrimaryRegionParameter) {
				return c.Name
			}
		}
	default:
		sw, ok := switchConditions[name]
		if !ok {
			return ""
		}
		for _, c := range t.AllConditions() {
			if v, known := t.EvalCondition(c.Name, map[string]string{sw.param: sw.on}); known && v {
				if v, known := t.EvalCondition(c.Name, map[string]string{sw.param: "\x00other"}); known && !v {
					return c.Name
				}
			}
		}
	}
	return ""
}

// equalsRefs reports whether n is Fn::Equals of Refs to a and b, in either
// order.
func equalsRefs(n *template.Node, a, b string) bool {
	if !n.IsFn("Fn::Equals") || n.Arg.Kind != template.Sequence || len(n.Arg.Items) != 2 {
		return false
	}
	x, y := refTarget(n.Arg.Items[0]), refTarget(n.Arg.Items[1])
	return (x == a && y == b) || (x == b && y == a)
}

// requiredTags is the Tags list of a resource a fix inserts: every tag key
// the options require, so that the new resource passes the tagging rule.
// Environment refers to the Environment parameter, DataClassification takes
// the given class, and other keys refer to a parameter of their own name
// (added when missing).
func requiredTags(pass *analysis.Pass, b *edit.Builder, class string) edit.Value {
	var tags []edit.Value
	for _, key := range pass.Options.RequiredTags {
		var v edit.Value
		switch {
		case isEnvironmentKey(key, pass.Options.EnvironmentParameter):
			v = edit.Ref(ensureParameter(pass, b, pass.Options.EnvironmentParameter))
		case strings.EqualFold(key, "DataClassification"):
			v = edit.Str(class)
		default:
			v = edit.Ref(ensureParameter(pass, b, key))
		}
		tags = append(tags, edit.Map(edit.KV{Key: "Key", Value: edit.Str(key)}, edit.KV{Key: "Value", Value: v}))
	}
	return edit.List(tags...)
}

const (
	kmsKeyType   = "AWS::KMS::Key"
	snsTopicType = "AWS::SNS::Topic"
	alarmType    = "AWS::CloudWatch::Alarm"
)

// Consumers of a KMS key that need a statement of their own in its policy
// (F1). Principals inside the account (RDS, EBS, S3, DynamoDB through IAM)
// are covered by the account-root statement.
const (
	keyForCloudTrail = "cloudtrail" // CloudTrail encrypting log files
	keyForLogs       = "logs"       // CloudWatch Logs encrypting a log group
	keyForAlarms     = "alarms"     // CloudWatch alarms and EventBridge publishing to an encrypted topic
	keyForConfig     = "config"     // AWS Config delivering encrypted configuration history
)

// keyConsumer describes what a consumer needs from a key policy: the service
// principal and the actions it must be allowed.
type keyConsumer struct {
	services []string // service principals, e.g. cloudtrail.amazonaws.com; logs uses logs.<region>.amazonaws.com
	actions  []string // actions that must be allowed
}

var keyConsumers = map[string]keyConsumer{
	keyForCloudTrail: {[]string{"cloudtrail.amazonaws.com"}, []string{"kms:GenerateDataKey*", "kms:DescribeKey"}},
	keyForLogs:       {[]string{"logs.amazonaws.com"}, []string{"kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"}},
	keyForAlarms:     {[]string{"cloudwatch.amazonaws.com", "events.amazonaws.com"}, []string{"kms:Decrypt", "kms:GenerateDataKey*"}},
	keyForConfig:     {[]string{"config.amazonaws.com"}, []string{"kms:Decrypt", "kms:GenerateDataKey"}}, // AWS Config docs: GenerateDataKey, not GenerateDataKey*
}

// keyStatements returns the F1 key-policy statements that give a consumer
// what it needs, scoped against the confused deputy.
func keyStatements(consumer string) []edit.Value {
	switch consumer {
	case keyForCloudTrail:
		return []edit.Value{
			edit.Map(
				edit.KV{Key: "Sid", Value: edit.Str("CloudTrailEncryptLogs")},
				edit.KV{Key: "Effect", Value: edit.Str("Allow")},
				edit.KV{Key: "Principal", Value: edit.Map(edit.KV{Key: "Service", Value: edit.Str("cloudtrail.amazonaws.com")})},
				edit.KV{Key: "Action", Value: edit.Str("kms:GenerateDataKey*")},
				edit.KV{Key: "Resource", Value: edit.Str("*")},
				edit.KV{Key: "Condition", Value: edit.Map(edit.KV{Key: "StringLike", Value: edit.Map(edit.KV{
					Key:   "kms:EncryptionContext:aws:cloudtrail:arn",
					Value: edit.Sub("arn:${AWS::Partition}:cloudtrail:*:${AWS::AccountId}:trail/*"),
				})})},
			),
			edit.Map(
				edit.KV{Key: "Sid", Value: edit.Str("CloudTrailDescribeKey")},
				edit.KV{Key: "Effect", Value: edit.Str("Allow")},
				edit.KV{Key: "Principal", Value: edit.Map(edit.KV{Key: "Service", Value: edit.Str("cloudtrail.amazonaws.com")})},
				edit.KV{Key: "Action", Value: edit.Str("kms:DescribeKey")},
				edit.KV{Key: "Resource", Value: edit.Str("*")},
			),
		}
	case keyForLogs:
		return []edit.Value{edit.Map(
			edit.KV{Key: "Sid", Value: edit.Str("CloudWatchLogsUseKey")},
			edit.KV{Key: "Effect", Value: edit.Str("Allow")},
			edit.KV{Key: "Principal", Value: edit.Map(edit.KV{Key: "Service", Value: edit.Sub("logs.${AWS::Region}.amazonaws.com")})},
			edit.KV{Key: "Action", Value: edit.Strs(keyConsumers[keyForLogs].actions...)},
			edit.KV{Key: "Resource", Value: edit.Str("*")},
			edit.KV{Key: "Condition", Value: edit.Map(edit.KV{Key: "ArnLike", Value: edit.Map(edit.KV{
				Key:   "kms:EncryptionContext:aws:logs:arn",
				Value: edit.Sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"),
			})})},
		)}
	case keyForAlarms:
		return []edit.Value{edit.Map(
			edit.KV{Key: "Sid", Value: edit.Str("AlarmAndEventPublishers")},
			edit.KV{Key: "Effect", Value: edit.Str("Allow")},
			edit.KV{Key: "Principal", Value: edit.Map(edit.KV{Key: "Service", Value: edit.Strs(keyConsumers[keyForAlarms].services...)})},
			edit.KV{Key: "Action", Value: edit.Strs(keyConsumers[keyForAlarms].actions...)},
			edit.KV{Key: "Resource", Value: edit.Str("*")},
			edit.KV{Key: "Condition", Value: sourceAccountCondition()},
		)}
	case keyForConfig:
		return []edit.Value{edit.Map(
			edit.KV{Key: "Sid", Value: edit.Str("AWSConfigUseKey")},
			edit.KV{Key: "Effect", Value: edit.Str("Allow")},
			edit.KV{Key: "Principal", Value: edit.Map(edit.KV{Key: "Service", Value: edit.Str("config.amazonaws.com")})},
			edit.KV{Key: "Action", Value: edit.Strs(keyConsumers[keyForConfig].actions...)},
			edit.KV{Key: "Resource", Value: edit.Str("*")},
			edit.KV{Key: "Condition", Value: sourceAccountCondition()},
		)}
	}
	panic("keyStatements: unknown consumer " + consumer)
}

// sourceAccountCondition limits a service principal to this account.
func sourceAccountCondition() edit.Value {
	return edit.Map(edit.KV{Key: "StringEquals", Value: edit.Map(
		edit.KV{Key: "aws:SourceAccount", Value: edit.Ref("AWS::AccountId")})})
}

// rootKeyStatement is AWS's default key-policy statement, which keeps the
// key manageable through IAM. Fixes never remove it.
func rootKeyStatement() edit.Value {
	return edit.Map(
		edit.KV{Key: "Sid", Value: edit.Str("AccountRootAccess")},
		edit.KV{Key: "Effect", Value: edit.Str("Allow")},
		edit.KV{Key: "Principal", Value: edit.Map(edit.KV{Key: "AWS", Value: edit.Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")})},
		edit.KV{Key: "Action", Value: edit.Str("kms:*")},
		edit.KV{Key: "Resource", Value: edit.Str("*")},
	)
}

// keyAllows reports whether the policy of key grants consumer what it needs:
// an Allow statement whose principal names every one of the consumer's
// services and whose actions cover every action the consumer needs.
// logs.<region>.amazonaws.com is recognised written literally or with
// ${AWS::Region}.
func keyAllows(key *template.Resource, consumer string) bool {
	need := keyConsumers[consumer]
	for _, svc := range need.services {
		for _, action := range need.actions {
			if !keyAllowsOne(key, svc, action) {
				return false
			}
		}
	}
	return true
}

func keyAllowsOne(key *template.Resource, service, action string) bool {
	for _, st := range statements(key.Property("KeyPolicy")) {
		if effect(st) != "allow" || !principalHasService(st, service) {
			continue
		}
		if actionsCover(st, action) {
			return true
		}
	}
	return false
}

var regionalLogsService = regexp.MustCompile(`^logs\.([a-z0-9-]+|\$\{AWS::Region\})\.amazonaws\.com(\.cn)?$`)

// principalHasService reports whether a statement's Principal.Service names
// service (a literal, or a Sub whose text matches).
func principalHasService(st *template.Node, service string) bool {
	for _, v := range st.Get("Principal").Get("Service").List() {
		text := v.Text()
		if v.IsFn("Fn::Sub") {
			text = v.Arg.Text()
		}
		if text == service || (service == "logs.amazonaws.com" && regionalLogsService.MatchString(text)) {
			return true
		}
	}
	return false
}

// keyOf returns the in-template KMS key a KmsKeyId-style value designates
// (Ref, GetAtt .Arn, an If branch), or nil.
func keyOf(pass *analysis.Pass, n *template.Node) *template.Resource {
	return resolveOfType(pass, n, kmsKeyType)
}

// auditKey returns the in-template KMS key that audit data should use, or
// nil: the key the trail already uses, else one whose logical id says it is
// for audit or logs, else the template's only key.
func auditKey(pass *analysis.Pass) *template.Resource {
	return pass.Memo("auditKey", func() any {
		t := pass.Template
		keys := t.ResourcesOfType(kmsKeyType)
		for _, tr := range t.ResourcesOfType(trailType) {
			if k := keyOf(pass, tr.Property("KMSKeyId")); k != nil {
				return k
			}
		}
		for _, k := range keys {
			if auditKeyName.MatchString(k.Name) {
				return k
			}
		}
		if len(keys) == 1 {
			return keys[0]
		}
		return (*template.Resource)(nil)
	}).(*template.Resource)
}

var auditKeyName = regexp.MustCompile(`(?i)audit|log|trail|security`)

// useAuditKey returns the value a fix writes into a KMS key property
// (KMSKeyId, KmsKeyId, KmsMasterKeyId, ...) for audit data used by the
// given consumers. It uses the template's audit key, adding the policy
// statements the consumers lack; when the template has none, it adds the F1
// AuditKey (gated by CreateKmsKey, with an ExistingKmsKeyArn parameter to
// bring one's own key) with exactly the statements the consumers need.
//
// A fix that creates the key writes it once, at its first use: the first
// call of a fix must name every consumer the fix adds.
func useAuditKey(pass *analysis.Pass, b *edit.Builder, consumers ...string) edit.Value {
	t := pass.Template
	if key := auditKey(pass); key != nil {
		addKeyStatements(b, key, consumers...)
		retainKey(b, key)
		return keyArn(t, key)
	}
	name := uniqueLogicalID(t, "AuditKey")
	create := ensureCondition(pass, b, condCreateKmsKey)
	stmts := []edit.Value{rootKeyStatement()}
	sorted := append([]string(nil), consumers...)
	sort.Strings(sorted)
	seen := map[string]bool{}
	for _, c := range sorted {
		if !seen[c] {
			seen[c] = true
			stmts = append(stmts, keyStatements(c)...)
		}
	}
	b.AddEntry("Resources", name, edit.Map(
		edit.KV{Key: "Type", Value: edit.Str(kmsKeyType)},
		edit.KV{Key: "Condition", Value: edit.Str(create)},
		edit.KV{Key: "DeletionPolicy", Value: edit.Str("Retain")},
		edit.KV{Key: "UpdateReplacePolicy", Value: edit.Str("Retain")},
		edit.KV{Key: "Properties", Value: edit.Map(
			edit.KV{Key: "Description", Value: edit.Sub("${AWS::StackName} audit data encryption key")},
			edit.KV{Key: "EnableKeyRotation", Value: edit.Bool(true)},
			edit.KV{Key: "PendingWindowInDays", Value: edit.Int(30)},
			edit.KV{Key: "KeyPolicy", Value: edit.Map(
				edit.KV{Key: "Version", Value: edit.Str("2012-10-17")},
				edit.KV{Key: "Statement", Value: edit.List(stmts...)},
			)},
			edit.KV{Key: "Tags", Value: requiredTags(pass, b, "audit")},
		)},
	))
	return edit.If(create, edit.GetAtt(name, "Arn"), edit.Ref(ensureParameter(pass, b, paramExistingKmsKeyArn)))
}

// retainKey gives a key that now encrypts audit evidence the Retain
// policies it lacks: deleting the key would make the evidence unreadable
// (SOC2-TPL-003).
func retainKey(b *edit.Builder, key *template.Resource) {
	if key.Value.Kind != template.Mapping {
		return
	}
	for _, p := range []struct {
		name string
		node *template.Node
	}{{"DeletionPolicy", key.DeletionPolicy}, {"UpdateReplacePolicy", key.UpdateReplacePolicy}} {
		if p.node == nil || p.node.Kind == template.Null {
			b.Set(key.Value, p.name, edit.Str("Retain"))
		}
	}
}

// keyArn is the value that designates an in-template key: !GetAtt K.Arn, or
// !If [C, !GetAtt K.Arn, <fallback>] when the key only exists under
// condition C (the fallback is the ExistingKmsKeyArn parameter when the
// template has it, else AWS::NoValue).
func keyArn(t *template.Template, key *template.Resource) edit.Value {
	arn := edit.GetAtt(key.Name, "Arn")
	if key.Condition == "" {
		return arn
	}
	if t.Parameter(paramExistingKmsKeyArn) != nil {
		return edit.If(key.Condition, arn, edit.Ref(paramExistingKmsKeyArn))
	}
	return edit.If(key.Condition, arn, edit.Ref("AWS::NoValue"))
}

// addKeyStatements appends to key's policy the statements of the consumers
// it does not serve yet. Nothing is removed: the root statement stays. A key
// without a policy gets AWS's default statement plus the new ones; a policy
// written as a function call or with a single statement mapping is left
// alone (the key-consumer rule then still reports what is missing).
func addKeyStatements(b *edit.Builder, key *template.Resource, consumers ...string) {
	add := missingKeyStatements(key, consumers...)
	if len(add) == 0 || !keyPolicyEditable(key) {
		return
	}
	policy := key.Property("KeyPolicy")
	switch list := policy.Get("Statement"); {
	case list != nil && list.Kind == template.Sequence:
		for _, st := range add {
			b.Append(list, st)
		}
	case policy == nil || policy.Kind == template.Null:
		b.SetPath(key.Value, []string{"Properties", "KeyPolicy"}, edit.Map(
			edit.KV{Key: "Version", Value: edit.Str("2012-10-17")},
			edit.KV{Key: "Statement", Value: edit.List(append([]edit.Value{rootKeyStatement()}, add...)...)},
		))
	}
}

// missingKeyStatements returns the statements addKeyStatements would add
// for the consumers.
func missingKeyStatements(key *template.Resource, consumers ...string) []edit.Value {
	var add []edit.Value
	seen := map[string]bool{}
	for _, c := range consumers {
		if !seen[c] && !keyAllows(key, c) {
			add = append(add, keyStatements(c)...)
		}
		seen[c] = true
	}
	return add
}

// keyPolicyEditable reports whether statements can be added to a key's
// policy: its Statement is a list, or it has no policy yet. Rules offer a
// key-policy fix only then, which they can tell without building it.
func keyPolicyEditable(key *template.Resource) bool {
	policy := key.Property("KeyPolicy")
	list := policy.Get("Statement")
	return list != nil && list.Kind == template.Sequence || policy == nil || policy.Kind == template.Null
}

// canAddKeyStatements reports whether addKeyStatements would edit the key.
func canAddKeyStatements(key *template.Resource, consumers ...string) bool {
	return keyPolicyEditable(key) && len(missingKeyStatements(key, consumers...)) > 0
}

// alertsTopic returns the SNS topic security alarms notify: the topic most
// alarms of the template already notify, else one whose logical id says it
// carries alerts, else nil.
func alertsTopic(pass *analysis.Pass) *template.Resource {
	return pass.Memo("alertsTopic", func() any {
		t := pass.Template
		count := map[*template.Resource]int{}
		var best *template.Resource
		for _, a := range t.ResourcesOfType(alarmType) {
			for _, act := range a.Property("AlarmActions").List() {
				if topic := resolveOfType(pass, act, snsTopicType); topic != nil {
					count[topic]++
					if best == nil || count[topic] > count[best] {
						best = topic
					}
				}
			}
		}
		if best != nil {
			return best
		}
		for _, topic := range t.ResourcesOfType(snsTopicType) {
			if alertsTopicName.MatchString(topic.Name) {
				return topic
			}
		}
		return (*template.Resource)(nil)
	}).(*template.Resource)
}

var alertsTopicName = regexp.MustCompile(`(?i)alert|alarm|security|notif|incident|oncall|pager`)

// useAlertsTopic returns the value a fix writes into AlarmActions or an
// EventBridge target: a Ref to the template's alerts topic, or, when it has
// none, to a new F13 SecurityAlertsTopic encrypted with the audit key, with
// a topic policy that lets CloudWatch alarms and EventBridge publish.
func useAlertsTopic(pass *analysis.Pass, b *edit.Builder) edit.Value {
	t := pass.Template
	if topic := alertsTopic(pass); topic != nil {
		return edit.Ref(topic.Name)
	}
	name := uniqueLogicalID(t, "SecurityAlertsTopic")
	key := useAuditKey(pass, b, keyForAlarms)
	b.AddEntry("Resources", name, edit.Map(
		edit.KV{Key: "Type", Value: edit.Str(snsTopicType)},
		edit.KV{Key: "Properties", Value: edit.Map(
			edit.KV{Key: "KmsMasterKeyId", Value: key},
			edit.KV{Key: "Tags", Value: requiredTags(pass, b, "internal")},
		)},
	))
	publish := func(sid, service string) edit.Value {
		return edit.Map(
			edit.KV{Key: "Sid", Value: edit.Str(sid)},
			edit.KV{Key: "Effect", Value: edit.Str("Allow")},
			edit.KV{Key: "Principal", Value: edit.Map(edit.KV{Key: "Service", Value: edit.Str(service)})},
			edit.KV{Key: "Action", Value: edit.Str("sns:Publish")},
			edit.KV{Key: "Resource", Value: edit.Ref(name)},
			edit.KV{Key: "Condition", Value: sourceAccountCondition()},
		)
	}
	b.AddEntry("Resources", uniqueLogicalID(t, name+"Policy"), edit.Map(
		edit.KV{Key: "Type", Value: edit.Str("AWS::SNS::TopicPolicy")},
		edit.KV{Key: "Properties", Value: edit.Map(
			edit.KV{Key: "Topics", Value: edit.List(edit.Ref(name))},
			edit.KV{Key: "PolicyDocument", Value: edit.Map(
				edit.KV{Key: "Version", Value: edit.Str("2012-10-17")},
				edit.KV{Key: "Statement", Value: edit.List(
					publish("AllowCloudWatchAlarms", "cloudwatch.amazonaws.com"),
					publish("AllowEventBridge", "events.amazonaws.com"),
				)},
			)},
		)},
	))
	return edit.Ref(name)
}

// newResource returns a resource definition of type typ, gated by
// condition cond when it is not empty.
func newResource(typ, cond string, rest ...edit.KV) edit.Value {
	kvs := []edit.KV{{Key: "Type", Value: edit.Str(typ)}}
	if cond != "" {
		kvs = append(kvs, edit.KV{Key: "Condition", Value: edit.Str(cond)})
	}
	return edit.Map(append(kvs, rest...)...)
}

// auditLogGroup is the definition of a log group for audit logs that a fix
// adds (F4, F11), under condition cond: retained, kept for
// AuditLogRetentionDays, encrypted with the audit key for keyUsers (the log
// service first), tagged as audit data. name, when set, is its LogGroupName,
// a Sub template.
func auditLogGroup(pass *analysis.Pass, b *edit.Builder, cond, name string, keyUsers ...string) edit.Value {
	var props []edit.KV
	if name != "" {
		props = append(props, edit.KV{Key: "LogGroupName", Value: edit.Sub(name)})
	}
	props = append(props,
		edit.KV{Key: "RetentionInDays", Value: edit.Ref(ensureParameter(pass, b, paramAuditLogRetentionDays))},
		edit.KV{Key: "KmsKeyId", Value: useAuditKey(pass, b, append([]string{keyForLogs}, keyUsers...)...)},
		edit.KV{Key: "Tags", Value: requiredTags(pass, b, "audit")},
	)
	return newResource("AWS::Logs::LogGroup", cond,
		edit.KV{Key: "DeletionPolicy", Value: edit.Str("Retain")},
		edit.KV{Key: "UpdateReplacePolicy", Value: edit.Str("Retain")},
		edit.KV{Key: "Properties", Value: edit.Map(props...)},
	)
}

// deliveryRole is the definition of the role a service assumes to deliver
// logs (F4, F11), under condition cond: trusted by service within this
// account, allowed actions on resource only.
func deliveryRole(cond, service, policyName string, actions []string, resource edit.Value) edit.Value {
	return newResource("AWS::IAM::Role", cond,
		edit.KV{Key: "Properties", Value: edit.Map(
			edit.KV{Key: "AssumeRolePolicyDocument", Value: edit.Map(
				edit.KV{Key: "Version", Value: edit.Str("2012-10-17")},
				edit.KV{Key: "Statement", Value: edit.List(edit.Map(
					edit.KV{Key: "Effect", Value: edit.Str("Allow")},
					edit.KV{Key: "Principal", Value: edit.Map(edit.KV{Key: "Service", Value: edit.Str(service)})},
					edit.KV{Key: "Action", Value: edit.Str("sts:AssumeRole")},
					edit.KV{Key: "Condition", Value: sourceAccountCondition()},
				))},
			)},
			edit.KV{Key: "Policies", Value: edit.List(edit.Map(
				edit.KV{Key: "PolicyName", Value: edit.Str(policyName)},
				edit.KV{Key: "PolicyDocument", Value: edit.Map(
					edit.KV{Key: "Version", Value: edit.Str("2012-10-17")},
					edit.KV{Key: "Statement", Value: edit.List(edit.Map(
						edit.KV{Key: "Effect", Value: edit.Str("Allow")},
						edit.KV{Key: "Action", Value: edit.Strs(actions...)},
						edit.KV{Key: "Resource", Value: resource},
					))},
				)},
			))},
		)},
	)
}
