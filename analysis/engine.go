package analysis

import (
	"context"
	"fmt"
	"math"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/soc2ls/soc2ls/analysis/template"
)

// The meta rules report problems with the template text and with soc2ls
// itself. They have no Check: the engine reports them.
var (
	SyntaxRule = &Rule{
		ID: "SOC2-PARSE-001", Title: "Template does not parse", Severity: Error, Meta: true,
		Doc: "The document is not valid YAML or JSON, so CloudFormation will reject it and no other rule can " +
			"check it. The diagnostic sits where the parser gave up; YAML parsers often report the line where " +
			"the enclosing block started, so look at that line and the few after it.\n\n" +
			"**Fix:** correct the syntax. Common causes are a tab used for indentation, a missing space after " +
			"`:`, an unclosed `[` or `{`, or an unquoted value starting with `*`, `&`, `!` or `%`.",
	}
	DuplicateKeyRule = &Rule{
		ID: "SOC2-PARSE-002", Title: "Duplicate key in a mapping", Severity: Error, Meta: true,
		Doc: "A mapping repeats a key. YAML libraries silently keep one of the two values, but CloudFormation " +
			"rejects the template, and a reviewer reading the first definition will not see the second. Two " +
			"resources with the same logical id are the common case after a copy and paste.\n\n" +
			"**Fix:** rename or remove one of the two entries.",
	}
	AliasRule = &Rule{
		ID: "SOC2-PARSE-003", Title: "YAML anchors, aliases and merge keys are not supported", Severity: Error, Meta: true,
		Doc: "CloudFormation's YAML dialect does not support anchors (`&name`), aliases (`*name`) or merge keys " +
			"(`<<`). soc2ls never expands them, so a template that relies on them is both rejected at deploy " +
			"time and only partly checked.\n\n**Fix:** write the repeated values out, or move them to a " +
			"parameter or a mapping.",
	}
	UnknownTagRule = &Rule{
		ID: "SOC2-PARSE-004", Title: "Unknown YAML tag", Severity: Warning, Meta: true,
		Doc: "A value carries a YAML tag that is not the short form of a CloudFormation function, such as " +
			"`!Rain::Embed` or a misspelt `!GetAttr`. CloudFormation rejects tags it does not know, so the " +
			"template only deploys if a preprocessor (the rain CLI, a packaging step) rewrites it first. " +
			"soc2ls treats the tagged value as unknown: rules neither trust nor flag it.\n\n**Fix:** correct " +
			"the function name, or ignore the warning for templates that a preprocessor expands.",
	}
	TooLargeRule = &Rule{
		ID: "SOC2-PARSE-005", Title: "Document too large to analyse", Severity: Warning, Meta: true,
		Doc: "The document is larger than soc2ls's size limit (10 MB unless configured: `--max-size` for " +
			"`soc2ls check`, `maxFileSizeMB` for the language server), so it was not parsed and no rule " +
			"checked it. CloudFormation accepts templates of 1 MB at most (51 KB inline), so a file this " +
			"large is usually data with a template's extension; the limit keeps memory and time bounded.\n\n" +
			"**Fix:** nothing, for a data file. For a real template, raise the limit.",
	}
	InternalErrorRule = &Rule{
		ID: "SOC2-INTERNAL-001", Title: "soc2ls internal error", Severity: Error, Meta: true,
		Doc: "A rule failed while checking this template. Its findings for this template are missing; every " +
			"other rule ran normally. This is a bug in soc2ls, not in the template: please report it with " +
			"the message, which names the rule and the position, and a template that reproduces it.",
	}
)

// MetaRules returns the rules the engine itself reports.
func MetaRules() []*Rule {
	return []*Rule{SyntaxRule, DuplicateKeyRule, AliasRule, UnknownTagRule, TooLargeRule, InternalErrorRule, SuppressionReasonRule, UnusedSuppressionRule}
}

// AnyType in a rule's Types makes it run on every resource.
const AnyType = "*"

// Engine runs a rule set over templates. It is safe for concurrent use once
// built.
type Engine struct {
	rules   []*Rule
	byID    map[string]*Rule
	byType  map[string][]*Rule
	global  []*Rule
	Options *Options
	// noFixes skips building fixes: see WithoutFixes.
	noFixes bool
	// identity is shared by an engine and its WithoutFixes copies: a result
	// keeps its findings for reuse only by the engine that made them.
	identity *Engine
}

// WithoutFixes returns an engine that runs the same rules with the same
// options but builds no fixes' edits: findings carry the titles of their
// fixes, with no edits. Building fixes is most of the cost of an analysis,
// and diagnostics and text reports need none; whoever applies a fix gets it
// from a run of e.
func (e *Engine) WithoutFixes() *Engine {
	c := *e
	c.noFixes = true
	return &c
}

// NewEngine builds an engine for rules (the meta rules are added) with the
// given options (nil means DefaultOptions).
func NewEngine(rules []*Rule, opts *Options) *Engine {
	if opts == nil {
		opts = DefaultOptions()
	}
	e := &Engine{byID: map[string]*Rule{}, byType: map[string][]*Rule{}, Options: opts}
	e.identity = e
	for _, r := range append(MetaRules(), rules...) {
		e.rules = append(e.rules, r)
		e.byID[r.ID] = r
		if r.Meta || r.Check == nil {
			continue
		}
		if s, ok := opts.Rules[r.ID]; ok && s.Off {
			continue
		}
		if len(r.Types) == 0 {
			e.global = append(e.global, r)
		}
		for _, t := range r.Types {
			e.byType[t] = append(e.byType[t], r)
		}
	}
	return e
}

// Rules returns every rule of the engine, meta rules first, then in the
// order given.
func (e *Engine) Rules() []*Rule { return e.rules }

// Rule returns the rule with the given id.
func (e *Engine) Rule(id string) (*Rule, bool) {
	r, ok := e.byID[id]
	return r, ok
}

// Result is the outcome of analysing one document.
type Result struct {
	Template *template.Template
	// Findings are the active findings, sorted by position.
	Findings []Finding
	// Suppressed are the findings silenced by a documented exception, each
	// with its Suppression, sorted by position.
	Suppressed []Finding
	// Reused counts the checks (the rules of one resource, or one
	// whole-template rule) whose findings Reanalyze kept from the previous
	// analysis instead of running them again.
	Reused int
	// Visited counts the checks an incremental Reanalyze examined to decide
	// which to run again (those an index of what checks read says may see
	// the edit, and those it ran again); it grows with what reads the
	// edited resource, not with the template. Zero for Analyze.
	Visited int
	// ConsumedPrevious is set by ReanalyzeInPlace when it re-read the
	// previous result's template in place: that template is this result's
	// now, and the previous result must not be used.
	ConsumedPrevious bool
	// cache holds each check's findings and reads, for Reanalyze.
	cache *runCache
}

// Analyze parses and checks one document.
func (e *Engine) Analyze(filename string, src []byte) *Result {
	res, _ := e.AnalyzeContext(context.Background(), filename, src)
	return res
}

// AnalyzeContext is Analyze that stops checking when ctx is done: the result
// then has the template but no findings, and the error is ctx's.
func (e *Engine) AnalyzeContext(ctx context.Context, filename string, src []byte) (*Result, error) {
	return e.checkContext(ctx, template.Parse(filename, src), nil)
}

// CheckContext checks a parsed template; the result, unlike RunAll's
// findings, can be the base of a Reanalyze.
func (e *Engine) CheckContext(ctx context.Context, t *template.Template) (*Result, error) {
	return e.checkContext(ctx, t, nil)
}

// checkContext runs the rules over a parsed template for the Analyze family.
func (e *Engine) checkContext(ctx context.Context, t *template.Template, reuse *reuse) (*Result, error) {
	active, suppressed, cache, reused, err := e.findings(ctx, t, reuse)
	if err != nil {
		return &Result{Template: t}, err
	}
	res := &Result{Template: t, Findings: active, Suppressed: suppressed, Reused: reused, cache: cache}
	if reuse != nil && cache != nil {
		res.Visited = reuse.visited
	}
	return res, nil
}

// TooLarge is the result for a document of size bytes above limit, which is
// neither parsed nor checked: its one finding, SOC2-PARSE-005, says so. The
// template is empty, so that nothing of the document is held.
func (e *Engine) TooLarge(filename string, size, limit int64) *Result {
	return &Result{Template: template.Parse(filename, nil), Findings: []Finding{{
		RuleID:   TooLargeRule.ID,
		Severity: e.severity(TooLargeRule),
		Message: fmt.Sprintf("not analysed: the document is %s, above the %s limit (CloudFormation accepts 1 MB at most)",
			megabytes(size), megabytes(limit)),
	}}}
}

// megabytes formats a byte count for a message.
func megabytes(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}

// Run checks a parsed template and returns its active findings sorted by
// position: suppressed findings are left out, findings about the
// suppressions themselves are in.
func (e *Engine) Run(t *template.Template) []Finding {
	active, _ := e.RunAll(t)
	return active
}

// RunAll checks a parsed template and returns its active and its suppressed
// findings, each sorted by position. Documents that are not CloudFormation
// templates yield nothing, except a syntax error in a document that looks
// like one.
func (e *Engine) RunAll(t *template.Template) (active, suppressed []Finding) {
	active, suppressed, _ = e.RunAllContext(context.Background(), t)
	return active, suppressed
}

// RunAllContext is RunAll that gives up as soon as ctx is done (between
// two rules), returning ctx's error and no findings: the language server
// cancels the analysis of a version the user has already typed over.
func (e *Engine) RunAllContext(ctx context.Context, t *template.Template) (active, suppressed []Finding, err error) {
	active, suppressed, _, _, err = e.findings(ctx, t, nil)
	if err != nil {
		return nil, nil, err
	}
	return active, suppressed, nil
}

// findings runs the rules and returns the active and the suppressed
// findings, each sorted, and what the analysis keeps for the next (nil
// when nothing can be kept). With reuse, the checks that cannot have seen
// its edit keep their previous findings, moved with the text.
func (e *Engine) findings(ctx context.Context, t *template.Template, reuse *reuse) (active, suppressed []Finding, cache *runCache, reused int, err error) {
	if !t.IsCloudFormation && !(t.HasSyntaxError() && template.LooksLikeCloudFormation(t.Source)) {
		return nil, nil, nil, 0, nil
	}
	problems := e.ProblemFindings(t)
	if t.Root == nil {
		return problems, nil, nil, 0, nil
	}
	a := &analysisRun{engine: e, template: t, memo: map[string]*fact{}, gathered: map[*ResourceFact]*gathering{}, facts: map[*Fact]*factValue{}, reuse: reuse}
	if reuse != nil {
		if cache, reused, err = e.refindings(ctx, a, problems, reuse); cache != nil || err != nil {
			if err != nil {
				return nil, nil, nil, 0, err
			}
			return cache.active.fs, nilIfEmpty(cache.suppressed.fs), cache, reused, nil
		}
		// Fix edits turned up, which are not tracked: run every check.
		a = &analysisRun{engine: e, template: t, memo: map[string]*fact{}, gathered: map[*ResourceFact]*gathering{}, facts: map[*Fact]*factValue{}}
	}
	// Every check reads every resource: settling at once is the cheaper way.
	t.Settle()
	runs := make([]checkRun, len(t.Resources)+len(e.global))
	for i := range runs {
		// One look at ctx per check: cheap next to the rules it guards.
		if err := ctx.Err(); err != nil {
			return nil, nil, nil, 0, err
		}
		e.runCheck(a, i, &runs[i])
	}
	all := collectFindings(problems, runs, len(t.Resources), t.Lines)
	sups := newSupCache(t)
	list := sups.list()
	act, sup, uses := e.split(t, all, list, int32(len(runs)))
	if !e.noFixes || len(t.Source) >= math.MaxInt32 || slices.ContainsFunc(all.fs, func(f Finding) bool { return hasEdits(f.Fixes) }) {
		// Fix edits are not tracked across edits: nothing is kept.
		return act.fs, nilIfEmpty(sup.fs), nil, 0, nil
	}
	cache = &runCache{engine: e.identity, nres: len(t.Resources), reads: make([]*reads, len(runs)), active: act, suppressed: sup,
		sups: sups, supList: list, uses: uses, gathered: a.gathered, facts: a.facts, lines: t.Lines.Count()}
	for i := range runs {
		cache.reads[i] = runs[i].reads
	}
	cache.index.x = newReadIndex(cache.reads)
	return act.fs, nilIfEmpty(sup.fs), cache, 0, nil
}

// nilIfEmpty returns fs, or nil when it has no findings.
func nilIfEmpty(fs []Finding) []Finding {
	if len(fs) == 0 {
		return nil
	}
	return fs
}

// runCheck runs check i of a's template: the rules of resource i, or
// whole-template rule i-len(Resources).
func (e *Engine) runCheck(a *analysisRun, i int, run *checkRun) {
	t := a.template
	run.reads = &reads{}
	rec := &recorder{cur: run.reads}
	view := t.Recording(rec)
	if i >= len(t.Resources) {
		e.runRule(e.global[i-len(t.Resources)], view, nil, a, run, rec)
		return
	}
	t.SettleResource(i) // a check reads its own resource directly
	res := t.Resources[i]
	for _, r := range e.byType[res.Type] {
		e.runRule(r, view, res, a, run, rec)
	}
	for _, r := range e.byType[AnyType] {
		e.runRule(r, view, res, a, run, rec)
	}
}

// refindings is findings for an edit of some entries (see incremental.go):
// it runs the checks that may see the edit, and splices their findings into
// the previous analysis's. It returns no cache, and no error, when a
// finding carries fix edits, which are not tracked.
func (e *Engine) refindings(ctx context.Context, a *analysisRun, problems []Finding, u *reuse) (*runCache, int, error) {
	p, t := u.prev, a.template
	x := p.index.take(func() []*reads { return p.reads })
	ids, visited := u.rerun(a, x)
	u.visited = visited
	reads := p.reads
	switch {
	case u.renumbers():
		// Resources came or went: from here on, p is the previous analysis
		// with the ids of this one (the replaced checks' findings gone).
		reads = u.renumber(x, reads)
		p = &runCache{engine: p.engine, nres: len(t.Resources), reads: reads,
			active: u.renumberFindings(p.active), suppressed: u.renumberFindings(p.suppressed),
			supList: p.supList, uses: p.uses, gathered: p.gathered, facts: p.facts, sups: p.sups, lines: p.lines}
		u.prev = p
	case !u.owned:
		reads = slices.Clone(reads)
	}
	cache := &runCache{engine: p.engine, nres: len(t.Resources), reads: reads,
		gathered: a.gathered, facts: a.facts, lines: t.Lines.Count()}
	cache.index.x = x
	supOwner := int32(len(p.reads)) // the findings about suppressions
	drop := make([]bool, len(p.reads)+2)
	drop[0] = true          // the problems are the new template's
	drop[supOwner+1] = true // and so are the findings about suppressions
	fresh := findingSet{fs: problems, ms: make([]findingMeta, len(problems), len(problems)+8)}
	for i := range problems {
		fresh.ms[i] = metaOf(&problems[i], -1, t.Lines)
	}
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		var run checkRun
		e.runCheck(a, int(id), &run)
		for i := range run.findings {
			if hasEdits(run.findings[i].Fixes) {
				return nil, 0, nil // not expected of an engine without fixes
			}
			fresh.fs = append(fresh.fs, run.findings[i])
			fresh.ms = append(fresh.ms, metaOf(&run.findings[i], id, t.Lines))
		}
		x.remove(id, cache.reads[id]) // before it is replaced: reads may be p.reads
		x.add(id, run.reads, true)
		cache.reads[id] = run.reads
		drop[id+1] = true
	}
	lineShift := t.Lines.Count() - p.lines
	cache.sups = p.sups.update(t, u, lineShift)
	cache.supList = cache.sups.list()
	e.resplit(t, cache, u, drop, fresh, supOwner, lineShift)
	return cache, len(p.reads) - len(ids), nil
}

// collectFindings returns the findings of an analysis sorted by
// compareOwned, with their meta: the problems, then every check's. The
// resources' findings come mostly in document order, the problems' and
// whole-template rules' anywhere: the latter are sorted apart and merged in
// while the former are copied, so that the usual case costs one copy.
func collectFindings(problems []Finding, runs []checkRun, nres int, lines *template.Lines) findingSet {
	others := problems
	var om []findingMeta
	for i := range problems {
		om = append(om, metaOf(&problems[i], -1, lines))
	}
	for i := nres; i < len(runs); i++ {
		for j := range runs[i].findings {
			others = append(others, runs[i].findings[j])
			om = append(om, metaOf(&runs[i].findings[j], int32(i), lines))
		}
	}
	sortOwned(findingSet{others, om})
	n := len(others)
	for i := range nres {
		n += len(runs[i].findings)
	}
	out := findingSet{make([]Finding, 0, withRoom(n)), make([]findingMeta, 0, withRoom(n))}
	inOrder := true
	for i := range nres {
		for j := range runs[i].findings {
			f := &runs[i].findings[j]
			for len(others) > 0 && compareOwned(&others[0], f, om[0].owner, int32(i)) < 0 {
				out.fs, out.ms = append(out.fs, others[0]), append(out.ms, om[0])
				others, om = others[1:], om[1:]
			}
			if n := len(out.fs); n > 0 && compareOwned(&out.fs[n-1], f, out.ms[n-1].owner, int32(i)) > 0 {
				inOrder = false
			}
			out.fs, out.ms = append(out.fs, *f), append(out.ms, metaOf(f, int32(i), lines))
		}
	}
	out.fs, out.ms = append(out.fs, others...), append(out.ms, om...)
	if !inOrder {
		sortOwned(out)
	}
	return out
}

// ProblemFindings returns the parse problems of t (syntax errors, duplicate
// keys, aliases) as findings of the meta rules, whether or not t looks like a
// template. Run includes them for templates; the CLI also uses it for files
// named explicitly, whose syntax errors it reports even when they do not look
// like CloudFormation.
func (e *Engine) ProblemFindings(t *template.Template) []Finding {
	var out []Finding
	for _, p := range t.Problems {
		r := SyntaxRule
		switch p.Code {
		case template.ProblemDuplicateKey:
			r = DuplicateKeyRule
		case template.ProblemAlias:
			r = AliasRule
		case template.ProblemUnknownTag:
			r = UnknownTagRule
		}
		out = append(out, Finding{RuleID: r.ID, Severity: e.severity(r), Span: p.Span, Message: p.Message})
	}
	return out
}

func (e *Engine) severity(r *Rule) Severity {
	if s, ok := e.Options.Rules[r.ID]; ok && s.Severity != 0 {
		return s.Severity
	}
	return r.Severity
}

// runRule runs one rule, turning a panic into an internal-error finding so
// that one broken rule cannot take the others, or the editor, down.
// t is the recording view of the template that rec collects the check's
// reads from; the findings go to run.
func (e *Engine) runRule(r *Rule, t *template.Template, res *template.Resource, a *analysisRun, run *checkRun, rec *recorder) {
	override := e.severity(r)
	report := func(f Finding) { run.findings = append(run.findings, f) }
	pass := &Pass{Rule: r, Template: t, Resource: res, Options: e.Options, run: a, noFixes: e.noFixes, recorder: rec, report: func(f Finding) {
		if override != r.Severity {
			// A configured severity replaces the rule's; possible findings stay
			// one level below it.
			if f.Possible {
				f.Severity = override.Lower()
			} else {
				f.Severity = override
			}
		}
		report(f)
	}}
	defer func() {
		if v := recover(); v != nil {
			span := template.Span{}
			where := "the template"
			if res != nil {
				span = res.Key.Span
				where = "resource " + res.Name
			}
			pos := t.Lines.Position(span.Start)
			report(Finding{
				RuleID:   InternalErrorRule.ID,
				Severity: Error,
				Span:     span,
				Resource: nameOf(res),
				Message: fmt.Sprintf("internal error: rule %s failed on %s (line %d): %v; its findings are missing, the other rules ran. Please report this bug.",
					r.ID, where, pos.Line, v),
			})
			panicHook(r.ID, t.Filename, pos.Line, v, debug.Stack())
		}
	}()
	r.Check(pass)
}

// PanicHook, when set, is told about every recovered rule panic (the
// language server logs them). It must not retain the stack.
var PanicHook func(ruleID, filename string, line int, value any, stack []byte)

func panicHook(ruleID, filename string, line int, v any, stack []byte) {
	if PanicHook != nil {
		PanicHook(ruleID, filename, line, v, stack)
	}
}

func nameOf(r *template.Resource) string {
	if r == nil {
		return ""
	}
	return r.Name
}

// SortFindings orders findings by position, then rule id, then message, so
// that output is deterministic. Findings gathered resource by resource are
// mostly in order already: the sort costs a pass over them then.
func SortFindings(fs []Finding) {
	if slices.IsSortedFunc(fs, compareFindings) {
		return
	}
	slices.SortStableFunc(fs, compareFindings)
}

func compareFindings(a, b Finding) int {
	if a.Span.Start != b.Span.Start {
		return a.Span.Start - b.Span.Start
	}
	return compareRuleMessage(&a, &b)
}

// compareRuleMessage orders findings at the same position.
func compareRuleMessage(a, b *Finding) int {
	if a.RuleID != b.RuleID {
		return strings.Compare(a.RuleID, b.RuleID)
	}
	return strings.Compare(a.Message, b.Message)
}
