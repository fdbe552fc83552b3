package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/soc2ls/soc2ls/analysis/baseline"
	"github.com/soc2ls/soc2ls/analysis/report"
)

// loadBaseline reads the baseline given with --baseline. A missing file is an
// error, unless the same file is also to be written: a team's first
// `--baseline b.json --write-baseline b.json` creates it.
//
// It also checks that the directory of writePath exists, so that a baseline
// that cannot be written stops the run before --fix changes anything.
func loadBaseline(path, writePath string) (*baseline.File, error) {
	if writePath != "" {
		if fi, err := os.Stat(filepath.Dir(writePath)); err != nil {
			return nil, errors.New(describe(filepath.Dir(writePath), err))
		} else if !fi.IsDir() {
			return nil, fmt.Errorf("%s: not a directory", filepath.Dir(writePath))
		}
	}
	if path == "" {
		return nil, nil
	}
	b, err := baseline.Read(path)
	if errors.Is(err, fs.ErrNotExist) {
		if samePath(path, writePath) {
			return nil, nil
		}
		return nil, fmt.Errorf("%s: no such baseline (create it with --write-baseline %s)", path, path)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return nil, errors.New(describe(path, err))
	}
	return b, err // parse errors name the file and the position
}

// applyBaseline moves the findings that base records into the results'
// Baselined, reports the entries that no longer match on stderr, and writes
// the baseline asked for with --write-baseline: with a baseline, the one
// pruned of those entries (new findings are reported, not recorded); without,
// every finding. It returns false, having said why, when the baseline could
// not be written; it writes none when files could not be checked, since
// their entries would be lost.
func applyBaseline(base *baseline.File, path, writePath string, results []report.FileResult, ioErrors bool, stderr io.Writer) bool {
	if base != nil {
		stale := base.Apply(filepath.Dir(path), results)
		if len(stale) > 0 {
			fmt.Fprintf(stderr, "soc2ls: %s: %d %s no longer %s a finding (fixed, or the code at fault changed):\n",
				path, len(stale), plural(len(stale), "entry"), map[bool]string{true: "matches", false: "match"}[len(stale) == 1])
			for _, e := range stale {
				what := e.RuleID
				if e.Resource != "" {
					what += " " + e.Resource
				}
				fmt.Fprintf(stderr, "    %s: %s: %s\n", e.Path, what, e.Message)
			}
			if writePath == "" {
				fmt.Fprintf(stderr, "soc2ls: run with --baseline %s --write-baseline %s to drop them\n", path, path)
			}
		}
	}
	if writePath == "" {
		return true
	}
	if ioErrors {
		fmt.Fprintf(stderr, "soc2ls: %s: baseline not written, since some files could not be checked\n", writePath)
		return false
	}
	// The entries of files this run did not check are kept: from the
	// baseline given, or else from the file being rewritten.
	var previous *baseline.File
	switch {
	case base != nil:
		previous = base.Rebase(filepath.Dir(path), filepath.Dir(writePath))
	default:
		var err error
		if previous, err = baseline.Read(writePath); errors.Is(err, fs.ErrNotExist) {
			previous = nil
		} else if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				fmt.Fprintln(stderr, "soc2ls:", describe(writePath, err))
			} else {
				fmt.Fprintf(stderr, "soc2ls: %v (remove it to record a new baseline)\n", err)
			}
			return false
		}
	}
	dir := filepath.Dir(writePath)
	nb := baseline.Record(dir, results, base == nil, previous)
	if err := writeFile(writePath, nb.Marshal()); err != nil {
		fmt.Fprintln(stderr, "soc2ls:", describe(writePath, err))
		return false
	}
	fmt.Fprintf(stderr, "soc2ls: wrote %s: %d %s\n", writePath, len(nb.Findings), plural(len(nb.Findings), "finding"))
	if base == nil {
		// Recorded: from now on they are known debt, this run included.
		nb.Apply(dir, results)
	}
	return true
}

// writeFile writes data to path, atomically when the file exists.
func writeFile(path string, data []byte) error {
	if _, err := os.Stat(path); err == nil {
		return writeAtomic(path, data)
	}
	return os.WriteFile(path, data, 0o644)
}

// samePath reports whether two command-line paths name the same file.
func samePath(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	x, err1 := filepath.Abs(a)
	y, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && x == y
}
