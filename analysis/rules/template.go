package rules

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// RegionLiteralInCondition reports conditions that compare the stack's
// region with a literal region name.
var RegionLiteralInCondition = &analysis.Rule{
	ID:       "SOC2-TPL-001",
	Title:    "Condition compares the region with a literal",
	Severity: analysis.Warning,
	Controls: []string{"CC8.1", "A1.3"},
	Doc: `A condition such as ` + "`IsUSEast1: !Equals [!Ref 'AWS::Region', us-east-1]`" + ` ties the template's
behaviour to one named region. Rebuilding the stack in another region, the core of a recovery test, silently
changes what gets created: the trail or the global Config recording that only the "primary" region owned
disappears.

**Why an auditor cares.** A1.3 asks that recovery is tested; a template that can be deployed unchanged to a
recovery region is the evidence. CC8.1 prefers configuration in parameters that a change record can show,
over values buried in conditions.

**How to fix.** Compare with a parameter: ` + "`IsPrimaryRegion: !Equals [!Ref 'AWS::Region', !Ref PrimaryRegion]`" + `.
The quick fix rewrites the literal and adds a ` + "`PrimaryRegion`" + ` parameter (defaulting to the literal, so
nothing changes on the next deploy) when the template has none.`,
	Check: checkRegionLiterals,
}

var regionName = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$`)

func checkRegionLiterals(pass *analysis.Pass) {
	t := pass.Template
	param := pass.Options.PrimaryRegionParameter
	for _, c := range t.AllConditions() {
		c.Value.Walk(func(n *template.Node) bool {
			if !n.IsFn("Fn::Equals") || n.Arg.Kind != template.Sequence || len(n.Arg.Items) != 2 {
				return true
			}
			a, b := n.Arg.Items[0], n.Arg.Items[1]
			if refTarget(b) == "AWS::Region" {
				a, b = b, a
			}
			if refTarget(a) != "AWS::Region" || !b.IsScalar() || !regionName.MatchString(b.Value) {
				return true
			}
			lit := b
			fix := pass.NewFix("Compare with !Ref "+param, func(eb *edit.Builder) {
				eb.Replace(lit, edit.Ref(param))
				if t.Parameter(param) == nil {
					eb.AddEntry("Parameters", param, primaryRegionParameter(lit.Value))
				}
			})
			if p := t.Parameter(param); p != nil && p.Default.Text() != lit.Value {
				// The existing parameter defaults to another region: the edit
				// would change which region the condition selects.
				fix.Title += " (its default is " + p.Default.Text() + ", not " + lit.Value + ": check before deploying)"
				if p.Default == nil {
					fix.Title = "Compare with !Ref " + param + " (it has no default: deployments must then name the region)"
				}
				fix.Unsafe = true
			}
			pass.Report(analysis.Finding{
				Span: lit.Span,
				Message: "condition " + c.Name + " pins the template to region " + lit.Value +
					": compare AWS::Region with a " + param + " parameter so the stack can be rebuilt in another region",
				Fixes: []analysis.Fix{fix},
			})
			return false
		})
	}
}

// primaryRegionParameter is the definition of a new PrimaryRegion parameter.
func primaryRegionParameter(def string) edit.Value {
	return edit.Map(
		edit.KV{Key: "Type", Value: edit.Str("String")},
		edit.KV{Key: "Description", Value: edit.Str("Region that owns account-wide resources (multi-region trail, global Config recording)")},
		edit.KV{Key: "Default", Value: edit.Str(def)},
		edit.KV{Key: "AllowedPattern", Value: edit.Str(`^[a-z]{2}(-gov)?-[a-z]+-\d$`)},
	)
}

// HardcodedArnOrZone reports ARNs whose partition, region or account is
// written literally, and literal availability zone names.
var HardcodedArnOrZone = &analysis.Rule{
	ID:       "SOC2-TPL-002",
	Title:    "ARN or availability zone is hardcoded",
	Severity: analysis.Info,
	Controls: []string{"CC8.1", "A1.3"},
	Types:    []string{analysis.AnyType},
	Doc: `A resource property contains an ARN whose partition (` + "`aws`" + `), region or account id is written as
text, or names an availability zone such as ` + "`us-east-1a`" + `. The template then only works in that partition,
region or account: deploying it to a recovery region, a GovCloud or China partition, or a second account means
editing it, or it silently points back at the original.

**Why an auditor cares.** Recovery testing (A1.3) relies on rebuilding the same stack elsewhere, and change
management (CC8.1) on one reviewed template serving every deployment. Literal locations turn each new target
into an unreviewed copy.

**How to fix.** Build ARNs with pseudo parameters:
` + "`!Sub 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:app'`" + `. Choose zones with
` + "`!Select [0, !GetAZs '']`" + `. AWS-managed policy ARNs (` + "`arn:aws:iam::aws:policy/...`" + `) are not reported, nor are
ARNs already built from the pseudo parameters. When only the partition is literal the quick fix rewrites it;
a literal region or account may deliberately point elsewhere (a cross-account role, a replication target),
so that rewrite, and the zone rewrite (which replaces a subnet), are offered for review only.`,
	Check: checkHardcodedArns,
}

// arnStart finds the start of ARNs in text.
var arnStart = regexp.MustCompile(`arn:`)

// zoneName matches a literal availability zone name.
var zoneName = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$`)

var arnAccountID = regexp.MustCompile(`^\d{12}$`)

// arnIssue is what is literal in one ARN.
type arnIssue struct {
	partition, region, account string
}

func (a arnIssue) any() bool { return a.partition != "" || a.region != "" || a.account != "" }

// pseudo names the pseudo parameters that replace the literal fields.
func (a arnIssue) pseudo() string {
	var parts []string
	if a.partition != "" {
		parts = append(parts, "${AWS::Partition}")
	}
	if a.region != "" {
		parts = append(parts, "${AWS::Region}")
	}
	if a.account != "" {
		parts = append(parts, "${AWS::AccountId}")
	}
	return strings.Join(parts, ", ")
}

func (a arnIssue) describe() string {
	var parts []string
	if a.partition != "" {
		parts = append(parts, "partition "+a.partition)
	}
	if a.region != "" {
		parts = append(parts, "region "+a.region)
	}
	if a.account != "" {
		parts = append(parts, "account "+a.account)
	}
	return strings.Join(parts, ", ")
}

// arnIssues inspects every ARN in text (with Sub variables masked by
// maskVars, since ${AWS::Region} contains colons) and returns what the first offending one hardcodes, with the byte
// offsets of its literal fields.
func arnIssues(text string) (issue arnIssue, fields [][2]int) {
	for _, loc := range arnStart.FindAllStringIndex(text, -1) {
		if loc[0] > 0 && isARNChar(text[loc[0]-1]) {
			continue
		}
		rest := text[loc[1]:]
		f := strings.SplitN(rest, ":", 5)
		if len(f) < 5 {
			continue
		}
		partition, service, region, account := f[0], f[1], f[2], f[3]
		if account == "aws" {
			continue // AWS-owned resources: managed policies and the like
		}
		var it arnIssue
		var at [][2]int
		off := loc[1]
		if partition == "aws" || partition == "aws-cn" || partition == "aws-us-gov" {
			it.partition = partition
			at = append(at, [2]int{off, off + len(partition)})
		}
		off += len(partition) + 1 + len(service) + 1
		if regionName.MatchString(region) {
			it.region = region
			at = append(at, [2]int{off, off + len(region)})
		}
		off += len(region) + 1
		if arnAccountID.MatchString(account) {
			it.account = account
			at = append(at, [2]int{off, off + len(account)})
		}
		if it.any() {
			return it, at
		}
	}
	return arnIssue{}, nil
}

func isARNChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

func checkHardcodedArns(pass *analysis.Pass) {
	r := pass.Resource
	r.Properties.Walk(func(n *template.Node) bool {
		switch {
		case n.IsFn("Fn::Sub"):
			str := n.Arg
			if str.Kind == template.Sequence && len(str.Items) > 0 {
				str = str.Items[0]
				for _, v := range n.Arg.Items[1:] {
					v.Walk(func(x *template.Node) bool { return x == v || checkArnScalar(pass, x, false) })
				}
			}
			if str.IsScalar() {
				checkArnScalar(pass, str, true)
			}
			return false
		case n.Kind == template.Mapping:
			for _, p := range n.Pairs {
				if (p.Key.Value == "AvailabilityZone" || p.Key.Value == "AvailabilityZones") && p.Value.Kind != template.Intrinsic {
					for _, z := range p.Value.List() {
						checkZone(pass, p.Key.Value, z)
					}
				}
			}
			return true
		case n.IsScalar():
			checkArnScalar(pass, n, false)
		}
		return true
	})
}

// checkArnScalar reports a scalar (a plain string, or the template of a Sub
// when sub is true) holding an ARN with literal location fields. It returns
// true so that it can serve as a Walk callback.
func checkArnScalar(pass *analysis.Pass, n *template.Node, sub bool) bool {
	if !n.IsScalar() || !strings.Contains(n.Value, "arn:") {
		return true
	}
	text := n.Value
	if sub {
		text = maskVars(text)
	}
	issue, _ := arnIssues(text)
	if !issue.any() {
		return true
	}
	f := analysis.Finding{
		Span:    n.Span,
		Message: "resource " + pass.Resource.Name + " hardcodes the " + issue.describe() + " in an ARN: build it with " + issue.pseudo(),
	}
	if sub && n.ValueSpan.End-n.ValueSpan.Start != len(n.Value) {
		pass.Report(f) // escaped text: no exact rewrite
		return true
	}
	// Rewrite the text (a Sub's template is replaced in place): literal
	// fields become pseudo parameters.
	v := edit.Sub(arnRewrite(n.Value, sub))
	if sub {
		v = edit.Str(arnRewrite(n.Value, sub))
	}
	f.Fixes = []analysis.Fix{arnFix(pass, n, v, issue)}
	pass.Report(f)
	return true
}

// arnRewrite returns s (a Sub template when sub is true, else plain text to
// become one) with every ARN's literal partition, region and account
// replaced by the pseudo parameters.
func arnRewrite(s string, sub bool) string {
	if !sub {
		// Plain text becomes a Sub template: escape existing ${.
		s = strings.ReplaceAll(s, "${", "${!")
	}
	var out strings.Builder
	for {
		// Mask variables so that their colons do not split fields.
		masked := maskVars(s)
		issue, fields := arnIssues(masked)
		if !issue.any() {
			out.WriteString(s)
			return out.String()
		}
		repl := []string{}
		if issue.partition != "" {
			repl = append(repl, "${AWS::Partition}")
		}
		if issue.region != "" {
			repl = append(repl, "${AWS::Region}")
		}
		if issue.account != "" {
			repl = append(repl, "${AWS::AccountId}")
		}
		last := fields[len(fields)-1][1]
		var b strings.Builder
		prev := 0
		for i, fld := range fields {
			b.WriteString(s[prev:fld[0]])
			b.WriteString(repl[i])
			prev = fld[1]
		}
		out.WriteString(b.String())
		s = s[last:]
	}
}

// maskVars replaces the text of ${...} variables (not ${!...} escapes) by
// the same number of hole bytes, keeping offsets.
func maskVars(s string) string {
	b := []byte(s)
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '$' && b[i+1] == '{' && (i+2 >= len(b) || b[i+2] != '!') {
			j := strings.IndexByte(s[i:], '}')
			if j < 0 {
				break
			}
			for k := i; k <= i+j; k++ {
				b[k] = 0
			}
			i += j
		}
	}
	return string(b)
}

func arnFix(pass *analysis.Pass, n *template.Node, v edit.Value, issue arnIssue) analysis.Fix {
	fix := pass.NewFix("Build the ARN with ${AWS::Partition}", func(b *edit.Builder) {
		b.Replace(n, v)
	})
	if issue.region != "" || issue.account != "" {
		where := arnIssue{region: issue.region, account: issue.account}
		fix.Title = "Build the ARN with pseudo parameters (check that " + where.describe() + " means this stack's own)"
		fix.Unsafe = true
	}
	return fix
}

// checkZone reports a literal availability zone name.
func checkZone(pass *analysis.Pass, key string, z *template.Node) {
	if !z.IsScalar() || !zoneName.MatchString(z.Value) {
		return
	}
	index := int(z.Value[len(z.Value)-1] - 'a')
	f := analysis.Finding{
		Span: z.Span,
		Message: "resource " + pass.Resource.Name + " names the availability zone " + z.Value + " in " + key +
			": choose zones with !Select [" + strconv.Itoa(index) + ", !GetAZs ''] so the stack deploys in any region",
	}
	if key == "AvailabilityZone" {
		f.Fixes = []analysis.Fix{unsafe(pass.NewFix("Use !Select ["+strconv.Itoa(index)+", !GetAZs ''] (the zone may change, which replaces the resource)", func(b *edit.Builder) {
			b.Replace(z, edit.Fn("Fn::Select", edit.List(edit.Int(index), edit.Fn("Fn::GetAZs", edit.Str("")))))
		}))}
	}
	pass.Report(f)
}

// EvidenceNotRetained reports stores of audit evidence or confidential data
// that a stack deletion or a replacement would delete.
var EvidenceNotRetained = &analysis.Rule{
	ID:       "SOC2-TPL-003",
	Title:    "Audit or confidential data store is deleted with the stack",
	Severity: analysis.Warning,
	Controls: []string{"C1.1", "CC7.3", "A1.2"},
	Types:    []string{bucketType, logGroupType, kmsKeyType, "AWS::RDS::DBInstance", "AWS::RDS::DBCluster", "AWS::DynamoDB::Table"},
	Doc: `A resource that holds audit evidence or confidential data (the trail, Config, flow-log and access-log
buckets, audit log groups and the KMS keys that encrypt them, databases, DynamoDB tables, buckets tagged
confidential) has no ` + "`DeletionPolicy: Retain`" + ` or no ` + "`UpdateReplacePolicy: Retain`" + `. Deleting the stack, or
an update that replaces the resource, then deletes the data with it; for a key, every object it encrypted
becomes unreadable.

**Why an auditor cares.** Evidence must survive the infrastructure that produced it: incident evaluation
(CC7.3) and the confidentiality commitments (C1.1) need records that a mistaken ` + "`delete-stack`" + ` cannot erase,
and recovery (A1.2) needs the data to still be there. Both policies are needed, since replacement ignores
` + "`DeletionPolicy`" + `.

**How to fix.** Add ` + "`DeletionPolicy: Retain`" + ` and ` + "`UpdateReplacePolicy: Retain`" + ` (` + "`Snapshot`" + ` is enough for RDS,
which keeps a final snapshot; ` + "`RetainExceptOnCreate`" + ` is accepted too). Remove retained resources deliberately,
outside CloudFormation, once their retention period has passed.`,
	Check: checkEvidenceRetained,
}

// retainedStoreReason returns why resource name holds audit evidence or
// confidential data, if it does. The check depends on that resource's entry
// of the fact only.
func retainedStoreReason(pass *analysis.Pass, name string) (string, bool) {
	return analysis.FactAt[string](pass, retainedStoresFact, name)
}

// retainedStore is what one resource contributes to retainedStores:
// Confidential is a bucket's confidential classification, AppData says the
// resource holds the application's data, and Keys are the in-template KMS
// keys that encrypt a bucket or log group (used when it holds audit
// evidence) or a trail's logs (Trail).
type retainedStore struct {
	Confidential string
	AppData      bool
	Trail        bool
	Keys         []string
}

// retainedStoreMarks are each resource's retainedStore, gathered per
// resource so that an edit of a bucket, say, recomputes that bucket's only
// rather than walking every bucket, database and trail.
var retainedStoreMarks = &analysis.ResourceFact{Key: "retainedStoreMarks", Compute: func(pass *analysis.Pass) any {
	r := pass.Resource
	var v retainedStore
	keys := func(nodes ...*template.Node) {
		for _, n := range nodes {
			if k := resolveNameOfType(pass, n, kmsKeyType); k != "" {
				v.Keys = append(v.Keys, k)
			}
		}
	}
	switch r.Type {
	case bucketType:
		if isConfidential(r) {
			v.Confidential = classification(r)
		}
		keys(encryptionKeyNodes(r)...)
	case logGroupType:
		keys(encryptionKeyNodes(r)...)
	case "AWS::RDS::DBInstance":
		v.AppData = r.Property("DBClusterIdentifier") == nil // else the cluster holds the data
	case "AWS::RDS::DBCluster", "AWS::DynamoDB::Table":
		v.AppData = true
	case trailType:
		v.Trail = true
		keys(r.Property("KMSKeyId"))
	}
	if v.Confidential == "" && !v.AppData && len(v.Keys) == 0 {
		return nil
	}
	return v
}}

var retainedStoresFact = &analysis.Fact{Key: "retainedStores", Compute: func(pass *analysis.Pass) any {
	out := map[string]string{}
	for b, why := range auditBuckets(pass) {
		out[b] = "it holds audit evidence (" + why + ")"
	}
	for g, why := range auditLogGroups(pass) {
		out[g] = "it holds audit logs (" + why + ")"
	}
	marks := pass.Gather(retainedStoreMarks)
	for _, g := range marks {
		if c := g.Value.(retainedStore).Confidential; c != "" {
			if _, ok := out[g.Name]; !ok {
				out[g.Name] = "it is tagged as holding " + c + " data"
			}
		}
	}
	for _, g := range marks {
		if g.Value.(retainedStore).AppData {
			out[g.Name] = "it holds the application's data"
		}
	}
	// The keys that encrypt audit evidence: losing one makes the
	// evidence unreadable. (Keys of databases are left to their owners:
	// CloudFormation only schedules a deleted key's deletion.)
	for _, g := range marks {
		v := g.Value.(retainedStore)
		if v.Trail || !strings.HasPrefix(out[g.Name], "it holds audit") {
			continue
		}
		for _, k := range v.Keys {
			if _, ok := out[k]; !ok {
				out[k] = "it encrypts " + g.Name
			}
		}
	}
	for _, g := range marks {
		if v := g.Value.(retainedStore); v.Trail {
			for _, k := range v.Keys {
				if _, ok := out[k]; !ok {
					out[k] = "it encrypts the logs of trail " + g.Name
				}
			}
		}
	}
	return out
}}

// storeLabel names a data store's kind for messages.
func storeLabel(r *template.Resource) string {
	switch r.Type {
	case bucketType:
		return "bucket"
	case logGroupType:
		return "log group"
	case kmsKeyType:
		return "KMS key"
	case "AWS::DynamoDB::Table":
		return "table"
	}
	return "database"
}

// encryptionKeyNodes returns the values naming the KMS key of a data store.
func encryptionKeyNodes(r *template.Resource) []*template.Node {
	switch r.Type {
	case bucketType:
		var out []*template.Node
		for _, rule := range r.PropertyPath("BucketEncryption", "ServerSideEncryptionConfiguration").List() {
			out = append(out, rule.Path("ServerSideEncryptionByDefault", "KMSMasterKeyID"))
		}
		return out
	case logGroupType, "AWS::RDS::DBInstance", "AWS::RDS::DBCluster":
		return []*template.Node{r.Property("KmsKeyId")}
	case "AWS::DynamoDB::Table":
		return []*template.Node{r.PropertyPath("SSESpecification", "KMSMasterKeyId")}
	}
	return nil
}

func checkEvidenceRetained(pass *analysis.Pass) {
	r := pass.Resource
	why, ok := retainedStoreReason(pass, r.Name)
	if !ok {
		return
	}
	want := "Retain"
	rds := strings.HasPrefix(r.Type, "AWS::RDS::")
	if rds {
		want = "Snapshot"
	}
	good := func(a template.Alt) bool {
		switch a.Text() {
		case "Retain", "RetainExceptOnCreate":
			return true
		case "Snapshot":
			return rds
		}
		return false
	}
	t := pass.Template
	type policy struct {
		key  string
		node *template.Node
	}
	var missing []string
	for _, p := range []policy{{"DeletionPolicy", r.DeletionPolicy}, {"UpdateReplacePolicy", r.UpdateReplacePolicy}} {
		if p.node == nil || p.node.Kind == template.Null {
			missing = append(missing, p.key)
			continue
		}
		verdict, witness := t.Eval(p.node).Judge(func(a template.Alt) bool { return a.Kind == template.Literal && !good(a) })
		if verdict == template.Pass {
			continue
		}
		f := analysis.Finding{
			Span:    p.node.Span,
			Message: storeLabel(r) + " " + r.Name + " has " + p.key + " " + witness.Text() + " although " + why + ": set it to " + want,
		}
		if p.node.Kind == template.Scalar {
			node := p.node
			f.Fixes = []analysis.Fix{pass.NewFix("Set "+p.key+": "+want, func(b *edit.Builder) { b.Replace(node, edit.Str(want)) })}
		}
		pass.ReportVerdict(verdict, witness, f)
	}
	if len(missing) == 0 || r.Value.Kind != template.Mapping {
		return
	}
	verb := "a stack deletion or a replacement deletes it"
	switch {
	case len(missing) == 1 && missing[0] == "DeletionPolicy":
		verb = "deleting the stack deletes it"
	case len(missing) == 1:
		verb = "an update that replaces it deletes it"
	}
	pass.Report(analysis.Finding{
		Span:    pass.KeySpan(),
		Message: storeLabel(r) + " " + r.Name + " has no " + strings.Join(missing, " or ") + " although " + why + ": " + verb + "; set " + strings.Join(missing, " and ") + " to " + want,
		Fixes: []analysis.Fix{pass.NewFix("Set "+strings.Join(missing, " and ")+": "+want, func(b *edit.Builder) {
			for _, k := range missing {
				b.Insert(r.Value, k, edit.Str(want))
			}
		})},
	})
}

// RetentionNotCentralised reports templates with audit stores but no
// AuditLogRetentionDays parameter.
var RetentionNotCentralised = &analysis.Rule{
	ID:       "SOC2-TPL-115",
	Title:    "Audit retention is not set in one parameter",
	Severity: analysis.Info,
	Controls: []string{"C1.2", "CC7.2"},
	Doc: `The template keeps audit evidence (trail, Config, flow-log or access-log buckets, audit log groups) but
has no ` + "`AuditLogRetentionDays`" + ` parameter. Each store then carries its own retention literal: the bucket
expires objects after 90 days, the log group after 365, and nothing shows which period the organisation
committed to.

**Why an auditor cares.** Retention and disposal (C1.2) are tested against a stated period, and monitoring
(CC7.2) against logs covering the whole audit period. One parameter that every audit store refers to is
evidence that the period is applied consistently, and a change to it is one reviewed line.

**How to fix.** Add a Number parameter ` + "`AuditLogRetentionDays`" + ` whose ` + "`AllowedValues`" + ` are the CloudWatch
Logs retention values of a year or more, and refer to it from ` + "`RetentionInDays`" + ` of audit log groups and from
the ` + "`ExpirationInDays`" + ` of audit buckets' lifecycle rules. The quick fix adds the parameter and rewrites the
literals that are not longer than its default, so that no evidence is kept for less time than before.`,
	Check: checkRetentionCentralised,
}

// auditRetentionDefault is the default of the AuditLogRetentionDays
// parameter that ensureParameter adds.
func auditRetentionDefault(o *analysis.Options) int {
	def := logRetentionValues[0]
	for _, v := range logRetentionValues {
		if v <= o.AuditLogRetentionDays {
			def = v
		}
	}
	return def
}

func checkRetentionCentralised(pass *analysis.Pass) {
	t := pass.Template
	if t.Parameter(paramAuditLogRetentionDays) != nil {
		return
	}
	type store struct {
		r   *template.Resource
		why string
	}
	var stores []store
	for b, why := range auditBuckets(pass) {
		stores = append(stores, store{t.Resource(b), "bucket " + b + ": " + why})
	}
	for g, why := range auditLogGroups(pass) {
		stores = append(stores, store{t.Resource(g), "log group " + g + ": " + why})
	}
	if len(stores) == 0 {
		return
	}
	sort.Slice(stores, func(i, j int) bool { return stores[i].r.Key.Start < stores[j].r.Key.Start })
	def := int64(auditRetentionDefault(pass.Options))
	var literals []*template.Node
	related := make([]analysis.Related, 0, len(stores))
	for _, s := range stores {
		related = append(related, analysis.Related{Span: s.r.Key.Span, Message: s.why})
		var nodes []*template.Node
		if s.r.Type == logGroupType {
			nodes = append(nodes, s.r.Property("RetentionInDays"))
		} else {
			for _, rule := range s.r.PropertyPath("LifecycleConfiguration", "Rules").List() {
				nodes = append(nodes, rule.Get("ExpirationInDays"))
			}
		}
		for _, n := range nodes {
			if d, ok := n.Int(); ok && n.IsScalar() && d <= def {
				literals = append(literals, n)
			}
		}
	}
	pass.Report(analysis.Finding{
		Span: pass.SectionSpan("Parameters"),
		Message: "the template keeps audit evidence in " + strconv.Itoa(len(stores)) + " " + plural(len(stores), "store") +
			" (first: " + stores[0].why + ") but has no " + paramAuditLogRetentionDays +
			" parameter: set the retention once and refer to it, so that the stores cannot disagree",
		Related: related,
		Fixes: []analysis.Fix{pass.NewFix("Add an "+paramAuditLogRetentionDays+" parameter and use it for audit retention", func(b *edit.Builder) {
			name := ensureParameter(pass, b, paramAuditLogRetentionDays)
			for _, n := range literals {
				b.Replace(n, edit.Ref(name))
			}
		})},
	})
}

// GlobalResourcesNotGated reports account-global resources of a
// multi-region template that every region would create.
var GlobalResourcesNotGated = &analysis.Rule{
	ID:       "SOC2-TPL-113",
	Title:    "Account-global resource is not limited to the primary region",
	Severity: analysis.Warning,
	Controls: []string{"CC7.2", "CC8.1"},
	Doc: `The template is meant for several regions (it has a ` + "`PrimaryRegion`" + ` parameter, or its ` + "`Metadata`" + `
says ` + "`soc2ls: {deployment: multi-region}`" + `), yet something that should exist once per account is created in
every region: a multi-region trail whose condition does not select the primary region, a Config recorder
with ` + "`IncludeGlobalResourceTypes: true`" + ` outside an ` + "`!If [IsPrimaryRegion, ...]`" + `, or an IAM role, user, group,
policy or instance profile with a fixed name (IAM names are account-wide, so the second region fails).

**Why an auditor cares.** Monitoring (CC7.2) should record each event once: a multi-region trail per region
delivers every event many times, inflating cost and making the evidence harder to read, and global resources
recorded in every region do the same to the configuration history. Stacks that fail in their second region
get fixed by hand, outside the reviewed template (CC8.1).

**How to fix.** Gate the trail with a condition that includes ` + "`IsPrimaryRegion`" + ` (for example
` + "`CreateTrailInPrimary: !And [!Condition CreateCloudTrail, !Condition IsPrimaryRegion]`" + `), record global types
with ` + "`!If [IsPrimaryRegion, true, false]`" + `, and put ` + "`${AWS::Region}`" + ` in IAM names or create the IAM resources
only in the primary region.`,
	Check: checkGlobalResourcesGated,
}

func checkGlobalResourcesGated(pass *analysis.Pass) {
	t, o := pass.Template, pass.Options
	hasParam := t.Parameter(o.PrimaryRegionParameter) != nil
	if !hasParam && !strings.EqualFold(t.Section("Metadata").Path("soc2ls", "deployment").Text(), "multi-region") {
		return
	}
	regional := func(r *template.Resource) bool {
		return r.Condition != "" && conditionSelectsRegion(t, r.Condition, 0)
	}
	for _, s := range regionScopedResources(pass) {
		r := s.r
		if regional(r) {
			continue
		}
		switch r.Type {
		case trailType:
			f := analysis.Finding{
				Resource: r.Name,
				Span:     r.Key.Span,
				Message:  "trail " + r.Name + " records every region but every region of the deployment creates it: create it only where " + condIsPrimaryRegion + " holds",
			}
			if r.ConditionNode != nil {
				f.Span = r.ConditionNode.Span
				f.Message = "trail " + r.Name + " records every region but its condition " + r.Condition + " does not select the primary region: combine it with " + condIsPrimaryRegion
			}
			fix := gateFix(pass, r, "Create trail "+r.Name+" only in the primary region", func(b *edit.Builder) string {
				return ensureCondition(pass, b, condIsPrimaryRegion)
			})
			if !hasParam {
				fix.Title += " (adds " + o.PrimaryRegionParameter + " with default " + primaryRegionDefault(t) + ": check it)"
				fix.Unsafe = true
			}
			f.Fixes = []analysis.Fix{fix}
			pass.Report(f)
		case "AWS::Config::ConfigurationRecorder":
			n := r.PropertyPath("RecordingGroup", "IncludeGlobalResourceTypes")
			if items := n.Arg.List(); n.IsFn("Fn::If") && len(items) == 3 && conditionSelectsRegion(t, items[0].Text(), 0) {
				continue
			}
			f := analysis.Finding{
				Resource: r.Name,
				Span:     n.Span,
				Message:  "Config recorder " + r.Name + " records global resource types in every region: use !If [" + condIsPrimaryRegion + ", true, false] so that only the primary region records them",
			}
			if n.IsScalar() {
				fix := pass.NewFix("Record global resource types only in the primary region", func(b *edit.Builder) {
					b.Replace(n, edit.If(ensureCondition(pass, b, condIsPrimaryRegion), edit.Bool(true), edit.Bool(false)))
				})
				if !hasParam {
					fix.Title += " (adds " + o.PrimaryRegionParameter + " with default " + primaryRegionDefault(t) + ": check it)"
					fix.Unsafe = true
				}
				f.Fixes = []analysis.Fix{fix}
			}
			pass.Report(f)
		}
	}
	for _, r := range resourcesOfTypes(t, iamNamedTypes...) {
		prop := iamNameProperty[r.Type]
		if prop == "" || regional(r) {
			continue
		}
		n := r.Property(prop)
		fixed := false
		switch {
		case isLiteral(n):
			fixed = true
		case n.IsFn("Fn::Sub"):
			parts, _, ok := template.Sub(n)
			fixed = ok
			for _, p := range parts {
				if p.Var == "AWS::Region" {
					fixed = false
				}
			}
		}
		if !fixed {
			continue
		}
		pass.Report(analysis.Finding{
			Resource: r.Name,
			Span:     n.Span,
			Message: r.Name + " has an account-wide IAM name (" + prop + ") without ${AWS::Region}: the stack fails in its second region; " +
				"put ${AWS::Region} in the name or create it only where " + condIsPrimaryRegion + " holds",
		})
	}
}

// EnvironmentNotUsed reports an Environment parameter that the template
// does not really use: environment tags stay literal, or no condition
// depends on it while production-sensitive settings are hardcoded.
var EnvironmentNotUsed = &analysis.Rule{
	ID:       "SOC2-TPL-114",
	Title:    "Environment parameter does not drive tags or production settings",
	Severity: analysis.Info,
	Controls: []string{"CC8.1", "A1.2"},
	Doc: `The template has an ` + "`Environment`" + ` parameter but does not use it where it matters: some environment
tags are still literals, or no condition depends on the parameter while production-sensitive settings are
hardcoded to values fit only for development (RDS ` + "`DeletionProtection: false`" + `, ` + "`MultiAZ: false`" + `, a backup
retention under the minimum; DynamoDB point-in-time recovery off; an audit log group keeping its events less
than the audit retention). Deployed as production, the stack silently gets the development settings.

**Why an auditor cares.** Change management (CC8.1) trusts one template promoted through the stages; that
only works if the stage parameter actually changes what must differ. Backup and recovery protections (A1.2)
that are off in the template are off in production.

**How to fix.** Refer to the parameter in tags (` + "`!Ref Environment`" + `), add an ` + "`IsProduction`" + ` condition and write
the sensitive settings as ` + "`!If [IsProduction, <production value>, <other value>]`" + `. The quick fixes do both,
keeping the current value for the other stages.`,
	Check: checkEnvironmentUsed,
}

// stageSetting is a production-sensitive setting written with a value fit
// only outside production.
type stageSetting struct {
	r    *template.Resource
	what string // e.g. "DeletionProtection"
	node *template.Node
	prod edit.Value
}

// stageSettings returns the production-sensitive settings hardcoded to
// non-production values, in document order.
func stageSettings(pass *analysis.Pass) []stageSetting {
	t, o := pass.Template, pass.Options
	var out []stageSetting
	isFalse := func(n *template.Node) bool { v, ok := n.Bool(); return isLiteral(n) && ok && !v }
	below := func(n *template.Node, min int) bool { v, ok := n.Int(); return isLiteral(n) && ok && v < int64(min) }
	audit := auditLogGroups(pass)
	for _, r := range resourcesOfTypes(t, "AWS::RDS::DBInstance", "AWS::RDS::DBCluster", "AWS::DynamoDB::Table", logGroupType) {
		add := func(what string, n *template.Node, prod edit.Value) {
			out = append(out, stageSetting{r, what, n, prod})
		}
		switch r.Type {
		case "AWS::RDS::DBInstance", "AWS::RDS::DBCluster":
			if r.Property("DBClusterIdentifier") != nil {
				continue
			}
			if n := r.Property("DeletionProtection"); isFalse(n) {
				add("DeletionProtection", n, edit.Bool(true))
			}
			if n := r.Property("MultiAZ"); r.Type == "AWS::RDS::DBInstance" && isFalse(n) {
				add("MultiAZ", n, edit.Bool(true))
			}
			if n := r.Property("BackupRetentionPeriod"); below(n, o.MinBackupRetentionDays) {
				add("BackupRetentionPeriod", n, edit.Int(o.MinBackupRetentionDays))
			}
		case "AWS::DynamoDB::Table":
			if n := r.PropertyPath("PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"); isFalse(n) {
				add("PointInTimeRecoveryEnabled", n, edit.Bool(true))
			}
		case logGroupType:
			if _, ok := audit[r.Name]; ok {
				if n := r.Property("RetentionInDays"); below(n, o.AuditLogRetentionDays) {
					add("RetentionInDays", n, edit.Int(retentionAtLeast(o.AuditLogRetentionDays)))
				}
			}
		}
	}
	return out
}

// isAre returns "word is" or "words are".
func isAre(n int, word string) string {
	if n == 1 {
		return word + " is"
	}
	return word + "s are"
}

// literalValue rewrites a scalar as the value it stands for.
func literalValue(n *template.Node) edit.Value {
	if v, ok := n.Bool(); ok {
		return edit.Bool(v)
	}
	if v, ok := n.Int(); ok {
		return edit.Int(int(v))
	}
	return edit.Str(n.Value)
}

func checkEnvironmentUsed(pass *analysis.Pass) {
	t := pass.Template
	name := pass.Options.EnvironmentParameter
	p := t.Parameter(name)
	if p == nil {
		return
	}
	if tags := environmentLiterals(pass, true); len(tags) > 0 {
		first := tags[0]
		pass.Report(analysis.Finding{
			Span: p.Key.Span,
			Message: fmt.Sprintf("parameter %s exists but %d environment %s still literal (first: %q): refer to the parameter",
				name, len(tags), isAre(len(tags), "tag"), first.Value),
			Related: []analysis.Related{{Span: first.Span, Message: fmt.Sprintf("literal environment tag %q", first.Value)}},
			Fixes: []analysis.Fix{pass.NewFix("Use !Ref "+name+" in every environment tag", func(b *edit.Builder) {
				useEnvironmentParameter(pass, b, environmentTagLiterals(pass))
			})},
		})
	}
	for _, c := range t.AllConditions() {
		if conditionUses(t, c.Name, name, 0) {
			return
		}
	}
	settings := stageSettings(pass)
	if len(settings) == 0 {
		return
	}
	related := make([]analysis.Related, 0, len(settings))
	for _, s := range settings {
		related = append(related, analysis.Related{Span: s.node.Span, Message: s.what + " of " + s.r.Name})
	}
	first := settings[0]
	pass.Report(analysis.Finding{
		Span: p.Key.Span,
		Message: fmt.Sprintf("no condition depends on parameter %s, while %d production-sensitive %s hardcoded to non-production values (first: %s: %s on %s): choose them with !If [%s, ...]",
			name, len(settings), isAre(len(settings), "setting"), first.what, first.node.Value, first.r.Name, condIsProduction),
		Related: related,
		Fixes: []analysis.Fix{pass.NewFix("Add "+condIsProduction+" and use production values there", func(b *edit.Builder) {
			cond := ensureCondition(pass, b, condIsProduction)
			for _, s := range settings {
				b.Replace(s.node, edit.If(cond, s.prod, literalValue(s.node)))
			}
		})},
	})
}

var templateRules = []*analysis.Rule{RegionLiteralInCondition, HardcodedArnOrZone, EvidenceNotRetained, GlobalResourcesNotGated, EnvironmentNotUsed, RetentionNotCentralised}
