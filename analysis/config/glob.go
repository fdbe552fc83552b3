package config

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// Glob is a compiled ignore pattern: slash-separated segments matched with
// path.Match, where a segment that is exactly ** matches any number of
// segments (none included). A pattern that matches a directory also matches
// everything under it, so "cdk.out" and "cdk.out/**" are the same.
type Glob struct {
	pattern string
	segs    []string
}

// CompileGlob checks and compiles a pattern. Patterns are relative to the
// configuration file's directory: absolute patterns and ".." are errors, as
// are the syntax errors of path.Match.
func CompileGlob(pattern string) (*Glob, error) {
	p := strings.TrimPrefix(strings.TrimSpace(pattern), "./")
	switch {
	case p == "":
		return nil, errors.New("empty pattern")
	case strings.HasPrefix(p, "/"):
		return nil, fmt.Errorf("pattern %q is absolute; patterns are relative to the directory of %s", pattern, FileName)
	case strings.Contains(p, `\`):
		return nil, fmt.Errorf("pattern %q contains a backslash; separate directories with /", pattern)
	}
	var segs []string
	for _, s := range strings.Split(strings.TrimSuffix(p, "/"), "/") {
		switch {
		case s == "" || s == ".":
			continue
		case s == "..":
			return nil, fmt.Errorf("pattern %q leaves the directory of %s (..)", pattern, FileName)
		case s == "**":
			if len(segs) > 0 && segs[len(segs)-1] == "**" {
				continue // a/**/**/b is a/**/b
			}
		default:
			if _, err := path.Match(s, ""); err != nil {
				return nil, fmt.Errorf("pattern %q: bad segment %q: %v", pattern, s, err)
			}
		}
		segs = append(segs, s)
	}
	if len(segs) == 0 {
		return nil, fmt.Errorf("pattern %q matches nothing", pattern)
	}
	return &Glob{pattern: pattern, segs: segs}, nil
}

// String returns the pattern as written.
func (g *Glob) String() string { return g.pattern }

// Match reports whether the slash-separated relative path, or one of the
// directories it lies in, matches the pattern.
func (g *Glob) Match(rel string) bool {
	name := strings.Split(path.Clean(rel), "/")
	for i := 1; i <= len(name); i++ {
		if matchSegs(g.segs, name[:i]) {
			return true
		}
	}
	return false
}

// matchSegs matches pattern segments against path segments. Consecutive **
// are collapsed at compile time, so the recursion is bounded by the number
// of ** segments times the path depth.
func matchSegs(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			rest := pat[1:]
			if len(rest) == 0 {
				return true
			}
			for i := 0; i <= len(name); i++ {
				if matchSegs(rest, name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}

// relSlash returns path relative to dir, slash-separated, and whether path
// lies inside dir.
func relSlash(dir, p string) (string, bool) {
	absDir, err1 := filepath.Abs(dir)
	absP, err2 := filepath.Abs(p)
	if err1 != nil || err2 != nil {
		return "", false
	}
	rel, err := filepath.Rel(absDir, absP)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

func dirOf(p string) string {
	if p == "" {
		return ""
	}
	return filepath.Dir(p)
}
