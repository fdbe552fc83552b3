package rules

import (
	"strconv"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/template"
)

const logGroupType = "AWS::Logs::LogGroup"

// logRetentionAllowed are the values CloudWatch Logs accepts for
// RetentionInDays (cfn-lint E3030 rejects any other).
var logRetentionAllowed = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// retentionAtLeast returns the smallest valid CloudWatch Logs retention of
// at least days (the longest one when days exceeds them all).
func retentionAtLeast(days int) int {
	for _, v := range logRetentionAllowed {
		if v >= days {
			return v
		}
	}
	return logRetentionAllowed[len(logRetentionAllowed)-1]
}

// LogGroupRetention reports log groups that keep their events forever, and
// audit log groups that keep them for less than the audit retention.
var LogGroupRetention = &analysis.Rule{
	ID:       "SOC2-LOG-001",
	Title:    "Log group has no retention, or audit logs expire too early",
	Severity: analysis.Warning,
	Controls: []string{"CC7.2", "CC7.3", "C1.2"},
	Types:    []string{logGroupType},
	Doc: `A CloudWatch Logs group without ` + "`RetentionInDays`" + ` keeps every event forever. A group that holds
audit evidence (the trail's events, VPC flow logs, a group tagged or named as audit or security data) and
expires its events before the audit retention (one year unless configured otherwise) loses evidence that an
auditor may ask for.

**Why an auditor cares.** Monitoring and incident evaluation (CC7.2, CC7.3) are tested on logs from the whole
audit period, often a year; evidence that expired after 30 days cannot be produced. Keeping everything forever
is the opposite failure: confidential data in logs must be disposed of on a schedule (C1.2), and an unbounded
log group shows there is none.

**How to fix.** Set ` + "`RetentionInDays`" + ` to one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30,
60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653). For audit log groups
use ` + "`!Ref AuditLogRetentionDays`" + `, a parameter whose allowed values are the valid ones of a year or
more; the quick fix adds it when the template has none. In production templates a short audit retention is an
error.`,
	Check: checkLogRetention,
}

func checkLogRetention(pass *analysis.Pass) {
	t, r, o := pass.Template, pass.Resource, pass.Options
	prop := r.Property("RetentionInDays")
	why, audit := auditLogGroupReason(pass, r.Name)
	v := t.Eval(prop)
	written := prop != nil && prop.Kind != template.Null

	verdict, witness := v.Judge(func(a template.Alt) bool { return a.Kind == template.Absent })
	if verdict != template.Pass {
		f := analysis.Finding{
			Span:    pass.KeySpan(),
			Message: "log group " + r.Name + " keeps its events forever: set RetentionInDays so that they are disposed of on a schedule",
		}
		if written {
			f.Span = prop.Span
			f.Message = "log group " + r.Name + " may keep its events forever: RetentionInDays can be unset"
		} else if audit {
			f.Fixes = []analysis.Fix{pass.NewFix("Set RetentionInDays: !Ref "+paramAuditLogRetentionDays, func(b *edit.Builder) {
				setResourceProperty(b, r, "RetentionInDays", edit.Ref(ensureParameter(pass, b, paramAuditLogRetentionDays)))
			})}
		} else {
			days := retentionAtLeast(o.AuditLogRetentionDays)
			f.Fixes = []analysis.Fix{pass.NewFix("Set RetentionInDays: "+strconv.Itoa(days), func(b *edit.Builder) {
				setResourceProperty(b, r, "RetentionInDays", edit.Int(days))
			})}
		}
		pass.ReportVerdict(verdict, witness, f)
	}
	if !audit || !written {
		return
	}
	min := int64(o.AuditLogRetentionDays)
	verdict, witness = t.Assume(v, pass.Production()).Judge(func(a template.Alt) bool {
		n, ok := a.Node.Int()
		return a.Kind == template.Literal && ok && n < min
	})
	if verdict == template.Pass {
		return
	}
	f := analysis.Finding{
		Span: prop.Span,
		Message: "log group " + r.Name + " holds audit logs (" + why + ") but keeps them only " + witness.Text() +
			" days: keep them at least " + strconv.FormatInt(min, 10) + " days (RetentionInDays: !Ref " + paramAuditLogRetentionDays + ")",
	}
	if pass.IsProductionTemplate() {
		f.Severity = analysis.Error
	}
	if prop.Kind == template.Scalar && auditRetentionParameterOK(pass) {
		f.Fixes = []analysis.Fix{pass.NewFix("Use !Ref "+paramAuditLogRetentionDays, func(b *edit.Builder) {
			b.Replace(prop, edit.Ref(ensureParameter(pass, b, paramAuditLogRetentionDays)))
		})}
	}
	pass.ReportVerdict(verdict, witness, f)
}

// auditRetentionParameterOK reports whether referring to the
// AuditLogRetentionDays parameter (existing, or the one ensureParameter
// adds) meets the audit retention: a fix must not swap one short retention
// for another.
func auditRetentionParameterOK(pass *analysis.Pass) bool {
	min := int64(pass.Options.AuditLogRetentionDays)
	p := pass.Template.Parameter(paramAuditLogRetentionDays)
	if p == nil {
		return int64(auditRetentionDefault(pass.Options)) >= min
	}
	values := p.AllowedValues
	if len(values) == 0 && p.Default != nil {
		values = []*template.Node{p.Default}
	}
	if len(values) == 0 {
		return false
	}
	for _, n := range values {
		if d, ok := n.Int(); !ok || d < min {
			return false
		}
	}
	return true
}

// setResourceProperty writes key: v into the resource's Properties,
// creating the Properties mapping when the resource has none.
func setResourceProperty(b *edit.Builder, r *template.Resource, key string, v edit.Value) {
	if r.Properties == nil || r.Properties.Kind != template.Mapping {
		b.SetPath(r.Value, []string{"Properties", key}, v)
		return
	}
	b.Set(r.Properties, key, v)
}

// LogGroupEncryption reports log groups not encrypted with a customer
// managed KMS key.
var LogGroupEncryption = &analysis.Rule{
	ID:       "SOC2-LOG-002",
	Title:    "Log group is not encrypted with a customer managed KMS key",
	Severity: analysis.Warning,
	Controls: []string{"CC7.3", "CC6.1", "PI1.4"},
	Types:    []string{logGroupType},
	Doc: `A CloudWatch Logs group without ` + "`KmsKeyId`" + ` is encrypted with a key that the service owns: anyone
with ` + "`logs:GetLogEvents`" + ` can read it, and there is no key policy to restrict, audit or revoke access
to its contents. The rule warns for groups that hold audit or security logs (the trail's events, flow logs,
groups tagged or named as such) and notes other groups at info level.

**Why an auditor cares.** Audit logs are evidence for evaluating events (CC7.3) and often contain personal or
account data. A customer managed key adds a second, separately audited permission in front of them (CC6.1)
and a CloudTrail record of every decryption, and lets the organisation show that only intended readers get
the output (PI1.4).

**How to fix.** Set ` + "`KmsKeyId`" + ` to the ARN of a customer managed key whose policy lets
` + "`logs.<region>.amazonaws.com`" + ` use it, with an ` + "`aws:logs:arn`" + ` encryption-context condition (without
that statement the log group cannot be created). The quick fix uses the template's audit key, adding the
statement if it is missing, or adds one gated by ` + "`CreateKmsKey`" + ` with an ` + "`ExistingKmsKeyArn`" + ` parameter.`,
	Check: checkLogGroupEncryption,
}

func checkLogGroupEncryption(pass *analysis.Pass) {
	r := pass.Resource
	prop := r.Property("KmsKeyId")
	why, audit := auditLogGroupReason(pass, r.Name)
	verdict, witness := pass.Template.Eval(prop).Judge(func(a template.Alt) bool { return a.Kind == template.Absent })
	if verdict == template.Pass {
		return
	}
	f := analysis.Finding{
		Severity: analysis.Info,
		Span:     pass.KeySpan(),
		Message:  "log group " + r.Name + " is encrypted only with a service-owned key: set KmsKeyId to a customer managed KMS key",
	}
	if audit {
		f.Severity = analysis.Warning
		f.Message = "log group " + r.Name + " holds audit logs (" + why + ") but is not encrypted with a customer managed KMS key: set KmsKeyId"
	}
	if prop != nil && prop.Kind != template.Null {
		f.Span = prop.Span
		f.Message = "log group " + r.Name + " may be encrypted only with a service-owned key: KmsKeyId can be unset"
	} else {
		f.Fixes = []analysis.Fix{pass.NewFix("Encrypt log group "+r.Name+" with the audit KMS key", func(b *edit.Builder) {
			setResourceProperty(b, r, "KmsKeyId", useAuditKey(pass, b, keyForLogs))
		})}
	}
	pass.ReportVerdict(verdict, witness, f)
}

var logsRules = []*analysis.Rule{LogGroupRetention, LogGroupEncryption}
