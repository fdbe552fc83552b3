package rules

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/analysistest"
)

const testdata = "../../testdata/rules"

func TestValidate(t *testing.T) {
	if err := analysis.Validate(append(analysis.MetaRules(), All()...)); err != nil {
		t.Fatal(err)
	}
}

// TestRules runs each rule over its folder testdata/rules/RULE-ID.
func TestRules(t *testing.T) {
	for _, r := range All() {
		t.Run(r.ID, func(t *testing.T) {
			analysistest.Run(t, filepath.Join(testdata, r.ID), []*analysis.Rule{r}, All())
		})
	}
}

// TestEveryRuleHasFailingAndPassingCases enforces the testing contract: a
// template that triggers the rule and one that must not.
func TestEveryRuleHasFailingAndPassingCases(t *testing.T) {
	for _, r := range All() {
		dir := filepath.Join(testdata, r.ID)
		failing, passing := 0, 0
		idRE := regexp.MustCompile(regexp.QuoteMeta(r.ID))
		for _, f := range analysistest.Files(t, dir) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want := string(src)
			if strings.HasSuffix(f, ".json") {
				side, _ := os.ReadFile(f + ".want")
				want = string(side)
			}
			if idRE.MatchString(want) {
				failing++
			} else {
				passing++
			}
		}
		if failing == 0 || passing == 0 {
			t.Errorf("%s: %d failing and %d passing templates in %s; want at least one of each", r.ID, failing, passing, dir)
		}
	}
}
