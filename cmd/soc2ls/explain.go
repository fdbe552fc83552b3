package main

import (
	"errors"
	"flag"
	"fmt"
	"github.com/soc2ls/soc2ls/analysis/suggest"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/controls"
	"github.com/soc2ls/soc2ls/analysis/report"
)

func runExplain(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("explain", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() {
		fmt.Fprintln(fset.Output(), "Usage: soc2ls explain RULE-ID|CRITERION\n\nExplains a rule (SOC2-CT-001) or a SOC 2 criterion (CC6.1) and lists the rules mapped to it.")
	}
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fset.NArg() != 1 {
		return usageError(stderr, "explain", "want one rule id or criterion, got %d arguments", fset.NArg())
	}
	id := strings.TrimSpace(fset.Arg(0))
	all := allRules()
	for _, r := range all {
		if strings.EqualFold(r.ID, id) {
			explainRule(stdout, r)
			return 0
		}
	}
	if c, ok := controls.Lookup(id); ok {
		explainControl(stdout, c, all)
		return 0
	}
	var candidates []string
	for _, r := range all {
		candidates = append(candidates, r.ID)
	}
	for _, c := range controls.All() {
		candidates = append(candidates, c.ID)
	}
	msg := fmt.Sprintf("unknown rule or criterion %q", id)
	if s := closest(id, candidates); len(s) > 0 {
		last := len(s) - 1
		if last > 0 {
			s = append(s[:last-1:last-1], strings.Join(s[last-1:], " or "))
		}
		msg += "; did you mean " + strings.Join(s, ", ") + "?"
	}
	fmt.Fprintf(stderr, "soc2ls explain: %s\nRun 'soc2ls rules' for the rules.\n", msg)
	return 2
}

func explainRule(w io.Writer, r *analysis.Rule) {
	fmt.Fprintf(w, "%s: %s\n\n", r.ID, r.Title)
	fmt.Fprintf(w, "Severity: %s", r.Severity)
	if !r.Meta && r.Severity > analysis.Hint {
		fmt.Fprintf(w, " (%s when only some parameter values or conditions violate it)", r.Severity.Lower())
	}
	fmt.Fprintf(w, "\nChecks:   %s\n", report.TypesText(r, ""))
	if len(r.Controls) > 0 {
		fmt.Fprintln(w, "Criteria:")
		for _, id := range r.Controls {
			if c, ok := controls.Lookup(id); ok {
				fmt.Fprintf(w, "  %s — %s\n      %s\n", c.ID, c.Title, c.Summary)
			} else {
				fmt.Fprintf(w, "  %s\n", id)
			}
		}
	}
	if eq := r.EquivalentsText(); eq != "" {
		fmt.Fprintf(w, "Also:     %s\n", eq)
	}
	fmt.Fprintf(w, "Docs:     %s\n\n%s\n", r.DocURL(), strings.TrimSpace(r.Doc))
}

func explainControl(w io.Writer, c *controls.Control, all []*analysis.Rule) {
	fmt.Fprint(w, c.Markdown())
	var mapped []*analysis.Rule
	for _, r := range all {
		for _, id := range r.Controls {
			if id == c.ID {
				mapped = append(mapped, r)
				break
			}
		}
	}
	if len(mapped) == 0 {
		fmt.Fprintf(w, "\nNo rule checks %s yet.\n", c.ID)
		return
	}
	fmt.Fprintf(w, "\nRules mapped to %s:\n\n", c.ID)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range mapped {
		primary := ""
		if r.Controls[0] == c.ID {
			primary = " (primary criterion)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s%s\n", r.ID, r.Severity, r.Title, primary)
	}
	tw.Flush()
}

// closest returns the candidates nearest to a mistyped id, at most three:
// those it is a prefix of or, failing that, those at the smallest edit
// distance, if it is small.
func closest(id string, candidates []string) []string {
	q := strings.ToUpper(id)
	type scored struct {
		s string
		d int
	}
	var out []scored
	limit := max(2, len(q)/3)
	for _, c := range candidates {
		d := suggest.Distance(q, strings.ToUpper(c))
		if strings.HasPrefix(strings.ToUpper(c), q) {
			d = 0
		}
		if d <= limit {
			out = append(out, scored{c, d})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].d < out[j].d })
	var names []string
	for _, s := range out {
		if s.d > out[0].d || len(names) == 3 {
			break // only the best matches: one typo, one suggestion
		}
		names = append(names, s.s)
	}
	return names
}
