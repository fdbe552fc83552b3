package rules

import (
	"regexp"
	"strings"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/template"
)

const (
	smSecretType           = "AWS::SecretsManager::Secret"
	smRotationScheduleType = "AWS::SecretsManager::RotationSchedule"
	smSecretAttachmentType = "AWS::SecretsManager::SecretTargetAttachment"
)

// SecretRotation reports Secrets Manager secrets that are never rotated or
// not encrypted with a customer managed key.
var SecretRotation = &analysis.Rule{
	ID:       "SOC2-SM-001",
	Title:    "Secrets Manager secret is not rotated",
	Severity: analysis.Warning,
	Controls: []string{"CC6.1", "CC6.2"},
	Types:    []string{smSecretType},
	Doc: `A secret with no ` + "`AWS::SecretsManager::RotationSchedule`" + ` whose ` + "`SecretId`" + ` designates it keeps the same value
until someone changes it by hand, which in practice means never: every person and system that ever saw
it keeps working access. A secret without ` + "`KmsKeyId`" + ` is encrypted with the AWS managed key
` + "`aws/secretsmanager`" + `, whose use cannot be restricted by key policy; that is reported as information.
(Database master passwords that RDS manages itself with ` + "`ManageMasterUserPassword`" + ` are not secrets of
the template and are rotated by RDS.)

**Why an auditor cares.** CC6.2 covers issuing and removing credentials, and CC6.1 their protection.
Automatic rotation is the evidence that a leaked or departed person's copy of a credential stops working
within a known period.

**How to fix.** Add a rotation schedule: ` + "`SecretId: !Ref TheSecret`" + `, ` + "`RotationRules: {AutomaticallyAfterDays: 30}`" + `,
and either ` + "`HostedRotationLambda`" + ` (for RDS, Redshift and DocumentDB secrets, with the
` + "`AWS::SecretsManager-2020-07-23`" + ` transform) or ` + "`RotationLambdaARN`" + ` for your own rotation function. The
quick fix adds a schedule with a ` + "`RotationLambdaARN`" + ` parameter to fill in. Set ` + "`KmsKeyId`" + ` to a customer
managed key to control who may decrypt the secret.`,
	Check: checkSecretRotation,
}

func checkSecretRotation(pass *analysis.Pass) {
	t, s := pass.Template, pass.Resource
	if len(smRotationSchedules(pass)[s]) == 0 {
		param := uniqueLogicalID(t, s.Name+"RotationLambdaArn")
		fix := pass.NewFix("Add a 30-day rotation schedule (fill in the "+param+" parameter)", func(b *edit.Builder) {
			b.AddEntry("Parameters", param, edit.Map(
				edit.KV{Key: "Type", Value: edit.Str("String")},
				edit.KV{Key: "Description", Value: edit.Str("ARN of the Lambda function that rotates secret " + s.Name)},
			))
			res := []edit.KV{{Key: "Type", Value: edit.Str(smRotationScheduleType)}}
			if s.Condition != "" {
				res = append(res, edit.KV{Key: "Condition", Value: edit.Str(s.Condition)})
			}
			res = append(res, edit.KV{Key: "Properties", Value: edit.Map(
				edit.KV{Key: "SecretId", Value: edit.Ref(s.Name)},
				edit.KV{Key: "RotationLambdaARN", Value: edit.Ref(param)},
				edit.KV{Key: "RotationRules", Value: edit.Map(edit.KV{Key: "AutomaticallyAfterDays", Value: edit.Int(30)})},
			)})
			b.AddEntry("Resources", uniqueLogicalID(t, s.Name+"Rotation"), edit.Map(res...))
		})
		fix.Unsafe = true
		pass.Report(analysis.Finding{
			Span:    pass.KeySpan(),
			Message: "secret " + s.Name + " is never rotated: add an AWS::SecretsManager::RotationSchedule whose SecretId is " + s.Name,
			Fixes:   []analysis.Fix{fix},
		})
	}
	kms := s.Property("KmsKeyId")
	if v, w := t.Eval(kms).Judge(altAbsent); v != template.Pass {
		f := analysis.Finding{
			Span:     pass.KeySpan(),
			Severity: analysis.Info,
			Message:  "secret " + s.Name + " is encrypted with the AWS managed key aws/secretsmanager: set KmsKeyId to a customer managed key to control who can decrypt it",
		}
		if kms != nil && kms.Kind != template.Null {
			f.Span = kms.Span
		}
		pass.ReportVerdict(v, w, f)
	}
}

// smRotationSchedules maps each in-template secret to the rotation schedules
// whose SecretId designates it (directly, by name or ARN, or through a
// SecretTargetAttachment, whose Ref is the secret's ARN), computed once per
// analysis.
func smRotationSchedules(pass *analysis.Pass) map[*template.Resource][]*template.Resource {
	return pass.Memo("secrets.rotationSchedules", func() any {
		t := pass.Template
		out := map[*template.Resource][]*template.Resource{}
		for _, rs := range t.ResourcesOfType(smRotationScheduleType) {
			target := resolveResource(pass, rs.Property("SecretId"))
			if target != nil && target.Type == smSecretAttachmentType {
				target = resolveResource(pass, target.Property("SecretId"))
			}
			if target != nil && target.Type == smSecretType {
				out[target] = append(out[target], rs)
			}
		}
		return out
	}).(map[*template.Resource][]*template.Resource)
}

// SecretsInPlainText reports credentials written into user data,
// environment variables and plain SSM parameters.
var SecretsInPlainText = &analysis.Rule{
	ID:       "SOC2-SEC-001",
	Title:    "Secret written in plain text in the template",
	Severity: analysis.Error,
	Controls: []string{"CC6.1"},
	Types: []string{"AWS::EC2::Instance", "AWS::EC2::LaunchTemplate", "AWS::AutoScaling::LaunchConfiguration",
		lmbFunctionType, lmbServerlessFunctionType, "AWS::ECS::TaskDefinition", "AWS::SSM::Parameter"},
	Doc: `Instance user data, Lambda and ECS environment variables and plain ` + "`String`" + ` SSM parameters are not secret
stores: anyone who can describe the instance, read the function's configuration, the task definition, the
parameter or the template itself (in source control, in the CloudFormation console) reads the value. The
rule looks at the literal text of these values, through ` + "`Fn::Base64`" + ` and the literal parts of ` + "`Fn::Sub`" + `
and ` + "`Fn::Join`" + `, for AWS access key ids (` + "`AKIA…`" + `), private keys (` + "`-----BEGIN … PRIVATE KEY-----`" + `) and
assignments such as ` + "`password=…`" + `, and reports variables or parameters named like a password, secret,
token or API key that are given a literal value.

**Why an auditor cares.** CC6.1 expects credentials to be protected from unauthorised access. A credential
in a template has been copied into every clone of the repository and every stack's history; it must be
considered disclosed and rotated.

**How to fix.** Move the value to Secrets Manager (or a ` + "`SecureString`" + ` parameter created outside the
template), rotate it, and reference it: ` + "`{{resolve:secretsmanager:…}}`" + ` where CloudFormation supports
dynamic references, ECS ` + "`Secrets`" + ` instead of ` + "`Environment`" + `, and a lookup at run time in Lambda functions and
user-data scripts.`,
	Check: checkPlainTextSecrets,
}

const (
	lmbFunctionType           = "AWS::Lambda::Function"
	lmbServerlessFunctionType = "AWS::Serverless::Function"
)

// secretPatterns recognise secrets inside free text.
var secretPatterns = []struct {
	re   *regexp.Regexp
	what string
}{
	{regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`), "an AWS access key id"},
	{regexp.MustCompile(`-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----`), "a private key"},
	{regexp.MustCompile(`(?i)(?:^|[^a-z0-9])[a-z0-9_]*?(?:password|passwd|pwd|secret|token|api[_-]?key)\s*=\s*["']?[^\s"'$<>{}()%;&|` + "`" + `]{4,}`), "a credential assignment"},
	{regexp.MustCompile(`(?i)(?:^|[^a-z0-9])[a-z0-9_]*?(?:password|passwd)\s*:\s+["']?[^\s"'$<>{}()%;&|` + "`" + `]{4,}`), "a credential assignment"},
}

// secretLikeName recognises variable and parameter names that hold secrets;
// notSecretLikeName the names that only point at one (an ARN, a name, a path)
// or describe it.
var (
	secretLikeName    = regexp.MustCompile(`(?i)password|passwd|secret|token|api[_-]?key|private[_-]?key|credential`)
	notSecretLikeName = regexp.MustCompile(`(?i)(arn|name|id|path|file|url|uri|endpoint|region|ttl|length|header|type|param|parameter|ref|version|days|seconds|enabled|expiry|expiration)$`)
	secretPlainNumber = regexp.MustCompile(`^[0-9.]+$`)
)

func checkPlainTextSecrets(pass *analysis.Pass) {
	r := pass.Resource
	switch r.Type {
	case "AWS::EC2::Instance", "AWS::AutoScaling::LaunchConfiguration":
		secretScanText(pass, r.Property("UserData"), "UserData")
	case "AWS::EC2::LaunchTemplate":
		secretScanText(pass, r.PropertyPath("LaunchTemplateData", "UserData"), "LaunchTemplateData.UserData")
	case lmbFunctionType, lmbServerlessFunctionType:
		vars := r.PropertyPath("Environment", "Variables")
		if vars == nil || vars.Kind != template.Mapping {
			return
		}
		for _, p := range vars.Pairs {
			if !secretScanNamed(pass, p.Key.Value, p.Value, "environment variable") {
				secretScanText(pass, p.Value, "environment variable "+p.Key.Value)
			}
		}
	case "AWS::ECS::TaskDefinition":
		for _, c := range r.Property("ContainerDefinitions").List() {
			for _, env := range c.Get("Environment").List() {
				name := env.Get("Name").Text()
				if !secretScanNamed(pass, name, env.Get("Value"), "container environment variable") {
					secretScanText(pass, env.Get("Value"), "container environment variable "+name)
				}
			}
		}
	case "AWS::SSM::Parameter":
		typ := r.Property("Type").Text()
		if typ != "String" && typ != "StringList" {
			return
		}
		name := r.Property("Name").Text()
		if i := strings.LastIndexAny(name, "/."); i >= 0 {
			name = name[i+1:]
		}
		if !secretScanNamed(pass, name, r.Property("Value"), "plain "+typ+" parameter") {
			secretScanText(pass, r.Property("Value"), "Value")
		}
	}
}

// secretScanNamed reports a literal value given to something named like a secret,
// and says whether it did.
func secretScanNamed(pass *analysis.Pass, name string, v *template.Node, what string) bool {
	if !secretLikeName.MatchString(name) || notSecretLikeName.MatchString(name) || !v.IsScalar() {
		return false
	}
	s := strings.TrimSpace(v.Value)
	if s == "" || template.IsDynamicReference(s) || strings.HasPrefix(s, "arn:") || secretPlainNumber.MatchString(s) {
		return false
	}
	if _, isBool := v.Bool(); isBool {
		return false
	}
	r := pass.Resource
	pass.Report(analysis.Finding{
		Span: v.Span,
		Message: secretHolderKind(r) + " " + r.Name + " gives its " + what + " " + name + " a literal value: keep the secret in " +
			"Secrets Manager and reference it instead of writing it in the template",
	})
	return true
}

// secretScanText reports each literal part of a value (through Fn::Base64, Sub,
// Join, If) that contains a secret pattern, on the scalar that holds it.
func secretScanText(pass *analysis.Pass, n *template.Node, where string) {
	r := pass.Resource
	for _, lit := range secretTextParts(n) {
		for _, p := range secretPatterns {
			found := false
			for _, text := range lit.texts {
				if p.re.MatchString(text) {
					found = true
					break
				}
			}
			if found {
				pass.Report(analysis.Finding{
					Span: lit.node.Span,
					Message: secretHolderKind(r) + " " + r.Name + "'s " + where + " contains " + p.what + " in plain text: move the secret " +
						"to Secrets Manager and read it at run time",
				})
				break
			}
		}
	}
}

// secretTextPart is a scalar of the template with the literal texts it
// contributes to a value (for a Sub template, the text between variables).
type secretTextPart struct {
	node  *template.Node
	texts []string
}

// secretTextParts returns the literal scalars that make up a string value:
// the value itself, the argument of Fn::Base64, the template and variable
// values of Fn::Sub, the items of Fn::Join, the branches of Fn::If.
func secretTextParts(n *template.Node) []secretTextPart {
	var out []secretTextPart
	var walk func(n *template.Node, depth int)
	walk = func(n *template.Node, depth int) {
		if n == nil || depth > 16 {
			return
		}
		switch {
		case n.IsScalar():
			if !template.IsDynamicReference(n.Value) {
				out = append(out, secretTextPart{n, []string{n.Value}})
			}
		case n.IsFn("Fn::Base64"):
			walk(n.Arg, depth+1)
		case n.IsFn("Fn::Sub"):
			parts, vars, ok := template.Sub(n)
			if !ok {
				return
			}
			str := n.Arg
			if str.Kind == template.Sequence {
				str = str.Items[0]
			}
			var texts []string
			for _, p := range parts {
				if p.Var == "" && !template.IsDynamicReference(p.Literal) {
					texts = append(texts, p.Literal)
				}
			}
			out = append(out, secretTextPart{str, texts})
			if vars != nil {
				for _, p := range vars.Pairs {
					walk(p.Value, depth+1)
				}
			}
		case n.IsFn("Fn::Join"):
			if a := n.Arg; a.Kind == template.Sequence && len(a.Items) == 2 {
				for _, it := range a.Items[1].List() {
					walk(it, depth+1)
				}
			}
		case n.IsFn("Fn::If"):
			if a := n.Arg; a.Kind == template.Sequence && len(a.Items) == 3 {
				walk(a.Items[1], depth+1)
				walk(a.Items[2], depth+1)
			}
		}
	}
	walk(n, 0)
	return out
}

// secretHolderKind names a resource's kind for messages: "instance", "function", ...
func secretHolderKind(r *template.Resource) string {
	switch r.Type {
	case "AWS::EC2::Instance":
		return "instance"
	case "AWS::EC2::LaunchTemplate":
		return "launch template"
	case "AWS::AutoScaling::LaunchConfiguration":
		return "launch configuration"
	case lmbFunctionType, lmbServerlessFunctionType:
		return "function"
	case "AWS::ECS::TaskDefinition":
		return "task definition"
	case "AWS::SSM::Parameter":
		return "parameter"
	}
	return "resource"
}

var secretsRules = []*analysis.Rule{SecretsInPlainText, SecretRotation}
