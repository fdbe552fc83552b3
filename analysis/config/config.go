// Package config reads soc2ls project configuration files (.soc2ls.yaml):
// which rules run at which severity, the options the rules read, the
// baseline/workload profile, and the files to ignore. Every problem in a
// file is reported with its line and column; nothing is silently dropped.
//
// The package does not know the rule catalogue (analysis/rules imports
// analysis, and tests run with their own rule sets): callers pass the known
// rule ids to Parse.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/soc2ls/soc2ls/analysis/suggest"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// FileName is the name of a project configuration file.
const FileName = ".soc2ls.yaml"

// Profiles are the values of the profile key (and of a template's
// Metadata soc2ls profile).
var Profiles = []string{"baseline", "workload"}

// LogRetentionDays are the retention periods CloudWatch Logs accepts
// (AWS::Logs::LogGroup RetentionInDays), the values auditLogRetentionDays may
// take: a floor no log group can be set to would make the rules demand the
// impossible.
var LogRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// maxBackupRetentionDays is the longest automated backup retention RDS
// accepts (BackupRetentionPeriod).
const maxBackupRetentionDays = 35

// Error is one problem in a configuration file, at a position in it.
type Error struct {
	Path string
	// Line and Column are 1-based; Column counts UTF-16 code units, as
	// template.Lines does for template findings.
	Line, Column int
	// Span is the byte range of the offending text.
	Span    template.Span
	Message string
}

// Error formats the problem as "path:line:column: message".
func (e Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.Path, e.Line, e.Column, e.Message)
}

// File is a parsed configuration file. Parts that are invalid are left
// unset (and reported in Errors); the valid parts still apply, so that an
// editor keeps working while the file is being written.
type File struct {
	// Path is the file's path as given to Parse; Dir is its directory, the
	// base of the ignore patterns.
	Path, Dir string
	// Source and Lines are the text parsed, for converting Error spans.
	Source []byte
	Lines  *template.Lines

	// Rules are the rule overrides, keyed by upper-case rule id.
	Rules map[string]analysis.RuleSetting
	// Profile is "baseline", "workload" or "" (detect from the template).
	Profile string
	// Ignore are the ignore patterns, relative to Dir.
	Ignore []*Glob

	environmentParameter   *string
	environmentValues      *[]string
	primaryRegionParameter *string
	publicPorts            *[]int
	auditLogRetentionDays  *int
	minBackupRetentionDays *int
	requiredTags           *[]string

	// Errors are the problems found, in file order.
	Errors []Error
}

// Apply returns a copy of base with the file's settings applied: options it
// sets replace base's, its rule settings are added to (and replace) base's.
// A nil File returns a copy of base unchanged.
func (f *File) Apply(base *analysis.Options) *analysis.Options {
	o := *base
	o.EnvironmentValues = slices.Clone(base.EnvironmentValues)
	o.PublicPorts = slices.Clone(base.PublicPorts)
	o.RequiredTags = slices.Clone(base.RequiredTags)
	o.Rules = make(map[string]analysis.RuleSetting, len(base.Rules))
	for id, rs := range base.Rules {
		o.Rules[id] = rs
	}
	if f == nil {
		return &o
	}
	for id, rs := range f.Rules {
		o.Rules[id] = rs
	}
	if f.Profile != "" {
		o.Profile = f.Profile
	}
	if f.environmentParameter != nil {
		o.EnvironmentParameter = *f.environmentParameter
	}
	if f.environmentValues != nil {
		o.EnvironmentValues = slices.Clone(*f.environmentValues)
	}
	if f.primaryRegionParameter != nil {
		o.PrimaryRegionParameter = *f.primaryRegionParameter
	}
	if f.publicPorts != nil {
		o.PublicPorts = slices.Clone(*f.publicPorts)
	}
	if f.auditLogRetentionDays != nil {
		o.AuditLogRetentionDays = *f.auditLogRetentionDays
	}
	if f.minBackupRetentionDays != nil {
		o.MinBackupRetentionDays = *f.minBackupRetentionDays
	}
	if f.requiredTags != nil {
		o.RequiredTags = slices.Clone(*f.requiredTags)
	}
	return &o
}

// Ignored reports whether the file at path (absolute, or relative to the
// same working directory as Dir) matches one of the ignore patterns. Files
// outside Dir are never ignored.
func (f *File) Ignored(path string) bool {
	if f == nil || len(f.Ignore) == 0 {
		return false
	}
	rel, ok := relSlash(f.Dir, path)
	if !ok {
		return false
	}
	for _, g := range f.Ignore {
		if g.Match(rel) {
			return true
		}
	}
	return false
}

// parser holds the state of one Parse.
type parser struct {
	f     *File
	known func(id string) bool
}

// Parse reads a configuration file. known reports whether a rule id
// (upper case) exists; nil accepts every id. The returned File is never nil:
// its Errors list every problem, and its other fields the valid settings.
func Parse(path string, src []byte, known func(id string) bool) *File {
	f := &File{Path: path, Dir: dirOf(path), Source: src, Lines: template.NewLines(src)}
	p := &parser{f: f, known: known}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) {
		return f // empty
	}
	if err == nil {
		// A second document would be silently ignored by a single Decode.
		var extra yaml.Node
		if err2 := dec.Decode(&extra); err2 == nil {
			p.errorAt(&extra, "%s holds one YAML document; this second one (after ---) is not read", FileName)
			return f
		} else if !errors.Is(err2, io.EOF) {
			err = err2
		}
	}
	if err != nil {
		// The template parser holds the one converter of yaml.v3's
		// "line N" errors into positions.
		for _, prob := range template.Parse(path+".yaml", src).Problems {
			if prob.Code == template.ProblemSyntax {
				p.errorf(prob.Span, "%s", prob.Message)
				return f
			}
		}
		// An error the template parser does not see (in a second document).
		msg, at := strings.TrimPrefix(err.Error(), "yaml: "), 0
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			msg, at = fmt.Sprintf("YAML syntax error near line %d: %s", line, m[2]), f.Lines.LineStart(max(min(line, f.Lines.Count()), 1)-1)
		}
		p.errorf(template.Span{Start: at, End: at}, "%s", msg)
		return f
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return f // empty, or only comments: all defaults
	}
	root := doc.Content[0]
	if !p.checkPlain(root) {
		return f
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return f
	}
	if root.Kind != yaml.MappingNode {
		p.errorAt(root, "the configuration must be a mapping with the keys rules, options, profile and ignore")
		return f
	}
	p.mapping(root, "", func(key, val *yaml.Node) {
		switch key.Value {
		case "rules":
			p.rules(val)
		case "options":
			p.options(val)
		case "profile":
			if s, ok := p.str(val, "profile"); ok {
				if w := strings.ToLower(s); slices.Contains(Profiles, w) {
					f.Profile = w
				} else {
					p.errorAt(val, "profile: unknown profile %q (want baseline or workload)", s)
				}
			}
		case "ignore":
			p.ignore(val)
		default:
			p.errorAt(key, "unknown key %q (want rules, options, profile or ignore)%s", key.Value, didYouMean(key.Value, topKeys))
		}
	})
	sort.SliceStable(f.Errors, func(i, j int) bool { return f.Errors[i].Span.Start < f.Errors[j].Span.Start })
	return f
}

var (
	topKeys     = []string{"rules", "options", "profile", "ignore"}
	optionKeys  = []string{"requiredTags", "publicPorts", "auditLogRetentionDays", "environmentParameter", "environmentValues", "primaryRegionParameter", "minBackupRetentionDays"}
	settingKeys = []string{"severity", "enabled"}
	yamlLine    = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	// logicalID is what CloudFormation accepts as a parameter name.
	logicalID = regexp.MustCompile(`^[A-Za-z0-9]{1,255}$`)
)

func (p *parser) rules(val *yaml.Node) {
	if !p.isMapping(val, "rules", "a mapping from rule ids to off, on, a severity, or {severity: ...}") {
		return
	}
	rules := map[string]analysis.RuleSetting{}
	p.mapping(val, "rules.", func(key, v *yaml.Node) {
		id := strings.ToUpper(strings.TrimSpace(key.Value))
		if p.known != nil && !p.known(id) {
			p.errorAt(key, "rules: unknown rule %q", key.Value)
			return
		}
		if rs, ok := p.ruleSetting(v, "rules."+key.Value); ok {
			rules[id] = rs
		}
	})
	p.f.Rules = rules
}

// ruleSetting reads one rule's value: a word (off, on, a severity), a
// boolean, or a mapping {severity: WORD, enabled: BOOL}.
func (p *parser) ruleSetting(v *yaml.Node, where string) (analysis.RuleSetting, bool) {
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Tag == "!!bool" {
			b, _ := strconv.ParseBool(v.Value)
			return analysis.RuleSetting{Off: !b}, true
		}
		rs, err := RuleWord(v.Value)
		if err != nil {
			p.errorAt(v, "%s: %v", where, err)
			return rs, false
		}
		return rs, true
	case yaml.MappingNode:
		var rs analysis.RuleSetting
		ok := true
		p.mapping(v, where+".", func(key, val *yaml.Node) {
			switch key.Value {
			case "severity":
				s, good := p.str(val, where+".severity")
				if !good {
					ok = false
					return
				}
				w, err := RuleWord(s)
				if err != nil {
					p.errorAt(val, "%s.severity: %v", where, err)
					ok = false
					return
				}
				rs.Off = rs.Off || w.Off
				rs.Severity = w.Severity
			case "enabled":
				if val.Kind != yaml.ScalarNode || val.Tag != "!!bool" {
					p.errorAt(val, "%s.enabled: want true or false", where)
					ok = false
					return
				}
				if b, _ := strconv.ParseBool(val.Value); !b {
					rs.Off = true
				}
			default:
				p.errorAt(key, "%s: unknown key %q (want severity or enabled)%s", where, key.Value, didYouMean(key.Value, settingKeys))
				ok = false
			}
		})
		return rs, ok
	}
	p.errorAt(v, "%s: want off, on, a severity (error, warning, info, hint) or {severity: ...}", where)
	return analysis.RuleSetting{}, false
}

// RuleWord reads a rule setting word: off (or disabled, none), on (or
// default, enabled) or a severity name. The language server's editor
// settings use the same words.
func RuleWord(w string) (analysis.RuleSetting, error) {
	switch strings.ToLower(strings.TrimSpace(w)) {
	case "off", "disabled", "none":
		return analysis.RuleSetting{Off: true}, nil
	case "on", "default", "enabled":
		return analysis.RuleSetting{}, nil
	}
	sev, ok := analysis.ParseSeverity(strings.TrimSpace(w))
	if !ok {
		return analysis.RuleSetting{}, fmt.Errorf("unknown severity %q (want off, on, error, warning, info or hint)", w)
	}
	return analysis.RuleSetting{Severity: sev}, nil
}

func (p *parser) options(val *yaml.Node) {
	if !p.isMapping(val, "options", "a mapping") {
		return
	}
	f := p.f
	p.mapping(val, "options.", func(key, v *yaml.Node) {
		where := "options." + key.Value
		switch key.Value {
		case "requiredTags":
			if tags, ok := p.strList(v, where, false); ok {
				for i, t := range tags {
					if len(t) > 128 {
						p.errorAt(v.Content[i], "%s: tag key longer than 128 characters", where)
						return
					}
				}
				f.requiredTags = &tags
			}
		case "environmentValues":
			if vals, ok := p.strList(v, where, true); ok {
				f.environmentValues = &vals
			}
		case "environmentParameter":
			if s, ok := p.paramName(v, where); ok {
				f.environmentParameter = &s
			}
		case "primaryRegionParameter":
			if s, ok := p.paramName(v, where); ok {
				f.primaryRegionParameter = &s
			}
		case "publicPorts":
			if v.Kind != yaml.SequenceNode {
				p.errorAt(v, "%s: want a list of TCP ports, such as [80, 443]", where)
				return
			}
			ports := []int{}
			good := true
			for _, item := range v.Content {
				n, ok := p.integer(item, where)
				switch {
				case !ok:
					good = false
				case n < 1 || n > 65535:
					p.errorAt(item, "%s: port %d out of range (want 1 to 65535)", where, n)
					good = false
				case slices.Contains(ports, n):
					p.errorAt(item, "%s: port %d listed twice", where, n)
					good = false
				default:
					ports = append(ports, n)
				}
			}
			if good {
				f.publicPorts = &ports
			}
		case "auditLogRetentionDays":
			if n, ok := p.integer(v, where); ok {
				if !slices.Contains(LogRetentionDays, n) {
					p.errorAt(v, "%s: %d is not a retention CloudWatch Logs accepts (want one of %s)", where, n, joinInts(LogRetentionDays))
					return
				}
				f.auditLogRetentionDays = &n
			}
		case "minBackupRetentionDays":
			if n, ok := p.integer(v, where); ok {
				if n < 1 || n > maxBackupRetentionDays {
					p.errorAt(v, "%s: %d out of range (want 1 to %d days, what RDS accepts)", where, n, maxBackupRetentionDays)
					return
				}
				f.minBackupRetentionDays = &n
			}
		default:
			p.errorAt(key, "options: unknown option %q%s", key.Value, didYouMean(key.Value, optionKeys))
		}
	})
}

func (p *parser) ignore(val *yaml.Node) {
	if val.Kind == yaml.ScalarNode && val.Tag == "!!null" {
		return // `ignore:` with only commented-out patterns
	}
	if val.Kind != yaml.SequenceNode {
		p.errorAt(val, "ignore: want a list of patterns, such as [\"cdk.out/**\"]")
		return
	}
	globs := []*Glob{}
	for _, item := range val.Content {
		if !p.checkPlain(item) {
			continue
		}
		pat, ok := p.str(item, "ignore")
		if !ok {
			continue
		}
		g, err := CompileGlob(pat)
		if err != nil {
			p.errorAt(item, "ignore: %v", err)
			continue
		}
		globs = append(globs, g)
	}
	p.f.Ignore = globs
}

// mapping calls fn for each entry of a mapping node, reporting duplicate
// keys (the second one is an error; neither is silently dropped) and keys
// that are not plain strings.
func (p *parser) mapping(m *yaml.Node, prefix string, fn func(key, val *yaml.Node)) {
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		key, val := m.Content[i], m.Content[i+1]
		if !p.checkPlain(key) || !p.checkPlain(val) {
			continue
		}
		if key.Kind != yaml.ScalarNode {
			p.errorAt(key, "%skeys must be plain words", prefix)
			continue
		}
		canon := key.Value
		if prefix == "rules." {
			canon = strings.ToUpper(strings.TrimSpace(canon))
		}
		if first, dup := seen[canon]; dup {
			p.errorAt(key, "duplicate key %s%s (first defined at line %d)", prefix, key.Value, first.Line)
			continue
		}
		seen[canon] = key
		fn(key, val)
	}
}

// checkPlain rejects anchors, aliases and merge keys, which the
// configuration, like CloudFormation templates, does not support.
func (p *parser) checkPlain(n *yaml.Node) bool {
	switch {
	case n.Kind == yaml.AliasNode:
		p.errorAt(n, "YAML aliases are not supported in %s", FileName)
		return false
	case n.Anchor != "":
		p.errorAt(n, "YAML anchors are not supported in %s", FileName)
		return false
	case n.Kind == yaml.ScalarNode && n.Tag == "!!merge":
		p.errorAt(n, "YAML merge keys are not supported in %s", FileName)
		return false
	}
	return true
}

func (p *parser) isMapping(n *yaml.Node, where, want string) bool {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return false // `rules:` with nothing: no settings
	}
	if n.Kind != yaml.MappingNode {
		p.errorAt(n, "%s: want %s", where, want)
		return false
	}
	return true
}

func (p *parser) str(n *yaml.Node, where string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errorAt(n, "%s: want a word", where)
		return "", false
	}
	return n.Value, true
}

func (p *parser) paramName(n *yaml.Node, where string) (string, bool) {
	s, ok := p.str(n, where)
	if !ok {
		return "", false
	}
	if !logicalID.MatchString(s) {
		p.errorAt(n, "%s: %q is not a CloudFormation parameter name (letters and digits only)", where, s)
		return "", false
	}
	return s, true
}

func (p *parser) integer(n *yaml.Node, where string) (int, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		p.errorAt(n, "%s: want a whole number", where)
		return 0, false
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		p.errorAt(n, "%s: %q is not a whole number", where, n.Value)
		return 0, false
	}
	return v, true
}

// strList reads a list of non-empty, distinct strings; nonEmpty requires
// at least one.
func (p *parser) strList(n *yaml.Node, where string, nonEmpty bool) ([]string, bool) {
	if n.Kind != yaml.SequenceNode {
		p.errorAt(n, "%s: want a list, such as [a, b]", where)
		return nil, false
	}
	if nonEmpty && len(n.Content) == 0 {
		p.errorAt(n, "%s: want at least one value", where)
		return nil, false
	}
	out := []string{}
	good := true
	for _, item := range n.Content {
		if !p.checkPlain(item) {
			good = false
			continue
		}
		s, ok := p.str(item, where)
		switch {
		case !ok:
			good = false
		case strings.TrimSpace(s) == "":
			p.errorAt(item, "%s: empty value", where)
			good = false
		case slices.Contains(out, s):
			p.errorAt(item, "%s: %q listed twice", where, s)
			good = false
		default:
			out = append(out, s)
		}
	}
	return out, good
}

// errorAt reports a problem at a node: its span runs from the node's start
// to the end of its text on that line.
func (p *parser) errorAt(n *yaml.Node, format string, args ...any) {
	l := p.f.Lines
	start := l.OffsetOfRuneColumn(n.Line, n.Column)
	end := start
	if n.Kind == yaml.ScalarNode || n.Kind == yaml.AliasNode {
		lineEnd := l.LineEnd(l.LineOf(start))
		end = min(start+max(len(n.Value), 1), lineEnd)
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			end = min(start+len(n.Value)+2, lineEnd)
		}
	} else {
		end = l.LineEnd(l.LineOf(start))
	}
	p.errorf(template.Span{Start: start, End: max(end, start)}, format, args...)
}

func (p *parser) errorf(s template.Span, format string, args ...any) {
	pos := p.f.Lines.Position(s.Start)
	p.f.Errors = append(p.f.Errors, Error{Path: p.f.Path, Line: pos.Line, Column: pos.Column, Span: s, Message: fmt.Sprintf(format, args...)})
}

// didYouMean returns ` (did you mean "x"?)` for a key that differs from a known
// one only in case, or by one edit.
func didYouMean(got string, known []string) string {
	for _, k := range known {
		if strings.EqualFold(k, got) || suggest.Distance(strings.ToLower(k), strings.ToLower(got)) == 1 {
			return fmt.Sprintf(" (did you mean %q?)", k)
		}
	}
	return ""
}

func joinInts(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ", ")
}
