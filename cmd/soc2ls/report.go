package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/evidence"
	"github.com/soc2ls/soc2ls/analysis/report"
)

// reportFormats maps the --format names to the evidence writers.
var reportFormats = map[string]func(io.Writer, *evidence.Report) error{
	"html":     evidence.HTML,
	"markdown": evidence.Markdown,
	"json":     evidence.JSON,
}

func runReport(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("report", flag.ContinueOnError)
	fset.SetOutput(stderr)
	format := fset.String("format", "", "output `format`: html, markdown or json (default: from the -o extension, else html)")
	outPath := fset.String("o", "", "write the report to `file` instead of standard output")
	configPath := fset.String("config", "", "use this configuration `file` instead of each template's nearest .soc2ls.yaml")
	fset.Usage = func() {
		fmt.Fprint(fset.Output(), `Usage: soc2ls report [flags] PATH...

Writes the SOC 2 evidence report of CloudFormation templates: for every
criterion soc2ls knows, the resources whose settings support it, the open
findings and the accepted exceptions with their reasons. HTML is one
self-contained file for auditors (print it to PDF), Markdown suits
pull-request comments, JSON dashboards (shape in docs/report.md).
PATH is a file, a directory (searched recursively) or - for standard input.

Exit status: 0 when the report was written (findings do not fail it), 2 on
usage or I/O errors.

Flags:
`)
		fset.PrintDefaults()
	}
	paths, err := parseInterspersed(fset, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	name := *format
	if name == "" {
		name = formatOfPath(*outPath)
	}
	write, ok := reportFormats[name]
	if !ok {
		return usageError(stderr, "report", "unknown format %q (want html, markdown or json)", name)
	}
	if len(paths) == 0 {
		return usageError(stderr, "report", "no PATH given (use - to read standard input)")
	}

	maxSize := int64(defaultMaxSizeMB << 20) // as check: CloudFormation accepts 1 MB
	inputs, errs := collect(paths, maxSize, stderr)
	engine := analysis.NewEngine(ruleSet(), nil)
	inputs, code := applyProjectConfig(inputs, *configPath, engine, stderr)
	if code != 0 {
		return code
	}
	var stdinSrc []byte
	for _, in := range inputs {
		if in.stdin {
			if stdinSrc, err = io.ReadAll(stdin); err != nil {
				errs = append(errs, "standard input: "+err.Error())
			}
		}
	}
	var results []report.FileResult
	for _, o := range checkAll(engine, inputs, stdinSrc, noFix, maxSize) {
		for _, n := range o.notes {
			fmt.Fprintln(stderr, "soc2ls:", n)
		}
		if o.err != nil {
			errs = append(errs, o.err.Error())
		}
		if o.result != nil {
			results = append(results, *o.result)
		}
	}
	for _, e := range errs {
		fmt.Fprintln(stderr, "soc2ls:", e)
	}
	report.Sort(results)
	if len(results) == 0 && len(errs) == 0 {
		fmt.Fprintln(stderr, "soc2ls: warning: no CloudFormation templates found")
	}
	rep := evidence.Build(results, evidence.Options{Rules: allRules(), ToolVersion: toolVersion(), Generated: reportTime(stderr), Errors: errs})

	// Write to a temporary file and rename it, so that a failed run leaves
	// no half-written report where the last good one was.
	var dest io.Writer = stdout
	var tmp *os.File
	if *outPath != "" {
		if tmp, err = os.CreateTemp(filepath.Dir(*outPath), "."+filepath.Base(*outPath)+".soc2ls-*"); err != nil {
			fmt.Fprintln(stderr, "soc2ls:", describe(*outPath, err))
			return 2
		}
		defer os.Remove(tmp.Name()) // fails harmlessly once renamed
		dest = tmp
	}
	err = write(dest, rep)
	if tmp != nil {
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Chmod(tmp.Name(), 0o644)
		}
		if err == nil {
			err = os.Rename(tmp.Name(), *outPath)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "soc2ls:", err)
		return 2
	}
	sum := rep.Summary
	pass, open := 0, 0
	for _, c := range rep.Criteria {
		switch c.Status {
		case evidence.Pass:
			pass++
		case evidence.Findings:
			open++
		}
	}
	fmt.Fprintf(stderr, "%d criteria: %d with open findings, %d pass, %d not applicable; %s\n",
		len(rep.Criteria), open, pass, len(rep.Criteria)-open-pass, sum)
	if len(errs) > 0 {
		return 2
	}
	return 0
}

// formatOfPath guesses the report format from the output file's extension.
func formatOfPath(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".md", ".markdown":
		return "markdown"
	case ".json":
		return "json"
	}
	return "html"
}

// reportTime is when the report says it was generated: now, or the time in
// SOURCE_DATE_EPOCH (seconds since 1970), the reproducible-builds convention
// for output that must not change from one run to the next.
func reportTime(stderr io.Writer) time.Time {
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err == nil {
			return time.Unix(sec, 0).UTC()
		}
		fmt.Fprintf(stderr, "soc2ls: warning: SOURCE_DATE_EPOCH=%q is not a number of seconds: using the current time\n", s)
	}
	return time.Now().UTC()
}
