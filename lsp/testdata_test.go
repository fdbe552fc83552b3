package lsp

import (
	"strings"
	"testing"

	"go.lsp.dev/protocol"
)

// trailTemplate has one finding of each test rule, with fixes.
const trailTemplate = `AWSTemplateFormatVersion: "2010-09-09"
# Audit trail for CC7.2 evidence.
Parameters:
  Environment:
    Type: String
    Description: Deployment stage
    Default: staging
    AllowedValues: [production, staging]
Mappings:
  RegionMap:
    us-east-1:
      Bucket: audit-use1
Conditions:
  IsProd: !Equals [!Ref Environment, production]
  IsNotProd: !Not [!Condition IsProd]
Resources:
  Trail:
    Type: AWS::CloudTrail::Trail
    DependsOn: [Logs]
    Properties:
      IsLogging: true
      S3BucketName: !Ref Logs
      IsMultiRegionTrail: false
      TrailName: !Sub '${AWS::StackName}-${Logs.Arn}-${Environment}'
      Tags:
        - Key: Environment
          Value: production
        - Key: Bucket
          Value: !FindInMap [RegionMap, !Ref 'AWS::Region', Bucket]
  Logs:
    Type: AWS::S3::Bucket
    Condition: IsProd
Outputs:
  TrailArn:
    Value: !GetAtt Trail.Arn
  LogsArn:
    Value: !GetAtt [Logs, Arn]
    Condition: IsNotProd
  Depends:
    Value: !If [IsProd, !Ref Logs, !Ref 'AWS::NoValue']
`

// insertEdit is an edit inserting text before the first occurrence of
// needle.
func insertEdit(t testing.TB, text, needle, ins string) protocol.TextEdit {
	p := pos(t, text, needle, 0)
	return protocol.TextEdit{Range: protocol.Range{Start: p, End: p}, NewText: ins}
}

// replaceEdit replaces the first occurrence of old.
func replaceEdit(t testing.TB, text, old, new string) protocol.TextEdit {
	if !strings.Contains(text, old) {
		t.Fatalf("%q not in the text", old)
	}
	return protocol.TextEdit{Range: protocol.Range{Start: pos(t, text, old, 0), End: pos(t, text, old, len(old))}, NewText: new}
}
