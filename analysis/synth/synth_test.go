package synth

import (
	"testing"

	"github.com/soc2ls/soc2ls/analysis/template"
)

func TestGeneratedTemplatesParse(t *testing.T) {
	for name, src := range map[string][]byte{"t.yaml": YAML(100_000), "t.json": JSON(100_000)} {
		if len(src) < 100_000 {
			t.Errorf("%s: %d bytes, want at least 100000", name, len(src))
		}
		tp := template.Parse(name, src)
		if len(tp.Problems) > 0 || !tp.IsCloudFormation || len(tp.Resources) < 100 {
			t.Errorf("%s: problems %v, %d resources", name, tp.Problems, len(tp.Resources))
		}
	}
}
