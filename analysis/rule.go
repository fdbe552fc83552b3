// Package analysis is the soc2ls engine: rules as self-describing values (in
// the spirit of golang.org/x/tools/go/analysis), the findings they report with
// exact spans and fixes, and the engine that runs them over a parsed
// template. It has no dependency on the language server protocol.
package analysis

import (
	"fmt"
	"strings"

	"github.com/soc2ls/soc2ls/analysis/controls"
	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// Severity is how serious a finding is. Higher is worse.
type Severity uint8

// Severities, from least to most serious. Hint is used only for possible
// violations of info-level rules.
const (
	Hint Severity = iota + 1
	Info
	Warning
	Error
)

func (s Severity) String() string {
	switch s {
	case Hint:
		return "hint"
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return fmt.Sprintf("severity(%d)", s)
}

// ParseSeverity reads "error", "warning", "info" or "hint".
func ParseSeverity(s string) (Severity, bool) {
	switch strings.ToLower(s) {
	case "error":
		return Error, true
	case "warning", "warn":
		return Warning, true
	case "info":
		return Info, true
	case "hint":
		return Hint, true
	}
	return 0, false
}

// Lower returns the next lower severity (Hint stays Hint).
func (s Severity) Lower() Severity {
	if s <= Hint {
		return Hint
	}
	return s - 1
}

// Raise returns the next higher severity (Error stays Error).
func (s Severity) Raise() Severity {
	if s >= Error {
		return Error
	}
	return s + 1
}

// Rule is a check, described well enough to be listed, documented,
// configured and explained without running it.
type Rule struct {
	ID       string   // stable identifier, e.g. "SOC2-CT-001"
	Title    string   // one line, e.g. "CloudTrail trail is not multi-region"
	Severity Severity // default severity of a definite violation
	Controls []string // SOC 2 criteria threatened, primary first
	// Doc is Markdown: what the rule checks, why an auditor cares, how to fix.
	Doc string
	// Types lists the resource types the rule inspects; Check runs once per
	// resource of those types with Pass.Resource set. Empty means a
	// whole-template rule: Check runs once with Pass.Resource nil.
	Types []string
	Check func(*Pass)
	// Meta marks rules about the template text itself (syntax errors,
	// duplicate keys, internal errors) rather than a SOC 2 control.
	Meta bool
	// Equivalents are the ids of other tools' checks for the same thing:
	// checkov (CKV_AWS_*), cfn_nag (W*, F*) and AWS Config managed rules,
	// whose identifiers cfn-guard's registry also uses. Suppressions written
	// for them count (see Crosswalk), and hovers and docs list them.
	Equivalents []string
}

// EquivalentsText names a rule's equivalents by tool, e.g. "checkov
// CKV_AWS_18; cfn_nag W35; AWS Config S3_BUCKET_LOGGING_ENABLED", or "".
func (r *Rule) EquivalentsText() string {
	var ck, nag, cfg []string
	for _, id := range r.Equivalents {
		switch {
		case strings.HasPrefix(id, "CKV"):
			ck = append(ck, id)
		case len(id) > 1 && (id[0] == 'W' || id[0] == 'F') && id[1] >= '0' && id[1] <= '9':
			nag = append(nag, id)
		default:
			cfg = append(cfg, id)
		}
	}
	var parts []string
	for _, g := range []struct {
		tool string
		ids  []string
	}{{"checkov", ck}, {"cfn_nag", nag}, {"AWS Config / cfn-guard", cfg}} {
		if len(g.ids) > 0 {
			parts = append(parts, g.tool+" "+strings.Join(g.ids, ", "))
		}
	}
	return strings.Join(parts, "; ")
}

// DocURL returns the address of the rule's documentation.
func (r *Rule) DocURL() string {
	return "https://github.com/soc2ls/soc2ls/blob/main/docs/rules.md#" + strings.ToLower(r.ID)
}

// Related is a secondary location that explains a finding: the bucket a trail
// writes to, the parameter a fix would use.
type Related struct {
	Span    template.Span
	Message string
}

// Fix is one way to repair a finding: a title for the menu and the edits,
// which may touch several places of the document. The first fix of a finding
// is the preferred one.
type Fix struct {
	Title string
	Edits []edit.Edit
	// Unsafe marks fixes that need a human decision (they replace a resource,
	// or insert placeholders): `fix all` skips them.
	Unsafe bool
}

// Finding is one problem found in a template.
type Finding struct {
	RuleID   string
	Severity Severity
	Span     template.Span // the exact node at fault
	Message  string
	Controls []string
	Resource string // logical id of the resource at fault, if any
	Related  []Related
	Fixes    []Fix
	// Possible is true when only some values of a parameter, or some
	// branches of a condition, violate the rule.
	Possible bool
	// Suppression is the documented exception that silences the finding,
	// for the findings in Result.Suppressed; nil for active findings.
	Suppression *Suppression
}

// Validate checks that a rule set is well formed: ids unique and well
// shaped, titles and docs present, criteria known, checks present.
func Validate(rules []*Rule) error {
	var errs []string
	seen := map[string]bool{}
	for _, r := range rules {
		switch {
		case r.ID == "":
			errs = append(errs, fmt.Sprintf("rule %q has no id", r.Title))
			continue
		case seen[r.ID]:
			errs = append(errs, r.ID+": duplicate id")
		case !strings.HasPrefix(r.ID, "SOC2-"):
			errs = append(errs, r.ID+": ids start with SOC2-")
		}
		seen[r.ID] = true
		if r.Title == "" {
			errs = append(errs, r.ID+": no title")
		}
		if len(strings.TrimSpace(r.Doc)) < 100 {
			errs = append(errs, r.ID+": doc is missing or too short to explain what, why and how to fix")
		}
		if r.Severity < Hint || r.Severity > Error {
			errs = append(errs, r.ID+": invalid severity")
		}
		if !r.Meta {
			if r.Check == nil {
				errs = append(errs, r.ID+": no Check")
			}
			if len(r.Controls) == 0 {
				errs = append(errs, r.ID+": no SOC 2 criteria")
			}
		}
		for _, c := range r.Controls {
			if _, ok := controls.Lookup(c); !ok {
				errs = append(errs, fmt.Sprintf("%s: unknown criterion %q", r.ID, c))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid rules:\n  %s", strings.Join(errs, "\n  "))
	}
	return nil
}
