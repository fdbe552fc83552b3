package rules

import (
	"slices"
	"testing"

	"github.com/soc2ls/soc2ls/analysis"
)

// TestCrosswalk checks the table of other tools' equivalents against the
// registry: every entry names a rule, the rules carry their equivalents, and
// the engine's suppression lookup finds ours from theirs.
func TestCrosswalk(t *testing.T) {
	ids := map[string]*analysis.Rule{}
	for _, r := range All() {
		ids[r.ID] = r
	}
	for id, others := range equivalents {
		r := ids[id]
		if r == nil {
			t.Errorf("equivalents name %s, which is no rule", id)
			continue
		}
		if !slices.Equal(r.Equivalents, others) {
			t.Errorf("%s carries %v, want %v", id, r.Equivalents, others)
		}
	}
	if got := analysis.Crosswalk["W35"]; !slices.Contains(got, "SOC2-S3-005") {
		t.Errorf("cfn_nag W35 maps to %v, want SOC2-S3-005 among them", got)
	}
	if got := ids["SOC2-S3-005"].EquivalentsText(); got != "checkov CKV_AWS_18; cfn_nag W35; AWS Config / cfn-guard S3_BUCKET_LOGGING_ENABLED" {
		t.Errorf("EquivalentsText = %q", got)
	}
	if !analysis.KnownRules["SOC2-CT-001"] || analysis.KnownRules["SOC2-NOPE-001"] {
		t.Error("KnownRules does not reflect the registry")
	}
}
