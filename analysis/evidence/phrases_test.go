package evidence

import (
	"slices"
	"strings"
	"testing"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/rules"
)

// TestEveryRuleHasAPhrase: every rule, meta rules included, has a positive
// phrase, and the table names no rule that does not exist.
func TestEveryRuleHasAPhrase(t *testing.T) {
	all := append(rules.All(), analysis.MetaRules()...)
	known := map[string]bool{}
	for _, r := range all {
		known[r.ID] = true
		p := phrases[r.ID]
		switch {
		case p == "":
			t.Errorf("%s (%s) has no evidence phrase in phrases.go", r.ID, r.Title)
		case p != strings.TrimSpace(p) || strings.HasSuffix(p, ".") || strings.ContainsAny(p, ";\n"):
			t.Errorf("%s: phrase %q: phrases are joined with \"; \", so no surrounding space, final full stop or semicolon", r.ID, p)
		}
	}
	if len(all) < 90 {
		t.Errorf("%d rules: the catalogue shrank?", len(all))
	}
	for id := range phrases {
		if !known[id] {
			t.Errorf("phrases.go has a phrase for %s, which is no rule", id)
		}
	}
	for id := range subjects {
		r := find(all, id)
		if r == nil || len(r.Types) > 0 {
			t.Errorf("subjects.go: %s is not a whole-template rule", id)
		}
	}
}

// TestEveryTypeHasANoun: the resource types rules inspect are named in words.
func TestEveryTypeHasANoun(t *testing.T) {
	for _, r := range rules.All() {
		for _, typ := range r.Types {
			if _, ok := nouns[typ]; !ok && typ != analysis.AnyType {
				t.Errorf("%s inspects %s, which has no noun", r.ID, typ)
			}
		}
	}
	if got := noun("AWS::EC2::Route"); got != "Route" {
		t.Errorf("noun of an unnamed type: %q", got)
	}
}

func find(rs []*analysis.Rule, id string) *analysis.Rule {
	i := slices.IndexFunc(rs, func(r *analysis.Rule) bool { return r.ID == id })
	if i < 0 {
		return nil
	}
	return rs[i]
}
