package rules

import (
	"os"
	"testing"

	"github.com/soc2ls/soc2ls/analysis"
)

const examples = "../../testdata/examples/"

// TestBaselineIsClean holds the catalogue to its promise of no false alarms:
// the baseline a careful engineer writes to satisfy SOC 2 must produce no
// warning and no error with every rule enabled. Info findings (hardening
// hints) are allowed.
func TestBaselineIsClean(t *testing.T) {
	src, err := os.ReadFile(examples + "fintech-baseline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res := analysis.NewEngine(All(), nil).Analyze("fintech-baseline.yaml", src)
	if !res.Template.IsCloudFormation || len(res.Template.Resources) < 30 {
		t.Fatalf("the baseline did not parse as a full template (%d resources)", len(res.Template.Resources))
	}
	for _, f := range res.Findings {
		if f.Severity >= analysis.Warning {
			pos := res.Template.Lines.Position(f.Span.Start)
			t.Errorf("fintech-baseline.yaml:%d:%d: %s %s: %s", pos.Line, pos.Column, f.RuleID, f.Severity, f.Message)
		}
	}
}
