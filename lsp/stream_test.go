package lsp

import (
	"encoding/json"
	"reflect"
	"testing"

	"go.lsp.dev/jsonrpc2"
)

// TestNotificationJSON: the envelope written around a notification's
// params decodes to what the library's own encoding does.
func TestNotificationJSON(t *testing.T) {
	for _, params := range []any{
		map[string]any{"uri": "file:///a.yaml", "version": 3, "diagnostics": []any{map[string]any{"message": "a \"quoted\" <b> message\u2028"}}},
		json.RawMessage(`{"diagnostics":[]}`),
		nil,
	} {
		n, err := jsonrpc2.NewNotification("textDocument/publishDiagnostics", params)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(n)
		if err != nil {
			t.Fatal(err)
		}
		got := notificationJSON(n)
		var a, b any
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("%s: %v", got, err)
		}
		if err := json.Unmarshal(want, &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("params %v:\n got %s\nwant %s", params, got, want)
		}
	}
}
