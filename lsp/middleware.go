package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.uber.org/zap"
)

// route is how one method is served.
type route struct {
	// notification methods never reply; requests always do.
	notification bool
	// inline requests run on the reader goroutine, in order with the
	// notifications (initialize, shutdown); the others run on their own
	// goroutine so that the reader is never blocked.
	inline bool
	handle func(ctx context.Context, params json.RawMessage) (any, error)
}

// request makes a request route that decodes its params into P.
func request[P any](fn func(context.Context, *P) (any, error)) route {
	return route{handle: func(ctx context.Context, raw json.RawMessage) (any, error) {
		var p P
		if err := decodeParams(raw, &p); err != nil {
			return nil, err
		}
		return fn(ctx, &p)
	}}
}

// notification makes a notification route that decodes its params into P.
func notification[P any](fn func(context.Context, *P) error) route {
	return route{notification: true, handle: func(ctx context.Context, raw json.RawMessage) (any, error) {
		var p P
		if err := decodeParams(raw, &p); err != nil {
			return nil, err
		}
		return nil, fn(ctx, &p)
	}}
}

func decodeParams(raw json.RawMessage, p any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, p); err != nil {
		return &jsonrpc2.Error{Code: jsonrpc2.InvalidParams, Message: "invalid params: " + err.Error()}
	}
	return nil
}

// routes is the method table.
//
// NOTE(protocol v0.12.0): protocol.ServerHandler would decode every method
// with the library's types (the defective didChange and publish params
// among them) and needs a Server implementing some sixty methods, the
// unimplemented ones answering "method not found" by hand. A table of the
// methods we serve, with every other request answered MethodNotFound by
// handler, does the same without the defects.
func (s *Server) routes() map[string]route {
	inline := func(r route) route { r.inline = true; return r }
	return map[string]route{
		protocol.MethodInitialize:  inline(request(s.initialize)),
		protocol.MethodInitialized: notification(s.initialized),
		protocol.MethodShutdown:    inline(request(s.shutdown)),

		protocol.MethodTextDocumentDidOpen:   notification(s.didOpen),
		protocol.MethodTextDocumentDidChange: notification(s.didChange),
		protocol.MethodTextDocumentDidSave:   notification(s.didSave),
		protocol.MethodTextDocumentDidClose:  notification(s.didClose),

		protocol.MethodWorkspaceDidChangeConfiguration: notification(s.didChangeConfiguration),
		protocol.MethodWorkspaceDidChangeWatchedFiles:  notification(s.didChangeWatchedFiles),

		protocol.MethodTextDocumentCodeAction:        request(s.codeAction),
		protocol.MethodTextDocumentHover:             request(s.hover),
		protocol.MethodTextDocumentDefinition:        request(s.definition),
		protocol.MethodTextDocumentReferences:        request(s.references),
		protocol.MethodTextDocumentDocumentHighlight: request(s.documentHighlight),
		protocol.MethodTextDocumentPrepareRename:     request(s.prepareRename),
		protocol.MethodTextDocumentRename:            request(s.rename),
		protocol.MethodTextDocumentDocumentSymbol:    request(s.documentSymbol),
		protocol.MethodTextDocumentCompletion:        request(s.completion),
	}
}

// handler builds the chain the connection calls for every message,
// outermost first: logging, error mapping, lifecycle, cancellation,
// dispatch. Each layer is a jsonrpc2.Handler around the next.
//
// NOTE(jsonrpc2 v0.10.0): the connection calls the handler on its only
// reader goroutine, so a slow handler stalls every later message (and
// jsonrpc2.AsyncHandler only starts request n+1 after request n replied).
// Notifications are handled inline and are fast (a didChange only splices
// the text); requests run on their own goroutines; analysis runs on the
// per-document scheduler.
func (s *Server) handler() jsonrpc2.Handler {
	return s.logging(s.mapErrors(s.lifecycle(s.cancellation(s.dispatch(s.routes())))))
}

// logging logs every message and every reply, with its duration.
//
// NOTE(protocol v0.12.0): protocol.LoggingStream deadlocks after the first
// error response; logging is done here instead.
func (s *Server) logging(next jsonrpc2.Handler) jsonrpc2.Handler {
	return func(ctx context.Context, reply jsonrpc2.Replier, req jsonrpc2.Request) error {
		method := req.Method()
		call, isCall := req.(*jsonrpc2.Call)
		if !isCall {
			s.log.Debug("notification", zap.String("method", method))
			return next(ctx, reply, req)
		}
		start := time.Now()
		inner := reply
		reply = func(ctx context.Context, result any, err error) error {
			fields := []zap.Field{zap.String("method", method), zap.String("id", requestKey(call.ID())), zap.Duration("took", time.Since(start))}
			if err != nil {
				fields = append(fields, zap.Error(err))
			}
			s.log.Debug("reply", fields...)
			return inner(ctx, result, err)
		}
		return next(ctx, reply, req)
	}
}

// mapErrors turns every error a handler replies with into a JSON-RPC error
// (wireError) and sends every reply on a detached context.
//
// NOTE(jsonrpc2 v0.10.0): the replier writes with the context it is given,
// and silently drops the reply when that context is cancelled.
func (s *Server) mapErrors(next jsonrpc2.Handler) jsonrpc2.Handler {
	return func(ctx context.Context, reply jsonrpc2.Replier, req jsonrpc2.Request) error {
		inner := reply
		return next(ctx, func(_ context.Context, result any, err error) error {
			return inner(context.Background(), result, wireError(err))
		}, req)
	}
}

// lifecycle applies the LSP lifecycle in arrival order: before initialize
// only initialize (and exit); after shutdown only exit. Refused requests get
// ServerNotInitialized or InvalidRequest; refused notifications are dropped.
func (s *Server) lifecycle(next jsonrpc2.Handler) jsonrpc2.Handler {
	return func(ctx context.Context, reply jsonrpc2.Replier, req jsonrpc2.Request) error {
		method := req.Method()
		_, isCall := req.(*jsonrpc2.Call)
		if method == protocol.MethodExit && !isCall {
			s.exit()
			return nil
		}
		if err := s.admit(method); err != nil {
			if isCall {
				return reply(ctx, nil, err)
			}
			return nil
		}
		if method == protocol.MethodInitialize || method == protocol.MethodShutdown {
			// Both run inline: the state moves before the next message is read.
			inner := reply
			reply = func(ctx context.Context, result any, err error) error {
				s.advance(method, err)
				return inner(ctx, result, err)
			}
		}
		return next(ctx, reply, req)
	}
}

// cancellation handles $/cancelRequest and gives every request a context
// that it cancels; a cancelled request is answered RequestCancelled.
func (s *Server) cancellation(next jsonrpc2.Handler) jsonrpc2.Handler {
	return func(ctx context.Context, reply jsonrpc2.Replier, req jsonrpc2.Request) error {
		if req.Method() == protocol.MethodCancelRequest {
			var p cancelParams
			if err := json.Unmarshal(req.Params(), &p); err == nil {
				if key, ok := cancelKey(p.ID); ok {
					s.cancel(key)
				}
			}
			return nil
		}
		call, isCall := req.(*jsonrpc2.Call)
		if !isCall {
			return next(ctx, reply, req)
		}
		key := requestKey(call.ID())
		rctx, cancel := context.WithCancel(ctx)
		s.cancelMu.Lock()
		s.inflight[key] = cancel
		s.cancelMu.Unlock()
		inner := reply
		reply = func(rc context.Context, result any, err error) error {
			s.cancelMu.Lock()
			delete(s.inflight, key)
			s.cancelMu.Unlock()
			if rctx.Err() != nil && ctx.Err() == nil {
				result, err = nil, &jsonrpc2.Error{Code: codeRequestCancelled, Message: req.Method() + " was cancelled"}
			}
			cancel()
			return inner(rc, result, err)
		}
		return next(rctx, reply, req)
	}
}

// dispatch runs the route of a method: notifications inline, inline
// requests inline, other requests on their own goroutine. Unknown requests
// get MethodNotFound; unknown notifications ($/setTrace, ...) are ignored.
//
// NOTE(protocol v0.12.0): LSP 3.17 methods (textDocument/diagnostic, ...)
// are absent from the library; they arrive here like any other method and
// are answered MethodNotFound (we do not advertise them), so that clients
// fall back to push diagnostics.
func (s *Server) dispatch(routes map[string]route) jsonrpc2.Handler {
	return func(ctx context.Context, reply jsonrpc2.Replier, req jsonrpc2.Request) error {
		method := req.Method()
		_, isCall := req.(*jsonrpc2.Call)
		r, known := routes[method]
		switch {
		case !known && isCall:
			return reply(ctx, nil, &jsonrpc2.Error{Code: jsonrpc2.MethodNotFound, Message: "method not found: " + method})
		case !known:
			return nil
		case r.notification && isCall:
			return reply(ctx, nil, &jsonrpc2.Error{Code: jsonrpc2.InvalidRequest, Message: method + " is a notification"})
		case r.notification:
			if _, err := s.safely(ctx, method, r, req.Params()); err != nil {
				s.log.Warn("notification failed", zap.String("method", method), zap.Error(err))
			}
			return nil
		case r.inline:
			res, err := s.safely(ctx, method, r, req.Params())
			return reply(ctx, res, err)
		}
		go func() {
			res, err := s.safely(ctx, method, r, req.Params())
			_ = reply(ctx, res, err)
		}()
		return nil
	}
}

// admit applies the lifecycle to an incoming message, in arrival order: only
// initialize before initialize, nothing but exit after shutdown.
func (s *Server) admit(method string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.state {
	case stateNew:
		if method != protocol.MethodInitialize {
			return &jsonrpc2.Error{Code: jsonrpc2.ServerNotInitialized, Message: "server not initialized: " + method + " before initialize"}
		}
	case stateInitialized:
		if method == protocol.MethodInitialize {
			return &jsonrpc2.Error{Code: jsonrpc2.InvalidRequest, Message: "initialize was already received"}
		}
	case stateShutdown:
		return &jsonrpc2.Error{Code: jsonrpc2.InvalidRequest, Message: "server is shutting down: only exit is accepted after shutdown"}
	}
	return nil
}

// advance moves the lifecycle after initialize or shutdown succeeded.
func (s *Server) advance(method string, err error) {
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch method {
	case protocol.MethodInitialize:
		s.state = stateInitialized
	case protocol.MethodShutdown:
		s.state = stateShutdown
	}
}

// cancel cancels the request with the given key, if it is still running.
func (s *Server) cancel(key string) {
	s.cancelMu.Lock()
	cancel := s.inflight[key]
	s.cancelMu.Unlock()
	if cancel != nil {
		s.log.Debug("cancel", zap.String("id", key))
		cancel()
	}
}

// safely runs a route, turning a panic into an internal error.
func (s *Server) safely(ctx context.Context, method string, r route, params json.RawMessage) (res any, err error) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("handler panicked", zap.String("method", method), zap.Any("panic", v), zap.ByteString("stack", debug.Stack()))
			res, err = nil, &jsonrpc2.Error{Code: jsonrpc2.InternalError, Message: fmt.Sprintf("internal error in %s: %v", method, v)}
		}
	}()
	return r.handle(ctx, params)
}

// userError is a refusal the user should read (an invalid new name for
// rename): it is sent as RequestFailed with its message.
type userError struct{ msg string }

func (e *userError) Error() string { return e.msg }

func refuse(format string, args ...any) error { return &userError{fmt.Sprintf(format, args...)} }

// wireError maps every error a handler returns to a JSON-RPC error, in one
// place.
//
// NOTE(jsonrpc2 v0.10.0): a plain Go error is sent with code 0, and a
// wrapped *jsonrpc2.Error is sent with the inner error's message only. Here
// the code comes from the innermost *jsonrpc2.Error (or the kind of error)
// and the message is the whole chain's.
func wireError(err error) error {
	if err == nil {
		return nil
	}
	var we *jsonrpc2.Error
	var ue *userError
	switch {
	case errors.As(err, &we):
		if we == err {
			return we
		}
		return &jsonrpc2.Error{Code: we.Code, Message: err.Error()}
	case errors.As(err, &ue):
		return &jsonrpc2.Error{Code: codeRequestFailed, Message: err.Error()}
	case errors.Is(err, context.Canceled):
		return &jsonrpc2.Error{Code: codeRequestCancelled, Message: "request cancelled"}
	}
	return &jsonrpc2.Error{Code: jsonrpc2.InternalError, Message: err.Error()}
}
