package rules

import (
	"testing"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/synth"
)

// TestAnalysisScalesLinearly guards the hot path against rules (or fixes)
// whose cost grows faster than the template: doubling the template may at
// most double the work, measured in allocations and in the bytes allocated,
// which, unlike time, do not depend on how busy the machine is.
func TestAnalysisScalesLinearly(t *testing.T) {
	e := analysis.NewEngine(All(), nil)
	for _, gen := range []struct {
		name string
		make func(int) []byte
	}{{"t.yaml", synth.YAML}, {"t.json", synth.JSON}} {
		small, large := gen.make(100<<10), gen.make(400<<10)
		cost := func(src []byte) float64 {
			return testing.AllocsPerRun(2, func() { e.Analyze(gen.name, src) })
		}
		ratio := cost(large) / cost(small)
		size := float64(len(large)) / float64(len(small))
		if ratio > size*1.3 {
			t.Errorf("%s: a %.1fx larger template costs %.1fx the allocations: something is superlinear", gen.name, size, ratio)
		}
	}
}
