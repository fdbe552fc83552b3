package rules

import (
	"regexp"
	"strings"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/template"
)

const (
	iamPolicyType        = "AWS::IAM::Policy"
	iamManagedPolicyType = "AWS::IAM::ManagedPolicy"
	iamRoleType          = "AWS::IAM::Role"
	iamUserType          = "AWS::IAM::User"
	iamGroupType         = "AWS::IAM::Group"
	iamAccessKeyType     = "AWS::IAM::AccessKey"
)

// policyTypes are the resources that carry identity policy documents.
var policyTypes = []string{iamPolicyType, iamManagedPolicyType, iamRoleType, iamUserType, iamGroupType}

// policyDoc is one identity policy document of a resource, with the words
// that name it in messages ("policy P", "inline policy s3-read of role R").
type policyDoc struct {
	doc  *template.Node
	name string
}

// policyDocuments returns the identity policy documents a resource defines:
// PolicyDocument of AWS::IAM::Policy and ManagedPolicy, and each
// Policies[*].PolicyDocument of roles, users and groups.
func policyDocuments(pass *analysis.Pass, r *template.Resource) []policyDoc {
	switch r.Type {
	case iamManagedPolicyType:
		if isPermissionBoundary(pass, r.Name) && !attached(r) {
			return nil // a boundary limits permissions, it grants none
		}
		fallthrough
	case iamPolicyType:
		if d := r.Property("PolicyDocument"); d != nil {
			return []policyDoc{{d, "policy " + r.Name}}
		}
	case iamRoleType, iamUserType, iamGroupType:
		kind := strings.ToLower(strings.TrimPrefix(r.Type, "AWS::IAM::"))
		var out []policyDoc
		for _, p := range r.Property("Policies").List() {
			d := p.Get("PolicyDocument")
			if d == nil {
				continue
			}
			name := "an inline policy"
			if n := p.Get("PolicyName").Text(); n != "" {
				name = "inline policy " + n
			}
			out = append(out, policyDoc{d, name + " of " + kind + " " + r.Name})
		}
		return out
	}
	return nil
}

// isPermissionBoundary reports whether managed policy name is the
// PermissionsBoundary of a role or user of the template. The check depends
// on that policy's entry of the fact only.
func isPermissionBoundary(pass *analysis.Pass, name string) bool {
	on, _ := analysis.FactAt[bool](pass, permissionBoundariesFact, name)
	return on
}

var permissionBoundariesFact = &analysis.Fact{Key: "iamPermissionBoundaries", Compute: func(pass *analysis.Pass) any {
	out := map[string]bool{}
	for _, g := range pass.Gather(permissionBoundary) {
		out[g.Value.(string)] = true
	}
	return out
}}

// permissionBoundary is the in-template managed policy a role or user uses
// as its PermissionsBoundary, gathered per resource so that an edit of one
// role recomputes its own.
var permissionBoundary = &analysis.ResourceFact{Key: "iamPermissionBoundary", Compute: func(pass *analysis.Pass) any {
	r := pass.Resource
	if r.Type != iamRoleType && r.Type != iamUserType {
		return nil
	}
	if b := r.Property("PermissionsBoundary"); b != nil && !b.IsScalar() {
		if p := resolveNameOfType(pass, b, iamManagedPolicyType); p != "" {
			return p
		}
	}
	return nil
}}

// attached reports whether a managed policy names roles, users or groups to
// attach itself to.
func attached(r *template.Resource) bool {
	for _, p := range []string{"Roles", "Users", "Groups"} {
		if len(r.Property(p).List()) > 0 {
			return true
		}
	}
	return false
}

// scalarItems returns the literal scalar nodes of a value or list (the
// nodes, not their text, so that findings can point at them).
func scalarItems(n *template.Node) []*template.Node {
	var out []*template.Node
	for _, v := range n.List() {
		if v.IsScalar() {
			out = append(out, v)
		}
	}
	return out
}

// wildcardResource returns the literal "*" entry of a statement's Resource,
// or nil.
func wildcardResource(stmt *template.Node) *template.Node {
	for _, r := range scalarItems(stmt.Get("Resource")) {
		if r.Value == "*" {
			return r
		}
	}
	return nil
}

// isAllActions reports whether an action pattern grants every action.
func isAllActions(a string) bool { return a == "*" || a == "*:*" }

// ---------------------------------------------------------------- IAM-001

// IAMAdminPolicy reports policy statements that allow everything.
var IAMAdminPolicy = &analysis.Rule{
	ID:       "SOC2-IAM-001",
	Title:    "IAM policy grants full administrative access",
	Severity: analysis.Error,
	Controls: []string{"CC6.3", "CC6.1", "CC1.3"},
	Types:    policyTypes,
	Doc: `Reports a statement of an identity policy (` + "`AWS::IAM::Policy`" + `, ` + "`AWS::IAM::ManagedPolicy`" + `, or the
inline ` + "`Policies`" + ` of a role, user or group) that allows ` + "`Action: \"*\"`" + ` on ` + "`Resource: \"*\"`" + `. Whoever
holds the policy can do anything in the account, including turning off CloudTrail, deleting backups and
granting themselves or others further access. A managed policy used only as a ` + "`PermissionsBoundary`" + ` is
not checked: a boundary caps permissions, it grants none.

**Why an auditor cares.** Least privilege and segregation of duties (CC6.3) are tested by sampling who
can do what; an all-powerful policy defined in a template means the workload or person it is attached to
is an administrator, and the organisation's authority structure (CC1.3) is only as strong as the control
over that identity.

**How to fix.** List the actions the identity needs and scope ` + "`Resource`" + ` to the ARNs it works with
(` + "`!GetAtt Bucket.Arn`" + `, ` + "`!Sub '${Table.Arn}/index/*'`" + `). A real break-glass role should be
assumable only with MFA, have a ` + "`PermissionsBoundary`" + ` where possible, and carry a documented suppression
with its reason.`,
	Check: checkIAMAdmin,
}

func checkIAMAdmin(pass *analysis.Pass) {
	for _, pd := range policyDocuments(pass, pass.Resource) {
		for _, st := range statements(pd.doc) {
			if effect(st) != "allow" {
				continue
			}
			res := wildcardResource(st)
			if res == nil {
				continue
			}
			for _, a := range scalarItems(st.Get("Action")) {
				if isAllActions(a.Value) {
					pass.Report(analysis.Finding{
						Span:    a.Span,
						Message: pd.name + " allows every action on every resource (Action \"" + a.Value + "\", Resource \"*\"): list the actions it needs and scope Resource to the resources it uses",
					})
					break
				}
			}
		}
	}
}

// ---------------------------------------------------------------- IAM-002

// IAMOverlyBroadPolicy reports statements that are broader than a workload
// needs: service-wide wildcards on sensitive services, NotAction, write or
// permission-management actions on every resource, and iam:PassRole on
// every role.
var IAMOverlyBroadPolicy = &analysis.Rule{
	ID:       "SOC2-IAM-002",
	Title:    "IAM policy statement is broader than least privilege",
	Severity: analysis.Warning,
	Controls: []string{"CC6.3", "CC3.3", "CC6.1"},
	Types:    policyTypes,
	Doc: `Reports Allow statements of identity policies that grant far more than a workload uses:

- a whole sensitive service (` + "`iam:*`" + `, ` + "`kms:*`" + `, ` + "`cloudtrail:*`" + ` are errors; ` + "`s3:*`" + `, ` + "`sts:*`" + ` and ` + "`*`" + ` on
  scoped resources are warnings);
- ` + "`NotAction`" + ` with ` + "`Allow`" + `, which grants every action not listed, including ones AWS adds later;
- write or permission-management actions (` + "`s3:PutObject`" + `, ` + "`iam:AttachRolePolicy`" + `, ` + "`kms:PutKeyPolicy`" + `,
  ` + "`sts:AssumeRole`" + `, ...) on ` + "`Resource: \"*\"`" + ` without a condition;
- ` + "`iam:PassRole`" + ` on ` + "`Resource: \"*\"`" + ` (an error: it lets the holder hand any role, including an
  administrator role, to a service it controls).

Statements that allow ` + "`*`" + ` on ` + "`*`" + ` are left to SOC2-IAM-001.

**Why an auditor cares.** CC6.3 asks that access be limited to what each role requires. Broad grants on
the services that hold keys, audit logs and permissions are also the paths to privilege escalation and
to tampering with evidence, which the fraud-risk assessment (CC3.3) has to consider.

**How to fix.** Name the actions the workload calls and scope ` + "`Resource`" + ` to the ARNs of the resources
it uses, typically ` + "`!GetAtt <Resource>.Arn`" + ` of resources in the same template. Scope ` + "`iam:PassRole`" + ` to
the roles it passes and add an ` + "`iam:PassedToService`" + ` condition.`,
	Check: checkIAMBroad,
}

// sensitiveServices are the services whose wildcard is reported, with
// whether it is an error.
var sensitiveServices = map[string]bool{"iam": true, "kms": true, "cloudtrail": true, "s3": false, "sts": false}

// writeActions are write and permission-management actions that support
// resource-level permissions, so that granting them on "*" is a choice, not
// a necessity. Actions that only work on "*" (cloudwatch:PutMetricData,
// xray:PutTraceSegments, ...) are deliberately absent.
var writeActions = []string{
	"iam:CreateUser", "iam:CreateRole", "iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion",
	"iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile", "iam:PutRolePolicy", "iam:PutUserPolicy",
	"iam:PutGroupPolicy", "iam:AttachRolePolicy", "iam:AttachUserPolicy", "iam:AttachGroupPolicy",
	"iam:UpdateAssumeRolePolicy", "iam:AddUserToGroup", "iam:DeleteRole", "iam:DeleteUser", "iam:DeletePolicy",
	"iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary",
	"kms:PutKeyPolicy", "kms:CreateGrant", "kms:ScheduleKeyDeletion", "kms:DisableKey",
	"s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy",
	"s3:PutBucketAcl", "s3:PutObjectAcl", "s3:PutBucketPublicAccessBlock", "s3:DeleteBucket",
	"s3:PutLifecycleConfiguration", "s3:PutBucketVersioning", "s3:PutEncryptionConfiguration",
	"cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail", "cloudtrail:PutEventSelectors",
	"config:StopConfigurationRecorder", "config:DeleteConfigurationRecorder", "config:DeleteDeliveryChannel",
	"logs:DeleteLogGroup", "logs:DeleteLogStream", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy",
	"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:DeleteTable",
	"secretsmanager:PutSecretValue", "secretsmanager:UpdateSecret", "secretsmanager:DeleteSecret",
	"secretsmanager:PutResourcePolicy",
	"lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:AddPermission", "lambda:DeleteFunction",
	"sns:Publish", "sns:AddPermission", "sns:SetTopicAttributes", "sns:DeleteTopic",
	"sqs:SendMessage", "sqs:DeleteMessage", "sqs:PurgeQueue", "sqs:SetQueueAttributes", "sqs:AddPermission",
	"sqs:DeleteQueue",
	"ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress", "ec2:ModifyInstanceAttribute",
	"ec2:TerminateInstances",
	"rds:DeleteDBInstance", "rds:ModifyDBInstance", "rds:DeleteDBCluster", "rds:ModifyDBCluster",
	"sts:AssumeRole",
}

func checkIAMBroad(pass *analysis.Pass) {
	for _, pd := range policyDocuments(pass, pass.Resource) {
		for _, st := range statements(pd.doc) {
			if effect(st) != "allow" {
				continue
			}
			checkBroadStatement(pass, pd, st)
		}
	}
}

func checkBroadStatement(pass *analysis.Pass, pd policyDoc, st *template.Node) {
	res := wildcardResource(st)
	actions := scalarItems(st.Get("Action"))
	for _, a := range actions {
		if isAllActions(a.Value) && res != nil {
			return // SOC2-IAM-001
		}
	}

	if na := st.Pair("NotAction"); na != nil {
		pass.Report(analysis.Finding{
			Span:    na.Key.Span,
			Message: pd.name + " allows every action except those in NotAction, including actions AWS adds later: list the allowed actions in Action instead",
		})
	}

	// Whole services.
	for _, a := range actions {
		svc, op, ok := strings.Cut(strings.ToLower(a.Value), ":")
		switch {
		case isAllActions(a.Value):
			pass.Report(analysis.Finding{
				Span:    a.Span,
				Message: pd.name + " allows every action of every service (Action \"" + a.Value + "\"): list the actions it needs",
			})
		case ok && op == "*":
			isErr, sensitive := sensitiveServices[svc]
			if !sensitive {
				continue
			}
			f := analysis.Finding{
				Span:    a.Span,
				Message: pd.name + " allows every " + svc + " action (" + a.Value + "): list the actions it needs and scope Resource",
			}
			if isErr {
				f.Severity = analysis.Error
			}
			pass.Report(f)
		}
	}

	if res == nil {
		return
	}
	// Actions already reported as a whole sensitive service are not
	// reported again below.
	var rest []*template.Node
	for _, a := range actions {
		svc, op, _ := strings.Cut(strings.ToLower(a.Value), ":")
		if _, sensitive := sensitiveServices[svc]; !(sensitive && op == "*") && !isAllActions(a.Value) {
			rest = append(rest, a)
		}
	}
	// iam:PassRole on every role.
	for _, a := range rest {
		if globMatch(strings.ToLower(a.Value), "iam:passrole") {
			pass.Report(analysis.Finding{
				Span:     res.Span,
				Severity: analysis.Error,
				Message:  pd.name + " allows iam:PassRole on every role (Resource \"*\"): scope Resource to the roles it passes and add an iam:PassedToService condition",
			})
			break
		}
	}
	// Write and permission-management actions on every resource.
	if st.Get("Condition") != nil {
		return
	}
	var hits []string
	for _, a := range rest {
		pat := strings.ToLower(a.Value)
		for _, w := range writeActions {
			if globMatch(pat, strings.ToLower(w)) && !contains(hits, w) {
				hits = append(hits, w)
			}
		}
	}
	if len(hits) == 0 {
		return
	}
	shown := hits
	more := ""
	if len(shown) > 3 {
		shown, more = shown[:3], ", ..."
	}
	pass.Report(analysis.Finding{
		Span:    res.Span,
		Message: pd.name + " allows " + strings.Join(shown, ", ") + more + " on every resource (Resource \"*\"): scope Resource to the ARNs it works on",
	})
}

// ---------------------------------------------------------------- IAM-003

// IAMAdminManagedPolicy reports AWS managed policies with administrative
// power attached to roles, users and groups.
var IAMAdminManagedPolicy = &analysis.Rule{
	ID:       "SOC2-IAM-003",
	Title:    "IAM identity has an administrative AWS managed policy",
	Severity: analysis.Error,
	Controls: []string{"CC6.3"},
	Types:    []string{iamRoleType, iamUserType, iamGroupType},
	Doc: `Reports ` + "`ManagedPolicyArns`" + ` entries of roles, users and groups that attach
` + "`arn:aws:iam::aws:policy/AdministratorAccess`" + ` (an error), or ` + "`PowerUserAccess`" + ` or ` + "`IAMFullAccess`" + ` (warnings:
the first allows everything but IAM, the second lets its holder grant itself everything). Both literal
ARNs and ` + "`!Sub 'arn:${AWS::Partition}:iam::aws:policy/...'`" + ` are recognised.

**Why an auditor cares.** CC6.3 expects access to be granted by role and limited to what the role
needs. An identity created by the stack with administrator rights is an administrator nobody requested
through the access-approval process, and its credentials (a workload's role, a CI user) are a standing
path to the whole account.

**How to fix.** Replace the policy with one that lists the actions and resources the identity uses. For
a genuine break-glass role, require MFA in its trust policy (` + "`Bool: {aws:MultiFactorAuthPresent: true}`" + `)
and record a suppression with the reason.`,
	Check: checkIAMManagedAdmin,
}

var adminManagedPolicy = regexp.MustCompile(`:iam::aws:policy/(AdministratorAccess|PowerUserAccess|IAMFullAccess)$`)

func checkIAMManagedAdmin(pass *analysis.Pass) {
	r := pass.Resource
	kind := strings.ToLower(strings.TrimPrefix(r.Type, "AWS::IAM::"))
	for _, item := range r.Property("ManagedPolicyArns").List() {
		text := item.Text()
		if item.IsFn("Fn::Sub") {
			text = item.Arg.Text()
		}
		m := adminManagedPolicy.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		f := analysis.Finding{Span: item.Span}
		switch m[1] {
		case "AdministratorAccess":
			f.Message = kind + " " + r.Name + " has the AdministratorAccess managed policy, which allows everything: attach a policy limited to what it needs"
		case "PowerUserAccess":
			f.Severity = analysis.Warning
			f.Message = kind + " " + r.Name + " has the PowerUserAccess managed policy, which allows every action outside IAM: attach a policy limited to what it needs"
		case "IAMFullAccess":
			f.Severity = analysis.Warning
			f.Message = kind + " " + r.Name + " has the IAMFullAccess managed policy, which lets it grant itself any permission: attach a policy limited to what it needs"
		}
		pass.Report(f)
	}
}

// ---------------------------------------------------------------- IAM-004

// IAMUsersAndKeys reports IAM users, long-lived access keys and policies
// attached directly to users.
var IAMUsersAndKeys = &analysis.Rule{
	ID:       "SOC2-IAM-004",
	Title:    "Template creates IAM users, access keys or user policies",
	Severity: analysis.Warning,
	Controls: []string{"CC6.2", "CC6.3", "CC1.3"},
	Types:    []string{iamUserType, iamAccessKeyType, iamPolicyType, iamManagedPolicyType},
	Doc: `Reports identities and credentials that a template should not create (warnings): every
` + "`AWS::IAM::User`" + `, every ` + "`AWS::IAM::AccessKey`" + ` (a long-lived secret), and policies attached directly to
users (a user's ` + "`Policies`" + ` or ` + "`ManagedPolicyArns`" + `, a policy's ` + "`Users`" + `). A console password written
in the template (` + "`LoginProfile.Password`" + ` as a literal, a parameter without ` + "`NoEcho`" + ` or with a default) and
an access key's ` + "`SecretAccessKey`" + ` published in ` + "`Outputs`" + ` are errors.

**Why an auditor cares.** Credential issuance and removal (CC6.2) is evidenced by a joiner/mover/leaver
process, usually in an identity provider. Users created by a stack bypass it, and their keys and
passwords do not expire. Permissions on individual users, rather than groups or roles, make the access
review that CC6.3 requires a per-person exercise that is easy to get wrong.

**How to fix.** Give people access through IAM Identity Center or a federated identity provider, and
workloads through roles. Where an IAM user is unavoidable, attach its permissions to a group, take the
initial password from ` + "`{{resolve:secretsmanager:...}}`" + ` with ` + "`PasswordResetRequired: true`" + `, and never output
a secret access key (store it in Secrets Manager instead).`,
	Check: checkIAMUsers,
}

func checkIAMUsers(pass *analysis.Pass) {
	t, r := pass.Template, pass.Resource
	switch r.Type {
	case iamUserType:
		pass.Report(analysis.Finding{
			Span:    pass.KeySpan(),
			Message: "the template creates IAM user " + r.Name + ": give people access through IAM Identity Center or federation, and workloads through roles",
		})
		for _, prop := range []string{"Policies", "ManagedPolicyArns"} {
			if p := r.Properties.Pair(prop); p != nil && len(p.Value.List()) > 0 {
				pass.Report(analysis.Finding{
					Span:    p.Key.Span,
					Message: "user " + r.Name + " has permissions attached directly (" + prop + "): attach them to a group the user belongs to",
				})
			}
		}
		for _, leak := range exposedSecrets(t, r.PropertyPath("LoginProfile", "Password")) {
			pass.Report(analysis.Finding{
				Span:     leak.node.Span,
				Severity: analysis.Error,
				Message:  "user " + r.Name + "'s console password " + leak.why + ": take it from Secrets Manager and set PasswordResetRequired to true",
			})
		}
	case iamAccessKeyType:
		pass.Report(analysis.Finding{
			Span:    pass.KeySpan(),
			Message: "the template creates long-lived access key " + r.Name + ": use a role, or rotate the key and keep its secret in Secrets Manager",
		})
		for _, out := range secretKeyOutputs(pass)[r.Name] {
			pass.Report(analysis.Finding{
				Span:     out.Span,
				Severity: analysis.Error,
				Message:  "the secret of access key " + r.Name + " is published in the stack's outputs, readable by anyone who can describe the stack: store it in Secrets Manager instead",
			})
		}
	case iamPolicyType, iamManagedPolicyType:
		if p := r.Properties.Pair("Users"); p != nil && len(p.Value.List()) > 0 {
			pass.Report(analysis.Finding{
				Span:    p.Key.Span,
				Message: "policy " + r.Name + " is attached directly to users: attach it to a group (Groups) or a role (Roles) instead",
			})
		}
	}
}

// secretKeyOutputs maps access keys to the output values that expose their
// SecretAccessKey (GetAtt, or a Sub that interpolates it), computed once
// per analysis.
func secretKeyOutputs(pass *analysis.Pass) map[string][]*template.Node {
	return pass.Memo("iamSecretKeyOutputs", func() any {
		out := map[string][]*template.Node{}
		for _, o := range pass.Template.AllOutputs() {
			v := o.Value.Get("Value")
			v.Walk(func(n *template.Node) bool {
				if res, attr, _, ok := template.GetAtt(n); ok && n.IsFn("Fn::GetAtt") && attr == "SecretAccessKey" {
					out[res] = append(out[res], v)
					return false
				}
				if n.IsFn("Fn::Sub") {
					if parts, _, ok := template.Sub(n); ok {
						for _, p := range parts {
							if res, attr, ok := strings.Cut(p.Var, "."); ok && attr == "SecretAccessKey" {
								out[res] = append(out[res], v)
								return false
							}
						}
					}
				}
				return true
			})
		}
		return out
	}).(map[string][]*template.Node)
}

// ---------------------------------------------------------------- IAM-005

// IAMOpenTrust reports role trust policies that let anyone, or another
// account without a guard, assume the role.
var IAMOpenTrust = &analysis.Rule{
	ID:       "SOC2-IAM-005",
	Title:    "IAM role can be assumed by anyone or by another account without a guard",
	Severity: analysis.Error,
	Controls: []string{"CC6.1", "CC6.6"},
	Types:    []string{iamRoleType},
	Doc: `Inspects the trust policy (` + "`AssumeRolePolicyDocument`" + `) of roles. A statement that allows
` + "`sts:AssumeRole*`" + ` to ` + "`Principal: \"*\"`" + ` or ` + "`{AWS: \"*\"}`" + ` without any condition lets every AWS account in
the world assume the role: an error. A statement that trusts another account (a literal account id or
ARN other than ` + "`${AWS::AccountId}`" + `) without ` + "`sts:ExternalId`" + ` or ` + "`aws:PrincipalOrgID`" + ` in its condition is a
warning: any identity that account allows can use the role, and a vendor's account can be tricked into
acting for someone else (the confused deputy).

**Why an auditor cares.** Logical access (CC6.1) starts with knowing which identities can reach the
system, and boundary protection (CC6.6) covers access from outside the organisation. A trust policy is
the boundary of a role: an open one makes every other control on the role irrelevant.

**How to fix.** Name the principal (a role ARN rather than a whole account where possible) and add a
condition: ` + "`StringEquals: {aws:PrincipalOrgID: !Ref OrgId}`" + ` for accounts of the organisation, or
` + "`StringEquals: {sts:ExternalId: <id agreed with the vendor>}`" + ` for a third party.`,
	Check: checkIAMTrust,
}

var accountInPrincipal = regexp.MustCompile(`^(?:\d{12}|arn:[a-z-]+:iam::(\d{12}):.*)$`)

// assumesRole reports whether a statement allows one of the sts:AssumeRole*
// actions.
func assumesRole(st *template.Node) bool {
	for _, a := range []string{"sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity"} {
		if actionsCover(st, a) {
			return true
		}
	}
	return false
}

// hasConditionKey reports whether a statement's Condition uses one of the
// keys, under any operator (keys compared case-insensitively, as IAM does).
func hasConditionKey(st *template.Node, keys ...string) bool {
	c := st.Get("Condition")
	if c == nil || c.Kind != template.Mapping {
		return false
	}
	for _, op := range c.Pairs {
		if op.Value.Kind != template.Mapping {
			continue
		}
		for _, kv := range op.Value.Pairs {
			for _, k := range keys {
				if strings.EqualFold(kv.Key.Value, k) {
					return true
				}
			}
		}
	}
	return false
}

func checkIAMTrust(pass *analysis.Pass) {
	r := pass.Resource
	for _, st := range statements(r.Property("AssumeRolePolicyDocument")) {
		if effect(st) != "allow" || !assumesRole(st) {
			continue
		}
		principal := st.Get("Principal")
		if isWildcardPrincipal(st) {
			if st.Get("Condition") != nil {
				continue
			}
			at := principal
			for _, v := range scalarItems(principal.Get("AWS")) {
				if v.Value == "*" {
					at = v
				}
			}
			pass.Report(analysis.Finding{
				Span:    at.Span,
				Message: "role " + r.Name + " can be assumed by any AWS account (Principal \"*\" without a condition): name the principals that may assume it",
			})
			continue
		}
		if hasConditionKey(st, "sts:ExternalId", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths") {
			continue
		}
		for _, v := range scalarItems(principal.Get("AWS")) {
			m := accountInPrincipal.FindStringSubmatch(v.Value)
			if m == nil {
				continue
			}
			account := m[1]
			if account == "" {
				account = v.Value
			}
			f := analysis.Finding{
				Span:     v.Span,
				Severity: analysis.Warning,
				Message:  "role " + r.Name + " trusts account " + account + " without an sts:ExternalId or aws:PrincipalOrgID condition: add one, so that only the intended party can assume it",
			}
			if fx, ok := externalIDFix(pass, st, account); ok {
				f.Fixes = []analysis.Fix{fx}
			}
			pass.Report(f)
		}
	}
}

// externalIDFix requires an external id, supplied through a new parameter
// that the deployer fills with the value agreed with the other account.
// It is unsafe: until the other party sends that id, it cannot assume the
// role.
func externalIDFix(pass *analysis.Pass, st *template.Node, account string) (analysis.Fix, bool) {
	cond := st.Get("Condition")
	if cond != nil && cond.Kind != template.Mapping {
		return analysis.Fix{}, false
	}
	eq := cond.Get("StringEquals")
	if eq != nil && eq.Kind != template.Mapping {
		return analysis.Fix{}, false
	}
	r := pass.Resource
	fx := pass.NewFix("Require an sts:ExternalId in this trust statement (new parameter to fill in)", func(b *edit.Builder) {
		name := uniqueLogicalID(pass.Template, r.Name+"ExternalId")
		b.AddEntry("Parameters", name, edit.Map(
			edit.KV{Key: "Type", Value: edit.Str("String")},
			edit.KV{Key: "MinLength", Value: edit.Int(2)},
			edit.KV{Key: "Description", Value: edit.Str("External id agreed with account " + account + " for assuming role " + r.Name)},
		))
		kv := edit.KV{Key: "sts:ExternalId", Value: edit.Ref(name)}
		switch {
		case cond == nil:
			b.Insert(st, "Condition", edit.Map(edit.KV{Key: "StringEquals", Value: edit.Map(kv)}))
		case eq == nil:
			b.Insert(cond, "StringEquals", edit.Map(kv))
		default:
			b.Insert(eq, kv.Key, kv.Value)
		}
	})
	fx.Unsafe = true
	return fx, true
}

// ---------------------------------------------------------------- IAM-006

// IAMConfusedDeputy reports service trust statements without a source
// condition.
var IAMConfusedDeputy = &analysis.Rule{
	ID:       "SOC2-IAM-006",
	Title:    "IAM role trusts a service without limiting the source account",
	Severity: analysis.Info,
	Controls: []string{"CC6.1"},
	Types:    []string{iamRoleType},
	Doc: `Inspects trust statements whose principal is an AWS service that acts on behalf of resources
(CloudTrail, AWS Config, VPC flow logs and log delivery, CloudWatch Logs, EventBridge and its scheduler,
Step Functions, SNS, S3 replication). Without an ` + "`aws:SourceAccount`" + ` or ` + "`aws:SourceArn`" + ` condition, the
service may assume the role while working for a resource in another account that names this role: the
cross-service confused deputy.

**Why an auditor cares.** Logical access controls (CC6.1) include restricting which callers can use a
credential. The condition is the only thing tying the role to this account's own trail, recorder or
rule.

**How to fix.** Add ` + "`Condition: {StringEquals: {aws:SourceAccount: !Ref 'AWS::AccountId'}}`" + ` to the
statement (or ` + "`ArnLike: {aws:SourceArn: <the resource's ARN>}`" + `). The quick fix adds the account condition.`,
	Check: checkIAMConfusedDeputy,
}

// deputyServices are service principals that pass aws:SourceAccount and
// aws:SourceArn when they assume a role for a resource.
var deputyServices = regexp.MustCompile(`^(cloudtrail|config|vpc-flow-logs|delivery\.logs|logs(\.[a-z0-9-]+)?|events|scheduler|states|sns|s3)\.amazonaws\.com$`)

func checkIAMConfusedDeputy(pass *analysis.Pass) {
	r := pass.Resource
	for _, st := range statements(r.Property("AssumeRolePolicyDocument")) {
		if effect(st) != "allow" || !assumesRole(st) || hasConditionKey(st, "aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID", "aws:SourceOrgPaths") {
			continue
		}
		var found []*template.Node
		for _, v := range st.Get("Principal").Get("Service").List() {
			text := v.Text()
			if v.IsFn("Fn::Sub") {
				text = strings.ReplaceAll(v.Arg.Text(), "${AWS::Region}", "region")
			}
			if deputyServices.MatchString(text) {
				found = append(found, v)
			}
		}
		if len(found) == 0 {
			continue
		}
		names := make([]string, len(found))
		for i, v := range found {
			names[i] = v.Text()
			if names[i] == "" {
				names[i] = v.Arg.Text()
			}
		}
		f := analysis.Finding{
			Span:    found[0].Span,
			Message: "role " + r.Name + " trusts " + strings.Join(names, ", ") + " without an aws:SourceAccount or aws:SourceArn condition: add one so that the service assumes it only for this account's resources",
		}
		if fx, ok := sourceAccountFix(pass, st); ok {
			f.Fixes = []analysis.Fix{fx}
		}
		pass.Report(f)
	}
}

// sourceAccountFix adds aws:SourceAccount = AWS::AccountId to a statement's
// condition, merging it into an existing StringEquals block.
func sourceAccountFix(pass *analysis.Pass, st *template.Node) (analysis.Fix, bool) {
	cond := st.Get("Condition")
	account := edit.Ref("AWS::AccountId")
	switch {
	case cond == nil:
		return pass.NewFix("Limit the service to this account (aws:SourceAccount)", func(b *edit.Builder) {
			b.Insert(st, "Condition", sourceAccountCondition())
		}), true
	case cond.Kind != template.Mapping:
		return analysis.Fix{}, false
	}
	eq := cond.Get("StringEquals")
	switch {
	case eq == nil:
		return pass.NewFix("Limit the service to this account (aws:SourceAccount)", func(b *edit.Builder) {
			b.Insert(cond, "StringEquals", edit.Map(edit.KV{Key: "aws:SourceAccount", Value: account}))
		}), true
	case eq.Kind == template.Mapping:
		return pass.NewFix("Limit the service to this account (aws:SourceAccount)", func(b *edit.Builder) {
			b.Insert(eq, "aws:SourceAccount", account)
		}), true
	}
	return analysis.Fix{}, false
}

var iamRules = []*analysis.Rule{
	IAMAdminPolicy, IAMOverlyBroadPolicy, IAMAdminManagedPolicy, IAMUsersAndKeys, IAMOpenTrust, IAMConfusedDeputy,
}
