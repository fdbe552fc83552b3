package analysis

import (
	"github.com/soc2ls/soc2ls/analysis/edit"
)

// maxFixRounds bounds FixAll: each round applies every compatible fix, then
// re-analyses, since one fix (adding a parameter) changes what the next needs.
const maxFixRounds = 64

// FixAll applies the preferred fix of every finding it can, re-analysing
// between rounds until nothing more applies. Unsafe fixes are skipped. It
// returns the new text and the findings whose fixes were applied.
func (e *Engine) FixAll(filename string, src []byte) ([]byte, []Finding, error) {
	var applied []Finding
	for round := 0; round < maxFixRounds; round++ {
		res := e.Analyze(filename, src)
		if res.Template.HasSyntaxError() {
			break
		}
		edits, fixed := ChooseFixes(res.Findings)
		if len(edits) == 0 {
			break
		}
		out, err := edit.Apply(src, edits)
		if err != nil {
			return nil, applied, err
		}
		src = out
		applied = append(applied, fixed...)
	}
	return src, applied, nil
}

// ChooseFixes picks, in order, the preferred safe fix of each finding whose
// edits do not conflict with the fixes already picked, and returns their
// combined edits and the findings they repair. It picks at most one fix per
// resource: two fixes of one resource are computed from the same text and
// may each assume what the other changes (one gates the resource with a
// condition, the other adds dependants that copy its old condition), so the
// second waits for the next round, which sees the first one's result.
func ChooseFixes(findings []Finding) ([]edit.Edit, []Finding) {
	var edits []edit.Edit
	var fixed []Finding
	touched := map[string]bool{}
	for _, f := range findings {
		if len(f.Fixes) == 0 || f.Fixes[0].Unsafe || len(f.Fixes[0].Edits) == 0 {
			continue
		}
		if f.Resource != "" && touched[f.Resource] {
			continue
		}
		if !edit.Compatible(edits, f.Fixes[0].Edits) {
			continue
		}
		touched[f.Resource] = true
		edits = append(edits, f.Fixes[0].Edits...)
		fixed = append(fixed, f)
	}
	return edits, fixed
}
