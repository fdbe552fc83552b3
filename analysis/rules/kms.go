package rules

import (
	"regexp"
	"sort"
	"strings"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/template"
)

const (
	kmsAliasType           = "AWS::KMS::Alias"
	kmsLogGroupType        = "AWS::Logs::LogGroup"
	kmsDeliveryChannelType = "AWS::Config::DeliveryChannel"
)

// KMSKeyRotation reports symmetric KMS keys without automatic rotation.
var KMSKeyRotation = &analysis.Rule{
	ID:       "SOC2-KMS-001",
	Title:    "KMS key does not rotate its key material",
	Severity: analysis.Error,
	Controls: []string{"CC6.1", "PI1.5"},
	Types:    []string{kmsKeyType},
	Doc: `A symmetric KMS key whose ` + "`EnableKeyRotation`" + ` is absent or false keeps the same key material for as
long as the key exists. Everything it ever protected stays decryptable with that one secret, and a leak of
it (or of a data key wrapped by it) is never bounded in time. Asymmetric and HMAC keys, and keys with
imported key material (` + "`Origin: EXTERNAL`" + `), cannot rotate automatically and are not reported.

**Why an auditor cares.** Protecting encryption keys is one of the points of focus of CC6.1, and
periodic rotation is the control auditors expect to see configured for keys that guard customer or
audit data (PI1.5 for stored data staying intact and confidential). A key that never rotates is a
finding that cannot be explained away by process.

**How to fix.** Set ` + "`EnableKeyRotation: true`" + ` (and, if your policy asks for a period other than the
default year, ` + "`RotationPeriodInDays`" + `). Rotation is transparent: old ciphertext still decrypts.`,
	Check: checkKeyRotation,
}

func checkKeyRotation(pass *analysis.Pass) {
	t, key := pass.Template, pass.Resource
	// Only symmetric encryption keys rotate; skip the key when its spec may
	// be anything else.
	spec, _ := t.Eval(key.Property("KeySpec")).Judge(func(a template.Alt) bool {
		return a.Kind == template.Literal && !strings.EqualFold(a.Text(), "SYMMETRIC_DEFAULT")
	})
	// Nor do keys whose material is imported (Origin: EXTERNAL).
	origin, _ := t.Eval(key.Property("Origin")).Judge(func(a template.Alt) bool {
		return a.Kind == template.Literal && !strings.EqualFold(a.Text(), "AWS_KMS")
	})
	if spec != template.Pass || origin != template.Pass {
		return
	}
	checkTrueOf(pass, "key", "EnableKeyRotation", true, "never rotates its key material")
}

// KMSKeyPublicPrincipal reports key-policy statements that allow everyone.
var KMSKeyPublicPrincipal = &analysis.Rule{
	ID:       "SOC2-KMS-002",
	Title:    "KMS key policy allows any principal",
	Severity: analysis.Error,
	Controls: []string{"CC6.1", "CC6.3"},
	Types:    []string{kmsKeyType},
	Doc: `A key-policy statement with ` + "`Effect: Allow`" + ` and ` + "`Principal: \"*\"`" + ` (or ` + "`{AWS: \"*\"}`" + `) grants its
actions to every AWS identity in every account, unless a condition narrows the callers down: the calling
account (` + "`kms:CallerAccount`" + `, ` + "`aws:PrincipalAccount`" + `), the organization (` + "`aws:PrincipalOrgID`" + `), the
service the call comes through (` + "`kms:ViaService`" + `) or the resource a service acts for
(` + "`aws:SourceArn`" + `, ` + "`aws:SourceAccount`" + `). Without one of these, anyone who learns the key ARN can use it.

**Why an auditor cares.** CC6.1 expects access to keys to be restricted to authorised identities and
CC6.3 expects least privilege. A key open to the world means the confidentiality of everything it
encrypts rests on nobody knowing an ARN.

**How to fix.** Name the principals (for the account itself,
` + "`!Sub 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root'`" + `), or keep the wildcard and add
` + "`Condition: {StringEquals: {'kms:CallerAccount': !Ref 'AWS::AccountId'}}`" + `. The quick fixes do either.`,
	Check: checkKeyPublicPrincipal,
}

// kmsCallerLimitingKeys are the condition keys that restrict who may use a
// statement with a wildcard principal.
var kmsCallerLimitingKeys = []string{
	"kms:calleraccount", "aws:principalaccount", "aws:principalorgid", "aws:principalorgpaths",
	"aws:principalarn", "aws:sourcearn", "aws:sourceaccount", "aws:sourceorgid", "kms:viaservice",
}

// kmsHasConditionKey reports whether a statement has a positive (not negated,
// not IfExists, not a Null test) condition on one of keys (lower-case; a trailing * in a key
// matches any suffix).
func kmsHasConditionKey(st *template.Node, keys ...string) bool {
	c := st.Get("Condition")
	if c == nil || c.Kind != template.Mapping {
		return false
	}
	for _, op := range c.Pairs {
		name := strings.ToLower(op.Key.Value)
		if strings.Contains(name, "not") || strings.HasSuffix(name, "ifexists") || name == "null" || op.Value.Kind != template.Mapping {
			continue
		}
		for _, kv := range op.Value.Pairs {
			k := strings.ToLower(kv.Key.Value)
			for _, want := range keys {
				if k == want || (strings.HasSuffix(want, "*") && strings.HasPrefix(k, strings.TrimSuffix(want, "*"))) {
					return true
				}
			}
		}
	}
	return false
}

// kmsWildcardPrincipal returns the node that makes a statement's principal
// everyone: the "*" scalar itself, or null.
func kmsWildcardPrincipal(st *template.Node) *template.Node {
	p := st.Get("Principal")
	if p.Text() == "*" {
		return p
	}
	for _, v := range p.Get("AWS").List() {
		if v.Text() == "*" {
			return v
		}
	}
	return nil
}

func checkKeyPublicPrincipal(pass *analysis.Pass) {
	key := pass.Resource
	for _, st := range statements(key.Property("KeyPolicy")) {
		star := kmsWildcardPrincipal(st)
		if effect(st) != "allow" || star == nil || kmsHasConditionKey(st, kmsCallerLimitingKeys...) {
			continue
		}
		st := st
		f := analysis.Finding{
			Span: star.Span,
			Message: "key " + key.Name + " lets any AWS principal in any account use it" + kmsSidSuffix(st) +
				": name the principals, or add a kms:CallerAccount or aws:PrincipalOrgID condition",
		}
		f.Fixes = append(f.Fixes, pass.NewFix("Limit the statement to callers in this account (kms:CallerAccount)", func(b *edit.Builder) {
			b.SetPath(st, []string{"Condition", "StringEquals", "kms:CallerAccount"}, edit.Ref("AWS::AccountId"))
		}))
		root := edit.Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")
		f.Fixes = append(f.Fixes, pass.NewFix("Replace the wildcard principal with this account", func(b *edit.Builder) {
			if star == st.Get("Principal") {
				b.Replace(star, edit.Map(edit.KV{Key: "AWS", Value: root}))
			} else {
				b.Replace(star, root)
			}
		}))
		pass.Report(f)
	}
}

// kmsSidSuffix names a statement by its Sid, for messages: " (statement X)".
func kmsSidSuffix(st *template.Node) string {
	if sid := st.Get("Sid").Text(); sid != "" {
		return " (statement " + sid + ")"
	}
	return ""
}

// KMSKeyPolicyRootOnly reports key policies that consist of nothing but the
// account-root statement.
var KMSKeyPolicyRootOnly = &analysis.Rule{
	ID:       "SOC2-KMS-003",
	Title:    "KMS key policy has only the account-root statement",
	Severity: analysis.Warning,
	Controls: []string{"CC6.1", "CC6.3"},
	Types:    []string{kmsKeyType},
	Doc: `The statement that allows the account root ` + "`kms:*`" + ` is AWS's default key policy: it delegates access to
IAM and keeps the key manageable, and it is not a problem in itself. A policy that has **only** that
statement (or no ` + "`KeyPolicy`" + ` at all, which gets the same default) does not separate who administers the
key from who uses it, and has none of the scoped statements that the services encrypting with the key
need (CloudTrail, CloudWatch Logs, alarm publishers, AWS Config).

**Why an auditor cares.** CC6.3 asks for least privilege and segregation of duties; for keys the
evidence is a policy that names key administrators (who cannot decrypt) apart from key users and
services. CC6.1 expects the keys protecting data to be governed, not merely present.

**How to fix.** Keep the root statement and add: a key-administrator statement for a named role, the
service statements for the consumers found in the template (scoped with encryption-context or source
conditions), and reader statements for the roles that decrypt. The quick fix adds the service
statements the template's consumers need; a second fix adds a key-administrator statement with a
` + "`KeyAdminRoleArn`" + ` parameter to fill in. No fix removes the root statement or sets
` + "`BypassPolicyLockoutSafetyCheck`" + `.`,
	Check: checkKeyPolicyRootOnly,
}

func checkKeyPolicyRootOnly(pass *analysis.Pass) {
	t, key := pass.Template, pass.Resource
	policy := key.Property("KeyPolicy")
	sts := statements(policy)
	var f analysis.Finding
	switch {
	case policy == nil || policy.Kind == template.Null:
		f = analysis.Finding{
			Span: pass.KeySpan(),
			Message: "key " + key.Name + " has no KeyPolicy, so it gets AWS's default account-root policy only: " +
				"add key-administrator and service statements for its consumers",
		}
	case len(sts) == 0 || policy.Get("Statement").Kind != template.Sequence && policy.Get("Statement").Kind != template.Mapping:
		return
	default:
		for _, st := range sts {
			if !kmsIsRootStatement(t, st) {
				return
			}
		}
		f = analysis.Finding{
			Span: sts[0].Span,
			Message: "key " + key.Name + "'s policy has only the account-root kms:* statement: keep it, and add " +
				"key-administrator and service statements for its consumers",
		}
	}
	kinds := kmsConsumerKinds(pass, key)
	if len(kinds) > 0 && canAddKeyStatements(key, kinds...) {
		f.Fixes = append(f.Fixes, pass.NewFix("Add the service statements for "+strings.Join(kmsKindNames(kinds), ", ")+" to "+key.Name, func(b *edit.Builder) {
			addKeyStatements(b, key, kinds...)
		}))
	}
	admin := pass.NewFix("Add a key-administrator statement (fill in the KeyAdminRoleArn parameter)", func(b *edit.Builder) {
		param := "KeyAdminRoleArn"
		if t.Parameter(param) == nil {
			b.AddEntry("Parameters", param, edit.Map(
				edit.KV{Key: "Type", Value: edit.Str("String")},
				edit.KV{Key: "Description", Value: edit.Str("Role that administers (but cannot use) the key; it must exist before the key is created")},
			))
		}
		st := kmsKeyAdminStatement(param)
		if list := policy.Get("Statement"); list != nil && list.Kind == template.Sequence {
			b.Append(list, st)
		} else if policy == nil || policy.Kind == template.Null {
			b.SetPath(key.Value, []string{"Properties", "KeyPolicy"}, edit.Map(
				edit.KV{Key: "Version", Value: edit.Str("2012-10-17")},
				edit.KV{Key: "Statement", Value: edit.List(rootKeyStatement(), st)},
			))
		}
	})
	admin.Unsafe = true
	if keyPolicyEditable(key) {
		f.Fixes = append(f.Fixes, admin)
	}
	pass.Report(f)
}

// kmsKeyAdminStatement is the F1 key-administrator statement: manage the key,
// never use it.
func kmsKeyAdminStatement(param string) edit.Value {
	return edit.Map(
		edit.KV{Key: "Sid", Value: edit.Str("KeyAdministrators")},
		edit.KV{Key: "Effect", Value: edit.Str("Allow")},
		edit.KV{Key: "Principal", Value: edit.Map(edit.KV{Key: "AWS", Value: edit.Ref(param)})},
		edit.KV{Key: "Action", Value: edit.Strs("kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*",
			"kms:Update*", "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource",
			"kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion")},
		edit.KV{Key: "Resource", Value: edit.Str("*")},
	)
}

// kmsAccountID is an account id written alone, which designates the account's root.
var kmsAccountID = regexp.MustCompile(`^\d{12}$`)

var kmsRootPrincipalARN = regexp.MustCompile(`^arn:(\$\{AWS::Partition\}|aws[a-z-]*):iam::(\$\{AWS::AccountId\}|\d{12}):root$`)

// kmsIsRootStatement reports whether a statement is AWS's default one: Allow
// kms:* (or *) to the account root.
func kmsIsRootStatement(t *template.Template, st *template.Node) bool {
	if effect(st) != "allow" || st.Get("Condition") != nil {
		return false
	}
	all := false
	for _, a := range literalStrings(st.Get("Action")) {
		if a == "*" || strings.EqualFold(a, "kms:*") {
			all = true
		}
	}
	if !all {
		return false
	}
	aws := st.Get("Principal").Get("AWS").List()
	if len(aws) == 0 || st.Get("Principal").Get("Service") != nil {
		return false
	}
	for _, p := range aws {
		if !kmsIsAccountRoot(p) {
			return false
		}
	}
	return true
}

// kmsIsAccountRoot reports whether a principal value designates this account
// (or a literal account) as a whole.
func kmsIsAccountRoot(n *template.Node) bool {
	switch {
	case n.IsFn("Ref"):
		return n.Arg.Text() == "AWS::AccountId"
	case n.IsScalar():
		return kmsRootPrincipalARN.MatchString(n.Value) || kmsAccountID.MatchString(n.Value)
	}
	s, ok := kmsStringPattern(n)
	return ok && (kmsRootPrincipalARN.MatchString(s) || s == "${AWS::AccountId}")
}

// kmsStringPattern renders a string-valued node with ${X} for its variables:
// literals as is, Sub templates, Join of renderable parts, Ref X as ${X}.
func kmsStringPattern(n *template.Node) (string, bool) {
	switch {
	case n.IsScalar():
		return n.Value, true
	case n.IsFn("Ref"):
		return "${" + n.Arg.Text() + "}", true
	case n.IsFn("Fn::Sub"):
		parts, _, ok := template.Sub(n)
		if !ok {
			return "", false
		}
		var b strings.Builder
		for _, p := range parts {
			if p.Var != "" {
				b.WriteString("${" + p.Var + "}")
			} else {
				b.WriteString(p.Literal)
			}
		}
		return b.String(), true
	case n.IsFn("Fn::Join"):
		a := n.Arg
		if a.Kind != template.Sequence || len(a.Items) != 2 || a.Items[1].Kind != template.Sequence {
			return "", false
		}
		var parts []string
		for _, it := range a.Items[1].Items {
			s, ok := kmsStringPattern(it)
			if !ok {
				return "", false
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, a.Items[0].Text()), true
	}
	return "", false
}

// KMSServiceStatementUnscoped reports service statements open to the
// confused deputy or granting every KMS action.
var KMSServiceStatementUnscoped = &analysis.Rule{
	ID:       "SOC2-KMS-004",
	Title:    "KMS key policy service statement is not scoped",
	Severity: analysis.Warning,
	Controls: []string{"CC6.1"},
	Types:    []string{kmsKeyType},
	Doc: `A key-policy statement for an AWS service principal (` + "`Principal: {Service: ...}`" + `) lets that service use the
key on behalf of **any** customer who asks it to, unless a condition ties the calls to this account's
resources: ` + "`aws:SourceArn`" + `, ` + "`aws:SourceAccount`" + `, or an encryption-context condition such as
` + "`kms:EncryptionContext:aws:cloudtrail:arn`" + `. This is the confused-deputy problem: another account's trail
or log group could be pointed at your key. A statement granting ` + "`kms:*`" + ` to a service is reported as
well, since no service needs to administer the key. Statements that only allow ` + "`kms:DescribeKey`" + `
(read the key's metadata, never use it) are not reported.

**Why an auditor cares.** CC6.1 expects access to encryption keys to be limited to the identities and
purposes that need it. An unscoped service grant is access for principals nobody reviewed.

**How to fix.** Give each service only the actions it uses (CloudTrail: ` + "`kms:GenerateDataKey*`" + ` and
` + "`kms:DescribeKey`" + `; CloudWatch Logs: ` + "`kms:Encrypt*`, `kms:Decrypt*`, `kms:ReEncrypt*`, `kms:GenerateDataKey*`, `kms:Describe*`" + `)
and scope them: CloudTrail with ` + "`StringLike kms:EncryptionContext:aws:cloudtrail:arn`" + ` (and
` + "`aws:SourceArn`" + ` built with ` + "`!Sub`" + ` from the trail's name, not ` + "`!GetAtt Trail.Arn`" + `, which would be a circular
dependency), CloudWatch Logs with ` + "`ArnLike kms:EncryptionContext:aws:logs:arn`" + `, others with
` + "`aws:SourceAccount`" + `.`,
	Check: checkKeyServiceStatements,
}

// kmsConfusedDeputyKeys are the condition keys that tie a service's calls to
// this account's resources.
var kmsConfusedDeputyKeys = []string{"aws:sourcearn", "aws:sourceaccount", "aws:sourceorgid", "kms:encryptioncontext:*", "kms:encryptioncontextkeys"}

func checkKeyServiceStatements(pass *analysis.Pass) {
	key := pass.Resource
	list := key.Property("KeyPolicy").Get("Statement")
	for _, st := range statements(key.Property("KeyPolicy")) {
		svc := st.Get("Principal").Get("Service")
		if effect(st) != "allow" || svc == nil {
			continue
		}
		st := st
		services := kmsServiceNames(svc)
		consumer := kmsServiceConsumer(services)
		if kmsAllActions(st) {
			f := analysis.Finding{
				Span: st.Get("Action").Span,
				Message: "key " + key.Name + " grants every KMS action to " + strings.Join(services, ", ") + kmsSidSuffix(st) +
					": allow only the actions the service uses, scoped to this account",
			}
			if consumer != "" && list != nil && list.Kind == template.Sequence {
				f.Fixes = []analysis.Fix{pass.NewFix("Allow only the actions "+kmsKindName(consumer)+" uses, scoped to this account", func(b *edit.Builder) {
					actions := keyConsumers[consumer].actions
					if consumer == keyForCloudTrail {
						// DescribeKey carries no encryption context: it
						// gets a statement of its own, as in F1.
						actions = actions[:1]
						if !kmsOtherStatementAllows(key, st, "cloudtrail.amazonaws.com", "kms:DescribeKey") {
							b.Append(list, keyStatements(keyForCloudTrail)[1])
						}
					}
					if len(actions) == 1 {
						b.Replace(st.Get("Action"), edit.Str(actions[0]))
					} else {
						b.Replace(st.Get("Action"), edit.Strs(actions...))
					}
					if !kmsHasConditionKey(st, kmsConfusedDeputyKeys...) {
						kmsAddDeputyCondition(b, st, consumer)
					}
				})}
			}
			pass.Report(f)
			continue
		}
		if kmsDescribeOnly(st) || kmsHasConditionKey(st, kmsConfusedDeputyKeys...) {
			continue
		}
		f := analysis.Finding{
			Span: svc.Span,
			Message: "key " + key.Name + " lets " + strings.Join(services, ", ") + " use it for any account" + kmsSidSuffix(st) +
				": add an aws:SourceArn, aws:SourceAccount or kms:EncryptionContext condition",
		}
		f.Fixes = []analysis.Fix{pass.NewFix("Add a confused-deputy condition", func(b *edit.Builder) {
			kmsAddDeputyCondition(b, st, consumer)
		})}
		if consumer == keyForCloudTrail && !kmsOnlyActions(st, "kms:generatedatakey*") {
			// The encryption context exists only on data-key calls; a
			// statement with other actions is scoped by account instead.
			f.Fixes = []analysis.Fix{pass.NewFix("Add a confused-deputy condition (aws:SourceAccount)", func(b *edit.Builder) {
				b.SetPath(st, []string{"Condition", "StringEquals", "aws:SourceAccount"}, edit.Ref("AWS::AccountId"))
			})}
		}
		pass.Report(f)
	}
}

// kmsAddDeputyCondition scopes a service statement to this account: by
// encryption context for CloudTrail and CloudWatch Logs (F1), else by
// aws:SourceAccount.
func kmsAddDeputyCondition(b *edit.Builder, st *template.Node, consumer string) {
	switch consumer {
	case keyForCloudTrail:
		b.SetPath(st, []string{"Condition", "StringLike", "kms:EncryptionContext:aws:cloudtrail:arn"},
			edit.Sub("arn:${AWS::Partition}:cloudtrail:*:${AWS::AccountId}:trail/*"))
	case keyForLogs:
		b.SetPath(st, []string{"Condition", "ArnLike", "kms:EncryptionContext:aws:logs:arn"},
			edit.Sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"))
	default:
		b.SetPath(st, []string{"Condition", "StringEquals", "aws:SourceAccount"}, edit.Ref("AWS::AccountId"))
	}
}

// kmsOtherStatementAllows reports whether a statement of key's policy other
// than skip allows service the action.
func kmsOtherStatementAllows(key *template.Resource, skip *template.Node, service, action string) bool {
	for _, st := range statements(key.Property("KeyPolicy")) {
		if st != skip && effect(st) == "allow" && principalHasService(st, service) && actionsCover(st, action) {
			return true
		}
	}
	return false
}

// kmsServiceNames returns the service principals of a statement as written
// (Sub templates with their variables).
func kmsServiceNames(svc *template.Node) []string {
	var out []string
	for _, v := range svc.List() {
		if s, ok := kmsStringPattern(v); ok {
			out = append(out, s)
		}
	}
	return out
}

// kmsServiceConsumer returns the F1 consumer a single-service principal is,
// or "".
func kmsServiceConsumer(services []string) string {
	if len(services) != 1 {
		return ""
	}
	switch s := services[0]; {
	case s == "cloudtrail.amazonaws.com":
		return keyForCloudTrail
	case s == "logs.amazonaws.com" || regionalLogsService.MatchString(s):
		return keyForLogs
	case s == "config.amazonaws.com":
		return keyForConfig
	}
	return ""
}

// kmsAllActions reports whether a statement allows every KMS action.
func kmsAllActions(st *template.Node) bool {
	for _, a := range literalStrings(st.Get("Action")) {
		if a == "*" || strings.EqualFold(a, "kms:*") {
			return true
		}
	}
	return false
}

// kmsDescribeOnly reports whether every action of a statement is
// kms:DescribeKey, which reads metadata and never uses the key.
func kmsDescribeOnly(st *template.Node) bool {
	return kmsOnlyActions(st, "kms:describekey")
}

// kmsOnlyActions reports whether the statement's actions are all literals equal
// (case-insensitively) to one of want.
func kmsOnlyActions(st *template.Node, want ...string) bool {
	actions := st.Get("Action").List()
	if len(actions) == 0 {
		return false
	}
	for _, a := range actions {
		if !a.IsScalar() || !contains(want, strings.ToLower(a.Value)) {
			return false
		}
	}
	return true
}

// KMSKeyConsumers reports in-template consumers of a key whose policy does
// not let their service use it.
var KMSKeyConsumers = &analysis.Rule{
	ID:       "SOC2-TPL-111",
	Title:    "KMS key policy does not let its consumers use the key",
	Severity: analysis.Error,
	Controls: []string{"CC6.1", "CC7.2"},
	Doc: `A trail, log group, Config delivery channel or SNS topic that encrypts with a key of the template needs a
statement in that key's policy for its service: the account-root statement covers IAM principals, not AWS
services acting on their own. Without it the deployment fails or logging silently stops:

- a trail's ` + "`KMSKeyId`" + ` needs ` + "`cloudtrail.amazonaws.com`" + ` allowed ` + "`kms:GenerateDataKey*`" + ` and
  ` + "`kms:DescribeKey`" + ` (otherwise ` + "`InsufficientEncryptionPolicyException`" + `): error;
- a log group's ` + "`KmsKeyId`" + ` needs ` + "`logs.<region>.amazonaws.com`" + ` allowed ` + "`kms:Encrypt*`" + `, ` + "`kms:Decrypt*`" + `,
  ` + "`kms:ReEncrypt*`" + `, ` + "`kms:GenerateDataKey*`" + ` and ` + "`kms:Describe*`" + ` (otherwise the log group cannot be created): error;
- a Config delivery channel's ` + "`S3KmsKeyArn`" + ` needs ` + "`config.amazonaws.com`" + `, and a topic that EventBridge
  rules publish to needs ` + "`events.amazonaws.com`" + `: warning. (Topics behind CloudWatch alarms are
  SOC2-TPL-110's.)

A statement whose ` + "`aws:SourceArn`" + ` or encryption-context condition names another trail or log group than
the consumer (a trail renamed after the policy was written) does not count.

**Why an auditor cares.** Monitoring (CC7.2) depends on the audit trail and the security logs actually
being written; encryption of those logs (CC6.1) must not be the reason they are not.

**How to fix.** Add the scoped service statement to the key policy (catalogue snippet F1); keep the root
statement. The quick fix does it.`,
	Check: checkKeyConsumers,
}

func checkKeyConsumers(pass *analysis.Pass) {
	uses := kmsKeyUses(pass)
	keys := make([]*template.Resource, 0, len(uses))
	for k := range uses {
		if key := pass.Template.Resource(k); key != nil {
			keys = append(keys, key)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Key.Span.Start < keys[j].Key.Span.Start })
	for _, key := range keys {
		for _, u := range kmsUses(pass, uses[key.Name]) {
			var need string
			sev := analysis.Error
			switch u.kind {
			case keyForCloudTrail, keyForLogs:
				need = u.kind
			case keyForConfig:
				need, sev = u.kind, analysis.Warning
			case kmsKeyForEvents:
				sev = analysis.Warning
				if kmsKeyAllowsServices(key, []string{"events.amazonaws.com"}, "kms:GenerateDataKey*", "kms:Decrypt") {
					continue
				}
			default:
				continue
			}
			if need != "" && keyAllows(key, need) {
				if st, value := kmsExcludingStatement(pass.Template, key, u); st != nil {
					pass.Report(analysis.Finding{
						Span:     u.node.Span,
						Resource: u.res.Name,
						Message: kmsConsumerPrefix(u, key) + ", but the key's " + kmsKindName(u.kind) + " statement" + kmsSidSuffix(st) +
							" only admits " + value + ", which cannot be " + u.res.Name + ": correct the condition so that it matches " + u.res.Name,
						Related: []analysis.Related{{Span: st.Span, Message: "the statement whose condition excludes " + u.res.Name}},
					})
				}
				continue
			}
			if need == "" {
				need = keyForAlarms
			}
			key, u, need := key, u, need
			f := analysis.Finding{
				Span:     u.node.Span,
				Severity: sev,
				Resource: u.res.Name,
				Message:  kmsConsumerMessage(u, key),
				Related:  []analysis.Related{{Span: key.Key.Span, Message: "key " + key.Name}},
			}
			if canAddKeyStatements(key, need) {
				f.Fixes = []analysis.Fix{pass.NewFix("Add the "+kmsKindName(need)+" statement to "+key.Name+"'s policy", func(b *edit.Builder) {
					addKeyStatements(b, key, need)
				})}
			}
			pass.Report(f)
		}
	}
}

func kmsConsumerMessage(u kmsKeyUse, key *template.Resource) string {
	switch u.kind {
	case keyForCloudTrail:
		return "trail " + u.res.Name + " encrypts its logs with key " + key.Name + ", whose policy does not allow cloudtrail.amazonaws.com " +
			"kms:GenerateDataKey* and kms:DescribeKey: the trail fails with InsufficientEncryptionPolicyException; add the CloudTrail statements to the key policy"
	case keyForLogs:
		return "log group " + u.res.Name + " is encrypted with key " + key.Name + ", whose policy does not allow logs.<region>.amazonaws.com " +
			"kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, kms:GenerateDataKey* and kms:Describe*: the log group cannot be created; add the CloudWatch Logs statement to the key policy"
	case keyForConfig:
		return "Config delivery channel " + u.res.Name + " encrypts with key " + key.Name + ", whose policy does not allow config.amazonaws.com " +
			"kms:Decrypt and kms:GenerateDataKey: configuration history is not delivered; add the AWS Config statement to the key policy"
	}
	return "topic " + u.res.Name + " receives EventBridge events and is encrypted with key " + key.Name + ", whose policy does not allow events.amazonaws.com " +
		"kms:GenerateDataKey* and kms:Decrypt: events are dropped; add the publishers statement to the key policy"
}

func kmsConsumerPrefix(u kmsKeyUse, key *template.Resource) string {
	if u.kind == keyForCloudTrail {
		return "trail " + u.res.Name + " encrypts its logs with key " + key.Name
	}
	return "log group " + u.res.Name + " is encrypted with key " + key.Name
}

// kmsExcludingStatement returns, when every statement of key that grants a
// trail or log group consumer its data-key action has a condition on the
// consumer's ARN that cannot match it, the first such statement and the
// condition text ("aws:SourceArn arn:...:trail/other"); else nil.
func kmsExcludingStatement(t *template.Template, key *template.Resource, u kmsKeyUse) (*template.Node, string) {
	var arn, service string
	var keys []string
	switch u.kind {
	case keyForCloudTrail:
		name, ok := kmsStringPattern(u.res.Property("TrailName"))
		if !ok || u.res.Property("TrailName") == nil {
			return nil, ""
		}
		arn = "arn:${AWS::Partition}:cloudtrail:${AWS::Region}:${AWS::AccountId}:trail/" + name
		service, keys = "cloudtrail.amazonaws.com", []string{"aws:sourcearn", "kms:encryptioncontext:aws:cloudtrail:arn"}
	case keyForLogs:
		name, ok := kmsStringPattern(u.res.Property("LogGroupName"))
		if !ok || u.res.Property("LogGroupName") == nil {
			return nil, ""
		}
		arn = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:" + name
		service, keys = "logs.amazonaws.com", []string{"aws:sourcearn", "kms:encryptioncontext:aws:logs:arn"}
	default:
		return nil, ""
	}
	var first *template.Node
	var firstWhy string
	for _, st := range statements(key.Property("KeyPolicy")) {
		if effect(st) != "allow" || !principalHasService(st, service) || !actionsCover(st, "kms:GenerateDataKey*") {
			continue
		}
		why := kmsConditionExcludes(st, keys, arn)
		if why == "" {
			return nil, ""
		}
		if first == nil {
			first, firstWhy = st, why
		}
	}
	return first, firstWhy
}

// kmsConditionExcludes returns a description of the first condition of st on
// one of keys (lower-case) that no value of arn can satisfy, or "".
func kmsConditionExcludes(st *template.Node, keys []string, arn string) string {
	c := st.Get("Condition")
	if c == nil || c.Kind != template.Mapping {
		return ""
	}
	for _, op := range c.Pairs {
		name := strings.ToLower(op.Key.Value)
		like := name == "stringlike" || name == "arnlike"
		if !like && name != "stringequals" && name != "arnequals" || op.Value.Kind != template.Mapping {
			continue
		}
		for _, kv := range op.Value.Pairs {
			if !contains(keys, strings.ToLower(kv.Key.Value)) {
				continue
			}
			may := false
			var shown string
			for _, v := range kv.Value.List() {
				p, ok := kmsStringPattern(v)
				if !ok || kmsARNMayMatch(p, arn, like) {
					may = true
					break
				}
				shown = p
			}
			if !may && shown != "" {
				return kv.Key.Value + " " + shown
			}
		}
	}
	return ""
}

var kmsAnyPartition = regexp.MustCompile(`^arn:aws(-[a-z-]+)?:`)

// kmsARNMayMatch reports whether the condition value pattern (with ${X}
// variables) may equal, or for like match, the consumer's ARN pattern.
// Only a difference between two known texts counts as a mismatch: a
// literal region or account against ${AWS::Region} or ${AWS::AccountId},
// or different variables, may match.
func kmsARNMayMatch(pattern, arn string, like bool) bool {
	pattern = kmsAnyPartition.ReplaceAllString(pattern, "arn:${AWS::Partition}:")
	ps := strings.SplitN(pattern, ":", 6)
	as := strings.SplitN(arn, ":", 6)
	if len(ps) != 6 || len(as) != 6 {
		return true
	}
	for i := range ps {
		p, a := ps[i], as[i]
		if p == a || (like && globMatch(p, a)) {
			continue
		}
		if !strings.Contains(p, "${") && !strings.Contains(a, "${") {
			return false
		}
		if kmsSameVariables(p, a) {
			return false
		}
	}
	return true
}

var kmsSubVariable = regexp.MustCompile(`\$\{[^}]*\}`)

// kmsSameVariables reports whether two texts use the same ${X} variables in
// the same order, so that their literal difference is a real one.
func kmsSameVariables(a, b string) bool {
	va, vb := kmsSubVariable.FindAllString(a, -1), kmsSubVariable.FindAllString(b, -1)
	if len(va) != len(vb) {
		return false
	}
	for i := range va {
		if va[i] != vb[i] {
			return false
		}
	}
	return true
}

// kmsKeyAllowsServices reports whether the key's policy allows each service
// every one of the actions.
func kmsKeyAllowsServices(key *template.Resource, services []string, actions ...string) bool {
	for _, s := range services {
		for _, a := range actions {
			if !keyAllowsOne(key, s, a) {
				return false
			}
		}
	}
	return true
}

// kmsKeyForEvents marks a topic published to by EventBridge rules only; its
// statement is the F1 alarms-and-events one.
const kmsKeyForEvents = "events"

// kmsKeyUse is one in-template consumer of a key: the resource, the node that
// designates the key, and what the consumer needs (keyFor*).
type kmsKeyUse struct {
	res  *template.Resource
	node *template.Node
	kind string
}

// kmsKeyConsumer is what a consumer resource says about the key it
// encrypts with, as plain data: key Key, designated by property Prop, needs
// a statement for Kind (keyFor*, or kmsKeyForEvents).
type kmsKeyConsumer struct {
	Key, Prop, Kind string
}

// kmsKeyConsumers is each trail's, log group's, Config delivery channel's
// and alarm or EventBridge topic's key, gathered per resource so that an
// edit of one resource recomputes its own only.
var kmsKeyConsumers = &analysis.ResourceFact{Key: "kms.keyConsumers", Compute: func(pass *analysis.Pass) any {
	r := pass.Resource
	var prop, kind string
	switch r.Type {
	case trailType:
		prop, kind = "KMSKeyId", keyForCloudTrail
	case kmsLogGroupType:
		prop, kind = "KmsKeyId", keyForLogs
	case kmsDeliveryChannelType:
		prop, kind = "S3KmsKeyArn", keyForConfig
	case snsTopicType:
		if r.Property("KmsMasterKeyId") == nil {
			return nil
		}
		alarms, events := msgTopicPublishers(pass)
		switch {
		case alarms[r.Name]:
			prop, kind = "KmsMasterKeyId", keyForAlarms
		case events[r.Name]:
			prop, kind = "KmsMasterKeyId", kmsKeyForEvents
		}
	}
	if prop == "" {
		return nil
	}
	n := r.Property(prop)
	if n == nil {
		return nil
	}
	if k := kmsResolveKeyName(pass, n); k != "" {
		return kmsKeyConsumer{Key: k, Prop: prop, Kind: kind}
	}
	return nil
}}

// kmsKeyUsesFact maps each in-template key to its consumers that need a
// statement of their own, in document order.
var kmsKeyUsesFact = &analysis.Fact{Key: "kms.keyUses", Compute: func(pass *analysis.Pass) any {
	out := map[string][]kmsKeyUseRef{}
	for _, g := range pass.Gather(kmsKeyConsumers) {
		c := g.Value.(kmsKeyConsumer)
		out[c.Key] = append(out[c.Key], kmsKeyUseRef{Res: g.Name, Prop: c.Prop, Kind: c.Kind})
	}
	return out
}}

// kmsKeyUseRef is a kmsKeyUse by name, as kmsKeyUsesFact holds it.
type kmsKeyUseRef struct {
	Res, Prop, Kind string
}

// kmsKeyUses maps the logical id of each in-template key to its consumers
// that need a statement of their own (trails, log groups, Config delivery
// channels, topics that alarms or EventBridge publish to).
func kmsKeyUses(pass *analysis.Pass) map[string][]kmsKeyUseRef {
	return pass.Fact(kmsKeyUsesFact).(map[string][]kmsKeyUseRef)
}

// kmsKeyUsesOf returns the uses of key name (see kmsKeyUses); the check
// depends on that key's entry only.
func kmsKeyUsesOf(pass *analysis.Pass, name string) []kmsKeyUseRef {
	uses, _ := analysis.FactAt[[]kmsKeyUseRef](pass, kmsKeyUsesFact, name)
	return uses
}

// kmsUses returns the uses of a key with their resources and nodes, looked
// up in the pass's template.
func kmsUses(pass *analysis.Pass, refs []kmsKeyUseRef) []kmsKeyUse {
	out := make([]kmsKeyUse, 0, len(refs))
	for _, u := range refs {
		if r := pass.Template.Resource(u.Res); r != nil {
			out = append(out, kmsKeyUse{r, r.Property(u.Prop), u.Kind})
		}
	}
	return out
}

// kmsConsumerKinds returns the F1 consumers (keyFor*) of a key, sorted and
// without repeats; EventBridge topics count as alarm publishers.
func kmsConsumerKinds(pass *analysis.Pass, key *template.Resource) []string {
	seen := map[string]bool{}
	var out []string
	for _, u := range kmsKeyUsesOf(pass, key.Name) {
		k := u.Kind
		if k == kmsKeyForEvents {
			k = keyForAlarms
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func kmsKindName(kind string) string {
	switch kind {
	case keyForCloudTrail:
		return "CloudTrail"
	case keyForLogs:
		return "CloudWatch Logs"
	case keyForAlarms:
		return "alarm and EventBridge publishers"
	case keyForConfig:
		return "AWS Config"
	}
	return kind
}

func kmsKindNames(kinds []string) []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = kmsKindName(k)
	}
	return out
}

// kmsResolveKey returns the in-template KMS key a key property designates:
// directly (Ref, GetAtt, If branches) or through an in-template
// AWS::KMS::Alias (Ref to it, or its literal alias name or ARN).
func kmsResolveKey(pass *analysis.Pass, n *template.Node) *template.Resource {
	if name := kmsResolveKeyName(pass, n); name != "" {
		return pass.Template.Resource(name)
	}
	return nil
}

// kmsResolveKeyName is kmsResolveKey for callers that need the key's
// logical id only: it does not read the key.
func kmsResolveKeyName(pass *analysis.Pass, n *template.Node) string {
	t := pass.Template
	if k := resolveNameOfType(pass, n, kmsKeyType); k != "" {
		return k
	}
	if a := resolveNameOfType(pass, n, kmsAliasType); a != "" {
		return resolveNameOfType(pass, t.Resource(a).Property("TargetKeyId"), kmsKeyType)
	}
	aliases := kmsKeyAliases(pass)
	for _, alt := range t.Eval(n) {
		s := alt.Text()
		if i := strings.Index(s, "alias/"); alt.Kind == template.Literal && i >= 0 {
			if a := aliases[s[i:]]; a != "" {
				return resolveNameOfType(pass, t.Resource(a).Property("TargetKeyId"), kmsKeyType)
			}
		}
	}
	return ""
}

// kmsKeyAliases maps the literal names of the template's KMS aliases
// (alias/...) to the aliases' logical ids (the last alias of a name).
func kmsKeyAliases(pass *analysis.Pass) map[string]string {
	return pass.Fact(kmsKeyAliasesFact).(map[string]string)
}

var kmsKeyAliasesFact = &analysis.Fact{Key: "kms.keyAliases", Compute: func(pass *analysis.Pass) any {
	out := map[string]string{}
	for _, g := range pass.Gather(kmsAliasName) {
		out[g.Value.(string)] = g.Name
	}
	return out
}}

// kmsAliasName is each KMS alias's literal AliasName, gathered per alias.
var kmsAliasName = &analysis.ResourceFact{Key: "kms.aliasName", Compute: func(pass *analysis.Pass) any {
	if r := pass.Resource; r.Type == kmsAliasType {
		if name := r.Property("AliasName").Text(); name != "" {
			return name
		}
	}
	return nil
}}

var kmsRules = []*analysis.Rule{KMSKeyRotation, KMSKeyPublicPrincipal, KMSKeyPolicyRootOnly, KMSServiceStatementUnscoped, KMSKeyConsumers}
