package evidence

import (
	"bytes"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/soc2ls/soc2ls/analysis/controls"
)

// The HTML report is checked by parsing it into a tree with the small
// strict parser below (no dependency): every element closed in order,
// attributes quoted, text escaped. A page that parses here renders the same
// in any browser.

type node struct {
	name     string // "" for text
	attrs    map[string]string
	children []*node
	text     string // decoded, for text nodes
	parent   *node
}

// voidElements have no end tag in HTML; SVG elements self-close instead.
var voidElements = map[string]bool{"meta": true, "br": true, "hr": true, "img": true, "input": true, "link": true}

var (
	entity   = regexp.MustCompile(`^&(#[0-9]+|#x[0-9a-fA-F]+|[a-zA-Z]+);`)
	attrName = regexp.MustCompile(`^[a-zA-Z_:][-a-zA-Z0-9_:.]*`)
)

func parseHTML(src string) (*node, error) {
	root := &node{name: "#document", attrs: map[string]string{}}
	cur := root
	line := func(i int) int { return strings.Count(src[:i], "\n") + 1 }
	checkText := func(s string, at int) error {
		for j := strings.IndexByte(s, '&'); j >= 0; j = strings.IndexByte(s, '&') {
			if !entity.MatchString(s[j:]) {
				return fmt.Errorf("line %d: bare & in text %q", line(at), s)
			}
			s = s[j+1:]
		}
		if strings.Contains(s, ">") {
			return fmt.Errorf("line %d: unescaped > in text", line(at))
		}
		return nil
	}
	i := 0
	for i < len(src) {
		if src[i] != '<' {
			j := strings.IndexByte(src[i:], '<')
			if j < 0 {
				j = len(src) - i
			}
			raw := src[i : i+j]
			if err := checkText(raw, i); err != nil {
				return nil, err
			}
			cur.children = append(cur.children, &node{text: html.UnescapeString(raw), parent: cur})
			i += j
			continue
		}
		switch {
		case strings.HasPrefix(src[i:], "<!--"):
			j := strings.Index(src[i:], "-->")
			if j < 0 {
				return nil, fmt.Errorf("line %d: unclosed comment", line(i))
			}
			i += j + 3
		case strings.HasPrefix(src[i:], "<!"):
			j := strings.IndexByte(src[i:], '>')
			i += j + 1
		case strings.HasPrefix(src[i:], "</"):
			j := strings.IndexByte(src[i:], '>')
			name := strings.ToLower(strings.TrimSpace(src[i+2 : i+j]))
			if cur.name != name {
				return nil, fmt.Errorf("line %d: </%s> closes <%s>", line(i), name, cur.name)
			}
			cur = cur.parent
			i += j + 1
		default:
			i++
			m := attrName.FindString(src[i:])
			if m == "" {
				return nil, fmt.Errorf("line %d: bare < in text", line(i))
			}
			n := &node{name: strings.ToLower(m), attrs: map[string]string{}, parent: cur}
			i += len(m)
			selfClosing := false
			for {
				for i < len(src) && strings.ContainsRune(" \t\n\r", rune(src[i])) {
					i++
				}
				if i >= len(src) {
					return nil, fmt.Errorf("unterminated tag <%s>", n.name)
				}
				if src[i] == '>' {
					i++
					break
				}
				if strings.HasPrefix(src[i:], "/>") {
					selfClosing = true
					i += 2
					break
				}
				a := attrName.FindString(src[i:])
				if a == "" {
					return nil, fmt.Errorf("line %d: bad attribute in <%s>", line(i), n.name)
				}
				i += len(a)
				val := ""
				if i < len(src) && src[i] == '=' {
					if src[i+1] != '"' {
						return nil, fmt.Errorf("line %d: unquoted attribute %s", line(i), a)
					}
					end := strings.IndexByte(src[i+2:], '"')
					raw := src[i+2 : i+2+end]
					if strings.ContainsAny(raw, "<>") {
						return nil, fmt.Errorf("line %d: unescaped < or > in attribute %s=%q", line(i), a, raw)
					}
					if err := checkText(raw, i); err != nil {
						return nil, err
					}
					val = html.UnescapeString(raw)
					i += end + 3
				}
				if _, dup := n.attrs[strings.ToLower(a)]; dup {
					return nil, fmt.Errorf("line %d: duplicate attribute %s", line(i), a)
				}
				n.attrs[strings.ToLower(a)] = val
			}
			cur.children = append(cur.children, n)
			switch {
			case n.name == "style" || n.name == "script":
				end := strings.Index(src[i:], "</"+n.name+">")
				if end < 0 {
					return nil, fmt.Errorf("unclosed <%s>", n.name)
				}
				n.children = []*node{{text: src[i : i+end], parent: n}}
				i += end + len("</"+n.name+">")
			case selfClosing || voidElements[n.name]:
			default:
				cur = n
			}
		}
	}
	if cur != root {
		return nil, fmt.Errorf("<%s> is never closed", cur.name)
	}
	return root, nil
}

func (n *node) all(pred func(*node) bool) []*node {
	var out []*node
	var walk func(*node)
	walk = func(n *node) {
		if n.name != "" && pred(n) {
			out = append(out, n)
		}
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(n)
	return out
}

func (n *node) textContent() string {
	if n.name == "" {
		return n.text
	}
	var b strings.Builder
	for _, c := range n.children {
		b.WriteString(c.textContent())
	}
	return b.String()
}

func (n *node) hasClass(c string) bool {
	return strings.Contains(" "+n.attrs["class"]+" ", " "+c+" ")
}

func named(name string) func(*node) bool { return func(n *node) bool { return n.name == name } }

// renderHTML analyses paths (relative to the repository root) and renders
// the HTML report.
func renderHTML(t *testing.T, paths ...string) (*Report, string, *node) {
	t.Helper()
	rep, _ := analyse(t, paths...)
	var b bytes.Buffer
	if err := HTML(&b, rep); err != nil {
		t.Fatal(err)
	}
	doc, err := parseHTML(b.String())
	if err != nil {
		t.Fatalf("the report is not well-formed HTML: %v", err)
	}
	return rep, b.String(), doc
}

// TestHTMLStructure: every criterion has its matrix row and its section,
// every template its column, and the counts shown are the model's.
func TestHTMLStructure(t *testing.T) {
	t.Chdir("../..")
	rep, _, doc := renderHTML(t, "testdata/examples/fintech-baseline.yaml", "testdata/examples/fintech-weak.yaml", "testdata/report/suppressed.yaml")
	var headers []string
	for _, th := range doc.all(func(n *node) bool { return n.name == "th" && n.hasClass("col") }) {
		headers = append(headers, th.textContent())
	}
	if want := []string{"examples/fintech-baseline.yaml", "examples/fintech-weak.yaml", "report/suppressed.yaml"}; strings.Join(headers, "|") != strings.Join(want, "|") {
		t.Errorf("matrix columns %q, want %q", headers, want)
	}
	cells := doc.all(func(n *node) bool { return n.name == "td" && n.hasClass("cell") })
	if len(cells) != len(controls.All())*3 {
		t.Fatalf("%d matrix cells, want %d", len(cells), len(controls.All())*3)
	}
	for i, c := range rep.Criteria {
		id := c.Control.ID
		sections := doc.all(func(n *node) bool { return n.name == "section" && n.attrs["id"] == anchor(id) })
		if len(sections) != 1 {
			t.Errorf("%s: %d sections", id, len(sections))
			continue
		}
		if links := doc.all(func(n *node) bool { return n.name == "a" && n.attrs["href"] == "#"+anchor(id) }); len(links) < 2 {
			t.Errorf("%s: %d links to its section (matrix and chart)", id, len(links))
		}
		for j, cell := range c.Cells {
			l := cellLabel(cell)
			if got := cells[i*3+j].textContent(); got != l.Symbol+l.Text || !cells[i*3+j].hasClass(l.Class) {
				t.Errorf("%s column %d: cell %q, want %q", id, j, got, l.Symbol+l.Text)
			}
		}
		// Each h3 says how many entries follow, and so many follow.
		s := sections[0]
		var heads []string
		for _, h := range s.all(named("h3")) {
			heads = append(heads, h.textContent())
		}
		want := []string{
			fmt.Sprintf("Evidence found (%d)", len(c.Evidence)),
			fmt.Sprintf("Open findings (%d)", len(c.Findings)),
			fmt.Sprintf("Accepted exceptions (%d)", len(c.Exceptions)),
		}
		if c.Status == NotApplicable {
			want = nil
		}
		if strings.Join(heads, "|") != strings.Join(want, "|") {
			t.Errorf("%s: headings %q, want %q", id, heads, want)
		}
		var rows []int
		for _, tb := range s.all(named("tbody")) {
			rows = append(rows, len(tb.all(named("tr"))))
		}
		var wantRows []int
		for _, n := range []int{len(c.Evidence), len(c.Findings), len(c.Exceptions)} {
			if n > 0 {
				wantRows = append(wantRows, n)
			}
		}
		if fmt.Sprint(rows) != fmt.Sprint(wantRows) {
			t.Errorf("%s: table rows %v, want %v", id, rows, wantRows)
		}
		if !strings.Contains(s.textContent(), c.Control.Title) || !strings.Contains(s.textContent(), strings.Fields(c.Control.Summary)[0]) {
			t.Errorf("%s: section lacks its title or explanation", id)
		}
	}
	if !strings.Contains(doc.textContent(), Scope) {
		t.Error("the scope note is missing")
	}
	// Page breaks per criterion when printed.
	style := doc.all(named("style"))[0].textContent()
	if !regexp.MustCompile(`(?s)@media print \{.*\.criterion \{ break-before: page;`).MatchString(style) {
		t.Error("print CSS does not start each criterion on a new page")
	}
}

// TestHTMLEscapesEverything: names, messages and reasons that look like
// markup or template actions come out as text.
func TestHTMLEscapesEverything(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile("../../testdata/report/hostile.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// A file name with markup and quotes, too.
	p := filepath.Join(dir, `a"<b>&'x.yaml`)
	if err := os.WriteFile(p, src, 0o644); err != nil {
		t.Fatal(err)
	}
	_, out, doc := renderHTML(t, p)
	for _, bad := range []string{"script", "img", "iframe", "object", "embed", "link", "base"} {
		for _, n := range doc.all(named(bad)) {
			t.Errorf("the report contains a <%s> element: %v", bad, n.attrs)
		}
	}
	for _, n := range doc.all(func(*node) bool { return true }) {
		for a := range n.attrs {
			if strings.HasPrefix(a, "on") {
				t.Errorf("<%s> has an event handler attribute %s", n.name, a)
			}
		}
	}
	text := doc.textContent()
	for _, want := range []string{
		"<script>alert(1)</script>",
		`<img src=x onerror=alert(2)> "quoted" & 'single' {{.Scope}} ` + "`tick`" + ` | pipe **bold**`,
		`a"<b>&'x.yaml`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the text of the report lacks %q", want)
		}
	}
	if strings.Contains(out, "<script") || strings.Contains(out, "<img") || strings.Contains(out, "<svg onload") {
		t.Error("markup from the template reached the page unescaped")
	}
	selfContained(t, doc)
}

// selfContained: nothing is fetched: no src, no stylesheet or font links, no
// CSS imports or remote urls; links go to sections or to the documentation.
func selfContained(t *testing.T, doc *node) {
	t.Helper()
	for _, n := range doc.all(func(*node) bool { return true }) {
		if v, ok := n.attrs["src"]; ok {
			t.Errorf("<%s src=%q>: the report must not load anything", n.name, v)
		}
		if v, ok := n.attrs["href"]; ok && !strings.HasPrefix(v, "#") && !strings.HasPrefix(v, "https://github.com/soc2ls/soc2ls/blob/main/docs/") {
			t.Errorf("<%s href=%q>: only section and documentation links", n.name, v)
		}
		if v := n.attrs["style"] + n.attrs["fill"]; strings.Contains(v, "url(") && !strings.Contains(v, "url(#") {
			t.Errorf("<%s> refers to a remote url: %q", n.name, v)
		}
	}
	for _, s := range doc.all(named("style")) {
		css := s.textContent()
		if strings.Contains(css, "@import") || strings.Contains(css, "@font-face") || regexp.MustCompile(`url\(\s*['"]?[a-z]+:`).MatchString(css) {
			t.Error("the style sheet loads something")
		}
	}
}

// TestHTMLExamples: the example reports parse and are self-contained.
func TestHTMLExamples(t *testing.T) {
	t.Chdir("../..")
	for _, p := range []string{"testdata/examples/fintech-weak.yaml", "testdata/examples/fintech-baseline.yaml"} {
		_, _, doc := renderHTML(t, p)
		selfContained(t, doc)
	}
}

// TestParserRejects: the checker itself fails on what it must catch.
func TestParserRejects(t *testing.T) {
	for _, bad := range []string{
		"<p>a < b</p>", "<p>fish & chips</p>", "<p><b>x</p></b>", "<p>open", `<a href=x>y</a>`, "<p>a > b</p>",
	} {
		if _, err := parseHTML(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if _, err := parseHTML(`<!DOCTYPE html><p class="a">x &amp; y<br></p><svg><rect width="1"/></svg>`); err != nil {
		t.Error(err)
	}
}
