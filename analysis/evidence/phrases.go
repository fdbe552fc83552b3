package evidence

import "strings"

// A phrase says, positively, what a rule found to be in place when it ran and
// reported nothing: "records every region" for a trail that passed
// SOC2-CT-001. Resource rules' phrases describe the resource ("trail
// OrgTrail: records every region, validates its log files"); whole-template
// rules' phrases describe the template. Each phrase claims no more than the
// rule checks, since an auditor reads it as evidence.
//
// TestEveryRuleHasAPhrase keeps this table complete: a rule without a phrase
// fails the test rather than silently supporting nothing.
var phrases = map[string]string{
	// CloudTrail
	"SOC2-CT-001":  "records every region",
	"SOC2-CT-002":  "includes global service events",
	"SOC2-CT-003":  "validates its log files",
	"SOC2-CT-004":  "sends its events to CloudWatch Logs",
	"SOC2-CT-005":  "encrypts its log files with KMS",
	"SOC2-CT-006":  "records data events",
	"SOC2-CT-007":  "is logging",
	"SOC2-CT-008":  "records management events",
	"SOC2-TPL-107": "a CloudTrail trail is created, or declared to be managed elsewhere",

	// AWS Config
	"SOC2-CFG-001": "records the whole resource inventory",
	"SOC2-CFG-002": "records through a role with the AWS_ConfigRole policy",
	"SOC2-CFG-003": "is created after the configuration recorder",
	"SOC2-CFG-004": "delivers to a bucket whose policy allows AWS Config",
	"SOC2-CFG-005": "delivers configuration snapshots as configured for audit",
	"SOC2-TPL-101": "AWS Config is created, or declared to be managed elsewhere",
	"SOC2-TPL-102": "configuration recorder and delivery channel come in pairs",
	"SOC2-TPL-103": "configuration recorder and delivery channel do not depend on each other",
	"SOC2-TPL-104": "the configuration recorder is paired with Config rules or a conformance pack",

	// GuardDuty
	"SOC2-GD-001":  "is enabled",
	"SOC2-GD-002":  "covers the protection plans and publishes findings promptly",
	"SOC2-TPL-105": "a GuardDuty detector is created, or declared to be managed elsewhere",
	"SOC2-TPL-106": "GuardDuty findings are routed to a target",

	// KMS
	"SOC2-KMS-001": "rotates its key material",
	"SOC2-KMS-002": "key policy names its principals",
	"SOC2-KMS-003": "key policy grants more than the account root",
	"SOC2-KMS-004": "key policy scopes its service statements",
	"SOC2-TPL-111": "KMS key policies let the services that use the keys use them",

	// S3
	"SOC2-S3-001":  "denies requests without TLS",
	"SOC2-S3-002":  "blocks public access",
	"SOC2-S3-003":  "is encrypted with a customer-managed key",
	"SOC2-S3-004":  "keeps object versions",
	"SOC2-S3-005":  "logs server access",
	"SOC2-S3-006":  "has lifecycle rules for retention and disposal",
	"SOC2-S3-007":  "locks audit objects against deletion",
	"SOC2-S3-008":  "grants nothing to everyone",
	"SOC2-TPL-112": "trail buckets' policies let CloudTrail deliver",

	// EC2 and VPC
	"SOC2-SG-001":  "opens no port to the whole internet",
	"SOC2-SG-002":  "keeps SSH and RDP closed to the internet",
	"SOC2-SG-003":  "restricted ports' sources are constrained",
	"SOC2-SG-004":  "keeps web ports on instances closed to the internet",
	"SOC2-SG-005":  "describes its ingress rules",
	"SOC2-EC2-001": "encrypts its EBS storage",
	"SOC2-EC2-002": "requires IMDSv2",
	"SOC2-EC2-003": "assigns no public IP addresses",
	"SOC2-VPC-001": "has a flow log recording all traffic",
	"SOC2-VPC-002": "admits no remote administration from the internet",

	// IAM
	"SOC2-IAM-001": "grants no full administrative access",
	"SOC2-IAM-002": "grants no statement broader than least privilege",
	"SOC2-IAM-003": "has no administrative AWS managed policy",
	"SOC2-IAM-004": "is no long-lived IAM user, access key or user policy",
	"SOC2-IAM-005": "trusts only guarded principals",
	"SOC2-IAM-006": "limits the source account of the services it trusts",

	// RDS
	"SOC2-RDS-001": "encrypts its storage",
	"SOC2-RDS-002": "is not publicly accessible",
	"SOC2-RDS-003": "keeps automated backups",
	"SOC2-RDS-004": "is protected against deletion",
	"SOC2-RDS-005": "runs in several Availability Zones where production requires it",
	"SOC2-RDS-006": "keeps its master password out of the template",
	"SOC2-RDS-007": "exports its logs to CloudWatch Logs",
	"SOC2-RDS-008": "requires TLS for connections",

	// Logs and alarms
	"SOC2-LOG-001": "keeps its logs for a set retention",
	"SOC2-LOG-002": "is encrypted with a customer-managed KMS key",
	"SOC2-CW-001":  "notifies someone",
	"SOC2-TPL-108": "alarmed metric filters watch the trail's log group for security events",
	"SOC2-TPL-109": "metric filters and alarms match",
	"SOC2-TPL-110": "alarm topics are encrypted with keys their publishers can use",

	// Tags and parameters
	"SOC2-TAG-001":   "no environment tag is a hardcoded literal",
	"SOC2-TAG-002":   "carries the required inventory tags",
	"SOC2-PARAM-001": "the stage comes from an Environment parameter, not literals",
	"SOC2-PARAM-002": "account-global resources can be limited to a primary region",
	"SOC2-PARAM-003": "takes its CIDR ranges from parameters",
	"SOC2-PARAM-004": "can be switched off where it already exists",
	"SOC2-PARAM-005": "can be brought from outside the stack",
	"SOC2-PARAM-006": "secret parameters are NoEcho and have no default",
	"SOC2-PARAM-007": "no stack output reveals a secret",

	// Secrets
	"SOC2-SEC-001": "holds no plain-text secret",
	"SOC2-SM-001":  "is rotated",

	// Template portability and lifecycle
	"SOC2-TPL-001": "no condition compares the region with a literal",
	"SOC2-TPL-002": "no ARNs or Availability Zones are hardcoded",
	"SOC2-TPL-003": "is retained when the stack is deleted",
	"SOC2-TPL-113": "account-global resources are limited to the primary region",
	"SOC2-TPL-114": "the Environment parameter drives tags and production settings",
	"SOC2-TPL-115": "audit retention is set in one parameter",

	// Lambda, DynamoDB, load balancers, messaging
	"SOC2-LMB-001": "runs inside the VPC",
	"SOC2-LMB-002": "can be invoked only by named principals and accounts",
	"SOC2-DDB-001": "is protected against data loss",
	"SOC2-ELB-001": "serves no plain HTTP",
	"SOC2-ELB-002": "allows only current TLS",
	"SOC2-ELB-003": "logs access, drops invalid headers and has a web ACL",
	"SOC2-MSG-001": "is encrypted at rest",

	// Meta rules: the engine reports them about the template text itself.
	"SOC2-PARSE-001":    "parses",
	"SOC2-PARSE-002":    "has no duplicate keys",
	"SOC2-PARSE-003":    "uses no YAML anchors or aliases",
	"SOC2-PARSE-004":    "uses only known YAML tags",
	"SOC2-PARSE-005":    "is small enough to analyse",
	"SOC2-INTERNAL-001": "was checked by every rule without error",
	"SOC2-SUPPRESS-001": "every suppression gives its reason",
	"SOC2-SUPPRESS-002": "every suppression matches a finding",
}

// subjects are, for whole-template rules, the resource types whose presence
// makes the rule's silence meaningful: a template with a GuardDuty detector
// that passes SOC2-TPL-106 routes its findings; one without a detector says
// nothing about CC4.2. A whole-template rule without subjects (the parameter
// and portability rules) supports a criterion only in a template where some
// rule of that criterion applies.
var subjects = map[string][]string{
	"SOC2-TPL-102": {"AWS::Config::ConfigurationRecorder", "AWS::Config::DeliveryChannel"},
	"SOC2-TPL-103": {"AWS::Config::ConfigurationRecorder", "AWS::Config::DeliveryChannel"},
	"SOC2-TPL-104": {"AWS::Config::ConfigurationRecorder"},
	"SOC2-TPL-106": {"AWS::GuardDuty::Detector"},
	"SOC2-TPL-107": {"AWS::CloudTrail::Trail"},
	"SOC2-TPL-101": {"AWS::Config::ConfigurationRecorder"},
	"SOC2-TPL-105": {"AWS::GuardDuty::Detector"},
	"SOC2-TPL-108": {"AWS::CloudTrail::Trail"},
	"SOC2-TPL-109": {"AWS::Logs::MetricFilter", "AWS::CloudWatch::Alarm"},
	"SOC2-TPL-110": {"AWS::CloudWatch::Alarm"},
	"SOC2-TPL-111": {"AWS::KMS::Key"},
	"SOC2-TPL-112": {"AWS::CloudTrail::Trail"},
	"SOC2-TPL-113": {"AWS::CloudTrail::Trail", "AWS::Config::ConfigurationRecorder", "AWS::GuardDuty::Detector", "AWS::SecurityHub::Hub"},
}

// nouns name resource types the way people say them: "trail OrgTrail".
var nouns = map[string]string{
	"AWS::CloudTrail::Trail":                    "trail",
	"AWS::Config::ConfigurationRecorder":        "configuration recorder",
	"AWS::Config::DeliveryChannel":              "delivery channel",
	"AWS::Config::ConfigRule":                   "Config rule",
	"AWS::Config::ConformancePack":              "conformance pack",
	"AWS::GuardDuty::Detector":                  "GuardDuty detector",
	"AWS::SecurityHub::Hub":                     "Security Hub",
	"AWS::KMS::Key":                             "KMS key",
	"AWS::S3::Bucket":                           "bucket",
	"AWS::EC2::SecurityGroup":                   "security group",
	"AWS::EC2::SecurityGroupIngress":            "security group ingress",
	"AWS::EC2::Volume":                          "EBS volume",
	"AWS::EC2::Instance":                        "instance",
	"AWS::EC2::LaunchTemplate":                  "launch template",
	"AWS::AutoScaling::LaunchConfiguration":     "launch configuration",
	"AWS::EC2::Subnet":                          "subnet",
	"AWS::EC2::VPC":                             "VPC",
	"AWS::EC2::VPCCidrBlock":                    "VPC CIDR block",
	"AWS::EC2::NetworkAclEntry":                 "network ACL entry",
	"AWS::EC2::NatGateway":                      "NAT gateway",
	"AWS::IAM::Policy":                          "IAM policy",
	"AWS::IAM::ManagedPolicy":                   "managed policy",
	"AWS::IAM::Role":                            "role",
	"AWS::IAM::User":                            "IAM user",
	"AWS::IAM::Group":                           "IAM group",
	"AWS::IAM::AccessKey":                       "access key",
	"AWS::RDS::DBInstance":                      "database",
	"AWS::RDS::DBCluster":                       "database cluster",
	"AWS::Logs::LogGroup":                       "log group",
	"AWS::Logs::MetricFilter":                   "metric filter",
	"AWS::CloudWatch::Alarm":                    "alarm",
	"AWS::DynamoDB::Table":                      "table",
	"AWS::SNS::Topic":                           "topic",
	"AWS::SQS::Queue":                           "queue",
	"AWS::SecretsManager::Secret":               "secret",
	"AWS::EFS::FileSystem":                      "file system",
	"AWS::Lambda::Function":                     "function",
	"AWS::Serverless::Function":                 "function",
	"AWS::Lambda::Permission":                   "Lambda permission",
	"AWS::Lambda::Url":                          "function URL",
	"AWS::ECS::TaskDefinition":                  "task definition",
	"AWS::SSM::Parameter":                       "SSM parameter",
	"AWS::ElasticLoadBalancingV2::Listener":     "listener",
	"AWS::ElasticLoadBalancingV2::LoadBalancer": "load balancer",
}

// noun returns how a resource type is named in evidence: its noun, or the
// last part of the type name for types no rule names ("Route" for
// AWS::EC2::Route).
func noun(typ string) string {
	if n, ok := nouns[typ]; ok {
		return n
	}
	if i := strings.LastIndex(typ, "::"); i >= 0 {
		return typ[i+2:]
	}
	return typ
}
