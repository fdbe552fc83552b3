package template

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/soc2ls/soc2ls/analysis/synth"
)

// structuralEdit picks an edit of t's structure, as users make them: a key
// typed in or a letter deleted from it, an entry inserted at an entry's
// line start or after the last one (sometimes with a key its section
// already has), an entry's lines deleted, two entries joined, a comment at
// the top of the document, above a root key, above an entry or in the gap
// before a section's first entry, a letter typed in a root scalar, an entry
// appended at the end of the document with or without a line break.
// It also returns the kind of edit it made, "" for a random edit (when
// the kind it picked does not apply to t).
func structuralEdit(r *rand.Rand, t *Template) (splice, string) {
	src := t.Source
	if t.Root == nil || t.Root.Kind != Mapping || len(t.Root.Pairs) == 0 {
		return randomEdit(r, src), ""
	}
	nl := "\n"
	if bytes.Contains(src, []byte("\r\n")) {
		nl = "\r\n"
	}
	letter := string(rune('a' + r.IntN(26)))
	roots := t.Root.Pairs
	ri := r.IntN(len(roots))
	sec := roots[ri]
	entries := sectionPairs(sec.Value)
	if sec.Value.Flow || len(entries) > 0 && columnOf(src, entries[0].Key.Start) <= 0 {
		entries = nil
	}
	// secEnd is where the section's text ends: the next root key's line.
	secEnd := len(src)
	if ri+1 < len(roots) {
		secEnd = lineStartOf(src, roots[ri+1].Key.Start)
	}
	pick := func() *Pair {
		if len(entries) == 0 {
			return sec
		}
		return entries[r.IntN(len(entries))]
	}
	switch k := r.IntN(12); {
	case k == 0: // a letter typed in a key
		p := pick()
		at := p.Key.Start + r.IntN(p.Key.End-p.Key.Start+1)
		return splice{at, at, letter}, "key typed"
	case k == 1: // a letter of a key deleted
		if p := pick(); p.Key.End > p.Key.Start {
			at := p.Key.Start + r.IntN(p.Key.End-p.Key.Start)
			return splice{at, at + 1, ""}, "key letter deleted"
		}
	case k == 2 && len(entries) > 0: // an entry inserted
		i := r.IntN(len(entries) + 1)
		at := secEnd
		if i < len(entries) {
			at = lineStartOf(src, entries[i].Key.Start)
		}
		name := "New" + strings.ToUpper(letter)
		if r.IntN(4) == 0 {
			name = entries[r.IntN(len(entries))].Key.Value // a duplicate
		}
		ind := strings.Repeat(" ", columnOf(src, entries[0].Key.Start))
		text := ind + name + ":" + nl + ind + "  Type: AWS::SQS::Queue" + nl
		if at == len(src) && at > 0 && src[at-1] != '\n' && src[at-1] != '\r' {
			text = nl + text
		}
		return splice{at, at, text}, "entry inserted"
	case k == 3 && len(entries) > 0: // entries' lines deleted
		i := r.IntN(len(entries))
		j := min(len(entries), i+1+r.IntN(2))
		to := secEnd
		if j < len(entries) {
			to = lineStartOf(src, entries[j].Key.Start)
		}
		return splice{lineStartOf(src, entries[i].Key.Start), to, ""}, "entries deleted"
	case k == 4 && len(entries) > 1: // two entries joined
		i := r.IntN(len(entries) - 1)
		v, next := entries[i].Value, entries[i+1]
		from := v.Start + r.IntN(v.End-v.Start+1)
		to := next.Key.Start + r.IntN(next.Value.End-next.Key.Start+1)
		return splice{from, to, ""}, "entries joined"
	case k == 5: // a comment at the top
		return splice{0, 0, "# top" + nl}, "comment at the top"
	case k == 6: // a comment above a root key
		at := lineStartOf(src, sec.Key.Start)
		return splice{at, at, "# about " + sec.Key.Value + nl}, "comment above a root key"
	case k == 7 && len(entries) > 0: // a comment above an entry
		at := lineStartOf(src, pick().Key.Start)
		return splice{at, at, strings.Repeat(" ", columnOf(src, entries[0].Key.Start)) + "# note" + nl}, "comment above an entry"
	case k == 8 && len(entries) > 0: // in the gap before the first entry
		gap := sec.Key.End
		for gap < len(src) && src[gap] != '\n' && src[gap] != '\r' {
			gap++
		}
		first := lineStartOf(src, entries[0].Key.Start)
		if c := bytes.IndexByte(src[gap:first], '#'); c >= 0 && r.IntN(2) == 0 {
			at := gap + c + 1 + r.IntN(2)
			return splice{at, at, letter}, "gap before the first entry"
		}
		return splice{first, first, "  # " + letter + nl}, "gap before the first entry"
	case k == 9: // a letter typed in a root scalar
		if v := sec.Value; v.Kind == Scalar {
			at := v.ValueSpan.Start + r.IntN(v.ValueSpan.End-v.ValueSpan.Start+1)
			return splice{at, at, letter}, "root scalar typed"
		}
	case k == 10: // an entry appended at the end of the document
		text := "  Tail" + strings.ToUpper(letter) + ":" + nl + "    Type: AWS::SNS::Topic"
		if r.IntN(2) == 0 {
			text += nl
		}
		if len(src) > 0 && src[len(src)-1] != '\n' && src[len(src)-1] != '\r' {
			text = nl + text
		}
		return splice{len(src), len(src), text}, "entry appended at the end"
	case k == 11 && len(entries) > 0: // a blank line at an entry's line start
		at := lineStartOf(src, pick().Key.Start)
		return splice{at, at, nl}, "blank line above an entry"
	}
	return randomEdit(r, src), ""
}

// structuralCase is an edit of a synthetic template that must be re-read
// incrementally, and the delta it must give.
type structuralCase struct {
	name string
	edit func(t *Template) splice
	// The delta: the section, how many entries it replaces and by how
	// many, whether only trivia changed.
	section  string
	old, new int
	trivia   bool
}

// synthLine returns the start of the line of off.
func synthLine(t *Template, off int) int { return lineStartOf(t.Source, off) }

var structuralCases = []structuralCase{
	{"a letter typed at the end of a logical id", func(t *Template) splice {
		at := t.Resources[len(t.Resources)/2].Key.End
		return splice{at, at, "x"}
	}, "Resources", 1, 1, false},
	{"a letter deleted from a parameter's name", func(t *Template) splice {
		at := t.Parameters[0].Key.Start
		return splice{at, at + 1, ""}
	}, "Parameters", 1, 1, false},
	{"an entry typed between two", func(t *Template) splice {
		at := synthLine(t, t.Resources[len(t.Resources)/2].Key.Start)
		return splice{at, at, "  NewQueue:\n    Type: AWS::SQS::Queue\n"}
	}, "Resources", 0, 1, false},
	{"an entry pasted after the last resource", func(t *Template) splice {
		at := synthLine(t, t.Sections["Outputs"].Key.Start)
		return splice{at, at, "  LastQueue:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Ref Environment\n"}
	}, "Resources", 0, 1, false},
	{"a resource deleted", func(t *Template) splice {
		i := len(t.Resources) / 2
		return splice{synthLine(t, t.Resources[i].Key.Start), synthLine(t, t.Resources[i+1].Key.Start), ""}
	}, "Resources", 1, 0, false},
	{"two resources joined", func(t *Template) splice {
		i := len(t.Resources) / 2
		return splice{t.Resources[i].TypeNode.Start + 5, t.Resources[i+1].TypeNode.Start + 5, ""}
	}, "Resources", 2, 1, false},
	{"an edit reaching the next entry's key", func(t *Template) splice {
		i := len(t.Resources) / 2
		next := t.Resources[i+1].Key
		return splice{next.Start - 3, next.Start + 1, "\n  Z"}
	}, "Resources", 2, 2, false},
	{"a comment line above a resource", func(t *Template) splice {
		at := synthLine(t, t.Resources[len(t.Resources)/2].Key.Start)
		return splice{at, at, "  # the next one\n"}
	}, "Resources", 1, 1, true},
	{"a blank line above a resource", func(t *Template) splice {
		at := synthLine(t, t.Resources[len(t.Resources)/2].Key.Start)
		return splice{at, at, "\n"}
	}, "Resources", 1, 1, true},
	{"a comment line above Resources", func(t *Template) splice {
		at := t.Sections["Resources"].Key.Start
		return splice{at, at, "# the resources\n"}
	}, "Conditions", 1, 1, true},
	{"a letter typed in the comment before the first resource", func(t *Template) splice {
		at := bytes.Index(t.Source, []byte("# Group 0")) + len("# Group 0")
		return splice{at, at, "x"}
	}, "Resources", 0, 0, true},
	{"a comment at the top of the document", func(t *Template) splice {
		return splice{0, 0, "# top\n"}
	}, "", 0, 0, true},
	{"a letter typed in the description", func(t *Template) splice {
		at := t.Sections["Description"].Value.End
		return splice{at, at, "x"}
	}, "", 1, 1, false},
	{"the format version changed", func(t *Template) splice {
		v := t.Sections["AWSTemplateFormatVersion"].Value
		return splice{v.ValueSpan.Start, v.ValueSpan.End, "2010-09-10"}
	}, "", 1, 1, false},
	{"an output appended without a final line break", func(t *Template) splice {
		n := len(t.Source)
		return splice{n, n, "  Second:\n    Value: !Ref Environment"}
	}, "Outputs", 0, 1, false},
	{"an output appended with a final line break", func(t *Template) splice {
		n := len(t.Source)
		return splice{n, n, "  Second:\n    Value: x\n"}
	}, "Outputs", 0, 1, false},
}

// TestStructuralEditsAreIncremental makes each structural edit on the
// synthetic templates, with each re-parse: each must take the incremental
// path (so that it cannot silently parse from scratch), give the delta
// expected, and equal a parse of the same text; then, chained on the
// result, the edit that undoes it must too.
func TestStructuralEditsAreIncremental(t *testing.T) {
	rs := map[string]reparser{"copy": ReparseDelta, "in place": ReparseInPlace,
		"unsettled": unsettledReparser(t, func(n int) []int { return []int{0, n / 2, n - 1} })}
	for _, size := range []int{4 << 10, 30 << 10} {
		src := synth.YAML(size)
		for _, c := range structuralCases {
			for mode, re := range rs {
				t.Run(fmt.Sprintf("%dKB/%s/%s", size>>10, c.name, mode), func(t *testing.T) {
					cur := Parse("t.yaml", src)
					e := c.edit(cur)
					removed := string(cur.Source[e.start:e.end])
					got, d := re(cur, e.apply(cur.Source), e.start, e.end, len(e.text))
					if d == nil {
						t.Fatalf("edit %+v (%q) was parsed from scratch", e, e.text)
					}
					if d.Section != c.section || len(d.Old) != c.old || d.New != c.new || d.Trivia != c.trivia {
						t.Fatalf("edit %+v (%q): delta in %q replaces %d entries by %d (trivia %v), want %q, %d, %d, %v",
							e, e.text, d.Section, len(d.Old), d.New, d.Trivia, c.section, c.old, c.new, c.trivia)
					}
					if diff := diffTemplates(got, Parse("t.yaml", got.Source)); diff != "" {
						t.Fatalf("edit %+v: the template differs from a parse in its %s", e, diff)
					}
					undo := splice{e.start, e.start + len(e.text), removed}
					if _, inc := applyEdit(t, got, undo, re, mode != "copy"); !inc {
						t.Fatalf("undoing edit %+v was parsed from scratch", e)
					}
				})
			}
		}
	}
}

// TestReparseToAndFromNoTree deletes every entry of a template, leaving
// comments (a parse gives no tree, but an arena), then types one back:
// both parse from scratch, and the in-place re-parse's checks accept a
// template without a tree (a soak of the random sequences found them
// dereferencing its root).
func TestReparseToAndFromNoTree(t *testing.T) {
	text := "# a comment\nResources:\n  A:\n    Type: AWS::SNS::Topic\n"
	comments := strings.Index(text, "Resources:")
	for _, inPlace := range []bool{false, true} {
		re := ReparseDelta
		if inPlace {
			re = ReparseInPlace
		}
		cur := Parse("t.yaml", []byte(text))
		cur, _ = applyEdit(t, cur, splice{comments, len(text), ""}, re, inPlace)
		if cur.Root != nil {
			t.Fatal("a document of comments has a tree")
		}
		applyEdit(t, cur, splice{comments, comments, text[comments:]}, re, inPlace)
	}
}
