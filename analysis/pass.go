package analysis

import (
	"fmt"

	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// Pass is what a rule's Check receives: the template, the resource under
// inspection (for resource rules), the options, and the means to report.
type Pass struct {
	Rule     *Rule
	Template *template.Template
	Resource *template.Resource // nil for whole-template rules
	Options  *Options
	report   func(Finding)
	run      *analysisRun // the analysis the pass belongs to
	noFixes  bool         // the engine builds no fix edits (Engine.WithoutFixes)
	// recorder collects what the check reads of other resources: Template
	// is a view of the template that reports its lookups to it.
	recorder *recorder
}

// fact is a memoised value and what computing it read.
type fact struct {
	value any
	reads *reads
}

// Memo returns the value computed by compute for key, computing it at most
// once per template analysis. Rules use it for indexes that several rules
// or resources need (the audit buckets, the baseline verdict), so that no
// rule re-walks the template per resource. Whoever uses the value depends
// on what computing it read.
func (p *Pass) Memo(key string, compute func() any) any {
	if f, ok := p.run.memo[key]; ok {
		p.recorder.cur.addFact(f.reads)
		return f.value
	}
	f := &fact{reads: &reads{fact: key}}
	caller := p.recorder.cur
	p.recorder.cur = f.reads
	defer func() { p.recorder.cur = caller }()
	f.value = compute()
	p.run.memo[key] = f
	caller.addFact(f.reads)
	return f.value
}

// Report records a finding. Unset fields take the rule's defaults: the rule's
// id, severity and criteria, and the resource under inspection.
func (p *Pass) Report(f Finding) {
	f.RuleID = p.Rule.ID
	if f.Severity == 0 {
		f.Severity = p.Rule.Severity
	}
	if f.Controls == nil {
		f.Controls = p.Rule.Controls
	}
	if f.Resource == "" && p.Resource != nil {
		f.Resource = p.Resource.Name
	}
	p.report(f)
}

// Reportf reports a finding at span with a formatted message.
func (p *Pass) Reportf(span template.Span, format string, args ...any) {
	p.Report(Finding{Span: span, Message: fmt.Sprintf(format, args...)})
}

// ReportVerdict reports f according to a verdict from template.Value.Judge:
// nothing for Pass; as is for Definite; one severity level lower for
// Possible, with the circumstances of the witness appended to the message
// ("when IsProduction is false").
func (p *Pass) ReportVerdict(v template.Verdict, witness template.Alt, f Finding) {
	switch v {
	case template.Pass:
		return
	case template.Possible:
		if f.Severity == 0 {
			f.Severity = p.Rule.Severity
		}
		f.Severity = f.Severity.Lower()
		f.Possible = true
		if d := witness.Describe(); d != "" {
			f.Message += " (" + d + ")"
		}
	case template.Definite:
		if d := witness.Describe(); d != "" && witness.Param != "" && !witness.Default {
			f.Message += " (" + d + ")"
		}
	}
	p.Report(f)
}

// NewFix builds a fix with the given title: build receives an edit builder
// for the pass's template. An engine that builds no fixes (WithoutFixes)
// does not call build: the fix has its title and no edits. A fix whose
// title or Unsafe flag depends on building it uses NewFixNow.
func (p *Pass) NewFix(title string, build func(b *edit.Builder)) Fix {
	if p.noFixes {
		return Fix{Title: title}
	}
	b := edit.New(p.Template)
	build(b)
	return Fix{Title: title, Edits: b.Edits()}
}

// NewFixNow is NewFix for fixes whose title or safety depends on what
// building them finds (a referrer that needs a human check): it builds the
// edits even for an engine that builds no fixes, so that the title shown
// with a diagnostic is the one the code action offers. It costs a full
// build: use it only for such fixes, whose findings are few.
func (p *Pass) NewFixNow(title string, build func(b *edit.Builder)) Fix {
	b := edit.New(p.Template)
	build(b)
	if p.noFixes {
		return Fix{Title: title}
	}
	return Fix{Title: title, Edits: b.Edits()}
}

// KeySpan returns the span of the resource's logical id, the usual anchor
// for "property missing" findings.
func (p *Pass) KeySpan() template.Span {
	if p.Resource == nil {
		return template.Span{}
	}
	return p.Resource.Key.Span
}

// SectionSpan returns the span of a top-level section key (Resources,
// Parameters, ...), or of the first key of the document when the section is
// absent.
func (p *Pass) SectionSpan(name string) template.Span {
	t := p.Template
	if s := t.Sections[name]; s != nil {
		return s.Key.Span
	}
	if s := t.Sections["Resources"]; s != nil {
		return s.Key.Span
	}
	if t.Root != nil && len(t.Root.Pairs) > 0 {
		return t.Root.Pairs[0].Key.Span
	}
	return template.Span{}
}

// ProductionValue is the value of the Environment parameter that means
// production.
const ProductionValue = "production"

// Production returns the parameter values that describe a production
// deployment, for template.Assume and EvalCondition.
func (p *Pass) Production() map[string]string {
	return map[string]string{p.Options.EnvironmentParameter: ProductionValue}
}

// IsProductionTemplate reports whether the template deploys to production
// when nothing says otherwise: its Environment parameter defaults to
// production or allows nothing else. Production-sensitive rules ("prod↑" in
// the catalogue) raise their severity one level for such templates.
func (p *Pass) IsProductionTemplate() bool {
	param := p.Template.Parameter(p.Options.EnvironmentParameter)
	if param == nil {
		return false
	}
	if param.Default.Text() == ProductionValue {
		return true
	}
	return len(param.AllowedValues) == 1 && param.AllowedValues[0].Text() == ProductionValue
}
