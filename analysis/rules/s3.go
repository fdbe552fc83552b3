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
	bucketType       = "AWS::S3::Bucket"
	bucketPolicyType = "AWS::S3::BucketPolicy"
)

// S3DenyInsecureTransport reports buckets whose policy does not refuse
// plain-HTTP requests.
var S3DenyInsecureTransport = &analysis.Rule{
	ID:       "SOC2-S3-001",
	Title:    "S3 bucket accepts requests without TLS",
	Severity: analysis.Error,
	Controls: []string{"CC6.7", "CC6.1"},
	Types:    []string{bucketType},
	Doc: `S3 answers plain-HTTP requests unless the bucket policy refuses them. Without a statement that
denies every request where ` + "`aws:SecureTransport`" + ` is false, data can travel to and from the bucket
unencrypted, and credentials signed into those requests can be observed on the network path.

**Why an auditor cares.** CC6.7 expects data in transit to be protected; the bucket policy is the only
place where S3 can enforce it, and it is the first thing sampled for buckets that hold customer,
financial or audit data.

**How to fix.** Give the bucket an ` + "`AWS::S3::BucketPolicy`" + ` with a statement that denies ` + "`s3:*`" + ` to
every principal when ` + "`aws:SecureTransport`" + ` is ` + "`false`" + `, on both the bucket ARN and ` + "`<arn>/*`" + `.
The quick fix adds the statement to the bucket's existing policy, or creates the policy (a bucket can
have only one).`,
	Check: checkBucketTLS,
}

func checkBucketTLS(pass *analysis.Pass) {
	t, bucket := pass.Template, pass.Resource
	policies := policiesOf(pass, bucket)
	for _, pol := range policies {
		for _, st := range statements(pol.Property("PolicyDocument")) {
			if deniesInsecureTransport(t, st, bucket) {
				return
			}
		}
	}
	f := analysis.Finding{Span: pass.KeySpan()}
	switch len(policies) {
	case 0:
		f.Message = "bucket " + bucket.Name + " accepts plain-HTTP requests: no bucket policy denies requests where aws:SecureTransport is false"
		f.Fixes = []analysis.Fix{pass.NewFix("Add a bucket policy that denies requests without TLS", func(b *edit.Builder) {
			name := uniqueLogicalID(t, bucket.Name+"Policy")
			res := []edit.KV{{Key: "Type", Value: edit.Str(bucketPolicyType)}}
			if bucket.Condition != "" {
				res = append(res, edit.KV{Key: "Condition", Value: edit.Str(bucket.Condition)})
			}
			res = append(res, edit.KV{Key: "Properties", Value: edit.Map(
				edit.KV{Key: "Bucket", Value: edit.Ref(bucket.Name)},
				edit.KV{Key: "PolicyDocument", Value: edit.Map(
					edit.KV{Key: "Version", Value: edit.Str("2012-10-17")},
					edit.KV{Key: "Statement", Value: edit.List(denyInsecureTransportStatement(bucket.Name))},
				)},
			)})
			b.AddEntry("Resources", name, edit.Map(res...))
		})}
	default:
		pol := policies[0]
		f.Message = "bucket " + bucket.Name + " accepts plain-HTTP requests: its policy " + pol.Name + " has no statement denying requests where aws:SecureTransport is false"
		f.Related = []analysis.Related{{Span: pol.Key.Span, Message: "bucket policy " + pol.Name}}
		if st := pol.PropertyPath("PolicyDocument", "Statement"); st != nil && st.Kind == template.Sequence {
			f.Fixes = []analysis.Fix{pass.NewFix("Add a statement denying requests without TLS to "+pol.Name, func(b *edit.Builder) {
				b.Append(st, denyInsecureTransportStatement(bucket.Name))
			})}
		}
	}
	pass.Report(f)
}

// denyInsecureTransportStatement is the policy statement that refuses every
// request made without TLS, on the bucket and its objects.
func denyInsecureTransportStatement(bucket string) edit.Value {
	return edit.Map(
		edit.KV{Key: "Sid", Value: edit.Str("DenyInsecureTransport")},
		edit.KV{Key: "Effect", Value: edit.Str("Deny")},
		edit.KV{Key: "Principal", Value: edit.Str("*")},
		edit.KV{Key: "Action", Value: edit.Str("s3:*")},
		edit.KV{Key: "Resource", Value: edit.List(edit.GetAtt(bucket, "Arn"), edit.Sub("${"+bucket+".Arn}/*"))},
		edit.KV{Key: "Condition", Value: edit.Map(edit.KV{Key: "Bool", Value: edit.Map(
			edit.KV{Key: "aws:SecureTransport", Value: edit.Str("false")})})},
	)
}

// bucketPolicies maps each bucket's logical id to the names of the bucket
// policies whose Bucket designates it.
var bucketPolicies = &analysis.Fact{Key: "bucketPolicies", Compute: func(pass *analysis.Pass) any {
	out := map[string][]string{}
	for _, g := range pass.Gather(policyBucket) {
		b := g.Value.(string)
		out[b] = append(out[b], g.Name)
	}
	return out
}}

// policyBucket is the in-template bucket a bucket policy's Bucket
// designates, gathered per policy so that an edit of one policy recomputes
// its own.
var policyBucket = &analysis.ResourceFact{Key: "policyBucket", Compute: func(pass *analysis.Pass) any {
	p := pass.Resource
	if p.Type != bucketPolicyType {
		return nil
	}
	if b := resolveNameOfType(pass, p.Property("Bucket"), bucketType); b != "" {
		return b
	}
	return nil
}}

// policiesOf returns the bucket policies of a bucket (none for nil), in
// document order. The check depends on those policies, not on every one.
func policiesOf(pass *analysis.Pass, bucket *template.Resource) []*template.Resource {
	if bucket == nil {
		return nil
	}
	names, _ := analysis.FactAt[[]string](pass, bucketPolicies, bucket.Name)
	out := make([]*template.Resource, 0, len(names))
	for _, name := range names {
		out = append(out, pass.Template.Resource(name))
	}
	return out
}

// deniesInsecureTransport reports whether a statement denies all S3 actions
// to everyone without TLS, on both the bucket and its objects.
func deniesInsecureTransport(t *template.Template, st *template.Node, bucket *template.Resource) bool {
	if effect(st) != "deny" || !isWildcardPrincipal(st) || !actionsCover(st, "s3:*") {
		return false
	}
	secure := t.Eval(conditionValue(st, "Bool", "aws:SecureTransport"))
	if verdict, _ := secure.Judge(func(a template.Alt) bool {
		b, ok := a.Bool()
		return ok && !b
	}); verdict != template.Definite {
		return false
	}
	var bucketCovered, objectsCovered bool
	for _, r := range st.Get("Resource").List() {
		s, ok := bucketARNPattern(t, r, bucket)
		if !ok {
			continue
		}
		bucketCovered = bucketCovered || globMatch(s, bucketPlaceholderARN)
		objectsCovered = objectsCovered || globMatch(s, bucketPlaceholderARN+"/key")
	}
	return bucketCovered && objectsCovered
}

const bucketPlaceholderARN = "arn:aws:s3:::\x00bucket"

// bucketARNPattern renders a policy Resource entry as an ARN pattern in
// which references to the bucket (GetAtt B.Arn, Ref B, ${B}, ${B.Arn}, its
// literal name) are replaced by a placeholder, so that it can be matched
// against the bucket's ARN and object ARNs.
func bucketARNPattern(t *template.Template, n *template.Node, bucket *template.Resource) (string, bool) {
	name := bucket.Property("BucketName").Text()
	bucketARN := bucketPlaceholderARN
	switch {
	case n.IsScalar():
		s := n.Value
		if name != "" {
			s = strings.ReplaceAll(s, ":::"+name, ":::\x00bucket")
		}
		return normalizePartition(s), true
	case n.IsFn("Fn::GetAtt"):
		res, attr, _, ok := template.GetAtt(n)
		if ok && res == bucket.Name && attr == "Arn" {
			return bucketARN, true
		}
	case n.IsFn("Fn::Sub"):
		parts, _, ok := template.Sub(n)
		if !ok {
			return "", false
		}
		var b strings.Builder
		for _, p := range parts {
			switch p.Var {
			case "":
				b.WriteString(p.Literal)
			case bucket.Name + ".Arn":
				b.WriteString(bucketARN)
			case bucket.Name:
				b.WriteString("\x00bucket")
			case "AWS::Partition":
				b.WriteString("aws")
			default:
				b.WriteString("\x00other")
			}
		}
		return normalizePartition(b.String()), true
	case n.IsFn("Fn::Join"):
		a := n.Arg
		if a.Kind != template.Sequence || len(a.Items) != 2 || a.Items[1].Kind != template.Sequence {
			return "", false
		}
		var parts []string
		for _, it := range a.Items[1].Items {
			s, ok := bucketARNPattern(t, it, bucket)
			if !ok {
				if refTarget(it) == bucket.Name {
					s, ok = "\x00bucket", true
				} else if refTarget(it) == "AWS::Partition" {
					s, ok = "aws", true
				}
			}
			if !ok {
				return "", false
			}
			parts = append(parts, s)
		}
		return normalizePartition(strings.Join(parts, a.Items[0].Text())), true
	}
	return "", false
}

// normalizePartition rewrites arn:aws-cn: and arn:aws-us-gov: to arn:aws:
// so that one pattern matches every partition.
func normalizePartition(s string) string {
	for _, p := range []string{"arn:aws-cn:", "arn:aws-us-gov:", "arn:aws-iso:", "arn:aws-iso-b:"} {
		s = strings.ReplaceAll(s, p, "arn:aws:")
	}
	return s
}

// ---------------------------------------------------------------------------
// Shared by the bucket rules S3-002 ... S3-008 and TPL-112.

// evalPath evaluates the value at a path of keys below n, seeing through
// intrinsics at every level (an Fn::If choosing between two blocks, a Ref
// AWS::NoValue for a whole block): every alternative keeps the conditions
// and the parameter of the levels above it. A scalar where a mapping is
// expected is Unknown (it is not the rule's business to flag it).
func evalPath(t *template.Template, n *template.Node, path ...string) template.Value {
	v := t.Eval(n)
	for _, k := range path {
		var next template.Value
		for _, a := range v {
			switch {
			case a.Kind == template.Literal && a.Node.Kind == template.Mapping:
				for _, c := range t.Eval(a.Node.Get(k)) {
					if len(a.Conds) > 0 {
						c.Conds = append(append([]template.CondAssumption(nil), a.Conds...), c.Conds...)
					}
					if c.Param == "" {
						c.Param, c.Default = a.Param, a.Default
					}
					next = append(next, c)
				}
			case a.Kind == template.Literal:
				next = append(next, template.Alt{Kind: template.Unknown, Node: a.Node, Conds: a.Conds})
			default:
				next = append(next, a)
			}
		}
		v = next
	}
	return v
}

// allLiteral reports whether every alternative of v is a literal.
func allLiteral(v template.Value) bool {
	for _, a := range v {
		if a.Kind != template.Literal {
			return false
		}
	}
	return len(v) > 0
}

// isAbsent reports whether an alternative is Absent.
func isAbsent(a template.Alt) bool { return a.Kind == template.Absent }

// propertyAnchor returns the span a finding about the property at path
// should cover: the value when it is written, else the key of the deepest
// pair that exists on the path, else the resource's logical id.
func propertyAnchor(pass *analysis.Pass, path ...string) template.Span {
	r := pass.Resource
	span := pass.KeySpan()
	m := r.Properties
	for _, k := range path {
		p := m.Pair(k)
		if p == nil {
			return span
		}
		span = p.Key.Span
		if p.Value.Kind == template.Null {
			return span
		}
		m = p.Value
	}
	return m.Span
}

// editableInPlace reports whether the value at path below the resource's
// Properties is written in place: every level above it a mapping (or
// missing), and the value itself missing or a scalar. Fixes are offered only
// then, so that they never rewrite a parameter or a condition the author
// chose.
func editableInPlace(r *template.Resource, path ...string) bool {
	m := r.Properties
	if m != nil && m.Kind != template.Mapping && m.Kind != template.Null {
		return false
	}
	for i, k := range path {
		n := m.Get(k)
		if n == nil || n.Kind == template.Null {
			return true
		}
		if i == len(path)-1 {
			return n.Kind == template.Scalar
		}
		if n.Kind != template.Mapping {
			return false
		}
		m = n
	}
	return true
}

// trailBuckets maps each in-template bucket that a trail writes to, to the
// trails writing there (TPL-112: their posture findings count one level
// higher).
func trailBuckets(pass *analysis.Pass) map[*template.Resource][]*template.Resource {
	return pass.Memo("trailBuckets", func() any {
		t := pass.Template
		out := map[*template.Resource][]*template.Resource{}
		for _, tr := range t.ResourcesOfType(trailType) {
			if b := resolveOfType(pass, tr.Property("S3BucketName"), bucketType); b != nil {
				out[b] = append(out[b], tr)
			}
		}
		return out
	}).(map[*template.Resource][]*template.Resource)
}

// isLogTarget reports whether bucket name receives access logs (S3 server
// access logs and load-balancer access logs). Both services write with
// SSE-S3 only and need the bucket to stay a plain log sink, so some rules
// skip them. The check depends on that bucket's entry of the fact only.
func isLogTarget(pass *analysis.Pass, name string) bool {
	on, _ := analysis.FactAt[bool](pass, logTargetsFact, name)
	return on
}

var logTargetsFact = &analysis.Fact{Key: "s3LogTargets", Compute: func(pass *analysis.Pass) any {
	t := pass.Template
	out := map[string]bool{}
	for b := range accessLogTargets(pass) {
		out[b] = true
	}
	for _, lb := range t.ResourcesOfType(loadBalancerType) {
		for _, a := range lb.Property("LoadBalancerAttributes").List() {
			if a.Get("Key").Text() == "access_logs.s3.bucket" {
				if b := resolveNameOfType(pass, a.Get("Value"), bucketType); b != "" {
					out[b] = true
				}
			}
		}
	}
	return out
}}

// auditNote returns " (audit evidence: <why>)" for audit-log buckets, or "".
func auditNote(pass *analysis.Pass, r *template.Resource) string {
	if why, ok := auditBucketReason(pass, r.Name); ok {
		return " (it holds audit evidence: " + why + ")"
	}
	return ""
}

// isAuditBucket reports whether the bucket receives audit evidence.
func isAuditBucket(pass *analysis.Pass, r *template.Resource) bool {
	_, ok := auditBucketReason(pass, r.Name)
	return ok
}

// trailEscalation raises sev one level for a bucket a trail writes to
// (TPL-112: the trail bucket is the primary audit-evidence store).
func trailEscalation(pass *analysis.Pass, r *template.Resource, sev analysis.Severity) analysis.Severity {
	if len(trailBuckets(pass)[r]) > 0 {
		return sev.Raise()
	}
	return sev
}

// ---------------------------------------------------------------------------
// SOC2-S3-002

var publicAccessFlags = []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"}

// S3PublicAccessBlock reports buckets that do not block public access at
// the bucket level.
var S3PublicAccessBlock = &analysis.Rule{
	ID:       "SOC2-S3-002",
	Title:    "S3 bucket does not block public access",
	Severity: analysis.Error,
	Controls: []string{"CC6.1", "CC6.6"},
	Types:    []string{bucketType},
	Doc: `The bucket's ` + "`PublicAccessBlockConfiguration`" + ` is missing, or one of its four flags
(` + "`BlockPublicAcls`" + `, ` + "`BlockPublicPolicy`" + `, ` + "`IgnorePublicAcls`" + `, ` + "`RestrictPublicBuckets`" + `) is
not ` + "`true`" + `. A flag that is left out counts as false. Without all four, a later ACL or policy
change (a console click, a careless deployment) can make objects readable from the internet, and
nothing in the bucket stops it.

**Why an auditor cares.** Logical access (CC6.1) and boundary protection (CC6.6) are tested by looking
for public exposure of data stores. The bucket-level block is the control that makes "no public
bucket" hold by construction rather than by everyone being careful.

**How to fix.** Set all four flags to ` + "`true`" + `. Buckets that must serve content publicly should
sit behind CloudFront with origin access control instead of being opened up.`,
	Check: checkPublicAccessBlock,
}

func checkPublicAccessBlock(pass *analysis.Pass) {
	t, r := pass.Template, pass.Resource
	const block = "PublicAccessBlockConfiguration"
	fixAll := func() []analysis.Fix {
		if !editableInPlace(r, block) && r.Property(block).Kind != template.Mapping {
			return nil
		}
		return []analysis.Fix{pass.NewFix("Block all public access to bucket "+r.Name, func(b *edit.Builder) {
			setPublicAccessBlock(b, r)
		})}
	}
	verdict, witness := evalPath(t, r.Properties, block).Judge(isAbsent)
	if verdict != template.Pass {
		f := analysis.Finding{
			Span:    propertyAnchor(pass, block),
			Message: "bucket " + r.Name + " does not block public access: set PublicAccessBlockConfiguration with " + strings.Join(publicAccessFlags, ", ") + " all true",
		}
		if verdict == template.Definite {
			f.Fixes = fixAll()
		}
		pass.ReportVerdict(verdict, witness, f)
		return
	}
	var bad []string
	worst, first := template.Pass, template.Alt{}
	for _, flag := range publicAccessFlags {
		v, w := evalPath(t, r.Properties, block, flag).Judge(func(a template.Alt) bool {
			if a.Kind == template.Absent {
				return true
			}
			on, ok := a.Bool()
			return ok && !on
		})
		if v == template.Pass {
			continue
		}
		bad = append(bad, flag)
		if v > worst {
			worst, first = v, w
		}
	}
	if worst == template.Pass {
		return
	}
	span := r.Properties.Pair(block).Key.Span
	if len(bad) == 1 {
		span = propertyAnchor(pass, block, bad[0])
	}
	verb := "is"
	if len(bad) > 1 {
		verb = "are"
	}
	f := analysis.Finding{
		Span:    span,
		Message: "bucket " + r.Name + " does not fully block public access: " + strings.Join(bad, ", ") + " " + verb + " not true in PublicAccessBlockConfiguration; set all four flags to true",
	}
	if r.Property(block).Kind == template.Mapping {
		inPlace := true
		for _, flag := range bad {
			inPlace = inPlace && editableInPlace(r, block, flag)
		}
		if inPlace {
			f.Fixes = fixAll()
		}
	}
	pass.ReportVerdict(worst, first, f)
}

// setPublicAccessBlock sets the four public-access flags of a bucket to true.
func setPublicAccessBlock(b *edit.Builder, r *template.Resource) {
	const block = "PublicAccessBlockConfiguration"
	m := r.Property(block)
	if m == nil || m.Kind != template.Mapping {
		kvs := make([]edit.KV, 0, len(publicAccessFlags))
		for _, flag := range publicAccessFlags {
			kvs = append(kvs, edit.KV{Key: flag, Value: edit.Bool(true)})
		}
		setProperty(b, r, edit.Map(kvs...), block)
		return
	}
	for _, flag := range publicAccessFlags {
		if on, ok := m.Get(flag).Bool(); !ok || !on {
			b.Set(m, flag, edit.Bool(true))
		}
	}
}

// ---------------------------------------------------------------------------
// SOC2-S3-003

// S3DefaultEncryption reports buckets without an explicit default
// encryption, and audit or confidential buckets not encrypted with a
// customer-managed KMS key.
var S3DefaultEncryption = &analysis.Rule{
	ID:       "SOC2-S3-003",
	Title:    "S3 bucket encryption is implicit or not under a customer-managed key",
	Severity: analysis.Warning,
	Controls: []string{"CC6.1", "C1.1", "PI1.4"},
	Types:    []string{bucketType},
	Doc: `Checks the bucket's ` + "`BucketEncryption`" + `. S3 encrypts new objects with S3-managed keys (SSE-S3)
by default since January 2023, so a bucket without the property is still encrypted: that case is only
**info**, because an explicit setting documents the intent and survives a change of defaults. Buckets
that hold audit evidence (trail, Config, flow-log destinations, or tagged ` + "`DataClassification: audit`" + `)
or confidential data (tagged ` + "`confidential`" + `, ` + "`restricted`" + `, ...) get a **warning** unless they use
` + "`aws:kms`" + ` (or ` + "`aws:kms:dsse`" + `) with a customer-managed key in ` + "`KMSMasterKeyID`" + `. Buckets
that receive S3 server access logs or load-balancer access logs are exempt from the key requirement:
those services can only write to SSE-S3 buckets.

**Why an auditor cares.** CC6.1 and C1.1 expect sensitive data to be encrypted at rest with keys the
organisation controls. With a customer-managed key, reading the data needs a key-policy grant as well
as S3 access, key use is logged in CloudTrail, and the key can be disabled in an incident; none of
that is true of S3-managed keys.

**How to fix.** Set ` + "`SSEAlgorithm: aws:kms`" + `, ` + "`KMSMasterKeyID`" + ` to the audit or data key and
` + "`BucketKeyEnabled: true`" + ` (fewer KMS calls). The quick fix uses the template's audit key (adding the
statements the writing service needs) or adds one. For ordinary buckets it writes ` + "`SSEAlgorithm: AES256`" + `.`,
	Check: checkBucketEncryption,
}

func checkBucketEncryption(pass *analysis.Pass) {
	t, r := pass.Template, pass.Resource
	why, audit := auditBucketReason(pass, r.Name)
	sensitive := (audit || isConfidential(r)) && !isLogTarget(pass, r.Name)
	if !audit && isConfidential(r) {
		why = "it is tagged DataClassification: " + tagValue(r, "DataClassification")
	}
	const enc = "BucketEncryption"
	verdict, witness := evalPath(t, r.Properties, enc).Judge(isAbsent)
	if verdict != template.Pass {
		f := analysis.Finding{Span: propertyAnchor(pass, enc), Severity: analysis.Info,
			Message: "bucket " + r.Name + " does not declare its default encryption: set BucketEncryption (S3 applies SSE-S3 by default, an explicit setting documents it)"}
		if sensitive {
			f.Severity = analysis.Warning
			f.Message = "bucket " + r.Name + " holds sensitive data (" + why + ") but declares no default encryption: encrypt it with a customer-managed KMS key (BucketEncryption with SSEAlgorithm aws:kms and KMSMasterKeyID)"
		}
		if verdict == template.Definite && editableInPlace(r, enc) {
			title := "Encrypt bucket " + r.Name + " with SSE-S3 (AES256)"
			if sensitive {
				title = "Encrypt bucket " + r.Name + " with the audit KMS key"
			}
			f.Fixes = []analysis.Fix{pass.NewFix(title, func(b *edit.Builder) {
				write := func(byDefault edit.Value, extra ...edit.KV) {
					rule := append([]edit.KV{{Key: "ServerSideEncryptionByDefault", Value: byDefault}}, extra...)
					setProperty(b, r, edit.Map(edit.KV{Key: "ServerSideEncryptionConfiguration", Value: edit.List(edit.Map(rule...))}), enc)
				}
				if !sensitive {
					write(edit.Map(edit.KV{Key: "SSEAlgorithm", Value: edit.Str("AES256")}))
					return
				}
				write(edit.Map(
					edit.KV{Key: "SSEAlgorithm", Value: edit.Str("aws:kms")},
					edit.KV{Key: "KMSMasterKeyID", Value: bucketKey(pass, b, r)}),
					edit.KV{Key: "BucketKeyEnabled", Value: edit.Bool(true)})
			})}
		}
		pass.ReportVerdict(verdict, witness, f)
		return
	}
	if !sensitive {
		return
	}
	conf := r.PropertyPath(enc, "ServerSideEncryptionConfiguration")
	for _, item := range conf.List() {
		byDefault := item.Get("ServerSideEncryptionByDefault")
		algo := evalPath(t, item, "ServerSideEncryptionByDefault", "SSEAlgorithm")
		v, w := algo.Judge(func(a template.Alt) bool {
			s := strings.ToLower(a.Text())
			return a.Kind == template.Literal && s != "aws:kms" && s != "aws:kms:dsse"
		})
		if v != template.Pass {
			algoNode := byDefault.Get("SSEAlgorithm")
			f := analysis.Finding{Span: algoNode.Span,
				Message: "bucket " + r.Name + " holds sensitive data (" + why + ") but is encrypted with S3-managed keys: use SSEAlgorithm aws:kms with a customer-managed key in KMSMasterKeyID"}
			if v == template.Definite && algoNode.IsScalar() && byDefault.Kind == template.Mapping {
				f.Fixes = []analysis.Fix{pass.NewFix("Encrypt bucket "+r.Name+" with the audit KMS key", func(b *edit.Builder) {
					b.Replace(algoNode, edit.Str("aws:kms"))
					b.Set(byDefault, "KMSMasterKeyID", bucketKey(pass, b, r))
					if item.Kind == template.Mapping && item.Get("BucketKeyEnabled") == nil {
						b.Insert(item, "BucketKeyEnabled", edit.Bool(true))
					}
				})}
			}
			pass.ReportVerdict(v, w, f)
			continue
		}
		if !allLiteral(algo) {
			continue // the algorithm is not known to be aws:kms: nothing to say about its key
		}
		key := evalPath(t, item, "ServerSideEncryptionByDefault", "KMSMasterKeyID")
		v, w = key.Judge(func(a template.Alt) bool {
			return a.Kind == template.Absent || (a.Kind == template.Literal && strings.EqualFold(a.Text(), "alias/aws/s3"))
		})
		if v == template.Pass {
			continue
		}
		f := analysis.Finding{Span: propertyAnchorNode(byDefault.Pair("KMSMasterKeyID"), byDefault.Pair("SSEAlgorithm")),
			Message: "bucket " + r.Name + " holds sensitive data (" + why + ") but uses the AWS-managed aws/s3 key: set KMSMasterKeyID to a customer-managed key"}
		if k := byDefault.Get("KMSMasterKeyID"); v == template.Definite && byDefault.Kind == template.Mapping && (k == nil || k.Kind == template.Scalar || k.Kind == template.Null) {
			f.Fixes = []analysis.Fix{pass.NewFix("Use the audit KMS key for bucket "+r.Name, func(b *edit.Builder) {
				b.Set(byDefault, "KMSMasterKeyID", bucketKey(pass, b, r))
				if item.Kind == template.Mapping && item.Get("BucketKeyEnabled") == nil {
					b.Insert(item, "BucketKeyEnabled", edit.Bool(true))
				}
			})}
		}
		pass.ReportVerdict(v, w, f)
	}
}

// propertyAnchorNode returns the span of the value of the first pair that
// exists among pairs.
func propertyAnchorNode(pairs ...*template.Pair) template.Span {
	for _, p := range pairs {
		if p != nil {
			if p.Value.Kind == template.Null {
				return p.Key.Span
			}
			return p.Value.Span
		}
	}
	return template.Span{}
}

// bucketKey returns the value that designates the KMS key for bucket r:
// the template's audit key with the statements its log writers need.
func bucketKey(pass *analysis.Pass, b *edit.Builder, r *template.Resource) edit.Value {
	return useAuditKey(pass, b, bucketKeyConsumers(pass, r)...)
}

// bucketKeyConsumers are the key-policy statements a KMS key needs when it
// becomes the default encryption key of bucket r: the services that write
// audit logs into it.
func bucketKeyConsumers(pass *analysis.Pass, r *template.Resource) []string {
	var out []string
	if len(trailBuckets(pass)[r]) > 0 {
		out = append(out, keyForCloudTrail)
	}
	for _, ch := range pass.Template.ResourcesOfType("AWS::Config::DeliveryChannel") {
		if resolveOfType(pass, ch.Property("S3BucketName"), bucketType) == r {
			out = append(out, keyForConfig)
			break
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// SOC2-S3-004

// S3Versioning reports buckets that do not keep object versions.
var S3Versioning = &analysis.Rule{
	ID:       "SOC2-S3-004",
	Title:    "S3 bucket versioning is not enabled",
	Severity: analysis.Warning,
	Controls: []string{"CC7.4", "A1.2", "C1.2", "PI1.5"},
	Types:    []string{bucketType},
	Doc: `The bucket has no ` + "`VersioningConfiguration`" + `, or its ` + "`Status`" + ` is ` + "`Suspended`" + `. An
overwritten or deleted object is then gone for good: a faulty deployment, a compromised credential or
ransomware can destroy data with a single call. This is an **error** for buckets that hold audit
evidence (trail, Config, flow-log and access-log destinations, buckets tagged ` + "`DataClassification: audit`" + `).

**Why an auditor cares.** Incident response (CC7.4) and recovery (A1.2) need a way back to a
known-good state, and processing integrity (PI1.5) needs stored data to be protected from unauthorised
change. For audit evidence, an auditor will ask how a deleted log file would be detected and restored.

**How to fix.** Set ` + "`VersioningConfiguration: {Status: Enabled}`" + `, and add a lifecycle rule with
` + "`NoncurrentVersionExpiration`" + ` so that old versions do not accumulate forever.`,
	Check: checkBucketVersioning,
}

func checkBucketVersioning(pass *analysis.Pass) {
	t, r := pass.Template, pass.Resource
	path := []string{"VersioningConfiguration", "Status"}
	verdict, witness := evalPath(t, r.Properties, path...).Judge(func(a template.Alt) bool {
		return a.Kind == template.Absent || (a.Kind == template.Literal && !strings.EqualFold(a.Text(), "Enabled"))
	})
	if verdict == template.Pass {
		return
	}
	f := analysis.Finding{Span: propertyAnchor(pass, path...), Severity: analysis.Warning,
		Message: "bucket " + r.Name + " does not keep object versions" + auditNote(pass, r) + ": set VersioningConfiguration.Status to Enabled"}
	if isAuditBucket(pass, r) {
		f.Severity = analysis.Error
	}
	f.Severity = trailEscalation(pass, r, f.Severity)
	if witness.Kind == template.Literal && witness.Node != nil && witness.Param == "" && len(witness.Conds) == 0 {
		f.Message = "bucket " + r.Name + " has versioning " + witness.Text() + auditNote(pass, r) + ": set VersioningConfiguration.Status to Enabled"
	}
	if verdict == template.Definite && editableInPlace(r, path...) {
		f.Fixes = []analysis.Fix{pass.NewFix("Enable versioning on bucket "+r.Name, func(b *edit.Builder) {
			setProperty(b, r, edit.Str("Enabled"), path...)
		})}
	}
	pass.ReportVerdict(verdict, witness, f)
}

// ---------------------------------------------------------------------------
// SOC2-S3-005

// S3AccessLogging reports buckets without server access logging.
var S3AccessLogging = &analysis.Rule{
	ID:       "SOC2-S3-005",
	Title:    "S3 bucket server access logging is not enabled",
	Severity: analysis.Warning,
	Controls: []string{"CC7.2", "CC7.3", "A1.2", "CC6.1"},
	Types:    []string{bucketType},
	Doc: `The bucket has no ` + "`LoggingConfiguration.DestinationBucketName`" + `, so S3 keeps no record of the
requests made to it: who read or deleted which object, from where, and whether the request was
refused. CloudTrail data events cover part of this only when they are enabled for the bucket. Buckets
that are themselves access-log destinations are skipped (logging a log bucket into itself loops). For
the bucket a CloudTrail trail writes to, the finding is an **error**: access to the audit trail itself
must be traceable.

**Why an auditor cares.** Monitoring (CC7.2) and the evaluation of security events (CC7.3) need
evidence of who accessed data; for the audit-log bucket, an auditor will ask how tampering with the
logs would have been noticed.

**How to fix.** Set ` + "`LoggingConfiguration`" + ` with ` + "`DestinationBucketName`" + ` naming a separate
access-log bucket and a ` + "`LogFilePrefix`" + ` per source bucket. The quick fix uses the template's
access-log bucket, or adds one (encrypted with SSE-S3 as S3 logging requires, private, versioned, with
a retention lifecycle and a policy that lets the S3 logging service write to it).`,
	Check: checkBucketLogging,
}

func checkBucketLogging(pass *analysis.Pass) {
	t, r := pass.Template, pass.Resource
	if isLogTarget(pass, r.Name) {
		return
	}
	path := []string{"LoggingConfiguration", "DestinationBucketName"}
	verdict, witness := evalPath(t, r.Properties, path...).Judge(isAbsent)
	if verdict == template.Pass {
		return
	}
	f := analysis.Finding{Span: propertyAnchor(pass, path...), Severity: trailEscalation(pass, r, analysis.Warning),
		Message: "bucket " + r.Name + " does not log the requests made to it" + auditNote(pass, r) + ": set LoggingConfiguration.DestinationBucketName to an access-log bucket"}
	if verdict == template.Definite && editableInPlace(r, path...) {
		f.Fixes = []analysis.Fix{pass.NewFix("Log requests to bucket "+r.Name+" into an access-log bucket", func(b *edit.Builder) {
			dest := useAccessLogsBucket(pass, b, r)
			prefix := edit.Sub("${AWS::StackName}/" + r.Name + "/")
			if lc := r.Property("LoggingConfiguration"); lc != nil && lc.Kind == template.Mapping && len(lc.Pairs) > 0 {
				b.Set(lc, "DestinationBucketName", dest)
				if lc.Get("LogFilePrefix") == nil {
					b.Insert(lc, "LogFilePrefix", prefix)
				}
				return
			}
			setProperty(b, r, edit.Map(
				edit.KV{Key: "DestinationBucketName", Value: dest},
				edit.KV{Key: "LogFilePrefix", Value: prefix}), "LoggingConfiguration")
		})}
	}
	pass.ReportVerdict(verdict, witness, f)
}

// accessLogsBucketName matches the logical ids of buckets meant for access
// logs.
var accessLogsBucketName = regexp.MustCompile(`(?i)access.?logs?|server.?logs?|s3.?logs?`)

// accessLogsBucket returns the bucket S3 access logs of the template go to:
// the first existing access-log destination, else an unconditional bucket
// whose logical id says it is for access logs, else nil.
func accessLogsBucket(pass *analysis.Pass, except *template.Resource) *template.Resource {
	for _, b := range accessLogsCandidates(pass) {
		if b != except {
			return b
		}
	}
	return nil
}

// accessLogsCandidates lists, once per analysis, the unconditional buckets
// that can take access logs: existing S3 access-log destinations first, in
// document order, then buckets whose logical id says they are for access
// logs.
func accessLogsCandidates(pass *analysis.Pass) []*template.Resource {
	return pass.Memo("accessLogsCandidates", func() any {
		t := pass.Template
		targets := accessLogTargets(pass)
		var out []*template.Resource
		for _, b := range t.ResourcesOfType(bucketType) {
			if targets[b.Name] && b.Condition == "" {
				out = append(out, b)
			}
		}
		for _, b := range t.ResourcesOfType(bucketType) {
			if !targets[b.Name] && b.Condition == "" && accessLogsBucketName.MatchString(b.Name) {
				out = append(out, b)
			}
		}
		return out
	}).([]*template.Resource)
}

// useAccessLogsBucket returns the value a fix writes into
// DestinationBucketName: a Ref to the template's access-log bucket, or to a
// new AccessLogsBucket that passes every bucket rule (SSE-S3, which S3
// server access logging requires; public access blocked; bucket-owner
// ownership; versioning and a retention lifecycle; retained on deletion;
// a TLS-only policy that lets logging.s3.amazonaws.com write for this
// account).
func useAccessLogsBucket(pass *analysis.Pass, b *edit.Builder, except *template.Resource, extra ...edit.Value) edit.Value {
	t := pass.Template
	if existing := accessLogsBucket(pass, except); existing != nil {
		return edit.Ref(existing.Name)
	}
	name := uniqueLogicalID(t, "AccessLogsBucket")
	retention := ensureParameter(pass, b, paramAuditLogRetentionDays)
	flags := make([]edit.KV, 0, len(publicAccessFlags))
	for _, flag := range publicAccessFlags {
		flags = append(flags, edit.KV{Key: flag, Value: edit.Bool(true)})
	}
	b.AddEntry("Resources", name, edit.Map(
		edit.KV{Key: "Type", Value: edit.Str(bucketType)},
		edit.KV{Key: "DeletionPolicy", Value: edit.Str("Retain")},
		edit.KV{Key: "UpdateReplacePolicy", Value: edit.Str("Retain")},
		edit.KV{Key: "Properties", Value: edit.Map(
			edit.KV{Key: "BucketEncryption", Value: edit.Map(edit.KV{Key: "ServerSideEncryptionConfiguration", Value: edit.List(
				edit.Map(edit.KV{Key: "ServerSideEncryptionByDefault", Value: edit.Map(edit.KV{Key: "SSEAlgorithm", Value: edit.Str("AES256")})}))})},
			edit.KV{Key: "PublicAccessBlockConfiguration", Value: edit.Map(flags...)},
			edit.KV{Key: "OwnershipControls", Value: edit.Map(edit.KV{Key: "Rules", Value: edit.List(
				edit.Map(edit.KV{Key: "ObjectOwnership", Value: edit.Str("BucketOwnerEnforced")}))})},
			edit.KV{Key: "VersioningConfiguration", Value: edit.Map(edit.KV{Key: "Status", Value: edit.Str("Enabled")})},
			edit.KV{Key: "LifecycleConfiguration", Value: edit.Map(edit.KV{Key: "Rules", Value: edit.List(auditLifecycleRule("access-log-retention", retention))})},
			edit.KV{Key: "Tags", Value: requiredTags(pass, b, "audit")},
		)},
	))
	b.AddEntry("Resources", uniqueLogicalID(t, name+"Policy"), edit.Map(
		edit.KV{Key: "Type", Value: edit.Str(bucketPolicyType)},
		edit.KV{Key: "Properties", Value: edit.Map(
			edit.KV{Key: "Bucket", Value: edit.Ref(name)},
			edit.KV{Key: "PolicyDocument", Value: edit.Map(
				edit.KV{Key: "Version", Value: edit.Str("2012-10-17")},
				edit.KV{Key: "Statement", Value: edit.List(append([]edit.Value{
					denyInsecureTransportStatement(name),
					edit.Map(
						edit.KV{Key: "Sid", Value: edit.Str("S3ServerAccessLogs")},
						edit.KV{Key: "Effect", Value: edit.Str("Allow")},
						edit.KV{Key: "Principal", Value: edit.Map(edit.KV{Key: "Service", Value: edit.Str("logging.s3.amazonaws.com")})},
						edit.KV{Key: "Action", Value: edit.Str("s3:PutObject")},
						edit.KV{Key: "Resource", Value: edit.Sub("${" + name + ".Arn}/*")},
						edit.KV{Key: "Condition", Value: sourceAccountCondition()},
					),
				}, extra...)...)},
			)},
		)},
	))
	return edit.Ref(name)
}

// auditLifecycleRule is the F10 lifecycle rule: Glacier after 90 days,
// expiry after the audit retention, old versions kept 90 days.
func auditLifecycleRule(id, retentionParam string) edit.Value {
	return edit.Map(
		edit.KV{Key: "Id", Value: edit.Str(id)},
		edit.KV{Key: "Status", Value: edit.Str("Enabled")},
		edit.KV{Key: "Transitions", Value: edit.List(edit.Map(
			edit.KV{Key: "StorageClass", Value: edit.Str("GLACIER")},
			edit.KV{Key: "TransitionInDays", Value: edit.Int(90)}))},
		edit.KV{Key: "ExpirationInDays", Value: edit.Ref(retentionParam)},
		edit.KV{Key: "NoncurrentVersionExpiration", Value: edit.Map(edit.KV{Key: "NoncurrentDays", Value: edit.Int(90)})},
	)
}

// ---------------------------------------------------------------------------
// SOC2-S3-006

// S3Lifecycle reports audit-log buckets whose lifecycle does not keep logs
// for the retention period and then dispose of them, and other buckets
// without any lifecycle.
var S3Lifecycle = &analysis.Rule{
	ID:       "SOC2-S3-006",
	Title:    "S3 bucket lifecycle does not enforce retention and disposal",
	Severity: analysis.Warning,
	Controls: []string{"C1.2", "C1.1", "CC7.2"},
	Types:    []string{bucketType},
	Doc: `For buckets that hold audit evidence (destinations of trails, Config delivery channels, flow logs,
S3 and load-balancer access logs, and buckets tagged ` + "`DataClassification: audit`" + `) the bucket's
` + "`LifecycleConfiguration`" + ` must have an ` + "`Enabled`" + ` rule that expires objects, and not before the
audit retention (` + "`AuditLogRetentionDays`" + `, at least 365 days by default): a **warning**, raised
to an **error** for the bucket a CloudTrail trail writes to. Other buckets without any lifecycle get an
**info** note.

**Why an auditor cares.** Retention and disposal pull in opposite directions and both are tested:
C1.1 and CC7.2 need audit logs kept long enough to investigate an incident and cover the audit period,
C1.2 needs information destroyed when its retention ends. "Kept forever" fails the second test just as
"deleted after 30 days" fails the first.

**How to fix.** Add a lifecycle rule with ` + "`Status: Enabled`" + `, ` + "`ExpirationInDays: !Ref AuditLogRetentionDays`" + `,
a transition to ` + "`GLACIER`" + ` after 90 days, and ` + "`NoncurrentVersionExpiration`" + ` for old versions.
The quick fix does so for audit buckets (adding the parameter when missing); for other buckets the
retention is a business decision, so no fix is offered.`,
	Check: checkBucketLifecycle,
}

func checkBucketLifecycle(pass *analysis.Pass) {
	t, r := pass.Template, pass.Resource
	const lc = "LifecycleConfiguration"
	audit := isAuditBucket(pass, r)
	sev := trailEscalation(pass, r, analysis.Warning)
	verdict, witness := evalPath(t, r.Properties, lc).Judge(isAbsent)
	if verdict != template.Pass {
		f := analysis.Finding{Span: propertyAnchor(pass, lc), Severity: analysis.Info,
			Message: "bucket " + r.Name + " has no lifecycle configuration: decide how long its objects are kept and add a LifecycleConfiguration that expires them"}
		if audit {
			f.Severity = sev
			f.Message = "bucket " + r.Name + " has no lifecycle configuration" + auditNote(pass, r) + ": add an Enabled rule that expires objects after AuditLogRetentionDays (at least " + strconv.Itoa(pass.Options.AuditLogRetentionDays) + " days)"
			if verdict == template.Definite && editableInPlace(r, lc) {
				f.Fixes = []analysis.Fix{pass.NewFix("Add an audit retention lifecycle to bucket "+r.Name, func(b *edit.Builder) {
					param := ensureParameter(pass, b, paramAuditLogRetentionDays)
					setProperty(b, r, edit.Map(edit.KV{Key: "Rules", Value: edit.List(auditLifecycleRule("audit-retention", param))}), lc)
				})}
			}
		}
		pass.ReportVerdict(verdict, witness, f)
		return
	}
	if !audit {
		return
	}
	rulesNode := r.PropertyPath(lc, "Rules")
	if rulesNode == nil || rulesNode.Kind != template.Sequence {
		return // written with a function, or malformed: nothing definite to say
	}
	var enabled []*template.Node
	for _, rule := range rulesNode.Items {
		v, _ := t.Eval(rule.Get("Status")).Judge(func(a template.Alt) bool {
			return a.Kind == template.Absent || (a.Kind == template.Literal && !strings.EqualFold(a.Text(), "Enabled"))
		})
		if rule.Kind == template.Mapping && v != template.Definite {
			enabled = append(enabled, rule)
		}
	}
	span := r.Property(lc).Pair("Rules").Key.Span
	if len(enabled) == 0 {
		pass.Report(analysis.Finding{Span: span, Severity: sev,
			Message: "bucket " + r.Name + " has no Enabled lifecycle rule" + auditNote(pass, r) + ": enable a rule that expires objects after AuditLogRetentionDays"})
		return
	}
	floor := int64(pass.Options.AuditLogRetentionDays)
	expiring := false
	for _, rule := range enabled {
		if date := rule.Get("ExpirationDate"); date != nil && date.Kind != template.Null {
			expiring = true
		}
		days := rule.Get("ExpirationInDays")
		v, w := t.Eval(days).Judge(func(a template.Alt) bool {
			n, ok := a.Node.Int()
			return a.Kind == template.Literal && ok && n < floor
		})
		if days != nil && days.Kind != template.Null {
			expiring = true
		}
		if v == template.Pass {
			continue
		}
		f := analysis.Finding{Span: days.Span, Severity: sev,
			Message: "bucket " + r.Name + " expires objects after " + w.Text() + " days" + auditNote(pass, r) + ": keep audit logs at least " + strconv.FormatInt(floor, 10) + " days (ExpirationInDays: !Ref AuditLogRetentionDays)"}
		if v == template.Definite && days.IsScalar() {
			f.Fixes = []analysis.Fix{pass.NewFix("Expire objects of bucket "+r.Name+" after AuditLogRetentionDays", func(b *edit.Builder) {
				b.Replace(days, edit.Ref(ensureParameter(pass, b, paramAuditLogRetentionDays)))
			})}
		}
		pass.ReportVerdict(v, w, f)
	}
	if expiring {
		return
	}
	first := enabled[0]
	pass.Report(analysis.Finding{Span: span, Severity: sev,
		Message: "bucket " + r.Name + " keeps objects forever" + auditNote(pass, r) + ": add ExpirationInDays: !Ref AuditLogRetentionDays to its lifecycle rule so logs are disposed of when their retention ends",
		Fixes: []analysis.Fix{pass.NewFix("Expire objects of bucket "+r.Name+" after AuditLogRetentionDays", func(b *edit.Builder) {
			b.Insert(first, "ExpirationInDays", edit.Ref(ensureParameter(pass, b, paramAuditLogRetentionDays)))
		})}})
}

// ---------------------------------------------------------------------------
// SOC2-S3-007

// S3ObjectLock reports audit-log buckets without an Object Lock default
// retention.
var S3ObjectLock = &analysis.Rule{
	ID:       "SOC2-S3-007",
	Title:    "Audit-log bucket has no Object Lock retention",
	Severity: analysis.Info,
	Controls: []string{"C1.1", "PI1.5", "CC7.3"},
	Types:    []string{bucketType},
	Doc: `A bucket that holds audit evidence (trail, Config or flow-log destination, or tagged
` + "`DataClassification: audit`" + `) has no ` + "`ObjectLockEnabled: true`" + ` with an
` + "`ObjectLockConfiguration.Rule.DefaultRetention`" + `. Versioning lets deleted logs be recovered, but
anyone allowed to delete versions can still erase them; Object Lock makes log objects immutable for the
retention period. Buckets that receive S3 server access logs are skipped, since S3 cannot deliver access
logs to a bucket with a default retention, and so are load-balancer log buckets, which usually share them.

**Why an auditor cares.** C1.1 and PI1.5 ask that stored evidence be protected from alteration and
early deletion; immutability by construction is stronger evidence than permissions alone, and it
supports the integrity of the records used to evaluate incidents (CC7.3).

**How to fix.** Set ` + "`ObjectLockEnabled: true`" + ` and ` + "`ObjectLockConfiguration: {ObjectLockEnabled: Enabled, Rule: {DefaultRetention: {Mode: GOVERNANCE, Days: 365}}}`" + `,
with a lock period no longer than the lifecycle expiry. CloudFormation replaces a deployed bucket to
turn Object Lock on, so the quick fix is marked as needing review; plan the data migration first.
Use ` + "`COMPLIANCE`" + ` mode only deliberately: not even the root user can shorten it.`,
	Check: checkObjectLock,
}

func checkObjectLock(pass *analysis.Pass) {
	t, r := pass.Template, pass.Resource
	if !isAuditBucket(pass, r) || isLogTarget(pass, r.Name) {
		return
	}
	retention := []string{"ObjectLockConfiguration", "Rule", "DefaultRetention"}
	lockVerdict, lockWitness := t.Eval(r.Property("ObjectLockEnabled")).Judge(func(a template.Alt) bool {
		if a.Kind == template.Absent {
			return true
		}
		on, ok := a.Bool()
		return ok && !on
	})
	lockConfig := func(b *edit.Builder) {
		setProperty(b, r, edit.Map(
			edit.KV{Key: "ObjectLockEnabled", Value: edit.Str("Enabled")},
			edit.KV{Key: "Rule", Value: edit.Map(edit.KV{Key: "DefaultRetention", Value: edit.Map(
				edit.KV{Key: "Mode", Value: edit.Str("GOVERNANCE")},
				edit.KV{Key: "Days", Value: edit.Int(365)})})}), "ObjectLockConfiguration")
	}
	if lockVerdict != template.Pass {
		why, _ := auditBucketReason(pass, r.Name)
		f := analysis.Finding{Span: propertyAnchor(pass, "ObjectLockEnabled"),
			Message: "bucket " + r.Name + " holds audit evidence (" + why + ") but its objects can be deleted or overwritten: enable Object Lock with a default retention"}
		if lockVerdict == template.Definite && editableInPlace(r, "ObjectLockEnabled") && editableInPlace(r, "ObjectLockConfiguration") {
			fix := pass.NewFix("Enable Object Lock on bucket "+r.Name+" (replaces the bucket if it is already deployed)", func(b *edit.Builder) {
				setProperty(b, r, edit.Bool(true), "ObjectLockEnabled")
				if r.Property("ObjectLockConfiguration") == nil {
					lockConfig(b)
				}
				if v, _ := evalPath(t, r.Properties, "VersioningConfiguration", "Status").Judge(func(a template.Alt) bool {
					return a.Kind == template.Absent || (a.Kind == template.Literal && !strings.EqualFold(a.Text(), "Enabled"))
				}); v == template.Definite && editableInPlace(r, "VersioningConfiguration", "Status") {
					setProperty(b, r, edit.Str("Enabled"), "VersioningConfiguration", "Status")
				}
			})
			fix.Unsafe = true
			f.Fixes = []analysis.Fix{fix}
		}
		pass.ReportVerdict(lockVerdict, lockWitness, f)
		return
	}
	verdict, witness := evalPath(t, r.Properties, retention...).Judge(isAbsent)
	if verdict == template.Pass {
		return
	}
	span := propertyAnchor(pass, retention...)
	if r.Property("ObjectLockConfiguration") == nil {
		span = propertyAnchor(pass, "ObjectLockEnabled")
	}
	f := analysis.Finding{Span: span,
		Message: "bucket " + r.Name + " enables Object Lock without a default retention" + auditNote(pass, r) + ": set ObjectLockConfiguration.Rule.DefaultRetention (Mode GOVERNANCE, Days 365)"}
	if verdict == template.Definite && r.Property("ObjectLockConfiguration") == nil {
		f.Fixes = []analysis.Fix{pass.NewFix("Set a default Object Lock retention on bucket "+r.Name, lockConfig)}
	}
	pass.ReportVerdict(verdict, witness, f)
}

// ---------------------------------------------------------------------------
// SOC2-S3-008

var publicCannedACLs = map[string]bool{"publicread": true, "publicreadwrite": true, "authenticatedread": true}

// S3PublicGrant reports buckets opened to everyone by a canned ACL or by a
// bucket-policy statement.
var S3PublicGrant = &analysis.Rule{
	ID:       "SOC2-S3-008",
	Title:    "S3 bucket grants access to everyone",
	Severity: analysis.Error,
	Controls: []string{"CC6.1", "CC6.6"},
	Types:    []string{bucketType},
	Doc: `The bucket's ` + "`AccessControl`" + ` is a canned ACL that opens it (` + "`PublicRead`" + `,
` + "`PublicReadWrite`" + `, or ` + "`AuthenticatedRead`" + `, which means any AWS account), or its bucket policy
has an ` + "`Allow`" + ` statement for ` + "`Principal: \"*\"`" + ` (or ` + "`{AWS: \"*\"}`" + `) with no ` + "`Condition`" + `
restricting who can use it. Either way anyone on the internet can read, and sometimes write, the data.

**Why an auditor cares.** Logical access (CC6.1) means access only for identified, authorised
principals; a public grant is the textbook exception, and boundary protection (CC6.6) fails with it.

**How to fix.** Remove ` + "`AccessControl`" + ` and set ` + "`OwnershipControls`" + ` to ` + "`BucketOwnerEnforced`" + `,
which disables ACLs altogether (the quick fix does both). Scope policy principals: content served to the
public should go through CloudFront with ` + "`Principal: {Service: cloudfront.amazonaws.com}`" + ` and an
` + "`aws:SourceArn`" + ` condition naming the distribution.`,
	Check: checkPublicGrant,
}

func checkPublicGrant(pass *analysis.Pass) {
	t, r := pass.Template, pass.Resource
	acl := r.Property("AccessControl")
	v, w := t.Eval(acl).Judge(func(a template.Alt) bool {
		return a.Kind == template.Literal && publicCannedACLs[strings.ToLower(a.Text())]
	})
	if v != template.Pass {
		f := analysis.Finding{Span: acl.Span,
			Message: "bucket " + r.Name + " grants access to everyone with the canned ACL " + w.Text() + ": remove AccessControl and set OwnershipControls to BucketOwnerEnforced"}
		if v == template.Definite && acl.IsScalar() {
			f.Fixes = []analysis.Fix{pass.NewFix("Remove the public ACL of bucket "+r.Name+" and disable ACLs", func(b *edit.Builder) {
				b.Delete(r.Properties, "AccessControl")
				if r.Property("OwnershipControls") == nil {
					b.Insert(r.Properties, "OwnershipControls", edit.Map(edit.KV{Key: "Rules", Value: edit.List(
						edit.Map(edit.KV{Key: "ObjectOwnership", Value: edit.Str("BucketOwnerEnforced")}))}))
				}
			})}
		}
		pass.ReportVerdict(v, w, f)
	}
	for _, pol := range policiesOf(pass, r) {
		for _, st := range statements(pol.Property("PolicyDocument")) {
			if effect(st) != "allow" || !isWildcardPrincipal(st) {
				continue
			}
			if c := st.Get("Condition"); c != nil && c.Kind != template.Null && !(c.Kind == template.Mapping && len(c.Pairs) == 0) {
				continue
			}
			actions := strings.Join(literalStrings(st.Get("Action")), ", ")
			if actions == "" {
				actions = "its actions"
			}
			pass.Report(analysis.Finding{Span: st.Span,
				Message: "bucket policy " + pol.Name + " allows everyone (Principal *) " + actions + " on bucket " + r.Name + " with no condition: scope the principal, or add a condition that restricts who can use the grant",
				Related: []analysis.Related{{Span: r.Key.Span, Message: "bucket " + r.Name}}})
		}
	}
}

// ---------------------------------------------------------------------------
// SOC2-TPL-112

// TrailBucketPosture reports trails whose in-template bucket does not let
// CloudTrail deliver, and trails that do not wait for that bucket policy.
// The third part of the catalogue entry, posture findings on the trail
// bucket counting one level higher, is applied by the bucket rules
// themselves (trailEscalation).
var TrailBucketPosture = &analysis.Rule{
	ID:       "SOC2-TPL-112",
	Title:    "Trail bucket policy does not let CloudTrail deliver",
	Severity: analysis.Error,
	Controls: []string{"CC7.2", "CC7.3", "C1.1", "C1.2"},
	Doc: `For every trail whose ` + "`S3BucketName`" + ` is a bucket of the same template, the bucket's
policy must allow ` + "`cloudtrail.amazonaws.com`" + ` to call ` + "`s3:GetBucketAcl`" + ` on the bucket and
` + "`s3:PutObject`" + ` on ` + "`<prefix>/AWSLogs/<account>/*`" + `; without both, CloudFormation fails to create
the trail (**error**). A statement whose ` + "`aws:SourceArn`" + ` condition names another trail does not
count. The trail must also ` + "`DependsOn`" + ` that policy (**warning**): nothing else orders the two, and
a trail created before its policy fails the same way. Posture findings on the trail bucket itself (TLS,
public access, versioning, access logging, lifecycle) are raised one level by those rules, because
this bucket is the primary store of audit evidence.

**Why an auditor cares.** Monitoring (CC7.2) and the evaluation of events (CC7.3) rest on the trail
delivering, every time the stack is built or rebuilt; the retention and protection of what it delivers
is confidentiality evidence (C1.1, C1.2).

**How to fix.** Add the ` + "`AWSCloudTrailAclCheck`" + ` and ` + "`AWSCloudTrailWrite`" + ` statements (the write
conditioned on ` + "`s3:x-amz-acl: bucket-owner-full-control`" + `, both scoped with ` + "`aws:SourceArn`" + ` to the
trail), creating the bucket policy if needed, and ` + "`DependsOn: <BucketPolicy>`" + ` on the trail.`,
	Check: checkTrailBucketPosture,
}

func checkTrailBucketPosture(pass *analysis.Pass) {
	t := pass.Template
	for _, tr := range t.ResourcesOfType(trailType) {
		bucketNode := tr.Property("S3BucketName")
		bucket := resolveOfType(pass, bucketNode, bucketType)
		if bucket == nil {
			continue
		}
		policies := policiesOf(pass, bucket)
		var granting, partial *template.Resource
		var missing []string
		for _, pol := range policies {
			acl, write := cloudTrailGrants(t, pol, bucket, tr)
			if acl && write {
				granting = pol
				break
			}
			var m []string
			if !acl {
				m = append(m, "s3:GetBucketAcl on the bucket")
			}
			if !write {
				m = append(m, "s3:PutObject on "+trailObjectPrefix(tr)+"AWSLogs/${AWS::AccountId}/*")
			}
			if partial == nil || len(m) < len(missing) {
				partial, missing = pol, m
			}
		}
		if granting != nil {
			if !dependsOn(tr, granting.Name) {
				reportMissingDependsOn(pass, tr, granting, bucket)
			}
			continue
		}
		f := analysis.Finding{Span: bucketNode.Span, Resource: tr.Name,
			Related: []analysis.Related{{Span: bucket.Key.Span, Message: "bucket " + bucket.Name}}}
		if partial == nil {
			f.Message = "trail " + tr.Name + " cannot deliver to bucket " + bucket.Name + ": no bucket policy lets cloudtrail.amazonaws.com call s3:GetBucketAcl and s3:PutObject, and CloudFormation fails to create the trail; add a bucket policy with the CloudTrail delivery statements"
			name := uniqueLogicalID(t, bucket.Name+"Policy")
			f.Fixes = []analysis.Fix{pass.NewFix("Add a bucket policy "+name+" that lets CloudTrail deliver to "+bucket.Name, func(b *edit.Builder) {
				addDependsOn(b, tr, name)
				res := []edit.KV{{Key: "Type", Value: edit.Str(bucketPolicyType)}}
				if bucket.Condition != "" {
					res = append(res, edit.KV{Key: "Condition", Value: edit.Str(bucket.Condition)})
				}
				stmts := append([]edit.Value{denyInsecureTransportStatement(bucket.Name)}, cloudTrailStatements(tr, bucket, true, true)...)
				res = append(res, edit.KV{Key: "Properties", Value: edit.Map(
					edit.KV{Key: "Bucket", Value: edit.Ref(bucket.Name)},
					edit.KV{Key: "PolicyDocument", Value: edit.Map(
						edit.KV{Key: "Version", Value: edit.Str("2012-10-17")},
						edit.KV{Key: "Statement", Value: edit.List(stmts...)},
					)},
				)})
				b.AddEntry("Resources", name, edit.Map(res...))
			})}
		} else {
			f.Message = "trail " + tr.Name + " cannot deliver to bucket " + bucket.Name + ": its policy " + partial.Name + " does not let cloudtrail.amazonaws.com call " + strings.Join(missing, " or ") + ", and CloudFormation fails to create the trail; add the CloudTrail delivery statements"
			f.Related = append(f.Related, analysis.Related{Span: partial.Key.Span, Message: "bucket policy " + partial.Name})
			acl, write := cloudTrailGrants(t, partial, bucket, tr)
			if list := partial.PropertyPath("PolicyDocument", "Statement"); list != nil && list.Kind == template.Sequence {
				pol := partial
				f.Fixes = []analysis.Fix{pass.NewFix("Let CloudTrail deliver to "+bucket.Name+" in "+pol.Name, func(b *edit.Builder) {
					for _, st := range cloudTrailStatements(tr, bucket, !acl, !write, list.Items...) {
						b.Append(list, st)
					}
					if !dependsOn(tr, pol.Name) {
						addDependsOn(b, tr, pol.Name)
					}
				})}
			}
		}
		pass.Report(f)
	}
}

func reportMissingDependsOn(pass *analysis.Pass, tr, pol, bucket *template.Resource) {
	span := tr.Key.Span
	if p := tr.Value.Pair("DependsOn"); p != nil {
		span = p.Value.Span
	}
	pass.Report(analysis.Finding{Span: span, Resource: tr.Name, Severity: analysis.Warning,
		Message: "trail " + tr.Name + " does not depend on bucket policy " + pol.Name + ": add DependsOn: " + pol.Name + " so that the policy exists before CloudTrail first writes to " + bucket.Name,
		Related: []analysis.Related{{Span: pol.Key.Span, Message: "bucket policy " + pol.Name}},
		Fixes: []analysis.Fix{pass.NewFix("Make trail "+tr.Name+" depend on "+pol.Name, func(b *edit.Builder) {
			addDependsOn(b, tr, pol.Name)
		})}})
}

// dependsOn reports whether resource r lists name in its DependsOn.
func dependsOn(r *template.Resource, name string) bool {
	for _, d := range r.DependsOn {
		if d.Text() == name {
			return true
		}
	}
	return false
}

// trailObjectPrefix is the key prefix a trail writes under: "prefix/" for a
// literal S3KeyPrefix, "" without one, "<prefix>/" when it is not literal.
func trailObjectPrefix(tr *template.Resource) string {
	p := tr.Property("S3KeyPrefix")
	switch {
	case p == nil || p.Kind == template.Null:
		return ""
	case p.IsScalar():
		if p.Value == "" {
			return ""
		}
		return strings.Trim(p.Value, "/") + "/"
	}
	return "<prefix>/"
}

var accountNumber = regexp.MustCompile(`\d{12}`)

// cloudTrailGrants reports whether a bucket policy lets CloudTrail read the
// bucket ACL and write the trail's log objects.
func cloudTrailGrants(t *template.Template, pol, bucket, tr *template.Resource) (acl, write bool) {
	prefix := trailObjectPrefix(tr)
	objects := []string{bucketPlaceholderARN + "/" + prefix + "AWSLogs/123456789012/CloudTrail/region/2024/01/01/file.json.gz"}
	if prefix == "<prefix>/" {
		objects = []string{bucketPlaceholderARN + "/AWSLogs/123456789012/x", bucketPlaceholderARN + "/p/AWSLogs/123456789012/x"}
	}
	for _, st := range statements(pol.Property("PolicyDocument")) {
		if effect(st) != "allow" || !principalHasService(st, "cloudtrail.amazonaws.com") || !sourceArnAdmits(st, tr) {
			continue
		}
		for _, r := range st.Get("Resource").List() {
			pattern, ok := bucketARNPattern(t, r, bucket)
			if !ok {
				continue
			}
			pattern = accountNumber.ReplaceAllString(strings.ReplaceAll(pattern, "\x00other", "*"), "*")
			if actionsCover(st, "s3:GetBucketAcl") && globMatch(pattern, bucketPlaceholderARN) {
				acl = true
			}
			if actionsCover(st, "s3:PutObject") {
				for _, o := range objects {
					write = write || globMatch(pattern, o)
				}
			}
		}
	}
	return acl, write
}

// trailNameText returns the trail's name as written: the literal, or the
// text of a Sub that uses only pseudo parameters; "" when unknown.
func trailNameText(tr *template.Resource) string {
	n := tr.Property("TrailName")
	if n.IsScalar() {
		return n.Value
	}
	if n.IsFn("Fn::Sub") && n.Arg.IsScalar() {
		for _, p := range template.SplitSub(n.Arg) {
			if p.Var != "" && !strings.HasPrefix(p.Var, "AWS::") {
				return ""
			}
		}
		return n.Arg.Value
	}
	return ""
}

// sourceArnAdmits reports whether a statement's aws:SourceArn condition, if
// any, can name the trail: a statement scoped to another trail grants this
// one nothing. Values that cannot be compared admit.
func sourceArnAdmits(st *template.Node, tr *template.Resource) bool {
	name := trailNameText(tr)
	if name == "" {
		return true
	}
	for _, op := range []string{"StringEquals", "ArnEquals", "StringLike", "ArnLike"} {
		v := conditionValue(st, op, "aws:SourceArn")
		if v == nil {
			continue
		}
		for _, item := range v.List() {
			text := item.Text()
			if item.IsFn("Fn::Sub") && item.Arg.IsScalar() {
				text = item.Arg.Value
			}
			i := strings.LastIndex(text, ":trail/")
			if text == "" || i < 0 {
				return true
			}
			tail := text[i+len(":trail/"):]
			if tail == name || (strings.HasSuffix(op, "Like") && globMatch(tail, name)) {
				return true
			}
		}
		return false
	}
	return true
}

// cloudTrailStatements are the F6 statements that let the trail deliver to
// the bucket, scoped to the trail by aws:SourceArn when its name is known,
// else to the account.
func cloudTrailStatements(tr, bucket *template.Resource, acl, write bool, existing ...*template.Node) []edit.Value {
	taken := map[string]bool{}
	for _, st := range existing {
		taken[st.Get("Sid").Text()] = true
	}
	sid := func(base string) edit.Value {
		name := base
		for i := 2; taken[name]; i++ {
			name = base + strconv.Itoa(i)
		}
		return edit.Str(name)
	}
	scope := func(extra ...edit.KV) edit.Value {
		key, val := "aws:SourceAccount", edit.Ref("AWS::AccountId")
		if name := trailNameText(tr); name != "" {
			key, val = "aws:SourceArn", edit.Sub("arn:${AWS::Partition}:cloudtrail:${AWS::Region}:${AWS::AccountId}:trail/"+name)
		}
		return edit.Map(edit.KV{Key: "StringEquals", Value: edit.Map(append(extra, edit.KV{Key: key, Value: val})...)})
	}
	principal := edit.Map(edit.KV{Key: "Service", Value: edit.Str("cloudtrail.amazonaws.com")})
	var out []edit.Value
	if acl {
		out = append(out, edit.Map(
			edit.KV{Key: "Sid", Value: sid("AWSCloudTrailAclCheck")},
			edit.KV{Key: "Effect", Value: edit.Str("Allow")},
			edit.KV{Key: "Principal", Value: principal},
			edit.KV{Key: "Action", Value: edit.Str("s3:GetBucketAcl")},
			edit.KV{Key: "Resource", Value: edit.GetAtt(bucket.Name, "Arn")},
			edit.KV{Key: "Condition", Value: scope()},
		))
	}
	if write {
		prefix := trailObjectPrefix(tr)
		if prefix == "<prefix>/" {
			prefix = "*"
		}
		out = append(out, edit.Map(
			edit.KV{Key: "Sid", Value: sid("AWSCloudTrailWrite")},
			edit.KV{Key: "Effect", Value: edit.Str("Allow")},
			edit.KV{Key: "Principal", Value: principal},
			edit.KV{Key: "Action", Value: edit.Str("s3:PutObject")},
			edit.KV{Key: "Resource", Value: edit.Sub("${" + bucket.Name + ".Arn}/" + prefix + "AWSLogs/${AWS::AccountId}/*")},
			edit.KV{Key: "Condition", Value: scope(edit.KV{Key: "s3:x-amz-acl", Value: edit.Str("bucket-owner-full-control")})},
		))
	}
	return out
}

var s3Rules = []*analysis.Rule{S3DenyInsecureTransport, S3PublicAccessBlock, S3DefaultEncryption, S3Versioning,
	S3AccessLogging, S3Lifecycle, S3ObjectLock, S3PublicGrant, TrailBucketPosture}
