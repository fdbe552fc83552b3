package rules

import (
	"strings"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/template"
)

const (
	loadBalancerType     = "AWS::ElasticLoadBalancingV2::LoadBalancer"
	listenerType         = "AWS::ElasticLoadBalancingV2::Listener"
	webACLAssocType      = "AWS::WAFv2::WebACLAssociation"
	webACLType           = "AWS::WAFv2::WebACL"
	recommendedTLSPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06"
)

// listenersByLoadBalancer maps each in-template load balancer to its
// in-template listeners.
func listenersByLoadBalancer(pass *analysis.Pass) map[*template.Resource][]*template.Resource {
	return pass.Memo("listenersByLoadBalancer", func() any {
		t := pass.Template
		out := map[*template.Resource][]*template.Resource{}
		for _, l := range t.ResourcesOfType(listenerType) {
			if lb := resolveOfType(pass, l.Property("LoadBalancerArn"), loadBalancerType); lb != nil {
				out[lb] = append(out[lb], l)
			}
		}
		return out
	}).(map[*template.Resource][]*template.Resource)
}

// protocolCan reports whether a listener's Protocol can be one of protos
// (as a literal, through a parameter value or an If branch).
func protocolCan(t *template.Template, l *template.Resource, protos ...string) bool {
	for _, a := range t.Eval(l.Property("Protocol")) {
		for _, p := range protos {
			if a.Kind == template.Literal && strings.EqualFold(a.Text(), p) {
				return true
			}
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// SOC2-ELB-001

// ELBHTTPRedirect reports plain-HTTP listeners that serve traffic instead of
// redirecting it to HTTPS.
var ELBHTTPRedirect = &analysis.Rule{
	ID:       "SOC2-ELB-001",
	Title:    "Load balancer listener serves plain HTTP",
	Severity: analysis.Error,
	Controls: []string{"CC6.7"},
	Types:    []string{listenerType},
	Doc: `An ` + "`AWS::ElasticLoadBalancingV2::Listener`" + ` with ` + "`Protocol: HTTP`" + ` whose default action is
anything other than a ` + "`redirect`" + ` with ` + "`RedirectConfig.Protocol: HTTPS`" + `. Requests, cookies and
session tokens then cross the internet unencrypted. An HTTP listener that only redirects to HTTPS is
the normal way to keep port 80 open for browsers, and is not reported.

**Why an auditor cares.** CC6.7 expects data in transit to be protected; a listener that answers in
clear text is direct evidence against it, whatever the application does behind it.

**How to fix.** Make the default action ` + "`{Type: redirect, RedirectConfig: {Protocol: HTTPS, Port: '443', StatusCode: HTTP_301}}`" + `
and serve the application from an HTTPS listener. The quick fix rewrites the default actions; it is marked
as needing review when the template has no HTTPS listener on the same load balancer to redirect to.`,
	Check: checkHTTPRedirect,
}

func checkHTTPRedirect(pass *analysis.Pass) {
	t, l := pass.Template, pass.Resource
	proto := l.Property("Protocol")
	verdict, witness := t.Eval(proto).Judge(func(a template.Alt) bool {
		return a.Kind == template.Literal && strings.EqualFold(a.Text(), "HTTP")
	})
	if verdict == template.Pass || redirectsToHTTPS(t, l) {
		return
	}
	f := analysis.Finding{Span: proto.Span,
		Message: "listener " + l.Name + " serves plain HTTP: make its default action a redirect to HTTPS (Type redirect, RedirectConfig.Protocol HTTPS)"}
	actions := l.Property("DefaultActions")
	if verdict == template.Definite && (actions == nil || actions.Kind == template.Sequence || actions.Kind == template.Null) {
		fix := pass.NewFix("Redirect listener "+l.Name+" to HTTPS", func(b *edit.Builder) {
			redirect := edit.Map(
				edit.KV{Key: "Type", Value: edit.Str("redirect")},
				edit.KV{Key: "RedirectConfig", Value: edit.Map(
					edit.KV{Key: "Protocol", Value: edit.Str("HTTPS")},
					edit.KV{Key: "Port", Value: edit.Str("443")},
					edit.KV{Key: "StatusCode", Value: edit.Str("HTTP_301")},
				)},
			)
			if actions != nil && actions.Kind == template.Sequence && len(actions.Items) > 0 {
				// Replace the first action and drop the others, keeping the
				// list's style.
				b.Replace(actions.Items[0], redirect)
				for _, it := range actions.Items[1:] {
					b.Remove(actions, it)
				}
				return
			}
			setProperty(b, l, edit.List(redirect), "DefaultActions")
		})
		if !hasHTTPSListener(pass, l) {
			fix.Title += " (no HTTPS listener on this load balancer in the template: add one first)"
			fix.Unsafe = true
		}
		f.Fixes = []analysis.Fix{fix}
	}
	pass.ReportVerdict(verdict, witness, f)
}

// redirectsToHTTPS reports whether a listener's default actions redirect
// to HTTPS.
func redirectsToHTTPS(t *template.Template, l *template.Resource) bool {
	for _, a := range l.Property("DefaultActions").List() {
		if !strings.EqualFold(a.Get("Type").Text(), "redirect") {
			continue
		}
		v, _ := t.Eval(a.Path("RedirectConfig", "Protocol")).Judge(func(p template.Alt) bool {
			return p.Kind != template.Literal || !strings.EqualFold(p.Text(), "HTTPS")
		})
		if v == template.Pass {
			return true
		}
	}
	return false
}

// hasHTTPSListener reports whether the load balancer of listener l has an
// HTTPS listener in the template.
func hasHTTPSListener(pass *analysis.Pass, l *template.Resource) bool {
	lb := resolveOfType(pass, l.Property("LoadBalancerArn"), loadBalancerType)
	for _, other := range listenersByLoadBalancer(pass)[lb] {
		if other != l && protocolCan(pass.Template, other, "HTTPS") {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// SOC2-ELB-002

// tlsPolicyPrefixes are the ELB security policies that accept only TLS 1.2
// and later.
var tlsPolicyPrefixes = []string{"ELBSecurityPolicy-TLS13-1-2", "ELBSecurityPolicy-TLS13-1-3", "ELBSecurityPolicy-TLS-1-2", "ELBSecurityPolicy-FS-1-2"}

// ELBTLSPolicy reports HTTPS and TLS listeners that allow TLS versions
// before 1.2, or that leave the choice to the service default.
var ELBTLSPolicy = &analysis.Rule{
	ID:       "SOC2-ELB-002",
	Title:    "Load balancer listener allows outdated TLS",
	Severity: analysis.Error,
	Controls: []string{"CC6.7"},
	Types:    []string{listenerType},
	Doc: `An HTTPS or TLS listener has no ` + "`SslPolicy`" + `, or one that still negotiates TLS 1.0 or 1.1
(` + "`ELBSecurityPolicy-2016-08`" + `, ` + "`ELBSecurityPolicy-TLS-1-1-2017-01`" + `, ` + "`ELBSecurityPolicy-FS-2018-06`" + `, ...). Accepted
policies start with ` + "`ELBSecurityPolicy-TLS13-1-2`" + `, ` + "`ELBSecurityPolicy-TLS13-1-3`" + `,
` + "`ELBSecurityPolicy-TLS-1-2`" + ` or ` + "`ELBSecurityPolicy-FS-1-2`" + `. A missing policy is reported too: the
default has changed over the years and is not visible in the template.

**Why an auditor cares.** CC6.7 asks that data in transit be protected with current encryption; TLS
versions before 1.2 are deprecated and an explicit modern policy is the evidence.

**How to fix.** Set ` + "`SslPolicy: ELBSecurityPolicy-TLS13-1-2-2021-06`" + ` (TLS 1.3 and 1.2). Very old clients
that only speak TLS 1.0/1.1 will no longer connect.`,
	Check: checkTLSPolicy,
}

func checkTLSPolicy(pass *analysis.Pass) {
	t, l := pass.Template, pass.Resource
	if !protocolCan(t, l, "HTTPS", "TLS") {
		return
	}
	policy := l.Property("SslPolicy")
	verdict, witness := t.Eval(policy).Judge(func(a template.Alt) bool {
		if a.Kind == template.Absent {
			return true
		}
		if a.Kind != template.Literal {
			return false
		}
		for _, p := range tlsPolicyPrefixes {
			if strings.HasPrefix(a.Text(), p) {
				return false
			}
		}
		return true
	})
	if verdict == template.Pass {
		return
	}
	f := analysis.Finding{Span: propertyAnchor(pass, "SslPolicy"),
		Message: "listener " + l.Name + " sets no SslPolicy and relies on the service default: set SslPolicy to " + recommendedTLSPolicy}
	if witness.Kind == template.Literal {
		f.Message = "listener " + l.Name + " uses SslPolicy " + witness.Text() + ", which allows TLS versions before 1.2: use " + recommendedTLSPolicy
	}
	if verdict == template.Definite && editableInPlace(l, "SslPolicy") {
		f.Fixes = []analysis.Fix{pass.NewFix("Set SslPolicy: "+recommendedTLSPolicy, func(b *edit.Builder) {
			setProperty(b, l, edit.Str(recommendedTLSPolicy), "SslPolicy")
		})}
	}
	pass.ReportVerdict(verdict, witness, f)
}

// ---------------------------------------------------------------------------
// SOC2-ELB-003

// ELBLoggingAndProtection reports load balancers without access logs,
// application load balancers that pass malformed headers on, and
// internet-facing application load balancers without a web ACL.
var ELBLoggingAndProtection = &analysis.Rule{
	ID:       "SOC2-ELB-003",
	Title:    "Load balancer has no access logs, header hygiene or web ACL",
	Severity: analysis.Warning,
	Controls: []string{"CC7.2", "PI1.2", "A1.2", "CC6.6"},
	Types:    []string{loadBalancerType},
	Doc: `Checks three settings of an ` + "`AWS::ElasticLoadBalancingV2::LoadBalancer`" + `:

- ` + "`LoadBalancerAttributes`" + ` has no ` + "`access_logs.s3.enabled`" + ` set to ` + "`\"true\"`" + ` (**warning**): no record of
  the requests the load balancer received, from whom, and what it answered.
- an application load balancer without ` + "`routing.http.drop_invalid_header_fields.enabled`" + ` set to
  ` + "`\"true\"`" + ` (**info**): malformed headers reach the targets, a known request-smuggling vector.
- an internet-facing application load balancer (the default scheme) that no
  ` + "`AWS::WAFv2::WebACLAssociation`" + ` in the template protects (**info**). An association made by another
  stack or by Firewall Manager also counts; suppress the finding with that reason.

**Why an auditor cares.** Access logs are the input record for processing integrity (PI1.2) and a source
for monitoring (CC7.2); header hygiene and a web application firewall are boundary protection at the
entry point (CC6.6).

**How to fix.** Add ` + "`{Key: access_logs.s3.enabled, Value: 'true'}`" + ` and ` + "`{Key: access_logs.s3.bucket, Value: !Ref AccessLogsBucket}`" + `
(the bucket policy must let the load-balancer log delivery service write; the quick fix adds that statement
and makes the load balancer depend on the policy), ` + "`{Key: routing.http.drop_invalid_header_fields.enabled, Value: 'true'}`" + `,
and an ` + "`AWS::WAFv2::WebACLAssociation`" + ` with a regional web ACL.`,
	Check: checkLoadBalancer,
}

// lbAttribute returns the entry of LoadBalancerAttributes with the key, or
// nil.
func lbAttribute(lb *template.Resource, key string) *template.Node {
	for _, a := range lb.Property("LoadBalancerAttributes").List() {
		if a.Get("Key").Text() == key {
			return a
		}
	}
	return nil
}

func checkLoadBalancer(pass *analysis.Pass) {
	t, lb := pass.Template, pass.Resource
	lbType := strings.ToLower(lb.Property("Type").Text())
	if lb.Property("Type") != nil && !lb.Property("Type").IsScalar() {
		lbType = "unknown"
	}
	isALB := lbType == "" || lbType == "application"
	attrs := lb.Property("LoadBalancerAttributes")
	attrsEditable := attrs == nil || attrs.Kind == template.Null || (attrs.Kind == template.Sequence && len(attrs.Items) > 0)
	notTrue := func(a template.Alt) bool {
		if a.Kind == template.Absent {
			return true
		}
		on, ok := a.Bool()
		return a.Kind == template.Literal && (!ok || !on)
	}
	attrSpan := func(entry *template.Node) template.Span {
		if entry != nil {
			if v := entry.Get("Value"); v != nil {
				return v.Span
			}
			return entry.Span
		}
		if p := lb.Properties.Pair("LoadBalancerAttributes"); p != nil {
			return p.Key.Span
		}
		return pass.KeySpan()
	}

	// Access logs (gateway load balancers have none).
	if lbType != "gateway" {
		entry := lbAttribute(lb, "access_logs.s3.enabled")
		verdict, witness := t.Eval(entry.Get("Value")).Judge(notTrue)
		if verdict != template.Pass {
			f := analysis.Finding{Span: attrSpan(entry), Severity: analysis.Warning,
				Controls: []string{"CC7.2", "PI1.2", "A1.2"},
				Message:  "load balancer " + lb.Name + " keeps no access logs: set the attribute access_logs.s3.enabled to \"true\" with access_logs.s3.bucket naming a log bucket"}
			value := entry.Get("Value")
			if verdict == template.Definite && isALB && attrsEditable && (entry == nil || value.IsScalar()) && lbAttribute(lb, "access_logs.s3.bucket") == nil && albLogPlanOK(pass) {
				f.Fixes = []analysis.Fix{pass.NewFix("Send access logs of load balancer "+lb.Name+" to an access-log bucket", func(b *edit.Builder) {
					enableALBAccessLogs(pass, b, lb, entry)
				})}
			}
			pass.ReportVerdict(verdict, witness, f)
		}
	}
	if !isALB {
		return
	}
	// Invalid header fields.
	const dropKey = "routing.http.drop_invalid_header_fields.enabled"
	entry := lbAttribute(lb, dropKey)
	verdict, witness := t.Eval(entry.Get("Value")).Judge(notTrue)
	if verdict != template.Pass {
		f := analysis.Finding{Span: attrSpan(entry), Severity: analysis.Info, Controls: []string{"CC6.6"},
			Message: "load balancer " + lb.Name + " forwards requests with invalid header fields: set the attribute " + dropKey + " to \"true\""}
		value := entry.Get("Value")
		if verdict == template.Definite && attrsEditable && (entry == nil || value.IsScalar()) {
			f.Fixes = []analysis.Fix{pass.NewFix("Drop invalid header fields at load balancer "+lb.Name, func(b *edit.Builder) {
				if entry != nil {
					b.Replace(value, edit.Str("true"))
					return
				}
				appendAttributes(b, lb, edit.Map(edit.KV{Key: "Key", Value: edit.Str(dropKey)}, edit.KV{Key: "Value", Value: edit.Str("true")}))
			})}
		}
		pass.ReportVerdict(verdict, witness, f)
	}
	// Web ACL for internet-facing application load balancers.
	scheme := lb.Property("Scheme")
	sv, sw := t.Eval(scheme).Judge(func(a template.Alt) bool {
		return a.Kind == template.Absent || (a.Kind == template.Literal && strings.EqualFold(a.Text(), "internet-facing"))
	})
	if sv == template.Pass || webACLProtected(pass)[lb] {
		return
	}
	f := analysis.Finding{Span: propertyAnchor(pass, "Scheme"), Severity: analysis.Info, Controls: []string{"CC6.6"},
		Message: "internet-facing load balancer " + lb.Name + " has no web ACL: associate an AWS::WAFv2::WebACL with it (AWS::WAFv2::WebACLAssociation)"}
	if acls := t.ResourcesOfType(webACLType); len(acls) == 1 && strings.EqualFold(acls[0].Property("Scope").Text(), "REGIONAL") && acls[0].Condition == lb.Condition {
		acl := acls[0]
		f.Fixes = []analysis.Fix{pass.NewFix("Protect load balancer "+lb.Name+" with web ACL "+acl.Name, func(b *edit.Builder) {
			res := []edit.KV{{Key: "Type", Value: edit.Str(webACLAssocType)}}
			if lb.Condition != "" {
				res = append(res, edit.KV{Key: "Condition", Value: edit.Str(lb.Condition)})
			}
			res = append(res, edit.KV{Key: "Properties", Value: edit.Map(
				edit.KV{Key: "ResourceArn", Value: edit.Ref(lb.Name)},
				edit.KV{Key: "WebACLArn", Value: edit.GetAtt(acl.Name, "Arn")},
			)})
			b.AddEntry("Resources", uniqueLogicalID(t, lb.Name+"WebAclAssociation"), edit.Map(res...))
		})}
	}
	pass.ReportVerdict(sv, sw, f)
}

// webACLProtected returns the load balancers a WebACLAssociation of the
// template protects.
func webACLProtected(pass *analysis.Pass) map[*template.Resource]bool {
	return pass.Memo("webACLProtected", func() any {
		t := pass.Template
		out := map[*template.Resource]bool{}
		for _, a := range t.ResourcesOfType(webACLAssocType) {
			if lb := resolveOfType(pass, a.Property("ResourceArn"), loadBalancerType); lb != nil {
				out[lb] = true
			}
		}
		return out
	}).(map[*template.Resource]bool)
}

// appendAttributes adds entries to a load balancer's LoadBalancerAttributes,
// creating the list when it is missing.
func appendAttributes(b *edit.Builder, lb *template.Resource, entries ...edit.Value) {
	attrs := lb.Property("LoadBalancerAttributes")
	if attrs != nil && attrs.Kind == template.Sequence && len(attrs.Items) > 0 {
		for _, e := range entries {
			b.Append(attrs, e)
		}
		return
	}
	setProperty(b, lb, edit.List(entries...), "LoadBalancerAttributes")
}

// enableALBAccessLogs turns on access logs of an application load balancer,
// into the template's access-log bucket (or a new one), lets the
// load-balancer log delivery service write there and makes the load
// balancer wait for that policy.
func enableALBAccessLogs(pass *analysis.Pass, b *edit.Builder, lb *template.Resource, enabled *template.Node) {
	plan, ok := albLogPlan(pass)
	if !ok {
		return
	}
	prefix := "alb/" + lb.Name
	kv := func(k string, v edit.Value) edit.Value {
		return edit.Map(edit.KV{Key: "Key", Value: edit.Str(k)}, edit.KV{Key: "Value", Value: v})
	}
	entries := []edit.Value{kv("access_logs.s3.bucket", edit.Ref(plan.bucket)), kv("access_logs.s3.prefix", edit.Str(prefix))}
	if enabled != nil {
		b.Replace(enabled.Get("Value"), edit.Str("true"))
	} else {
		entries = append([]edit.Value{kv("access_logs.s3.enabled", edit.Str("true"))}, entries...)
	}
	// Edits at one offset apply in the order they are made: the attributes
	// (inside Properties) come before a DependsOn added at the end of the
	// resource, and both before resources added after it.
	appendAttributes(b, lb, entries...)
	if !dependsOn(lb, plan.policy) {
		addDependsOn(b, lb, plan.policy)
	}
	switch {
	case plan.create:
		useAccessLogsBucket(pass, b, nil, albLogStatement(plan.bucket, "alb/*"))
	case plan.statements != nil:
		b.Append(plan.statements, albLogStatement(plan.bucket, prefix))
	}
}

func albLogPlanOK(pass *analysis.Pass) bool {
	_, ok := albLogPlan(pass)
	return ok
}

// albLogTarget is where a fix sends load-balancer access logs.
type albLogTarget struct {
	bucket, policy string
	create         bool           // add the bucket and its policy
	statements     *template.Node // policy statements to extend, nil when they already allow delivery
}

// albLogPlan decides where load-balancer access logs go: the template's
// access-log bucket, when its policy can be extended (or already lets the
// log delivery service write), else a new access-log bucket. ok is false
// when the access-log bucket has no policy the fix could extend.
func albLogPlan(pass *analysis.Pass) (albLogTarget, bool) {
	t := pass.Template
	bucket := accessLogsBucket(pass, nil)
	if bucket == nil {
		name := uniqueLogicalID(t, "AccessLogsBucket")
		return albLogTarget{bucket: name, policy: uniqueLogicalID(t, name+"Policy"), create: true}, true
	}
	pols := policiesOf(pass, bucket)
	if len(pols) == 0 {
		return albLogTarget{}, false
	}
	plan := albLogTarget{bucket: bucket.Name, policy: pols[0].Name}
	if allowsELBLogDelivery(pols[0]) {
		return plan, true
	}
	list := pols[0].PropertyPath("PolicyDocument", "Statement")
	if list == nil || list.Kind != template.Sequence || len(list.Items) == 0 {
		return albLogTarget{}, false
	}
	plan.statements = list
	return plan, true
}

// albLogStatement lets application load balancers of this account deliver
// access logs under prefix.
func albLogStatement(bucket, prefix string) edit.Value {
	return edit.Map(
		edit.KV{Key: "Sid", Value: edit.Str("LoadBalancerAccessLogs")},
		edit.KV{Key: "Effect", Value: edit.Str("Allow")},
		edit.KV{Key: "Principal", Value: edit.Map(edit.KV{Key: "Service", Value: edit.Str("logdelivery.elasticloadbalancing.amazonaws.com")})},
		edit.KV{Key: "Action", Value: edit.Str("s3:PutObject")},
		edit.KV{Key: "Resource", Value: edit.Sub("${" + bucket + ".Arn}/" + prefix + "/AWSLogs/${AWS::AccountId}/*")},
	)
}

// allowsELBLogDelivery reports whether a bucket policy has a statement for
// the load-balancer log delivery service.
func allowsELBLogDelivery(pol *template.Resource) bool {
	for _, st := range statements(pol.Property("PolicyDocument")) {
		if effect(st) == "allow" && principalHasService(st, "logdelivery.elasticloadbalancing.amazonaws.com") {
			return true
		}
	}
	return false
}

var elbRules = []*analysis.Rule{ELBHTTPRedirect, ELBTLSPolicy, ELBLoggingAndProtection}
