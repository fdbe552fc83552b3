package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// serveTimeout bounds each wait of the binary test; nothing is timed.
const serveTimeout = 60 * time.Second

const serveTemplate = `AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Trail:
    Type: AWS::CloudTrail::Trail
    Properties:
      IsLogging: true
      S3BucketName: audit-logs
      IsMultiRegionTrail: false
`

// buildBinary builds soc2ls into a temporary directory.
func buildBinary(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "soc2ls")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// stdioPeer frames LSP messages by hand over a process's stdin and stdout.
type stdioPeer struct {
	t    testing.TB
	in   io.WriteCloser
	msgs chan map[string]json.RawMessage
	errs chan error
}

func startPeer(t testing.TB, cmd *exec.Cmd) *stdioPeer {
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &stdioPeer{t: t, in: in, msgs: make(chan map[string]json.RawMessage, 100), errs: make(chan error, 1)}
	go func() {
		r := bufio.NewReader(out)
		tp := textproto.NewReader(r)
		for {
			h, err := tp.ReadMIMEHeader()
			if err != nil {
				p.errs <- err
				return
			}
			n, err := strconv.Atoi(h.Get("Content-Length"))
			if err != nil || len(h) != 1 {
				p.errs <- fmt.Errorf("bad header %v", h)
				return
			}
			body := make([]byte, n)
			if _, err := io.ReadFull(r, body); err != nil {
				p.errs <- err
				return
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(body, &m); err != nil {
				p.errs <- fmt.Errorf("stdout is not JSON-RPC: %q", body)
				return
			}
			p.msgs <- m
		}
	}()
	return p
}

func (p *stdioPeer) send(msg string) {
	fmt.Fprintf(p.in, "Content-Length: %d\r\n\r\n%s", len(msg), msg)
}

// await returns the first message that satisfies ok.
func (p *stdioPeer) await(what string, ok func(map[string]json.RawMessage) bool) map[string]json.RawMessage {
	p.t.Helper()
	deadline := time.After(serveTimeout)
	for {
		select {
		case m := <-p.msgs:
			if ok(m) {
				return m
			}
		case err := <-p.errs:
			p.t.Fatalf("waiting for %s: %v", what, err)
		case <-deadline:
			p.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func response(id string) func(map[string]json.RawMessage) bool {
	return func(m map[string]json.RawMessage) bool { return string(m["id"]) == id && m["method"] == nil }
}

func exitCode(t testing.TB, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(serveTimeout):
		_ = cmd.Process.Kill()
		t.Fatalf("soc2ls serve did not exit")
		return -1
	}
}

// TestServeBinary runs the real binary as an editor would: raw
// Content-Length framing over stdin and stdout, logs on stderr.
func TestServeBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)

	out, err := exec.Command(bin, "serve", "--version").Output()
	if err != nil || !strings.HasPrefix(string(out), "soc2ls ") {
		t.Errorf("serve --version: %q, %v", out, err)
	}
	var help bytes.Buffer
	h := exec.Command(bin, "serve", "--help")
	h.Stderr = &help
	if err := h.Run(); err != nil || !strings.Contains(help.String(), "--logfile") {
		t.Errorf("serve --help: %v\n%s", err, help.String())
	}

	var stderr bytes.Buffer
	cmd := exec.Command(bin, "serve", "--stdio", "--log-level", "debug")
	cmd.Stderr = &stderr
	p := startPeer(t, cmd)
	p.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{}}}`)
	init := p.await("initialize response", response("1"))
	if !strings.Contains(string(init["result"]), `"change":2`) {
		t.Errorf("initialize result %s", init["result"])
	}
	p.send(`{"jsonrpc":"2.0","method":"initialized","params":{}}`)
	doc, _ := json.Marshal(map[string]any{"textDocument": map[string]any{"uri": "file:///w/trail.yaml", "languageId": "yaml", "version": 1, "text": serveTemplate}})
	p.send(`{"jsonrpc":"2.0","method":"textDocument/didOpen","params":` + string(doc) + `}`)
	diag := p.await("diagnostics", func(m map[string]json.RawMessage) bool {
		return string(m["method"]) == `"textDocument/publishDiagnostics"`
	})
	if !strings.Contains(string(diag["params"]), `"code":"SOC2-CT-001"`) || !strings.Contains(string(diag["params"]), `"version":1`) {
		t.Errorf("diagnostics %s", diag["params"])
	}
	p.send(`{"jsonrpc":"2.0","id":"s","method":"shutdown"}`)
	if r := p.await("shutdown response", response(`"s"`)); string(r["result"]) != "null" {
		t.Errorf("shutdown result %s", r["result"])
	}
	p.send(`{"jsonrpc":"2.0","method":"exit"}`)
	if code := exitCode(t, cmd); code != 0 {
		t.Errorf("exit after shutdown: code %d, want 0\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "analysed") {
		t.Errorf("no debug logs on stderr:\n%s", stderr.String())
	}
	if strings.Contains(stderr.String(), "IsMultiRegionTrail") {
		t.Errorf("the logs contain template text:\n%s", stderr.String())
	}

	// Without shutdown, exit ends the process with 1.
	cmd = exec.Command(bin, "serve")
	p = startPeer(t, cmd)
	p.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}`)
	p.await("initialize response", response("1"))
	p.send(`{"jsonrpc":"2.0","method":"exit"}`)
	if code := exitCode(t, cmd); code != 1 {
		t.Errorf("exit without shutdown: code %d, want 1", code)
	}
}
