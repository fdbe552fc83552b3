package lsp

import (
	"encoding/json"
	"fmt"
	"strconv"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

// Wire types that replace go.lsp.dev/protocol v0.12.0 types with defects.

// didChangeParams is textDocument/didChange's params.
//
// NOTE(protocol v0.12.0): protocol.TextDocumentContentChangeEvent has Range
// as a value, so a full-text change (no range) is indistinguishable from an
// insertion at 0:0. Our own struct has a pointer.
type didChangeParams struct {
	TextDocument   protocol.VersionedTextDocumentIdentifier `json:"textDocument"`
	ContentChanges []contentChange                          `json:"contentChanges"`
}

// contentChange is one change of a didChange: ranged when Range is set,
// else the whole new text.
type contentChange struct {
	Range *protocol.Range `json:"range,omitempty"`
	Text  string          `json:"text"`
}

// publishDiagnosticsParams is textDocument/publishDiagnostics' params.
//
// NOTE(protocol v0.12.0): protocol.PublishDiagnosticsParams has Version as
// uint32 although document versions are int32, and a nil Diagnostics slice
// is sent as null, which clients reject or misread. Ours has an optional
// int32 version and newPublishParams never leaves Diagnostics nil.
type publishDiagnosticsParams struct {
	URI         uri.URI               `json:"uri"`
	Version     *int32                `json:"version,omitempty"`
	Diagnostics []protocol.Diagnostic `json:"diagnostics"`
}

func newPublishParams(u uri.URI, version *int32, diags []protocol.Diagnostic) publishDiagnosticsParams {
	if diags == nil {
		diags = []protocol.Diagnostic{}
	}
	return publishDiagnosticsParams{URI: u, Version: version, Diagnostics: diags}
}

// cancelParams is $/cancelRequest's params.
//
// NOTE(jsonrpc2 v0.10.0): the library's CancelHandler expects the id as an
// int32, but JSON numbers decode as float64, so numeric ids were never
// cancelled. We keep the raw id and derive the same key as requestKey.
type cancelParams struct {
	ID json.RawMessage `json:"id"`
}

// requestKey identifies a request for cancellation: "#12" for numeric ids,
// a quoted string for string ids (jsonrpc2.ID's %q format).
func requestKey(id jsonrpc2.ID) string { return fmt.Sprintf("%q", id) }

// cancelKey returns the requestKey of the id in a $/cancelRequest.
func cancelKey(raw json.RawMessage) (string, bool) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return requestKey(jsonrpc2.NewStringID(s)), true
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", false
	}
	i, err := strconv.ParseInt(n.String(), 10, 32)
	if err != nil {
		f, ferr := n.Float64()
		if ferr != nil || f != float64(int32(f)) {
			return "", false
		}
		i = int64(f)
	}
	return requestKey(jsonrpc2.NewNumberID(int32(i))), true
}

// Error codes of LSP that jsonrpc2 v0.10.0 does not define.
const (
	codeRequestCancelled jsonrpc2.Code = protocol.CodeRequestCancelled // -32800
	codeRequestFailed    jsonrpc2.Code = -32803                        // LSP 3.17
)

// clientCapabilities are the few client capabilities the server reads,
// decoded with our own struct rather than protocol.ClientCapabilities, whose
// nested types change between library versions.
type clientCapabilities struct {
	Workspace struct {
		Configuration         bool `json:"configuration"`
		DidChangeWatchedFiles struct {
			DynamicRegistration bool `json:"dynamicRegistration"`
		} `json:"didChangeWatchedFiles"`
		WorkspaceEdit struct {
			DocumentChanges bool `json:"documentChanges"`
		} `json:"workspaceEdit"`
	} `json:"workspace"`
	TextDocument struct {
		Hover struct {
			ContentFormat []string `json:"contentFormat"`
		} `json:"hover"`
		DocumentSymbol struct {
			HierarchicalDocumentSymbolSupport bool `json:"hierarchicalDocumentSymbolSupport"`
		} `json:"documentSymbol"`
		PublishDiagnostics struct {
			CodeDescriptionSupport bool `json:"codeDescriptionSupport"`
			DataSupport            bool `json:"dataSupport"`
		} `json:"publishDiagnostics"`
	} `json:"textDocument"`
}

// initializeParams is initialize's params, as far as the server reads them.
type initializeParams struct {
	ClientInfo            *protocol.ClientInfo `json:"clientInfo,omitempty"`
	InitializationOptions json.RawMessage      `json:"initializationOptions,omitempty"`
	Capabilities          clientCapabilities   `json:"capabilities"`
	RootURI               uri.URI              `json:"rootUri,omitempty"`
	RootPath              string               `json:"rootPath,omitempty"`
	WorkspaceFolders      []struct {
		URI uri.URI `json:"uri"`
	} `json:"workspaceFolders,omitempty"`
}

// folders returns the paths of the workspace folders: workspaceFolders,
// else rootUri, else the deprecated rootPath. Folders without a file URI are
// left out.
func (p *initializeParams) folders() []string {
	var out []string
	for _, f := range p.WorkspaceFolders {
		if isFileURI(f.URI) {
			if name := fileName(f.URI); name != "" {
				out = append(out, name)
			}
		}
	}
	switch {
	case len(out) > 0:
	case isFileURI(p.RootURI) && fileName(p.RootURI) != "":
		out = append(out, fileName(p.RootURI))
	case p.RootPath != "":
		out = append(out, p.RootPath)
	}
	return out
}
