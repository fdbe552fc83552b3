package template_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/rules"
	"github.com/soc2ls/soc2ls/analysis/synth"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// The engine's differential tests (analysis/rules: TestReanalyzeMatchesAnalyze,
// FuzzReanalyze) edit YAML templates only. These hold the engine's
// re-analysis of JSON templates, which the deltas of the JSON re-parse
// (jsonreparse.go) drive, to a from-scratch analysis: the checks it keeps
// must be those whose findings the edit cannot change.

// jsonEngineCorpus returns the JSON templates of the rules' test data and
// a synthetic one, by name.
func jsonEngineCorpus(t testing.TB) (map[string][]byte, []string) {
	files, _ := filepath.Glob("../../testdata/rules/*/*.json")
	corpus := map[string][]byte{"synth.json": synth.JSON(24 << 10)}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		corpus[f] = b
	}
	if len(corpus) < 10 {
		t.Fatalf("only %d JSON templates", len(corpus))
	}
	names := make([]string, 0, len(corpus))
	for name := range corpus {
		names = append(names, name)
	}
	slices.Sort(names)
	return corpus, names
}

// anEdit is one splice of a text.
type anEdit struct {
	start, end int
	text       string
}

func (e anEdit) apply(src []byte) []byte {
	out := make([]byte, 0, len(src)-(e.end-e.start)+len(e.text))
	return append(append(append(out, src[:e.start]...), e.text...), src[e.end:]...)
}

// jsonHurtfulEdit picks an edit of one member of tp's sections (or of a
// top-level member that is no section) that may change findings: a scalar
// of its value replaced by another of the template's values (a resource's
// name, a type, a parameter's value...) or by a reference to a parameter or
// a resource, a member of an object inside it deleted, a letter typed in a
// string, the entry's key renamed (sometimes as another entry), whitespace
// typed, or a section's entry deleted or pasted again under a new name (a
// run of entries). ok is false when tp has no member to edit.
func jsonHurtfulEdit(r *rand.Rand, tp *template.Template) (anEdit, bool) {
	if tp.Root == nil || tp.Root.Kind != template.Mapping {
		return anEdit{}, false
	}
	var members []*template.Pair
	prevOf := map[*template.Pair]*template.Pair{} // a section's entry: the one before it
	for _, p := range tp.Root.Pairs {
		if p.Value.Kind == template.Mapping {
			members = append(members, p.Value.Pairs...)
			for i := 1; i < len(p.Value.Pairs); i++ {
				prevOf[p.Value.Pairs[i]] = p.Value.Pairs[i-1]
			}
		} else {
			members = append(members, p)
		}
	}
	if len(members) == 0 {
		return anEdit{}, false
	}
	quote := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b)
	}
	var pool []string
	for _, res := range tp.Resources {
		pool = append(pool, quote(res.Name), quote(res.Type), `{"Ref": `+quote(res.Name)+`}`,
			`{"Fn::GetAtt": [`+quote(res.Name)+`, "Arn"]}`)
	}
	for _, p := range tp.Parameters {
		pool = append(pool, `{"Ref": `+quote(p.Name)+`}`)
	}
	pool = append(pool, "true", "false", "0", `"aws:kms"`, `"AES256"`, `"*"`, `"0.0.0.0/0"`, "[]", "{}")
	tp.Root.Walk(func(n *template.Node) bool {
		if n.IsScalar() && n.Value != "" {
			pool = append(pool, quote(n.Value))
		}
		return true
	})
	p := members[r.IntN(len(members))]
	var scalars, objects []*template.Node
	p.Value.Walk(func(n *template.Node) bool {
		switch {
		case n.Kind == template.Scalar || n.Kind == template.Null:
			scalars = append(scalars, n)
		case n.Kind == template.Mapping && len(n.Pairs) > 1:
			objects = append(objects, n)
		}
		return true
	})
	switch k := r.IntN(12); {
	case k < 4 && len(scalars) > 0:
		s := scalars[r.IntN(len(scalars))]
		return anEdit{s.Start, s.End, pool[r.IntN(len(pool))]}, true
	case k == 4 && len(objects) > 0: // a member deleted, with the comma before it
		o := objects[r.IntN(len(objects))]
		i := 1 + r.IntN(len(o.Pairs)-1)
		return anEdit{o.Pairs[i-1].Value.End, o.Pairs[i].Value.End, ""}, true
	case k == 5 && len(scalars) > 0:
		s := scalars[r.IntN(len(scalars))]
		if s.ValueSpan.End > s.ValueSpan.Start && s.Quoted {
			at := s.ValueSpan.Start + r.IntN(s.ValueSpan.End-s.ValueSpan.Start+1)
			return anEdit{at, at, string(rune('a' + r.IntN(26)))}, true
		}
	case k == 6: // a rename
		name := p.Key.Value + "X"
		if r.IntN(3) == 0 {
			name = members[r.IntN(len(members))].Key.Value
		}
		return anEdit{p.Key.Start, p.Key.End, quote(name)}, true
	case k == 8 && prevOf[p] != nil: // an entry deleted with the comma before it: a run of entries
		return anEdit{prevOf[p].Value.End, p.Value.End, ""}, true
	case k == 9 && prevOf[p] != nil: // an entry pasted after another, under a new name
		return anEdit{p.Value.End, p.Value.End, ", " + quote(p.Key.Value+"Copy") + ": " + string(tp.Source[p.Value.Start:p.Value.End])}, true
	case k == 7:
		at := p.Value.Start
		if len(scalars) > 0 {
			at = scalars[r.IntN(len(scalars))].End
		}
		return anEdit{at, at, "\n  "}, true
	}
	// The whole value replaced by a scalar of the pool.
	return anEdit{p.Value.Start, p.Value.End, pool[r.IntN(len(pool))]}, true
}

// reanalyzeJSON applies e to prev with Reanalyze or ReanalyzeInPlace and
// holds the result to Analyze of the new text.
func reanalyzeJSON(t testing.TB, eng *analysis.Engine, name string, prev *analysis.Result, e anEdit, inPlace bool) *analysis.Result {
	t.Helper()
	src := e.apply(prev.Template.Source)
	replaced := string(prev.Template.Source[e.start:e.end])
	var got *analysis.Result
	if inPlace {
		got, _ = eng.ReanalyzeInPlace(context.Background(), prev, src, e.start, e.end, len(e.text))
	} else {
		got = eng.Reanalyze(prev, src, e.start, e.end, len(e.text))
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
			name, inPlace, e.start, e.end, replaced, e.text, got.Reused, src)
	}
	return got
}

// TestReanalyzeJSONMatchesAnalyze chains edits over every JSON template of
// the corpus, copying and in place in turn, and holds each re-analysis to
// a from-scratch one; most must have reused checks (through the JSON
// re-parse's delta), or the test would prove nothing.
func TestReanalyzeJSONMatchesAnalyze(t *testing.T) {
	eng := analysis.NewEngine(rules.All(), nil).WithoutFixes()
	corpus, names := jsonEngineCorpus(t)
	r := rand.New(rand.NewPCG(21, 22))
	edits, reused := 0, 0
	for i, name := range names {
		prev := eng.Analyze(name, corpus[name])
		for range 8 {
			e, ok := jsonHurtfulEdit(r, prev.Template)
			if !ok {
				break
			}
			prev = reanalyzeJSON(t, eng, name, prev, e, i%2 == 0)
			edits++
			if prev.Reused > 0 {
				reused++
			}
			if prev.Template.HasSyntaxError() || len(prev.Template.Problems) > 0 {
				prev = eng.Analyze(name, corpus[name])
			}
		}
	}
	t.Logf("%d edits, %d reused checks", edits, reused)
	if reused < edits/3 {
		t.Errorf("only %d of %d re-analyses reused checks", reused, edits)
	}
}

// FuzzReanalyzeJSON is FuzzReanalyze for the JSON templates: two fuzzed
// edits (jsonHurtfulEdit) in a row, copying or in place.
func FuzzReanalyzeJSON(f *testing.F) {
	corpus, names := jsonEngineCorpus(f)
	f.Add(uint16(0), uint64(1), uint64(2))
	f.Add(uint16(7), uint64(99), uint64(3))
	eng := analysis.NewEngine(rules.All(), nil).WithoutFixes()
	f.Fuzz(func(t *testing.T, which uint16, seed1, seed2 uint64) {
		name := names[int(which)%len(names)]
		r := rand.New(rand.NewPCG(seed1, seed2))
		prev := eng.Analyze(name, corpus[name])
		for range 2 {
			e, ok := jsonHurtfulEdit(r, prev.Template)
			if !ok || prev.Template.Root == nil {
				return
			}
			prev = reanalyzeJSON(t, eng, name, prev, e, seed1%2 == 0)
		}
	})
}
