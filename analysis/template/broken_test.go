package template

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/soc2ls/soc2ls/analysis/synth"
)

// brokenTexts are what TestReparseBrokenMatchesParse and FuzzReparseBroken
// type to break a template's syntax: unclosed flow collections and quotes,
// stray indicators, a tab, lines at a column of their own, indicators
// without their names, half-typed flow mappings, and what closes nothing.
var brokenTexts = []string{"[", "{", "'", "\"", "]", "}", ",", ": x", ": : x", "key: : x", "- ", "? ", "\t", "\tx",
	"\n x", "\nx", "\n  y", "\n   - z", "{a: ", "{a: [b", "[a, {b: ", "[a: b", "'x''", "\"x\\", "!", "&", "*", "& x", "*x",
	"|", ">", "|9", "%", "@", "`", "!!", "!<", "---", "...", "\n---\n", "\n...\n", "#x", ":", "- [", "{]", "[}",
	"\r", "\r\n x", "é[", "Key: [a,\n  b"}

// entryPositions returns where TestReparseBrokenMatchesParse edits a
// template: in and after the key of each root pair and of the first,
// middle and last entries of each section of entries, at their values'
// starts, middles and ends, at the start, the content and the end of
// their second line, and in their last line.
func entryPositions(tp *Template) []int {
	src := tp.Source
	var out []int
	add := func(offs ...int) {
		for _, o := range offs {
			if o >= 0 && o <= len(src) {
				out = append(out, o)
			}
		}
	}
	// In and after an entry's key, at its value, on its lines.
	entry := func(p *Pair) {
		k, v := p.Key, p.Value
		add(k.Start+1, k.End, k.End+1, v.Start, v.End, (v.Start+v.End)/2)
		if nl := nextLine(src, k.Start); nl < v.End {
			add(nl, nl+1, lineEnd(src, nl))
			if c := contentColumn(src, nl); c > 0 {
				add(nl + c)
			}
		}
		if ls := lineStartOf(src, v.End); ls > k.Start {
			add(ls, ls+contentColumn(src, ls)+1)
		}
	}
	for i, sec := range tp.Root.Pairs {
		entry(sec)
		if _, ok := sectionLevel(src, tp.Root, i); !ok {
			continue
		}
		ps := sec.Value.Pairs
		for _, k := range slices.Compact([]int{0, len(ps) / 2, len(ps) - 1}) {
			entry(ps[k])
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// crlf returns src with CRLF line breaks.
func crlf(src []byte) []byte {
	return bytes.ReplaceAll(src, []byte("\n"), []byte("\r\n"))
}

// TestReparseBrokenMatchesParse breaks the syntax of the corpus templates
// in many ways and places (see brokenTexts and entryPositions: entries of
// every section, first, middle and last, their keys, values and lines, the
// root's scalars, the sections' key lines), with LF and CRLF line breaks,
// each edit made on the good template, as the language server makes them:
// each result, taken from reparseBroken or from Parse, must equal Parse of
// the same text (problems, spans, messages, lines, model), and leave the
// old template as it was. And reparseBroken must answer for most of the
// edits that break the syntax, so that the test is not vacuous.
func TestReparseBrokenMatchesParse(t *testing.T) {
	corpus := reparseCorpus(t)
	for i := range corpus {
		if i%5 == 0 {
			corpus = append(corpus, crlf(corpus[i]))
		}
	}
	corpus = append(corpus, []byte(reparseCasesTemplate), crlf([]byte(reparseCasesTemplate)), crlf(synth.YAML(4<<10)),
		append([]byte("\xEF\xBB\xBF"), synth.YAML(4<<10)...), append([]byte("# top\n\n"), synth.YAML(4<<10)...),
		append([]byte("---\n"), synth.YAML(4<<10)...))
	r := rand.New(rand.NewPCG(3, 4))
	perPosition := 2
	if testing.Short() {
		perPosition = 1
	}
	edits, broken, answered := 0, 0, 0
	for ti, src := range corpus {
		old := Parse("t.yaml", src)
		if !old.fastYAML || len(old.Problems) > 0 || old.Root == nil || old.Root.Kind != Mapping {
			continue
		}
		// oldIP is consumed by the in-place edits that are incremental
		// (and then parsed again); the others must leave both templates
		// as they were, which is checked once all are made.
		oldIP := Parse("t.yaml", src)
		positions := entryPositions(old)
		if len(src) < 8<<10 {
			// The small templates (most of testdata) are many, and alike:
			// a sample of their positions.
			r.Shuffle(len(positions), func(i, j int) { positions[i], positions[j] = positions[j], positions[i] })
			positions = positions[:min(len(positions), 10)]
		}
		for pi, pos := range positions {
			for k := range perPosition {
				e := splice{pos, pos, brokenTexts[r.IntN(len(brokenTexts))]}
				if k == 1 && pos < len(src) {
					e.end = pos + 1 // replace the byte there
				}
				cur, re := old, ReparseDelta
				if (ti+pi+k)%2 == 1 {
					cur, re = oldIP, ReparseInPlace
				}
				hits := brokenStats.hits.Load()
				got, d := reparseAndCompare(t, cur, e, re)
				if d != nil && cur == oldIP {
					oldIP = Parse("t.yaml", src)
				}
				edits++
				if got.HasSyntaxError() {
					broken++
				}
				if brokenStats.hits.Load() > hits {
					answered++
					if !got.HasSyntaxError() || d != nil {
						t.Fatalf("edit %+v: reparseBroken answered for a template without a syntax error", e)
					}
				}
			}
		}
		want := Parse("t.yaml", src)
		if diff := diffTemplates(old, want); diff != "" {
			t.Fatalf("template %d: the edits modified the template ReparseDelta was given (its %s)", ti, diff)
		}
		if diff := diffTemplates(oldIP, want); diff != "" {
			t.Fatalf("template %d: the edits parsed from scratch modified the template ReparseInPlace was given (its %s)", ti, diff)
		}
	}
	t.Logf("%d edits, %d with a syntax error, %d of them answered without a parse", edits, broken, answered)
	if answered < broken/2 {
		t.Errorf("reparseBroken answered for %d of %d edits that broke the syntax", answered, broken)
	}
}

// reparseAndCompare applies e to cur with re and checks the result against
// a parse from scratch of the new text. (applyEdit also checks the delta
// against a parse of the old text, and that a parse from scratch leaves
// the old template as it was, which costs a comparison of the whole old
// template per edit: the tests that make many edits on one template check
// it once, after them.)
func reparseAndCompare(t *testing.T, cur *Template, e splice, re reparser) (*Template, *Delta) {
	t.Helper()
	next := e.apply(cur.Source)
	got, d := re(cur, next, e.start, e.end, len(e.text))
	if diff := diffTemplates(got, Parse(cur.Filename, next)); diff != "" {
		t.Fatalf("after edit %+v (%q), the template differs from a parse from scratch in its %s\ntext:\n%s", e, e.text, diff, next)
	}
	return got, d
}

// TestReparseBrokenIsLocal checks the cost of the edits that break the
// syntax of a 400 KB template in its middle resource, as the language
// server makes them (on the last good template): reparseBroken must answer
// each of them, and feed yaml.v3 a few KB of the real text, not the
// document (a regression to parses from scratch fails here, whatever the
// machine's speed).
func TestReparseBrokenIsLocal(t *testing.T) {
	src := synth.YAML(400 << 10)
	good := Parse("t.yaml", src)
	res := good.Resources[len(good.Resources)/2]
	props := res.Properties.Pairs[0]
	keyLine := lineStartOf(src, res.Key.Start)
	next := good.Resources[len(good.Resources)/2+1]
	edits := []splice{
		{res.TypeNode.Start, res.TypeNode.Start, "["},
		{res.TypeNode.Start, res.TypeNode.Start, "{a: "},
		{props.Value.Start, props.Value.Start, "{"},
		{props.Value.End, props.Value.End, ": x"},
		{props.Key.End, props.Key.End + 1, ""}, // a colon deleted
		{lineStartOf(src, props.Key.Start), lineStartOf(src, props.Key.Start), "- "},
		{lineStartOf(src, props.Key.Start), lineStartOf(src, props.Key.Start), " x\n"}, // a line at column 1
		{res.Key.End + 1, res.Key.End + 1, " [a"},
		{keyLine, keyLine, "\t"}, // a tab in the indentation
		{next.TypeNode.Start, next.TypeNode.Start, "'a' b"},
		{good.Sections["Description"].Value.End, good.Sections["Description"].Value.End, ": x"},
	}
	goodIP := Parse("t.yaml", src)
	for _, inPlace := range []bool{false, true} {
		old, re := good, ReparseDelta
		if inPlace {
			old, re = goodIP, ReparseInPlace
		}
		for _, e := range edits {
			breaksLocally(t, old, e, re, 16<<10)
		}
	}
	// (diffTemplates would compare 400 KB of nodes with reflect, slowly.)
	want := Parse("t.yaml", src)
	for _, tp := range []*Template{good, goodIP} {
		if !bytes.Equal(tp.Source, src) || !slices.Equal(tp.Lines.starts, want.Lines.starts) || diffNodes("$", tp.Root, want.Root) != "" {
			t.Fatal("the edits modified the template they were made on")
		}
	}
}

// breaksLocally applies e, an edit that breaks the syntax of old, with re,
// and checks that the result is Parse's, found by reparseBroken or
// reparseBrokenJSON after reading at most limit bytes of the new text.
func breaksLocally(t *testing.T, old *Template, e splice, re reparser, limit int64) {
	t.Helper()
	hits, fed := brokenStats.hits.Load(), brokenStats.fed.Load()
	got, d := reparseAndCompare(t, old, e, re)
	fed = brokenStats.fed.Load() - fed
	switch {
	case d != nil || !got.HasSyntaxError():
		t.Fatalf("edit %+v (%q) did not break the template", e, e.text)
	case brokenStats.hits.Load() == hits:
		t.Errorf("edit %+v (%q): the syntax error %q was found by a parse of the whole text", e, e.text, got.Problems[len(got.Problems)-1].Message)
	case fed > limit:
		t.Errorf("edit %+v (%q): the error was found after reading %d bytes of a %d-byte text", e, e.text, fed, len(got.Source))
	}
}

// lastGood is what the language server holds while the text is broken: the
// last template that parsed, and the text since.
type lastGood struct {
	good *Template
	text []byte
}

// edit applies e to the current text and re-parses it relative to the
// last good template, the edit region being everything that changed since
// (found here as the common prefix and suffix of the two texts), widened
// by up to wider bytes on each side (the server's region, composed edit
// after edit, may be wider than the change).
func (lg *lastGood) edit(t *testing.T, e splice, inPlace bool, wider ...int) {
	t.Helper()
	lg.text = e.apply(lg.text)
	old := lg.good.Source
	p := 0
	for p < len(old) && p < len(lg.text) && old[p] == lg.text[p] {
		p++
	}
	s := 0
	for s < len(old)-p && s < len(lg.text)-p && old[len(old)-1-s] == lg.text[len(lg.text)-1-s] {
		s++
	}
	if len(wider) == 2 {
		p -= min(p, wider[0])
		s -= min(s, wider[1])
	}
	region := splice{p, len(old) - s, string(lg.text[p : len(lg.text)-s])}
	re := ReparseDelta
	if inPlace {
		re = ReparseInPlace
	}
	// applyEdit checks that a parse from scratch leaves the old template
	// as it was: it stays the base of the next edits, unless the new one
	// parses (or consumed it).
	if got, inc := applyEdit(t, lg.good, region, re, inPlace); inc || got.fastYAML && len(got.Problems) == 0 && got.Root != nil && len(got.Root.Pairs) > 0 {
		lg.good = got
	}
}

// FuzzReparseBroken types the edits the fuzzer encodes into a corpus
// template, most of them texts that break the syntax (brokenTexts), and
// re-parses each version relative to the last good template with the edit
// region composed since, as the language server does: each result must
// equal Parse of the same text. Each edit is 2 bytes choosing an entry of a
// section (or a root pair), 1 the offset from its key's line, 1 the
// deletion (and how much wider than the change the region is), 1 the
// inserted text.
func FuzzReparseBroken(f *testing.F) {
	f.Add(uint8(0), []byte{0, 0, 20, 0, 0})
	f.Add(uint8(1), []byte{5, 0, 7, 0, 1, 5, 0, 8, 0, 40})
	f.Add(uint8(2), []byte{3, 1, 30, 2, 4, 9, 0, 0, 0, 13, 200, 0, 3, 1, 27})
	corpus := reparseCorpus(f)
	corpus = append(corpus, []byte(reparseCasesTemplate), crlf([]byte(reparseCasesTemplate)), crlf(synth.YAML(4<<10)))
	f.Fuzz(func(t *testing.T, which uint8, script []byte) {
		src := corpus[int(which)%len(corpus)]
		good := Parse("t.yaml", src)
		if !good.fastYAML || len(good.Problems) > 0 || good.Root == nil || good.Root.Kind != Mapping {
			return
		}
		lg := &lastGood{good: good, text: src}
		for step := 0; len(script) >= 5 && step < 8 && lg.good.Root != nil && len(lg.good.Root.Pairs) > 0; step++ {
			e := fuzzBrokenEdit(lg.good, lg.text, script)
			lg.edit(t, e, which&1 == 1, int(script[3]>>5), int(script[1]>>5))
			script = script[5:]
		}
	})
}

// fuzzBrokenEdit decodes one edit of FuzzReparseBroken, aimed at an entry
// of the last good template, in the current text (where the bytes before
// that entry are the good template's).
func fuzzBrokenEdit(good *Template, text []byte, script []byte) splice {
	var keys []*Node
	for i, sec := range good.Root.Pairs {
		keys = append(keys, sec.Key)
		if _, ok := sectionLevel(good.Source, good.Root, i); ok {
			for _, e := range sec.Value.Pairs {
				keys = append(keys, e.Key)
			}
		}
	}
	k := keys[int(binary.LittleEndian.Uint16(script))%len(keys)]
	pos := min(len(text), lineStartOf(good.Source, k.Start)+int(script[2]))
	end := min(len(text), pos+int(script[3]%8))
	ins := brokenTexts[int(script[4])%len(brokenTexts)]
	if script[4] >= 0xC0 {
		ins = editAlphabet[int(script[4])%len(editAlphabet)] // an edit that may mend it
	}
	return splice{pos, end, ins}
}

// TestReparseBrokenLastGood types, deletes and mends syntax errors in
// sequences, each version re-parsed relative to the last good template
// (see lastGood), with ReparseDelta and ReparseInPlace.
func TestReparseBrokenLastGood(t *testing.T) {
	src := synth.YAML(30 << 10)
	for _, inPlace := range []bool{false, true} {
		lg := &lastGood{good: Parse("t.yaml", src), text: src}
		res := lg.good.Resources[len(lg.good.Resources)/3]
		at := res.TypeNode.Start
		// `[` typed, then a few letters, then deleted one by one; then `]`
		// closes it (valid: a flow sequence), and is deleted.
		lg.edit(t, splice{at, at, "["}, inPlace)
		for k, c := range "abc" {
			lg.edit(t, splice{at + 1 + k, at + 1 + k, string(c)}, inPlace)
		}
		for k := 3; k >= 0; k-- {
			lg.edit(t, splice{at + k, at + k + 1, ""}, inPlace)
		}
		if !bytes.Equal(lg.text, src) || !bytes.Equal(lg.good.Source, src) {
			t.Fatalf("the edits did not restore the text")
		}
		lg.edit(t, splice{at, at, "["}, inPlace)
		end := at + 1 + len(res.Type)
		lg.edit(t, splice{end, end, "]"}, inPlace)
		if lg.good.Source[at] != '[' {
			t.Fatalf("closing the bracket did not make a good template")
		}
		lg.edit(t, splice{end, end + 1, ""}, inPlace)
		lg.edit(t, splice{at, at + 1, ""}, inPlace)
		if !strings.Contains(string(lg.text), "Type: "+res.Type) {
			t.Fatalf("the edits did not restore the type")
		}
	}
}

// brokenCasesTemplate has comments above its root, and sections of entries
// after a root scalar, so that the synthetic document stands for each
// kind of line.
const brokenCasesTemplate = `# top

AWSTemplateFormatVersion: '2010-09-09'
Description: Broken cases
Parameters:
  Env:
    Type: String
Resources:
  # first
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub '${Env}-bucket'
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      DelaySeconds: 5
  Empty:
  Topic:
    Type: AWS::SNS::Topic
  :Odd:
    Type: AWS::SNS::Topic
Outputs:
  Arn:
    Value: !GetAtt Bucket.Arn
`

// TestReparseBrokenCases breaks the syntax in each kind of place, and
// checks both that the result equals Parse and whether reparseBroken
// answered: it must for each place it stands for, and must not where a
// premise fails (see broken.go).
func TestReparseBrokenCases(t *testing.T) {
	resourcesFirst := "Resources:\n  A:\n    Type: AWS::S3::Bucket\n  B:\n    Type: AWS::SQS::Queue\n  C:\n    Type: AWS::SNS::Topic\n"
	cases := []struct {
		name, text, at, ins string // ins is typed where at starts
		del                 int
		answered            bool
	}{
		{"a bracket in a value", brokenCasesTemplate, "AWS::SQS::Queue", "[", 0, true},
		{"a brace in the first entry", brokenCasesTemplate, "AWS::S3::Bucket", "{", 0, true},
		{"a quote left open to the end", brokenCasesTemplate, "5\n", "\"", 0, true},
		{"an entry of the first section", brokenCasesTemplate, "String", "'", 0, true},
		{"a sequence entry at the entries' column (the section's mapping is the context)", brokenCasesTemplate, "  Queue:", "  - x\n", 0, true},
		{"a line at column 1 (the root's mapping is the context)", brokenCasesTemplate, "    Properties:\n      DelaySeconds", " - x\n", 0, true},
		{"a colon deleted", brokenCasesTemplate, ":\n      DelaySeconds", "", 1, true},
		{"a tab in the indentation", brokenCasesTemplate, "    Properties:\n      DelaySeconds", "\t", 0, true},
		{"the description", brokenCasesTemplate, "\nParameters", ": x", 0, true},
		{"a section's key line", brokenCasesTemplate, "\n  # first", " [", 0, true},
		{"the last entry of the last section", brokenCasesTemplate, "Bucket.Arn", "] ", 0, true},
		{"the first section is the first root key", resourcesFirst, "AWS::SNS::Topic", "[", 0, true},
		{"a byte-order mark", "\xEF\xBB\xBF" + resourcesFirst, "AWS::SNS::Topic", "[", 0, true},
		{"CRLF", string(crlf([]byte(brokenCasesTemplate))), "AWS::SQS::Queue", "[", 0, true},
		// The premises.
		{"the first root pair", brokenCasesTemplate, "2010", "[", 0, false},
		{"the first section's key line when it is the first root key", resourcesFirst, "\n  A:", " [", 0, false},
		{"after an empty value", brokenCasesTemplate, "AWS::SNS::Topic\n  :Odd", "[", 0, false},
		{"after a key that starts with a colon", brokenCasesTemplate, "Odd:", " ", 0, false},
		{"a control character", brokenCasesTemplate, "AWS::SQS::Queue", "\x01[", 0, false},
		{"a document start marker", "---\n" + brokenCasesTemplate, "AWS::SQS::Queue", "[", 0, false},
		{"valid YAML the fast path leaves to yaml.v3", brokenCasesTemplate, "AWS::SQS::Queue", "&a ", 0, false},
		{"a new root key", brokenCasesTemplate, "Outputs:", "Foo: 1\n", 0, false},
	}
	for _, c := range cases {
		i := strings.Index(c.text, c.at)
		if i < 0 {
			t.Fatalf("%s: %q is not in the template", c.name, c.at)
		}
		e := splice{i, i + c.del, c.ins}
		for _, inPlace := range []bool{false, true} {
			re := ReparseDelta
			if inPlace {
				re = ReparseInPlace
			}
			hits := brokenStats.hits.Load()
			got, _ := applyEdit(t, Parse("t.yaml", []byte(c.text)), e, re, inPlace)
			if answered := brokenStats.hits.Load() > hits; answered != c.answered {
				t.Errorf("%s (in place: %v): answered is %v (%v)", c.name, inPlace, answered, got.Problems)
			}
		}
	}
}
