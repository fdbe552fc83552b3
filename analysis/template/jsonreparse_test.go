package template

import (
	"encoding/binary"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/soc2ls/soc2ls/analysis/synth"
)

// jsonCasesTemplate has an entry of each section the model reads, with
// every kind of reference, a description, a transform, a section the model
// does not read (Globals) and nested objects and arrays, so that the JSON
// tests can edit each.
const jsonCasesTemplate = `{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Description": "Edit cases",
  "Transform": ["AWS::LanguageExtensions"],
  "Metadata": {"Owner": {"Team": "storage"}, "Notes": "none"},
  "Parameters": {
    "Env": {"Type": "String", "AllowedValues": ["dev", "prod"]},
    "Size": {"Type": "Number", "Default": 3}
  },
  "Conditions": {
    "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
    "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]}
  },
  "Mappings": {
    "Region": {"us-east-1": {"Ami": "ami-1"}}
  },
  "Globals": {"Function": {"Timeout": 30}},
  "Resources": {
    "Bucket": {
      "Type": "AWS::S3::Bucket",
      "Condition": "IsProd",
      "Properties": {
        "BucketName": {"Fn::Sub": "${Env}-${AWS::Region}-bucket"},
        "Tags": [{"Key": "a", "Value": "b"}]
      }
    },
    "Queue": {
      "Type": "AWS::SQS::Queue",
      "DependsOn": ["Bucket"],
      "Properties": {"DelaySeconds": {"Fn::If": ["IsProd", 0, {"Ref": "Size"}]}}
    },
    "Topic": {
      "Type": "AWS::SNS::Topic",
      "DependsOn": "Queue",
      "Properties": {
        "TopicName": {"Fn::GetAtt": ["Queue", "QueueName"]},
        "Image": {"Fn::FindInMap": ["Region", {"Ref": "AWS::Region"}, "Ami"]},
        "Empty": {},
        "None": [],
        "Flag": true,
        "Nothing": null,
        "Number": -1.5e3
      }
    }
  },
  "Outputs": {
    "Arn": {"Condition": "IsProd", "Value": {"Fn::GetAtt": ["Bucket", "Arn"]}}
  }
}
`

// jsonCorpus returns the JSON templates the incremental tests edit: every
// JSON template under testdata, jsonCasesTemplate in LF and CRLF, and
// synthetic templates.
func jsonCorpus(t testing.TB) [][]byte {
	var out [][]byte
	err := filepath.WalkDir("../../testdata", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		b, err := os.ReadFile(path)
		if err == nil && Parse("t.json", b).IsCloudFormation {
			out = append(out, b)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 10 {
		t.Fatalf("only %d JSON templates found in testdata", len(out))
	}
	return append(out, []byte(jsonCasesTemplate), []byte(strings.ReplaceAll(jsonCasesTemplate, "\n", "\r\n")),
		synth.JSON(4<<10), synth.JSON(30<<10))
}

// jsonEditAlphabet is what random edits of JSON insert: letters, JSON
// structure, whitespace and line breaks (CRLF and CR included), escapes,
// members (some of them keys every resource has, so duplicates), values,
// and a multibyte character.
var jsonEditAlphabet = []string{"x", "1", " ", "  ", "\n", "\r\n", "\r", "\t", ":", ",", "\"", "{", "}", "[", "]",
	"\\", "\\n", "\\u00e9", "\\ud83d", "é", "-", ".5", "e3", "true", "null", `"k": 1, `, `"Type": "AWS::SQS::Queue", `,
	`, "k": [1, {"a": null}]`, `{"Ref": "Bucket"}`, `{"Fn::GetAtt": ["Queue", "Arn"]}`, `"DependsOn": "Topic", `,
	`"Condition": "IsProd", `, `{"Fn::If": ["IsProd", 1, 2]}`, `, `, `": "`, "\n      "}

// jsonNodes returns the nodes of the member p in document order, its key
// included, with the scalar keys of the mappings below it.
func jsonNodes(p *Pair) []*Node {
	out := []*Node{p.Key}
	var walk func(n *Node)
	walk = func(n *Node) {
		if n == nil {
			return
		}
		out = append(out, n)
		for _, q := range n.Pairs {
			out = append(out, q.Key)
			walk(q.Value)
		}
		for _, it := range n.Items {
			walk(it)
		}
		walk(n.Arg)
	}
	walk(p.Value)
	return out
}

// jsonMember picks a member of t that an edit may re-read: an entry of a
// section (a top-level member whose value is a non-empty object), or a
// top-level member whose value is not an object. It returns the section's
// key ("" for a top-level member) and the member's index, or nil.
func jsonMember(r *rand.Rand, t *Template) (section string, index int, p *Pair) {
	if t.Root == nil || t.Root.Kind != Mapping || len(t.Root.Pairs) == 0 {
		return "", 0, nil
	}
	top := t.Root.Pairs[r.IntN(len(t.Root.Pairs))]
	if v := top.Value; v.Kind == Mapping {
		if len(v.Pairs) == 0 {
			return "", 0, nil
		}
		i := r.IntN(len(v.Pairs))
		return top.Key.Value, i, v.Pairs[i]
	}
	return "", indexOfPair(t.Root.Pairs, top), top
}

func indexOfPair(pairs []*Pair, p *Pair) int {
	for i, q := range pairs {
		if q == p {
			return i
		}
	}
	return -1
}

// jsonEdit is an edit that jsonMemberEdit made inside one member, and what
// it must give: when valid is set, the new text parses, the member's key
// stays, and the edit must take the incremental path.
type jsonEdit struct {
	e       splice
	kind    string
	section string
	index   int
	valid   bool
}

// jsonMemberEdit picks an edit within a member of t (from its key's
// opening quote to its value's end), as users make them: a letter typed in
// a string or a letter of it deleted (valid), a scalar replaced by another
// value (valid), whitespace or a line break typed between tokens (valid),
// a member inserted at the start of an object below the entry (valid
// unless its key repeats one: then a problem), the entry's whole value
// replaced (valid, but for a top-level member's by an object), a letter
// typed in the entry's key or the whole key replaced (a rename), syntax
// broken (a quote, a brace or a comma typed anywhere within), an edit from
// within the member to past its end (which a parse must read: the comma or
// bracket after it, the next key), or a random edit within the member from
// jsonEditAlphabet. ok is false when t has no
// member to edit.
func jsonMemberEdit(r *rand.Rand, t *Template) (je jsonEdit, ok bool) {
	section, index, p := jsonMember(r, t)
	if p == nil {
		return jsonEdit{}, false
	}
	je.section, je.index = section, index
	nodes := jsonNodes(p)
	// Strictly inside, where whitespace and tokens stay in the member.
	inside := func(at int) bool { return at > p.Key.Start && at < p.Value.End }
	letter := string(rune('a' + r.IntN(26)))
	keys := map[*Node]bool{}
	for _, n := range nodes {
		for _, q := range n.Pairs {
			keys[q.Key] = true
		}
	}
	var strs, scalars, objects, gaps []*Node
	for _, n := range nodes[1:] {
		if n.Kind == Scalar && n.Quoted {
			strs = append(strs, n)
		}
		if (n.Kind == Scalar || n.Kind == Null) && !keys[n] {
			scalars = append(scalars, n)
		}
		if n.Kind == Mapping || n.Kind == Intrinsic {
			objects = append(objects, n)
		}
		if inside(n.Start) && inside(n.End) {
			gaps = append(gaps, n) // a token with room around it
		}
	}
	values := []string{`"x"`, "42", "true", "null", `{"Ref": "Env"}`, `["a", 1]`, "{}", "-0.5e-3", `"\u00e9\n"`,
		`{"Type": "AWS::SNS::Topic", "DependsOn": ["Bucket"]}`}
	switch k := r.IntN(13); {
	case k < 3 && len(strs) > 0: // a letter typed in a string, or deleted
		s := strs[r.IntN(len(strs))]
		at := s.ValueSpan.Start + r.IntN(s.ValueSpan.End-s.ValueSpan.Start+1)
		if inside(at) {
			if r.IntN(3) == 0 && at < s.ValueSpan.End && t.Source[at] >= 'A' && t.Source[at] <= 'z' && t.Source[at] != '\\' {
				return jsonEdit{splice{at, at + 1, ""}, "letter deleted", section, index, true}, true
			}
			return jsonEdit{splice{at, at, letter}, "letter typed", section, index, true}, true
		}
	case k == 3 && len(scalars) > 0: // a scalar replaced
		s := scalars[r.IntN(len(scalars))]
		if inside(s.Start) && inside(s.End) {
			return jsonEdit{splice{s.Start, s.End, values[r.IntN(len(values))]}, "scalar replaced", section, index, true}, true
		}
	case k == 4 && len(gaps) > 0: // whitespace between tokens
		g := gaps[r.IntN(len(gaps))]
		at := g.Start
		if r.IntN(2) == 0 {
			at = g.End
		}
		ws := []string{" ", "\n", "\r\n", "\t", "\n        ", "\r"}
		return jsonEdit{splice{at, at, ws[r.IntN(len(ws))]}, "whitespace", section, index, true}, true
	case k == 5 && len(objects) > 0: // a member inserted at an object's start
		o := objects[r.IntN(len(objects))]
		if inside(o.Start+1) && inside(o.End) && t.Source[o.Start] == '{' {
			mem := `"New` + strings.ToUpper(letter) + `": 1`
			if r.IntN(3) == 0 {
				mem = `"Type": "AWS::SQS::Queue"` // a duplicate where the object has a Type
			}
			if o.Kind == Mapping && len(o.Pairs) > 0 || o.Kind == Intrinsic {
				mem += ", "
			}
			return jsonEdit{splice{o.Start + 1, o.Start + 1, mem}, "member inserted", section, index, o.Kind == Mapping}, true
		}
	case k == 6: // a letter typed in the key: a rename
		at := p.Key.ValueSpan.Start + r.IntN(p.Key.ValueSpan.End-p.Key.ValueSpan.Start+1)
		return jsonEdit{splice{at, at, letter}, "key typed", section, index, false}, true
	case k == 7: // the whole key replaced: a rename
		return jsonEdit{splice{p.Key.Start, p.Key.End, `"` + p.Key.Value + letter + `"`}, "key replaced", section, index, false}, true
	case k == 8: // the whole value replaced
		v := values[r.IntN(len(values))]
		return jsonEdit{splice{p.Value.Start, p.Value.End, v}, "value replaced", section, index, section != "" || v[0] != '{'}, true
	case k == 10: // across the member's end: its comma or bracket, or the next key
		at := p.Key.Start + r.IntN(p.Value.End-p.Key.Start+1)
		end := min(len(t.Source), p.Value.End+1+r.IntN(3))
		return jsonEdit{splice{at, end, jsonEditAlphabet[r.IntN(len(jsonEditAlphabet))]}, "across the end", section, index, false}, true
	case k == 9: // the syntax broken
		at := p.Key.Start + r.IntN(p.Value.End-p.Key.Start+1)
		breaks := []string{`"`, "{", "}", ",", "]", ":", "\\"}
		return jsonEdit{splice{at, at, breaks[r.IntN(len(breaks))]}, "syntax broken", section, index, false}, true
	}
	// A random edit within the member.
	at := p.Key.Start + r.IntN(p.Value.End-p.Key.Start+1)
	end := min(p.Value.End, at+r.IntN(6))
	return jsonEdit{splice{at, end, jsonEditAlphabet[r.IntN(len(jsonEditAlphabet))]}, "random within", section, index, false}, true
}

// applyEditDelta is applyEdit that also returns the delta.
func applyEditDelta(t *testing.T, cur *Template, e splice, re reparser, inPlace bool) (*Template, *Delta) {
	t.Helper()
	var d *Delta
	capture := func(old *Template, src []byte, start, end, n int) (*Template, *Delta) {
		var got *Template
		got, d = re(old, src, start, end, n)
		return got, d
	}
	got, _ := applyEdit(t, cur, e, capture, inPlace)
	return got, d
}

// jsonEditSequences makes sequences of edits over the JSON corpus with re,
// each on the last one's result, and checks after each that the template
// equals a parse of the same text from scratch, and the delta and the old
// template what they must be (applyEdit); that every edit jsonMemberEdit
// calls valid took the incremental path when the new text parses (with
// duplicate keys inside the entry or not), with the delta naming the one
// entry edited; and that most edits inside members did. Some edits are
// anywhere (randomEdit), to cover the fallbacks; an edit that leaves
// problems is undone, as users do.
func jsonEditSequences(t *testing.T, re reparser, inPlace bool, seed uint64, perTemplate int) {
	r := rand.New(rand.NewPCG(seed, 3))
	kinds := map[string][2]int{}
	edits, incremental := 0, 0
	for ti, src := range jsonCorpus(t) {
		cur := Parse("t.json", src)
		for range perTemplate {
			je, ok := jsonMemberEdit(r, cur)
			if !ok || r.IntN(8) == 0 {
				je = jsonEdit{e: randomEdit(r, cur.Source), kind: "anywhere"}
			}
			clean := len(cur.Problems) == 0 && cur.Root != nil
			removed := string(cur.Source[je.e.start:je.e.end])
			var d *Delta
			cur, d = applyEditDelta(t, cur, je.e, re, inPlace)
			edits++
			k := kinds[je.kind]
			k[0]++
			switch {
			case d != nil:
				incremental++
				k[1]++
				if je.kind != "anywhere" && (d.Section != je.section || d.Index != je.index || len(d.Old) != 1 || d.New != 1) {
					t.Fatalf("template %d: edit %+v (%s, %q) in entry %d of %q gave a delta of %d entries at %d of %q, replaced by %d",
						ti, je.e, je.kind, je.e.text, je.index, je.section, len(d.Old), d.Index, d.Section, d.New)
				}
			case je.valid && clean && cur.Root != nil:
				t.Fatalf("template %d: edit %+v (%s, %q) inside entry %d of %q, whose new text parses, was parsed from scratch",
					ti, je.e, je.kind, je.e.text, je.index, je.section)
			}
			kinds[je.kind] = k
			if len(cur.Problems) > 0 || cur.Root == nil {
				cur, _ = applyEdit(t, cur, splice{je.e.start, je.e.start + len(je.e.text), removed}, re, inPlace)
				edits++
			}
		}
	}
	t.Logf("%d edits, %d incremental", edits, incremental)
	inside, insideInc := 0, 0
	for _, kind := range slices.Sorted(maps.Keys(kinds)) {
		k := kinds[kind]
		t.Logf("%s: %d of %d incremental", kind, k[1], k[0])
		if kind != "anywhere" {
			inside += k[0]
			insideInc += k[1]
		}
	}
	if insideInc < inside/2 {
		t.Errorf("only %d of %d edits inside members took the incremental path", insideInc, inside)
	}
}

func TestReparseJSONRandomEdits(t *testing.T) { jsonEditSequences(t, ReparseDelta, false, 1, 25) }

func TestReparseJSONInPlaceRandomEdits(t *testing.T) {
	jsonEditSequences(t, ReparseInPlace, true, 1, 25)
}

// TestReparseJSONUnsettledRandomEdits runs other sequences with
// ReparseInPlaceUnsettled, checking what it settles at once before it
// settles the rest (see unsettledReparser).
func TestReparseJSONUnsettledRandomEdits(t *testing.T) {
	jsonEditSequences(t, unsettledReparser(t, func(n int) []int {
		if n == 0 {
			return nil
		}
		return []int{0, n / 2, n - 1}
	}), true, 5, 12)
}

// TestReparseJSONCases makes each kind of edit of a JSON template, with
// ReparseDelta, ReparseInPlace and ReparseInPlaceUnsettled, in LF and CRLF:
// each must equal a parse, and take the incremental path with the delta
// given, but for those a parse from scratch must read (fallback). Then the
// same edits are chained, each on the last one's result.
func TestReparseJSONCases(t *testing.T) {
	t.Run("LF", func(t *testing.T) { reparseJSONCases(t, jsonCasesTemplate) })
	t.Run("CRLF", func(t *testing.T) { reparseJSONCases(t, strings.ReplaceAll(jsonCasesTemplate, "\n", "\r\n")) })
}

func reparseJSONCases(t *testing.T, text string) {
	src := []byte(text)
	nl := "\n"
	if strings.Contains(text, "\r") {
		nl = "\r\n"
	}
	at := func(s string) int {
		s = strings.ReplaceAll(s, "\n", nl)
		i := strings.Index(text, s)
		if i < 0 || strings.Contains(text[i+1:], s) {
			t.Fatalf("%q is not once in the template", s)
		}
		return i
	}
	at1 := func(s string) int { return at(s) + 1 } // after a key's opening quote
	topic := Parse("t.json", src).Resources[2].Value.Span
	type want struct {
		section string
		index   int
		trivia  bool
	}
	// The cases whose delta replaces a run of entries: how many old ones
	// by how many new ones (one by one for the others).
	runs := map[string][2]int{"a member inserted before a key": {1, 2}, "an entry's value closed early, a member after it": {1, 2},
		"a resource typed before the first": {1, 2}, "a resource deleted": {2, 1}, "the last resource cut with its comma": {2, 1}, "two resources pasted at the end": {1, 3}}
	fallback := want{index: -1}
	cases := []struct {
		name string
		e    splice
		want want
	}{
		// Inside a value.
		{"a letter typed in a resource's type", splice{at("Bucket\",\n      \"Condition"), at("Bucket\",\n      \"Condition"), "x"}, want{"Resources", 0, false}},
		{"a resource's type replaced", splice{at("AWS::SQS::Queue"), at("AWS::SQS::Queue") + 15, "AWS::SNS::Topic"}, want{"Resources", 1, false}},
		{"a parameter's type, before every other section", splice{at("String"), at("String") + 6, "Number"}, want{"Parameters", 0, false}},
		{"an allowed value added", splice{at(`"dev", "prod"]`) + 13, at(`"dev", "prod"]`) + 13, `, "test"`}, want{"Parameters", 0, false}},
		{"a number typed in a default", splice{at("3}"), at("3}"), "1"}, want{"Parameters", 1, false}},
		{"a condition's reference renamed", splice{at(`"Env"}, "prod"`) + 1, at(`"Env"}, "prod"`) + 4, "Size"}, want{"Conditions", 0, false}},
		{"a mapping's value", splice{at("ami-1"), at("ami-1") + 5, "ami-2"}, want{"Mappings", 0, false}},
		{"a Sub variable added", splice{at("-bucket\""), at("-bucket\""), "-${Size}"}, want{"Resources", 0, false}},
		{"a DependsOn added", splice{at(`["Bucket"]`) + 9, at(`["Bucket"]`) + 9, `, "Topic"`}, want{"Resources", 1, false}},
		{"references removed", splice{at(`{"Fn::If"`), at(`{"Ref": "Size"}]}`) + 17, "5"}, want{"Resources", 1, false}},
		{"a reference's target, same length", splice{at(`"Queue", "QueueName"`) + 1, at(`"Queue", "QueueName"`) + 6, "Qveue"}, want{"Resources", 2, false}},
		{"a condition attribute removed", splice{at(`"Condition": "IsProd",` + "\n      \"Properties"), at("\"Properties\": {\n        \"BucketName"), ""}, want{"Resources", 0, false}},
		{"a member typed in an empty object", splice{at("{},") + 1, at("{},") + 1, `"a": [1]`}, want{"Resources", 2, false}},
		{"an item typed in an empty array", splice{at("[],") + 1, at("[],") + 1, `{"Ref": "Bucket"}`}, want{"Resources", 2, false}},
		{"a scalar replaced by an intrinsic", splice{at("true,"), at("true,") + 4, `{"Fn::If": ["IsDev", true, false]}`}, want{"Resources", 2, false}},
		{"a number changed", splice{at("-1.5e3"), at("-1.5e3") + 6, "7"}, want{"Resources", 2, false}},
		{"an escape typed in a string", splice{at("a\", \"Value"), at("a\", \"Value"), `\u00e9\n\ud83d\ude00`}, want{"Resources", 0, false}},
		{"a duplicate key inside a resource, a problem that says the first one's line", splice{at("\"Properties\": {\n        \"TopicName"), at("\"Properties\": {\n        \"TopicName"), `"Type": "X",` + nl + "      "}, want{"Resources", 2, false}},
		{"a duplicate key in a nested object", splice{at(`{"Key": "a"`) + 1, at(`{"Key": "a"`) + 1, `"Value": 1, `}, want{"Resources", 0, false}},
		{"the output's condition", splice{at(`"IsProd", "Value"`) + 3, at(`"IsProd", "Value"`) + 7, "Dev"}, want{"Outputs", 0, false}},
		{"the last value of the last section", splice{at(`"Bucket", "Arn"`) + 1, at(`"Bucket", "Arn"`) + 1, "My"}, want{"Outputs", 0, false}},
		{"a metadata entry", splice{at("storage"), at("storage"), "x"}, want{"Metadata", 0, false}},
		{"an entry of a section the model does not read", splice{at("30}"), at("30}") + 2, "60"}, want{"Globals", 0, false}},
		// Whitespace only: the same tree.
		{"a space typed in a value", splice{at(`"Type": "AWS::SNS::Topic"`) + 7, at(`"Type": "AWS::SNS::Topic"`) + 7, " "}, want{"Resources", 2, true}},
		// Whitespace typed right before a node moves its start, which a
		// finding's offset at the edit's end does not follow: no trivia.
		{"a line break typed in a value", splice{at(`{"Ami"`) + 1, at(`{"Ami"`) + 1, nl + "      "}, want{"Mappings", 0, false}},
		{"a CR typed in a value", splice{at(`"Team"`), at(`"Team"`), "\r"}, want{"Metadata", 0, false}},
		{"whitespace between a key and its value", splice{at(`"Size": {`) + 7, at(`"Size": {`) + 7, "  "}, want{"Parameters", 1, true}},
		{"a line break deleted", splice{at("\"Bucket\": {\n") + 11, at("\"Bucket\": {\n") + 11 + len(nl), ""}, want{"Resources", 0, true}},
		// Keys.
		{"a logical id typed in", splice{at1(`"Queue": {`) + 5, at1(`"Queue": {`) + 5, "2"}, want{"Resources", 1, false}},
		{"a parameter renamed", splice{at1(`"Size": {`), at1(`"Size": {`) + 4, "Count"}, want{"Parameters", 1, false}},
		{"a letter of a condition's name deleted", splice{at1(`"IsDev"`), at1(`"IsDev"`) + 1, ""}, want{"Conditions", 1, false}},
		{"a key inside a resource renamed", splice{at1(`"DelaySeconds"`), at1(`"DelaySeconds"`) + 5, "Pause"}, want{"Resources", 1, false}},
		// Top-level members that are no sections.
		{"the description", splice{at("Edit cases") + 4, at("Edit cases") + 4, "ed"}, want{"", 1, false}},
		{"the format version", splice{at("2010-09-09"), at("2010-09-09") + 10, "2010-09-10"}, want{"", 0, false}},
		{"a transform added", splice{at(`Extensions"]`) + 11, at(`Extensions"]`) + 11, `, "AWS::Serverless-2016-10-31"`}, want{"", 2, false}},
		{"a space in the transform", splice{at(`["AWS::Lang`) + 1, at(`["AWS::Lang`) + 1, " "}, want{"", 2, false}},
		// Whole keys and values.
		{"a key replaced whole", splice{at(`"Queue": {`), at(`"Queue": {`) + 7, `"Queue2"`}, want{"Resources", 1, false}},
		{"a key replaced by itself", splice{at(`"Queue": {`), at(`"Queue": {`) + 7, `"Queue"`}, want{"Resources", 1, true}},
		{"a value replaced whole", splice{at(`"Edit cases"`), at(`"Edit cases"`) + 12, `"Other"`}, want{"", 1, false}},
		{"a resource replaced whole", splice{topic.Start, topic.End, `{"Type": "AWS::SNS::Topic"}`}, want{"Resources", 2, false}},
		{"a member replaced whole", splice{at(`"Size": {`), at(`"Size": {`) + 40, `"Size": {"Type": "String"}`}, want{"Parameters", 1, false}},
		{"a value's closing brace retyped", splice{at(`"ami-1"}}`) + 8, at(`"ami-1"}}`) + 9, "}"}, want{"Mappings", 0, true}},
		{"a value spelled with an escape", splice{at(`"ami-1"}}`), at(`"ami-1"}}`) + 7, `"ami\u002d1"`}, want{"Mappings", 0, false}},
		// From scratch.
		{"a key's opening quote", splice{at(`"Queue": {`), at(`"Queue": {`) + 1, "'"}, fallback},
		{"a member inserted before a key", splice{at(`"Queue": {`), at(`"Queue": {`), `"New": 1, `}, want{"Resources", 1, false}},
		{"a member deleted whole", splice{at(`"Size": {`), at(`"Size": {`) + 40, ""}, fallback},
		{"the comma after a value replaced by a bracket", splice{at(`"none"},`) + 7, at(`"none"},`) + 8, "]"}, fallback},
		{"the comma after an entry replaced by a space", splice{at(`"none"},`) + 7, at(`"none"},`) + 8, " "}, fallback},
		{"the comma after an entry and the next key", splice{at(`"Default": 3}`) + 13, at(`"Default": 3}`) + 20, ""}, fallback},
		{"a value's closing brace", splice{at("\"Ami\": \"ami-1\"}}") + 15, at("\"Ami\": \"ami-1\"}}") + 16, ""}, fallback},
		{"a resource typed before the first", splice{at(`"Resources": {`) + 14, at(`"Resources": {`) + 14, nl + `    "First": {"Type": "AWS::SQS::Queue"},`}, want{"Resources", 0, false}},
		{"a blank line after a section's brace", splice{at(`"Parameters": {`) + 15, at(`"Parameters": {`) + 15, nl}, want{"Parameters", 0, true}},
		{"a resource deleted", splice{at(`"Queue": {`), at(`"Topic": {`), ""}, want{"Resources", 1, false}},
		{"the last resource cut with its comma", splice{topic.Start - len("},\n    \"Topic\": ") - len(nl) + 2, topic.End, ""}, want{"Resources", 1, false}},
		{"two resources pasted at the end", splice{topic.End, topic.End, `, "A": {"Type": "AWS::SQS::Queue"}, "B": {"Type": "AWS::SQS::Queue"}`}, want{"Resources", 2, false}},
		{"a space before an entry's key", splice{at(`"Queue": {`), at(`"Queue": {`), " "}, want{"Resources", 1, false}},
		{"a space after an entry's value", splice{at("\"Ami\": \"ami-1\"}}") + 16, at("\"Ami\": \"ami-1\"}}") + 16, " "}, want{"Mappings", 0, true}},
		{"across two entries", splice{at(`"Env"}, "prod"]}`) + 10, at1(`"IsDev"`) + 2, ""}, fallback},
		{"a section's key", splice{at1(`"Outputs"`), at1(`"Outputs"`), "x"}, fallback},
		{"a root key renamed", splice{at1(`"Description"`), at1(`"Description"`) + 1, "d"}, fallback},
		{"a description replaced by an object", splice{at(`"Edit cases"`), at(`"Edit cases"`) + 12, `{"a": 1}`}, fallback},
		{"a resource renamed as another", splice{at1(`"Topic": {`), at1(`"Topic": {`) + 5, "Queue"}, want{"Resources", 2, false}},
		{"the only mapping renamed as a function", splice{at1(`"Region": {`), at1(`"Region": {`) + 6, "Ref"}, fallback},
		{"a syntax error in a value", splice{at("ami-1") + 5, at("ami-1") + 5, `"`}, fallback},
		{"a value ended early", splice{at(`"Notes": "none"`), at(`"Notes": "none"`), "}, \"X\": {"}, fallback},
		{"an entry's value closed early, a member after it", splice{at("\"Condition\": \"IsProd\",\n      \"Properties"), at("\"Condition\": \"IsProd\",\n      \"Properties"), `"A": 1}, "B": {`}, want{"Resources", 0, false}},
		{"trailing text after a value", splice{at("3}"), at("3}") + 1, "3 4"}, fallback},
	}
	reparsers := map[string]reparser{"copy": ReparseDelta, "in place": ReparseInPlace,
		"unsettled": unsettledReparser(t, func(n int) []int { return []int{0, n - 1} })}
	for _, c := range cases {
		for mode, re := range reparsers {
			_, d := applyEditDelta(t, Parse("t.json", src), c.e, re, mode != "copy")
			switch {
			case c.name == "a resource renamed as another" && mode != "copy":
				// A key repeated in its section parses from scratch in
				// place (see ReparseInPlaceUnsettled).
				if d != nil {
					t.Errorf("%s (%s): incremental in place", c.name, mode)
				}
			case c.want.index < 0 && d != nil:
				t.Errorf("%s (%s): incremental, want a parse from scratch", c.name, mode)
			case c.want.index < 0:
			case d == nil:
				t.Errorf("%s (%s): parsed from scratch", c.name, mode)
			case d.Section != c.want.section || d.Index != c.want.index || len(d.Old) != max(runs[c.name][0], 1) || d.New != max(runs[c.name][1], 1) || d.Trivia != c.want.trivia:
				t.Errorf("%s (%s): delta replaces %d entries at %d of %q by %d (trivia %v), want %d at %d of %q by %d (trivia %v)",
					c.name, mode, len(d.Old), d.Index, d.Section, d.New, d.Trivia, max(runs[c.name][0], 1), c.want.index, c.want.section, max(runs[c.name][1], 1), c.want.trivia)
			}
		}
	}
	// The same edits one after another, each on the last one's result:
	// offsets are found again in the current text.
	for mode, re := range reparsers {
		cur := Parse("t.json", src)
		for _, c := range cases {
			old := string(src[c.e.start:c.e.end])
			i := strings.Index(string(cur.Source), text[max(0, c.e.start-8):c.e.start]+old+text[c.e.end:min(c.e.end+12, len(src))])
			if i < 0 {
				continue // an earlier edit changed the place
			}
			i += min(8, c.e.start)
			cur, _ = applyEdit(t, cur, splice{i, i + len(old), c.e.text}, re, mode != "copy")
			if len(cur.Problems) > 0 {
				cur, _ = applyEdit(t, cur, splice{i, i + len(c.e.text), old}, re, mode != "copy")
			}
		}
	}
}

// TestReparseJSONOneCharacter types and deletes one character inside every
// thirteenth resource of a synthetic JSON template, and the last one, the edit the language
// server sees most, with each re-parse: it must always be incremental, the
// delta must name the resource, and the re-read must be proportional to
// the resource, not to the template: in place, the tree is not copied, the
// parser allocated the resource's nodes and no more, the chunks of nodes
// the arena sweeps grow with the resources edited, not with the edits, and
// an unsettled re-parse moves ahead the nodes of one resource (the last:
// Resources is the last section), not those of all that follow.
func TestReparseJSONOneCharacter(t *testing.T) {
	for _, mode := range []string{"copy", "in place", "unsettled"} {
		re := ReparseDelta
		switch mode {
		case "in place":
			re = ReparseInPlace
		case "unsettled":
			re = func(old *Template, src []byte, start, end, n int) (*Template, *Delta) {
				got, d := ReparseInPlaceUnsettled(old, src, start, end, n)
				if last := got.Resources[len(got.Resources)-1]; d != nil && got.MovedAhead() > len(jsonNodes(&Pair{Key: last.Key, Value: last.Value})) {
					t.Fatalf("an unsettled re-parse moved %d nodes ahead, more than the last resource's", got.MovedAhead())
				}
				got.Settle()
				return got, d
			}
		}
		inPlace := mode != "copy"
		cur := Parse("t.json", synth.JSON(30<<10))
		edited := 0
		for i := range cur.Resources {
			res := cur.Resources[i]
			if i%13 != 0 && i != len(cur.Resources)-1 {
				continue
			}
			at := res.TypeNode.End - 1 // before the closing quote
			root := cur.Root
			for _, e := range []splice{{at, at, "x"}, {at, at + 1, ""}} {
				var d *Delta
				if cur, d = applyEditDelta(t, cur, e, re, inPlace); d == nil {
					t.Fatalf("%s: editing resource %s was not incremental", mode, res.Name)
				}
				if d.Section != "Resources" || d.Index != i || len(d.Old) != 1 || d.New != 1 || d.Old[0].Key.Value != res.Name {
					t.Fatalf("%s: the delta of an edit in resource %d (%s) replaces %d entries at %d of %q by %d", mode, i, res.Name, len(d.Old), d.Index, d.Section, d.New)
				}
				if !inPlace {
					continue
				}
				if cur.Root != root {
					t.Fatalf("%s: ReparseInPlace copied the tree for an edit in resource %s", mode, res.Name)
				}
				// The parser allocated the resource's nodes, and those of
				// the long-form calls it dropped (a mapping and a key each).
				run := cur.arena.runs[cur.arena.entry[cur.Resources[i].Key]]
				nodes, calls := 0, 0
				for _, c := range run.chunks {
					nodes += len(c.nodes)
				}
				tree := jsonNodes(&Pair{Key: cur.Resources[i].Key, Value: cur.Resources[i].Value})
				for _, n := range tree {
					if n.Kind == Intrinsic {
						calls++
					}
				}
				if nodes != len(tree)+2*calls {
					t.Fatalf("%s: the re-read of resource %s allocated %d nodes, its tree has %d and %d calls", mode, res.Name, nodes, len(tree), calls)
				}
			}
			edited++
			if inPlace && len(cur.arena.runs) != edited {
				t.Fatalf("%s: after edits in %d resources, the arena holds the chunks of %d runs", mode, edited, len(cur.arena.runs))
			}
		}
	}
}

// jsonFuzzCorpus is jsonCorpus without the larger synthetic template, so
// that the fuzzer runs fast.
func jsonFuzzCorpus(t testing.TB) [][]byte {
	c := jsonCorpus(t)
	return c[:len(c)-1]
}

// FuzzReparseJSON applies the edits the fuzzer encodes to a JSON corpus
// template, with ReparseDelta and, in a chain, with ReparseInPlaceUnsettled
// (settled after a check of what it settles at once), and checks each result
// against a parse from scratch (applyEdit). Each edit is 4 bytes of
// position, 1 of deletion length, 1 choosing the inserted text from
// jsonEditAlphabet; a position from 0x80000000 on is taken inside a member:
// the low bits pick one of the member's nodes, and the edit starts inside
// it.
func FuzzReparseJSON(f *testing.F) {
	f.Add(uint8(0), []byte{0, 0, 0, 0x80, 0, 0})
	f.Add(uint8(1), []byte{0x10, 0, 0, 0x80, 1, 5, 0x40, 1, 0, 0x80, 0, 26})
	f.Add(uint8(2), []byte{0xff, 0, 0, 0, 0, 11})
	f.Add(uint8(3), []byte{7, 1, 0, 0x80, 3, 33, 7, 1, 0, 0x80, 0, 4})
	corpus := jsonFuzzCorpus(f)
	f.Fuzz(func(t *testing.T, which uint8, script []byte) {
		src := corpus[int(which)%len(corpus)]
		cur, curIP := Parse("t.json", src), Parse("t.json", src)
		unsettled := unsettledReparser(t, func(n int) []int {
			if n == 0 {
				return nil
			}
			return []int{n / 2}
		})
		for range 12 {
			if len(script) < 6 {
				return
			}
			e := fuzzJSONEdit(cur, script)
			cur, _ = applyEdit(t, cur, e, ReparseDelta, false)
			curIP, _ = applyEdit(t, curIP, e, unsettled, true)
			script = script[6:]
		}
	})
}

// fuzzJSONEdit decodes one edit of FuzzReparseJSON.
func fuzzJSONEdit(t *Template, script []byte) splice {
	n := len(t.Source)
	word := binary.LittleEndian.Uint32(script)
	pos := int(word) % (n + 1)
	if word >= 0x80000000 && t.Root != nil && t.Root.Kind == Mapping && len(t.Root.Pairs) > 0 {
		var nodes []*Node
		for _, p := range t.Root.Pairs {
			nodes = append(nodes, jsonNodes(p)...)
		}
		nd := nodes[int(word&0xffff)%len(nodes)]
		if nd.End > nd.Start+1 {
			pos = nd.Start + 1 + int(word>>16&0x7fff)%(nd.End-nd.Start-1)
		}
	}
	end := min(n, pos+int(script[4]%16))
	return splice{pos, end, jsonEditAlphabet[int(script[5])%len(jsonEditAlphabet)]}
}

// TestReparseJSONNestingLimit edits a resource whose value nests arrays up
// to the parser's limit: the re-read must count the levels around the
// member (the root's and the section's objects), so that one more level
// fails there as in a parse, and one less is incremental.
func TestReparseJSONNestingLimit(t *testing.T) {
	// The root, Resources and the resource are 3 levels: the arrays, the
	// value of Properties, take the rest.
	k := maxDepth - 3
	text := `{"Resources": {"A": {"Type": "AWS::S3::Bucket", "Properties": ` + strings.Repeat("[", k) + strings.Repeat("]", k) + `}}}`
	if tp := Parse("t.json", []byte(text)); len(tp.Problems) > 0 {
		t.Fatalf("the template at the limit does not parse: %s", tp.Problems[0].Message)
	}
	mid := strings.Index(text, "[]")
	for _, re := range []reparser{ReparseDelta, ReparseInPlace} {
		if _, d := applyEditDelta(t, Parse("t.json", []byte(text)), splice{mid + 1, mid + 1, "[]"}, re, true); d != nil {
			t.Error("a level past the limit was re-read incrementally")
		}
		if _, d := applyEditDelta(t, Parse("t.json", []byte(text)), splice{mid, mid + 2, "1"}, re, true); d == nil {
			t.Error("a level less was parsed from scratch")
		}
	}
}
