package rules

import (
	"regexp"
	"testing"
)

// secretPropertyRE is the expression secretProperty answers for.
var secretPropertyRE = regexp.MustCompile(`(?i)(password|passwd|passphrase|secretstring|authtoken|privatekey|apikey|secretaccesskey|clientsecret)$`)

var suffixSeeds = []string{"", "Password", "MasterUserPassword", "PASSWD", "passwords", "AuthToken", "authtoken ",
	"ApiKey", "APIKEY", "ManagePassword", "Paſsword", "ApiKey\u212a", "Apike\u212a", "SecretString", "x", "ClientSecret",
	"SecretAccessKey", "Passphrase", "privateKey\n"}

// TestSuffixMatcherMatchesRegexp holds secretProperty to its expression.
func TestSuffixMatcherMatchesRegexp(t *testing.T) {
	for _, s := range suffixSeeds {
		checkSuffix(t, s)
	}
}

func FuzzSuffixMatcher(f *testing.F) {
	for _, s := range suffixSeeds {
		f.Add(s)
	}
	f.Fuzz(checkSuffix)
}

func checkSuffix(t *testing.T, s string) {
	if got, want := secretProperty.MatchString(s), secretPropertyRE.MatchString(s); got != want {
		t.Errorf("secretProperty(%q) = %v, the expression says %v", s, got, want)
	}
}
