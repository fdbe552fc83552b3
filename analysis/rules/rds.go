package rules

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/template"
)

const (
	dbInstanceType       = "AWS::RDS::DBInstance"
	dbClusterType        = "AWS::RDS::DBCluster"
	dbParamGroupType     = "AWS::RDS::DBParameterGroup"
	dbClusterParamGroupT = "AWS::RDS::DBClusterParameterGroup"
)

// dbKind names a database resource in messages: "database instance Db" or
// "database cluster Db".
func dbKind(r *template.Resource) string {
	if r.Type == dbClusterType {
		return "database cluster " + r.Name
	}
	return "database instance " + r.Name
}

// isSet reports whether a property is given a value that is not absent
// (missing, null, or Ref AWS::NoValue in every alternative).
func isSet(t *template.Template, n *template.Node) bool {
	if n == nil || n.Kind == template.Null {
		return false
	}
	for _, a := range t.Eval(n) {
		if a.Kind != template.Absent {
			return true
		}
	}
	return false
}

// inCluster reports whether a DB instance belongs to a cluster (Aurora),
// which then owns its storage, backups, logs and deletion protection.
func inCluster(t *template.Template, r *template.Resource) bool {
	return r.Type == dbInstanceType && isSet(t, r.Property("DBClusterIdentifier"))
}

// isReadReplica reports whether a DB instance is a read replica, whose data
// is a copy kept by its source.
func isReadReplica(t *template.Template, r *template.Resource) bool {
	return r.Type == dbInstanceType && isSet(t, r.Property("SourceDBInstanceIdentifier"))
}

// isReplicaOrRestore reports whether a database takes its storage settings
// from a source: a read replica, a restore from a snapshot or a clone.
func isReplicaOrRestore(t *template.Template, r *template.Resource) bool {
	for _, p := range []string{"SourceDBInstanceIdentifier", "DBSnapshotIdentifier", "SourceDBClusterIdentifier", "SnapshotIdentifier", "SourceDBInstanceAutomatedBackupsArn", "RestoreType"} {
		if isSet(t, r.Property(p)) {
			return true
		}
	}
	return false
}

// dbEngine returns the database's literal engine, lower-cased, or "".
func dbEngine(r *template.Resource) string {
	return strings.ToLower(r.Property("Engine").Text())
}

// inPlace reports whether a fix may write the property: it is missing, null
// or a value written in place (not a parameter or a condition the author
// chose).
func inPlace(n *template.Node) bool {
	return n == nil || n.Kind == template.Null || n.Kind == template.Scalar
}

// propertySpan is where a finding about a property is anchored: the value
// when it is written, else the resource's logical id.
func propertySpan(pass *analysis.Pass, n *template.Node) template.Span {
	if n != nil && n.Kind != template.Null {
		return n.Span
	}
	return pass.KeySpan()
}

// isFalseOrAbsent is the test of "not true" boolean properties.
func isFalseOrAbsent(a template.Alt) bool {
	if a.Kind == template.Absent {
		return true
	}
	b, ok := a.Bool()
	return ok && !b
}

// mayBeProduction reports whether the template can deploy to production:
// its Environment parameter defaults to or allows production (or is free
// text), or it has no Environment parameter at all, in which case nothing
// tells one stage from another.
func mayBeProduction(pass *analysis.Pass) bool {
	return pass.Memo("mayBeProduction", func() any {
		p := pass.Template.Parameter(pass.Options.EnvironmentParameter)
		if p == nil || len(p.AllowedValues) == 0 || pass.IsProductionTemplate() {
			return true
		}
		for _, v := range p.AllowedValues {
			if v.Text() == analysis.ProductionValue {
				return true
			}
		}
		return false
	}).(bool)
}

// prodSeverity is the severity of a "prod↑" rule: one level up for a
// template that deploys to production unless told otherwise.
func prodSeverity(pass *analysis.Pass) analysis.Severity {
	if pass.IsProductionTemplate() {
		return pass.Rule.Severity.Raise()
	}
	return pass.Rule.Severity
}

// productionIf is the value !If [IsProduction, yes, no], adding the
// condition (and the Environment parameter) to the fix when missing.
func productionIf(pass *analysis.Pass, b *edit.Builder, yes, no edit.Value) edit.Value {
	return edit.If(ensureCondition(pass, b, condIsProduction), yes, no)
}

// ---------------------------------------------------------------- RDS-001

// RDSStorageEncrypted reports databases whose storage is not encrypted.
var RDSStorageEncrypted = &analysis.Rule{
	ID:       "SOC2-RDS-001",
	Title:    "RDS database storage is not encrypted",
	Severity: analysis.Error,
	Controls: []string{"CC6.1", "C1.1", "PI1.5"},
	Types:    []string{dbInstanceType, dbClusterType},
	Doc: `An RDS instance or Aurora cluster without ` + "`StorageEncrypted: true`" + ` keeps its data files,
automated backups, snapshots and read replicas unencrypted on disk. Instances that belong to a cluster
are not checked on their own: the cluster's setting applies to them. Read replicas and restores inherit
the setting of their source and are not checked either.

**Why an auditor cares.** Encryption at rest, with keys under the organisation's control, is one of the
logical access safeguards CC6.1 looks for, and databases are where confidential customer and financial
records (C1.1) live. An unencrypted production database is a finding on its own, and its snapshots
spread the gap to every copy.

**How to fix.** Set ` + "`StorageEncrypted: true`" + ` and, preferably, ` + "`KmsKeyId`" + ` to a customer-managed key.
Encryption cannot be switched on for an existing database: CloudFormation replaces it, so migrate
through an encrypted snapshot (snapshot, copy with encryption, restore) and plan the cut-over. The quick
fix is therefore never applied automatically.`,
	Check: checkRDSStorageEncrypted,
}

func checkRDSStorageEncrypted(pass *analysis.Pass) {
	t, r := pass.Template, pass.Resource
	if inCluster(t, r) || isReplicaOrRestore(t, r) {
		return
	}
	prop := r.Property("StorageEncrypted")
	verdict, witness := t.Eval(prop).Judge(isFalseOrAbsent)
	if verdict == template.Pass {
		return
	}
	f := analysis.Finding{
		Span:    propertySpan(pass, prop),
		Message: dbKind(r) + " stores its data unencrypted: set StorageEncrypted to true (this replaces an existing database)",
	}
	if inPlace(prop) {
		f.Fixes = []analysis.Fix{pass.NewFix("Set StorageEncrypted: true (replaces the database: migrate through an encrypted snapshot)", func(b *edit.Builder) {
			setProperty(b, r, edit.Bool(true), "StorageEncrypted")
			if key := auditKey(pass); key != nil && r.Properties != nil && r.Property("KmsKeyId") == nil && r.Properties.Kind == template.Mapping {
				b.Insert(r.Properties, "KmsKeyId", keyArn(t, key))
			}
		})}
		f.Fixes[0].Unsafe = true
	}
	pass.ReportVerdict(verdict, witness, f)
}

// ---------------------------------------------------------------- RDS-002

// RDSPubliclyAccessible reports DB instances reachable from the internet.
var RDSPubliclyAccessible = &analysis.Rule{
	ID:       "SOC2-RDS-002",
	Title:    "RDS instance is publicly accessible",
	Severity: analysis.Error,
	Controls: []string{"CC6.6", "CC6.1", "CC6.2"},
	Types:    []string{dbInstanceType},
	Doc: `A DB instance with ` + "`PubliclyAccessible: true`" + ` gets a DNS name that resolves to a public IP
address. Whether it can actually be reached then depends only on its security groups and subnet routes,
so one permissive rule exposes the database's login prompt to the whole internet.

**Why an auditor cares.** Boundary protection (CC6.6) expects systems holding data to sit behind the
network edge, reachable only through the application tiers. A database with a public endpoint is one of
the first things external scans and auditors' configuration samples look for.

**How to fix.** Set ` + "`PubliclyAccessible: false`" + ` and place the instance in a ` + "`DBSubnetGroupName`" + ` made of
private subnets only; reach it for administration through a bastion, Session Manager port forwarding or
a VPN.`,
	Check: checkRDSPublic,
}

func checkRDSPublic(pass *analysis.Pass) {
	t, r := pass.Template, pass.Resource
	prop := r.Property("PubliclyAccessible")
	if prop == nil {
		return
	}
	verdict, witness := t.Eval(prop).Judge(func(a template.Alt) bool {
		b, ok := a.Bool()
		return ok && b
	})
	if verdict == template.Pass {
		return
	}
	f := analysis.Finding{
		Span:    prop.Span,
		Message: dbKind(r) + " has a public endpoint: set PubliclyAccessible to false and use private subnets",
	}
	if prop.Kind == template.Scalar {
		f.Fixes = []analysis.Fix{pass.NewFix("Set PubliclyAccessible: false", func(b *edit.Builder) {
			b.Replace(prop, edit.Bool(false))
		})}
	}
	pass.ReportVerdict(verdict, witness, f)
}

// ---------------------------------------------------------------- RDS-003

// RDSBackupRetention reports databases without automated backups, or with
// too short a retention for production.
var RDSBackupRetention = &analysis.Rule{
	ID:       "SOC2-RDS-003",
	Title:    "RDS automated backups are disabled or too short",
	Severity: analysis.Error,
	Controls: []string{"A1.2", "CC7.4", "CC7.5"},
	Types:    []string{dbInstanceType, dbClusterType},
	Doc: `Checks ` + "`BackupRetentionPeriod`" + ` of RDS instances and Aurora clusters (instances in a cluster are
covered by the cluster). ` + "`0`" + ` disables automated backups and point-in-time recovery: an error. A
retention shorter than the configured minimum (7 days by default) when the stack deploys to production
is a warning. Leaving the property out is reported as info, because the API default is a single day.

**Why an auditor cares.** Availability commitments (A1.2) and the ability to recover from an incident
(CC7.4, CC7.5) are evidenced by backups that exist and reach back far enough to restore the data from
before a problem was noticed. A day of history rarely covers the time it takes to detect corruption or a
bad deployment.

**How to fix.** Write ` + "`BackupRetentionPeriod: !If [IsProduction, 35, 7]`" + ` (35 days is the maximum) and
` + "`CopyTagsToSnapshot: true`" + ` so that snapshots stay classified.`,
	Check: checkRDSBackups,
}

func checkRDSBackups(pass *analysis.Pass) {
	t, r := pass.Template, pass.Resource
	if inCluster(t, r) || isReadReplica(t, r) {
		return
	}
	prop := r.Property("BackupRetentionPeriod")
	v := t.Eval(prop)
	days := func(a template.Alt) (int64, bool) {
		if a.Kind != template.Literal {
			return 0, false
		}
		return a.Node.Int()
	}
	fix := func(f *analysis.Finding) {
		if !inPlace(prop) {
			return
		}
		f.Fixes = []analysis.Fix{pass.NewFix("Keep backups for 35 days in production and 7 elsewhere", func(b *edit.Builder) {
			setProperty(b, r, productionIf(pass, b, edit.Int(35), edit.Int(max(7, pass.Options.MinBackupRetentionDays))), "BackupRetentionPeriod")
			if r.Property("CopyTagsToSnapshot") == nil && r.Properties != nil && r.Properties.Kind == template.Mapping {
				b.Insert(r.Properties, "CopyTagsToSnapshot", edit.Bool(true))
			}
		})}
	}

	// Backups switched off.
	if verdict, witness := v.Judge(func(a template.Alt) bool { d, ok := days(a); return ok && d == 0 }); verdict != template.Pass {
		f := analysis.Finding{
			Span:    propertySpan(pass, prop),
			Message: dbKind(r) + " has automated backups disabled (BackupRetentionPeriod 0): keep backups for at least " + strconv.Itoa(pass.Options.MinBackupRetentionDays) + " days",
		}
		fix(&f)
		pass.ReportVerdict(verdict, witness, f)
		return
	}
	// Absent: the API default is one day.
	if verdict, witness := v.Judge(func(a template.Alt) bool { return a.Kind == template.Absent }); verdict != template.Pass {
		f := analysis.Finding{
			Span:     propertySpan(pass, prop),
			Severity: analysis.Info,
			Message:  dbKind(r) + " does not set BackupRetentionPeriod, so backups are kept for 1 day: set it explicitly",
		}
		fix(&f)
		pass.ReportVerdict(verdict, witness, f)
		return
	}
	// Too short in production.
	if !mayBeProduction(pass) {
		return
	}
	min := int64(pass.Options.MinBackupRetentionDays)
	verdict, witness := t.Assume(v, pass.Production()).Judge(func(a template.Alt) bool {
		d, ok := days(a)
		return ok && d > 0 && d < min
	})
	if verdict == template.Pass {
		return
	}
	kept, _ := days(witness)
	f := analysis.Finding{
		Span:     propertySpan(pass, prop),
		Severity: analysis.Warning,
		Message:  dbKind(r) + " keeps backups for " + witness.Text() + " " + plural(int(kept), "day") + " in production: keep them for at least " + strconv.FormatInt(min, 10),
	}
	fix(&f)
	pass.ReportVerdict(verdict, witness, f)
}

// ---------------------------------------------------------------- RDS-004

// RDSDeletionProtection reports databases that one stack update or delete
// can destroy without a final snapshot.
var RDSDeletionProtection = &analysis.Rule{
	ID:       "SOC2-RDS-004",
	Title:    "RDS database can be deleted without protection or a final snapshot",
	Severity: analysis.Warning,
	Controls: []string{"C1.1", "A1.2"},
	Types:    []string{dbInstanceType, dbClusterType},
	Doc: `Checks two safeguards of RDS instances and Aurora clusters (instances in a cluster are covered by
the cluster, and read replicas by their source): ` + "`DeletionProtection`" + ` must be true in production, so
that neither the console nor a stack operation can delete the database; and the resource must keep a
snapshot when CloudFormation removes it.
Without attributes, CloudFormation snapshots a database that leaves the stack (` + "`DeletionPolicy`" + ` defaults
to ` + "`Snapshot`" + ` for these types) but deletes outright one that a change replaces (` + "`UpdateReplacePolicy`" + `
defaults to ` + "`Delete`" + `), so an explicit ` + "`DeletionPolicy: Delete`" + ` and a missing or ` + "`Delete`" + `
` + "`UpdateReplacePolicy`" + ` are reported. Raised to an error when the template deploys to production by default.

**Why an auditor cares.** Confidential records (C1.1) must be disposed of only on purpose, and
availability (A1.2) depends on not losing the database to a mistaken change. A change that makes
CloudFormation replace the resource (a new identifier, engine or encryption setting), or a deleted stack,
is the commonest way databases disappear.

**How to fix.** Write ` + "`DeletionProtection: !If [IsProduction, true, false]`" + ` (so that development stacks
can still be torn down) and the attributes ` + "`DeletionPolicy: Snapshot`" + ` and ` + "`UpdateReplacePolicy: Snapshot`" + `.`,
	Check: checkRDSDeletion,
}

func checkRDSDeletion(pass *analysis.Pass) {
	t, r := pass.Template, pass.Resource
	if inCluster(t, r) || isReadReplica(t, r) {
		return
	}
	sev := prodSeverity(pass)

	prop := r.Property("DeletionProtection")
	if verdict, witness := t.Assume(t.Eval(prop), pass.Production()).Judge(isFalseOrAbsent); verdict != template.Pass {
		f := analysis.Finding{
			Span:     propertySpan(pass, prop),
			Severity: sev,
			Message:  dbKind(r) + " can be deleted in production: set DeletionProtection to true there",
		}
		if inPlace(prop) {
			f.Fixes = []analysis.Fix{pass.NewFix("Set DeletionProtection: !If [IsProduction, true, false]", func(b *edit.Builder) {
				setProperty(b, r, productionIf(pass, b, edit.Bool(true), edit.Bool(false)), "DeletionProtection")
			})}
		}
		pass.ReportVerdict(verdict, witness, f)
	}

	// Without the attribute, CloudFormation snapshots a database it deletes
	// (DeletionPolicy defaults to Snapshot for these types) but not one it
	// replaces (UpdateReplacePolicy defaults to Delete).
	isDelete := func(a template.Alt) bool { return strings.EqualFold(a.Text(), "Delete") }
	deletion, replace := r.DeletionPolicy, r.UpdateReplacePolicy
	dv, dw := t.Eval(deletion).Judge(isDelete)
	rv, rw := t.Eval(replace).Judge(func(a template.Alt) bool { return a.Kind == template.Absent || isDelete(a) })
	if dv == template.Pass && rv == template.Pass {
		return
	}
	f := analysis.Finding{
		Span:     propertySpan(pass, replace),
		Severity: sev,
		Message:  dbKind(r) + " is deleted without a snapshot when a change replaces it: set UpdateReplacePolicy to Snapshot",
	}
	verdict, witness := rv, rw
	if dv != template.Pass {
		f.Span = deletion.Span
		f.Message = dbKind(r) + " is deleted without a final snapshot when it leaves the stack: set DeletionPolicy and UpdateReplacePolicy to Snapshot"
		verdict, witness = dv, dw
		if rv == template.Definite {
			verdict = template.Definite
		}
	}
	if inPlace(deletion) && inPlace(replace) {
		f.Fixes = []analysis.Fix{pass.NewFix("Set DeletionPolicy and UpdateReplacePolicy: Snapshot", func(b *edit.Builder) {
			if dv != template.Pass || deletion == nil {
				b.Set(r.Value, "DeletionPolicy", edit.Str("Snapshot"))
			}
			if rv != template.Pass {
				b.Set(r.Value, "UpdateReplacePolicy", edit.Str("Snapshot"))
			}
		})}
	}
	pass.ReportVerdict(verdict, witness, f)
}

// ---------------------------------------------------------------- RDS-005

// RDSMultiAZ reports production databases that live in one Availability
// Zone.
var RDSMultiAZ = &analysis.Rule{
	ID:       "SOC2-RDS-005",
	Title:    "Production RDS database runs in a single Availability Zone",
	Severity: analysis.Warning,
	Controls: []string{"A1.2"},
	Types:    []string{dbInstanceType, dbClusterType},
	Doc: `When the template can deploy to production, a DB instance must have ` + "`MultiAZ: true`" + ` in
production, and an Aurora cluster needs at least two instances in the template (Aurora's standby is
another instance of the cluster). Read replicas are not checked, and neither are templates whose
` + "`Environment`" + ` cannot be production.

**Why an auditor cares.** Availability commitments (A1.2) rest on infrastructure that survives the loss
of a data centre. A single-AZ database turns an Availability Zone outage, or routine maintenance, into
downtime of every service that depends on it.

**How to fix.** Write ` + "`MultiAZ: !If [IsProduction, true, false]`" + ` on the instance; for Aurora, add a
second ` + "`AWS::RDS::DBInstance`" + ` with the same ` + "`DBClusterIdentifier`" + ` (a reader, promoted on failover).`,
	Check: checkRDSMultiAZ,
}

func checkRDSMultiAZ(pass *analysis.Pass) {
	t, r := pass.Template, pass.Resource
	if inCluster(t, r) || isReadReplica(t, r) || !mayBeProduction(pass) {
		return
	}
	if r.Type == dbClusterType {
		if !strings.HasPrefix(dbEngine(r), "aurora") || strings.EqualFold(r.Property("EngineMode").Text(), "serverless") {
			return // Multi-AZ DB clusters are multi-AZ by construction
		}
		if isSet(t, r.Property("ServerlessV2ScalingConfiguration")) && len(clusterMembers(pass)[r]) == 0 {
			return
		}
		if n := len(clusterMembers(pass)[r]); n == 1 {
			pass.Report(analysis.Finding{
				Span:    pass.KeySpan(),
				Message: dbKind(r) + " has a single instance, so it cannot fail over to another Availability Zone: add a second instance with DBClusterIdentifier !Ref " + r.Name,
			})
		}
		return
	}
	prop := r.Property("MultiAZ")
	verdict, witness := t.Assume(t.Eval(prop), pass.Production()).Judge(isFalseOrAbsent)
	if verdict == template.Pass {
		return
	}
	f := analysis.Finding{
		Span:    propertySpan(pass, prop),
		Message: dbKind(r) + " runs in a single Availability Zone in production: set MultiAZ to true there",
	}
	if inPlace(prop) {
		f.Fixes = []analysis.Fix{pass.NewFix("Set MultiAZ: !If [IsProduction, true, false]", func(b *edit.Builder) {
			setProperty(b, r, productionIf(pass, b, edit.Bool(true), edit.Bool(false)), "MultiAZ")
		})}
	}
	pass.ReportVerdict(verdict, witness, f)
}

// clusterMembers maps each DB cluster to the instances of the template
// that belong to it, computed once per analysis.
func clusterMembers(pass *analysis.Pass) map[*template.Resource][]*template.Resource {
	return pass.Memo("rdsClusterMembers", func() any {
		t := pass.Template
		out := map[*template.Resource][]*template.Resource{}
		byName := map[string]*template.Resource{}
		for _, cl := range t.ResourcesOfType(dbClusterType) {
			if name := cl.Property("DBClusterIdentifier").Text(); name != "" {
				byName[strings.ToLower(name)] = cl
			}
		}
		for _, in := range t.ResourcesOfType(dbInstanceType) {
			id := in.Property("DBClusterIdentifier")
			var c *template.Resource
			if id.IsScalar() {
				c = byName[strings.ToLower(id.Value)]
			} else {
				c = resolveOfType(pass, id, dbClusterType)
			}
			if c != nil {
				out[c] = append(out[c], in)
			}
		}
		return out
	}).(map[*template.Resource][]*template.Resource)
}

// ---------------------------------------------------------------- RDS-006

// RDSMasterPassword reports master passwords that are visible in the
// template or to anyone who can describe the stack.
var RDSMasterPassword = &analysis.Rule{
	ID:       "SOC2-RDS-006",
	Title:    "RDS master password is exposed in the template",
	Severity: analysis.Error,
	Controls: []string{"CC6.1", "CC6.2"},
	Types:    []string{dbInstanceType, dbClusterType},
	Doc: `Reports a ` + "`MasterUserPassword`" + ` that is written as a literal, that refers to a parameter without
` + "`NoEcho: true`" + ` (its value is shown by the console and ` + "`DescribeStacks`" + `) or with a ` + "`Default`" + ` (the password
is in the template), or that resolves a plain ` + "`{{resolve:ssm:...}}`" + ` parameter instead of a SecureString or a
Secrets Manager secret.

**Why an auditor cares.** Credentials must be issued and held so that only their owners know them
(CC6.1, CC6.2). A password in source control is known to everyone with read access to the repository,
its forks and its CI logs, forever, and cannot be rotated without a change to the template.

**How to fix.** Prefer ` + "`ManageMasterUserPassword: true`" + ` without ` + "`MasterUserPassword`" + `: RDS creates and
rotates the secret in Secrets Manager. Otherwise use
` + "`'{{resolve:secretsmanager:<secret>:SecretString:password}}'`" + ` or a ` + "`NoEcho`" + ` parameter without a default.`,
	Check: checkRDSMasterPassword,
}

func checkRDSMasterPassword(pass *analysis.Pass) {
	r := pass.Resource
	prop := r.Property("MasterUserPassword")
	for _, leak := range exposedSecrets(pass.Template, prop) {
		f := analysis.Finding{
			Span:    leak.node.Span,
			Message: dbKind(r) + "'s MasterUserPassword " + leak.why + ": set ManageMasterUserPassword to true and remove MasterUserPassword",
		}
		if leak.param != nil && !leak.param.NoEcho && leak.param.Default == nil {
			f.Message = dbKind(r) + "'s MasterUserPassword " + leak.why + ": add NoEcho: true to " + leak.param.Name + ", or set ManageMasterUserPassword to true instead"
			p := leak.param
			f.Fixes = append(f.Fixes, pass.NewFix("Add NoEcho: true to parameter "+p.Name, func(b *edit.Builder) {
				b.Insert(p.Value, "NoEcho", edit.Bool(true))
			}))
		}
		fx := pass.NewFix("Let RDS manage the master password in Secrets Manager (changes the password)", func(b *edit.Builder) {
			if r.Property("ManageMasterUserPassword") != nil {
				b.Delete(r.Properties, "MasterUserPassword")
				b.Set(r.Properties, "ManageMasterUserPassword", edit.Bool(true))
				return
			}
			// Rewrite the pair in place: the key and its value.
			pair := r.Properties.Pair("MasterUserPassword")
			b.Replace(pair.Key, edit.Str("ManageMasterUserPassword"))
			b.Replace(pair.Value, edit.Bool(true))
		})
		fx.Unsafe = true
		f.Fixes = append(f.Fixes, fx)
		pass.Report(f)
	}
}

// secretLeak is one way a secret property exposes its value.
type secretLeak struct {
	node  *template.Node
	why   string
	param *template.Parameter // the parameter at fault, if any
}

// exposedSecrets returns the places where a secret value (a password) is
// readable from the template or the stack description: literals, plain SSM
// dynamic references, and parameters without NoEcho or with a Default. Both
// branches of Fn::If are inspected. Secrets Manager and SSM SecureString
// references, and values computed at deploy time, are fine.
func exposedSecrets(t *template.Template, n *template.Node) []secretLeak {
	if n == nil {
		return nil
	}
	switch {
	case n.Kind == template.Scalar:
		switch s := n.Value; {
		case s == "":
			return nil
		case template.IsDynamicReference(s):
			if template.DynamicReferenceService(s) == "ssm" {
				return []secretLeak{{node: n, why: "comes from a plain-text SSM parameter"}}
			}
			return nil
		}
		return []secretLeak{{node: n, why: "is written in the template"}}
	case n.IsFn("Fn::Sub"):
		parts, _, ok := template.Sub(n)
		if !ok {
			return nil
		}
		var lit strings.Builder
		for _, p := range parts {
			lit.WriteString(p.Literal)
		}
		if s := lit.String(); template.IsDynamicReference(s) && template.DynamicReferenceService(s) == "ssm" {
			return []secretLeak{{node: n, why: "comes from a plain-text SSM parameter"}}
		}
	case n.IsFn("Ref"):
		p := t.Parameter(n.Arg.Text())
		if p == nil {
			return nil
		}
		switch {
		case p.Default != nil && p.Default.Text() != "":
			return []secretLeak{{node: n, why: "comes from parameter " + p.Name + ", whose Default puts the password in the template", param: p}}
		case !p.NoEcho && !strings.HasPrefix(p.Type, "AWS::SSM::Parameter"):
			return []secretLeak{{node: n, why: "comes from parameter " + p.Name + ", which lacks NoEcho: true, so its value is shown in the stack's parameters", param: p}}
		}
	case n.IsFn("Fn::If"):
		if n.Arg.Kind == template.Sequence && len(n.Arg.Items) == 3 {
			return append(exposedSecrets(t, n.Arg.Items[1]), exposedSecrets(t, n.Arg.Items[2])...)
		}
	}
	return nil
}

// ---------------------------------------------------------------- RDS-007

// RDSLogExports reports databases that do not send their logs to CloudWatch.
var RDSLogExports = &analysis.Rule{
	ID:       "SOC2-RDS-007",
	Title:    "RDS database does not export its logs to CloudWatch Logs",
	Severity: analysis.Info,
	Controls: []string{"CC7.2", "CC7.3", "A1.2", "PI1.3"},
	Types:    []string{dbInstanceType, dbClusterType},
	Doc: `An RDS instance or Aurora cluster without ` + "`EnableCloudwatchLogsExports`" + ` keeps its engine logs
(errors, slow queries, connection and audit logs) only on the database host, where they rotate away within
days and cannot be searched, alarmed on or retained. Instances in a cluster are covered by the cluster.

**Why an auditor cares.** Detecting and evaluating security events (CC7.2, CC7.3) in the data tier
needs the database's own logs: failed logins, privilege changes, unusual queries. Keeping them in
CloudWatch Logs also gives them the retention the audit period requires.

**How to fix.** List the engine's log types: PostgreSQL ` + "`[postgresql, upgrade]`" + ` (Aurora PostgreSQL
` + "`[postgresql]`" + `), MySQL, MariaDB and Aurora MySQL ` + "`[audit, error, general, slowquery]`" + ` (the audit log also
needs the audit plugin in an option group, or ` + "`server_audit_logging`" + ` in the cluster parameter group).`,
	Check: checkRDSLogExports,
}

// rdsLogTypes are the log types to export, by engine.
var rdsLogTypes = map[string][]string{
	"postgres":          {"postgresql", "upgrade"},
	"aurora-postgresql": {"postgresql"},
	"mysql":             {"audit", "error", "general", "slowquery"},
	"mariadb":           {"audit", "error", "general", "slowquery"},
	"aurora-mysql":      {"audit", "error", "general", "slowquery"},
	"aurora":            {"audit", "error", "general", "slowquery"},
	"sqlserver-ee":      {"agent", "error"},
	"sqlserver-se":      {"agent", "error"},
	"sqlserver-ex":      {"error"},
	"sqlserver-web":     {"agent", "error"},
	"oracle-ee":         {"alert", "audit", "listener", "trace"},
	"oracle-se2":        {"alert", "audit", "listener", "trace"},
}

func checkRDSLogExports(pass *analysis.Pass) {
	t, r := pass.Template, pass.Resource
	if inCluster(t, r) {
		return
	}
	prop := r.Property("EnableCloudwatchLogsExports")
	verdict, witness := t.Eval(prop).Judge(func(a template.Alt) bool {
		return a.Kind == template.Absent || (a.Node.Kind == template.Sequence && len(a.Node.Items) == 0)
	})
	if verdict == template.Pass {
		return
	}
	f := analysis.Finding{
		Span:    propertySpan(pass, prop),
		Message: dbKind(r) + " keeps its logs on the database host: list the engine's log types in EnableCloudwatchLogsExports",
	}
	if types := rdsLogTypes[dbEngine(r)]; types != nil && (prop == nil || prop.Kind == template.Null || prop.Kind == template.Sequence) {
		f.Fixes = []analysis.Fix{pass.NewFix("Export the "+dbEngine(r)+" logs to CloudWatch Logs", func(b *edit.Builder) {
			setProperty(b, r, edit.Strs(types...), "EnableCloudwatchLogsExports")
		})}
	}
	pass.ReportVerdict(verdict, witness, f)
}

// ---------------------------------------------------------------- RDS-008

// RDSForceSSL reports databases whose parameter group does not require TLS.
var RDSForceSSL = &analysis.Rule{
	ID:       "SOC2-RDS-008",
	Title:    "RDS database accepts connections without TLS",
	Severity: analysis.Info,
	Controls: []string{"CC6.7"},
	Types:    []string{dbInstanceType, dbClusterType},
	Doc: `PostgreSQL and MySQL-family databases accept unencrypted client connections unless their parameter
group requires TLS: ` + "`rds.force_ssl: 1`" + ` for PostgreSQL and Aurora PostgreSQL, ` + "`require_secure_transport: ON`" + `
for MySQL, MariaDB and Aurora MySQL. The rule follows ` + "`DBParameterGroupName`" + ` (instances) or
` + "`DBClusterParameterGroupName`" + ` (clusters) to the group in the template; a database on the default group
does not require TLS, except RDS for PostgreSQL 15 and later, whose default already does. Groups from
outside the template are not judged. Reported as a warning for databases tagged as confidential.

**Why an auditor cares.** CC6.7 expects data in transit to be protected. Whether a client negotiates
TLS is otherwise up to each application's connection string, which no one reviews; the server-side
setting makes it a control.

**How to fix.** Reference a parameter group (` + "`AWS::RDS::DBParameterGroup`" + ` or, for Aurora,
` + "`AWS::RDS::DBClusterParameterGroup`" + `) whose ` + "`Parameters`" + ` set the engine's parameter. Both parameters are
dynamic, so no reboot is needed when the group is already attached.`,
	Check: checkRDSForceSSL,
}

// tlsParameter returns the parameter that enforces TLS for an engine and
// its accepted values, or "" for engines the rule does not judge.
func tlsParameter(engine string) (name string, on []string) {
	switch engine {
	case "postgres", "aurora-postgresql":
		return "rds.force_ssl", []string{"1"}
	case "mysql", "mariadb", "aurora-mysql", "aurora":
		return "require_secure_transport", []string{"ON", "1"}
	}
	return "", nil
}

var majorVersion = regexp.MustCompile(`^(\d+)(?:\.(\d+))?`)

// parameterGroupFamily returns the family of a new parameter group for the
// database's literal engine and version, e.g. postgres16, or "".
func parameterGroupFamily(r *template.Resource) string {
	engine := dbEngine(r)
	m := majorVersion.FindStringSubmatch(r.Property("EngineVersion").Text())
	if m == nil {
		return ""
	}
	switch engine {
	case "postgres", "aurora-postgresql":
		return engine + m[1]
	case "mysql", "mariadb":
		if m[2] == "" {
			return ""
		}
		return engine + m[1] + "." + m[2]
	case "aurora-mysql":
		switch {
		case m[1] == "8" || m[1] == "3":
			return "aurora-mysql8.0"
		case m[1] == "5" || m[1] == "2":
			return "aurora-mysql5.7"
		}
	}
	return ""
}

func checkRDSForceSSL(pass *analysis.Pass) {
	t, r := pass.Template, pass.Resource
	if inCluster(t, r) {
		return
	}
	engine := dbEngine(r)
	param, on := tlsParameter(engine)
	if param == "" {
		return
	}
	groupProp, groupType := "DBParameterGroupName", dbParamGroupType
	if r.Type == dbClusterType {
		groupProp, groupType = "DBClusterParameterGroupName", dbClusterParamGroupT
	}
	// RDS for PostgreSQL 15 and later requires TLS by default.
	pgDefaultOn := false
	if engine == "postgres" {
		if m := majorVersion.FindStringSubmatch(r.Property("EngineVersion").Text()); m != nil {
			major, _ := strconv.Atoi(m[1])
			pgDefaultOn = major >= 15
		}
	}
	sev := analysis.Info
	if isConfidential(r) {
		sev = analysis.Warning
	}
	ref := r.Property(groupProp)
	enforce := param + ": " + on[0]
	// The default groups are named default.<family>.
	if !isSet(t, ref) || strings.HasPrefix(strings.ToLower(ref.Text()), "default.") {
		if pgDefaultOn {
			return
		}
		f := analysis.Finding{
			Span:     propertySpan(pass, ref),
			Severity: sev,
			Message:  dbKind(r) + " uses the default parameter group, which accepts connections without TLS: reference a parameter group (" + groupType + ") that sets " + enforce,
		}
		if family := parameterGroupFamily(r); family != "" && (r.Type == dbInstanceType) == !strings.HasPrefix(engine, "aurora") {
			f.Fixes = []analysis.Fix{pass.NewFix("Add a parameter group that requires TLS", func(b *edit.Builder) {
				name := uniqueLogicalID(t, r.Name+"ParameterGroup")
				b.AddEntry("Resources", name, edit.Map(
					edit.KV{Key: "Type", Value: edit.Str(groupType)},
					edit.KV{Key: "Properties", Value: edit.Map(
						edit.KV{Key: "Description", Value: edit.Str("Settings of " + r.Name + "; TLS required for every connection")},
						edit.KV{Key: "Family", Value: edit.Str(family)},
						edit.KV{Key: "Parameters", Value: edit.Map(edit.KV{Key: param, Value: edit.Str(on[0])})},
					)},
				))
				setProperty(b, r, edit.Ref(name), groupProp)
			})}
		}
		pass.Report(f)
		return
	}
	if ref.IsScalar() {
		return // a group created outside the template
	}
	group := resolveOfType(pass, ref, groupType)
	if group == nil {
		return // a group from outside the template, or a parameter
	}
	value := group.PropertyPath("Parameters", param)
	related := []analysis.Related{{Span: group.Key.Span, Message: "parameter group " + group.Name}}
	if value == nil {
		if pgDefaultOn {
			return
		}
		f := analysis.Finding{
			Span:     ref.Span,
			Severity: sev,
			Message:  dbKind(r) + " accepts connections without TLS: its parameter group " + group.Name + " does not set " + enforce,
			Related:  related,
		}
		f.Fixes = []analysis.Fix{pass.NewFix("Set "+enforce+" in "+group.Name, func(b *edit.Builder) {
			if params := group.Property("Parameters"); params != nil && params.Kind == template.Mapping {
				b.Set(params, param, edit.Str(on[0]))
				return
			}
			b.SetPath(group.Value, []string{"Properties", "Parameters"}, edit.Map(edit.KV{Key: param, Value: edit.Str(on[0])}))
		})}
		pass.Report(f)
		return
	}
	verdict, witness := t.Eval(value).Judge(func(a template.Alt) bool {
		if a.Kind != template.Literal {
			return a.Kind == template.Absent && !pgDefaultOn
		}
		for _, v := range on {
			if strings.EqualFold(a.Text(), v) {
				return false
			}
		}
		return true
	})
	if verdict == template.Pass {
		return
	}
	f := analysis.Finding{
		Span:     ref.Span,
		Severity: sev,
		Message:  dbKind(r) + " accepts connections without TLS: its parameter group " + group.Name + " sets " + param + " to " + witness.Text() + ", not " + on[0],
		Related:  append(related, analysis.Related{Span: value.Span, Message: param}),
	}
	if value.Kind == template.Scalar {
		f.Fixes = []analysis.Fix{pass.NewFix("Set "+enforce+" in "+group.Name, func(b *edit.Builder) {
			b.Replace(value, edit.Str(on[0]))
		})}
	}
	pass.ReportVerdict(verdict, witness, f)
}

var rdsRules = []*analysis.Rule{
	RDSStorageEncrypted, RDSPubliclyAccessible, RDSBackupRetention, RDSDeletionProtection, RDSMultiAZ,
	RDSMasterPassword, RDSLogExports, RDSForceSSL,
}
