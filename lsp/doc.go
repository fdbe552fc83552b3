// Package lsp is the soc2ls language server: a thin adapter that speaks the
// Language Server Protocol over a stream and answers from package analysis.
//
// The protocol stack is go.lsp.dev/jsonrpc2 v0.10.0 with the types of
// go.lsp.dev/protocol v0.12.0. The handler chain is built here (see
// middleware.go) rather than with protocol.ServerHandler, so that every known
// defect of that stack is neutralised in one place; each workaround carries a
// NOTE comment. docs/lsp.md describes the capabilities and settings.
//
// One file per job: server.go (lifecycle and capabilities), middleware.go
// (the handler chain), quirks.go (wire types that replace defective library
// ones), documents.go (the document store and incremental edits),
// scheduler.go (debounced, versioned analysis and publishing),
// diagnostics.go, codeaction.go, hover.go, navigation.go, symbols.go,
// completion.go and config.go.
package lsp
