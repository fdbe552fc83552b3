package main

import (
	"bytes"
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/diff"
	"github.com/soc2ls/soc2ls/analysis/report"
	"github.com/soc2ls/soc2ls/analysis/rules"
)

// ruleSet returns the rules soc2ls runs. Tests replace it so that their
// golden files do not change whenever a rule joins the catalogue.
var ruleSet = rules.All

// allRules is the rule set followed by the meta rules, the order in which
// rules are listed and described.
func allRules() []*analysis.Rule {
	return append(append([]*analysis.Rule{}, ruleSet()...), analysis.MetaRules()...)
}

// defaultMaxSizeMB is the default of --max-size: CloudFormation accepts
// templates of 1 MB at most, so anything past 10 MB is a data file with a
// misleading extension. A walk skips such files with a warning; a file named
// explicitly (or standard input) gets a SOC2-PARSE-005 finding instead of an
// analysis. Either way the file is not read into memory.
const defaultMaxSizeMB = 10

// skippedDirs are never entered by a directory walk: version control and
// dependency trees hold no templates of the project. (cdk.out is walked: it
// holds the templates CDK synthesises.)
var skippedDirs = map[string]bool{".git": true, ".hg": true, ".svn": true, "node_modules": true}

// input is one document to check.
type input struct {
	path     string // as shown to the user
	explicit bool   // named on the command line: always analysed
	stdin    bool
	engine   *analysis.Engine // for its project configuration; nil: the default
}

// outcome is what checking one input produced.
type outcome struct {
	result   *report.FileResult // nil when the file was skipped
	fixed    []analysis.Finding // findings whose fixes were applied
	fixedSrc []byte             // the fixed document, for standard input
	diff     []byte             // with --diff, what --fix would change
	notes    []string           // said on stderr
	err      error
}

func runCheck(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("check", flag.ContinueOnError)
	fset.SetOutput(stderr)
	format := fset.String("format", "text", "output `format`: "+strings.Join(report.Formats, ", "))
	failOn := fset.String("fail-on", "warning", "exit 1 when a finding has this `severity` or a worse one: error, warning, info or none")
	fix := fset.Bool("fix", false, "apply the safe fixes to the files, then report the findings that remain")
	outPath := fset.String("o", "", "write the report to `file` instead of standard output")
	configPath := fset.String("config", "", "use this configuration `file` for every template instead of each one's nearest .soc2ls.yaml")
	maxSizeMB := fset.Float64("max-size", defaultMaxSizeMB, "skip files larger than this many `MB`: a walk skips them with a warning, files named explicitly get a SOC2-PARSE-005 finding")
	showSuppressed := fset.Bool("show-suppressed", false, "list suppressed findings with their reasons in text output (JSON and SARIF always record them)")
	showDiff := fset.Bool("diff", false, "print what --fix would change as a unified diff on stdout, change nothing, and report on stderr")
	baselinePath := fset.String("baseline", "", "report only the findings not recorded in the baseline `file`")
	writeBaselinePath := fset.String("write-baseline", "", "record the findings in the baseline `file` (with --baseline: drop its fixed entries only)")
	fset.Usage = func() {
		fmt.Fprint(fset.Output(), `Usage: soc2ls check [flags] PATH...

Checks CloudFormation templates for SOC 2 compliance gaps. PATH is a file, a
directory (searched recursively for .yaml, .yml, .json and .template files;
other YAML and JSON is skipped) or - for standard input.

Each template is checked with the nearest .soc2ls.yaml in its directory or
above (up to the repository root), or with --config FILE; see docs/config.md.

Exit status: 0 when no finding reaches --fail-on, 1 when one does, 2 on
usage, configuration or I/O errors.

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
	write, ok := report.Lookup(*format)
	if !ok {
		return usageError(stderr, "check", "unknown format %q (want %s)", *format, strings.Join(report.Formats, ", "))
	}
	var threshold analysis.Severity // 0: never fail on findings
	if *failOn != "none" {
		if threshold, ok = analysis.ParseSeverity(*failOn); !ok {
			return usageError(stderr, "check", "unknown --fail-on level %q (want error, warning, info or none)", *failOn)
		}
	}
	if len(paths) == 0 {
		return usageError(stderr, "check", "no PATH given (use - to read standard input)")
	}
	if *showDiff && *fix {
		return usageError(stderr, "check", "--diff shows what --fix would do: use one or the other")
	}
	fixing := noFix
	switch {
	case *fix:
		fixing = fixFiles
	case *showDiff:
		fixing = fixDiff
	}
	// Read the baseline before anything changes: a bad one stops the run.
	base, err := loadBaseline(*baselinePath, *writeBaselinePath)
	if err != nil {
		fmt.Fprintln(stderr, "soc2ls:", err)
		return 2
	}
	if !(*maxSizeMB > 0) {
		return usageError(stderr, "check", "--max-size must be a positive number of MB (got %v)", *maxSizeMB)
	}
	maxSize := int64(*maxSizeMB * (1 << 20))

	// Open the report file first: a path that cannot be written should stop
	// the run before --fix changes anything.
	var outFile *os.File
	if *outPath != "" {
		if outFile, err = os.Create(*outPath); err != nil {
			fmt.Fprintln(stderr, "soc2ls:", describe(*outPath, err))
			return 2
		}
		defer outFile.Close()
	}

	inputs, errs := collect(paths, maxSize, stderr)
	engine := analysis.NewEngine(ruleSet(), nil)
	inputs, code := applyProjectConfig(inputs, *configPath, engine, stderr)
	if code != 0 {
		return code
	}
	var stdinSrc []byte
	readsStdin := false
	for _, in := range inputs {
		if in.stdin {
			readsStdin = true
			// Read one byte past the limit to know it was passed, no more.
			if stdinSrc, err = io.ReadAll(io.LimitReader(stdin, maxSize+1)); err != nil {
				errs = append(errs, "standard input: "+err.Error())
			}
		}
	}
	if fixing == noFix && (*format == "text" || *format == "github" || *format == "junit") {
		// These formats show no fix edits, and building them is half of an
		// analysis.
		engine = engine.WithoutFixes()
		for i := range inputs {
			if inputs[i].engine != nil {
				inputs[i].engine = inputs[i].engine.WithoutFixes()
			}
		}
	}
	outcomes := checkAll(engine, inputs, stdinSrc, fixing, maxSize)

	// Messages follow the order of the inputs, which is deterministic
	// (command line order, then lexical within directories).
	var results []report.FileResult
	var fixedSrc, diffs []byte
	fixedCount, fixedFiles := 0, 0
	for i, o := range outcomes {
		for _, n := range o.notes {
			fmt.Fprintln(stderr, "soc2ls:", n)
		}
		if o.err != nil {
			errs = append(errs, o.err.Error())
		}
		for _, f := range o.fixed {
			// No line numbers: later rounds of FixAll see a changed document.
			what := f.Fixes[0].Title
			if f.Resource != "" {
				what = f.Resource + ": " + what
			}
			verb := "fixed"
			if *showDiff {
				verb = "would fix"
			}
			fmt.Fprintf(stderr, "%s: %s: %s [%s]\n", inputs[i].path, verb, what, f.RuleID)
		}
		if len(o.fixed) > 0 {
			fixedCount += len(o.fixed)
			fixedFiles++
		}
		if inputs[i].stdin {
			fixedSrc = o.fixedSrc
		}
		if len(o.diff) > 0 {
			diffs = append(diffs, o.diff...)
		}
		if o.result != nil {
			results = append(results, *o.result)
		}
	}
	for _, e := range errs {
		fmt.Fprintln(stderr, "soc2ls:", e)
	}
	report.Sort(results)
	if !applyBaseline(base, *baselinePath, *writeBaselinePath, results, len(errs) > 0, stderr) {
		return 2
	}

	info := report.Info{ToolVersion: toolVersion(), Rules: allRules(), Errors: errs, ShowSuppressed: *showSuppressed}
	if wd, err := os.Getwd(); err == nil {
		info.SrcRoot = wd
	}
	// The report goes to stdout, unless stdout carries the fixed document
	// or the diff.
	var dest io.Writer = stdout
	switch {
	case readsStdin && *fix:
		dest = stderr
		stdout.Write(fixedSrc)
	case *showDiff:
		dest = stderr
		stdout.Write(diffs)
	}
	if outFile != nil {
		dest = outFile
	}
	err = write(dest, results, info)
	if outFile != nil && err == nil {
		err = outFile.Close()
	}
	if err != nil {
		fmt.Fprintln(stderr, "soc2ls:", err)
		return 2
	}

	sum := report.Summarize(results)
	if len(results) == 0 && len(errs) == 0 {
		fmt.Fprintln(stderr, "soc2ls: warning: no CloudFormation templates found")
	}
	if fixedCount > 0 && *showDiff {
		fmt.Fprintf(stderr, "--fix would fix %d %s in %d %s\n", fixedCount, plural(fixedCount, "finding"), fixedFiles, plural(fixedFiles, "file"))
	} else if fixedCount > 0 {
		fmt.Fprintf(stderr, "fixed %d %s in %d %s\n", fixedCount, plural(fixedCount, "finding"), fixedFiles, plural(fixedFiles, "file"))
	}
	fmt.Fprintln(stderr, sum)
	switch {
	case len(errs) > 0:
		return 2
	case threshold != 0 && sum.AtLeast(threshold) > 0:
		return 1
	}
	return 0
}

// checkAll checks the inputs on runtime.GOMAXPROCS workers (engines are
// safe for concurrent use), each with its own engine or else e, and returns
// their outcomes in input order.
func checkAll(e *analysis.Engine, inputs []input, stdinSrc []byte, fix fixMode, maxSize int64) []outcome {
	outcomes := make([]outcome, len(inputs))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(inputs)) {
		wg.Go(func() {
			for i := range jobs {
				outcomes[i] = checkOne(cmp.Or(inputs[i].engine, e), inputs[i], stdinSrc, fix, maxSize)
			}
		})
	}
	for i := range inputs {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return outcomes
}

// fixMode is what check does with the safe fixes.
type fixMode uint8

const (
	noFix    fixMode = iota
	fixFiles         // --fix: apply them
	fixDiff          // --diff: show them, change nothing
)

// checkOne reads, analyses and, with fix, repairs one input or shows the
// repair.
func checkOne(e *analysis.Engine, in input, stdinSrc []byte, fix fixMode, maxSize int64) outcome {
	var o outcome
	src := stdinSrc
	if !in.stdin {
		var err error
		if src, err = readLimited(in.path, maxSize); err != nil {
			o.err = errors.New(describe(in.path, err))
			return o
		}
	}
	if in.stdin && fix == fixFiles {
		o.fixedSrc = src // the document goes back to stdout, fixed or not
	}
	if size := int64(len(src)); size > maxSize {
		// Only an explicit file or standard input gets here (a walk skips
		// large files): say why it was not checked, and never fix it.
		if !in.stdin {
			if fi, err := os.Stat(in.path); err == nil {
				size = fi.Size()
			}
		}
		res := e.TooLarge(in.path, size, maxSize)
		o.result = &report.FileResult{Path: in.path, Template: res.Template, Findings: res.Findings}
		return o
	}
	if !in.explicit && !mayBeTemplate(src) {
		return o
	}
	res := e.Analyze(in.path, src)
	if !res.Template.IsCloudFormation && len(res.Findings) == 0 {
		switch {
		case !in.explicit:
			return o // other YAML or JSON found by a walk
		case res.Template.HasSyntaxError():
			res.Findings = e.ProblemFindings(res.Template)
		default:
			o.notes = append(o.notes, "warning: "+in.path+": not a CloudFormation template, nothing to check")
		}
	}
	if fix != noFix && hasSafeFix(res.Findings) {
		fixed, applied, err := e.FixAll(in.path, src)
		switch {
		case err != nil:
			o.err = fmt.Errorf("%s: fixing failed: %v", in.path, err)
		case len(applied) == 0 || bytes.Equal(fixed, src):
		case fix == fixDiff:
			// The files keep their findings: report them as they are.
			name := filepath.ToSlash(in.path)
			o.diff, o.fixed = diff.Unified("a/"+name, "b/"+name, src, fixed, 3), applied
		case in.stdin:
			o.fixedSrc, o.fixed = fixed, applied
			res = e.Analyze(in.path, fixed)
		default:
			if err := writeAtomic(in.path, fixed); err != nil {
				o.err = errors.New(describe(in.path, err))
				break
			}
			o.fixed = applied
			res = e.Analyze(in.path, fixed)
		}
	}
	o.result = &report.FileResult{Path: in.path, Template: res.Template, Findings: res.Findings, Suppressed: res.Suppressed}
	return o
}

// mayBeTemplate is a cheap filter for files found by a walk: every template
// names its Resources or its AWSTemplateFormatVersion, so files without
// either (package.json, CI workflows, Kubernetes manifests) are not parsed.
func mayBeTemplate(src []byte) bool {
	return bytes.Contains(src, []byte("Resources")) || bytes.Contains(src, []byte("AWSTemplateFormatVersion"))
}

func hasSafeFix(fs []analysis.Finding) bool {
	for _, f := range fs {
		if len(f.Fixes) > 0 && !f.Fixes[0].Unsafe {
			return true
		}
	}
	return false
}

// collect expands the command line into inputs: files as named, directories
// walked, "-" for standard input. Duplicates (the same file named twice, or
// reached through a link) are checked once.
func collect(paths []string, maxSize int64, stderr io.Writer) ([]input, []string) {
	var inputs []input
	var errs []string
	seen := map[string]int{} // resolved path -> index in inputs
	add := func(in input) {
		key := in.path
		if !in.stdin {
			if real, err := filepath.EvalSymlinks(in.path); err == nil {
				key = real
			}
			if abs, err := filepath.Abs(key); err == nil {
				key = abs
			}
		}
		if i, ok := seen[key]; ok {
			// Named explicitly after a walk found it: explicit rules apply.
			inputs[i].explicit = inputs[i].explicit || in.explicit
			return
		}
		seen[key] = len(inputs)
		inputs = append(inputs, in)
	}
	for _, p := range paths {
		if p == "-" {
			add(input{path: report.StdinPath, explicit: true, stdin: true})
			continue
		}
		fi, err := os.Stat(p)
		switch {
		case err != nil:
			errs = append(errs, describe(p, err))
		case !fi.IsDir():
			add(input{path: p, explicit: true})
		default:
			errs = append(errs, walk(p, add, maxSize, stderr)...)
		}
	}
	return inputs, errs
}

// walk finds the template files under root. It does not follow symbolic
// links to directories (no loops), follows links to files only when their
// target lies inside root, and skips files too large to be templates.
func walk(root string, add func(input), maxSize int64, stderr io.Writer) []string {
	var errs []string
	// Walk the resolved root, since WalkDir does not enter a root that is
	// itself a link, but show paths under the name the user gave.
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		return []string{describe(root, err)}
	}
	filepath.WalkDir(real, func(path string, d fs.DirEntry, err error) error {
		display := root
		if rel, rerr := filepath.Rel(real, path); rerr == nil && rel != "." {
			display = filepath.Join(root, rel)
		}
		if err != nil {
			errs = append(errs, describe(display, err))
			return nil
		}
		if d.IsDir() {
			if path != real && skippedDirs[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		if !isTemplateName(d.Name()) {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := filepath.EvalSymlinks(path)
			if err != nil || !within(real, target) {
				return nil // dangling, or outside the tree being checked
			}
		}
		fi, err := os.Stat(path)
		switch {
		case err != nil:
			errs = append(errs, describe(display, err))
		case !fi.Mode().IsRegular():
			// a directory named like a template, a device, a FIFO
		case fi.Size() > maxSize:
			fmt.Fprintf(stderr, "soc2ls: warning: %s: skipped, larger than %s (--max-size)\n", display, sizeMB(maxSize))
		default:
			add(input{path: display})
		}
		return nil
	})
	return errs
}

// readLimited reads a file, but no more than one byte past limit: a larger
// file is reported, not held in memory.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit+1))
}

// sizeMB formats a size limit.
func sizeMB(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}

func isTemplateName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json", ".template":
		return true
	}
	return false
}

// within reports whether path lies inside dir (both resolved).
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// writeAtomic replaces the file at path with data so that readers see the old
// or the new content, never a half-written file: it writes a temporary file
// in the same directory (rename is atomic only within a file system), keeps
// the file's permissions, and renames it over the original. A symbolic link
// is kept and its target rewritten.
func writeAtomic(path string, data []byte) error {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".soc2ls-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(fi.Mode().Perm()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// describe formats a file error as "path: reason", without the operation
// name that *fs.PathError adds ("open x: no such file or directory").
func describe(path string, err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return path + ": " + err.Error()
}

// parseInterspersed parses flags that may appear before, between or after the
// positional arguments (`soc2ls check templates/ --format sarif`), which the
// flag package alone does not allow. "--" ends the flags.
func parseInterspersed(fset *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fset.Parse(args); err != nil {
			return nil, err
		}
		rest := fset.Args()
		if consumed := args[:len(args)-len(rest)]; len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// usageError reports a command line mistake and returns exit status 2.
func usageError(stderr io.Writer, cmd, format string, args ...any) int {
	fmt.Fprintf(stderr, "soc2ls %s: %s\nRun 'soc2ls %s -h' for usage.\n", cmd, fmt.Sprintf(format, args...), cmd)
	return 2
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
