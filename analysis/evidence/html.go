package evidence

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/soc2ls/soc2ls/analysis"
)

//go:embed report.html.tmpl
var htmlSource string

// htmlTemplate is the HTML report. html/template escapes everything that
// comes from templates (names, messages, reasons), in whichever context it
// lands; the only markup not written in the template file is produced by
// markdownHTML from escaped text.
var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"anchor":   anchor,
	"markdown": markdownHTML,
	"cell":     cellLabel,
	"sev":      func(s analysis.Severity) string { return s.String() },
	"symbol":   htmlSymbol,
	"count":    count,
	"docURL":   docURL,
	"join":     strings.Join,
}).Parse(htmlSource))

// HTML writes the report as one self-contained HTML page: inline CSS and
// SVG, no scripts, no fonts or images fetched from anywhere. Printed, each
// criterion starts on a new page.
func HTML(w io.Writer, r *Report) error {
	data := struct {
		*Report
		Scope     string
		Generated string
		Status    map[string]int
		Chart     chart
		Threshold int
	}{Report: r, Scope: Scope, Status: map[string]int{}, Chart: buildChart(r), Threshold: GroupThreshold}
	for st, n := range statusCounts(r) {
		data.Status[string(st)] = n
	}
	if !r.Generated.IsZero() {
		data.Generated = r.Generated.UTC().Format(time.RFC1123)
	}
	return htmlTemplate.Execute(w, data)
}

// anchor is the fragment id of a criterion's section: "cc6-1".
func anchor(id string) string { return strings.ToLower(strings.ReplaceAll(id, ".", "-")) }

func docURL(ruleID string) string {
	return "https://github.com/soc2ls/soc2ls/blob/main/docs/rules.md#" + strings.ToLower(ruleID)
}

// htmlSymbol is the symbol of a cell state, which carries the state without
// colour: a tick, a cross, a triangle, an i, a dash.
func htmlSymbol(c Cell) string {
	switch c.Status {
	case NotApplicable:
		return "–"
	case Pass:
		return "✓"
	}
	switch c.worst() {
	case analysis.Error:
		return "✗"
	case analysis.Warning:
		return "▲"
	}
	return "i"
}

// cellClass is the CSS class of a cell: its status, or its worst severity.
func cellClass(c Cell) string {
	switch c.Status {
	case NotApplicable:
		return "na"
	case Pass:
		return "pass"
	}
	return c.worst().String()
}

// cellLabel is the text of a matrix cell, and its class.
func cellLabel(c Cell) struct{ Class, Symbol, Text, Title string } {
	out := struct{ Class, Symbol, Text, Title string }{Class: cellClass(c), Symbol: htmlSymbol(c)}
	var words []string
	switch c.Status {
	case NotApplicable:
		out.Text, out.Title = "n/a", "not applicable: no resource any rule of this criterion inspects"
		return out
	case Pass:
		words = append(words, "pass")
	default:
		for _, x := range []struct {
			n    int
			word string
		}{{c.Error, "E"}, {c.Warning, "W"}, {c.Info + c.Hint, "I"}} {
			if x.n > 0 {
				words = append(words, fmt.Sprintf("%d%s", x.n, x.word))
			}
		}
	}
	if c.Suppressed > 0 {
		words = append(words, fmt.Sprintf("%d exc.", c.Suppressed))
	}
	out.Text = strings.Join(words, " ")
	out.Title = fmt.Sprintf("%d errors, %d warnings, %d info, %d accepted exceptions, %d pieces of evidence", c.Error, c.Warning, c.Info+c.Hint, c.Suppressed, c.Evidence)
	return out
}

// chart is the SVG bar chart of open findings per criterion and severity.
type chart struct {
	Width, Height int
	AxisY         int // where the grid lines end and the tick labels start
	Rows          []chartRow
	Ticks         []chartTick
	Max           int
}

type chartRow struct {
	ID, Anchor string
	Y          int
	Bars       []chartBar
	Label      string
	LabelX     int
}

type chartBar struct {
	Class       string
	X, Y, Width int
	Fill        string // a colour, or a pattern for greyscale print
	Title       string
}

// barFills are solid for errors, striped for warnings and dotted for info,
// so that the bars read in greyscale.
var barFills = map[string]string{"error": "#b42318", "warning": "url(#p-warning)", "info": "url(#p-info)"}

type chartTick struct {
	X     int
	Label int
}

const (
	chartLeft  = 64  // room for the criterion ids
	chartRight = 110 // room for the count labels
	chartWidth = 1020
	chartRowH  = 20
	chartTop   = 8
)

func buildChart(r *Report) chart {
	ch := chart{Width: chartWidth}
	for _, c := range r.Criteria {
		ch.Max = max(ch.Max, c.Open())
	}
	// At least ten findings' worth of width: one finding is not a full bar.
	scale := float64(chartWidth-chartLeft-chartRight) / float64(max(ch.Max, 10))
	for i, c := range r.Criteria {
		row := chartRow{ID: c.Control.ID, Anchor: anchor(c.Control.ID), Y: chartTop + i*chartRowH}
		x := chartLeft
		var parts []string
		for _, s := range []struct {
			n     int
			class string
			word  string
		}{{c.Error, "error", "E"}, {c.Warning, "warning", "W"}, {c.Info + c.Hint, "info", "I"}} {
			if s.n == 0 {
				continue
			}
			w := max(int(float64(s.n)*scale+0.5), 2)
			row.Bars = append(row.Bars, chartBar{Class: s.class, X: x, Y: row.Y + 3, Width: w, Fill: barFills[s.class], Title: fmt.Sprintf("%s: %d %s", c.Control.ID, s.n, s.class)})
			x += w
			parts = append(parts, fmt.Sprintf("%d%s", s.n, s.word))
		}
		switch {
		case len(parts) > 0:
			row.Label = strings.Join(parts, " ")
		case c.Status == NotApplicable:
			row.Label = "n/a"
		default:
			row.Label = "✓ none"
		}
		row.LabelX = x + 6
		ch.Rows = append(ch.Rows, row)
	}
	ch.AxisY = chartTop + len(r.Criteria)*chartRowH + 2
	ch.Height = ch.AxisY + 18
	step := tickStep(max(ch.Max, 10))
	for v := 0; v <= max(ch.Max, 10); v += step {
		ch.Ticks = append(ch.Ticks, chartTick{X: chartLeft + int(float64(v)*scale+0.5), Label: v})
	}
	return ch
}

// tickStep picks a round axis step giving at most about six ticks.
func tickStep(max int) int {
	for _, s := range []int{1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000} {
		if max/s <= 6 {
			return s
		}
	}
	return max/6 + 1
}

// markdownHTML renders the Markdown of a criterion explanation (paragraphs,
// bold lead-ins, "- " lists, `code`, **bold**), escaping the text first so
// that nothing in it becomes markup except what this function writes.
func markdownHTML(md string) template.HTML {
	var b strings.Builder
	for _, block := range strings.Split(strings.TrimSpace(md), "\n\n") {
		var para []string
		inList := false
		flush := func() {
			if len(para) > 0 {
				b.WriteString("<p>" + strings.Join(para, " ") + "</p>\n")
				para = nil
			}
		}
		for _, line := range strings.Split(block, "\n") {
			line = strings.TrimSpace(line)
			item, isItem := strings.CutPrefix(line, "- ")
			switch {
			case isItem:
				flush()
				if !inList {
					b.WriteString("<ul>\n")
					inList = true
				}
				b.WriteString("<li>" + inline(item) + "</li>\n")
			default:
				if inList {
					b.WriteString("</ul>\n")
					inList = false
				}
				if strings.HasPrefix(line, "**") && strings.HasSuffix(line, "**") && len(line) > 4 {
					flush()
					b.WriteString("<h4>" + template.HTMLEscapeString(line[2:len(line)-2]) + "</h4>\n")
					continue
				}
				para = append(para, inline(line))
			}
		}
		if inList {
			b.WriteString("</ul>\n")
		}
		flush()
	}
	return template.HTML(b.String())
}

// inline escapes a line and renders its `code` and **bold** spans.
func inline(s string) string {
	var b strings.Builder
	for i, part := range strings.Split(s, "`") {
		esc := template.HTMLEscapeString(part)
		if i%2 == 1 {
			b.WriteString("<code>" + esc + "</code>")
			continue
		}
		for j, p := range strings.Split(esc, "**") {
			if j%2 == 1 {
				b.WriteString("<strong>" + p + "</strong>")
			} else {
				b.WriteString(p)
			}
		}
	}
	return b.String()
}
