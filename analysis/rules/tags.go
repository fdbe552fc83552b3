package rules

import (
	"strings"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// EnvironmentTagLiteral reports environment tags written as literals.
var EnvironmentTagLiteral = &analysis.Rule{
	ID:       "SOC2-TAG-001",
	Title:    "Environment tag is hardcoded",
	Severity: analysis.Warning,
	Controls: []string{"CC8.1", "CC6.1"},
	Types:    []string{analysis.AnyType},
	Doc: `A resource's environment tag (` + "`Environment`" + `, ` + "`environment`" + `, ` + "`Env`" + `, ` + "`Stage`" + `) is written as a
literal such as ` + "`production`" + ` instead of referring to the template's ` + "`Environment`" + ` parameter.
The template can then only describe one stage: deploying it to staging either mislabels every resource as
production or needs an edited copy of the template.

**Why an auditor cares.** Change management (CC8.1) is evidenced by one reviewed template promoted through
development, staging and production. Copies that differ only in their tags break that chain, and tags that
lie about the stage undermine the asset inventory and classification that CC6.1 relies on.

**How to fix.** Write ` + "`Value: !Ref Environment`" + `. The quick fix does it and, when the template has no
` + "`Environment`" + ` parameter, adds one in the same edit, with ` + "`AllowedValues`" + ` for the usual stages and the
literal that was there as its default, so that the deployed stack does not change.`,
	Check: checkEnvironmentTags,
}

func checkEnvironmentTags(pass *analysis.Pass) {
	param := pass.Options.EnvironmentParameter
	for _, tg := range tagsOf(pass.Resource) {
		if !isEnvironmentKey(tg.Key, param) || !isLiteral(tg.Value) || tg.Value.Value == "" {
			continue
		}
		pass.Report(analysis.Finding{
			Span: tg.Value.Span,
			Message: "resource " + pass.Resource.Name + " tags " + tg.Key + " with the literal \"" + tg.Value.Value +
				"\": use !Ref " + param + " so that one template serves every stage",
			Fixes: []analysis.Fix{pass.NewFix("Use !Ref "+param+" for the "+tg.Key+" tag", func(b *edit.Builder) {
				useEnvironmentParameter(pass, b, []*template.Node{tg.Value})
			})},
		})
	}
}

// environmentTagLiterals returns every literal environment tag value of the
// template, in document order, computed once per analysis.
// Fixes use it; checks count the tags with environmentLiterals, which an
// edit of one resource does not recompute for all of them.
func environmentTagLiterals(pass *analysis.Pass) []*template.Node {
	return pass.Memo("environmentTagLiterals", func() any {
		var out []*template.Node
		for _, r := range pass.Template.AllResources() {
			out = append(out, environmentTags(r, pass.Options.EnvironmentParameter)...)
		}
		return out
	}).([]*template.Node)
}

// environmentTags returns the literal environment tag values of one
// resource.
func environmentTags(r *template.Resource, param string) []*template.Node {
	var out []*template.Node
	for _, tg := range tagsOf(r) {
		if isEnvironmentKey(tg.Key, param) && isLiteral(tg.Value) && tg.Value.Value != "" {
			out = append(out, tg.Value)
		}
	}
	return out
}

// useEnvironmentParameter is the fix shared by TAG-001 (one tag) and
// PARAM-001 (every tag): the given literal tags become !Ref Environment, and
// the parameter is added when missing, defaulting to the first literal tag of
// the template so that deploying the fixed template changes nothing. Both
// rules build their edits here, so the parameter insertion is the same edit
// in every fix and any combination of them applies cleanly.
func useEnvironmentParameter(pass *analysis.Pass, b *edit.Builder, tags []*template.Node) {
	t := pass.Template
	param := pass.Options.EnvironmentParameter
	for _, n := range tags {
		b.Replace(n, edit.Ref(param))
	}
	if t.Parameter(param) != nil {
		return
	}
	def := ""
	if all := environmentTagLiterals(pass); len(all) > 0 {
		def = all[0].Value
	}
	b.AddEntry("Parameters", param, environmentParameter(pass.Options, def))
}

// environmentParameter is the definition of a new Environment parameter.
func environmentParameter(o *analysis.Options, def string) edit.Value {
	allowed := append([]string{}, o.EnvironmentValues...)
	if def != "" && !contains(allowed, def) {
		allowed = append([]string{def}, allowed...)
	}
	kvs := []edit.KV{
		{Key: "Type", Value: edit.Str("String")},
		{Key: "Description", Value: edit.Str("Deployment stage; drives environment-specific settings and tags")},
		{Key: "AllowedValues", Value: edit.Strs(allowed...)},
	}
	if def != "" {
		kvs = append(kvs, edit.KV{Key: "Default", Value: edit.Str(def)})
	}
	return edit.Map(kvs...)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// dataBearingTypes are the resource types that hold data and must carry the
// required inventory tags, with the property their tags live in.
var dataBearingTypes = map[string]string{
	"AWS::S3::Bucket":             "Tags",
	"AWS::RDS::DBInstance":        "Tags",
	"AWS::RDS::DBCluster":         "Tags",
	"AWS::DynamoDB::Table":        "Tags",
	"AWS::EC2::Volume":            "Tags",
	"AWS::Logs::LogGroup":         "Tags",
	"AWS::KMS::Key":               "Tags",
	"AWS::SNS::Topic":             "Tags",
	"AWS::SQS::Queue":             "Tags",
	"AWS::SecretsManager::Secret": "Tags",
	"AWS::EFS::FileSystem":        "FileSystemTags",
}

// RequiredTagsMissing reports data-bearing resources without the inventory
// tags (by default Environment, Owner and DataClassification).
var RequiredTagsMissing = &analysis.Rule{
	ID:       "SOC2-TAG-002",
	Title:    "Data-bearing resource lacks required inventory tags",
	Severity: analysis.Info,
	Controls: []string{"CC6.1", "C1.1", "CC3.2"},
	Types: []string{"AWS::S3::Bucket", "AWS::RDS::DBInstance", "AWS::RDS::DBCluster", "AWS::DynamoDB::Table",
		"AWS::EC2::Volume", "AWS::Logs::LogGroup", "AWS::KMS::Key", "AWS::SNS::Topic", "AWS::SQS::Queue",
		"AWS::SecretsManager::Secret", "AWS::EFS::FileSystem"},
	Doc: `A resource that stores data (bucket, database, table, volume, file system, log group, key, topic,
queue, secret) does not carry every required tag: by default ` + "`Environment`" + `, ` + "`Owner`" + ` and
` + "`DataClassification`" + ` (configurable). Without them nobody can tell from the account which stage a store
belongs to, who answers for it, or how sensitive its contents are.

**Why an auditor cares.** Identifying and classifying information assets is a point of focus of CC6.1 and
of confidentiality (C1.1), and risk assessment (CC3.2) ranks assets by how critical they are. Tags are the
inventory an auditor samples; an untagged store is one the organisation cannot show it has classified.

**How to fix.** Add the missing tags: ` + "`Environment: !Ref Environment`" + `, ` + "`Owner`" + ` from a parameter, and a
` + "`DataClassification`" + ` that states the real class of the data (public, internal, confidential, restricted,
audit). The quick fix adds them; the classification it writes (audit for audit evidence, internal otherwise) is
a starting point: raise it to confidential or restricted where the data is, and the rules for confidential
stores will then tell what else they need.`,
	Check: checkRequiredTags,
}

func checkRequiredTags(pass *analysis.Pass) {
	r := pass.Resource
	prop := dataBearingTypes[r.Type]
	tags := r.Property(prop)
	if tags != nil && tags.Kind != template.Null && tags.Kind != template.Sequence && tags.Kind != template.Mapping {
		return // written with a function: the keys are not known
	}
	present := tagsAt(tags)
	var missing []string
	for _, key := range pass.Options.RequiredTags {
		found := false
		for _, tg := range present {
			if strings.EqualFold(tg.Key, key) || (isEnvironmentKey(key, pass.Options.EnvironmentParameter) && isEnvironmentKey(tg.Key, pass.Options.EnvironmentParameter)) {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, key)
		}
	}
	if len(missing) == 0 {
		return
	}
	span := pass.KeySpan()
	if p := r.Properties.Pair(prop); p != nil {
		span = p.Key.Span
	}
	class := guessClassification(pass, r)
	title := "Add tag"
	if len(missing) > 1 {
		title += "s"
	}
	title += " " + strings.Join(missing, ", ")
	if contains(missing, "DataClassification") {
		title += " (DataClassification " + class + ": review)"
	}
	pass.Report(analysis.Finding{
		Span: span,
		Message: "resource " + r.Name + " (" + r.Type + ") is missing the " + plural(len(missing), "tag") + " " +
			strings.Join(missing, ", ") + ": tag data-bearing resources so the inventory shows their stage, owner and classification",
		Fixes: []analysis.Fix{pass.NewFix(title, func(b *edit.Builder) {
			addTags(pass, b, r, prop, tags, missing, class)
		})},
	})
}

// tagsAt reads a Tags-style property in list or map form.
func tagsAt(n *template.Node) []tag {
	return tagsOf(&template.Resource{Properties: &template.Node{Kind: template.Mapping, Pairs: []*template.Pair{{Key: &template.Node{Kind: template.Scalar, Value: "Tags"}, Value: n}}}})
}

// guessClassification is the DataClassification a fix proposes: audit for
// the stores of audit evidence, internal otherwise. A fix never claims a
// higher class than it can justify: rules that require more of confidential
// stores would then report what the fix just declared.
func guessClassification(pass *analysis.Pass, r *template.Resource) string {
	// Only buckets and log groups hold audit evidence: other resources need
	// not read (and so depend on) the facts about them.
	switch r.Type {
	case bucketType:
		if _, ok := auditBucketReason(pass, r.Name); ok {
			return "audit"
		}
	case logGroupType:
		if _, ok := auditLogGroupReason(pass, r.Name); ok {
			return "audit"
		}
	}
	return "internal"
}

// addTags adds the missing tags in the values requiredTags uses: the
// Environment parameter, the given class, and a parameter per other key.
func addTags(pass *analysis.Pass, b *edit.Builder, r *template.Resource, prop string, tags *template.Node, missing []string, class string) {
	value := func(key string) edit.Value {
		switch {
		case isEnvironmentKey(key, pass.Options.EnvironmentParameter):
			return edit.Ref(ensureParameter(pass, b, pass.Options.EnvironmentParameter))
		case strings.EqualFold(key, "DataClassification"):
			return edit.Str(class)
		}
		return edit.Ref(ensureParameter(pass, b, key))
	}
	if tags != nil && tags.Kind == template.Mapping {
		for _, key := range missing {
			b.Insert(tags, key, value(key))
		}
		return
	}
	items := make([]edit.Value, 0, len(missing))
	for _, key := range missing {
		items = append(items, edit.Map(edit.KV{Key: "Key", Value: edit.Str(key)}, edit.KV{Key: "Value", Value: value(key)}))
	}
	if tags != nil && tags.Kind == template.Sequence && len(tags.Items) > 0 {
		for _, it := range items {
			b.Append(tags, it)
		}
		return
	}
	setResourceProperty(b, r, prop, edit.List(items...))
}

var tagRules = []*analysis.Rule{EnvironmentTagLiteral, RequiredTagsMissing}
