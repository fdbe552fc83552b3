package template

import (
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// aliasBomb is the billion laughs: levels of ten aliases to the level
// before, 10^levels values if expanded, a few hundred bytes per level.
func aliasBomb(levels int) []byte {
	var b strings.Builder
	b.WriteString("AWSTemplateFormatVersion: '2010-09-09'\nMetadata:\n  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i < levels; i++ {
		p := fmt.Sprintf("*a%d", i-1)
		fmt.Fprintf(&b, "  a%d: &a%d [%s]\n", i, i, strings.Repeat(p+", ", 9)+p)
	}
	fmt.Fprintf(&b, "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      Tags: *a%d\n", levels-1)
	return []byte(b.String())
}

// TestAliasesAreNeverExpanded: yaml.v3 decoding into a yaml.Node keeps
// aliases as alias nodes, and Parse turns each into one Alias node with a
// SOC2-PARSE-003 problem. Allocations grow with the text (linearly), not
// with the expansion (10x per level).
func TestAliasesAreNeverExpanded(t *testing.T) {
	allocs := func(f func()) float64 { return testing.AllocsPerRun(5, f) }
	var small, large [2]float64
	for i, levels := range []int{4, 8} {
		src := aliasBomb(levels)
		v3 := allocs(func() {
			var n yaml.Node
			if err := yaml.Unmarshal(src, &n); err != nil {
				t.Fatal(err)
			}
		})
		parse := allocs(func() { Parse("bomb.yaml", src) })
		if i == 0 {
			small = [2]float64{v3, parse}
		} else {
			large = [2]float64{v3, parse}
		}
	}
	ratio := float64(len(aliasBomb(8))) / float64(len(aliasBomb(4)))
	for i, what := range []string{"yaml.v3 into yaml.Node", "Parse"} {
		// Twice the text may cost a little over twice the allocations (a
		// slice growing once more); expansion would cost 10^4 times.
		if large[i] > small[i]*ratio*1.5 {
			t.Errorf("%s: %.0f allocations for 4 levels, %.0f for 8 (text %.1fx larger): not linear", what, small[i], large[i], ratio)
		}
	}
	tp := Parse("bomb.yaml", aliasBomb(8))
	aliases, anchors := 0, 0
	for _, p := range tp.Problems {
		switch {
		case p.Code != ProblemAlias:
			t.Errorf("unexpected problem %v", p)
		case strings.Contains(p.Message, "alias"):
			if strings.HasPrefix(p.Message, "YAML alias") {
				aliases++
			} else {
				anchors++
			}
		}
	}
	if aliases != 71 || anchors != 8 {
		t.Errorf("%d alias and %d anchor problems, want 71 and 8 (one per occurrence)", aliases, anchors)
	}
	if tags := tp.Resource("B").Property("Tags"); tags == nil || tags.Kind != Alias {
		t.Errorf("the alias was resolved: %+v", tags)
	}
}

// TestParseCostIsLinear: long lines, many keys and deep (but allowed)
// nesting cost allocations in proportion to the text.
func TestParseCostIsLinear(t *testing.T) {
	for _, c := range []struct {
		name string
		gen  func(n int) string
	}{
		{"long scalar", func(n int) string { return "Description: " + strings.Repeat("ab", n) + "\n" }},
		{"long comment", func(n int) string { return "# " + strings.Repeat("x", n) + "\nResources: {}\n" }},
		{"long flow sequence", func(n int) string { return "Metadata: [" + strings.Repeat("a, ", n/8) + "b]\n" }},
		{"many keys", func(n int) string {
			var b strings.Builder
			for i := 0; i < n/64; i++ {
				fmt.Fprintf(&b, "K%d: v\n", i)
			}
			return b.String()
		}},
		{"many duplicate keys", func(n int) string { return strings.Repeat("K: v\n", n/64) }},
		{"deep nesting", func(n int) string {
			return "Metadata: " + strings.Repeat("[", n/256) + strings.Repeat("]", n/256) + "\n"
		}},
		{"deep JSON", func(n int) string {
			return `{"Metadata": ` + strings.Repeat("[", n/256) + strings.Repeat("]", n/256) + "}"
		}},
	} {
		cost := func(n int) float64 {
			src := []byte(c.gen(n))
			name := "t.yaml"
			if src[0] == '{' {
				name = "t.json"
			}
			return testing.AllocsPerRun(3, func() { Parse(name, src) })
		}
		small, large := cost(1<<18), cost(1<<20)
		if large > small*4*1.5+50 {
			t.Errorf("%s: %.0f allocations for 256 KB, %.0f for 1 MB: not linear", c.name, small, large)
		}
	}
}
