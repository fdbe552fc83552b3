package analysis

// Options tune the rules. The zero value is not useful: start from
// DefaultOptions.
type Options struct {
	// EnvironmentParameter is the name of the parameter that selects the
	// deployment stage.
	EnvironmentParameter string
	// EnvironmentValues are the AllowedValues a new Environment parameter
	// gets.
	EnvironmentValues []string
	// PrimaryRegionParameter is the name of the parameter that names the
	// region owning account-global resources.
	PrimaryRegionParameter string
	// PublicPorts are the TCP ports that may be open to the world on a load
	// balancer's security group.
	PublicPorts []int
	// AuditLogRetentionDays is the minimum retention for audit logs.
	AuditLogRetentionDays int
	// MinBackupRetentionDays is the minimum database backup retention in
	// production.
	MinBackupRetentionDays int
	// RequiredTags are the tag keys every data-bearing resource must carry.
	RequiredTags []string
	// Profile is "baseline" or "workload" to say what the templates are,
	// or "" to detect it from their resources. A template's own Metadata
	// soc2ls profile still wins: the project sets the default, the template
	// knows itself best.
	Profile string
	// Rules overrides rules by id: Off disables a rule, Severity replaces its
	// severity.
	Rules map[string]RuleSetting
}

// RuleSetting overrides one rule.
type RuleSetting struct {
	Off      bool
	Severity Severity // 0 keeps the rule's own
}

// DefaultOptions returns the options soc2ls uses when nothing is configured.
func DefaultOptions() *Options {
	return &Options{
		EnvironmentParameter:   "Environment",
		EnvironmentValues:      []string{"production", "staging", "development"},
		PrimaryRegionParameter: "PrimaryRegion",
		PublicPorts:            []int{80, 443},
		AuditLogRetentionDays:  365,
		MinBackupRetentionDays: 7,
		RequiredTags:           []string{"Environment", "Owner", "DataClassification"},
	}
}
