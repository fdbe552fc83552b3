package lsp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/soc2ls/soc2ls/analysis"
	project "github.com/soc2ls/soc2ls/analysis/config"
)

// DefaultDiagnosticsDelay is how long the server waits after the last edit of
// a document before analysing it, unless configured otherwise.
const DefaultDiagnosticsDelay = 30 * time.Millisecond

// settings are the soc2ls settings, from initializationOptions or from the
// `soc2ls` section of workspace/didChangeConfiguration and
// workspace/configuration. Absent fields leave the current value alone.
type settings struct {
	// DiagnosticsDelayMs is the debounce delay; 0 analyses immediately.
	DiagnosticsDelayMs *float64 `json:"diagnosticsDelayMs"`
	// Rules maps rule ids to "off", "on", a severity name, or
	// {"severity": "..."} / {"enabled": false}.
	Rules map[string]json.RawMessage `json:"rules"`
	// LogLevel is debug, info, warn or error.
	LogLevel *string `json:"logLevel"`
	// MaxFileSizeMB is the size above which documents are not analysed.
	MaxFileSizeMB *float64 `json:"maxFileSizeMB"`
}

// config is the effective configuration of the server.
type config struct {
	delay    time.Duration
	rules    map[string]analysis.RuleSetting
	logLevel *zapcore.Level
	maxSize  int64 // bytes; 0 is DefaultMaxFileSize
}

// parseSettings reads settings from raw JSON: either the settings object
// itself or an object with a "soc2ls" member. It returns nil for null or
// empty input.
func parseSettings(raw json.RawMessage) (*settings, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var wrapper struct {
		Soc2ls json.RawMessage `json:"soc2ls"`
	}
	if err := json.Unmarshal(raw, &wrapper); err != nil {
		return nil, fmt.Errorf("settings are not a JSON object: %v", err)
	}
	if s := bytes.TrimSpace(wrapper.Soc2ls); len(s) > 0 && !bytes.Equal(s, []byte("null")) {
		raw = s
	}
	var st settings
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, fmt.Errorf("invalid soc2ls settings: %v", err)
	}
	return &st, nil
}

// apply merges s into c. Problems (unknown rules, bad values) are returned as
// messages for the user; the valid parts still apply.
func (c *config) apply(s *settings, known func(id string) bool) []string {
	if s == nil {
		return nil
	}
	var problems []string
	if s.DiagnosticsDelayMs != nil {
		ms := *s.DiagnosticsDelayMs
		switch {
		case ms < 0:
			problems = append(problems, fmt.Sprintf("diagnosticsDelayMs must not be negative (got %v)", ms))
		case ms > 60000:
			problems = append(problems, fmt.Sprintf("diagnosticsDelayMs above 60000 is not useful (got %v); using 60000", ms))
			c.delay = time.Minute
		default:
			c.delay = time.Duration(ms * float64(time.Millisecond))
		}
	}
	if s.LogLevel != nil {
		var lvl zapcore.Level
		if err := lvl.UnmarshalText([]byte(strings.ToLower(*s.LogLevel))); err != nil {
			problems = append(problems, fmt.Sprintf("unknown logLevel %q (want debug, info, warn or error)", *s.LogLevel))
		} else {
			c.logLevel = &lvl
		}
	}
	if s.MaxFileSizeMB != nil {
		if mb := *s.MaxFileSizeMB; mb > 0 && mb <= maxFileSizeMB {
			c.maxSize = int64(mb * (1 << 20))
		} else {
			problems = append(problems, fmt.Sprintf("maxFileSizeMB must be above 0 and at most %d (got %v)", maxFileSizeMB, mb))
		}
	}
	if s.Rules != nil {
		rules := map[string]analysis.RuleSetting{}
		ids := make([]string, 0, len(s.Rules))
		for id := range s.Rules {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			canon := strings.ToUpper(strings.TrimSpace(id))
			if !known(canon) {
				problems = append(problems, fmt.Sprintf("rules: unknown rule %q", id))
				continue
			}
			rs, err := parseRuleSetting(s.Rules[id])
			if err != nil {
				problems = append(problems, fmt.Sprintf("rules.%s: %v", id, err))
				continue
			}
			rules[canon] = rs
		}
		c.rules = rules
	}
	return problems
}

// parseRuleSetting reads one rule's setting: "off", "on", a severity name,
// {"severity": NAME}, {"enabled": BOOL} or false/true.
func parseRuleSetting(raw json.RawMessage) (analysis.RuleSetting, error) {
	var b bool
	if err := json.Unmarshal(raw, &b); err == nil {
		return analysis.RuleSetting{Off: !b}, nil
	}
	var word string
	if err := json.Unmarshal(raw, &word); err == nil {
		return ruleWord(word)
	}
	var obj struct {
		Severity *string `json:"severity"`
		Enabled  *bool   `json:"enabled"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return analysis.RuleSetting{}, fmt.Errorf(`want "off", a severity, or {"severity": ...}`)
	}
	var rs analysis.RuleSetting
	if obj.Enabled != nil && !*obj.Enabled {
		rs.Off = true
	}
	if obj.Severity != nil {
		w, err := ruleWord(*obj.Severity)
		if err != nil {
			return rs, err
		}
		rs.Off = rs.Off || w.Off
		rs.Severity = w.Severity
	}
	return rs, nil
}

// ruleWord reads a rule setting word the way the project configuration
// does: one vocabulary for both.
func ruleWord(w string) (analysis.RuleSetting, error) { return project.RuleWord(w) }

// engineOptions returns the analysis options for documents without a
// project configuration: the defaults and the editor's rule settings.
func (c *config) engineOptions() *analysis.Options { return c.projectOptions(nil) }

// projectOptions returns the analysis options for documents under the
// project configuration f (nil for none). Precedence: editor settings, then
// the project file, then the defaults; the editor's "on" for a rule the
// project turned off turns it back on.
func (c *config) projectOptions(f *project.File) *analysis.Options {
	o := f.Apply(analysis.DefaultOptions())
	for id, rs := range c.rules {
		o.Rules[id] = rs
	}
	return o
}

// didChangeConfigurationParams is workspace/didChangeConfiguration's params.
type didChangeConfigurationParams struct {
	Settings json.RawMessage `json:"settings"`
}

// didChangeConfiguration applies pushed settings; clients that push nothing
// (the pull model) are asked with workspace/configuration.
func (s *Server) didChangeConfiguration(ctx context.Context, p *didChangeConfigurationParams) error {
	st, err := parseSettings(p.Settings)
	if err != nil {
		s.showMessage(protocol.MessageTypeWarning, "soc2ls: "+err.Error())
		return nil
	}
	if st == nil {
		if s.capabilities().Workspace.Configuration {
			go s.pullConfiguration()
		}
		return nil
	}
	s.applySettings(st, true)
	return nil
}

// pullConfiguration asks the client for the soc2ls section. It runs on its
// own goroutine: the reply arrives through the reader goroutine.
func (s *Server) pullConfiguration() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The answer describes the client's settings when it read the request:
	// settings applied after that (a didChangeConfiguration that overtook
	// the reply) are newer and must not be overwritten by it.
	s.mu.Lock()
	asked := s.settingsSeq
	s.mu.Unlock()
	var items []json.RawMessage
	params := map[string]any{"items": []map[string]string{{"section": "soc2ls"}}}
	if _, err := s.conn.Call(ctx, protocol.MethodWorkspaceConfiguration, params, &items); err != nil {
		s.log.Info("workspace/configuration failed", zap.Error(err))
		return
	}
	if len(items) == 0 {
		return
	}
	st, err := parseSettings(items[0])
	if err != nil {
		s.showMessage(protocol.MessageTypeWarning, "soc2ls: "+err.Error())
		return
	}
	s.applySettingsAsOf(st, true, &asked)
}

// applySettings merges settings into the configuration, reports invalid
// parts to the user, and, when the rules changed and reanalyse is set,
// analyses every open document again.
func (s *Server) applySettings(st *settings, reanalyse bool) { s.applySettingsAsOf(st, reanalyse, nil) }

// applySettingsAsOf is applySettings for settings read when settingsSeq was
// *asOf: they are dropped when newer settings were applied since.
func (s *Server) applySettingsAsOf(st *settings, reanalyse bool, asOf *uint64) {
	if st == nil {
		return
	}
	s.mu.Lock()
	if asOf != nil && *asOf != s.settingsSeq {
		s.mu.Unlock()
		s.log.Info("workspace/configuration answer dropped: newer settings were applied meanwhile")
		return
	}
	s.settingsSeq++
	before := s.cfg.rules
	engine := s.engine
	problems := s.cfg.apply(st, func(id string) bool { _, ok := engine.Rule(id); return ok })
	changed := !reflect.DeepEqual(before, s.cfg.rules)
	if changed {
		s.engine = analysis.NewEngine(s.opts.Rules, s.cfg.engineOptions())
	}
	lvl := s.cfg.logLevel
	delay := s.cfg.delay
	// Clients send the same settings as initializationOptions and again with
	// didChangeConfiguration: tell the user about a problem once, not per
	// delivery.
	repeated := slices.Equal(problems, s.settingsProblems)
	s.settingsProblems = problems
	s.mu.Unlock()
	if changed {
		// After s.mu is released: projectEngine takes s.proj.mu, then s.mu.
		s.proj.resetEngines()
	}
	if lvl != nil && s.opts.Level != nil {
		s.opts.Level.SetLevel(*lvl)
	}
	s.log.Info("settings applied", zap.Duration("diagnosticsDelay", delay), zap.Bool("rulesChanged", changed))
	for _, p := range problems {
		s.log.Warn("settings: " + p)
		if !repeated {
			s.showMessage(protocol.MessageTypeWarning, "soc2ls settings: "+p)
		}
	}
	if changed && reanalyse {
		s.reanalyseTemplates()
	}
}
