package rules

import (
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
	policies := bucketPolicies(pass)[bucket]
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

// bucketPolicies maps each bucket to the bucket policies whose Bucket
// resolves to it (by Ref, or by the bucket's literal name), computed once
// per analysis.
func bucketPolicies(pass *analysis.Pass) map[*template.Resource][]*template.Resource {
	return pass.Memo("bucketPolicies", func() any {
		t := pass.Template
		out := map[*template.Resource][]*template.Resource{}
		for _, p := range t.ResourcesOfType(bucketPolicyType) {
			if b := resolveOfType(t, p.Property("Bucket"), bucketType); b != nil {
				out[b] = append(out[b], p)
			}
		}
		return out
	}).(map[*template.Resource][]*template.Resource)
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

var s3Rules = []*analysis.Rule{S3DenyInsecureTransport}
