package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/soc2ls/soc2ls/analysis"
)

// Options configure a Server.
type Options struct {
	// Rules are the rules to run (the meta rules are added by the engine).
	Rules []*analysis.Rule
	// Logger receives the server's logs; nil discards them. It must not write
	// to the protocol stream.
	Logger *zap.Logger
	// Level, when set, is the level of Logger, changed by the logLevel
	// setting.
	Level *zap.AtomicLevel
	// Version is reported to the client in serverInfo.
	Version string
	// Exit, when set, is called with the exit code when the client sends
	// exit (0 after shutdown, 1 without), before Serve returns the same code.
	// soc2ls serve leaves it nil and exits the process with Serve's result;
	// tests record the code with it.
	Exit func(code int)
}

// lifecycle is where the server is in the LSP lifecycle.
type lifecycle int

const (
	stateNew         lifecycle = iota // before initialize
	stateInitialized                  // initialize answered
	stateShutdown                     // shutdown answered; only exit is accepted
)

// Server is a soc2ls language server for one client connection.
type Server struct {
	opts Options
	log  *zap.Logger
	docs *store
	// hotBudget bounds the text of the documents that keep their models
	// (memory.go); tests lower it.
	hotBudget int64

	// conn is the connection to the client, for notifications and
	// server-to-client requests.
	//
	// NOTE(protocol v0.12.0): protocol.WithClient and protocol.WithLogger
	// share a context key, so a client kept in the context is lost when a
	// logger is added. The server keeps its client here instead.
	conn jsonrpc2.Conn
	// stream is conn's stream, which publishEncoded writes to directly.
	stream *stream

	mu    sync.Mutex // guards the fields below
	state lifecycle
	caps  clientCapabilities
	cfg   config
	// settingsProblems are the problems of the settings last applied, so
	// that the same ones are not shown again.
	settingsProblems []string
	// settingsSeq counts the settings applied, so that the answer to a
	// workspace/configuration request does not undo newer ones.
	settingsSeq uint64
	engine      *analysis.Engine // for documents without a project configuration

	proj *projects

	cancelMu sync.Mutex
	inflight map[string]context.CancelFunc

	exitOnce sync.Once
	exited   chan struct{}
	exitCode int

	// analyzeHook, when set (tests), is called before each analysis with
	// the document and the version about to be analysed.
	analyzeHook func(uri string, version int32)
	// coolHook, when set (tests), is called after a document was cooled;
	// resultHook with every analysis result, once it is stored (or found
	// stale) and settled.
	coolHook   func(uri string)
	resultHook func(*analysis.Result)
	// readerWait, when set (tests), replaces defaultReaderWait.
	readerWait time.Duration
	// analysisSlots bounds the analyses running at once (scheduler.go).
	analysisSlots chan struct{}
	// changeHook and publishHook, when set (tests), are called when a
	// didOpen or didChange arrives, before it is applied, and when the
	// publication of a version's diagnostics has been written: the
	// benchmarks time the server's part of an open or a keystroke with them,
	// apart from the client's.
	changeHook, publishHook func(uri string, version int32)
}

// NewServer returns a server; Serve connects it to a client.
func NewServer(opts Options) *Server {
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	s := &Server{
		hotBudget:     defaultHotBudget,
		analysisSlots: make(chan struct{}, runtime.GOMAXPROCS(0)),
		opts:          opts,
		log:           log,
		docs:          newStore(),
		inflight:      map[string]context.CancelFunc{},
		exited:        make(chan struct{}),
		cfg:           config{delay: DefaultDiagnosticsDelay},
	}
	s.engine = analysis.NewEngine(opts.Rules, s.cfg.engineOptions())
	s.proj = newProjects(s)
	analysis.PanicHook = func(ruleID, filename string, line int, v any, stack []byte) {
		// The template's name and line, never its contents.
		s.log.Error("rule panicked", zap.String("rule", ruleID), zap.String("file", filename),
			zap.Int("line", line), zap.Any("panic", v), zap.ByteString("stack", stack))
	}
	return s
}

// Serve speaks LSP over rwc until the client sends exit or the stream ends.
// It returns the exit code: 0 after shutdown and exit, 1 when the client
// exits without shutdown or the stream ends first.
//
// NOTE(jsonrpc2 v0.10.0): over stdio, conn.Close does not unblock the
// reader, so waiting on conn.Done after exit can hang forever. Serve returns
// as soon as exit has been handled, and soc2ls serve exits the process with
// the code at once instead of waiting for the reader.
func (s *Server) Serve(ctx context.Context, rwc io.ReadWriteCloser) (int, error) {
	s.stream = newStream(rwc, s.log)
	conn := jsonrpc2.NewConn(s.stream)
	s.conn = conn
	conn.Go(ctx, s.handler())
	select {
	case <-s.exited:
		s.stopAll()
		_ = conn.Close()
		return s.exitCode, nil
	case <-conn.Done():
		s.stopAll()
		select {
		case <-s.exited: // exit, then the client closed the stream
			return s.exitCode, nil
		default:
		}
		err := conn.Err()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) {
			err = nil
		}
		s.log.Info("connection closed without exit", zap.Error(err))
		return 1, err
	case <-ctx.Done():
		s.stopAll()
		_ = conn.Close()
		return 1, ctx.Err()
	}
}

// stopAll stops the schedulers of every open document.
func (s *Server) stopAll() {
	for _, d := range s.docs.all() {
		d.sched.stop()
	}
}

// currentEngine returns the engine for the current configuration.
func (s *Server) currentEngine() *analysis.Engine {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.engine
}

// capabilities are the client's capabilities, as announced in initialize.
func (s *Server) capabilities() clientCapabilities {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.caps
}

// delay is the configured debounce delay.
func (s *Server) delay() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.delay
}

func (s *Server) initialize(ctx context.Context, p *initializeParams) (any, error) {
	s.mu.Lock()
	s.caps = p.Capabilities
	s.mu.Unlock()
	s.proj.setFolders(p.folders())
	if p.ClientInfo != nil {
		s.log.Info("initialize", zap.String("client", p.ClientInfo.Name), zap.String("clientVersion", p.ClientInfo.Version))
	}
	if len(p.InitializationOptions) > 0 {
		st, err := parseSettings(p.InitializationOptions)
		if err != nil {
			s.showMessage(protocol.MessageTypeWarning, "soc2ls: initializationOptions: "+err.Error())
		} else {
			s.applySettings(st, false)
		}
	}
	textSync := map[string]any{
		"openClose": true,
		"change":    protocol.TextDocumentSyncKindIncremental,
		"save":      map[string]any{"includeText": false},
	}
	return map[string]any{
		"capabilities": map[string]any{
			"textDocumentSync":          textSync,
			"hoverProvider":             true,
			"definitionProvider":        true,
			"referencesProvider":        true,
			"documentHighlightProvider": true,
			"renameProvider":            map[string]any{"prepareProvider": true},
			"documentSymbolProvider":    true,
			"codeActionProvider": map[string]any{
				"codeActionKinds": []string{string(protocol.QuickFix), fixAllKind},
			},
			"completionProvider": map[string]any{
				"triggerCharacters": completionTriggers,
			},
		},
		"serverInfo": map[string]any{"name": "soc2ls", "version": s.opts.Version},
	}, nil
}

func (s *Server) initialized(ctx context.Context, _ *json.RawMessage) error {
	caps := s.capabilities()
	if caps.Workspace.Configuration {
		go s.pullConfiguration()
	}
	if caps.Workspace.DidChangeWatchedFiles.DynamicRegistration {
		go s.registerWatcher()
	}
	// The workspace folders' own configuration files are checked (and their
	// problems shown) before any template is opened.
	s.proj.mu.Lock()
	folders := s.proj.folders
	s.proj.mu.Unlock()
	for _, dir := range folders {
		s.configFor(dir)
	}
	return nil
}

// registerWatcher asks the client to tell the server about changes of
// configuration files on disk. It runs on its own goroutine: the reply
// arrives through the reader goroutine.
func (s *Server) registerWatcher() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.conn.Call(ctx, "client/registerCapability", watcherRegistration(), nil); err != nil {
		s.log.Info("registering the configuration file watcher failed", zap.Error(err))
	}
}

func (s *Server) shutdown(ctx context.Context, _ *json.RawMessage) (any, error) {
	s.stopAll()
	return nil, nil
}

// exit ends the session with 0 after shutdown, 1 without.
func (s *Server) exit() {
	s.mu.Lock()
	code := 1
	if s.state == stateShutdown {
		code = 0
	}
	s.mu.Unlock()
	s.exitOnce.Do(func() {
		s.log.Info("exit", zap.Int("code", code))
		s.exitCode = code
		if s.opts.Exit != nil {
			s.opts.Exit(code)
		}
		close(s.exited)
	})
}

func (s *Server) didOpen(ctx context.Context, p *protocol.DidOpenTextDocumentParams) error {
	td := p.TextDocument
	if s.changeHook != nil {
		s.changeHook(string(td.URI), td.Version)
	}
	d := newDocument(td.URI, string(td.LanguageID), td.Version, td.Text)
	d.sched = newScheduler(s, d)
	if old := s.docs.put(d); old != nil && old.close() {
		// Opened twice without a close: what the client shows belonged to
		// the old text.
		s.publish(d.uri, nil, nil)
	}
	s.log.Debug("didOpen", zap.String("uri", string(td.URI)), zap.Int32("version", td.Version), zap.Int("bytes", len(td.Text)))
	d.sched.kick(true) // a newly opened document is analysed at once
	return nil
}

func (s *Server) didChange(ctx context.Context, p *didChangeParams) error {
	if s.changeHook != nil {
		s.changeHook(string(p.TextDocument.URI), p.TextDocument.Version)
	}
	d, ok := s.docs.get(p.TextDocument.URI)
	if !ok {
		return errNotOpen(p.TextDocument.URI)
	}
	d.mu.Lock()
	if p.TextDocument.Version <= d.version {
		s.log.Warn("didChange does not increase the version", zap.String("uri", string(d.uri)),
			zap.Int32("have", d.version), zap.Int32("got", p.TextDocument.Version))
	}
	err := d.applyChanges(p.TextDocument.Version, p.ContentChanges)
	d.mu.Unlock()
	if err != nil {
		return err
	}
	d.sched.kick(false)
	return nil
}

func (s *Server) didSave(ctx context.Context, p *protocol.DidSaveTextDocumentParams) error {
	// The text was already synchronised by didChange; a save needs no new
	// analysis, but flushes a pending one so that the saved state is checked.
	if d, ok := s.docs.get(p.TextDocument.URI); ok {
		d.sched.kick(true)
		if isConfigDocument(d) {
			s.reloadConfigs("saved " + d.filename)
		}
	}
	return nil
}

func (s *Server) didClose(ctx context.Context, p *protocol.DidCloseTextDocumentParams) error {
	d := s.docs.remove(p.TextDocument.URI)
	if d == nil {
		return errNotOpen(p.TextDocument.URI)
	}
	if shown := d.close(); shown {
		// Clear what the client shows for the closed document; a document
		// that never had diagnostics (not a template) gets no publication.
		s.publish(d.uri, nil, nil)
	}
	if isConfigDocument(d) {
		// The editor's buffer is gone: the file on disk applies again.
		s.reloadConfigs("closed " + d.filename)
	}
	return nil
}

// showMessage tells the user something through window/showMessage.
func (s *Server) showMessage(typ protocol.MessageType, msg string) {
	if s.conn == nil {
		return
	}
	if err := s.conn.Notify(context.Background(), protocol.MethodWindowShowMessage,
		&protocol.ShowMessageParams{Type: typ, Message: msg}); err != nil {
		s.log.Warn("showMessage failed", zap.Error(err))
	}
}

// publish sends diagnostics for a document; nil version omits it.
func (s *Server) publish(u protocol.DocumentURI, version *int32, diags []protocol.Diagnostic) {
	params := newPublishParams(u, version, diags)
	if err := s.conn.Notify(context.Background(), protocol.MethodTextDocumentPublishDiagnostics, &params); err != nil {
		s.log.Warn("publishDiagnostics failed", zap.String("uri", string(u)), zap.Error(err))
	}
}

// publishEncoded publishes the diagnostics of a version, encoded by the
// document's diagEncoder (the scheduler encodes them once, to tell whether
// they changed). The frame is written to the stream as it is, past
// jsonrpc2, which would marshal the params again (validating and compacting
// 3 MB for a 1 MB template) and copy them twice; it is written piece by
// piece, as the payload is kept (publication.frame), and the stream's write
// lock keeps it whole between the connection's messages. The payload is
// then the published one, which the encoder keeps.
func (s *Server) publishEncoded(u protocol.DocumentURI, version int32, p publication) {
	if _, err := s.stream.writeFrame(p.frame(version)...); err != nil {
		s.log.Warn("publishDiagnostics failed", zap.String("uri", string(u)), zap.Error(err))
	}
	p.keep()
	if s.publishHook != nil {
		s.publishHook(string(u), version)
	}
}

func errNotOpen(u protocol.DocumentURI) error {
	return &jsonrpc2.Error{Code: jsonrpc2.InvalidParams, Message: "document is not open: " + string(u)}
}

// markdown reports whether the client renders Markdown in hovers.
func (c clientCapabilities) markdown() bool {
	for _, f := range c.TextDocument.Hover.ContentFormat {
		if strings.EqualFold(f, "markdown") {
			return true
		}
	}
	return false
}
