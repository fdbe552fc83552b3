package lsp

import (
	"errors"
	"testing"
)

func rpcCode(t *testing.T, err error) int {
	t.Helper()
	var re *rpcError
	if !errors.As(err, &re) {
		t.Fatalf("want an error response, got %v", err)
	}
	return re.Code
}

func TestLifecycle(t *testing.T) {
	s := newSession(t, nil)
	// Before initialize: requests are refused, notifications dropped.
	err := s.call("textDocument/hover", map[string]any{"textDocument": map[string]any{"uri": "file:///a.yaml"}, "position": map[string]any{"line": 0, "character": 0}}, nil)
	if c := rpcCode(t, err); c != -32002 {
		t.Errorf("request before initialize: code %d, want -32002 (ServerNotInitialized)", c)
	}
	s.open("file:///early.yaml", trailTemplate)

	res := s.initialize(t, nil)
	caps, _ := res["capabilities"].(map[string]any)
	sync, _ := caps["textDocumentSync"].(map[string]any)
	if sync["change"] != float64(2) || sync["openClose"] != true {
		t.Errorf("textDocumentSync = %v, want incremental (2) with open/close", caps["textDocumentSync"])
	}
	for _, k := range []string{"hoverProvider", "definitionProvider", "referencesProvider", "documentHighlightProvider", "renameProvider", "documentSymbolProvider", "codeActionProvider", "completionProvider"} {
		if caps[k] == nil {
			t.Errorf("capability %s missing", k)
		}
	}
	if err := s.call("initialize", map[string]any{"capabilities": map[string]any{}}, nil); rpcCode(t, err) != -32600 {
		t.Errorf("second initialize: %v, want InvalidRequest", err)
	}
	// The document opened before initialize was dropped.
	if err := s.call("textDocument/documentSymbol", map[string]any{"textDocument": map[string]any{"uri": "file:///early.yaml"}}, nil); err == nil {
		t.Errorf("a didOpen before initialize was not ignored")
	}
	// Unknown requests: MethodNotFound; unknown notifications: ignored.
	if err := s.call("soc2ls/unknown", map[string]any{}, nil); rpcCode(t, err) != -32601 {
		t.Errorf("unknown request: %v, want MethodNotFound", err)
	}
	if err := s.call("textDocument/diagnostic", map[string]any{"textDocument": map[string]any{"uri": "file:///a.yaml"}}, nil); rpcCode(t, err) != -32601 {
		t.Errorf("3.17 pull diagnostics: %v, want MethodNotFound", err)
	}
	s.notify("$/setTrace", map[string]any{"value": "off"})
	s.notify("soc2ls/unknownNotification", map[string]any{})
	if err := s.call("shutdown", nil, nil); err != nil {
		t.Fatalf("shutdown after unknown notifications: %v", err)
	}
	// After shutdown only exit.
	if err := s.call("textDocument/documentSymbol", map[string]any{"textDocument": map[string]any{"uri": "file:///a.yaml"}}, nil); rpcCode(t, err) != -32600 {
		t.Errorf("request after shutdown: %v, want InvalidRequest", err)
	}
	s.notify("exit", nil)
	if code := s.exitCode(t); code != 0 {
		t.Errorf("exit after shutdown: code %d, want 0", code)
	}
}

func TestExitWithoutShutdown(t *testing.T) {
	s := newSession(t, nil)
	s.initialize(t, nil)
	s.notify("exit", nil)
	if code := s.exitCode(t); code != 1 {
		t.Errorf("exit without shutdown: code %d, want 1", code)
	}
}

func TestExitBeforeInitialize(t *testing.T) {
	s := newSession(t, nil)
	s.notify("exit", nil)
	if code := s.exitCode(t); code != 1 {
		t.Errorf("exit before initialize: code %d, want 1", code)
	}
}

// TestCancelRequest cancels a request that waits for an analysis held back
// by the test, by numeric and by string id.
func TestCancelRequest(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan int32, 16)
	s := newSession(t, func(srv *Server) {
		srv.analyzeHook = func(uri string, v int32) {
			entered <- v
			<-release
		}
	})
	s.initialize(t, nil)
	d := s.open("file:///c.yaml", trailTemplate)
	<-entered // version 1 is being analysed and held
	s.change(d, insertEdit(t, d.text, "Resources:", "# x\n"))
	params := map[string]any{"textDocument": map[string]any{"uri": d.uri}}
	for _, id := range []any{77, "req-seventy-eight"} {
		ch := s.start(id, "textDocument/documentSymbol", params)
		s.notify("$/cancelRequest", map[string]any{"id": id})
		err := s.wait(ch, nil)
		if c := rpcCode(t, err); c != -32800 {
			t.Errorf("cancelled request %v: code %d, want -32800 (RequestCancelled)", id, c)
		}
	}
	close(release)
	// The server is still healthy: the current version gets analysed.
	s.waitDiagnostics(d.uri, func(p publishDiagnosticsParams) bool { return p.Version != nil && *p.Version == d.version })
}
