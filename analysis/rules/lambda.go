package rules

import (
	"regexp"
	"strings"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/template"
)

const (
	lmbPermissionType = "AWS::Lambda::Permission"
	lmbURLType        = "AWS::Lambda::Url"
	lmbRoleType       = "AWS::IAM::Role"
)

// LambdaOutsideVPC reports functions that run outside a VPC, more loudly
// when they talk to resources that live in one.
var LambdaOutsideVPC = &analysis.Rule{
	ID:       "SOC2-LMB-001",
	Title:    "Lambda function runs outside the VPC",
	Severity: analysis.Warning,
	Controls: []string{"CC6.1", "CC6.6"},
	Types:    []string{lmbFunctionType, lmbServerlessFunctionType},
	Doc: `A function without ` + "`VpcConfig`" + ` runs in a network AWS manages, with unrestricted outbound internet access
and no security group. When it talks to resources that live in the VPC (a database, a cache, an internal
load balancer, a VPC endpoint), those resources must then be reachable from outside the VPC for it to
work, which defeats the network boundary. Such functions are reported as warnings; other functions
without a VPC are reported as information.

**Why an auditor cares.** CC6.6 is about boundary protection: traffic to internal systems should cross
a controlled boundary (subnets, security groups, flow logs). CC6.1 expects access to data stores to be
limited to known network paths.

**How to fix.** Attach the function to private subnets with a dedicated security group:
` + "`VpcConfig: {SubnetIds: [...], SecurityGroupIds: [...]}`" + `, and give its role the
` + "`AWSLambdaVPCAccessExecutionRole`" + ` managed policy (SAM adds it when it creates the role). The quick fix adds
the two parameters to fill in and the policy.`,
	Check: checkLambdaVPC,
}

// lmbVPCResourceTypes are resource types that live inside a VPC.
var lmbVPCResourceTypes = map[string]bool{
	"AWS::RDS::DBInstance": true, "AWS::RDS::DBCluster": true, "AWS::RDS::DBProxy": true, "AWS::RDS::DBProxyEndpoint": true,
	"AWS::ElastiCache::CacheCluster": true, "AWS::ElastiCache::ReplicationGroup": true, "AWS::ElastiCache::ServerlessCache": true,
	"AWS::MemoryDB::Cluster": true, "AWS::Redshift::Cluster": true, "AWS::DocDB::DBCluster": true, "AWS::DocDB::DBInstance": true,
	"AWS::Neptune::DBCluster": true, "AWS::Neptune::DBInstance": true, "AWS::EFS::FileSystem": true, "AWS::EFS::MountTarget": true,
	"AWS::EC2::VPCEndpoint": true, "AWS::EC2::Instance": true, "AWS::MSK::Cluster": true,
}

// lmbPrivateHost matches literal endpoints of in-VPC services.
var lmbPrivateHost = regexp.MustCompile(`(?i)\.(rds|cache|redshift|docdb|neptune|memorydb)\.amazonaws\.com|\.internal(:|/|$)|vpce-[0-9a-f]+`)

// lmbInVPC reports whether an in-template resource lives in a VPC.
func lmbInVPC(r *template.Resource) bool {
	switch r.Type {
	case "AWS::ElasticLoadBalancingV2::LoadBalancer", "AWS::ElasticLoadBalancing::LoadBalancer":
		return strings.EqualFold(r.Property("Scheme").Text(), "internal")
	case "AWS::OpenSearchService::Domain":
		return r.Property("VPCOptions") != nil
	case "AWS::Elasticsearch::Domain":
		return r.Property("VPCOptions") != nil
	}
	return lmbVPCResourceTypes[r.Type]
}

// lmbVPCDependency returns the in-VPC resource (or literal endpoint) a value
// refers to, and whether there is one.
func lmbVPCDependency(pass *analysis.Pass, n *template.Node) (*template.Resource, string, bool) {
	t := pass.Template
	var res *template.Resource
	var host string
	n.Walk(func(m *template.Node) bool {
		if res != nil || host != "" {
			return false
		}
		switch {
		case m.IsScalar():
			if lmbPrivateHost.MatchString(m.Value) {
				host = m.Value
			}
		case m.IsFn("Ref"), m.IsFn("Fn::GetAtt"):
			if r := resolveResource(pass, m); r != nil && lmbInVPC(r) {
				res = r
			}
			return false
		case m.IsFn("Fn::Sub"):
			parts, _, _ := template.Sub(m)
			for _, p := range parts {
				name, _, _ := strings.Cut(p.Var, ".")
				if r := t.Resource(name); p.Var != "" && r != nil && lmbInVPC(r) {
					res = r
				}
				if p.Var == "" && lmbPrivateHost.MatchString(p.Literal) {
					host = p.Literal
				}
			}
		}
		return true
	})
	return res, host, res != nil || host != ""
}

func checkLambdaVPC(pass *analysis.Pass) {
	t, fn := pass.Template, pass.Resource
	vpc := fn.Property("VpcConfig")
	if fn.Type == lmbServerlessFunctionType && vpc == nil && t.Section("Globals").Path("Function", "VpcConfig") != nil {
		return // SAM gives every function the VpcConfig of Globals
	}
	verdict, witness := t.Eval(vpc).Judge(func(a template.Alt) bool {
		if a.Kind == template.Absent {
			return true
		}
		subnets := a.Node.Get("SubnetIds")
		return a.Kind == template.Literal && subnets != nil && subnets.Kind == template.Sequence && len(subnets.Items) == 0
	})
	if verdict == template.Pass {
		return
	}
	f := analysis.Finding{
		Span:     pass.KeySpan(),
		Severity: analysis.Info,
		Message:  "function " + fn.Name + " runs outside any VPC: attach it to private subnets with VpcConfig so its traffic crosses a security group",
	}
	if vpc != nil && vpc.Kind != template.Null {
		f.Span = vpc.Span
	}
	if dep, why := lmbFunctionVPCDependency(pass, fn); why != "" {
		f.Severity = analysis.Warning
		f.Message = "function " + fn.Name + " reaches " + why + " but runs outside the VPC: attach it with VpcConfig (private subnets and a security group)"
		if dep != nil {
			f.Related = []analysis.Related{{Span: dep.Key.Span, Message: dep.Type + " " + dep.Name}}
		}
	}
	if vpc == nil || vpc.Kind == template.Null {
		fix := pass.NewFix("Attach the function to a VPC (fill in the subnet and security group parameters)", func(b *edit.Builder) {
			subnets := "LambdaSubnetIds"
			groups := "LambdaSecurityGroupIds"
			if t.Parameter(subnets) == nil {
				b.AddEntry("Parameters", subnets, edit.Map(
					edit.KV{Key: "Type", Value: edit.Str("List<AWS::EC2::Subnet::Id>")},
					edit.KV{Key: "Description", Value: edit.Str("Private subnets the stack's Lambda functions run in")},
				))
			}
			if t.Parameter(groups) == nil {
				b.AddEntry("Parameters", groups, edit.Map(
					edit.KV{Key: "Type", Value: edit.Str("List<AWS::EC2::SecurityGroup::Id>")},
					edit.KV{Key: "Description", Value: edit.Str("Security groups of the stack's Lambda functions")},
				))
			}
			setOrInsertProperty(b, fn, vpc, "VpcConfig", edit.Map(
				edit.KV{Key: "SubnetIds", Value: edit.Ref(subnets)},
				edit.KV{Key: "SecurityGroupIds", Value: edit.Ref(groups)},
			))
			if role := resolveOfType(pass, fn.Property("Role"), lmbRoleType); role != nil {
				lmbAddVPCAccessPolicy(b, role)
			}
		})
		fix.Unsafe = true
		f.Fixes = []analysis.Fix{fix}
	}
	pass.ReportVerdict(verdict, witness, f)
}

const lmbVPCAccessPolicy = "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"

// lmbAddVPCAccessPolicy gives a role the managed policy Lambda needs to create
// network interfaces, unless it has it.
func lmbAddVPCAccessPolicy(b *edit.Builder, role *template.Resource) {
	arns := role.Property("ManagedPolicyArns")
	for _, a := range arns.List() {
		if s, ok := kmsStringPattern(a); ok && strings.HasSuffix(s, "/AWSLambdaVPCAccessExecutionRole") {
			return
		}
	}
	switch {
	case arns != nil && arns.Kind == template.Sequence:
		b.Append(arns, edit.Sub(lmbVPCAccessPolicy))
	case arns == nil:
		setOrInsertProperty(b, role, nil, "ManagedPolicyArns", edit.List(edit.Sub(lmbVPCAccessPolicy)))
	}
}

// lmbFunctionVPCDependency returns what in the VPC a function talks to, through
// its environment variables or its role's policies: the resource (nil for
// a literal endpoint) and a description for messages ("" when nothing).
func lmbFunctionVPCDependency(pass *analysis.Pass, fn *template.Resource) (*template.Resource, string) {
	if vars := fn.PropertyPath("Environment", "Variables"); vars != nil && vars.Kind == template.Mapping {
		for _, p := range vars.Pairs {
			if res, host, ok := lmbVPCDependency(pass, p.Value); ok {
				if res != nil {
					return res, res.Name + " (" + res.Type + ", through environment variable " + p.Key.Value + ")"
				}
				return nil, "the in-VPC endpoint " + host + " (environment variable " + p.Key.Value + ")"
			}
		}
	}
	if role := resolveOfType(pass, fn.Property("Role"), lmbRoleType); role != nil {
		for _, pol := range role.Property("Policies").List() {
			for _, st := range statements(pol.Get("PolicyDocument")) {
				if res, _, ok := lmbVPCDependency(pass, st.Get("Resource")); ok && res != nil {
					return res, res.Name + " (" + res.Type + ", through role " + role.Name + ")"
				}
			}
		}
	}
	return nil, ""
}

// LambdaPublicAccess reports function permissions and URLs open to anyone,
// and service permissions without a source.
var LambdaPublicAccess = &analysis.Rule{
	ID:       "SOC2-LMB-002",
	Title:    "Lambda function can be invoked by anyone or on behalf of any account",
	Severity: analysis.Error,
	Controls: []string{"CC6.1", "CC6.6"},
	Types:    []string{lmbPermissionType, lmbURLType},
	Doc: `An ` + "`AWS::Lambda::Permission`" + ` with ` + "`Principal: \"*\"`" + ` (and no ` + "`PrincipalOrgID`" + `) lets any AWS identity
invoke the function, and a function URL with ` + "`AuthType: NONE`" + ` lets anyone on the internet call it: both
are errors. A permission for an AWS service (` + "`s3.amazonaws.com`" + `, ` + "`events.amazonaws.com`" + `, ...) without
` + "`SourceArn`" + ` or ` + "`SourceAccount`" + ` lets that service invoke the function on behalf of any customer's bucket or
rule (the confused deputy): a warning.

**Why an auditor cares.** CC6.1 and CC6.6 expect entry points to systems to be limited to known,
authenticated callers. An anonymous invoke path bypasses every identity control in front of the code.

**How to fix.** Name the principal and, for services, set ` + "`SourceArn: !GetAtt <bucket or rule>.Arn`" + ` or
` + "`SourceAccount: !Ref 'AWS::AccountId'`" + `; use ` + "`AuthType: AWS_IAM`" + ` for function URLs and put public traffic
behind API Gateway or CloudFront with their own authentication. The quick fixes add
` + "`SourceAccount`" + ` and switch the URL to ` + "`AWS_IAM`" + `.`,
	Check: checkLambdaPublicAccess,
}

func checkLambdaPublicAccess(pass *analysis.Pass) {
	t, r := pass.Template, pass.Resource
	if r.Type == lmbURLType {
		auth := r.Property("AuthType")
		v, w := t.Eval(auth).Judge(func(a template.Alt) bool { return strings.EqualFold(a.Text(), "NONE") })
		if v == template.Pass {
			return
		}
		f := analysis.Finding{
			Span:    auth.Span,
			Message: "function URL " + r.Name + " has AuthType NONE: anyone on the internet can invoke the function; set AuthType to AWS_IAM",
		}
		if auth.Kind == template.Scalar {
			f.Fixes = []analysis.Fix{pass.NewFix("Set AuthType: AWS_IAM (callers must then sign their requests)", func(b *edit.Builder) {
				b.Replace(auth, edit.Str("AWS_IAM"))
			})}
		}
		pass.ReportVerdict(v, w, f)
		return
	}
	principal := r.Property("Principal")
	if principal == nil {
		return
	}
	if v, w := t.Eval(principal).Judge(func(a template.Alt) bool { return a.Text() == "*" }); v != template.Pass {
		if org := r.Property("PrincipalOrgID"); org == nil || org.Kind == template.Null {
			pass.ReportVerdict(v, w, analysis.Finding{
				Span: principal.Span,
				Message: "permission " + r.Name + " lets any AWS principal invoke the function: name the principal " +
					"(an account, a role, or a service with SourceArn), or restrict it with PrincipalOrgID",
			})
			return
		}
	}
	source := r.Property("SourceArn")
	account := r.Property("SourceAccount")
	if source != nil || account != nil {
		return
	}
	v, w := t.Eval(principal).Judge(func(a template.Alt) bool {
		return a.Kind == template.Literal && strings.HasSuffix(strings.ToLower(a.Text()), ".amazonaws.com")
	})
	if v == template.Pass {
		return
	}
	service := w.Text()
	pass.ReportVerdict(v, w, analysis.Finding{
		Span:     principal.Span,
		Severity: analysis.Warning,
		Message: "permission " + r.Name + " lets " + service + " invoke the function for any account: set SourceArn " +
			"(the bucket, rule or API that calls it) or SourceAccount",
		Fixes: []analysis.Fix{pass.NewFix("Limit the permission to this account (SourceAccount)", func(b *edit.Builder) {
			b.Insert(r.Properties, "SourceAccount", edit.Ref("AWS::AccountId"))
		})},
	})
}

var lambdaRules = []*analysis.Rule{LambdaOutsideVPC, LambdaPublicAccess}
