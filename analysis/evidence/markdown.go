package evidence

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/soc2ls/soc2ls/analysis"
)

// MarkdownLimit bounds the Markdown report: GitHub rejects comments longer
// than 65,536 characters, and the report must leave room for whatever a bot
// adds around it.
const MarkdownLimit = 60000

// Markdown writes the report as GitHub-flavoured Markdown for a pull-request
// comment: the matrix as a table with text symbols, the open findings of
// each criterion, and the accepted exceptions. Each finding is listed once,
// under its primary criterion (the first one it threatens), naming the
// others. Past MarkdownLimit the findings are cut, with a note saying how
// many were left out.
func Markdown(w io.Writer, r *Report) error {
	var head, tail bytes.Buffer
	head.WriteString("## SOC 2 evidence report\n\n")
	s := r.Summary
	fmt.Fprintf(&head, "%s checked: %s, %s. ", count(s.FilesChecked, "template"), openSummary(s.Errors, s.Warnings, s.Info+s.Hints), count(s.Suppressed, "accepted exception"))
	st := statusCounts(r)
	fmt.Fprintf(&head, "Criteria: %d with open findings, %d pass, %d not applicable.\n\n", st[Findings], st[Pass], st[NotApplicable])

	// The matrix.
	head.WriteString("| Criterion |")
	for _, c := range r.Columns {
		head.WriteString(" " + mdCell(c.Name) + " |")
	}
	head.WriteString("\n| --- |")
	for range r.Columns {
		head.WriteString(" :-: |")
	}
	head.WriteString("\n")
	for _, c := range r.Criteria {
		fmt.Fprintf(&head, "| **%s** %s |", c.Control.ID, mdCell(c.Control.Title))
		for _, cell := range c.Cells {
			head.WriteString(" " + cellText(cell) + " |")
		}
		head.WriteString("\n")
	}
	head.WriteString("\n" + legend + "\n\n")
	if r.GroupedByFolder {
		fmt.Fprintf(&head, "Columns are folders: more than %d templates were checked.\n\n", GroupThreshold)
	}

	// Sections that always fit: exceptions, problems, the scope note.
	var exceptions []Finding
	for _, c := range r.Criteria {
		for _, e := range c.Exceptions {
			if e.Primary == c.Control.ID {
				exceptions = append(exceptions, e)
			}
		}
	}
	if len(exceptions) > 0 {
		tail.WriteString("### Accepted exceptions\n\n")
		for _, e := range exceptions {
			fmt.Fprintf(&tail, "- `%s` **%s** %s: %s — _%s_\n", location(e), e.RuleID, mdText(resourceOrTemplate(e)), mdText(e.Message), mdText(exceptionReason(e)))
		}
		tail.WriteString("\n")
	}
	if len(r.Problems) > 0 {
		tail.WriteString("### Templates only partly analysed\n\n")
		for _, p := range r.Problems {
			fmt.Fprintf(&tail, "- `%s` **%s** %s\n", location(p), p.RuleID, mdText(p.Message))
		}
		tail.WriteString("\n")
	}
	for _, e := range r.Errors {
		fmt.Fprintf(&tail, "- not checked: %s\n", mdText(e))
	}
	tail.WriteString("_" + Scope + "_\n")

	// Open findings, as many as fit.
	var body bytes.Buffer
	budget := MarkdownLimit - head.Len() - tail.Len() - 200
	shown, total := 0, 0
	for _, c := range r.Criteria {
		var own []Finding
		for _, f := range c.Findings {
			if f.Primary == c.Control.ID {
				own = append(own, f)
			}
		}
		total += len(own)
		if len(own) == 0 || body.Len() >= budget {
			continue
		}
		var sec bytes.Buffer
		fmt.Fprintf(&sec, "<details><summary><b>%s</b> %s: %s</summary>\n\n", c.Control.ID, mdText(c.Control.Title), count(len(own), "open finding"))
		n := 0
		for _, f := range own {
			line := fmt.Sprintf("- %s `%s` **%s** %s%s%s\n", severitySymbol(f.Severity), location(f), f.RuleID, mdText(f.Message), fixText(f), alsoText(c.Control.ID, f))
			if body.Len()+sec.Len()+len(line)+20 > budget {
				break
			}
			sec.WriteString(line)
			n++
		}
		if n == 0 {
			continue
		}
		sec.WriteString("\n</details>\n\n")
		body.Write(sec.Bytes())
		shown += n
	}
	var out bytes.Buffer
	out.Write(head.Bytes())
	if total > 0 {
		out.WriteString("### Open findings\n\n")
		out.Write(body.Bytes())
		if shown < total {
			fmt.Fprintf(&out, "**%d of %d open findings not shown** (comment size limit): run `soc2ls report --format html` or `soc2ls check` for all of them.\n\n", total-shown, total)
		}
	}
	out.Write(tail.Bytes())
	_, err := w.Write(out.Bytes())
	return err
}

const legend = "✅ pass: rules apply, no open finding · ❌ error · ⚠️ warning · ℹ️ info · ➖ not applicable · 🛡 accepted exceptions"

// cellText is a matrix cell: a symbol for the worst open severity, then the
// counts in words, so that it reads without colour and without emoji.
func cellText(c Cell) string {
	var parts []string
	switch c.Status {
	case NotApplicable:
		return "➖ n/a"
	case Pass:
		parts = append(parts, "✅ pass")
	default:
		var counts []string
		for _, x := range []struct {
			n      int
			letter string
		}{{c.Error, "E"}, {c.Warning, "W"}, {c.Info + c.Hint, "I"}} {
			if x.n > 0 {
				counts = append(counts, fmt.Sprintf("%d%s", x.n, x.letter))
			}
		}
		parts = append(parts, severitySymbol(c.worst())+" "+strings.Join(counts, " "))
	}
	if c.Suppressed > 0 {
		parts = append(parts, fmt.Sprintf("🛡%d", c.Suppressed))
	}
	return strings.Join(parts, " ")
}

// worst returns the worst severity with an open finding (0 when none).
func (c Counts) worst() analysis.Severity {
	switch {
	case c.Error > 0:
		return analysis.Error
	case c.Warning > 0:
		return analysis.Warning
	case c.Info > 0:
		return analysis.Info
	case c.Hint > 0:
		return analysis.Hint
	}
	return 0
}

func severitySymbol(s analysis.Severity) string {
	switch s {
	case analysis.Error:
		return "❌"
	case analysis.Warning:
		return "⚠️"
	}
	return "ℹ️"
}

func statusCounts(r *Report) map[Status]int {
	m := map[Status]int{}
	for _, c := range r.Criteria {
		m[c.Status]++
	}
	return m
}

func location(f Finding) string {
	return fmt.Sprintf("%s:%d:%d", strings.ReplaceAll(f.File, "`", "'"), f.Line, f.Column)
}

func fixText(f Finding) string {
	if len(f.Fixes) == 0 {
		return ""
	}
	return " — fix: " + mdText(f.Fixes[0])
}

func alsoText(primary string, f Finding) string {
	var others []string
	for _, c := range f.Controls {
		if c != primary {
			others = append(others, c)
		}
	}
	if len(others) == 0 {
		return ""
	}
	return " (also " + strings.Join(others, ", ") + ")"
}

func resourceOrTemplate(f Finding) string {
	if f.Resource != "" {
		return f.Resource
	}
	return "(template)"
}

func exceptionReason(f Finding) string {
	e := f.Exception
	if e == nil {
		return ""
	}
	by := e.Source
	if e.Written != "" {
		by += " " + e.Written
	}
	return fmt.Sprintf("%s (%s, line %d)", e.Reason, by, e.Line)
}

func openSummary(errors, warnings, info int) string {
	if errors+warnings+info == 0 {
		return "no open findings"
	}
	return fmt.Sprintf("%s (%s, %s, %d info)", count(errors+warnings+info, "open finding"), count(errors, "error"), count(warnings, "warning"), info)
}

func count(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// mdText escapes text from templates for Markdown: it may contain HTML,
// emphasis markers, links or table pipes, none of which must take effect in
// a comment. Line breaks become spaces (a list item is one line).
func mdText(s string) string {
	var b strings.Builder
	for _, r := range strings.Join(strings.Fields(s), " ") {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '\\', '`', '*', '_', '[', ']', '|', '#', '~', '!':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func mdCell(s string) string { return mdText(s) }
