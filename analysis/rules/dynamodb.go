package rules

import (
	"strings"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/template"
)

const dynamodbTableType = "AWS::DynamoDB::Table"

// DynamoDBRecovery reports tables that cannot be restored, can be deleted
// by accident, or hold confidential data under a key the account does not
// control.
var DynamoDBRecovery = &analysis.Rule{
	ID:       "SOC2-DDB-001",
	Title:    "DynamoDB table is not protected against data loss",
	Severity: analysis.Warning,
	Controls: []string{"A1.2", "CC7.4", "C1.1", "CC6.1"},
	Types:    []string{dynamodbTableType},
	Doc: `A DynamoDB table is checked for three things. Point-in-time recovery
(` + "`PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled`" + `) must be on in production: without it a bad
deployment, a faulty batch job or a malicious delete cannot be undone (a warning, an error in a template that
deploys to production). ` + "`DeletionProtectionEnabled`" + ` must be true in production (not checked when the
` + "`Environment`" + ` parameter cannot be production), so that deleting the stack or
replacing the table cannot drop the data (a warning). A table tagged as confidential should be encrypted with a
customer managed KMS key (` + "`SSESpecification`" + ` with ` + "`SSEEnabled: true`" + ` and ` + "`KMSMasterKeyId`" + `) rather than the
AWS owned or AWS managed key (info). Values are judged as they are when ` + "`Environment`" + ` is production, so
` + "`!If [IsProduction, true, false]`" + ` passes.

**Why an auditor cares.** Availability (A1.2) and recovery from incidents (CC7.4) are evidenced by backups that
can actually restore recent data; point-in-time recovery keeps up to 35 days of continuous backups. For confidential
data (C1.1, CC6.1), a customer managed key puts access to the data under a key policy and in CloudTrail, and
lets the data be made unreadable by disabling the key.

**How to fix.** Set ` + "`PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}`" + `,
` + "`DeletionProtectionEnabled: !If [IsProduction, true, false]`" + ` (the quick fix adds the condition and the
` + "`Environment`" + ` parameter when missing) and, for confidential tables,
` + "`SSESpecification: {SSEEnabled: true, SSEType: KMS, KMSMasterKeyId: <key>}`" + `. None of these replaces the table.`,
	Check: checkDynamoDBRecovery,
}

func checkDynamoDBRecovery(pass *analysis.Pass) {
	checkTablePITR(pass)
	checkTableDeletionProtection(pass)
	checkTableKey(pass)
}

// ddbSpan anchors a finding on a property node, else on the key of the
// mapping that should hold it, else on the resource's logical id.
func ddbSpan(pass *analysis.Pass, prop *template.Node, parent *template.Node, parentKey string) template.Span {
	if prop != nil && prop.Kind != template.Null {
		return prop.Span
	}
	if p := parent.Pair(parentKey); p != nil && parentKey != "" {
		return p.Key.Span
	}
	return pass.KeySpan()
}

func checkTablePITR(pass *analysis.Pass) {
	t, r := pass.Template, pass.Resource
	prop := r.PropertyPath("PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled")
	verdict, witness := t.Assume(t.Eval(prop), pass.Production()).Judge(ec2NotTrue)
	f := analysis.Finding{
		Span:    ddbSpan(pass, prop, r.Properties, "PointInTimeRecoverySpecification"),
		Message: "table " + r.Name + " has no point-in-time recovery: set PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled to true",
	}
	if pass.IsProductionTemplate() {
		f.Severity = analysis.Error
	}
	if prop == nil || prop.Kind == template.Null || prop.Kind == template.Scalar {
		f.Fixes = []analysis.Fix{pass.NewFix("Enable point-in-time recovery", func(b *edit.Builder) {
			ec2SetProperty(b, r, []string{"PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"}, edit.Bool(true))
		})}
	}
	pass.ReportVerdict(verdict, witness, f)
}

func checkTableDeletionProtection(pass *analysis.Pass) {
	t, r := pass.Template, pass.Resource
	if !ddbMayBeProduction(pass) {
		return
	}
	prop := r.Property("DeletionProtectionEnabled")
	verdict, witness := t.Assume(t.Eval(prop), pass.Production()).Judge(ec2NotTrue)
	f := analysis.Finding{
		Span:    ddbSpan(pass, prop, nil, ""),
		Message: "table " + r.Name + " can be deleted with its data in production: set DeletionProtectionEnabled to !If [IsProduction, true, false]",
	}
	if prop == nil || prop.Kind == template.Null || prop.Kind == template.Scalar {
		f.Fixes = []analysis.Fix{pass.NewFix("Protect the table from deletion in production", func(b *edit.Builder) {
			cond := ensureCondition(pass, b, condIsProduction)
			ec2SetProperty(b, r, []string{"DeletionProtectionEnabled"}, edit.If(cond, edit.Bool(true), edit.Bool(false)))
		})}
	}
	pass.ReportVerdict(verdict, witness, f)
}

// ddbMayBeProduction is false when the template's Environment parameter
// cannot be production (its AllowedValues leave it out).
func ddbMayBeProduction(pass *analysis.Pass) bool {
	p := pass.Template.Parameter(pass.Options.EnvironmentParameter)
	if p == nil || len(p.AllowedValues) == 0 {
		return true
	}
	for _, v := range p.AllowedValues {
		if v.Text() == analysis.ProductionValue {
			return true
		}
	}
	return false
}

func checkTableKey(pass *analysis.Pass) {
	t, r := pass.Template, pass.Resource
	if !isConfidential(r) {
		return
	}
	sse := r.Property("SSESpecification")
	enabled, _ := t.Eval(sse.Get("SSEEnabled")).Judge(ec2NotTrue)
	key := sse.Get("KMSMasterKeyId")
	managed := key == nil || key.Kind == template.Null || refTarget(key) == "AWS::NoValue" ||
		strings.EqualFold(key.Text(), "alias/aws/dynamodb")
	if enabled == template.Pass && !managed {
		return
	}
	f := analysis.Finding{
		Span:     ddbSpan(pass, nil, r.Properties, "SSESpecification"),
		Severity: analysis.Info,
		Message: "table " + r.Name + " is tagged " + classification(r) + " but is not encrypted with a customer managed key: " +
			"set SSESpecification to SSEEnabled: true, SSEType: KMS and a KMSMasterKeyId",
	}
	if k := auditKey(pass); k != nil && (sse == nil || sse.Kind == template.Mapping) {
		f.Fixes = []analysis.Fix{pass.NewFix("Encrypt the table with customer managed key "+k.Name, func(b *edit.Builder) {
			arn := keyArn(t, k)
			if sse == nil || len(sse.Pairs) == 0 {
				ec2SetProperty(b, r, []string{"SSESpecification"}, edit.Map(
					edit.KV{Key: "SSEEnabled", Value: edit.Bool(true)},
					edit.KV{Key: "SSEType", Value: edit.Str("KMS")},
					edit.KV{Key: "KMSMasterKeyId", Value: arn},
				))
				return
			}
			b.Set(sse, "SSEEnabled", edit.Bool(true))
			b.Set(sse, "SSEType", edit.Str("KMS"))
			b.Set(sse, "KMSMasterKeyId", arn)
		})}
	}
	pass.Report(f)
}

var dynamodbRules = []*analysis.Rule{DynamoDBRecovery}
