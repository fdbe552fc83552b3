// Package baseline records the findings of a run in a file and matches later
// runs against it, so that a team can adopt soc2ls on templates that already
// have findings: the recorded ones are known debt, and only new findings are
// reported ("stop the bleeding first").
//
// A finding's identity survives unrelated edits. An entry holds the rule id,
// the file (slash-separated, relative to the baseline file's directory, so
// that the baseline can be committed and used from any checkout), the
// resource and a fingerprint of the rule, the resource and the normalised
// text of the node at fault; never a line number, so inserting lines above a
// finding, or editing another resource, leaves it matched. Matching counts:
// the baseline is a multiset, and two identical findings need two entries, so
// that copying a flawed resource's property within the resource is reported.
package baseline

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/report"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// Version is the version of the file format written by Write. Read accepts
// this version only: a newer file needs a newer soc2ls.
const Version = 1

// File is a baseline: the findings a run recorded.
type File struct {
	Version int `json:"version"`
	// Findings are sorted by path, then rule, resource and fingerprint, so
	// that a rewritten baseline diffs well in review.
	Findings []Entry `json:"findings"`
}

// Entry is one recorded finding.
type Entry struct {
	RuleID string `json:"ruleId"`
	// Path is the file, slash-separated, relative to the directory of the
	// baseline file (absolute when it lies on another volume), or
	// report.StdinPath.
	Path        string `json:"path"`
	Resource    string `json:"resource"`
	Fingerprint string `json:"fingerprint"`
	// Message is the finding's message when it was recorded, for people
	// reviewing the file; matching ignores it, since messages may quote
	// values elsewhere in the template.
	Message string `json:"message"`
}

// key is what matching compares: everything but the message.
type key struct{ path, rule, resource, fingerprint string }

func (e Entry) key() key { return key{e.Path, e.RuleID, e.Resource, e.Fingerprint} }

// Fingerprint identifies a finding of the template src independently of
// where it is: a hash of its rule, its resource and the text of the node at
// fault with whitespace runs (line breaks and indentation included) collapsed
// to one space, so that re-indenting a resource keeps its findings.
func Fingerprint(src []byte, fd analysis.Finding) string {
	var text []byte
	if s := fd.Span; 0 <= s.Start && s.Start <= s.End && s.End <= len(src) {
		text = bytes.Join(bytes.Fields(src[s.Start:s.End]), []byte(" "))
	}
	sum := sha256.Sum256([]byte(fd.RuleID + "\x00" + fd.Resource + "\x00" + string(text)))
	return hex.EncodeToString(sum[:16])
}

// Record makes the baseline to be written in directory dir: an entry for
// every baselined finding of files and, with all, for every active one too
// (suppressed findings are documented exceptions already, and never
// recorded). The entries of previous (the file being rewritten, or nil) for
// files that this run did not check are kept, so that recording the files a
// pre-commit hook was given does not forget the others.
func Record(dir string, files []report.FileResult, all bool, previous *File) *File {
	b := &File{Version: Version, Findings: []Entry{}}
	checked := map[string]bool{}
	for _, f := range files {
		checked[RelPath(dir, f.Path)] = true
		for _, fd := range f.Baselined {
			b.Findings = append(b.Findings, entryOf(dir, f, fd))
		}
		if all {
			for _, fd := range f.Findings {
				b.Findings = append(b.Findings, entryOf(dir, f, fd))
			}
		}
	}
	if previous != nil {
		for _, e := range previous.Findings {
			if !checked[e.Path] {
				b.Findings = append(b.Findings, e)
			}
		}
	}
	b.sort()
	return b
}

func entryOf(dir string, f report.FileResult, fd analysis.Finding) Entry {
	return Entry{RuleID: fd.RuleID, Path: RelPath(dir, f.Path), Resource: fd.Resource,
		Fingerprint: Fingerprint(f.Template.Source, fd), Message: fd.Message}
}

func (b *File) sort() {
	less := func(x, y Entry) int {
		for _, c := range [][2]string{{x.Path, y.Path}, {x.RuleID, y.RuleID}, {x.Resource, y.Resource}, {x.Fingerprint, y.Fingerprint}, {x.Message, y.Message}} {
			if c := strings.Compare(c[0], c[1]); c != 0 {
				return c
			}
		}
		return 0
	}
	slices.SortStableFunc(b.Findings, less)
}

// RelPath names the file at path (as the user gave it) relative to the
// baseline's directory dir, slash-separated.
func RelPath(dir, path string) string {
	if path == report.StdinPath {
		return path
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.ToSlash(path)
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return filepath.ToSlash(abs)
	}
	rel, err := filepath.Rel(absDir, abs)
	if err != nil { // another volume
		return filepath.ToSlash(abs)
	}
	return filepath.ToSlash(rel)
}

// Rebase returns a copy of the baseline, read from directory from, with its
// paths made relative to directory to, for writing it elsewhere.
func (b *File) Rebase(from, to string) *File {
	out := &File{Version: b.Version, Findings: make([]Entry, len(b.Findings))}
	for i, e := range b.Findings {
		if e.Path != report.StdinPath && !filepath.IsAbs(filepath.FromSlash(e.Path)) {
			e.Path = RelPath(to, filepath.Join(from, filepath.FromSlash(e.Path)))
		}
		out.Findings[i] = e
	}
	return out
}

// Apply matches the findings of files against the baseline, which was read
// from (or is to be written in) directory dir: each finding with an unused
// matching entry moves from Findings to Baselined. It returns the entries
// for the files checked that matched nothing, in file order: findings fixed,
// or whose node at fault changed, since the baseline was written. Entries for
// files not among files are neither used nor stale.
func (b *File) Apply(dir string, files []report.FileResult) (stale []Entry) {
	left := map[key]int{}
	for _, e := range b.Findings {
		left[e.key()]++
	}
	checked := map[string]bool{}
	for i := range files {
		f := &files[i]
		checked[RelPath(dir, f.Path)] = true
		var active []analysis.Finding
		for _, fd := range f.Findings {
			k := entryOf(dir, *f, fd).key()
			if left[k] > 0 {
				left[k]--
				f.Baselined = append(f.Baselined, fd)
				continue
			}
			active = append(active, fd)
		}
		f.Findings = active
	}
	for _, e := range b.Findings {
		if k := e.key(); left[k] > 0 && checked[e.Path] {
			left[k]--
			stale = append(stale, e)
		}
	}
	return stale
}

// Marshal renders the baseline as indented JSON, one entry per finding.
func (b *File) Marshal() []byte {
	b.sort()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	enc.Encode(b) // cannot fail: plain strings and ints
	return buf.Bytes()
}

// Read reads the baseline file at path. Errors name the file and, for
// malformed JSON, the line and column.
func Read(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse decodes a baseline read from the file named path.
func Parse(path string, data []byte) (*File, error) {
	var b File
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("%s: not a soc2ls baseline: %s", where(path, data, err), describeJSON(err))
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: not a soc2ls baseline: text after the JSON document", where(path, data, errAt(dec.InputOffset())))
	}
	switch {
	case b.Version == 0:
		return nil, fmt.Errorf("%s: not a soc2ls baseline: no version", path)
	case b.Version > Version:
		return nil, fmt.Errorf("%s: baseline version %d is newer than this soc2ls reads (%d): upgrade soc2ls", path, b.Version, Version)
	case b.Version != Version:
		return nil, fmt.Errorf("%s: unknown baseline version %d", path, b.Version)
	}
	for i, e := range b.Findings {
		if e.RuleID == "" || e.Path == "" || e.Fingerprint == "" {
			return nil, fmt.Errorf("%s: finding %d: ruleId, path and fingerprint are required", path, i+1)
		}
	}
	if b.Findings == nil {
		b.Findings = []Entry{}
	}
	return &b, nil
}

// offsetError carries the byte offset of a decoding error.
type offsetError int64

func (e offsetError) Error() string { return "" }

func errAt(off int64) error { return offsetError(off) }

// where is "path:line:col" for errors that know their offset, else path.
func where(path string, data []byte, err error) string {
	var off int64 = -1
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var at offsetError
	switch {
	case errors.As(err, &syn):
		off = syn.Offset - 1 // the offset is just past the offending byte
	case errors.As(err, &typ):
		off = typ.Offset
	case errors.As(err, &at):
		off = int64(at)
	}
	if off < 0 || off > int64(len(data)) {
		return path
	}
	p := template.NewLines(data).Position(int(off))
	return fmt.Sprintf("%s:%d:%d", path, p.Line, p.Column)
}

// jsonKind names a Go type as the JSON value it decodes from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64:
		return "a number"
	case reflect.Slice:
		return "a list"
	case reflect.Struct:
		return "an object"
	}
	return t.String()
}

func article(jsonValue string) string {
	switch jsonValue {
	case "object", "array":
		return "an " + jsonValue
	case "number", "string", "bool":
		return "a " + jsonValue
	}
	return jsonValue
}

func describeJSON(err error) string {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) && typ.Field != "" {
		return fmt.Sprintf("%s must be %s, not %s", typ.Field, jsonKind(typ.Type), article(typ.Value))
	}
	if errors.Is(err, io.EOF) {
		return "empty file"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}
