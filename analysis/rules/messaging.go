package rules

import (
	"strings"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/template"
)

const (
	msgQueueType        = "AWS::SQS::Queue"
	msgEventsRuleType   = "AWS::Events::Rule"
	msgAWSManagedSNSKey = "alias/aws/sns"
)

// MessagingEncryption reports SNS topics and SQS queues without encryption
// at rest.
var MessagingEncryption = &analysis.Rule{
	ID:       "SOC2-MSG-001",
	Title:    "SNS topic or SQS queue is not encrypted at rest",
	Severity: analysis.Warning,
	Controls: []string{"CC6.1", "PI1.4"},
	Types:    []string{snsTopicType, msgQueueType},
	Doc: `Messages wait in SNS topics and SQS queues until they are delivered, and they often carry the same
data as the systems that send them (payment events, alerts naming resources and users). An SNS topic
without ` + "`KmsMasterKeyId`" + ` stores them unencrypted. An SQS queue is encrypted with SQS-owned keys by
default, so a queue with neither setting is only reported as information; a queue with
` + "`SqsManagedSseEnabled: false`" + ` and no ` + "`KmsMasterKeyId`" + ` has encryption turned off and is a warning.

**Why an auditor cares.** CC6.1 expects data at rest to be encrypted, wherever it rests; PI1.4 asks that
outputs reach only their intended recipients, which an unencrypted message store does not guarantee.

**How to fix.** SNS: set ` + "`KmsMasterKeyId`" + `. Topics that CloudWatch alarms or EventBridge publish to need a
customer managed key whose policy lets those services use it (SOC2-TPL-110), not ` + "`alias/aws/sns`" + `; the
quick fix uses the template's audit key (or adds one) for them, and ` + "`alias/aws/sns`" + ` for other topics.
SQS: set ` + "`SqsManagedSseEnabled: true`" + `, or ` + "`KmsMasterKeyId`" + ` for a customer managed key.`,
	Check: checkMessagingEncryption,
}

func checkMessagingEncryption(pass *analysis.Pass) {
	t, r := pass.Template, pass.Resource
	kms := r.Property("KmsMasterKeyId")
	kv, kw := msgConsistentAlts(t, t.Eval(kms)).Judge(func(a template.Alt) bool {
		return a.Kind == template.Absent || (a.Kind == template.Literal && a.Node.IsScalar() && strings.TrimSpace(a.Node.Value) == "")
	})
	if kv == template.Pass {
		return
	}
	if r.Type == snsTopicType {
		f := analysis.Finding{
			Span:    pass.KeySpan(),
			Message: "topic " + r.Name + " stores messages unencrypted: set KmsMasterKeyId",
		}
		if kms != nil && kms.Kind != template.Null {
			f.Span = kms.Span
		}
		if kms == nil || kms.Kind == template.Null {
			alarms, events := msgTopicPublishers(pass)
			if alarms[r.Name] || events[r.Name] {
				f.Fixes = []analysis.Fix{pass.NewFix("Encrypt the topic with the audit key (its policy lets alarms and EventBridge publish)", func(b *edit.Builder) {
					setOrInsertProperty(b, r, kms, "KmsMasterKeyId", useAuditKey(pass, b, keyForAlarms))
				})}
			} else {
				f.Fixes = []analysis.Fix{pass.NewFix("Encrypt the topic with the AWS managed key "+msgAWSManagedSNSKey, func(b *edit.Builder) {
					setOrInsertProperty(b, r, kms, "KmsMasterKeyId", edit.Str(msgAWSManagedSNSKey))
				})}
			}
		}
		pass.ReportVerdict(kv, kw, f)
		return
	}
	sse := r.Property("SqsManagedSseEnabled")
	if v, w := t.Eval(sse).Judge(func(a template.Alt) bool {
		b, ok := a.Bool()
		return ok && !b
	}); v != template.Pass {
		f := analysis.Finding{
			Span:    sse.Span,
			Message: "queue " + r.Name + " turns encryption at rest off (SqsManagedSseEnabled is false and no KmsMasterKeyId): set SqsManagedSseEnabled to true",
		}
		if sse.Kind == template.Scalar {
			f.Fixes = []analysis.Fix{pass.NewFix("Set SqsManagedSseEnabled: true", func(b *edit.Builder) {
				b.Replace(sse, edit.Bool(true))
			})}
		}
		pass.ReportVerdict(msgBothVerdicts(kv, v), w, f)
		return
	}
	if v, w := t.Eval(sse).Judge(altAbsent); v != template.Pass {
		f := analysis.Finding{
			Span:     pass.KeySpan(),
			Severity: analysis.Info,
			Message:  "queue " + r.Name + " relies on the default SQS-owned encryption: set SqsManagedSseEnabled to true (or KmsMasterKeyId) to make it explicit",
		}
		if sse == nil || sse.Kind == template.Null {
			f.Fixes = []analysis.Fix{pass.NewFix("Set SqsManagedSseEnabled: true", func(b *edit.Builder) {
				setOrInsertProperty(b, r, sse, "SqsManagedSseEnabled", edit.Bool(true))
			})}
		}
		if kv == template.Definite && v == template.Definite {
			pass.Report(f)
		} else {
			pass.ReportVerdict(msgBothVerdicts(kv, v), w, f)
		}
	}
}

// msgConsistentAlts drops the alternatives whose parameter value contradicts
// the conditions that select them: in !If [CreateKmsKey, !GetAtt K.Arn,
// !Ref ExistingKmsKeyArn], the parameter's empty default is only the value
// when CreateKmsKey is false, which that very default makes impossible.
func msgConsistentAlts(t *template.Template, v template.Value) template.Value {
	out := make(template.Value, 0, len(v))
	for _, a := range v {
		if a.Kind == template.Literal && a.Param != "" && len(a.Conds) > 0 &&
			len(t.Assume(template.Value{a}, map[string]string{a.Param: a.Text()})) == 0 {
			continue
		}
		out = append(out, a)
	}
	return out
}

func altAbsent(a template.Alt) bool { return a.Kind == template.Absent }

// msgBothVerdicts is the verdict of two conditions that must both hold: Definite
// only when both are.
func msgBothVerdicts(a, b template.Verdict) template.Verdict {
	if a == template.Pass || b == template.Pass {
		return template.Pass
	}
	if a == template.Definite && b == template.Definite {
		return template.Definite
	}
	return template.Possible
}

// setOrInsertProperty writes key: v on a resource whose property prop (may be nil)
// is missing or written in place.
func setOrInsertProperty(b *edit.Builder, r *template.Resource, prop *template.Node, key string, v edit.Value) {
	switch {
	case r.Properties == nil || r.Properties.Kind != template.Mapping:
		b.SetPath(r.Value, []string{"Properties", key}, v)
	case prop != nil:
		b.Set(r.Properties, key, v)
	default:
		b.Insert(r.Properties, key, v)
	}
}

// AlarmTopicKey reports alarm topics whose encryption key CloudWatch (or
// EventBridge) cannot use.
var AlarmTopicKey = &analysis.Rule{
	ID:       "SOC2-TPL-110",
	Title:    "Alarm topic is encrypted with a key its publishers cannot use",
	Severity: analysis.Warning,
	Controls: []string{"CC7.3", "CC7.4"},
	Doc: `CloudWatch alarms (and EventBridge rules) publish to SNS as AWS services, so an encrypted topic's key
policy must let ` + "`cloudwatch.amazonaws.com`" + ` (and ` + "`events.amazonaws.com`" + ` when a rule targets the topic)
call ` + "`kms:GenerateDataKey*`" + ` and ` + "`kms:Decrypt`" + `. The AWS managed key ` + "`alias/aws/sns`" + ` cannot be given
that permission, and a customer managed key of the template may simply lack the statement. Topics only
EventBridge publishes to are reported here when they use ` + "`alias/aws/sns`" + ` (a customer managed key of the
template that lacks the statement is SOC2-TPL-111's). Either way the
alarm changes state, the publish fails, and nobody is told: the deployment succeeds and the failure only
shows in the alarm's history.

**Why an auditor cares.** Evaluating security events (CC7.3) and responding to incidents (CC7.4) start
with the alert reaching a person. An alerting path that drops every notification is a control that
exists on paper only.

**How to fix.** Encrypt the topic with a customer managed key and add the publishers' statement to its
policy (catalogue snippet F1, ` + "`AlarmAndEventPublishers`" + `). The quick fix switches the topic to the
template's audit key (adding one when the template has none) or adds the statement to the key in use.`,
	Check: checkAlarmTopicKeys,
}

func checkAlarmTopicKeys(pass *analysis.Pass) {
	t := pass.Template
	alarms, events := msgTopicPublishers(pass)
	for _, topic := range t.ResourcesOfType(snsTopicType) {
		if !alarms[topic.Name] && !events[topic.Name] {
			continue
		}
		kms := topic.Property("KmsMasterKeyId")
		if kms == nil || kms.Kind == template.Null {
			continue
		}
		var who []string
		var services []string
		if alarms[topic.Name] {
			who, services = append(who, "CloudWatch alarms"), append(services, "cloudwatch.amazonaws.com")
		}
		if events[topic.Name] {
			who, services = append(who, "EventBridge"), append(services, "events.amazonaws.com")
		}
		kind := "alarm topic "
		if !alarms[topic.Name] {
			kind = "event topic "
		}
		if v, w := t.Eval(kms).Judge(func(a template.Alt) bool { return isAWSManagedSNSKey(a.Text()) }); v != template.Pass {
			f := analysis.Finding{
				Span:     kms.Span,
				Resource: topic.Name,
				Message: kind + topic.Name + " is encrypted with the AWS managed key " + msgAWSManagedSNSKey + ", which " + strings.Join(who, " and ") +
					" cannot use: notifications are silently dropped; use a customer managed key whose policy allows " + strings.Join(services, " and "),
			}
			if kms.Kind == template.Scalar {
				f.Fixes = []analysis.Fix{pass.NewFix("Encrypt the topic with the audit key", func(b *edit.Builder) {
					b.Replace(kms, useAuditKey(pass, b, keyForAlarms))
				})}
			}
			pass.ReportVerdict(v, w, f)
			continue
		}
		if !alarms[topic.Name] {
			continue // a key of the template that EventBridge cannot use is SOC2-TPL-111's
		}
		key := kmsResolveKey(pass, kms)
		if key == nil || kmsKeyAllowsServices(key, services, "kms:GenerateDataKey*", "kms:Decrypt") {
			continue
		}
		f := analysis.Finding{
			Span:     kms.Span,
			Resource: topic.Name,
			Message: "alarm topic " + topic.Name + " is encrypted with key " + key.Name + ", whose policy does not allow " +
				strings.Join(services, " and ") + " kms:GenerateDataKey* and kms:Decrypt: notifications are silently dropped; add the publishers statement to the key policy",
			Related: []analysis.Related{{Span: key.Key.Span, Message: "key " + key.Name}},
		}
		if canAddKeyStatements(key, keyForAlarms) {
			f.Fixes = []analysis.Fix{pass.NewFix("Add the alarm and EventBridge publishers statement to "+key.Name+"'s policy", func(b *edit.Builder) {
				addKeyStatements(b, key, keyForAlarms)
			})}
		}
		pass.Report(f)
	}
}

// isAWSManagedSNSKey reports whether a key id is the AWS managed SNS key,
// by alias or alias ARN.
func isAWSManagedSNSKey(s string) bool {
	return s == msgAWSManagedSNSKey || (strings.HasPrefix(s, "arn:") && strings.HasSuffix(s, ":"+msgAWSManagedSNSKey))
}

// msgTopicPublisherSets are the logical ids of the topics alarms notify
// and of those EventBridge rules target.
type msgTopicPublisherSets struct{ Alarms, Events map[string]bool }

// msgTopicPublishers returns the in-template SNS topics that CloudWatch alarms
// notify (AlarmActions, OKActions, InsufficientDataActions) and those that
// EventBridge rules target, by logical id.
func msgTopicPublishers(pass *analysis.Pass) (alarms, events map[string]bool) {
	p := pass.Fact(msgTopicPublishersFact).(msgTopicPublisherSets)
	return p.Alarms, p.Events
}

var msgTopicPublishersFact = &analysis.Fact{Key: "messaging.topicPublishers", Compute: func(pass *analysis.Pass) any {
	p := msgTopicPublisherSets{Alarms: map[string]bool{}, Events: map[string]bool{}}
	for _, g := range pass.Gather(msgTopicsPublished) {
		v := g.Value.(msgPublished)
		m := p.Alarms
		if v.Events {
			m = p.Events
		}
		for _, topic := range v.Topics {
			m[topic] = true
		}
	}
	return p
}}

// msgPublished is what one alarm or EventBridge rule publishes to.
type msgPublished struct {
	Events bool // an EventBridge rule, else an alarm
	Topics []string
}

// msgTopicsPublished are the in-template topics each alarm notifies or each
// EventBridge rule targets, gathered per resource so that an edit of one
// alarm recomputes its own.
var msgTopicsPublished = &analysis.ResourceFact{Key: "messaging.topicsPublished", Compute: func(pass *analysis.Pass) any {
	r := pass.Resource
	v := msgPublished{}
	add := func(n *template.Node) {
		if topic := resolveNameOfType(pass, n, snsTopicType); topic != "" {
			v.Topics = append(v.Topics, topic)
		}
	}
	switch r.Type {
	case alarmType, "AWS::CloudWatch::CompositeAlarm":
		for _, prop := range []string{"AlarmActions", "OKActions", "InsufficientDataActions"} {
			for _, act := range r.Property(prop).List() {
				add(act)
			}
		}
	case msgEventsRuleType:
		v.Events = true
		for _, target := range r.Property("Targets").List() {
			add(target.Get("Arn"))
		}
	}
	if len(v.Topics) == 0 {
		return nil
	}
	return v
}}

var messagingRules = []*analysis.Rule{MessagingEncryption, AlarmTopicKey}
