package lsp

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/rules"
	"github.com/soc2ls/soc2ls/analysis/synth"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// TestIncrementalAnalysisMatchesScratch edits real templates the way the
// server does (splices recorded in an editRegion, one analysis per batch of
// one to three changes) and checks after every batch that the incremental
// analysis (analyzeEdited) gives the model and the findings of analysing the
// same text from scratch; and that most batches take the incremental path.
func TestIncrementalAnalysisMatchesScratch(t *testing.T) {
	e := analysis.NewEngine(rules.All(), nil).WithoutFixes() // as the server computes diagnostics
	corpus := [][]byte{synth.YAML(20 << 10)}
	matches, _ := filepath.Glob("../testdata/examples/*.yaml")
	more, _ := filepath.Glob("../testdata/rules/SOC2-S3-*/*.yaml")
	for _, m := range append(matches, more...) {
		b, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		corpus = append(corpus, b)
	}
	r := rand.New(rand.NewPCG(3, 4))
	batches, incremental := 0, 0
	letters := []string{"a", "x", "1", " ", "\n", "#", ": ", "- ", "!Ref ", "'", "Z"}
	for _, orig := range corpus {
		text := append([]byte(nil), orig...)
		base := e.Analyze("t.yaml", text)
		for range 12 {
			var region editRegion
			// Typing: the changes of one batch are close together.
			near := r.IntN(len(text) + 1)
			for range 1 + r.IntN(3) {
				at := min(len(text), max(0, near+r.IntN(9)-4))
				end := at
				ins := letters[r.IntN(len(letters))]
				if r.IntN(3) == 0 {
					end, ins = min(len(text), at+1+r.IntN(3)), ""
				}
				text = splice(text, at, end, ins)
				region.add(at, end, len(ins))
			}
			src := append([]byte(nil), text...)
			// Half the batches may consume base's template, as the
			// scheduler does when no request reads it.
			first := firstKey(base.Template)
			got := analyzeEdited(context.Background(), e, "t.yaml", src, base, region, batches%2 == 0)
			want := e.Analyze("t.yaml", src)
			if !reflect.DeepEqual(got.Findings, want.Findings) || !reflect.DeepEqual(got.Suppressed, want.Suppressed) {
				t.Fatalf("findings differ from an analysis from scratch of:\n%s\ngot %v\nwant %v", src, got.Findings, want.Findings)
			}
			// The scheduler settles an in-place result once it is published.
			got.Template.Settle()
			if !reflect.DeepEqual(got.Template.Root, want.Template.Root) || !reflect.DeepEqual(got.Template.Problems, want.Template.Problems) {
				t.Fatalf("model differs from a parse from scratch of:\n%s", src)
			}
			batches++
			if first != nil && firstKey(got.Template) == first {
				incremental++
			}
			base = got
			if len(base.Template.Problems) > 0 {
				// Undo to the original, as a whole-text change.
				text = append(text[:0], orig...)
				base = e.Analyze("t.yaml", text)
			}
		}
	}
	t.Logf("%d batches, %d incremental", batches, incremental)
	if incremental < batches/5 {
		t.Errorf("only %d of %d batches were re-read incrementally", incremental, batches)
	}
}

// firstKey returns the node of t's first top-level key, or nil: a template
// re-read incrementally from another keeps the other's nodes before the
// edit, the first key among them.
func firstKey(t *template.Template) *template.Node {
	if t.Root == nil || len(t.Root.Pairs) == 0 {
		return nil
	}
	return t.Root.Pairs[0].Key
}

// TestEditRegion checks the bookkeeping of changes against the texts.
func TestEditRegion(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		mark := []byte("Resources:\n  A:\n    Type: AWS::S3::Bucket\n  B:\n    Type: AWS::SNS::Topic\n")
		text := append([]byte(nil), mark...)
		var region editRegion
		for range 1 + r.IntN(5) {
			at := r.IntN(len(text) + 1)
			end := min(len(text), at+r.IntN(4))
			ins := "xyz"[:r.IntN(4)]
			text = splice(text, at, end, ins)
			region.add(at, end, len(ins))
			if string(text[:region.start]) != string(mark[:region.start]) ||
				string(text[region.end:]) != string(mark[region.end-region.delta:]) || len(text)-len(mark) != region.delta {
				t.Fatalf("region %+v out of step: mark %q, text %q", region, mark, text)
			}
		}
	}
}

// TestChangeStopsAnalysis: a change of the text or of the configuration
// stops the analysis of the older text (its result would be dropped as
// stale anyway), through the context the scheduler gave the engine.
func TestChangeStopsAnalysis(t *testing.T) {
	d := &document{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d.cancel = cancel
	d.mu.Lock()
	d.changed()
	d.mu.Unlock()
	if ctx.Err() == nil || d.cancel != nil || d.gen != 1 {
		t.Errorf("after a change: context %v, cancel kept %v, gen %d; want cancelled, dropped, 1", ctx.Err(), d.cancel != nil, d.gen)
	}
}

// TestSnapshotWithFixes: diagnostics come from a run without fixes; the
// snapshot builds the same findings' fixes, in the same order, on demand.
func TestSnapshotWithFixes(t *testing.T) {
	e := analysis.NewEngine(testRules(t), nil)
	res := e.WithoutFixes().Analyze("t.yaml", []byte(trailTemplate))
	snap := &snapshot{result: res, engine: e, findings: res.Findings}
	fixed := snap.withFixes()
	if len(fixed) != len(res.Findings) || len(fixed) == 0 {
		t.Fatalf("%d findings with fixes for %d without", len(fixed), len(res.Findings))
	}
	built := 0
	for i, f := range fixed {
		g := res.Findings[i]
		if f.RuleID != g.RuleID || f.Span != g.Span || f.Message != g.Message {
			t.Errorf("finding %d: %s at %v, want %s at %v", i, f.RuleID, f.Span, g.RuleID, g.Span)
		}
		for j, fx := range g.Fixes {
			if len(fx.Edits) != 0 {
				t.Errorf("finding %d: the run without fixes built %q", i, fx.Title)
			}
			if j < len(f.Fixes) && len(f.Fixes[j].Edits) > 0 {
				built++
			}
		}
	}
	if built == 0 {
		t.Error("withFixes built no fix")
	}
}
