// Package controls holds the SOC 2 Trust Services Criteria that soc2ls maps
// its rules to: an id, a short title of our own and an explanation written
// for engineers, embedded so that hovers, `soc2ls explain` and reports share
// one source.
package controls

import (
	_ "embed"
	"sort"
	"strings"
)

//go:embed criteria.md
var criteriaMarkdown string

// Disclaimer is said wherever a criterion is explained: a template can show
// that a control is in place, but an audit tests much more than templates.
const Disclaimer = "Template evidence supports, but does not by itself satisfy, this criterion."

// Control is one Trust Services Criterion.
type Control struct {
	ID    string // "CC6.1"
	Title string // our paraphrase, not the AICPA wording
	// Summary is the first paragraph of the explanation: what the criterion
	// asks for, in plain words.
	Summary string
	// Body is the whole explanation in Markdown: summary, what an auditor
	// samples, and the template evidence that supports it.
	Body string
}

// Category returns the Trust Services Category of the criterion.
func (c *Control) Category() string {
	switch {
	case strings.HasPrefix(c.ID, "CC"):
		return "Security (common criteria)"
	case strings.HasPrefix(c.ID, "A"):
		return "Availability"
	case strings.HasPrefix(c.ID, "C"):
		return "Confidentiality"
	case strings.HasPrefix(c.ID, "PI"):
		return "Processing integrity"
	}
	return ""
}

// Markdown renders the criterion for a hover or `soc2ls explain`.
func (c *Control) Markdown() string {
	return "### " + c.ID + " — " + c.Title + "\n\n" + c.Body + "\n\n_" + Disclaimer + "_\n"
}

var (
	all  []*Control
	byID = map[string]*Control{}
)

func init() {
	for _, block := range strings.Split(criteriaMarkdown, "\n## ")[0:] {
		block = strings.TrimPrefix(strings.TrimSpace(block), "## ")
		head, body, _ := strings.Cut(block, "\n")
		id, title, ok := strings.Cut(head, " | ")
		if !ok {
			continue
		}
		body = strings.TrimSpace(body)
		summary, _, _ := strings.Cut(body, "\n\n")
		c := &Control{ID: strings.TrimSpace(id), Title: strings.TrimSpace(title), Summary: summary, Body: body}
		all = append(all, c)
		byID[c.ID] = c
	}
	sort.Slice(all, func(i, j int) bool { return Less(all[i].ID, all[j].ID) })
}

// Lookup returns the criterion with the given id ("CC6.1", case-insensitive).
func Lookup(id string) (*Control, bool) {
	c, ok := byID[strings.ToUpper(strings.TrimSpace(id))]
	return c, ok
}

// All returns every criterion in canonical order (CC1 ... CC9, A, C, PI).
func All() []*Control { return all }

// Less orders criterion ids canonically: common criteria first, then
// Availability, Confidentiality and Processing Integrity, numerically within
// each.
func Less(a, b string) bool {
	ra, rb := rank(a), rank(b)
	if ra != rb {
		return ra < rb
	}
	na, nb := numbers(a), numbers(b)
	for i := 0; i < len(na) && i < len(nb); i++ {
		if na[i] != nb[i] {
			return na[i] < nb[i]
		}
	}
	return len(na) < len(nb)
}

func rank(id string) int {
	switch {
	case strings.HasPrefix(id, "CC"):
		return 0
	case strings.HasPrefix(id, "A"):
		return 1
	case strings.HasPrefix(id, "C"):
		return 2
	case strings.HasPrefix(id, "PI"):
		return 3
	}
	return 4
}

func numbers(id string) []int {
	var out []int
	n, in := 0, false
	for _, r := range id {
		if r >= '0' && r <= '9' {
			n = n*10 + int(r-'0')
			in = true
		} else if in {
			out = append(out, n)
			n, in = 0, false
		}
	}
	if in {
		out = append(out, n)
	}
	return out
}
