package lsp

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/soc2ls/soc2ls/analysis"
)

func TestInitializationOptions(t *testing.T) {
	s := newSession(t, nil)
	s.initialize(t, map[string]any{
		"diagnosticsDelayMs": 5,
		"rules":              map[string]any{"SOC2-CT-001": "off", "soc2-tag-001": map[string]any{"severity": "error"}},
		"logLevel":           "debug",
	})
	if got := s.srv.delay(); got != 5*time.Millisecond {
		t.Errorf("delay %v, want 5ms", got)
	}
	d := s.open("file:///w/cfg.yaml", trailTemplate)
	p := s.waitDiagnostics(d.uri, atVersion(1))
	if hasCode(p, "SOC2-CT-001") {
		t.Errorf("SOC2-CT-001 is off but reported")
	}
	for _, dg := range p.Diagnostics {
		if dg.Code == "SOC2-TAG-001" && dg.Severity != protocol.DiagnosticSeverityError {
			t.Errorf("SOC2-TAG-001 severity %v, want error (configured)", dg.Severity)
		}
	}
}

// TestDidChangeConfiguration changes the rules of a running server: open
// documents are analysed again.
func TestDidChangeConfiguration(t *testing.T) {
	s := newSession(t, nil)
	s.initialize(t, nil)
	d := s.open("file:///w/cfg.yaml", trailTemplate)
	p := s.waitDiagnostics(d.uri, atVersion(1))
	if !hasCode(p, "SOC2-CT-001") {
		t.Fatalf("no SOC2-CT-001 to turn off: %v", codes(p))
	}
	s.notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"soc2ls": map[string]any{
		"rules": map[string]any{"SOC2-CT-001": map[string]any{"enabled": false}, "SOC2-NOPE-999": "off", "SOC2-S3-001": "loud"},
	}}})
	p = s.waitDiagnostics(d.uri, func(p publishDiagnosticsParams) bool { return !hasCode(p, "SOC2-CT-001") })
	if !hasCode(p, "SOC2-TAG-001") || version(p) != 1 {
		t.Errorf("after turning SOC2-CT-001 off: %v (version %d)", codes(p), version(p))
	}
	s.waitFor("warnings about the invalid settings", func() bool {
		var msgs []string
		for _, raw := range s.notifications("window/showMessage") {
			var m protocol.ShowMessageParams
			_ = json.Unmarshal(raw, &m)
			msgs = append(msgs, m.Message)
		}
		all := strings.Join(msgs, "\n")
		return strings.Contains(all, `unknown rule "SOC2-NOPE-999"`) && strings.Contains(all, `unknown severity "loud"`)
	})
	// Turning it back on brings the finding back.
	s.notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"soc2ls": map[string]any{"rules": map[string]any{}}}})
	s.waitDiagnostics(d.uri, func(p publishDiagnosticsParams) bool { return hasCode(p, "SOC2-CT-001") })
}

// TestPullConfiguration asks clients that support workspace/configuration
// for the soc2ls section, at start and when told the settings changed.
func TestPullConfiguration(t *testing.T) {
	s := newSession(t, nil)
	s.config = json.RawMessage(`{"rules": {"SOC2-CT-001": "off"}}`)
	var res map[string]any
	caps := map[string]any{"workspace": map[string]any{"configuration": true}}
	if err := s.call("initialize", map[string]any{"capabilities": caps}, &res); err != nil {
		t.Fatal(err)
	}
	s.notify("initialized", map[string]any{})
	d := s.open("file:///w/pull.yaml", trailTemplate)
	s.waitDiagnostics(d.uri, func(p publishDiagnosticsParams) bool { return hasCode(p, "SOC2-TAG-001") && !hasCode(p, "SOC2-CT-001") })
	s.mu.Lock()
	s.config = json.RawMessage(`{"rules": {"SOC2-TAG-001": "off"}}`)
	s.mu.Unlock()
	s.notify("workspace/didChangeConfiguration", map[string]any{"settings": nil})
	s.waitDiagnostics(d.uri, func(p publishDiagnosticsParams) bool { return hasCode(p, "SOC2-CT-001") && !hasCode(p, "SOC2-TAG-001") })
}

func TestParseRuleSetting(t *testing.T) {
	for _, c := range []struct {
		raw  string
		want analysis.RuleSetting
		err  bool
	}{
		{`"off"`, analysis.RuleSetting{Off: true}, false},
		{`false`, analysis.RuleSetting{Off: true}, false},
		{`"on"`, analysis.RuleSetting{}, false},
		{`"warning"`, analysis.RuleSetting{Severity: analysis.Warning}, false},
		{`{"severity": "info"}`, analysis.RuleSetting{Severity: analysis.Info}, false},
		{`{"severity": "off"}`, analysis.RuleSetting{Off: true}, false},
		{`{"enabled": false}`, analysis.RuleSetting{Off: true}, false},
		{`"loud"`, analysis.RuleSetting{}, true},
		{`42`, analysis.RuleSetting{}, true},
	} {
		got, err := parseRuleSetting(json.RawMessage(c.raw))
		if (err != nil) != c.err || (!c.err && got != c.want) {
			t.Errorf("%s: %+v, %v; want %+v (error %v)", c.raw, got, err, c.want, c.err)
		}
	}
}

func TestLogLevelSetting(t *testing.T) {
	lvl := zap.NewAtomicLevelAt(zap.InfoLevel)
	s := newSession(t, func(srv *Server) { srv.opts.Level = &lvl })
	s.initialize(t, map[string]any{"logLevel": "warn"})
	if lvl.Level() != zap.WarnLevel {
		t.Errorf("level %v after initializationOptions, want warn", lvl.Level())
	}
	s.notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"soc2ls": map[string]any{"logLevel": "DEBUG"}}})
	// A reply to a later request proves the notification was handled.
	if err := s.call("soc2ls/ping", nil, nil); rpcCode(t, err) != -32601 {
		t.Fatal(err)
	}
	if lvl.Level() != zap.DebugLevel {
		t.Errorf("level %v after didChangeConfiguration, want debug", lvl.Level())
	}
}

// TestSettingsProblemsShownOnce: editors send the same settings as
// initializationOptions and again with didChangeConfiguration; a problem in
// them is shown once, and again only when the settings change.
func TestSettingsProblemsShownOnce(t *testing.T) {
	s := newSession(t, nil)
	bad := map[string]any{"rules": map[string]any{"SOC2-NOPE-999": "off"}}
	s.initialize(t, bad)
	d := s.open("file:///w/once.yaml", trailTemplate)
	s.waitDiagnostics(d.uri, atVersion(1))
	s.notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"soc2ls": bad}})
	worse := map[string]any{"rules": map[string]any{"SOC2-NOPE-999": "off", "SOC2-S3-001": "loud"}}
	s.notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"soc2ls": worse}})
	count := func(sub string) int {
		n := 0
		for _, raw := range s.notifications("window/showMessage") {
			var m protocol.ShowMessageParams
			_ = json.Unmarshal(raw, &m)
			n += strings.Count(m.Message, sub)
		}
		return n
	}
	// The third delivery differs, so its problems are shown: waiting for it
	// also orders the earlier ones before the count.
	s.waitFor("the warning about the changed settings", func() bool { return count(`unknown severity "loud"`) == 1 })
	if n := count(`unknown rule "SOC2-NOPE-999"`); n != 2 {
		t.Errorf("the unknown rule was shown %d times, want 2 (once for the first two identical deliveries, once with the changed settings)", n)
	}
}

// TestStaleConfigurationAnswerDropped: the answer to a workspace/configuration
// request describes the client's settings when it read the request; settings
// pushed after that (a didChangeConfiguration that overtook the reply) are
// newer and are kept.
func TestStaleConfigurationAnswerDropped(t *testing.T) {
	srv := NewServer(Options{Rules: testRules(t), Logger: testLogger(t), Version: "test"})
	parse := func(raw string) *settings {
		st, err := parseSettings(json.RawMessage(raw))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	srv.mu.Lock()
	asked := srv.settingsSeq // the pull is sent
	srv.mu.Unlock()
	srv.applySettings(parse(`{"rules": {"SOC2-TAG-001": "off"}}`), false) // a push overtakes its answer
	srv.applySettingsAsOf(parse(`{"rules": {"SOC2-CT-001": "off"}}`), false, &asked)
	e := srv.currentEngine()
	if !e.Options.Rules["SOC2-TAG-001"].Off || e.Options.Rules["SOC2-CT-001"].Off {
		t.Errorf("rules after a stale answer: %+v; want the pushed settings (TAG-001 off, CT-001 on)", e.Options.Rules)
	}
	srv.mu.Lock()
	asked = srv.settingsSeq // a pull with nothing newer
	srv.mu.Unlock()
	srv.applySettingsAsOf(parse(`{"rules": {"SOC2-CT-001": "off"}}`), false, &asked)
	if !srv.currentEngine().Options.Rules["SOC2-CT-001"].Off {
		t.Error("a current answer was not applied")
	}
}
