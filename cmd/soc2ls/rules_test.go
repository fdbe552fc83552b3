package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/rules"
)

// TestRulesDocUpToDate fails when docs/rules.md no longer matches the rule
// catalogue.
func TestRulesDocUpToDate(t *testing.T) {
	r := runCLI("", "rules", "--format", "markdown")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	path := filepath.Join(repoRoot, "docs", "rules.md")
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if r.stdout != string(want) {
		t.Errorf("docs/rules.md is stale: regenerate it with\n\tgo run ./cmd/soc2ls rules --format markdown > docs/rules.md")
	}
}

func TestRulesList(t *testing.T) {
	all := append(rules.All(), analysis.MetaRules()...)
	r := runCLI("", "rules")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if r.code != 0 || len(lines) != len(all)+1 || !strings.HasPrefix(lines[0], "ID ") {
		t.Fatalf("exit %d, %d lines for %d rules:\n%s", r.code, len(lines), len(all), r.stdout)
	}
	for i, rule := range all {
		if f := strings.Fields(lines[i+1]); f[0] != rule.ID || f[1] != rule.Severity.String() {
			t.Errorf("line %d: %q, want %s first", i+1, lines[i+1], rule.ID)
		}
	}
	if meta := analysis.MetaRules(); !strings.HasPrefix(lines[len(lines)-1], meta[len(meta)-1].ID) {
		t.Errorf("meta rules are not listed last")
	}

	r = runCLI("", "rules", "--format", "json")
	var list []ruleJSON
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) != len(all) {
		t.Fatalf("json: %v, %d entries", err, len(list))
	}
	if got := list[0]; got.ID != all[0].ID || got.DocURL != all[0].DocURL() || got.Criteria == nil || got.Types == nil {
		t.Errorf("json entry: %+v", got)
	}

	if r := runCLI("", "rules", "--format", "xml"); r.code != 2 {
		t.Errorf("unknown format: exit %d", r.code)
	}
}

func TestExplain(t *testing.T) {
	fixedRules(t)
	tests := []struct {
		arg    string
		code   int
		stdout []string // substrings, in order
		stderr string
	}{
		{"SOC2-CT-001", 0, []string{
			"SOC2-CT-001: CloudTrail trail records only one region\n",
			"Severity: error (warning when only some",
			"Checks:   AWS::CloudTrail::Trail\n",
			"Criteria:\n  CC7.2 — ", "  CC2.1 — ",
			"Docs:     https://github.com/soc2ls/soc2ls/blob/main/docs/rules.md#soc2-ct-001\n",
			"**How to fix.**",
		}, ""},
		{"soc2-s3-001", 0, []string{"SOC2-S3-001: S3 bucket accepts requests without TLS"}, ""},
		{"SOC2-PARSE-001", 0, []string{"SOC2-PARSE-001: Template does not parse\n", "Checks:   the template text\n"}, ""},
		{"cc6.1", 0, []string{
			"### CC6.1 — ",
			"_Template evidence supports",
			"Rules mapped to CC6.1:\n",
			"SOC2-S3-001  error  S3 bucket accepts requests without TLS\n",
		}, ""},
		{"CC7.2", 0, []string{"SOC2-CT-001  error  CloudTrail trail records only one region (primary criterion)"}, ""},
		{"SOC2-CT-01", 2, nil, `soc2ls explain: unknown rule or criterion "SOC2-CT-01"; did you mean SOC2-CT-001?`},
		{"cc61", 2, nil, "did you mean CC6.1"},
		{"nonsense-id", 2, nil, "unknown rule or criterion \"nonsense-id\"\nRun 'soc2ls rules'"},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			r := runCLI("", "explain", tt.arg)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", r.code, tt.code, r.stderr)
			}
			rest := r.stdout
			for _, want := range tt.stdout {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("stdout lacks %q (in order):\n%s", want, r.stdout)
				}
				rest = rest[i+len(want):]
			}
			if !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("stderr %q lacks %q", r.stderr, tt.stderr)
			}
		})
	}
	if r := runCLI("", "explain"); r.code != 2 {
		t.Errorf("no argument: exit %d", r.code)
	}
}
