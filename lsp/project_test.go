package lsp

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	project "github.com/soc2ls/soc2ls/analysis/config"
)

// projectDir makes a directory that is the root of a repository (so that
// discovery stops there) with the given files, and returns its path.
func projectDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	files[".git/HEAD"] = "ref: refs/heads/main\n"
	for name, content := range files {
		writeFile(t, filepath.Join(dir, filepath.FromSlash(name)), content)
	}
	return dir
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func fileURI(path string) string { return string(uri.File(path)) }

// severityOf returns the severity of the first diagnostic with code, or 0.
func severityOf(p publishDiagnosticsParams, code string) protocol.DiagnosticSeverity {
	for _, d := range p.Diagnostics {
		if d.Code == code {
			return d.Severity
		}
	}
	return 0
}

// latest returns the newest publication for uri (which must exist).
func (c *client) latest(uri string) publishDiagnosticsParams {
	ps := c.published(uri)
	if len(ps) == 0 {
		c.t.Fatalf("nothing published for %s", uri)
	}
	return ps[len(ps)-1]
}

// waitLatest waits until the newest publication for uri satisfies ok.
func (c *client) waitLatest(uri string, ok func(publishDiagnosticsParams) bool) publishDiagnosticsParams {
	c.t.Helper()
	var got publishDiagnosticsParams
	c.waitFor("diagnostics for "+uri, func() bool {
		ps := c.published(uri)
		if len(ps) == 0 || !ok(ps[len(ps)-1]) {
			return false
		}
		got = ps[len(ps)-1]
		return true
	})
	return got
}

// TestProjectConfigPrecedence: editor settings override the project's
// .soc2ls.yaml, which overrides the defaults; documents outside the
// project get the defaults.
func TestProjectConfigPrecedence(t *testing.T) {
	dir := projectDir(t, map[string]string{
		"proj/" + project.FileName: "rules:\n  SOC2-CT-001: off\n  SOC2-TAG-001: {severity: error}\n",
	})
	s := newSession(t, nil)
	s.initialize(t, nil)
	in := s.open(fileURI(filepath.Join(dir, "proj", "stacks", "t.yaml")), trailTemplate)
	out := s.open(fileURI(filepath.Join(dir, "t.yaml")), trailTemplate)

	p := s.waitDiagnostics(out.uri, atVersion(1))
	if severityOf(p, "SOC2-CT-001") != protocol.DiagnosticSeverityError || severityOf(p, "SOC2-TAG-001") != protocol.DiagnosticSeverityWarning {
		t.Errorf("outside the project (defaults): %v", p.Diagnostics)
	}
	p = s.waitDiagnostics(in.uri, atVersion(1))
	if hasCode(p, "SOC2-CT-001") || severityOf(p, "SOC2-TAG-001") != protocol.DiagnosticSeverityError {
		t.Errorf("inside the project (config over defaults): %v", p.Diagnostics)
	}

	// Editor settings win: SOC2-TAG-001 at info, SOC2-CT-001 back on.
	s.notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"soc2ls": map[string]any{
		"rules": map[string]any{"SOC2-TAG-001": "info", "SOC2-CT-001": "on"}}}})
	p = s.waitLatest(in.uri, func(p publishDiagnosticsParams) bool { return hasCode(p, "SOC2-CT-001") })
	if severityOf(p, "SOC2-TAG-001") != protocol.DiagnosticSeverityInformation {
		t.Errorf("editor over config: %v", p.Diagnostics)
	}
	// Editor settings that say nothing about a rule leave the project's.
	s.notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"soc2ls": map[string]any{
		"rules": map[string]any{"SOC2-S3-001": "info"}}}})
	p = s.waitLatest(in.uri, func(p publishDiagnosticsParams) bool { return !hasCode(p, "SOC2-CT-001") })
	if severityOf(p, "SOC2-TAG-001") != protocol.DiagnosticSeverityError {
		t.Errorf("config again: %v", p.Diagnostics)
	}
	p = s.latest(out.uri)
	if severityOf(p, "SOC2-CT-001") != protocol.DiagnosticSeverityError {
		t.Errorf("outside the project after the settings change: %v", p.Diagnostics)
	}
}

// TestProjectConfigErrors: problems in a workspace folder's configuration
// are published on the file's URI, positioned, although it is not open, and
// the valid parts apply.
func TestProjectConfigErrors(t *testing.T) {
	cfg := "rules:\n  SOC2-TAG-001: off\n  SOC2-NOPE-999: off\noptions:\n  publicPorts: [80, 0]\n"
	dir := projectDir(t, map[string]string{project.FileName: cfg})
	s := newSession(t, nil)
	var res map[string]any
	if err := s.call("initialize", map[string]any{"capabilities": fullCapabilities,
		"workspaceFolders": []map[string]any{{"uri": fileURI(dir), "name": "w"}}}, &res); err != nil {
		t.Fatal(err)
	}
	s.notify("initialized", map[string]any{})
	cfgURI := fileURI(filepath.Join(dir, project.FileName))
	p := s.waitDiagnostics(cfgURI, func(p publishDiagnosticsParams) bool { return len(p.Diagnostics) == 2 })
	want := []struct {
		line, char uint32
		msg        string
	}{{2, 2, `rules: unknown rule "SOC2-NOPE-999"`}, {4, 20, "options.publicPorts: port 0 out of range (want 1 to 65535)"}}
	for i, w := range want {
		d := p.Diagnostics[i]
		if d.Range.Start.Line != w.line || d.Range.Start.Character != w.char || d.Message != w.msg || d.Severity != protocol.DiagnosticSeverityError || d.Source != "soc2ls" {
			t.Errorf("diagnostic %d: %+v, want %d:%d %q", i, d, w.line, w.char, w.msg)
		}
	}
	// An untitled buffer takes the workspace folder's configuration.
	d := s.open("untitled:Untitled-1", trailTemplate)
	if p := s.waitDiagnostics(d.uri, atVersion(1)); hasCode(p, "SOC2-TAG-001") || !hasCode(p, "SOC2-CT-001") {
		t.Errorf("untitled buffer: %v", codes(p))
	}
}

// TestProjectConfigReload: the server follows the configuration file on
// disk (workspace/didChangeWatchedFiles, whose watcher it registers) and in
// the editor (didChange, before saving; didClose goes back to the disk).
func TestProjectConfigReload(t *testing.T) {
	dir := projectDir(t, map[string]string{})
	cfgPath := filepath.Join(dir, project.FileName)
	s := newSession(t, nil)
	caps := map[string]any{"workspace": map[string]any{"didChangeWatchedFiles": map[string]any{"dynamicRegistration": true}}}
	var res map[string]any
	if err := s.call("initialize", map[string]any{"capabilities": caps, "rootUri": fileURI(dir)}, &res); err != nil {
		t.Fatal(err)
	}
	s.notify("initialized", map[string]any{})
	s.waitFor("the watcher registration", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, r := range s.requests {
			if r.Method == "client/registerCapability" && strings.Contains(string(r.Params), `"globPattern":"**/.soc2ls.yaml"`) &&
				strings.Contains(string(r.Params), `"method":"workspace/didChangeWatchedFiles"`) {
				return true
			}
		}
		return false
	})

	d := s.open(fileURI(filepath.Join(dir, "t.yaml")), trailTemplate)
	s.waitLatest(d.uri, func(p publishDiagnosticsParams) bool { return hasCode(p, "SOC2-CT-001") })

	// Created on disk.
	writeFile(t, cfgPath, "rules: {SOC2-CT-001: off}\n")
	watched := func(typ int) {
		s.notify("workspace/didChangeWatchedFiles", map[string]any{"changes": []map[string]any{{"uri": fileURI(cfgPath), "type": typ}}})
	}
	watched(1)
	s.waitLatest(d.uri, func(p publishDiagnosticsParams) bool { return !hasCode(p, "SOC2-CT-001") && hasCode(p, "SOC2-TAG-001") })

	// Edited in the editor, unsaved, with a mistake: the diagnostics show on
	// the configuration document, and its valid part applies at once.
	cfgDoc := s.open(fileURI(cfgPath), "rules: {SOC2-CT-001: off}\n")
	s.replaceAll(cfgDoc, "rules: {SOC2-TAG-001: off}\nprofile: wrkload\n")
	p := s.waitLatest(cfgDoc.uri, func(p publishDiagnosticsParams) bool { return len(p.Diagnostics) == 1 })
	if dg := p.Diagnostics[0]; dg.Range.Start != (protocol.Position{Line: 1, Character: 9}) || dg.Range.End != (protocol.Position{Line: 1, Character: 16}) ||
		!strings.Contains(dg.Message, `unknown profile "wrkload"`) {
		t.Errorf("config diagnostic %+v", dg)
	}
	s.waitLatest(d.uri, func(p publishDiagnosticsParams) bool { return hasCode(p, "SOC2-CT-001") && !hasCode(p, "SOC2-TAG-001") })

	// Closed without saving: the file on disk applies again, and the
	// diagnostics of the discarded text go.
	s.notify("textDocument/didClose", map[string]any{"textDocument": map[string]any{"uri": cfgDoc.uri}})
	s.waitLatest(d.uri, func(p publishDiagnosticsParams) bool { return !hasCode(p, "SOC2-CT-001") && hasCode(p, "SOC2-TAG-001") })
	if p := s.latest(cfgDoc.uri); len(p.Diagnostics) != 0 {
		t.Errorf("diagnostics of the closed text remain: %v", p.Diagnostics)
	}

	// Changed on disk, then deleted.
	writeFile(t, cfgPath, "rules: {SOC2-CT-001: off}\nprofile: nope\n")
	watched(2)
	s.waitLatest(cfgDoc.uri, func(p publishDiagnosticsParams) bool { return len(p.Diagnostics) == 1 })
	os.Remove(cfgPath)
	watched(3)
	s.waitLatest(d.uri, func(p publishDiagnosticsParams) bool { return hasCode(p, "SOC2-CT-001") && hasCode(p, "SOC2-TAG-001") })
	s.waitFor("the deleted file's diagnostics cleared", func() bool { return len(s.latest(cfgDoc.uri).Diagnostics) == 0 })
}

// TestProjectConfigIgnore: the server publishes nothing for documents the
// project configuration ignores.
func TestProjectConfigIgnore(t *testing.T) {
	dir := projectDir(t, map[string]string{project.FileName: "ignore: [\"gen/**\", \"**/*.generated.yaml\"]\n"})
	s := newSession(t, nil)
	s.initialize(t, nil)
	ignored := []*doc{
		s.open(fileURI(filepath.Join(dir, "gen", "a", "t.yaml")), trailTemplate),
		s.open(fileURI(filepath.Join(dir, "x", "t.generated.yaml")), trailTemplate),
	}
	checked := s.open(fileURI(filepath.Join(dir, "x", "t.yaml")), trailTemplate)
	s.waitDiagnostics(checked.uri, func(p publishDiagnosticsParams) bool { return hasCode(p, "SOC2-CT-001") })
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for _, d := range ignored {
		_, snap, release, err := s.srv.current(ctx, protocol.DocumentURI(d.uri))
		if err != nil || len(snap.findings) != 0 {
			t.Errorf("%s: analysed with findings (%v)", d.uri, err)
		}
		if release != nil {
			release()
		}
		if ps := s.published(d.uri); len(ps) != 0 {
			t.Errorf("%s is ignored but got %v", d.uri, ps)
		}
	}
	// Hover still works in an ignored document.
	var h json.RawMessage
	if err := s.call("textDocument/hover", map[string]any{"textDocument": map[string]any{"uri": ignored[0].uri},
		"position": pos(t, trailTemplate, "!Ref Logs", 6)}, &h); err != nil || !strings.Contains(string(h), "Logs") {
		t.Errorf("hover in an ignored document: %s %v", h, err)
	}
}
