package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/soc2ls/soc2ls/analysis/report"
)

// ruleJSON is one entry of `soc2ls rules --format json`.
type ruleJSON struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Severity string   `json:"severity"`
	Criteria []string `json:"criteria"`
	Types    []string `json:"types"`
	Meta     bool     `json:"meta"`
	DocURL   string   `json:"docUrl"`
	Doc      string   `json:"doc"`
}

func runRules(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("rules", flag.ContinueOnError)
	fset.SetOutput(stderr)
	format := fset.String("format", "text", "output `format`: text (a table), json or markdown (the rules reference)")
	fset.Usage = func() {
		fmt.Fprintln(fset.Output(), "Usage: soc2ls rules [--format text|json|markdown]\n\nLists every rule, the meta rules last.\n\nFlags:")
		fset.PrintDefaults()
	}
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fset.NArg() > 0 {
		return usageError(stderr, "rules", "unexpected argument %q", fset.Arg(0))
	}
	all := allRules()
	var err error
	switch *format {
	case "text":
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSEVERITY\tCRITERIA\tTITLE")
		for _, r := range all {
			criteria := strings.Join(r.Controls, ",")
			if criteria == "" {
				criteria = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.Severity, criteria, r.Title)
		}
		err = tw.Flush()
	case "json":
		out := make([]ruleJSON, 0, len(all))
		for _, r := range all {
			out = append(out, ruleJSON{
				ID: r.ID, Title: r.Title, Severity: r.Severity.String(),
				Criteria: append([]string{}, r.Controls...), Types: append([]string{}, r.Types...),
				Meta: r.Meta, DocURL: r.DocURL(), Doc: r.Doc,
			})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		err = enc.Encode(out)
	case "markdown":
		err = report.RulesMarkdown(stdout, all)
	default:
		return usageError(stderr, "rules", "unknown format %q (want text, json or markdown)", *format)
	}
	if err != nil {
		fmt.Fprintln(stderr, "soc2ls:", err)
		return 2
	}
	return 0
}
