package rules

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/synth"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// The incremental analysis keeps the findings of every check that did not
// read what an edit changed. These tests are its licence: after any edit,
// and any sequence of edits, Reanalyze must give exactly what Analyze gives
// for the same text. The edits are chosen to hurt: a value of one resource
// replaced by a value taken from anywhere in the template (another
// resource's logical id, physical name, type, ARN, a boolean...), so that
// references, types and the cross-resource facts of the rules change under
// the checks of the other resources.

// incrementalCorpus returns every YAML template of the rule tests, the
// examples and testdata/incremental, and a generated one; and, when SOC2LS_YAML_CORPUS names a
// directory (a checkout of public templates, for a local run), every YAML
// file below it.
func incrementalCorpus(t testing.TB) map[string][]byte {
	files, _ := filepath.Glob("../../testdata/rules/*/*.yaml")
	more, _ := filepath.Glob("../../testdata/examples/*.yaml")
	kept, _ := filepath.Glob("../../testdata/incremental/*.yaml") // templates that found bugs
	files = append(append(files, more...), kept...)
	if d := os.Getenv("SOC2LS_YAML_CORPUS"); d != "" {
		filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err == nil && !e.IsDir() && (filepath.Ext(p) == ".yaml" || filepath.Ext(p) == ".yml") {
				files = append(files, p)
			}
			return nil
		})
	}
	corpus := map[string][]byte{"synth.yaml": synth.YAML(24 << 10)}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		corpus[f] = b
	}
	return corpus
}

// anEdit is one splice of a text.
type anEdit struct {
	start, end int
	text       string
}

// editKind says what part of a template a hurtful edit changes.
type editKind int

const (
	editValue     editKind = iota // inside an entry's value (valueEdit)
	editStructure                 // entries added, removed or renamed (structuralEdit)
	editKeyLine                   // the lines around a resource's key (keyLineEdit)
	editTopLevel                  // the value of Description, Globals... (topLevelEdit)
)

// hurtfulEdit picks an edit that hurts the incremental analysis: most often
// inside the value of one entry (valueEdit), else one that adds, removes or
// renames entries (structuralEdit), writes a comment or a suppression
// around a resource's key (keyLineEdit), or edits a top-level pair that is
// no section of entries (topLevelEdit).
func hurtfulEdit(r *rand.Rand, tp *template.Template) (anEdit, bool) {
	e, _, ok := hurtfulEditOfKind(r, tp)
	return e, ok
}

// hurtfulEditOfKind is hurtfulEdit that also says which kind of edit it
// picked.
func hurtfulEditOfKind(r *rand.Rand, tp *template.Template) (anEdit, editKind, bool) {
	if len(tp.Resources) == 0 {
		return anEdit{}, editValue, false
	}
	switch r.IntN(10) {
	case 0, 1:
		if e, ok := structuralEdit(r, tp); ok {
			return e, editStructure, true
		}
	case 2:
		if e, ok := keyLineEdit(r, tp); ok {
			return e, editKeyLine, true
		}
	case 3:
		if e, ok := topLevelEdit(r, tp); ok {
			return e, editTopLevel, true
		}
	}
	e, ok := valueEdit(r, tp)
	return e, editValue, ok
}

// topLevelEdit picks an edit of the value of a top-level pair that is no
// section of entries (Description, AWSTemplateFormatVersion, Transform,
// Globals...): a scalar in it replaced by a description that makes the
// template a security baseline (isBaseline reads it), or by another, or a
// character typed into it.
func topLevelEdit(r *rand.Rand, tp *template.Template) (anEdit, bool) {
	var scalars []*template.Node
	for _, p := range tp.Root.Pairs {
		switch p.Key.Value {
		case "Resources", "Parameters", "Conditions", "Mappings", "Outputs", "Metadata", "Rules":
			continue
		}
		p.Value.Walk(func(n *template.Node) bool {
			if n.IsScalar() && n.ValueSpan.End > n.ValueSpan.Start {
				scalars = append(scalars, n)
			}
			return true
		})
	}
	if len(scalars) == 0 {
		return anEdit{}, false
	}
	n := scalars[r.IntN(len(scalars))]
	switch r.IntN(3) {
	case 0:
		return anEdit{n.Span.Start, n.Span.End, "'Security baseline: account bootstrap'"}, true
	case 1:
		return anEdit{n.Span.Start, n.Span.End, "'Orders service'"}, true
	}
	at := n.ValueSpan.Start + r.IntN(n.ValueSpan.End-n.ValueSpan.Start+1)
	return anEdit{at, at, "x"}, true
}

// keyLineEdit picks an edit of the lines around a resource's key that
// changes no entry: a comment line inserted above the key (which the
// re-parse gives to the resource before), or a suppression comment at the
// end of the key's line (which covers the whole resource).
func keyLineEdit(r *rand.Rand, tp *template.Template) (anEdit, bool) {
	res := tp.Resources[r.IntN(len(tp.Resources))]
	if r.IntN(2) == 0 {
		at := tp.Lines.LineStart(tp.Lines.LineOf(res.Key.Start))
		return anEdit{at, at, "  # about " + res.Name + "\n"}, true
	}
	ids := []string{"SOC2-S3-003", "SOC2-TAG-001", "SOC2-MSG-001", "SOC2-IAM-001", "SOC2-NOPE-001"}
	at := tp.Lines.LineEnd(tp.Lines.LineOf(res.Key.Start))
	if at != res.Key.End+1 {
		return anEdit{}, false // something follows the colon
	}
	return anEdit{at, at, " # soc2ls:ignore " + ids[r.IntN(len(ids))] + " accepted for this test"}, true
}

// valueEdit picks an edit inside the value of one entry of Resources,
// Parameters, Conditions, Mappings, Outputs or Metadata (a third of the
// time one of the last five, when the template has any): most often a
// scalar replaced by another scalar of the template, else a character typed
// or deleted, a comment line inserted (which moves every later line: a
// message that quoted a line number would go stale), or a suppression
// comment written at the end of a line.
func valueEdit(r *rand.Rand, tp *template.Template) (anEdit, bool) {
	var pool []string
	var inResources, inOthers []*template.Node
	var resourceValues, otherValues []template.Span
	for _, sec := range []string{"Resources", "Parameters", "Conditions", "Mappings", "Outputs", "Metadata"} {
		if v := tp.Root.Get(sec); v != nil && v.Kind == template.Mapping && !v.Flow {
			for _, e := range v.Pairs {
				sp := template.Span{Start: e.Key.End, End: e.Value.End}
				if sec == "Resources" {
					resourceValues = append(resourceValues, sp)
				} else {
					otherValues = append(otherValues, sp)
				}
			}
		}
	}
	inside := func(n *template.Node, spans []template.Span) bool {
		for _, sp := range spans {
			if n.Start > sp.Start && n.End <= sp.End {
				return true
			}
		}
		return false
	}
	tp.Root.Walk(func(n *template.Node) bool {
		if n.IsScalar() && n.Value != "" {
			pool = append(pool, n.Value)
			if n.ValueSpan.End > n.ValueSpan.Start {
				switch {
				case inside(n, resourceValues):
					inResources = append(inResources, n)
				case inside(n, otherValues):
					inOthers = append(inOthers, n)
				}
			}
		}
		return true
	})
	for _, res := range tp.Resources {
		pool = append(pool, res.Name, res.Type)
	}
	pool = append(pool, "true", "false", "0", "AES256", "aws:kms", "*", "production", "'*'", "x # soc2ls:ignore SOC2-S3-003 quoted")
	targets := inResources
	if len(inOthers) > 0 && (r.IntN(3) == 0 || len(targets) == 0) {
		targets = inOthers
	}
	if len(targets) == 0 {
		return anEdit{}, false
	}
	n := targets[r.IntN(len(targets))]
	switch r.IntN(8) {
	case 7: // a suppression comment at the end of the value's line, with or without a reason
		at := tp.Lines.LineEnd(tp.Lines.LineOf(n.End))
		ids := []string{"SOC2-S3-003", "SOC2-S3-006", "SOC2-TAG-002", "SOC2-CT-001", "SOC2-PARAM-004", "SOC2-NOPE-001"}
		text := " # soc2ls:ignore " + ids[r.IntN(len(ids))]
		if r.IntN(3) > 0 {
			text += " accepted for this test"
		}
		return anEdit{at, at, text}, true
	case 6: // a comment line above the value's line: every later line moves
		at := tp.Lines.LineStart(tp.Lines.LineOf(n.Start))
		return anEdit{at, at, "# moved\n"}, true
	case 0: // type one character inside the value
		at := n.ValueSpan.Start + r.IntN(n.ValueSpan.End-n.ValueSpan.Start+1)
		return anEdit{at, at, string("ax1Z-"[r.IntN(5)])}, true
	case 1: // delete one character of the value
		at := n.ValueSpan.Start + r.IntN(n.ValueSpan.End-n.ValueSpan.Start)
		return anEdit{at, at + 1, ""}, true
	default: // replace the value with another of the template
		v := pool[r.IntN(len(pool))]
		if n.Quoted || !plainSafe(v) {
			return anEdit{n.Span.Start, n.Span.End, "'" + v + "'"}, true
		}
		return anEdit{n.ValueSpan.Start, n.ValueSpan.End, v}, true
	}
}

// structuralEdit picks an edit of the entries of Resources, Parameters,
// Conditions, Mappings, Outputs or Metadata themselves, as users make them: a
// character typed at the end of an entry's key (a rename), a new entry
// inserted above one, an entry deleted, an entry pasted again under a new
// name. Names, types and the references to and from the entries change
// under every check.
func structuralEdit(r *rand.Rand, tp *template.Template) (anEdit, bool) {
	var secs []*template.Node
	for _, name := range []string{"Resources", "Resources", "Parameters", "Conditions", "Mappings", "Outputs", "Metadata"} {
		if v := tp.Root.Get(name); v != nil && v.Kind == template.Mapping && !v.Flow && len(v.Pairs) > 0 {
			secs = append(secs, v)
		}
	}
	if len(secs) == 0 {
		return anEdit{}, false
	}
	sec := secs[r.IntN(len(secs))]
	i := r.IntN(len(sec.Pairs))
	key := sec.Pairs[i].Key
	lineStart := tp.Lines.LineStart(tp.Lines.LineOf(key.Start))
	indent := string(tp.Source[lineStart:key.Start])
	// The entry's lines run to the next entry's key line, or to the end of
	// the section's value.
	end := tp.Lines.LineEnd(tp.Lines.LineOf(sec.Pairs[i].Value.End))
	if i+1 < len(sec.Pairs) {
		end = tp.Lines.LineStart(tp.Lines.LineOf(sec.Pairs[i+1].Key.Start))
	} else if end < len(tp.Source) {
		end++ // the line break
	}
	switch r.IntN(5) {
	case 0, 1: // rename: a character typed at the end of the key, or the last one deleted
		if key.Quoted || key.End-key.Start < 2 {
			return anEdit{}, false
		}
		if r.IntN(2) == 0 {
			return anEdit{key.End - 1, key.End, ""}, true
		}
		return anEdit{key.End, key.End, string("xQ7"[r.IntN(3)])}, true
	case 2: // a new entry above this one
		targets := []string{"Bucket0", "Environment", "IsProduction", "NewThing"}
		name, target := targets[r.IntN(len(targets))]+"Added", targets[r.IntN(len(targets))]
		var body string
		switch sectionOf(tp, sec) {
		case "Resources":
			body = "\n" + indent + "  Type: AWS::SQS::Queue\n" + indent + "  Properties:\n" + indent + "    KmsMasterKeyId: !Ref " + target
		case "Parameters":
			body = "\n" + indent + "  Type: String\n" + indent + "  Default: production"
		case "Conditions":
			body = " !Equals [!Ref " + target + ", production]"
		case "Mappings", "Metadata":
			body = "\n" + indent + "  A:\n" + indent + "    B: c"
		default:
			body = "\n" + indent + "  Value: !Ref " + target
		}
		return anEdit{lineStart, lineStart, indent + name + ":" + body + "\n"}, true
	case 3: // delete the entry
		if len(sec.Pairs) < 2 {
			return anEdit{}, false
		}
		return anEdit{lineStart, end, ""}, true
	default: // paste the entry again below itself, renamed
		text := string(tp.Source[lineStart:end])
		if !strings.HasSuffix(text, "\n") {
			return anEdit{}, false
		}
		return anEdit{end, end, strings.Replace(text, key.Value+":", key.Value+"Copy:", 1)}, true
	}
}

// sectionOf returns the name of the top-level section whose value is v.
func sectionOf(tp *template.Template, v *template.Node) string {
	for _, name := range []string{"Resources", "Parameters", "Conditions", "Mappings", "Outputs", "Metadata"} {
		if tp.Root.Get(name) == v {
			return name
		}
	}
	return ""
}

// plainSafe reports whether v can be written as a plain YAML scalar on one
// line without changing meaning much; other values are single-quoted.
func plainSafe(v string) bool {
	for _, c := range v {
		if c == ':' || c == '#' || c == '\n' || c == '\'' || c == '"' || c == '{' || c == '}' || c == '[' || c == ']' || c == ',' {
			return false
		}
	}
	return v != "" && v[0] != '*' && v[0] != '!' && v[0] != '&' && v[0] != '-' && v[0] != ' '
}

func splice(src []byte, e anEdit) []byte {
	out := make([]byte, 0, len(src)-(e.end-e.start)+len(e.text))
	return append(append(append(out, src[:e.start]...), e.text...), src[e.end:]...)
}

// checkReanalyze applies e to prev's text with Reanalyze, or with
// ReanalyzeInPlace (which may consume prev), and compares the result with
// Analyze of the new text. (A chain of edits should stay with one of the
// two: a template that went through the copying re-parse shares nodes, and
// the in-place one copies it.)
func checkReanalyze(t testing.TB, eng *analysis.Engine, name string, prev *analysis.Result, e anEdit, inPlace bool) *analysis.Result {
	t.Helper()
	src := splice(prev.Template.Source, e)
	replaced := string(prev.Template.Source[e.start:e.end])
	var got *analysis.Result
	if !inPlace {
		got = eng.Reanalyze(prev, src, e.start, e.end, len(e.text))
	} else {
		got, _ = eng.ReanalyzeInPlace(context.Background(), prev, src, e.start, e.end, len(e.text))
	}
	want := eng.Analyze(name, src)
	if !reflect.DeepEqual(got.Findings, want.Findings) || !reflect.DeepEqual(got.Suppressed, want.Suppressed) {
		for _, f := range want.Findings {
			if !slices.ContainsFunc(got.Findings, func(g analysis.Finding) bool { return reflect.DeepEqual(f, g) }) {
				t.Errorf("missing: %s %v %s", f.RuleID, f.Span, f.Message)
			}
		}
		for _, f := range got.Findings {
			if !slices.ContainsFunc(want.Findings, func(g analysis.Finding) bool { return reflect.DeepEqual(f, g) }) {
				t.Errorf("unexpected: %s %v %s", f.RuleID, f.Span, f.Message)
			}
		}
		t.Fatalf("%s: Reanalyze (in place: %v) differs from Analyze after replacing [%d,%d) %q with %q (%d checks reused); text now:\n%s",
			name, got.ConsumedPrevious, e.start, e.end, replaced, e.text, got.Reused, src)
	}
	return got
}

// TestReanalyzeMatchesAnalyze chains hurtful edits over every template of
// the corpus and holds each incremental result to a from-scratch analysis;
// it also checks that findings are in fact reused, or it would prove
// nothing.
func TestReanalyzeMatchesAnalyze(t *testing.T) {
	eng := analysis.NewEngine(All(), nil).WithoutFixes()
	r := rand.New(rand.NewPCG(11, 12))
	edits, reused, runs := 0, 0, 0
	corpus := incrementalCorpus(t)
	names := make([]string, 0, len(corpus))
	for name := range corpus {
		names = append(names, name)
	}
	slices.Sort(names)
	inPlace, consumed := false, 0
	others, othersReused := 0, 0         // edits of parameters, conditions, mappings, outputs and metadata
	structural, structuralReused := 0, 0 // entries added, removed or renamed
	topLevel, topLevelReused := 0, 0     // Description, Globals...
	for _, name := range names {
		prev := eng.Analyze(name, corpus[name])
		inPlace = !inPlace
		for range 8 {
			e, kind, ok := hurtfulEditOfKind(r, prev.Template)
			if !ok {
				break
			}
			other := kind == editValue && prev.Template.ResourceAt(e.start) == nil
			next := checkReanalyze(t, eng, name, prev, e, inPlace)
			if next.ConsumedPrevious {
				consumed++
			}
			edits++
			reused += next.Reused
			if next.Reused > 0 {
				runs++
			}
			if other {
				others++
				if next.Reused > 0 {
					othersReused++
				}
			}
			if kind == editStructure {
				structural++
				if next.Reused > 0 {
					structuralReused++
				}
			}
			if kind == editTopLevel {
				topLevel++
				if next.Reused > 0 {
					topLevelReused++
				}
			}
			prev = next
			if prev.Template.Root == nil || len(prev.Template.Problems) > 0 {
				prev = eng.Analyze(name, corpus[name])
			}
		}
	}
	t.Logf("%d edits over %d templates; %d re-analyses reused findings, %d checks reused in all; %d re-read in place",
		edits, len(corpus), runs, reused, consumed)
	if runs < edits/3 {
		t.Errorf("only %d of %d re-analyses reused any findings", runs, edits)
	}
	if consumed < edits/6 {
		t.Errorf("only %d of %d re-analyses re-read the template in place", consumed, edits)
	}
	t.Logf("%d edits of parameters, conditions, mappings, outputs and metadata; %d reused findings", others, othersReused)
	if others < edits/10 || othersReused < others/2 {
		t.Errorf("%d of %d edits were of other sections than Resources, and %d of those reused findings", others, edits, othersReused)
	}
	t.Logf("%d edits added, removed or renamed entries; %d reused findings", structural, structuralReused)
	if structural < edits/10 || structuralReused < structural/2 {
		t.Errorf("%d of %d edits added, removed or renamed entries, and %d of those reused findings", structural, edits, structuralReused)
	}
	t.Logf("%d edits of Description, Globals and the other top-level pairs; %d reused findings", topLevel, topLevelReused)
	if topLevel < edits/40 || topLevelReused < topLevel/2 {
		t.Errorf("%d of %d edits were of top-level pairs, and %d of those reused findings", topLevel, edits, topLevelReused)
	}
}

// TestReanalyzeReusesUnrelatedResources: an edit of one resource of a large
// generated template re-runs only the checks that can see it. The template
// has six types of resources; checks of a type that no fact of the edited
// type's rules feeds must all be kept.
func TestReanalyzeReusesUnrelatedResources(t *testing.T) {
	eng := analysis.NewEngine(All(), nil).WithoutFixes()
	prev := eng.Analyze("t.yaml", synth.YAML(200<<10))
	n := len(prev.Template.Resources)
	for _, c := range []struct {
		typ     string
		reused  int // at least this many checks kept, out of about n+20
		comment string
	}{
		{"AWS::IAM::Role", n - 1, "roles feed no fact of other resources"},
		{"AWS::SQS::Queue", n - 1, "queues feed no fact of other resources"},
		{"AWS::S3::Bucket", n - 1, "the audit facts that every bucket reads keep their values"},
		{"AWS::S3::BucketPolicy", n - 2, "only the policy's bucket reads it"},
		{"AWS::Logs::LogGroup", n - 1, "the facts about audit log groups keep their values"},
	} {
		var res *template.Resource
		for _, r := range prev.Template.Resources[n/2:] {
			if r.Type == c.typ {
				res = r
				break
			}
		}
		at := res.TypeNode.End
		next := checkReanalyze(t, eng, "t.yaml", prev, anEdit{at, at, "\n    Condition: IsProduction"}, false)
		if next.Reused < c.reused {
			t.Errorf("an edit of %s (%s) kept %d checks of %d resources, want at least %d: %s", res.Name, c.typ, next.Reused, n, c.reused, c.comment)
		}
	}
}

// FuzzReanalyze applies fuzzed edits inside the resources of the corpus
// templates, two in a row, and compares with a from-scratch analysis.
func FuzzReanalyze(f *testing.F) {
	corpus := incrementalCorpus(f)
	names := make([]string, 0, len(corpus))
	for name := range corpus {
		names = append(names, name)
	}
	slices.Sort(names)
	f.Add(uint16(0), uint64(1), uint64(2))
	f.Add(uint16(7), uint64(99), uint64(3))
	eng := analysis.NewEngine(All(), nil).WithoutFixes()
	f.Fuzz(func(t *testing.T, which uint16, seed1, seed2 uint64) {
		name := names[int(which)%len(names)]
		r := rand.New(rand.NewPCG(seed1, seed2))
		prev := eng.Analyze(name, corpus[name])
		for range 2 {
			e, ok := hurtfulEdit(r, prev.Template)
			if !ok || prev.Template.Root == nil {
				return
			}
			prev = checkReanalyze(t, eng, name, prev, e, seed1%2 == 0)
		}
	})
}

// TestAnalysisIsDeterministic: the same text gives the same findings, fixes
// included, every time. Incremental analysis depends on it (a kept finding
// must be what a new run would give), and so do baselines and CI diffs. Map
// iteration order is the usual culprit: it differs between runs.
func TestAnalysisIsDeterministic(t *testing.T) {
	for _, eng := range []*analysis.Engine{analysis.NewEngine(All(), nil), analysis.NewEngine(All(), nil).WithoutFixes()} {
		for name, src := range incrementalCorpus(t) {
			first := eng.Analyze(name, src)
			for range 4 {
				if again := eng.Analyze(name, src); !reflect.DeepEqual(first.Findings, again.Findings) {
					t.Fatalf("%s: two analyses of the same text differ", name)
				}
			}
		}
	}
}

// TestConcurrentReanalyze: the copying Reanalyze leaves its previous result
// intact, so several edits of one result may be analysed at once (the
// memoised facts' cached answers are per re-analysis). Run it with -race.
func TestConcurrentReanalyze(t *testing.T) {
	eng := analysis.NewEngine(All(), nil).WithoutFixes()
	prev := eng.Analyze("t.yaml", synth.YAML(60<<10))
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 99))
			e, ok := hurtfulEdit(r, prev.Template)
			if !ok {
				return
			}
			src := splice(prev.Template.Source, e)
			got := eng.Reanalyze(prev, src, e.start, e.end, len(e.text))
			if want := eng.Analyze("t.yaml", src); !reflect.DeepEqual(got.Findings, want.Findings) {
				errs <- fmt.Sprintf("goroutine %d: Reanalyze differs from Analyze", g)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestReanalyzeKeepsFindingsShared: the findings of the checks a keystroke
// keeps are the previous values, moved: their criteria and fixes share the
// previous arrays, which the language server's encoder takes as the sign
// that a diagnostic's content did not change. Only the few re-run checks'
// findings are new.
func TestReanalyzeKeepsFindingsShared(t *testing.T) {
	eng := analysis.NewEngine(All(), nil).WithoutFixes()
	for _, inPlace := range []bool{false, true} {
		prev := eng.Analyze("t.yaml", synth.YAML(200<<10))
		at := typingSpot(prev.Template)
		type key struct {
			controls *string
			fixes    *analysis.Fix
		}
		was := map[key]bool{}
		for _, f := range prev.Findings {
			if len(f.Controls) > 0 && len(f.Fixes) > 0 {
				was[key{&f.Controls[0], &f.Fixes[0]}] = true
			}
		}
		e := anEdit{at, at, "x"}
		next := checkReanalyze(t, eng, "t.yaml", prev, e, inPlace)
		shared, fresh := 0, 0
		for _, f := range next.Findings {
			if len(f.Controls) == 0 || len(f.Fixes) == 0 {
				continue
			}
			if was[key{&f.Controls[0], &f.Fixes[0]}] {
				shared++
			} else {
				fresh++
			}
		}
		t.Logf("in place %v: %d findings shared, %d new", inPlace, shared, fresh)
		if shared == 0 || fresh > 40 {
			t.Errorf("in place %v: %d findings share their criteria and fixes with the previous result, %d do not", inPlace, shared, fresh)
		}
	}
}

// TestReanalyzeSortsFreshFindingsWhenSuppressionsChange: an edit of a
// suppression changes which findings are silenced, so the kept and fresh
// findings are split again; the fresh ones, in the order their checks
// reported them, must be sorted before they are spliced in (they were not:
// FuzzReanalyze found it over aws-cloudformation-templates).
func TestReanalyzeSortsFreshFindingsWhenSuppressionsChange(t *testing.T) {
	src, err := os.ReadFile("../../testdata/incremental/guard-suppression.yaml")
	if err != nil {
		t.Fatal(err)
	}
	eng := analysis.NewEngine(All(), nil).WithoutFixes()
	at := bytes.Index(src, []byte("INCOMING_SSH_DISABLED"))
	for _, inPlace := range []bool{false, true} {
		prev := eng.Analyze("t.yaml", src)
		got := checkReanalyze(t, eng, "t.yaml", prev, anEdit{at, at + len("INCOMING_SSH_DISABLED"), "10.192.20.0/24"}, inPlace)
		if got.Reused == 0 {
			t.Errorf("in place %v: nothing was reused: the edit did not take the incremental path", inPlace)
		}
	}
}
