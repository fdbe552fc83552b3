package lsp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"go.lsp.dev/jsonrpc2"
	"go.uber.org/zap"
)

// maxFrameSize bounds the body of one message. Documents past the analysis
// limit (maxFileSizeMB, 10 MB by default) still open, so that their
// didChange notifications find them; JSON escaping at most sextuples a text.
// A larger body is read and discarded, never held in memory.
var maxFrameSize int64 = 256 << 20

// maxHeaderLine bounds what is kept of one header line (or of a line of
// garbage being skipped): a header is a few dozen bytes.
const maxHeaderLine = 4096

// stream is the server's jsonrpc2.Stream: LSP's Content-Length framing, read
// so that a bad message costs that message, not the session.
//
// NOTE(jsonrpc2 v0.10.0): the library's stream returns an error for a body
// that is not a JSON-RPC message, a header line without a colon, or a
// negative or unparsable Content-Length, and the connection closes on the
// first read error: one malformed message ended the session. Its body
// buffer is also allocated from the announced length before any byte
// arrives, so "Content-Length: 2000000000" cost 2 GB. Here a body that does
// not decode is answered with a ParseError (-32700) or InvalidRequest
// (-32600) response and skipped; a broken header is answered the same way and
// the reader skips to the next line holding a Content-Length header; the
// body buffer grows with the bytes that actually arrive; bodies above
// maxFrameSize are discarded. Only the end of the input (or a read error)
// ends the stream.
type stream struct {
	rwc io.ReadWriteCloser
	in  *bufio.Reader
	log *zap.Logger

	wmu  sync.Mutex // serialises writes: responses from the reader and the connection's
	wbuf []byte     // gathers the small parts of a message (writeFrame); wmu guards it
}

func newStream(rwc io.ReadWriteCloser, log *zap.Logger) *stream {
	return &stream{rwc: rwc, in: bufio.NewReader(rwc), log: log}
}

// Read returns the next message that decodes, answering the ones that do not.
func (s *stream) Read(ctx context.Context) (jsonrpc2.Message, int64, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		length, hdrBytes, problem, err := s.header()
		if err != nil {
			return nil, 0, err
		}
		if problem != "" {
			s.log.Warn("invalid message header; skipping to the next Content-Length header", zap.String("problem", problem))
			s.replyError(nil, jsonrpc2.ParseError, "invalid message header: "+problem)
			continue
		}
		if length > maxFrameSize {
			n, err := io.CopyN(io.Discard, s.in, length)
			s.log.Warn("message too large, discarded", zap.Int64("bytes", n), zap.Int64("limit", maxFrameSize))
			if err != nil {
				return nil, 0, err
			}
			s.replyError(nil, jsonrpc2.InvalidRequest, fmt.Sprintf("message of %d bytes discarded: the limit is %d MB", length, maxFrameSize>>20))
			continue
		}
		var body bytes.Buffer
		body.Grow(int(min(length, 1<<20))) // grows with what arrives, not with what is announced
		if _, err := io.CopyN(&body, s.in, length); err != nil {
			return nil, 0, fmt.Errorf("reading a %d-byte message body: %w", length, err)
		}
		data := body.Bytes()
		msg, err := jsonrpc2.DecodeMessage(data)
		if err == nil {
			return msg, hdrBytes + length, nil
		}
		// The body may be a template: log its size, never its text.
		if !json.Valid(data) {
			s.log.Warn("message body is not JSON", zap.Int64("bytes", length))
			s.replyError(data, jsonrpc2.ParseError, fmt.Sprintf("parse error: the %d-byte message body is not valid JSON", length))
		} else {
			s.log.Warn("message body is not a JSON-RPC message", zap.Int64("bytes", length))
			s.replyError(data, jsonrpc2.InvalidRequest, "invalid request: the message is not a JSON-RPC 2.0 request, notification or response (batches are not supported)")
		}
	}
}

// header reads one header block. problem describes a block that cannot be
// used (no Content-Length, a bad one, a line that is no header); err is set
// only when the input fails or ends. Lines before the first header line
// (the rest of a body whose Content-Length was too small, garbage) are
// skipped, except that a Content-Length header at the end of such a line
// starts the block: bodies have no line break after them, so the next
// message's header follows on the same line.
func (s *stream) header() (length, n int64, problem string, err error) {
	length = -1
	started := false
	for {
		line, read, err := s.line()
		n += read
		if err != nil {
			if err == io.EOF && (started || read > 0) {
				err = io.ErrUnexpectedEOF
			}
			return 0, n, "", err
		}
		if line == "" {
			if !started {
				continue // blank lines between messages
			}
			break
		}
		if !started {
			if i := lastIndexFold(line, "content-length:"); i >= 0 {
				if i > 0 {
					s.log.Warn("skipped bytes before a message header", zap.Int("bytes", i))
				}
				line = line[i:]
			} else if !hasPrefixFold(line, "content-type:") {
				s.log.Warn("skipped a line that is no message header", zap.Int("bytes", len(line)))
				continue
			}
		}
		started = true
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			problem = fmt.Sprintf("header line of %d bytes without a colon", len(line))
			continue
		}
		if strings.EqualFold(strings.TrimSpace(name), "Content-Length") {
			v, perr := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
			if perr != nil || v < 0 {
				// Not quoted: whatever stands there may be a document's text.
				problem = fmt.Sprintf("the %d-byte Content-Length value is not a byte count", len(strings.TrimSpace(value)))
				continue
			}
			length = v
		}
	}
	if problem == "" && length < 0 {
		problem = "no Content-Length header"
	}
	return length, n, problem, nil
}

// line reads one line without its line break. Of a longer line it keeps the
// last maxHeaderLine bytes (where a header that follows garbage is).
func (s *stream) line() (string, int64, error) {
	var buf []byte
	var n int64
	for {
		chunk, err := s.in.ReadSlice('\n')
		n += int64(len(chunk))
		buf = append(buf, chunk...)
		if len(buf) > maxHeaderLine {
			buf = append(buf[:0], buf[len(buf)-maxHeaderLine:]...)
		}
		switch err {
		case nil:
			return strings.TrimRight(string(buf), "\r\n"), n, nil
		case bufio.ErrBufferFull:
			continue
		default:
			return "", n, err
		}
	}
}

// replyError answers a message that could not be decoded. The id is the
// message's own when it can be read (a request with bad params shape still
// gets its answer), else null, as JSON-RPC requires.
func (s *stream) replyError(body []byte, code jsonrpc2.Code, msg string) {
	id := json.RawMessage("null")
	var probe struct {
		ID json.RawMessage `json:"id"`
	}
	if body != nil && json.Unmarshal(body, &probe) == nil {
		var str string
		var num json.Number
		if json.Unmarshal(probe.ID, &str) == nil || json.Unmarshal(probe.ID, &num) == nil {
			id = probe.ID
		}
	}
	data, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "error": map[string]any{"code": code, "message": msg}})
	if _, err := s.write(data); err != nil {
		s.log.Warn("writing an error response failed", zap.Error(err))
	}
}

// Write sends one message with its Content-Length header.
func (s *stream) Write(ctx context.Context, msg jsonrpc2.Message) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if n, ok := msg.(*jsonrpc2.Notification); ok {
		// Notifications are the large messages (diagnostics): their params
		// are already JSON, so the envelope is written around them rather
		// than re-encoded, which would validate and compact them again.
		return s.write(notificationJSON(n))
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return 0, fmt.Errorf("marshaling message: %w", err)
	}
	return s.write(data)
}

// notificationJSON is the JSON-RPC encoding of a notification, as
// json.Marshal would write it.
func notificationJSON(n *jsonrpc2.Notification) []byte {
	method, _ := json.Marshal(n.Method())
	params := n.Params()
	data := make([]byte, 0, len(params)+len(method)+48)
	data = append(data, `{"jsonrpc":"2.0","method":`...)
	data = append(data, method...)
	if len(params) > 0 {
		data = append(data, `,"params":`...)
		data = append(data, params...)
	}
	return append(data, '}')
}

func (s *stream) write(data []byte) (int64, error) {
	head := append(make([]byte, 0, len(contentLength)+24), contentLength...)
	head = strconv.AppendInt(head, int64(len(data)), 10)
	head = append(head, "\r\n\r\n"...)
	return s.writeFrame(head, data)
}

const (
	// directWrite is the size from which a part of a message is written
	// from where it is; smaller ones are gathered into wbuf, so that a
	// message of many small parts costs few writes.
	directWrite = 16 << 10
	// gatherSize is wbuf's capacity.
	gatherSize = 64 << 10
	// holdBack is how much of the end of a large part waits in wbuf for the
	// parts after it: no write is of a few bytes alone.
	holdBack = 4 << 10
)

// writeFrame writes one whole message, its header included, given as parts
// to write in order: the write lock is held until the last one is written,
// so messages written by other goroutines never interleave with it. The
// large parts (the pieces of a publication's payload) are written from
// where they are, not copied into one buffer first; the small ones are
// gathered with the edges of the large ones around them, so that every
// write is large (a small write to a pipe wakes the reader, and takes a
// page of the pipe's buffer, for a few bytes).
func (s *stream) writeFrame(parts ...[]byte) (int64, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	var n int64
	put := func(b []byte) error {
		m, err := s.rwc.Write(b)
		n += int64(m)
		if err != nil {
			return fmt.Errorf("writing to the client: %w", err)
		}
		return nil
	}
	if s.wbuf == nil {
		s.wbuf = make([]byte, 0, gatherSize)
	}
	buf := s.wbuf[:0]
	for _, p := range parts {
		if len(p) < directWrite {
			if len(buf)+len(p) > gatherSize {
				if err := put(buf); err != nil {
					return n, err
				}
				buf = buf[:0]
			}
			buf = append(buf, p...)
			continue
		}
		if len(buf) > 0 {
			k := min(len(p), gatherSize-len(buf)) // the gathered bytes go with the start of p
			buf, p = append(buf, p[:k]...), p[k:]
			if err := put(buf); err != nil {
				return n, err
			}
			buf = buf[:0]
		}
		if k := len(p) - holdBack; k > 0 {
			if err := put(p[:k]); err != nil {
				return n, err
			}
			p = p[k:]
		}
		buf = append(buf, p...)
	}
	if len(buf) > 0 {
		if err := put(buf); err != nil {
			return n, err
		}
	}
	return n, nil
}

// Close closes the underlying connection.
func (s *stream) Close() error { return s.rwc.Close() }

// lastIndexFold is strings.LastIndex ignoring ASCII case; sub is lower case.
// (strings.ToLower could change the length of non-ASCII text.)
func lastIndexFold(s, sub string) int {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return bytes.LastIndex(b, []byte(sub))
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
