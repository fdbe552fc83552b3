package lsp

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// The tests in this file deal the server blows (documents of every kind of
// wrongness, malformed frames and params, impossible positions, edit
// storms) and check after each that it still answers a request about a
// valid template correctly, and that its copy of every document is exactly
// the client's. docs/reliability.md lists what they cover.

const canaryURI = "file:///w/canary.yaml"

// abused is a session that keeps a valid template open to ask about, and
// the client's copy of every document it opened.
type abused struct {
	*session
	docs map[string]*doc
}

func newAbused(t *testing.T, opts any) *abused {
	s := newSession(t, nil)
	s.initialize(t, opts)
	a := &abused{session: s, docs: map[string]*doc{}}
	a.docs[canaryURI] = s.open(canaryURI, trailTemplate)
	return a
}

// raw writes bytes to the server as they are, framing included.
func (a *abused) raw(data string) {
	a.wm.Lock()
	defer a.wm.Unlock()
	if _, err := a.w.Write([]byte(data)); err != nil {
		a.t.Fatalf("writing raw bytes: %v", err)
	}
}

// frame writes one message body with a correct Content-Length header.
func (a *abused) frame(body string) {
	a.raw(fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body))
}

// expectUnidentified returns the channel on which the next response with a
// null id (an answer to a message whose id could not be read) arrives.
func (a *abused) expectUnidentified() <-chan *wireMsg {
	ch := make(chan *wireMsg, 1)
	a.mu.Lock()
	a.pending["null"] = ch
	a.mu.Unlock()
	return ch
}

// healthy checks that the server answers a hover on the valid template
// correctly, and then (every message sent before the hover having been
// handled) that its copy of every open document equals the client's.
func (a *abused) healthy(t *testing.T, after string) {
	t.Helper()
	c := a.docs[canaryURI]
	var h *protocol.Hover
	err := a.call("textDocument/hover", map[string]any{"textDocument": map[string]any{"uri": c.uri},
		"position": pos(t, c.text, "AWS::CloudTrail::Trail", 8)}, &h)
	if err != nil || h == nil || !strings.Contains(h.Contents.Value, "**AWS::CloudTrail::Trail**") {
		t.Fatalf("after %s: hover on the valid template: %v, %+v", after, err, h)
	}
	a.sameText(t, after)
}

// sameText compares, by hash, the server's copy of every document with the
// client's.
func (a *abused) sameText(t *testing.T, after string) {
	t.Helper()
	for uri, d := range a.docs {
		sd, ok := a.srv.docs.get(protocol.DocumentURI(uri))
		if !ok {
			t.Fatalf("after %s: %s is not open on the server", after, uri)
		}
		sd.mu.Lock()
		got, version := sha256.Sum256(sd.text), sd.version
		sd.mu.Unlock()
		if want := sha256.Sum256([]byte(d.text)); got != want || version != d.version {
			t.Fatalf("after %s: the server's copy of %s (version %d) differs from the client's (version %d)", after, uri, version, d.version)
		}
	}
}

// acceptable reports whether an error answer is a refusal (bad params, a
// refused request) rather than a failure of the server.
func acceptable(err error) bool {
	re, ok := err.(*rpcError)
	return err == nil || ok && (re.Code == -32602 || re.Code == -32803 || re.Code == -32800)
}

// probe asks every position-based request about a document at the given
// positions: none may fail with anything but a refusal.
func (a *abused) probe(t *testing.T, uri string, positions ...protocol.Position) {
	t.Helper()
	td := map[string]any{"uri": uri}
	for _, p := range positions {
		at := map[string]any{"textDocument": td, "position": p}
		for _, m := range []struct {
			method string
			params any
		}{
			{"textDocument/hover", at},
			{"textDocument/definition", at},
			{"textDocument/references", map[string]any{"textDocument": td, "position": p, "context": map[string]any{"includeDeclaration": true}}},
			{"textDocument/documentHighlight", at},
			{"textDocument/completion", at},
			{"textDocument/prepareRename", at},
			{"textDocument/rename", map[string]any{"textDocument": td, "position": p, "newName": "Renamed"}},
			{"textDocument/codeAction", map[string]any{"textDocument": td, "range": protocol.Range{Start: protocol.Position{}, End: p},
				"context": map[string]any{"diagnostics": []any{}, "only": []string{"quickfix", "source.fixAll"}}}},
			{"textDocument/documentSymbol", map[string]any{"textDocument": td}},
		} {
			if err := a.call(m.method, m.params, nil); !acceptable(err) {
				t.Errorf("%s at %+v in %s: %v", m.method, p, uri, err)
			}
		}
	}
}

const cfnHead = "AWSTemplateFormatVersion: '2010-09-09'\n"

// aliasBomb is the billion laughs in YAML: n levels of ten aliases each,
// 10^n values if expanded.
func aliasBomb(n int) string {
	var b strings.Builder
	b.WriteString(cfnHead + "Metadata:\n  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i < n; i++ {
		p := fmt.Sprintf("*a%d", i-1)
		fmt.Fprintf(&b, "  a%d: &a%d [%s]\n", i, i, strings.Repeat(p+", ", 9)+p)
	}
	b.WriteString("Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      Tags: *a" + fmt.Sprint(n-1) + "\n")
	return b.String()
}

// TestAbusiveDocuments opens documents of every kind of wrongness. Each gets
// its diagnostic (a positioned syntax error, duplicate key, alias or size
// diagnostic) or nothing, every request about it is answered, and the
// server then still answers about a valid template.
func TestAbusiveDocuments(t *testing.T) {
	a := newAbused(t, map[string]any{"maxFileSizeMB": 1})
	crlf := strings.ReplaceAll(trailTemplate, "\n", "\r\n")
	cr := strings.ReplaceAll(trailTemplate, "\n", "\r")
	deepValid := cfnHead + "Resources:\n  Trail:\n    Type: AWS::CloudTrail::Trail\n    Properties:\n      IsMultiRegionTrail: false\n      Deep: " +
		strings.Repeat("[", 5000) + "x" + strings.Repeat("]", 5000) + "\n"
	for _, c := range []struct {
		name, uri, text string
		want            string // a rule id; "" for no diagnostics at all; "*" for whatever the analysis finds
		msg             string // in the wanted diagnostic's message
	}{
		{"unclosed flow sequence", "a.yaml", cfnHead + "Resources: [\n", "SOC2-PARSE-001", "YAML syntax error"},
		{"unclosed flow mapping", "a.yaml", cfnHead + "Resources: {A: {Type: AWS::S3::Bucket}\n", "SOC2-PARSE-001", "YAML syntax error"},
		{"bad indentation", "a.yaml", cfnHead + "Resources:\n  A:\n    Type: AWS::S3::Bucket\n   Properties: {}\n", "SOC2-PARSE-001", "near line"},
		{"tab indentation", "a.yaml", cfnHead + "Resources:\n\tA:\n\t\tType: AWS::S3::Bucket\n", "SOC2-PARSE-001", "near line 3"},
		{"stray colon", "a.yaml", cfnHead + "Resources: a: b\n", "SOC2-PARSE-001", "mapping values are not allowed"},
		{"key without a name", "a.yaml", cfnHead + ": x\n", "SOC2-PARSE-001", "did not find expected key"},
		{"unclosed quote", "a.yaml", cfnHead + "Description: 'open\n", "SOC2-PARSE-001", "YAML syntax error"},
		{"JSON unclosed object", "a.json", `{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {`, "SOC2-PARSE-001", "JSON syntax error at line 1"},
		{"JSON trailing comma", "a.json", "{\"AWSTemplateFormatVersion\": \"2010-09-09\",\n}", "SOC2-PARSE-001", "line 2, column 1"},
		{"JSON unquoted key", "a.json", `{"AWSTemplateFormatVersion": "2010-09-09", Resources: {}}`, "SOC2-PARSE-001", "a quoted key was expected"},
		{"JSON text after the end", "a.json", `{"AWSTemplateFormatVersion": "2010-09-09"} {}`, "SOC2-PARSE-001", "after the end of the document"},
		{"JSON bad escape", "a.json", `{"AWSTemplateFormatVersion": "\q"}`, "SOC2-PARSE-001", "invalid escape"},
		{"binary", "a.yaml", cfnHead + "\x00\x01\x02\x7f\x1b[0m", "SOC2-PARSE-001", "control characters"},
		{"invalid UTF-8 (U+FFFD once decoded)", "a.yaml", cfnHead + "Description: \xff\xfe\xc3\n", "", ""},
		{"byte-order mark", "a.yaml", "\ufeff" + trailTemplate, "SOC2-CT-001", "records only the region"},
		{"CRLF", "a.yaml", crlf, "SOC2-CT-001", "records only the region"},
		{"lone CR", "a.yaml", cr, "*", ""},
		{"10001 nested flow sequences", "a.yaml", cfnHead + "Resources: " + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + "\n", "SOC2-PARSE-001", "exceeded max depth"},
		{"10001 nested block sequences", "a.yaml", cfnHead + "Resources:\n" + strings.Repeat("- ", 10001) + "x\n", "SOC2-PARSE-001", "exceeded max depth"},
		{"10001 nested JSON arrays", "a.json", `{"AWSTemplateFormatVersion": "2010-09-09", "Resources": ` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + "}", "SOC2-PARSE-001", "nesting deeper than 10000 levels"},
		{"5000 nested values in a resource", "a.yaml", deepValid, "SOC2-CT-001", "records only the region"},
		{"alias bomb", "a.yaml", aliasBomb(9), "SOC2-PARSE-003", "CloudFormation does not support anchors and aliases"},
		{"merge key", "a.yaml", cfnHead + "Resources:\n  A: &a {Type: AWS::SQS::Queue}\n  B:\n    <<: *a\n", "SOC2-PARSE-003", "merge key"},
		{"duplicate keys", "a.yaml", cfnHead + "Resources:\n  Trail:\n    Type: AWS::SNS::Topic\n  Trail:\n    Type: AWS::SNS::Topic\n", "SOC2-PARSE-002", `duplicate key "Trail" (first defined on line 3)`},
		{"JSON duplicate keys", "a.json", `{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {}, "Resources": {}}`, "SOC2-PARSE-002", "duplicate key"},
		{"a 512 KB comment line", "a.yaml", "# " + strings.Repeat("x", 512<<10) + "\n" + trailTemplate, "SOC2-CT-001", "records only the region"},
		{"a 512 KB scalar", "a.yaml", trailTemplate + "Description: " + strings.Repeat("ab", 256<<10) + "\n", "SOC2-CT-001", "records only the region"},
		{"a 512 KB line of flow items", "a.yaml", cfnHead + "Metadata: [" + strings.Repeat("a, ", 170<<10) + "b]\n", "", ""},
		{"empty", "a.yaml", "", "", ""},
		{"empty JSON", "a.json", "", "", ""},
		{"only comments", "a.yaml", "# AWSTemplateFormatVersion: '2010-09-09'\n# Resources:\n", "", ""},
		{"only line breaks", "a.yaml", "\r\n\n\r\r\n", "", ""},
		{"a bare scalar", "a.yaml", "AWSTemplateFormatVersion", "", ""},
		{"several documents", "a.yaml", trailTemplate + "---\nother: doc\n", "*", ""},
		{"not CloudFormation, broken", "a.yaml", "key: [unclosed\n", "", ""},
		{"odd shapes", "a.yaml", cfnHead + "Parameters: [1]\nConditions: x\nResources:\n  A: 5\n  B:\n    Type: [AWS::S3::Bucket]\n  C:\n    Type: AWS::S3::Bucket\n    Properties: 7\n    DependsOn: {x: y}\nOutputs: ~\n", "*", ""},
		{"unknown tags everywhere", "a.yaml", cfnHead + "Resources:\n  A: !Bogus\n    Type: !Ref\n    Properties: !GetAtt\n", "*", ""},
		{"over the size limit", "a.yaml", trailTemplate + "# " + strings.Repeat("x", 1<<20) + "\n", "SOC2-PARSE-005", "above the 1 MB limit"},
	} {
		uri := "file:///w/" + strings.ReplaceAll(c.name, " ", "-") + "/" + c.uri
		a.docs[uri] = a.open(uri, c.text)
		// What the server holds: JSON carries invalid UTF-8 as U+FFFD.
		var decoded string
		b, _ := json.Marshal(c.text)
		_ = json.Unmarshal(b, &decoded)
		a.docs[uri].text = decoded
		var syms json.RawMessage
		if err := a.call("textDocument/documentSymbol", map[string]any{"textDocument": map[string]any{"uri": uri}}, &syms); err != nil {
			t.Errorf("%s: documentSymbol: %v", c.name, err)
		}
		got := a.published(uri)
		switch c.want {
		case "":
			if len(got) != 0 {
				t.Errorf("%s: want no diagnostics, got %v", c.name, codes(got[len(got)-1]))
			}
		case "*":
		default:
			if len(got) == 0 {
				t.Errorf("%s: no diagnostics, want %s", c.name, c.want)
				break
			}
			p := got[len(got)-1]
			lines := template.NewLines([]byte(c.text))
			found := false
			for _, d := range p.Diagnostics {
				if less(d.Range.End, d.Range.Start) || int(d.Range.End.Line) >= lines.Count() {
					t.Errorf("%s: %s range %+v outside the %d-line document", c.name, d.Code, d.Range, lines.Count())
				}
				if d.Code == c.want && strings.Contains(d.Message, c.msg) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: no %s diagnostic saying %q in %+v", c.name, c.want, c.msg, p.Diagnostics)
			}
			if c.want == "SOC2-PARSE-003" && len(p.Diagnostics) > strings.Count(c.text, "*")+strings.Count(c.text, "&")+1 {
				t.Errorf("%s: %d diagnostics for %d anchors and aliases", c.name, len(p.Diagnostics), strings.Count(c.text, "*")+strings.Count(c.text, "&"))
			}
		}
		end := toPosition(template.NewLines([]byte(c.text)), len(c.text))
		a.probe(t, uri, protocol.Position{}, end, protocol.Position{Line: end.Line + 1000, Character: 1 << 30})
		a.healthy(t, c.name)
	}

	// The same finding on the same line and column, whatever the line breaks,
	// and with a byte-order mark (which is a character on the first line only).
	var want protocol.Range
	for i, uri := range []string{canaryURI, "file:///w/CRLF/a.yaml", "file:///w/lone-CR/a.yaml", "file:///w/byte-order-mark/a.yaml"} {
		ps := a.published(uri)
		var ct *protocol.Diagnostic
		for j, d := range ps[len(ps)-1].Diagnostics {
			if d.Code == "SOC2-CT-001" {
				ct = &ps[len(ps)-1].Diagnostics[j]
			}
		}
		switch {
		case ct == nil:
			t.Errorf("%s: no SOC2-CT-001", uri)
		case i == 0:
			want = ct.Range
		case ct.Range != want:
			t.Errorf("%s: SOC2-CT-001 at %+v, want %+v", uri, ct.Range, want)
		}
	}
}

// TestAbusiveFrames sends malformed JSON-RPC frames and bodies: each is
// answered with an error (with a null id when the id cannot be read) or
// skipped, and the session goes on.
func TestAbusiveFrames(t *testing.T) {
	a := newAbused(t, nil)
	setTrace := `{"jsonrpc":"2.0","method":"$/setTrace","params":{"value":"off"}}`
	for _, c := range []struct {
		name string
		send func()
		code int // of the error response with a null id; 0 for none
	}{
		{"body is not JSON", func() { a.frame("{not json at all") }, -32700},
		{"body is truncated", func() { a.frame(`{"jsonrpc":"2.0","id":5,"method":"textDocument/hover","params":{`) }, -32700},
		{"body is binary", func() { a.frame("\x00\xff\xfe\x01") }, -32700},
		{"body is a batch", func() { a.frame(`[{"jsonrpc":"2.0","method":"initialized","params":{}}]`) }, -32600},
		{"body is a string", func() { a.frame(`"hello"`) }, -32600},
		{"body is null", func() { a.frame(`null`) }, -32600},
		{"body has neither id nor method", func() { a.frame(`{"jsonrpc":"2.0"}`) }, -32600},
		{"id is an object", func() { a.frame(`{"jsonrpc":"2.0","id":{"x":1},"method":"textDocument/hover"}`) }, -32600},
		{"empty body", func() { a.raw("Content-Length: 0\r\n\r\n") }, -32700},
		{"header line without a colon", func() { a.raw("Content-Length: 2\r\nbogus\r\n\r\n{}") }, -32700},
		{"negative Content-Length", func() { a.raw("Content-Length: -5\r\n\r\n") }, -32700},
		{"Content-Length is not a number", func() { a.raw("Content-Length: twelve\r\n\r\n{}") }, -32700},
		{"Content-Length overflows", func() { a.raw("Content-Length: 99999999999999999999\r\n\r\n") }, -32700},
		{"no Content-Length", func() { a.raw("Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n" + setTrace) }, -32700},
		{"Content-Length too small", func() { a.raw("Content-Length: 10\r\n\r\n" + setTrace) }, -32700},
		{"Content-Length too large", func() {
			a.raw(fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(setTrace)+40, setTrace))
			// Its first 40 bytes end the body, after the message, which is
			// decoded (what trails it is ignored); the rest is skipped up to the
			// next header.
			a.frame(setTrace)
		}, 0},
		{"garbage between messages", func() { a.raw("hello\r\nworld\r\n\r\n") }, 0},
		{"lower-case header and extra headers", func() {
			a.raw(fmt.Sprintf("content-length: %d\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\nX-Other: 1\r\n\r\n%s", len(setTrace), setTrace))
		}, 0},
		{"invalid UTF-8 in a document's text", func() {
			body := `{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///w/utf8.yaml","languageId":"yaml","version":1,"text":"Description: ` + "\xff\xfe\xed\xa0\x80" + ` \ud800 ok\n"}}}`
			a.frame(body)
			// What the server holds: invalid bytes and lone surrogates become U+FFFD.
			a.docs["file:///w/utf8.yaml"] = &doc{uri: "file:///w/utf8.yaml", version: 1, text: "Description: \ufffd\ufffd\ufffd\ufffd\ufffd \ufffd ok\n"}
		}, 0},
		{"unknown notification with odd params", func() { a.frame(`{"jsonrpc":"2.0","method":"$/progress","params":[1,{"x":null}]}`) }, 0},
		{"a response to nothing", func() { a.frame(`{"jsonrpc":"2.0","id":424242,"result":{"x":1}}`) }, 0},
	} {
		var ch <-chan *wireMsg
		if c.code != 0 {
			ch = a.expectUnidentified()
		}
		t.Logf("blow: %s", c.name)
		c.send()
		if ch != nil {
			if err := a.wait(ch, nil); err == nil || err.(*rpcError).Code != c.code {
				t.Errorf("%s: answered %v, want error code %d", c.name, err, c.code)
			}
		}
		a.healthy(t, c.name)
	}
	a.mu.Lock()
	delete(a.pending, "null")
	a.mu.Unlock()
}

// TestAbusiveParams sends every request and notification the server serves
// with params of the wrong shape and positions outside the document: the
// answers are InvalidParams or refusals, never an internal error, and the
// server goes on.
func TestAbusiveParams(t *testing.T) {
	a := newAbused(t, nil)
	td := map[string]any{"uri": canaryURI}
	far := map[string]any{"line": 4294967295, "character": 4294967295}
	shapes := []any{
		nil, map[string]any{}, []any{}, 5, "x", true,
		map[string]any{"textDocument": 5},
		map[string]any{"textDocument": map[string]any{"uri": 5}},
		map[string]any{"textDocument": map[string]any{"uri": "file:///w/never-opened.yaml"}, "position": map[string]any{"line": 0, "character": 0}},
		map[string]any{"textDocument": td, "position": "x"},
		map[string]any{"textDocument": td, "position": map[string]any{"line": -1, "character": 0}},
		map[string]any{"textDocument": td, "position": map[string]any{"line": 1.5, "character": 1e300}},
		map[string]any{"textDocument": td, "position": map[string]any{"line": 4294967296, "character": 0}},
		map[string]any{"textDocument": td, "position": far, "newName": "", "context": 5},
		map[string]any{"textDocument": td, "position": far, "newName": strings.Repeat("N", 1<<16), "context": map[string]any{"includeDeclaration": "yes"}},
		map[string]any{"textDocument": td, "range": map[string]any{"start": far, "end": map[string]any{"line": 0, "character": 0}}, "context": map[string]any{"diagnostics": 5}},
		map[string]any{"textDocument": td, "range": map[string]any{"start": map[string]any{"line": 3, "character": 0}, "end": far},
			"context": map[string]any{"diagnostics": []any{map[string]any{"range": 5, "code": []any{}}}, "only": []any{5}}},
	}
	var requests, notifications []string
	for m, r := range a.srv.routes() {
		switch {
		case m == "initialize" || m == "shutdown":
		case r.notification:
			notifications = append(notifications, m)
		default:
			requests = append(requests, m)
		}
	}
	for _, m := range requests {
		for _, p := range shapes {
			if err := a.call(m, p, nil); !acceptable(err) {
				t.Errorf("%s with params %v: %v", m, p, err)
			}
		}
	}
	a.healthy(t, "requests with params of the wrong shape")
	for _, m := range notifications {
		for _, p := range shapes {
			if m == "textDocument/didOpen" || m == "textDocument/didClose" || m == "textDocument/didChange" {
				if b, _ := json.Marshal(p); strings.Contains(string(b), canaryURI) {
					continue // would legitimately change the canary
				}
			}
			a.notify(m, p)
		}
	}
	a.healthy(t, "notifications with params of the wrong shape")
	// Lifecycle requests out of place.
	if err := a.call("initialize", map[string]any{"capabilities": 5}, nil); err == nil {
		t.Errorf("a second initialize was accepted")
	}
	a.healthy(t, "a second initialize")
}

// TestAbusiveEdits edits with positions outside the document, reversed
// ranges, versions that do not increase, edits of documents never opened or
// already closed, bursts of hundreds of edits, and random edit sequences;
// after each the server's copy equals the client's (refApply is the naive
// reference) and the server answers.
func TestAbusiveEdits(t *testing.T) {
	a := newAbused(t, nil)
	d := a.open("file:///w/edits.yaml", trailTemplate)
	a.docs[d.uri] = d
	send := func(version int32, changes ...contentChange) {
		var cs []map[string]any
		for _, c := range changes {
			m := map[string]any{"text": c.Text}
			if c.Range != nil {
				m["range"] = c.Range
			}
			cs = append(cs, m)
		}
		a.notify("textDocument/didChange", map[string]any{"textDocument": map[string]any{"uri": d.uri, "version": version}, "contentChanges": cs})
		if text, ok := refApply(d.text, changes); ok {
			d.text, d.version = text, version
		}
	}
	at := func(line, char uint32) protocol.Position { return protocol.Position{Line: line, Character: char} }
	rng := func(a, b protocol.Position) *protocol.Range { return &protocol.Range{Start: a, End: b} }
	cases := []struct {
		name string
		do   func()
	}{
		{"insert far past the end", func() { send(d.version+1, contentChange{Range: rng(at(1e6, 1e6), at(1e6, 1e6)), Text: "# tail\n"}) }},
		{"insert past a line's end", func() { send(d.version+1, contentChange{Range: rng(at(1, 1e9), at(1, 1e9)), Text: " more"}) }},
		{"replace to far past the end", func() { send(d.version+1, contentChange{Range: rng(at(40, 0), at(1e9, 0)), Text: ""}) }},
		{"reversed range (rejected whole)", func() {
			send(d.version+1, contentChange{Range: rng(at(0, 0), at(0, 0)), Text: "# first\n"}, contentChange{Range: rng(at(5, 0), at(2, 0)), Text: "x"})
		}},
		{"same version", func() { send(d.version, contentChange{Range: rng(at(0, 0), at(0, 0)), Text: "# same version\n"}) }},
		{"lower version", func() { send(d.version-5, contentChange{Range: rng(at(0, 0), at(0, 0)), Text: "# lower version\n"}) }},
		{"empty change list", func() { send(d.version + 1) }},
		{"full text, then ranged", func() {
			send(d.version+1, contentChange{Text: trailTemplate}, contentChange{Range: rng(at(0, 0), at(0, 3)), Text: "\ufeffAWS"})
		}},
		{"delete the byte-order mark", func() { send(d.version+1, contentChange{Range: rng(at(0, 0), at(0, 1)), Text: ""}) }},
		{"split a CRLF", func() {
			send(d.version+1, contentChange{Range: rng(at(0, 0), at(0, 0)), Text: "# a\r\n# b\r\n"}, contentChange{Range: rng(at(0, 3), at(1, 0)), Text: "\r"})
		}},
		{"edit a document never opened", func() {
			a.notify("textDocument/didChange", map[string]any{"textDocument": map[string]any{"uri": "file:///w/nope.yaml", "version": 2},
				"contentChanges": []map[string]any{{"text": "x"}}})
		}},
		{"close a document never opened", func() {
			a.notify("textDocument/didClose", map[string]any{"textDocument": map[string]any{"uri": "file:///w/nope.yaml"}})
		}},
		{"edit a closed document", func() {
			u := "file:///w/closed.yaml"
			a.open(u, trailTemplate)
			a.notify("textDocument/didClose", map[string]any{"textDocument": map[string]any{"uri": u}})
			a.notify("textDocument/didChange", map[string]any{"textDocument": map[string]any{"uri": u, "version": 2},
				"contentChanges": []map[string]any{{"text": "x"}}})
			if err := a.call("textDocument/hover", map[string]any{"textDocument": map[string]any{"uri": u}, "position": at(0, 0)}, nil); err == nil {
				t.Errorf("a closed document answered a hover")
			}
		}},
		{"open twice", func() {
			a.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": d.uri, "languageId": "yaml", "version": 1, "text": "# reopened\n" + trailTemplate}})
			d.text, d.version = "# reopened\n"+trailTemplate, 1
		}},
	}
	for _, c := range cases {
		c.do()
		a.healthy(t, c.name)
	}

	// A burst of 500 keystrokes, one notification each: the diagnostics of
	// the last version arrive, and the text is the client's.
	for i := 0; i < 500; i++ {
		p := toPosition(template.NewLines([]byte(d.text)), strings.Index(d.text, "Resources:"))
		send(d.version+1, contentChange{Range: rng(p, p), Text: string("# é😀\n"[i%len("# é😀\n")])})
	}
	if err := a.call("textDocument/documentSymbol", map[string]any{"textDocument": map[string]any{"uri": d.uri}}, nil); err != nil {
		t.Fatal(err)
	}
	a.healthy(t, "a burst of 500 edits")

	// Random sequences of ranged edits at any position, in notifications of
	// one to four changes, checked against the reference after each.
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 300; i++ {
		var changes []contentChange
		for n := 1 + r.Intn(4); n > 0; n-- {
			s := at(uint32(r.Intn(50)), uint32(r.Intn(40)))
			e := at(s.Line+uint32(r.Intn(2)), uint32(r.Intn(40)))
			if r.Intn(20) == 0 {
				s, e = e, s // now and then reversed: the notification is rejected
			}
			changes = append(changes, contentChange{Range: rng(s, e), Text: fragments[r.Intn(len(fragments))]})
		}
		send(d.version+1, changes...)
		if i%50 == 49 {
			a.healthy(t, fmt.Sprintf("%d random edits", i+1))
		}
	}
	a.probe(t, d.uri, at(0, 0), at(10, 5), at(1e6, 0))
	a.healthy(t, "random edits")
}

// TestAbusiveCancellation cancels requests that are in flight, finished,
// unknown, and with ids of the wrong type.
func TestAbusiveCancellation(t *testing.T) {
	a := newAbused(t, nil)
	for i, params := range []any{
		map[string]any{"id": 999999}, map[string]any{"id": "never-sent"}, map[string]any{"id": map[string]any{"x": 1}},
		map[string]any{"id": 1.5}, map[string]any{"id": 1e300}, map[string]any{}, nil, []any{1},
	} {
		a.notify("$/cancelRequest", params)
		a.healthy(t, fmt.Sprintf("cancel #%d %v", i, params))
	}
	// Cancel requests while they run: each is answered, cancelled or not.
	c := a.docs[canaryURI]
	var chans []<-chan *wireMsg
	for i := 0; i < 50; i++ {
		id := fmt.Sprintf("c%d", i)
		chans = append(chans, a.start(id, "textDocument/references", map[string]any{"textDocument": map[string]any{"uri": c.uri},
			"position": pos(t, c.text, "Logs:", 0), "context": map[string]any{"includeDeclaration": true}}))
		a.notify("$/cancelRequest", map[string]any{"id": id})
		a.notify("$/cancelRequest", map[string]any{"id": id}) // twice
	}
	for i, ch := range chans {
		if err := a.wait(ch, nil); !acceptable(err) {
			t.Errorf("cancelled request c%d: %v", i, err)
		}
	}
	a.healthy(t, "cancelling requests in flight")
}

// TestClientClosesStream: the client closes its end without exit; Serve
// returns 1 and nothing hangs.
func TestClientClosesStream(t *testing.T) {
	a := newAbused(t, nil)
	a.healthy(t, "start")
	a.w.(interface{ Close() error }).Close()
	select {
	case code := <-a.served:
		if code != 1 {
			t.Errorf("Serve returned %d after the stream closed without exit, want 1", code)
		}
	case <-timeoutC():
		t.Fatal("Serve did not return after the client closed the stream")
	}
}

// TestAfterShutdown: after shutdown every request is refused and every
// notification ignored, until exit.
func TestAfterShutdown(t *testing.T) {
	a := newAbused(t, nil)
	a.healthy(t, "start")
	if err := a.call("shutdown", nil, nil); err != nil {
		t.Fatal(err)
	}
	a.notify("textDocument/didChange", map[string]any{"textDocument": map[string]any{"uri": canaryURI, "version": 9},
		"contentChanges": []map[string]any{{"text": "changed after shutdown"}}})
	for _, m := range []string{"textDocument/hover", "shutdown", "initialize"} {
		if err := a.call(m, map[string]any{}, nil); err == nil || err.(*rpcError).Code != -32600 {
			t.Errorf("%s after shutdown: %v, want InvalidRequest", m, err)
		}
	}
	a.sameText(t, "notifications after shutdown")
	a.notify("exit", nil)
	if code := a.exitCode(t); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

func timeoutC() <-chan time.Time { return time.After(timeout) }

// observed starts a session whose server logs at debug level into an
// observer, and returns the recorded entries.
func observed(t *testing.T, configure func(*Server)) (*abused, *observer.ObservedLogs) {
	core, logs := observer.New(zapcore.DebugLevel)
	s := newSession(t, func(srv *Server) {
		srv.log = zap.New(core)
		if configure != nil {
			configure(srv)
		}
	})
	s.initialize(t, nil)
	a := &abused{session: s, docs: map[string]*doc{}}
	a.docs[canaryURI] = s.open(canaryURI, trailTemplate)
	return a, logs
}

// entryText is everything a log entry says: its message and every field.
func entryText(e observer.LoggedEntry) string {
	var b strings.Builder
	b.WriteString(e.Message)
	for k, v := range e.ContextMap() {
		fmt.Fprintf(&b, " %s=%v", k, v)
	}
	return b.String()
}

// TestLogsHoldNoTemplateText runs a session at debug level over a template
// that carries a marker in comments, descriptions, values, a syntax error
// and malformed frames, and checks that no log entry contains the marker:
// logs name documents, versions, sizes and counts, never their text.
func TestLogsHoldNoTemplateText(t *testing.T) {
	const marker = "Zq7SecretMarker"
	a, logs := observed(t, nil)
	text := strings.Replace(trailTemplate, "Deployment stage", "Deployment stage "+marker, 1) + "# " + marker + "\n"
	d := a.open("file:///w/secret.yaml", text)
	a.docs[d.uri] = d
	a.healthy(t, "open")
	a.probe(t, d.uri, pos(t, d.text, marker, 0), pos(t, d.text, "Environment", 0))
	a.change(d, insertEdit(t, d.text, "Resources:", "  "+marker+": [\n")) // a syntax error next to the marker
	a.probe(t, d.uri, pos(t, d.text, marker, 2))
	a.change(d, replaceEdit(t, d.text, "  "+marker+": [\n", ""))
	a.frame(`{"jsonrpc":"2.0","id":1,"method":"x","params":"` + marker) // not JSON
	a.raw("Content-Length: " + marker + "\r\n\r\n")                     // not a length
	a.raw(marker + " garbage\r\n")
	a.notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"soc2ls": map[string]any{"rules": map[string]any{marker: "off"}, "logLevel": marker}}})
	a.healthy(t, "the session")
	if logs.Len() < 20 {
		t.Fatalf("only %d log entries: is the logger wired?", logs.Len())
	}
	for _, e := range logs.All() {
		if s := entryText(e); strings.Contains(s, marker) && !strings.HasPrefix(e.Message, "settings: ") {
			t.Errorf("a log entry holds template text: %s", s)
		}
	}
}

// TestRulePanicThroughLSP: a rule that panics on every bucket is recovered
// once per resource it failed on, logged with the rule id and the template
// line, and reported as one internal-error diagnostic per failure at the
// resource; the other rules' findings still arrive.
func TestRulePanicThroughLSP(t *testing.T) {
	boom := &analysis.Rule{ID: "SOC2-TEST-998", Title: "panics", Severity: analysis.Error, Controls: []string{"CC7.2"},
		Types: []string{"AWS::S3::Bucket"}, Check: func(*analysis.Pass) { panic("index out of range [3] with length 1") }}
	a, logs := observed(t, func(srv *Server) {
		srv.opts.Rules = append(testRules(t), boom)
		srv.engine = analysis.NewEngine(srv.opts.Rules, srv.cfg.engineOptions())
	})
	text := trailTemplate + "  # a second bucket\n"
	text = strings.Replace(text, "Outputs:\n", "  Logs2:\n    Type: AWS::S3::Bucket\nOutputs:\n", 1)
	d := a.open("file:///w/panics.yaml", text)
	a.docs[d.uri] = d
	p := a.waitDiagnostics(d.uri, atVersion(1))
	var internal []protocol.Diagnostic
	for _, dg := range p.Diagnostics {
		if dg.Code == "SOC2-INTERNAL-001" {
			internal = append(internal, dg)
		}
	}
	if len(internal) != 2 || !hasCode(p, "SOC2-CT-001") || !hasCode(p, "SOC2-S3-001") {
		t.Fatalf("want two internal errors (one per bucket) and the other findings, got %v", codes(p))
	}
	for i, name := range []string{"Logs", "Logs2"} {
		line := strings.Count(text[:strings.Index(text, "\n  "+name+":\n")+1], "\n")
		if got := internal[i]; got.Range.Start.Line != uint32(line) || !strings.Contains(got.Message, "rule SOC2-TEST-998 failed on resource "+name) ||
			!strings.Contains(got.Message, fmt.Sprintf("(line %d)", line+1)) {
			t.Errorf("internal error %d: %+v", i, got)
		}
	}
	var logged []string
	for _, e := range logs.FilterMessage("rule panicked").All() {
		m := e.ContextMap()
		if m["file"] == "/w/canary.yaml" {
			continue // it has a bucket too
		}
		if m["rule"] != "SOC2-TEST-998" || m["file"] != "/w/panics.yaml" || m["line"] == nil || m["stack"] == nil {
			t.Errorf("panic log entry lacks the rule, file, line or stack: %v", m)
		}
		logged = append(logged, fmt.Sprint(m["line"]))
	}
	if len(logged) != 2 {
		t.Errorf("%d panic log entries, want 2: %v", len(logged), logged)
	}
	// Published once: an edit elsewhere that changes nothing does not repeat
	// them, and the session goes on.
	a.change(d, insertEdit(t, d.text, "Resources:", "# comment\n"))
	if err := a.call("textDocument/documentSymbol", map[string]any{"textDocument": map[string]any{"uri": d.uri}}, nil); err != nil {
		t.Fatal(err)
	}
	a.healthy(t, "the panics")
	if n := len(a.published(d.uri)); n != 2 {
		t.Errorf("%d publications, want 2 (open, then the moved lines)", n)
	}
}

// fetchTemplate is full of things that, executed, would fetch or run
// something: a macro transform, AWS::Include from S3, dynamic references to
// SSM and Secrets Manager, S3 and HTTPS URLs, nested stacks.
const fetchTemplate = `AWSTemplateFormatVersion: "2010-09-09"
Transform: [AWS::Serverless-2016-10-31, MyMacro, {Name: AWS::Include, Parameters: {Location: s3://bucket/snippet.yaml}}]
Resources:
  Fragment:
    Fn::Transform:
      Name: AWS::Include
      Parameters:
        Location: https://example.invalid/snippet.yaml
  Stack:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: https://s3.amazonaws.com/bucket/nested.yaml
  Trail:
    Type: AWS::CloudTrail::Trail
    Properties:
      IsLogging: true
      IsMultiRegionTrail: false
      S3BucketName: '{{resolve:ssm:/audit/bucket:1}}'
      KMSKeyId: '{{resolve:secretsmanager:arn:aws:secretsmanager:us-east-1:123456789012:secret:key:SecretString:id}}'
      Tags: !Transform {Name: MyMacro, Parameters: {Url: "http://169.254.169.254/latest/meta-data/"}}
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Code: {S3Bucket: bucket, S3Key: code.zip}
      Runtime: python3.12
`

// TestNothingIsFetched: a template full of transforms, includes, dynamic
// references and URLs is analysed as text. That the analysis cannot reach
// out is a property of its code: no package of analysis/ (the engine, the
// rules, the parser, the report writers) imports the network, processes or
// plugins, even indirectly, nor opens files itself.
func TestNothingIsFetched(t *testing.T) {
	a := newAbused(t, nil)
	d := a.open("file:///w/fetch.yaml", fetchTemplate)
	a.docs[d.uri] = d
	p := a.waitDiagnostics(d.uri, atVersion(1))
	if !hasCode(p, "SOC2-CT-001") {
		t.Errorf("the template was not analysed as text: %v", codes(p))
	}
	a.probe(t, d.uri, pos(t, d.text, "s3://bucket", 3), pos(t, d.text, "{{resolve:ssm", 4), pos(t, d.text, "!Transform", 2), pos(t, d.text, "AWS::Include", 5))
	a.healthy(t, "a template of includes and dynamic references")

	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to list the imports with: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-f", "{{.ImportPath}}|{{join .Imports \" \"}}|{{join .Deps \" \"}}", "../analysis/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	forbidden := map[string]bool{"net": true, "net/http": true, "os/exec": true, "plugin": true, "crypto/tls": true, "net/rpc": true, "net/smtp": true}
	direct := map[string]bool{"os": true, "io/ioutil": true, "syscall": true, "unsafe": true}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.Split(line, "|")
		if len(parts) != 3 {
			t.Fatalf("go list output: %q", line)
		}
		pkg := parts[0]
		n++
		for _, dep := range strings.Fields(parts[2]) {
			if forbidden[dep] {
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
		if strings.HasSuffix(pkg, "/analysistest") {
			continue // the test helper reads testdata files
		}
		if strings.HasSuffix(pkg, "/analysis/config") || strings.HasSuffix(pkg, "/analysis/baseline") {
			// They read their own files (the nearest .soc2ls.yaml, the
			// baseline named on the command line), never a template or
			// anything a template names; the network stays out (above).
			continue
		}
		for _, imp := range strings.Fields(parts[1]) {
			if direct[imp] {
				t.Errorf("%s imports %s: the analysis must only read what it is handed", pkg, imp)
			}
		}
	}
	if n < 5 {
		t.Errorf("go list found only %d packages under analysis/", n)
	}
}

// TestServerWritesNoFiles: the server changes the user's files only through
// the WorkspaceEdits the client applies; it has no way to do otherwise, since
// the lsp package imports neither the file system nor the network nor
// processes (its libraries' use of net/http is for transports it does not
// use; it speaks over the stream it is given). The one file it reads on its
// own, a .soc2ls.yaml that is not open, it reads through analysis/config.
func TestServerWritesNoFiles(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to list the imports with: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-f", "{{join .Imports \" \"}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	imports := strings.Fields(string(out))
	if len(imports) < 10 {
		t.Fatalf("go list gave %q", out)
	}
	for _, imp := range imports {
		switch imp {
		case "os", "io/ioutil", "os/exec", "net", "net/http", "syscall", "plugin", "unsafe":
			t.Errorf("package lsp imports %s", imp)
		}
	}
}

// pipeRW is a stream's connection in tests: reads from a reader, records
// writes.
type pipeRW struct {
	io.Reader
	out strings.Builder
}

func (p *pipeRW) Write(b []byte) (int, error) { return p.out.Write(b) }
func (p *pipeRW) Close() error                { return nil }

// TestStreamMemory: an announced length costs nothing until its bytes
// arrive, and a body above maxFrameSize is discarded (and answered) without
// being held, the next message being read normally.
func TestStreamMemory(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rw := &pipeRW{Reader: strings.NewReader("Content-Length: 2000000000\r\n\r\n{\"jsonrpc\":")}
	if _, _, err := newStream(rw, zap.NewNop()).Read(context.Background()); err == nil {
		t.Fatalf("a truncated 2 GB body was read without error")
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
		t.Errorf("announcing 2 GB allocated %d MB", grew>>20)
	}

	defer func(n int64) { maxFrameSize = n }(maxFrameSize)
	maxFrameSize = 1 << 10
	note := `{"jsonrpc":"2.0","method":"initialized","params":{}}`
	big := `{"jsonrpc":"2.0","id":7,"method":"x","params":"` + strings.Repeat("x", 4<<20) + `"}`
	rw = &pipeRW{Reader: strings.NewReader(fmt.Sprintf("Content-Length: %d\r\n\r\n%sContent-Length: %d\r\n\r\n%s", len(big), big, len(note), note))}
	runtime.GC()
	runtime.ReadMemStats(&before)
	msg, _, err := newStream(rw, zap.NewNop()).Read(context.Background())
	runtime.ReadMemStats(&after)
	if err != nil || msg.(jsonrpc2.Request).Method() != "initialized" {
		t.Fatalf("after a discarded body: %v, %v", msg, err)
	}
	if !strings.Contains(rw.out.String(), `"code":-32600`) || !strings.Contains(rw.out.String(), "discarded") {
		t.Errorf("the discarded body was not answered: %q", rw.out.String())
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 2<<20 {
		t.Errorf("discarding a 4 MB body allocated %d KB", grew>>10)
	}
}
