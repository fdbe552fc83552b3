package lsp

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/rules"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// timeout bounds every wait of the tests; nothing is timed.
const timeout = 20 * time.Second

// testRuleIDs are the rules the tests run: a fixed set, so that rules added
// to the catalogue later do not change the expectations.
var testRuleIDs = []string{"SOC2-CT-001", "SOC2-TAG-001", "SOC2-S3-001", "SOC2-PARAM-001"}

func testRules(t testing.TB) []*analysis.Rule {
	var out []*analysis.Rule
	for _, id := range testRuleIDs {
		for _, r := range rules.All() {
			if r.ID == id {
				out = append(out, r)
			}
		}
	}
	if len(out) != len(testRuleIDs) {
		t.Fatalf("test rules missing from the catalogue: have %d of %v", len(out), testRuleIDs)
	}
	return out
}

// wireMsg is any JSON-RPC message, as the client sees it.
type wireMsg struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

// rpcError is a JSON-RPC error response.
type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *rpcError) Error() string { return fmt.Sprintf("rpc error %d: %s", e.Code, e.Message) }

// client is a minimal LSP client that frames messages itself (Content-Length
// headers), so that the tests control ids and see every byte's meaning.
type client struct {
	t  testing.TB
	w  io.Writer
	wm sync.Mutex

	mu       sync.Mutex
	nextID   int
	pending  map[string]chan *wireMsg
	notes    []*wireMsg    // every notification, in arrival order
	requests []*wireMsg    // every request from the server, in arrival order
	scanned  int           // notes already looked at by waitVersion
	noteSig  chan struct{} // signalled on each notification
	config   json.RawMessage
	readErr  error
	readDone chan struct{}
}

func newClient(t testing.TB, r io.Reader, w io.Writer) *client {
	c := &client{t: t, w: w, pending: map[string]chan *wireMsg{}, noteSig: make(chan struct{}, 1), readDone: make(chan struct{})}
	go c.read(bufio.NewReader(r))
	return c
}

func (c *client) read(r *bufio.Reader) {
	defer close(c.readDone)
	tp := textproto.NewReader(r)
	for {
		h, err := tp.ReadMIMEHeader()
		if err != nil {
			c.mu.Lock()
			c.readErr = err
			c.mu.Unlock()
			return
		}
		n, err := strconv.Atoi(h.Get("Content-Length"))
		if err != nil {
			c.readErr = fmt.Errorf("bad Content-Length %q", h.Get("Content-Length"))
			return
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			c.readErr = err
			return
		}
		var m wireMsg
		if err := json.Unmarshal(body, &m); err != nil {
			c.readErr = fmt.Errorf("bad message %s: %v", body, err)
			return
		}
		switch {
		case m.Method != "" && m.ID != nil: // a request from the server
			c.mu.Lock()
			c.requests = append(c.requests, &m)
			c.mu.Unlock()
			select {
			case c.noteSig <- struct{}{}:
			default:
			}
			var result any
			if m.Method == "workspace/configuration" {
				c.mu.Lock()
				cfg := c.config
				c.mu.Unlock()
				if cfg == nil {
					cfg = json.RawMessage("null")
				}
				result = []json.RawMessage{cfg}
			}
			go c.send(map[string]any{"jsonrpc": "2.0", "id": m.ID, "result": result})
		case m.Method != "":
			c.mu.Lock()
			c.notes = append(c.notes, &m)
			c.mu.Unlock()
			select {
			case c.noteSig <- struct{}{}:
			default:
			}
		default:
			c.mu.Lock()
			ch := c.pending[string(m.ID)]
			delete(c.pending, string(m.ID))
			c.mu.Unlock()
			if ch != nil {
				ch <- &m
			}
		}
	}
}

func (c *client) send(msg any) {
	data, err := json.Marshal(msg)
	if err != nil {
		panic(err)
	}
	c.wm.Lock()
	defer c.wm.Unlock()
	fmt.Fprintf(c.w, "Content-Length: %d\r\n\r\n%s", len(data), data)
}

// start sends a request with the given id (a number or a string) and
// returns the channel its response arrives on.
func (c *client) start(id any, method string, params any) <-chan *wireMsg {
	raw, _ := json.Marshal(id)
	ch := make(chan *wireMsg, 1)
	c.mu.Lock()
	c.pending[string(raw)] = ch
	c.mu.Unlock()
	msg := map[string]any{"jsonrpc": "2.0", "id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	c.send(msg)
	return ch
}

// call sends a request with the next numeric id and waits for its response.
func (c *client) call(method string, params, result any) error {
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	c.mu.Unlock()
	return c.wait(c.start(id, method, params), result)
}

func (c *client) wait(ch <-chan *wireMsg, result any) error {
	c.t.Helper()
	select {
	case m := <-ch:
		if m.Error != nil {
			return m.Error
		}
		if result != nil {
			if err := json.Unmarshal(m.Result, result); err != nil {
				c.t.Fatalf("decoding result %s: %v", m.Result, err)
			}
		}
		return nil
	case <-time.After(timeout):
		c.t.Fatalf("no response within %v", timeout)
		return nil
	}
}

func (c *client) notify(method string, params any) {
	c.send(map[string]any{"jsonrpc": "2.0", "method": method, "params": params})
}

// published returns the diagnostics published so far for uri, in order.
func (c *client) published(uri string) []publishDiagnosticsParams {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []publishDiagnosticsParams
	for _, m := range c.notes {
		if m.Method != "textDocument/publishDiagnostics" {
			continue
		}
		var p publishDiagnosticsParams
		if err := json.Unmarshal(m.Params, &p); err != nil {
			c.t.Fatalf("bad publishDiagnostics %s: %v", m.Params, err)
		}
		if string(p.URI) == uri {
			out = append(out, p)
		}
	}
	return out
}

// notifications returns the params of every notification with a method.
func (c *client) notifications(method string) []json.RawMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []json.RawMessage
	for _, m := range c.notes {
		if m.Method == method {
			out = append(out, m.Params)
		}
	}
	return out
}

// waitFor waits until cond holds over the notifications received, checking
// at each arrival; it fails the test after the timeout.
func (c *client) waitFor(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.After(timeout)
	for !cond() {
		select {
		case <-c.noteSig:
		case <-c.readDone:
			if !cond() {
				c.t.Fatalf("connection closed while waiting for %s: %v", what, c.readErr)
			}
			return
		case <-deadline:
			c.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// waitDiagnostics waits for a publication for uri that satisfies ok and
// returns it.
func (c *client) waitDiagnostics(uri string, ok func(publishDiagnosticsParams) bool) publishDiagnosticsParams {
	c.t.Helper()
	var got publishDiagnosticsParams
	c.waitFor("diagnostics for "+uri, func() bool {
		for _, p := range c.published(uri) {
			if ok(p) {
				got = p
				return true
			}
		}
		return false
	})
	return got
}

// session is a server connected to a client over net.Pipe.
type session struct {
	*client
	srv    *Server
	served chan int
	exits  chan int
}

// newSession starts a server in-process; configure may adjust it before it
// serves.
func newSession(t testing.TB, configure func(*Server)) *session {
	t.Helper()
	a, b := net.Pipe()
	s := &session{served: make(chan int, 1), exits: make(chan int, 1)}
	s.srv = NewServer(Options{Rules: testRules(t), Logger: testLogger(t), Version: "test",
		Exit: func(code int) { s.exits <- code }})
	if configure != nil {
		configure(s.srv)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		code, _ := s.srv.Serve(ctx, a)
		s.served <- code
	}()
	s.client = newClient(t, b, b)
	t.Cleanup(func() {
		cancel()
		b.Close()
		a.Close()
	})
	return s
}

// fullCapabilities are what a modern editor announces.
var fullCapabilities = map[string]any{
	"workspace": map[string]any{"workspaceEdit": map[string]any{"documentChanges": true}},
	"textDocument": map[string]any{
		"hover":              map[string]any{"contentFormat": []string{"markdown", "plaintext"}},
		"documentSymbol":     map[string]any{"hierarchicalDocumentSymbolSupport": true},
		"publishDiagnostics": map[string]any{"relatedInformation": true, "codeDescriptionSupport": true, "dataSupport": true},
	},
}

// initialize performs the handshake with the given initializationOptions.
func (s *session) initialize(t testing.TB, opts any) map[string]any {
	t.Helper()
	var res map[string]any
	params := map[string]any{"processId": nil, "rootUri": nil, "capabilities": fullCapabilities,
		"clientInfo": map[string]any{"name": "test"}}
	if opts != nil {
		params["initializationOptions"] = opts
	}
	if err := s.call("initialize", params, &res); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	s.notify("initialized", map[string]any{})
	return res
}

// doc is the client's copy of an open document.
type doc struct {
	uri     string
	version int32
	text    string
}

func (s *session) open(uri, text string) *doc {
	lang := "yaml"
	if strings.HasSuffix(uri, ".json") {
		lang = "json"
	}
	s.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{
		"uri": uri, "languageId": lang, "version": 1, "text": text}})
	return &doc{uri: uri, version: 1, text: text}
}

// change sends ranged edits (applied in order, each against the text left
// by the previous one) and updates the client's copy.
func (s *session) change(d *doc, edits ...protocol.TextEdit) {
	var changes []map[string]any
	for _, e := range edits {
		changes = append(changes, map[string]any{"range": e.Range, "text": e.NewText})
		d.text = applyLSPEdits(s.t, d.text, []protocol.TextEdit{e})
	}
	d.version++
	s.notify("textDocument/didChange", map[string]any{
		"textDocument":   map[string]any{"uri": d.uri, "version": d.version},
		"contentChanges": changes,
	})
}

// replaceAll sends the whole new text (a change without a range).
func (s *session) replaceAll(d *doc, text string) {
	d.text = text
	d.version++
	s.notify("textDocument/didChange", map[string]any{
		"textDocument":   map[string]any{"uri": d.uri, "version": d.version},
		"contentChanges": []map[string]any{{"text": text}},
	})
}

// applyLSPEdits applies non-overlapping LSP text edits (all against text) the
// way an editor does, converting positions with template.Lines.
func applyLSPEdits(t testing.TB, text string, edits []protocol.TextEdit) string {
	l := template.NewLines([]byte(text))
	var es []edit.Edit
	for _, e := range edits {
		es = append(es, edit.Edit{Start: toOffset(l, e.Range.Start), End: toOffset(l, e.Range.End), NewText: e.NewText})
	}
	out, err := edit.Apply([]byte(text), es)
	if err != nil {
		t.Fatalf("applying edits: %v", err)
	}
	return string(out)
}

// applyWorkspaceEdit applies a WorkspaceEdit for d, checking that it
// targets d's current version.
func (s *session) applyWorkspaceEdit(t *testing.T, d *doc, we *protocol.WorkspaceEdit) {
	t.Helper()
	var edits []protocol.TextEdit
	for _, dc := range we.DocumentChanges {
		if string(dc.TextDocument.URI) != d.uri {
			t.Fatalf("edit for %s, want %s", dc.TextDocument.URI, d.uri)
		}
		if dc.TextDocument.Version == nil || *dc.TextDocument.Version != d.version {
			t.Fatalf("edit for version %v, document is at %d", dc.TextDocument.Version, d.version)
		}
		edits = append(edits, dc.Edits...)
	}
	for u, es := range we.Changes {
		if string(u) != d.uri {
			t.Fatalf("edit for %s, want %s", u, d.uri)
		}
		edits = append(edits, es...)
	}
	if len(edits) == 0 {
		t.Fatalf("empty workspace edit")
	}
	newText := applyLSPEdits(t, d.text, edits)
	// Send the edits as an editor does: one ranged change per edit, last
	// first, so that each range is still valid.
	sorted := append([]protocol.TextEdit(nil), edits...)
	for i := 0; i < len(sorted); i++ {
		for j := i + 1; j < len(sorted); j++ {
			if less(sorted[i].Range.Start, sorted[j].Range.Start) {
				sorted[i], sorted[j] = sorted[j], sorted[i]
			}
		}
	}
	s.change(d, sorted...)
	if d.text != newText {
		t.Fatalf("applying edits one by one gave a different text")
	}
}

func less(a, b protocol.Position) bool {
	return a.Line < b.Line || a.Line == b.Line && a.Character < b.Character
}

// pos returns the LSP position of the first occurrence of needle in text,
// plus delta bytes.
func pos(t testing.TB, text, needle string, delta int) protocol.Position {
	t.Helper()
	i := strings.Index(text, needle)
	if i < 0 {
		t.Fatalf("%q not in the text", needle)
	}
	return toPosition(template.NewLines([]byte(text)), i+delta)
}

func (s *session) shutdownAndExit(t *testing.T) int {
	t.Helper()
	if err := s.call("shutdown", nil, nil); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	s.notify("exit", nil)
	return s.exitCode(t)
}

func (s *session) exitCode(t *testing.T) int {
	t.Helper()
	select {
	case code := <-s.exits:
		select {
		case served := <-s.served:
			if served != code {
				t.Errorf("Serve returned %d, Exit got %d", served, code)
			}
		case <-time.After(timeout):
			t.Fatalf("Serve did not return after exit")
		}
		return code
	case <-time.After(timeout):
		t.Fatalf("no exit within %v", timeout)
		return -1
	}
}

func codes(p publishDiagnosticsParams) []string {
	var out []string
	for _, d := range p.Diagnostics {
		out = append(out, fmt.Sprint(d.Code))
	}
	return out
}

func hasCode(p publishDiagnosticsParams, code string) bool {
	for _, c := range codes(p) {
		if c == code {
			return true
		}
	}
	return false
}

// testLogger logs to the test's log at debug level until the test ends;
// later lines (from goroutines that outlive it) are dropped, since the
// testing package panics on them.
func testLogger(t testing.TB) *zap.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	enc := zap.NewDevelopmentEncoderConfig()
	return zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.AddSync(w), zapcore.DebugLevel))
}

type testWriter struct {
	t    testing.TB
	mu   sync.Mutex
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}
