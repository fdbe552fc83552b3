package rules

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// suffixMatcher answers what a case-insensitive suffix expression such as
// (?i)(password|apikey)$ answers, without running the expression for ASCII
// text: such expressions were run on every property key of every resource
// and took a sixth of the analysis time of a large template. Text with
// non-ASCII bytes goes to the expression, whose Unicode case folding (ſ is s,
// K is k) an ASCII comparison would miss.
type suffixMatcher struct {
	re       *regexp.Regexp
	suffixes []string // lower case, ASCII
}

// newSuffixMatcher builds the matcher for (?i)(s1|s2|...)$.
func newSuffixMatcher(suffixes ...string) *suffixMatcher {
	quoted := make([]string, len(suffixes))
	for i, s := range suffixes {
		quoted[i] = regexp.QuoteMeta(s)
	}
	return &suffixMatcher{re: regexp.MustCompile(`(?i)(` + strings.Join(quoted, "|") + `)$`), suffixes: suffixes}
}

// MatchString reports whether s ends with one of the suffixes, in any case.
func (m *suffixMatcher) MatchString(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return m.re.MatchString(s)
		}
	}
	for _, suf := range m.suffixes {
		if len(s) >= len(suf) && strings.EqualFold(s[len(s)-len(suf):], suf) {
			return true
		}
	}
	return false
}
