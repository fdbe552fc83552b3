package analysis

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/soc2ls/soc2ls/analysis/template"
)

// Suppressions are documented exceptions: a finding an engineer has decided
// to accept, with the reason written next to the resource. Auditors read
// them as change-management evidence (CC8.1), so a suppression needs a
// reason to count, one that no longer matches anything is reported, and
// suppressed findings are kept (Result.Suppressed) rather than dropped.

// The rules about suppressions themselves. The engine reports them.
var (
	SuppressionReasonRule = &Rule{
		ID: "SOC2-SUPPRESS-001", Title: "Suppression without a reason", Severity: Info, Meta: true,
		Controls: []string{"CC8.1"},
		Doc: "A suppression names a rule but gives no reason, so it suppresses nothing: an exception an auditor " +
			"cannot read the justification of is not a documented exception.\n\n**Why an auditor cares.** " +
			"Accepted deviations from a baseline are part of change management (CC8.1): each one needs the " +
			"decision and its reason on record.\n\n**How to fix.** Add the reason:\n\n```yaml\nMetadata:\n  soc2ls:\n" +
			"    ignore:\n      - rule: SOC2-S3-005\n        reason: access-log target bucket cannot log to itself\n```\n\n" +
			"or, inline, `# soc2ls:ignore SOC2-S3-005 access-log target bucket`. cfn-guard's `SuppressedRules` " +
			"have no place for a reason: add a soc2ls entry with one.",
	}
	UnusedSuppressionRule = &Rule{
		ID: "SOC2-SUPPRESS-002", Title: "Suppression matches no finding", Severity: Info, Meta: true,
		Controls: []string{"CC8.1"},
		Doc: "A suppression names a rule that reports nothing here (the problem was fixed, the resource changed, " +
			"or the rule id is misspelt or unknown). Stale exceptions make the record of accepted risks " +
			"misleading.\n\n**Why an auditor cares.** The list of exceptions is reviewed as evidence of " +
			"change management (CC8.1); entries that no longer apply hide the ones that do.\n\n" +
			"**How to fix.** Delete the suppression, or correct the rule id.",
	}
)

// ReasonPlaceholder is the reason tools write into a new suppression for a
// person to replace (the language server's "Suppress" action). A reason
// that starts with TODO, FIXME or TBD is no reason: the suppression silences
// nothing until someone writes why the finding is accepted.
const ReasonPlaceholder = "TODO: explain why this finding is acceptable"

// hasReason reports whether a suppression's reason says something.
func hasReason(reason string) bool {
	r := strings.ToUpper(strings.TrimSpace(reason))
	for _, p := range []string{"TODO", "FIXME", "TBD"} {
		if strings.HasPrefix(r, p) {
			return false
		}
	}
	return r != ""
}

// SuppressionSource says how a suppression was written.
type SuppressionSource string

// The ways of writing a suppression.
const (
	SourceMetadata SuppressionSource = "metadata" // Metadata: {soc2ls: {ignore: [...]}}
	SourceComment  SuppressionSource = "comment"  // # soc2ls:ignore RULE reason
	SourceCfnNag   SuppressionSource = "cfn_nag"  // Metadata: {cfn_nag: {rules_to_suppress: [...]}}
	SourceCheckov  SuppressionSource = "checkov"  // Metadata: {checkov: {skip: [...]}}
	SourceGuard    SuppressionSource = "guard"    // Metadata: {guard: {SuppressedRules: [...]}}
)

// Suppression is one documented exception.
type Suppression struct {
	RuleID string // our rule id
	// Written is the id as written, when it is another tool's (W35, CKV_AWS_18).
	Written string
	Reason  string
	Source  SuppressionSource
	Span    template.Span // the entry or comment that says it
	// Resource limits it to one resource's findings; "" for the whole
	// template, or for a comment on a finding's line.
	Resource string
	// Line, for comments not on a resource's key line: the 0-based line
	// whose findings it suppresses; -1 otherwise.
	Line int
}

// Crosswalk maps other tools' rule ids (cfn_nag W35, checkov CKV_AWS_18,
// cfn-guard S3_BUCKET_LOGGING_ENABLED) to ours, so that the suppressions
// already written for them count. The rules package fills it.
var Crosswalk = map[string][]string{}

// KnownRules holds the id of every rule soc2ls has, whether or not an engine
// runs it, so that a suppression of an unknown id can be told from one of a
// rule that is merely not running. The rules package fills it.
var KnownRules = map[string]bool{}

// supCache is the suppressions written in a template, by where they are
// written, kept by an analysis for the next: an edit of resources' entries
// changes only their metadata and the comments on the entries' lines, an
// edit of the template's Metadata only the template's.
type supCache struct {
	template  []*Suppression // in the template's Metadata
	resources []resourceSups // in resources' Metadata, in template order
	comments  []*Suppression // comment directives, in text order
}

// resourceSups are the metadata suppressions of resource index.
type resourceSups struct {
	index int
	sups  []*Suppression
}

// newSupCache reads every suppression written in t.
func newSupCache(t *template.Template) *supCache {
	c := &supCache{template: metadataSuppressions(t.Metadata, "")}
	for i, r := range t.Resources {
		if sups := metadataSuppressions(r.Metadata, r.Name); len(sups) > 0 {
			c.resources = append(c.resources, resourceSups{i, sups})
		}
	}
	if t.Format == template.YAML {
		c.comments = commentSuppressions(t, 0, len(t.Source))
	}
	return c
}

// list returns the suppressions in the order they apply: the template's
// metadata, the resources', then comments.
func (c *supCache) list() []*Suppression {
	out := append([]*Suppression(nil), c.template...)
	for _, r := range c.resources {
		out = append(out, r.sups...)
	}
	return append(out, c.comments...)
}

// update returns the suppressions of t, which is c's template after the
// edit u: the metadata of the resources it re-read is read again, and the
// comments on the lines of the edited entries and of the edited text (the
// only lines where a directive, or whether a '#' starts a comment, may
// have changed); the others move with the text.
func (c *supCache) update(t *template.Template, u *reuse, lineShift int) *supCache {
	d := u.delta
	move := func(sups []*Suppression) []*Suppression {
		var out []*Suppression
		for i, s := range sups {
			if s.Span.End < d.Start {
				continue
			}
			if out == nil {
				out = slices.Clone(sups)
			}
			m := *s
			m.Span = template.Span{Start: shiftOffset(s.Span.Start, d), End: shiftOffset(s.Span.End, d)}
			if m.Line >= 0 && s.Span.Start > d.OldEnd {
				m.Line += lineShift
			}
			out[i] = &m
		}
		if out == nil {
			return sups
		}
		return out
	}
	n := &supCache{template: move(c.template)}
	if u.delta.Section == "Metadata" {
		n.template = metadataSuppressions(t.Metadata, "") // the template's own, edited
	}
	// The re-read resources' metadata is read again; the others' moves.
	var edited []resourceSups
	for i := u.first; i < u.first+u.count; i++ {
		if sups := metadataSuppressions(t.Resources[i].Metadata, t.Resources[i].Name); len(sups) > 0 {
			edited = append(edited, resourceSups{i, sups})
		}
	}
	for _, r := range c.resources {
		switch {
		case r.index < u.first:
			n.resources = append(n.resources, resourceSups{r.index, move(r.sups)})
		case u.replaced(int32(r.index)):
		default:
			n.resources = append(n.resources, edited...)
			edited = nil
			n.resources = append(n.resources, resourceSups{int(u.newID(int32(r.index))), move(r.sups)})
		}
	}
	n.resources = append(n.resources, edited...)
	if t.Format != template.YAML {
		return n
	}
	lo := t.Lines.LineStart(t.Lines.LineOf(u.oldLo))
	hi := t.Lines.LineEnd(t.Lines.LineOf(u.newHi))
	oldHi := hi - d.Shift
	i := sort.Search(len(c.comments), func(i int) bool { return c.comments[i].Span.Start >= lo })
	j := sort.Search(len(c.comments), func(j int) bool { return c.comments[j].Span.Start > oldHi })
	n.comments = append(append(c.comments[:i:i], commentSuppressions(t, lo, hi)...), move(c.comments[j:])...)
	return n
}

// metadataSuppressions reads the soc2ls, cfn_nag, checkov and guard entries
// of a Metadata mapping.
func metadataSuppressions(md *template.Node, resource string) []*Suppression {
	if md == nil || md.Kind != template.Mapping {
		return nil
	}
	var out []*Suppression
	add := func(id, written, reason string, src SuppressionSource, span template.Span) {
		out = append(out, &Suppression{RuleID: id, Written: written, Reason: strings.TrimSpace(reason), Source: src, Span: span, Resource: resource, Line: -1})
	}
	for _, it := range md.Path("soc2ls", "ignore").List() {
		if it.IsScalar() { // ignore: [SOC2-S3-005]: a rule with no reason
			add(it.Value, "", "", SourceMetadata, it.Span)
			continue
		}
		add(it.Get("rule").Text(), "", it.Get("reason").Text(), SourceMetadata, it.Span)
	}
	for _, it := range md.Path("cfn_nag", "rules_to_suppress").List() {
		for _, id := range crosswalk(it.Get("id").Text()) {
			add(id, it.Get("id").Text(), it.Get("reason").Text(), SourceCfnNag, it.Span)
		}
	}
	for _, it := range md.Path("checkov", "skip").List() {
		for _, id := range crosswalk(it.Get("id").Text()) {
			add(id, it.Get("id").Text(), it.Get("comment").Text(), SourceCheckov, it.Span)
		}
	}
	for _, it := range md.Path("guard", "SuppressedRules").List() {
		for _, id := range crosswalk(it.Text()) {
			add(id, it.Text(), "", SourceGuard, it.Span)
		}
	}
	return out
}

// crosswalk returns our rule ids for another tool's id (none when it maps
// to no rule of ours: such entries are that tool's business).
func crosswalk(id string) []string {
	return Crosswalk[strings.TrimSpace(id)]
}

var ignoreMarker = []byte("soc2ls:ignore")

// commentSuppressions finds `# soc2ls:ignore RULE[,RULE] reason` comments
// in the bytes [from, to) of t's text, which are whole lines. A comment on
// a resource's key line covers the resource; any other covers the findings
// that start on its line.
func commentSuppressions(t *template.Template, from, to int) []*Suppression {
	var out []*Suppression
	src := t.Source[:to]
	for off := from; ; {
		i := bytes.Index(src[off:], ignoreMarker)
		if i < 0 {
			break
		}
		i += off
		off = i + len(ignoreMarker)
		line := t.Lines.LineOf(i)
		start, end := t.Lines.LineStart(line), t.Lines.LineEnd(line)
		hash := bytes.LastIndexByte(src[start:i], '#')
		if hash < 0 || strings.TrimSpace(string(src[start+hash+1:i])) != "" || !isComment(t, start+hash) {
			continue
		}
		rest := strings.TrimSpace(string(t.Source[off:end]))
		ids, reason, _ := strings.Cut(rest, " ")
		span := template.Span{Start: start + hash, End: end}
		resource, target := "", line
		if r := resourceKeyOn(t, line); r != nil {
			resource, target = r.Name, -1
		}
		for _, id := range strings.Split(ids, ",") {
			if id = strings.TrimSpace(id); id != "" {
				out = append(out, &Suppression{RuleID: id, Reason: strings.TrimSpace(reason), Source: SourceComment, Span: span, Resource: resource, Line: target})
			}
		}
	}
	return out
}

// resourceKeyOn returns the first resource whose logical id is on the
// given line, or nil. Resources are in document order.
func resourceKeyOn(t *template.Template, line int) *template.Resource {
	ls := t.Lines.LineStart(line)
	i := sort.Search(len(t.Resources), func(i int) bool { return t.ResourceKeyStart(i) >= ls })
	if i < len(t.Resources) && t.Lines.LineOf(t.ResourceKeyStart(i)) == line {
		return t.Resources[i]
	}
	return nil
}

// isComment reports whether the '#' at off starts a YAML comment rather
// than sitting inside a scalar: it must start the line or follow white
// space, and no scalar of the template may contain it.
func isComment(t *template.Template, off int) bool {
	if off > 0 && t.Source[off-1] != ' ' && t.Source[off-1] != '\t' && t.Source[off-1] != '\n' && t.Source[off-1] != '\r' {
		return false
	}
	n, _ := t.NodeAt(off)
	return n == nil || n.Kind != template.Scalar || !n.Span.Contains(off) || off == n.End
}

// suppressionOf returns the index in sups of the suppression that
// silences f, which starts on the given line, or -1; it adds by to the
// uses of every suppression f uses: a reasonless one it would have
// matched (reported as such), and the one that silences it.
func (e *Engine) suppressionOf(f *Finding, line int, sups []*Suppression, uses []int32, by int32) int {
	if r, ok := e.byID[f.RuleID]; ok && r.Meta {
		return -1
	}
	for i, s := range sups {
		if !strings.EqualFold(s.RuleID, f.RuleID) || s.Resource != "" && s.Resource != f.Resource || s.Line >= 0 && s.Line != line {
			continue
		}
		uses[i] += by
		if hasReason(s.Reason) {
			return i
		}
	}
	return -1
}

// suppressionFindings returns the findings about the suppressions
// themselves: those without a reason, and those that silence nothing
// (uses counts, per suppression, the findings that use it).
func (e *Engine) suppressionFindings(sups []*Suppression, uses []int32) []Finding {
	var out []Finding
	for i, s := range sups {
		native := s.Source == SourceMetadata || s.Source == SourceComment
		switch {
		case !native && uses[i] == 0:
			// Another tool's entry that silences nothing of ours: its rule
			// is not quite ours (cfn_nag's W35 also fires on log buckets,
			// which SOC2-S3-005 exempts), so it is that tool's business.
			continue
		case !hasReason(s.Reason):
			msg := "suppression of " + s.RuleID + " has no reason, so it suppresses nothing: add `reason:` (or text after the rule id in a comment)"
			if s.Reason != "" {
				msg = "suppression of " + s.RuleID + " has a placeholder reason (" + s.Reason + "), so it suppresses nothing yet: write why the finding is accepted"
			}
			switch s.Source {
			case SourceGuard:
				msg = "cfn-guard suppression " + s.Written + " (" + s.RuleID + ") has no reason, so soc2ls does not honour it: add a soc2ls ignore entry with a reason"
			case SourceCfnNag, SourceCheckov:
				field := map[SuppressionSource]string{SourceCfnNag: "reason", SourceCheckov: "comment"}[s.Source]
				msg = string(s.Source) + " suppression " + s.Written + " (" + s.RuleID + ") has no " + field + ", so soc2ls does not honour it: add one"
			}
			out = append(out, e.metaFinding(SuppressionReasonRule, s, msg))
		case uses[i] == 0:
			what := "matches no finding"
			if r, runs := e.byID[strings.ToUpper(s.RuleID)]; !runs || r.Meta {
				if KnownRules[strings.ToUpper(s.RuleID)] {
					continue // the rule exists but this engine does not run it
				}
				what = "names no rule of soc2ls"
			} else if st := e.Options.Rules[r.ID]; st.Off {
				continue // a rule turned off reports nothing to suppress
			}
			target := "this template"
			if s.Resource != "" {
				target = "resource " + s.Resource
			} else if s.Line >= 0 {
				target = fmt.Sprintf("line %d", s.Line+1)
			}
			out = append(out, e.metaFinding(UnusedSuppressionRule, s, fmt.Sprintf("suppression of %s %s on %s: remove it", s.RuleID, what, target)))
		}
	}
	return out
}

// split divides sorted findings into active and suppressed ones by sups,
// adds the findings about the suppressions (reported by check supOwner),
// and counts the uses of each suppression.
func (e *Engine) split(t *template.Template, all findingSet, sups []*Suppression, supOwner int32) (active, suppressed findingSet, uses []int32) {
	if len(sups) == 0 {
		return all, findingSet{}, nil
	}
	uses = make([]int32, len(sups))
	active = findingSet{make([]Finding, 0, withRoom(len(all.fs))), make([]findingMeta, 0, withRoom(len(all.fs)))}
	for i := range all.fs {
		f, m := all.fs[i], all.ms[i]
		if k := e.suppressionOf(&f, int(m.line), sups, uses, 1); k >= 0 {
			f.Suppression = sups[k]
			suppressed.fs, suppressed.ms = append(suppressed.fs, f), append(suppressed.ms, m)
			continue
		}
		active.fs, active.ms = append(active.fs, f), append(active.ms, m)
	}
	for _, f := range e.suppressionFindings(sups, uses) {
		active.fs, active.ms = append(active.fs, f), append(active.ms, metaOf(&f, supOwner, t.Lines))
	}
	sortOwned(active)
	return active, suppressed, uses
}

// resplit sets c's active and suppressed findings after the edit u: the
// previous ones, less those of the checks marked in drop and the findings
// about suppressions, plus fresh, which are the findings of the checks that
// ran again. When the edit left every suppression as it was (but for its
// position) and moved no line, the kept findings keep their verdicts: the
// fresh ones are split, the uses of the dropped ones taken back, the
// findings about suppressions made again, and both lists spliced (with no
// suppression at all, lines may move too). Else the kept and the fresh
// findings are split again, as Analyze does.
func (e *Engine) resplit(t *template.Template, c *runCache, u *reuse, drop []bool, fresh findingSet, supOwner int32, lineShift int) {
	p := u.prev
	if !sameEffect(p.supList, c.supList) || lineShift != 0 && len(c.supList) > 0 || u.renumbers() && len(c.supList) > 0 {
		// (When resources came or went, the findings of the replaced
		// checks are gone from p, and with them the uses to take back.)
		// The fresh findings come in the order the checks reported them:
		// splice places them by binary search, in order.
		sortOwned(fresh)
		kept := splice(p.active, drop, fresh, u.delta, lineShift, u.owned)
		supp := splice(p.suppressed, drop, findingSet{}, u.delta, lineShift, u.owned)
		c.active, c.suppressed, c.uses = e.split(t, mergeOwned(kept, supp), c.supList, supOwner)
		return
	}
	uses := p.uses
	if !u.owned {
		uses = slices.Clone(uses)
	}
	if len(uses) > 0 {
		for _, set := range []findingSet{p.active, p.suppressed} {
			for i, m := range set.ms {
				if drop[m.owner+1] && m.owner != supOwner {
					e.suppressionOf(&set.fs[i], int(m.line), p.supList, uses, -1)
				}
			}
		}
	}
	var act, supp findingSet
	for i := range fresh.fs {
		f, m := fresh.fs[i], fresh.ms[i]
		if k := e.suppressionOf(&f, int(m.line), c.supList, uses, 1); len(uses) > 0 && k >= 0 {
			f.Suppression = c.supList[k]
			supp.fs, supp.ms = append(supp.fs, f), append(supp.ms, m)
			continue
		}
		act.fs, act.ms = append(act.fs, f), append(act.ms, m)
	}
	for _, f := range e.suppressionFindings(c.supList, uses) {
		act.fs, act.ms = append(act.fs, f), append(act.ms, metaOf(&f, supOwner, t.Lines))
	}
	sortOwned(act)
	sortOwned(supp)
	c.active = splice(p.active, drop, act, u.delta, lineShift, u.owned)
	c.suppressed = splice(p.suppressed, drop, supp, u.delta, lineShift, u.owned)
	c.uses = uses
	// Kept suppressed findings point at the moved copies of their
	// suppressions.
	var moved map[*Suppression]*Suppression
	for k, s := range p.supList {
		if c.supList[k] != s {
			if moved == nil {
				moved = map[*Suppression]*Suppression{}
			}
			moved[s] = c.supList[k]
		}
	}
	for i := range c.suppressed.fs {
		if s, ok := moved[c.suppressed.fs[i].Suppression]; ok {
			c.suppressed.fs[i].Suppression = s
		}
	}
}

// sameEffect reports whether two lists of suppressions silence the same
// findings, in the same order: they differ in their positions at most.
func sameEffect(a, b []*Suppression) bool {
	return slices.EqualFunc(a, b, func(x, y *Suppression) bool {
		return x.RuleID == y.RuleID && x.Written == y.Written && x.Reason == y.Reason && x.Source == y.Source &&
			x.Resource == y.Resource && x.Line == y.Line
	})
}

// mergeOwned merges two sorted sets into a new one, the findings of b
// losing their suppression.
func mergeOwned(a, b findingSet) findingSet {
	out := findingSet{make([]Finding, 0, withRoom(len(a.fs)+len(b.fs))), make([]findingMeta, 0, withRoom(len(a.fs)+len(b.fs)))}
	for len(a.fs) > 0 || len(b.fs) > 0 {
		if len(b.fs) == 0 || len(a.fs) > 0 && compareOwned(&a.fs[0], &b.fs[0], a.ms[0].owner, b.ms[0].owner) <= 0 {
			out.fs, out.ms = append(out.fs, a.fs[0]), append(out.ms, a.ms[0])
			a.fs, a.ms = a.fs[1:], a.ms[1:]
			continue
		}
		f := b.fs[0]
		f.Suppression = nil
		out.fs, out.ms = append(out.fs, f), append(out.ms, b.ms[0])
		b.fs, b.ms = b.fs[1:], b.ms[1:]
	}
	return out
}

func (e *Engine) metaFinding(r *Rule, s *Suppression, msg string) Finding {
	return Finding{RuleID: r.ID, Severity: e.severity(r), Span: s.Span, Message: msg, Controls: r.Controls, Resource: s.Resource}
}
