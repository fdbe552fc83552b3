package rules

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"strings"
	"testing"
)

// TestRulesReachResourcesThroughRecorder: the incremental analysis keeps a
// check's findings when the check did not look at the edited resource, and
// it knows what a check looked at only through the template's lookup
// methods (Resource, ResourcesOfType, AllResources, RefsTo, AllRefs,
// Section), which report to the check's recorder. A rule that read the
// Resources, Refs, Root or Sections fields directly would reach resources
// unseen, and its findings could go stale. This test type-checks the rules
// and rejects every such read.
func TestRulesReachResourcesThroughRecorder(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks the package from source")
	}
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var parsed []*ast.File
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, af)
	}
	info := &types.Info{Selections: map[*ast.SelectorExpr]*types.Selection{}}
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil)}
	if _, err := conf.Check("github.com/soc2ls/soc2ls/analysis/rules", fset, parsed, info); err != nil {
		t.Fatalf("type-checking the rules: %v", err)
	}
	banned := map[string]bool{"Resources": true, "Refs": true, "Root": true, "Sections": true}
	for sel, s := range info.Selections {
		if s.Kind() != types.FieldVal || !banned[sel.Sel.Name] {
			continue
		}
		recv := s.Recv()
		if p, ok := recv.(*types.Pointer); ok {
			recv = p.Elem()
		}
		named, ok := recv.(*types.Named)
		if !ok || named.Obj().Name() != "Template" || named.Obj().Pkg().Path() != "github.com/soc2ls/soc2ls/analysis/template" {
			continue
		}
		t.Errorf("%s: a rule reads Template.%s directly; use the lookup methods, which tell the engine what the check read",
			fset.Position(sel.Pos()), sel.Sel.Name)
	}
	if len(info.Selections) < 1000 {
		t.Fatalf("only %d selections type-checked: the test is not looking at the rules", len(info.Selections))
	}
}
