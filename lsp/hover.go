package lsp

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"go.lsp.dev/protocol"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/controls"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// hover explains what is under the cursor: the findings there (rule, what
// is wrong, the criteria, the fixes), a resource type (what it is, which
// rules watch it), the definition of a Ref/GetAtt/Sub/Condition/FindInMap
// target, or a criterion or rule id written anywhere (a comment, a string).
func (s *Server) hover(ctx context.Context, p *protocol.HoverParams) (any, error) {
	snap, cur, release, err := s.model(ctx, p.TextDocument.URI)
	if err != nil {
		return nil, err
	}
	defer release()
	var parts []string
	var span *template.Span
	cover := func(sp template.Span) {
		if span == nil {
			span = &sp
		}
	}
	// Findings come from the current version (while the text does not
	// parse, that is the syntax error), so that their spans match the text.
	curOff := toOffset(cur.tmpl().Lines, p.Position)
	var hovered []int
	for i, f := range cur.findings {
		if curOff >= f.Span.Start && curOff <= f.Span.End {
			hovered = append(hovered, i)
			cover(f.Span)
		}
	}
	// The hover lists the findings' fixes as a code action would offer
	// them (some are only known once built).
	for _, f := range cur.fixesOf(hovered) {
		parts = append(parts, findingHover(cur.engine, f))
	}
	// While the text does not parse, the last good findings it shows are
	// explained too, without fixes: those return once it parses.
	for _, f := range cur.kept {
		if curOff >= f.Span.Start && curOff <= f.Span.End {
			f.Fixes = nil
			parts = append(parts, findingHover(cur.engine, f)+"\n\n_Found in the last version that parsed; its fixes return once the template parses again._")
			cover(f.Span)
		}
	}
	if snap == nil {
		snap = cur // nothing ever parsed: only ids in the text can be explained
	}
	t := snap.tmpl()
	off := toOffset(t.Lines, p.Position)
	// Spans of an older model do not match the text: no range then.
	coverModel := func(sp template.Span) {
		if snap == cur {
			cover(sp)
		}
	}
	if word, sp, ok := idAt(cur.tmpl().Source, curOff); ok {
		if c, ok := controls.Lookup(word); ok {
			parts = append(parts, c.Markdown())
			cover(sp)
		} else if r, ok := cur.engine.Rule(strings.ToUpper(word)); ok {
			parts = append(parts, ruleHover(r))
			cover(sp)
		}
	}
	if tg, ok := targetAt(t, off); ok {
		if md := targetHover(t, tg); md != "" {
			if tg.def {
				md += fmt.Sprintf(" Used %s.", plural(len(t.Refs.To(tg.ns, tg.name)), "time"))
			}
			parts = append(parts, md)
			coverModel(tg.span)
		}
	}
	if fn, sp, ok := functionAt(t, off); ok {
		parts = append(parts, functionHover(fn))
		coverModel(sp)
	}
	for _, r := range t.Resources {
		if n := r.TypeNode; n != nil && n.IsScalar() && off >= n.Start && off <= n.End {
			parts = append(parts, typeHover(snap.engine, r.Type))
			coverModel(n.Span)
		}
	}
	if len(parts) == 0 {
		return nil, nil
	}
	md := strings.Join(parts, "\n\n---\n\n")
	content := protocol.MarkupContent{Kind: protocol.Markdown, Value: md}
	if !s.capabilities().markdown() {
		content = protocol.MarkupContent{Kind: protocol.PlainText, Value: plainText(md)}
	}
	h := &protocol.Hover{Contents: content}
	if span != nil {
		r := toRange(cur.tmpl().Lines, *span)
		h.Range = &r
	}
	return h, nil
}

// findingHover explains one finding.
func findingHover(e *analysis.Engine, f analysis.Finding) string {
	var b strings.Builder
	title := f.RuleID
	if r, ok := e.Rule(f.RuleID); ok {
		title = fmt.Sprintf("[%s](%s) — %s", r.ID, r.DocURL(), r.Title)
	}
	fmt.Fprintf(&b, "**%s** (%s)\n\n%s\n", title, f.Severity, f.Message)
	if len(f.Controls) > 0 {
		b.WriteString("\n**SOC 2 criteria**\n\n")
		for _, id := range f.Controls {
			if c, ok := controls.Lookup(id); ok {
				fmt.Fprintf(&b, "- **%s — %s**: %s\n", c.ID, c.Title, c.Summary)
			} else {
				fmt.Fprintf(&b, "- %s\n", id)
			}
		}
	}
	if r, ok := e.Rule(f.RuleID); ok && r.EquivalentsText() != "" {
		fmt.Fprintf(&b, "\nSame check elsewhere: %s\n", r.EquivalentsText())
	}
	if len(f.Fixes) > 0 {
		b.WriteString("\n**Quick fixes**\n\n")
		for _, fx := range f.Fixes {
			note := ""
			if fx.Unsafe {
				note = " (needs review)"
			}
			fmt.Fprintf(&b, "- %s%s\n", fx.Title, note)
		}
	}
	if len(f.Controls) > 0 {
		fmt.Fprintf(&b, "\n_%s_\n", controls.Disclaimer)
	}
	return strings.TrimRight(b.String(), "\n")
}

// ruleHover describes a rule named in the text (a suppression, a comment).
func ruleHover(r *analysis.Rule) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**[%s](%s) — %s** (%s)\n\n", r.ID, r.DocURL(), r.Title, r.Severity)
	if len(r.Controls) > 0 {
		fmt.Fprintf(&b, "Criteria: %s\n\n", strings.Join(r.Controls, ", "))
	}
	if eq := r.EquivalentsText(); eq != "" {
		fmt.Fprintf(&b, "Same check elsewhere: %s\n\n", eq)
	}
	b.WriteString(strings.TrimSpace(r.Doc))
	return b.String()
}

// idPattern matches a criterion id (CC6.1, A1.2, C1.1, PI1.3) or a rule id
// (SOC2-S3-001).
var idPattern = regexp.MustCompile(`(?i)^(?:CC\d+\.\d+|A\d+\.\d+|C\d+\.\d+|PI\d+\.\d+|SOC2-[A-Z0-9]+-\d+)$`)

// idAt returns the criterion or rule id around byte offset off, if any.
func idAt(src []byte, off int) (string, template.Span, bool) {
	isID := func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-'
	}
	if off > len(src) {
		off = len(src)
	}
	start, end := off, off
	for start > 0 && isID(src[start-1]) {
		start--
	}
	for end < len(src) && isID(src[end]) {
		end++
	}
	for end > start && (src[end-1] == '.' || src[end-1] == '-') {
		end--
	}
	for start < end && (src[start] == '.' || src[start] == '-') {
		start++
	}
	word := string(src[start:end])
	if !idPattern.MatchString(word) {
		return "", template.Span{}, false
	}
	return word, template.Span{Start: start, End: end}, true
}

// targetHover shows the definition a reference points at.
func targetHover(t *template.Template, tg target) string {
	var b strings.Builder
	switch tg.ns {
	case template.NSEntity:
		if strings.HasPrefix(tg.name, "AWS::") {
			if d, ok := pseudoParameters[tg.name]; ok {
				return fmt.Sprintf("**Pseudo parameter** `%s`\n\n%s", tg.name, d)
			}
			return ""
		}
		if p := t.Parameter(tg.name); p != nil {
			fmt.Fprintf(&b, "**Parameter** `%s`", p.Name)
			if p.Type != "" {
				fmt.Fprintf(&b, ": `%s`", p.Type)
			}
			b.WriteString("\n")
			if d := p.Value.Get("Description").Text(); d != "" {
				fmt.Fprintf(&b, "\n%s\n", d)
			}
			if p.Default != nil {
				fmt.Fprintf(&b, "\nDefault: %s\n", nodeText(t, p.Default))
			}
			if len(p.AllowedValues) > 0 {
				vals := make([]string, len(p.AllowedValues))
				for i, v := range p.AllowedValues {
					vals[i] = nodeText(t, v)
				}
				fmt.Fprintf(&b, "\nAllowed values: %s\n", strings.Join(vals, ", "))
			}
			if p.NoEcho {
				b.WriteString("\nNoEcho: the value is masked in the console and API.\n")
			}
			fmt.Fprintf(&b, "\nDefined at line %d.", t.Lines.Position(p.Key.Start).Line)
			return b.String()
		}
		if r := t.Resource(tg.name); r != nil {
			fmt.Fprintf(&b, "**Resource** `%s`: `%s`\n", r.Name, r.Type)
			if tg.ref.Attr != "" {
				fmt.Fprintf(&b, "\nAttribute `%s` (Fn::GetAtt).\n", tg.ref.Attr)
			} else if tg.ref.Kind == template.RefRef {
				b.WriteString("\n`Ref` returns the resource's physical id (name or id, depending on the type).\n")
			}
			if r.Condition != "" {
				fmt.Fprintf(&b, "\nCreated only when condition `%s` is true.\n", r.Condition)
			}
			fmt.Fprintf(&b, "\nDefined at line %d.", t.Lines.Position(r.Key.Start).Line)
			return b.String()
		}
		return fmt.Sprintf("`%s` is not defined in this template: no parameter or resource has this name.", tg.name)
	case template.NSCondition:
		if c := t.Condition(tg.name); c != nil {
			return fmt.Sprintf("**Condition** `%s`\n\n```\n%s\n```\n\nDefined at line %d.", c.Name, snippet(t, c.Value), t.Lines.Position(c.Key.Start).Line)
		}
		return fmt.Sprintf("`%s` is not defined in this template: no condition has this name.", tg.name)
	case template.NSMapping:
		if m := t.Mapping(tg.name); m != nil {
			var keys []string
			if m.Value.Kind == template.Mapping {
				for _, p := range m.Value.Pairs {
					keys = append(keys, "`"+p.Key.Value+"`")
				}
			}
			return fmt.Sprintf("**Mapping** `%s`\n\nTop-level keys: %s\n\nDefined at line %d.", m.Name, strings.Join(keys, ", "), t.Lines.Position(m.Key.Start).Line)
		}
		return fmt.Sprintf("`%s` is not defined in this template: no mapping has this name.", tg.name)
	}
	return ""
}

// nodeText renders a scalar in backquotes, or the node's source text.
func nodeText(t *template.Template, n *template.Node) string {
	if n.IsScalar() {
		return "`" + n.Value + "`"
	}
	return "`" + snippet(t, n) + "`"
}

// snippet is the source text of a node, cut to a few lines for a hover.
func snippet(t *template.Template, n *template.Node) string {
	if n == nil || n.End > len(t.Source) || n.Start > n.End {
		return ""
	}
	text := string(t.Source[n.Start:n.End])
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	if len(lines) > 12 {
		lines = append(lines[:12], "…")
	}
	return strings.Join(lines, "\n")
}

// typeHover says what a resource type is and which rules watch it.
func typeHover(e *analysis.Engine, typ string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s**", typ)
	if d, ok := resourceTypes[typ]; ok {
		fmt.Fprintf(&b, " — %s", d)
	}
	b.WriteString("\n")
	if url := typeDocURL(typ); url != "" {
		fmt.Fprintf(&b, "\n[CloudFormation reference](%s)\n", url)
	}
	var watching []string
	for _, r := range e.Rules() {
		if r.Meta {
			continue
		}
		for _, rt := range r.Types {
			if rt == typ || rt == analysis.AnyType {
				watching = append(watching, fmt.Sprintf("- %s — %s (%s)", r.ID, r.Title, strings.Join(r.Controls, ", ")))
				break
			}
		}
	}
	if len(watching) > 0 {
		fmt.Fprintf(&b, "\n**Rules that check it**\n\n%s", strings.Join(watching, "\n"))
	} else {
		b.WriteString("\nNo soc2ls rule checks this type.")
	}
	return b.String()
}

// typeDocURL is the CloudFormation reference page of an AWS resource type.
func typeDocURL(typ string) string {
	parts := strings.Split(typ, "::")
	if len(parts) != 3 || parts[0] != "AWS" {
		return ""
	}
	return "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-" +
		strings.ToLower(parts[1]) + "-" + strings.ToLower(parts[2]) + ".html"
}

// plainText strips the Markdown the hovers use, for clients that only
// render plain text.
func plainText(md string) string {
	md = regexp.MustCompile(`\[([^\]]+)\]\(([^)]+)\)`).ReplaceAllString(md, "$1 <$2>")
	md = strings.NewReplacer("**", "", "`", "", "```", "", "\n---\n", "\n\n").Replace(md)
	md = regexp.MustCompile(`(?m)^#+ `).ReplaceAllString(md, "")
	md = regexp.MustCompile(`(?m)^_(.*)_$`).ReplaceAllString(md, "$1")
	return md
}

// pseudoParameters explains AWS pseudo parameters.
var pseudoParameters = map[string]string{
	"AWS::AccountId":        "The id of the AWS account the stack is created in.",
	"AWS::NotificationARNs": "The SNS topic ARNs the stack sends its events to.",
	"AWS::NoValue":          "Removes the property it is the value of (usually in one branch of `Fn::If`).",
	"AWS::Partition":        "The partition: `aws`, `aws-cn` or `aws-us-gov`.",
	"AWS::Region":           "The region the stack is created in.",
	"AWS::StackId":          "The id (ARN) of the stack.",
	"AWS::StackName":        "The name of the stack.",
	"AWS::URLSuffix":        "The domain suffix, usually `amazonaws.com`.",
}

// resourceTypes describes the resource types SOC 2 templates use most.
var resourceTypes = map[string]string{
	"AWS::CloudTrail::Trail":                    "a CloudTrail trail: records API activity in the account to S3 (and optionally CloudWatch Logs).",
	"AWS::Config::ConfigurationRecorder":        "the AWS Config recorder: records resource configurations and their changes.",
	"AWS::Config::DeliveryChannel":              "where AWS Config delivers configuration snapshots and history (S3, SNS).",
	"AWS::Config::ConfigRule":                   "an AWS Config rule that evaluates resource configurations.",
	"AWS::GuardDuty::Detector":                  "the GuardDuty detector: threat detection for the account and region.",
	"AWS::KMS::Key":                             "a KMS key for encryption at rest.",
	"AWS::KMS::Alias":                           "a friendly name for a KMS key.",
	"AWS::S3::Bucket":                           "an S3 bucket: object storage.",
	"AWS::S3::BucketPolicy":                     "the resource policy of an S3 bucket.",
	"AWS::EC2::Instance":                        "an EC2 virtual machine.",
	"AWS::EC2::SecurityGroup":                   "a security group: stateful firewall rules for network interfaces.",
	"AWS::EC2::SecurityGroupIngress":            "one inbound rule of a security group.",
	"AWS::EC2::Volume":                          "an EBS volume.",
	"AWS::EC2::VPC":                             "a virtual private cloud: an isolated network.",
	"AWS::EC2::FlowLog":                         "a VPC flow log: records network traffic metadata.",
	"AWS::EC2::Subnet":                          "a subnet of a VPC.",
	"AWS::IAM::Role":                            "an IAM role: an identity that services or users assume.",
	"AWS::IAM::Policy":                          "an inline IAM policy attached to users, groups or roles.",
	"AWS::IAM::ManagedPolicy":                   "a customer managed IAM policy.",
	"AWS::IAM::User":                            "an IAM user: a long-lived identity with credentials.",
	"AWS::RDS::DBInstance":                      "an RDS database instance.",
	"AWS::RDS::DBCluster":                       "an Aurora database cluster.",
	"AWS::Logs::LogGroup":                       "a CloudWatch Logs log group.",
	"AWS::CloudWatch::Alarm":                    "a CloudWatch alarm.",
	"AWS::SNS::Topic":                           "an SNS topic: publish/subscribe notifications.",
	"AWS::SQS::Queue":                           "an SQS queue.",
	"AWS::Lambda::Function":                     "a Lambda function.",
	"AWS::DynamoDB::Table":                      "a DynamoDB table.",
	"AWS::SecretsManager::Secret":               "a Secrets Manager secret.",
	"AWS::ElasticLoadBalancingV2::LoadBalancer": "an application or network load balancer.",
	"AWS::ElasticLoadBalancingV2::Listener":     "a listener of a load balancer (port and protocol).",
}

func plural(n int, word string) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// functionAt returns the intrinsic function whose name (the YAML tag or the
// long-form key) is at byte offset off.
func functionAt(t *template.Template, off int) (string, template.Span, bool) {
	_, path := t.NodeAt(off)
	for i := len(path) - 1; i >= 0; i-- {
		n := path[i]
		if n.Kind == template.Intrinsic && off >= n.FnSpan.Start && off < n.FnSpan.End {
			return n.Fn, n.FnSpan, true
		}
	}
	return "", template.Span{}, false
}

// functionHover describes an intrinsic function in both its forms.
func functionHover(fn string) string {
	d := functions[fn]
	if d == "" {
		d = "A CloudFormation intrinsic function."
	}
	return fmt.Sprintf("**%s** (`%s`)\n\n%s", fn, template.ShortName(fn), d)
}

// functions describes the intrinsic functions templates use most.
var functions = map[string]string{
	"Ref":              "The value of a parameter, or the physical id of a resource (`!Ref Name`).",
	"Condition":        "The value of a named condition, inside other conditions (`!Condition Name`).",
	"Fn::GetAtt":       "An attribute of a resource: `!GetAtt Resource.Attribute` or `[Resource, Attribute]`.",
	"Fn::Sub":          "A string with `${Name}`, `${Resource.Attribute}` and `${AWS::Region}` substituted; `${!Literal}` keeps the braces.",
	"Fn::Join":         "Joins a list with a delimiter: `!Join [delimiter, [a, b]]`.",
	"Fn::Split":        "Splits a string into a list: `!Split [delimiter, string]`.",
	"Fn::Select":       "The item at an index of a list: `!Select [index, list]`.",
	"Fn::If":           "`!If [Condition, value if true, value if false]`; `!Ref AWS::NoValue` removes the property.",
	"Fn::Equals":       "True when both values are equal (in Conditions).",
	"Fn::And":          "True when all the conditions are true (2 to 10).",
	"Fn::Or":           "True when any of the conditions is true (2 to 10).",
	"Fn::Not":          "The negation of one condition: `!Not [Condition]`.",
	"Fn::FindInMap":    "A value from the Mappings section: `!FindInMap [Map, TopLevelKey, SecondLevelKey]`.",
	"Fn::ImportValue":  "A value exported by another stack; the exporting stack cannot change or delete it while it is imported.",
	"Fn::Base64":       "The Base64 encoding of a string (user data).",
	"Fn::Cidr":         "A list of CIDR blocks carved from one: `!Cidr [block, count, bits]`.",
	"Fn::GetAZs":       "The availability zones of a region (`!GetAZs ''` for the stack's own).",
	"Fn::Transform":    "Calls a macro on part of the template.",
	"Fn::Length":       "The number of items in a list (AWS::LanguageExtensions).",
	"Fn::ToJsonString": "A value rendered as a JSON string (AWS::LanguageExtensions).",
	"Fn::ForEach":      "Repeats a template fragment for each item of a list (AWS::LanguageExtensions).",
}
