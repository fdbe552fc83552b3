package template

import (
	"bytes"
	"strings"
	"testing"

	"github.com/soc2ls/soc2ls/analysis/synth"
)

// brokenJSONText is a JSON template for TestReparseBrokenJSONCases: a
// scalar top-level member, sections, nested values and a one-entry section.
const brokenJSONText = `{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Description": "broken edits",
  "Parameters": {
    "Env": {"Type": "String", "Default": "prod"}
  },
  "Resources": {
    "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"Tags": [{"Key": "Env", "Value": {"Ref": "Env"}}]}},
    "Queue": {"Type": "AWS::SQS::Queue"},
    "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "t"}}
  },
  "Outputs": {
    "Arn": {"Value": {"Fn::GetAtt": ["Topic", "TopicArn"]}}
  }
}
`

// TestReparseBrokenJSONCases breaks a JSON template in each way a keystroke
// or a paste does, and holds the template reparseBrokenJSON gives to Parse
// of the same text (the error's message and position, and the duplicate
// keys reported before it), copying and in place, with LF and CRLF line
// breaks; edits that leave the text parsing must not be answered by it.
func TestReparseBrokenJSONCases(t *testing.T) {
	for _, nl := range []string{"\n", "\r\n"} {
		text := strings.ReplaceAll(brokenJSONText, "\n", nl)
		at := func(s string) int {
			i := strings.Index(text, s)
			if i < 0 {
				t.Fatalf("no %q in the template", s)
			}
			return i
		}
		broken := []struct {
			name string
			e    splice
		}{
			{"a string left open in a value", splice{at(`"prod"`) + 5, at(`"prod"`) + 6, ""}},
			{"a bad token in a value", splice{at(`"AWS::SQS::Queue"`), at(`"AWS::SQS::Queue"`), "x"}},
			{"a brace left open in a resource", splice{at(`"Properties": {"TopicName"`) + 14, at(`"Properties": {"TopicName"`) + 14, "{"}},
			{"a bracket left open", splice{at(`[{"Key"`), at(`[{"Key"`), "["}},
			{"a comma deleted between resources", splice{at(`}}]}},`) + 5, at(`}}]}},`) + 6, ""}},
			{"a comma typed after the last resource", splice{at(`"t"}}`) + 5, at(`"t"}}`) + 5, ","}},
			{"a colon deleted", splice{at(`"Queue":`) + 7, at(`"Queue":`) + 8, ""}},
			{"a new resource's key typed", splice{at(`"Queue":`), at(`"Queue":`), `"New`}},
			{"a new resource without its value", splice{at(`"Queue":`), at(`"Queue":`), `"New": `}},
			{"a duplicate key before the error", splice{at(`"Queue":`), at(`"Queue":`), `"Bucket": {}, "x`}},
			{"a closing brace typed before a section's first member", splice{at(`"Env": {`), at(`"Env": {`), "}"}},
			{"the first resource's key broken", splice{at(`"Bucket": {`), at(`"Bucket": {`) + 1, ""}},
			{"a bad token in the description", splice{at(`"broken edits"`), at(`"broken edits"`), "-"}},
			{"the root's closing brace doubled", splice{strings.LastIndex(text, "}"), strings.LastIndex(text, "}"), "}"}},
			{"the output section's brace deleted", splice{at(`"Outputs": {`) + 11, at(`"Outputs": {`) + 12, ""}},
			{"a section's key broken", splice{at(`"Resources"`) + 3, at(`"Resources"`) + 3, `"`}},
			{"an escape cut", splice{at(`"t"}`) + 1, at(`"t"}`) + 1, `\u12`}},
		}
		parsing := []struct {
			name string
			e    splice
		}{
			{"a resource pasted between two", splice{at(`"Queue":`), at(`"Queue":`), `"New": {"Type": "AWS::SQS::Queue"},` + nl + "    "}},
			{"two resources joined into one", splice{at(`"AWS::SQS::Queue"}`) + 17, at(`"Topic": {`) + 10, ", "}},
			{"a resource deleted", splice{at(`"Queue":`), at(`"Topic":`), ""}},
		}
		for _, inPlace := range []bool{false, true} {
			re := ReparseDelta
			if inPlace {
				re = ReparseInPlace
			}
			for _, c := range broken {
				t.Run(c.name, func(t *testing.T) { breaksLocally(t, Parse("t.json", []byte(text)), c.e, re, 1<<20) })
			}
			for _, c := range parsing {
				old := Parse("t.json", []byte(text))
				hits := brokenStats.hits.Load()
				got, _ := reparseAndCompare(t, old, c.e, re)
				if got.HasSyntaxError() || brokenStats.hits.Load() != hits {
					t.Errorf("%s: the edit broke the template, or reparseBrokenJSON answered it", c.name)
				}
			}
		}
	}
}

// TestReparseBrokenJSONIsLocal checks the cost of the edits that break a
// 400 KB JSON template in its middle resource: reparseBrokenJSON must
// answer each and read a few KB from the edited member, not the rest of the
// document; an edit that leaves the text parsing (with a duplicate key,
// which the incremental re-read turns down) must be left to Parse after a
// few KB too (the parse catches up with the unchanged text).
func TestReparseBrokenJSONIsLocal(t *testing.T) {
	src := synth.JSON(400 << 10)
	good := Parse("t.json", src)
	res := good.Resources[len(good.Resources)/2]
	next := good.Resources[len(good.Resources)/2+1]
	edits := []splice{
		{res.TypeNode.Start + 1, res.TypeNode.Start + 1, `"`},
		{res.TypeNode.Start, res.TypeNode.Start, "x"},
		{res.Key.End, res.Key.End + 1, ""}, // a colon deleted
		{next.Key.Start, next.Key.Start, `"New`},
		{next.Key.Start, next.Key.Start, `"New": `},
		{res.Value.End, res.Value.End + 1, ""}, // the comma between resources deleted
	}
	for _, e := range edits {
		breaksLocally(t, good, e, ReparseDelta, 4<<10)
	}
	// A resource pasted under the name of the next one: a duplicate key,
	// which the re-read of the run turns down, and no syntax error.
	paste := splice{next.Key.Start, next.Key.Start, `"` + next.Key.Value + `": {"Type": "AWS::SQS::Queue"}, `}
	fed := brokenStats.fed.Load()
	// (Not compared with Parse: reflect over 400 KB of nodes is slow, and
	// the random edits compare such pastes.)
	if got, _ := ReparseDelta(good, paste.apply(src), paste.start, paste.end, len(paste.text)); got.HasSyntaxError() {
		t.Fatal("the pasted resource broke the syntax")
	}
	if fed = brokenStats.fed.Load() - fed; fed > 4<<10 {
		t.Errorf("a pasted resource: the resumed parse read %d bytes before leaving the text to Parse", fed)
	}
	if !bytes.Equal(good.Source, src) {
		t.Fatal("the edits modified the template they were made on")
	}
}
