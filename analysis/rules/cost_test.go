package rules

import (
	"testing"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/synth"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// BenchmarkRuleCost runs each rule alone (with the meta rules) on one
// parsed 1 MB template: which rules the cost of an analysis is made of,
// and so which ones incremental analysis must avoid re-running.
//
//	go test ./analysis/rules -run XXX -bench RuleCost -benchtime 3x
func BenchmarkRuleCost(b *testing.B) {
	t := template.Parse("t.yaml", synth.YAML(1<<20))
	for _, r := range All() {
		e := analysis.NewEngine([]*analysis.Rule{r}, nil)
		b.Run(r.ID, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e.RunAll(t)
			}
		})
	}
}
