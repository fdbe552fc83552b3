package edit

import (
	"regexp"
	"testing"
)

// The expressions plainUnsafe and typedWord replace, kept here as their
// specification.
var (
	plainUnsafeRE = regexp.MustCompile(`^[\s\-?:,\[\]{}#&*!|>'"%@` + "`" + `]|: |\s#|[\s:]$|^$`)
	typedWordRE   = regexp.MustCompile(`(?i)^(y|yes|n|no|true|false|on|off|null|~|[-+]?(\d[\d_]*)?\.?\d+([eE][-+]?\d+)?|0x[0-9a-f]+|0o[0-7]+|\.inf|\.nan|\d{4}-\d\d-\d\d.*)$`)
)

var quotingSeeds = []string{
	"", " ", "a", "a b", "a: b", "a #b", "a\t#", "a:", "a ", "-a", "?", ":x", "'x", "%x", "@x", "`x", "\fx", "x\f",
	"y", "Y", "yes", "YES", "yeſ", "no", "On", "off", "NULL", "~", ".inf", ".NaN", "true", "False",
	"1", "+1", "-1", "1_000", "1_", "_1", "1.5", ".5", "1.", "1e5", "1E+5", "1e", "1.5e-3", "+.5e10", "1__2.3",
	"0x1F", "0X", "0xg", "0o17", "0o8", "0O7", "2024-01-02", "2024-01-02T10:00", "2024-01-02\nx", "2024-1-02",
	"arn:aws:s3:::bucket/*", "AES256", "aws:kms", "K", "\u212a", "e5", "1.2.3", "٣",
}

// TestQuotingMatchesRegexps holds the hand-written matchers to the regular
// expressions they replace.
func TestQuotingMatchesRegexps(t *testing.T) {
	for _, s := range quotingSeeds {
		checkQuoting(t, s)
	}
}

func FuzzQuoting(f *testing.F) {
	for _, s := range quotingSeeds {
		f.Add(s)
	}
	f.Fuzz(checkQuoting)
}

func checkQuoting(t *testing.T, s string) {
	if got, want := plainUnsafe(s), plainUnsafeRE.MatchString(s); got != want {
		t.Errorf("plainUnsafe(%q) = %v, the expression says %v", s, got, want)
	}
	if got, want := typedWord(s), typedWordRE.MatchString(s); got != want {
		t.Errorf("typedWord(%q) = %v, the expression says %v", s, got, want)
	}
}
