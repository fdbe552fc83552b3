package controls

import (
	"strings"
	"testing"
)

func TestEveryCriterionIsExplained(t *testing.T) {
	want := []string{"CC1.3", "CC2.1", "CC3.2", "CC3.3", "CC3.4", "CC4.2", "CC5.2", "CC6.1", "CC6.2", "CC6.3",
		"CC6.6", "CC6.7", "CC6.8", "CC7.1", "CC7.2", "CC7.3", "CC7.4", "CC7.5", "CC8.1", "A1.2", "A1.3",
		"C1.1", "C1.2", "PI1.2", "PI1.3", "PI1.4", "PI1.5"}
	for _, id := range want {
		c, ok := Lookup(id)
		if !ok {
			t.Errorf("criterion %s is missing", id)
			continue
		}
		if c.Title == "" || len(c.Summary) < 80 {
			t.Errorf("%s: title %q, summary %q: too thin to explain anything", id, c.Title, c.Summary)
		}
		if !strings.Contains(c.Markdown(), Disclaimer) {
			t.Errorf("%s: markdown lacks the disclaimer", id)
		}
	}
	if len(All()) != len(want) {
		t.Errorf("have %d criteria, want %d", len(All()), len(want))
	}
}

func TestOrder(t *testing.T) {
	ids := []string{}
	for _, c := range All() {
		ids = append(ids, c.ID)
	}
	got := strings.Join(ids, " ")
	if !strings.HasPrefix(got, "CC1.3 CC2.1 CC3.2 CC3.3 CC3.4") || !strings.HasSuffix(got, "PI1.4 PI1.5") ||
		!strings.Contains(got, "CC8.1 A1.2 A1.3 C1.1 C1.2 PI1.2") {
		t.Errorf("order: %s", got)
	}
	if _, ok := Lookup("cc6.1"); !ok {
		t.Error("lookup is not case-insensitive")
	}
}
