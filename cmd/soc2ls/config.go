package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/config"
)

// runConfig dispatches the config subcommands.
func runConfig(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		w := stderr
		if len(args) > 0 {
			w = stdout
		}
		fmt.Fprintf(w, "Usage: soc2ls config init [--force] [DIR]\n\nWrites a commented %s, with every key explained and the defaults shown,\nto DIR (default: the current directory). See docs/config.md.\n", config.FileName)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	switch args[0] {
	case "init":
		return runConfigInit(args[1:], stdout, stderr)
	}
	return usageError(stderr, "config", "unknown subcommand %q (want init)", args[0])
}

// runConfigInit writes the starting configuration file. It never replaces
// an existing file unless told to: the file is the user's.
func runConfigInit(args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("config init", flag.ContinueOnError)
	fset.SetOutput(stderr)
	force := fset.Bool("force", false, "overwrite an existing "+config.FileName)
	fset.Usage = func() {
		fmt.Fprintf(fset.Output(), "Usage: soc2ls config init [--force] [DIR]\n\nWrites a commented %s to DIR (default: the current directory).\n\nFlags:\n", config.FileName)
		fset.PrintDefaults()
	}
	rest, err := parseInterspersed(fset, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if len(rest) > 1 {
		return usageError(stderr, "config init", "at most one DIR (got %d)", len(rest))
	}
	dir := "."
	if len(rest) == 1 {
		dir = rest[0]
	}
	if fi, err := os.Stat(dir); err != nil {
		fmt.Fprintln(stderr, "soc2ls:", describe(dir, err))
		return 2
	} else if !fi.IsDir() {
		fmt.Fprintf(stderr, "soc2ls: %s: not a directory\n", dir)
		return 2
	}
	path := filepath.Join(dir, config.FileName)
	data := config.Starter()
	_, statErr := os.Lstat(path)
	switch {
	case statErr == nil && !*force:
		fmt.Fprintf(stderr, "soc2ls: %s already exists; use --force to overwrite it\n", path)
		return 1
	case statErr == nil:
		err = writeAtomic(path, data)
	default:
		// O_EXCL: a file created meanwhile is not overwritten either.
		var f *os.File
		if f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); err == nil {
			_, err = f.Write(data)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "soc2ls:", describe(path, err))
		return 2
	}
	fmt.Fprintln(stdout, "wrote", path)
	return 0
}

// projectConfigs resolves the configuration of each input of soc2ls check:
// the --config file for all of them, or each one's nearest .soc2ls.yaml. It
// builds one engine per configuration file.
type projectConfigs struct {
	loader   config.Loader
	explicit *config.File // --config, or nil
	base     *analysis.Engine
	engines  map[*config.File]*analysis.Engine
	reported map[*config.File]bool
	failed   bool
	stderr   io.Writer
}

// applyProjectConfig gives each input the engine of its configuration and
// drops the inputs a directory walk found that the configuration ignores.
// Configuration errors are printed as "file:line:col: error: message"; the
// returned code is 2 when there was one (soc2ls check then stops: a report
// made with a broken configuration would mislead), else 0.
func applyProjectConfig(inputs []input, configPath string, base *analysis.Engine, stderr io.Writer) ([]input, int) {
	pc := &projectConfigs{base: base, engines: map[*config.File]*analysis.Engine{}, reported: map[*config.File]bool{}, stderr: stderr}
	pc.loader.Known = func(id string) bool { _, ok := base.Rule(id); return ok }
	if configPath != "" {
		f, err := pc.loader.Load(configPath)
		if err != nil {
			fmt.Fprintf(stderr, "soc2ls: %s: %v\n", configPath, err)
			return nil, 2
		}
		f.Path = configPath // shown as the user named it
		pc.explicit = f
	}
	kept := inputs[:0:0]
	for _, in := range inputs {
		dir := "."
		if !in.stdin {
			dir = filepath.Dir(in.path)
		}
		f := pc.explicit
		if f == nil {
			var err error
			if f, err = pc.loader.ForDir(dir); err != nil {
				fmt.Fprintf(stderr, "soc2ls: %s: %v\n", displayPath(pc.loader.Find(dir)), err)
				return nil, 2
			}
		}
		pc.report(f)
		if f != nil && !in.explicit && !in.stdin && f.Ignored(in.path) {
			continue
		}
		in.engine = pc.engine(f)
		kept = append(kept, in)
	}
	if pc.failed {
		return nil, 2
	}
	return kept, 0
}

// report prints a configuration file's errors, once.
func (pc *projectConfigs) report(f *config.File) {
	if f == nil || pc.reported[f] {
		return
	}
	pc.reported[f] = true
	for _, e := range f.Errors {
		fmt.Fprintf(pc.stderr, "%s:%d:%d: error: %s\n", displayPath(f.Path), e.Line, e.Column, e.Message)
		pc.failed = true
	}
}

// engine returns the engine for a configuration (nil: the defaults).
func (pc *projectConfigs) engine(f *config.File) *analysis.Engine {
	if f == nil {
		return pc.base
	}
	e, ok := pc.engines[f]
	if !ok {
		e = analysis.NewEngine(ruleSet(), f.Apply(pc.base.Options))
		pc.engines[f] = e
	}
	return e
}

// displayPath shows an absolute path relative to the working directory when
// it lies inside it, the way the user would type it.
func displayPath(p string) string {
	if !filepath.IsAbs(p) {
		return p
	}
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if rel, err := filepath.Rel(wd, p); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return rel
	}
	return p
}
