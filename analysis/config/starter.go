package config

import (
	"fmt"
	"strings"

	"github.com/soc2ls/soc2ls/analysis"
)

// Starter returns the commented configuration file that `soc2ls config
// init` writes: every key explained, with soc2ls's defaults (taken from
// analysis.DefaultOptions, so that the file cannot drift from them) as
// values, and the rule settings commented out as examples. It parses
// without errors.
func Starter() []byte {
	d := analysis.DefaultOptions()
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# soc2ls project configuration. soc2ls uses the nearest %s in a template's", FileName)
	w("# directory or above it (up to the repository root); `soc2ls check --config FILE`")
	w("# uses FILE instead. Editor settings (soc2ls.rules) take precedence over this file.")
	w("# Reference: docs/config.md.")
	w("")
	w("# rules: turn a rule off, or change its severity. Keys are rule ids (soc2ls rules")
	w("# lists them); values are off, on, error, warning, info or hint, or")
	w("# {severity: WORD}. Findings that hold only for some parameter values stay one")
	w("# level below the configured severity.")
	w("rules:")
	w("  # SOC2-TPL-001: off")
	w("  # SOC2-S3-006: {severity: error}")
	w("  # SOC2-SG-005: info")
	w("")
	w("# options: what the rules check against. The values shown are the defaults.")
	w("options:")
	w("  # Tag keys every data-bearing resource must carry (SOC2-TAG rules).")
	w("  requiredTags: [%s]", strings.Join(d.RequiredTags, ", "))
	w("  # TCP ports that may be open to the world on a load balancer (SOC2-SG-001).")
	w("  publicPorts: [%s]", joinInts(d.PublicPorts))
	w("  # Minimum retention of audit logs, in days; a value CloudWatch Logs accepts")
	w("  # (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, ...).")
	w("  auditLogRetentionDays: %d", d.AuditLogRetentionDays)
	w("  # Minimum automated backup retention of production databases, 1 to 35 days.")
	w("  minBackupRetentionDays: %d", d.MinBackupRetentionDays)
	w("  # The parameter that selects the deployment stage; production findings are")
	w("  # raised when it resolves to production.")
	w("  environmentParameter: %s", d.EnvironmentParameter)
	w("  # The AllowedValues a quick fix gives a new environment parameter.")
	w("  environmentValues: [%s]", strings.Join(d.EnvironmentValues, ", "))
	w("  # The parameter naming the region that owns account-global resources.")
	w("  primaryRegionParameter: %s", d.PrimaryRegionParameter)
	w("")
	w("# profile: baseline (account-wide security stack: trail, recorder, detector) or")
	w("# workload (application stack). Absent: detected from each template's resources.")
	w("# A template's own `Metadata: {soc2ls: {profile: ...}}` wins over this.")
	w("# profile: workload")
	w("")
	w("# ignore: files that directory walks skip and the editor does not check; glob")
	w("# patterns relative to this file's directory, ** matching any number of")
	w("# directories. Files named on the command line are still checked.")
	w("ignore:")
	w("  # - \"cdk.out/**\"")
	w("  # - \"**/*.generated.yaml\"")
	return []byte(b.String())
}
