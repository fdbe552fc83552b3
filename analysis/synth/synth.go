// Package synth generates realistic CloudFormation templates of a chosen
// size, deterministically, for benchmarks and load tests: buckets with
// policies, queues, log groups, security groups and roles, with parameters,
// conditions, short-form intrinsics, comments and a few findings per
// resource, as real templates have.
package synth

import (
	"fmt"
	"strings"
)

// YAML returns a YAML template of at least size bytes.
func YAML(size int) []byte {
	var b strings.Builder
	b.Grow(size + 4096)
	b.WriteString(`AWSTemplateFormatVersion: '2010-09-09'
Description: Synthetic workload stack for benchmarks
Parameters:
  Environment:
    Type: String
    AllowedValues: [production, staging, development]
    Default: staging
  RetentionDays:
    Type: Number
    Default: 365
Conditions:
  IsProduction: !Equals [!Ref Environment, production]
Resources:
`)
	for i := 0; b.Len() < size; i++ {
		writeYAMLGroup(&b, i)
	}
	b.WriteString(`Outputs:
  FirstBucket:
    Value: !Ref Bucket0
`)
	return []byte(b.String())
}

func writeYAMLGroup(b *strings.Builder, i int) {
	fmt.Fprintf(b, `  # Group %[1]d
  Bucket%[1]d:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub 'acme-${Environment}-data-%[1]d'
      VersioningConfiguration:
        Status: Enabled
      Tags:
        - Key: Environment
          Value: !Ref Environment
        - Key: Owner
          Value: team-%[2]d
  Bucket%[1]dPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Bucket%[1]d
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Sid: DenyInsecureTransport
            Effect: Deny
            Principal: '*'
            Action: 's3:*'
            Resource: [!GetAtt Bucket%[1]d.Arn, !Sub '${Bucket%[1]d.Arn}/*']
            Condition:
              Bool:
                aws:SecureTransport: 'false'
  Queue%[1]d:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub '${AWS::StackName}-queue-%[1]d'
      MessageRetentionPeriod: 345600
      Tags:
        - Key: environment
          Value: production
  Logs%[1]d:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub '/app/${Environment}/service-%[1]d'
      RetentionInDays: !If [IsProduction, 365, 30]
  Group%[1]d:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: Service %[1]d
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: 443
          ToPort: 443
          CidrIp: 10.0.0.0/8
          Description: internal HTTPS
  Role%[1]d:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: read-bucket
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action: [s3:GetObject]
                Resource: !Sub '${Bucket%[1]d.Arn}/*'
`, i, i%17)
}

// JSON returns a JSON template of at least size bytes with the same shape.
func JSON(size int) []byte {
	var b strings.Builder
	b.Grow(size + 4096)
	b.WriteString(`{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Parameters": {"Environment": {"Type": "String", "AllowedValues": ["production", "staging"], "Default": "staging"}},
  "Resources": {
`)
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `    "Bucket%[1]d": {
      "Type": "AWS::S3::Bucket",
      "Properties": {
        "BucketName": {"Fn::Sub": "acme-${Environment}-%[1]d"},
        "Tags": [{"Key": "Environment", "Value": {"Ref": "Environment"}}, {"Key": "Owner", "Value": "team-%[2]d"}]
      }
    },
    "Bucket%[1]dPolicy": {
      "Type": "AWS::S3::BucketPolicy",
      "Properties": {
        "Bucket": {"Ref": "Bucket%[1]d"},
        "PolicyDocument": {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*",
          "Resource": [{"Fn::GetAtt": ["Bucket%[1]d", "Arn"]}, {"Fn::Sub": "${Bucket%[1]d.Arn}/*"}],
          "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
      }
    },
    "Queue%[1]d": {"Type": "AWS::SQS::Queue", "Properties": {"Tags": [{"Key": "Environment", "Value": "production"}]}}`, i, i%17)
	}
	b.WriteString("\n  }\n}\n")
	return []byte(b.String())
}
