package rules

import (
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/soc2ls/soc2ls/analysis"
)

// TestRulesReachResourcesThroughRecorder: the incremental analysis keeps a
// check's findings when the check did not look at the edited resource,
// parameter, condition, mapping or output, and it knows what a check looked
// at only through the template's lookup methods (Resource, ResourcesOfType,
// AllResources, RefsTo, AllRefs, Section, Parameter, Condition, Mapping,
// AllParameters, AllConditions, AllMappings, AllOutputs), which report to
// the check's recorder. A rule that read the Resources, Refs, Root,
// Sections, Parameters, Conditions, Mappings or Outputs fields directly
// would reach entries unseen, and its findings could go stale. This test
// type-checks the rules and rejects every such read.
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
	banned := map[string]bool{"Resources": true, "Refs": true, "Root": true, "Sections": true,
		"Parameters": true, "Conditions": true, "Mappings": true, "Outputs": true, "Metadata": true, "Description": true}
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

// TestResourceFactsArePlainData: the values of resource facts and Facts
// outlive the template they were computed from (an edit keeps those it did
// not change), so they must hold no nodes, resources or other pointers into
// a template, only data (names, reasons, relative spans).
func TestResourceFactsArePlainData(t *testing.T) {
	facts := []*analysis.ResourceFact{secretFlows, stageLiterals, auditLogGroupMarks, auditBucketMarks, retainedStoreMarks, cwEntries, kmsKeyConsumers, physicalNames, accessLogTarget, policyBucket, msgTopicsPublished, kmsAliasName, cfgDependencies, permissionBoundary}
	wholes := []*analysis.Fact{permissionBoundariesFact, resourceDepsFact, dependsOnRecorderFact, msgTopicPublishersFact, kmsKeyAliasesFact, auditBucketsFact, accessLogTargetsFact, auditLogGroupsFact, logTargetsFact, retainedStoresFact, bucketPolicies, cwIndexFact, kmsKeyUsesFact, physicalNameIndex}
	seen := map[*analysis.ResourceFact]int{}
	seenWhole := map[*analysis.Fact]int{}
	probe := &analysis.Rule{ID: "SOC2-TEST-001", Title: "probe", Severity: analysis.Info, Controls: []string{"CC8.1"},
		Check: func(pass *analysis.Pass) {
			for _, f := range wholes {
				v := pass.Fact(f)
				if !isEmpty(reflect.ValueOf(v)) {
					seenWhole[f]++
				}
				if path, ok := pointerIn(reflect.ValueOf(v), "value"); ok {
					t.Errorf("fact %s holds a pointer at %s", f.Key, path)
				}
			}
			for _, f := range facts {
				for _, g := range pass.Gather(f) {
					seen[f]++
					if path, ok := pointerIn(reflect.ValueOf(g.Value), "value"); ok {
						t.Errorf("resource fact %s of %s holds a pointer at %s", f.Key, g.Name, path)
					}
				}
			}
		}}
	e := analysis.NewEngine([]*analysis.Rule{probe}, nil)
	for name, src := range incrementalCorpus(t) {
		e.Analyze(name, src)
	}
	for _, f := range facts {
		if seen[f] == 0 {
			t.Errorf("resource fact %s has no value anywhere in the corpus: the test proves nothing for it", f.Key)
		}
	}
	for _, f := range wholes {
		if seenWhole[f] == 0 {
			t.Errorf("fact %s is empty everywhere in the corpus: the test proves nothing for it", f.Key)
		}
	}
}

// isEmpty reports whether a fact's value says nothing: an empty map or
// slice, or a struct whose fields all are.
func isEmpty(v reflect.Value) bool {
	if v.Kind() == reflect.Struct {
		for i := 0; i < v.NumField(); i++ {
			if !isEmpty(v.Field(i)) {
				return false
			}
		}
		return true
	}
	return v.Len() == 0
}

// pointerIn returns the path of a pointer, function or channel inside v.
func pointerIn(v reflect.Value, path string) (string, bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return path, !v.IsNil()
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if p, ok := pointerIn(it.Key(), path+"[key]"); ok {
				return p, true
			}
			if p, ok := pointerIn(it.Value(), fmt.Sprintf("%s[%v]", path, it.Key())); ok {
				return p, true
			}
		}
	case reflect.Interface:
		if v.IsNil() {
			return "", false
		}
		return pointerIn(v.Elem(), path)
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if p, ok := pointerIn(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); ok {
				return p, true
			}
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if p, ok := pointerIn(v.Field(i), path+"."+v.Type().Field(i).Name); ok {
				return p, true
			}
		}
	}
	return "", false
}
