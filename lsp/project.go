package lsp

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"sort"
	"sync"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
	"go.uber.org/zap"

	"github.com/soc2ls/soc2ls/analysis"
	project "github.com/soc2ls/soc2ls/analysis/config"
)

// projects holds the project configuration files (.soc2ls.yaml) of the
// documents: discovery and parsing (through project.Loader, which reads
// open configuration documents from the editor's buffer), one engine per
// configuration file, and what was last published for each file.
type projects struct {
	loader project.Loader

	// reloadMu serialises reloads (a watched-file event on the reader
	// goroutine, an edited configuration document on its scheduler).
	reloadMu sync.Mutex

	mu      sync.Mutex
	engines map[*project.File]*analysis.Engine // for the current editor settings
	known   map[string]*project.File           // every configuration file loaded, by path
	shown   map[string][]byte                  // JSON of the diagnostics last published, by path
	folders []string                           // workspace folder paths, in the client's order
}

func newProjects(s *Server) *projects {
	p := &projects{engines: map[*project.File]*analysis.Engine{}, known: map[string]*project.File{}, shown: map[string][]byte{}}
	p.loader.Known = func(id string) bool { _, ok := s.currentEngine().Rule(id); return ok }
	p.loader.ReadFile = func(path string) ([]byte, error) {
		if d := s.openDocument(path); d != nil {
			d.mu.Lock()
			defer d.mu.Unlock()
			return bytes.Clone(d.text), nil
		}
		return project.ReadDisk(path)
	}
	return p
}

// setFolders records the workspace folders.
func (p *projects) setFolders(dirs []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.folders = dirs
}

// resetEngines forgets the engines after the editor settings changed.
func (p *projects) resetEngines() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.engines = map[*project.File]*analysis.Engine{}
}

// isConfigDocument reports whether a document is a project configuration
// file, which the server checks as such instead of as a template.
func isConfigDocument(d *document) bool {
	return filepath.Base(d.filename) == project.FileName && isFileURI(d.uri)
}

func isFileURI(u uri.URI) bool { return len(u) > 5 && string(u[:5]) == uri.FileScheme+":" }

// openDocument returns the open document for a file path, or nil.
func (s *Server) openDocument(path string) *document {
	for _, d := range s.docs.all() {
		if isFileURI(d.uri) && d.filename == path {
			return d
		}
	}
	return nil
}

// analysisPlan says how to analyse a document: with which engine, or not
// as a template at all.
type analysisPlan struct {
	engine  *analysis.Engine
	config  bool // the document is a configuration file
	ignored bool // the project configuration ignores the document
}

// planFor finds a document's project configuration and its engine. Files
// without a file URI (untitled buffers) take the first workspace folder's
// configuration.
func (s *Server) planFor(d *document) analysisPlan {
	if isConfigDocument(d) {
		return analysisPlan{engine: s.currentEngine(), config: true}
	}
	dir := ""
	if isFileURI(d.uri) {
		dir = filepath.Dir(d.filename)
	} else {
		s.proj.mu.Lock()
		if len(s.proj.folders) > 0 {
			dir = s.proj.folders[0]
		}
		s.proj.mu.Unlock()
	}
	if dir == "" {
		return analysisPlan{engine: s.currentEngine()}
	}
	f := s.configFor(dir)
	if f == nil {
		return analysisPlan{engine: s.currentEngine()}
	}
	if isFileURI(d.uri) && f.Ignored(d.filename) {
		return analysisPlan{engine: s.currentEngine(), ignored: true}
	}
	return analysisPlan{engine: s.projectEngine(f)}
}

// configFor returns the configuration that applies in dir (nil for none),
// publishing its problems when it is loaded for the first time.
func (s *Server) configFor(dir string) *project.File {
	f, err := s.proj.loader.ForDir(dir)
	if err != nil {
		s.log.Warn("reading the project configuration failed", zap.String("dir", dir), zap.Error(err))
		return nil
	}
	if f == nil {
		return nil
	}
	s.proj.mu.Lock()
	first := s.proj.known[f.Path] != f
	s.proj.known[f.Path] = f
	s.proj.mu.Unlock()
	if first {
		s.publishConfig(f.Path, f)
	}
	return f
}

// projectEngine returns the engine for a configuration file under the
// current editor settings.
func (s *Server) projectEngine(f *project.File) *analysis.Engine {
	s.proj.mu.Lock()
	defer s.proj.mu.Unlock()
	e, ok := s.proj.engines[f]
	if !ok {
		s.mu.Lock()
		opts := s.cfg.projectOptions(f)
		s.mu.Unlock()
		e = analysis.NewEngine(s.opts.Rules, opts)
		s.proj.engines[f] = e
	}
	return e
}

// publishConfig publishes the problems of a configuration file (nil: the
// file is gone) as diagnostics on its URI, whether or not it is open, when
// they differ from what was last published.
func (s *Server) publishConfig(path string, f *project.File) {
	var diags []protocol.Diagnostic
	if f != nil {
		for _, e := range f.Errors {
			diags = append(diags, protocol.Diagnostic{
				Range:    toRange(f.Lines, e.Span),
				Severity: protocol.DiagnosticSeverityError,
				Source:   diagnosticSource,
				Message:  e.Message,
			})
		}
	}
	payload, _ := json.Marshal(diags)
	s.proj.mu.Lock()
	last, shown := s.proj.shown[path]
	if (shown && bytes.Equal(last, payload)) || (!shown && len(diags) == 0) {
		s.proj.mu.Unlock()
		return
	}
	s.proj.shown[path] = payload
	s.proj.mu.Unlock()
	u := uri.File(path)
	if d := s.openDocument(path); d != nil {
		u = d.uri // the client's spelling of the URI, if it differs
	}
	s.publish(u, nil, diags)
}

// reloadConfigs rereads every configuration file after one was created,
// changed or deleted (on disk or in the editor), publishes their problems,
// and analyses the open documents again when something changed.
func (s *Server) reloadConfigs(why string, extra ...string) {
	s.proj.reloadMu.Lock()
	defer s.proj.reloadMu.Unlock()
	s.proj.loader.Invalidate()
	s.proj.mu.Lock()
	old := s.proj.known
	s.proj.known = map[string]*project.File{}
	s.proj.engines = map[*project.File]*analysis.Engine{}
	folders := s.proj.folders
	s.proj.mu.Unlock()

	changed := false
	paths := make([]string, 0, len(old))
	for p := range old {
		paths = append(paths, p)
	}
	for _, p := range extra {
		if old[p] == nil {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		f, err := s.proj.loader.Load(p)
		if err != nil { // deleted: clear its diagnostics
			s.publishConfig(p, nil)
			changed = true
			continue
		}
		if old[p] == nil || !bytes.Equal(f.Source, old[p].Source) {
			changed = true
		}
		s.proj.mu.Lock()
		s.proj.known[p] = f
		s.proj.mu.Unlock()
		s.publishConfig(p, f)
	}
	for _, dir := range folders {
		if f := s.configFor(dir); f != nil && old[f.Path] == nil {
			changed = true // a new file in a workspace folder
		}
	}
	s.log.Info("project configuration reloaded", zap.String("why", why), zap.Bool("changed", changed))
	// A new file elsewhere may now apply to open documents, so they are
	// analysed again even when no known file changed: their results are only
	// published if they differ.
	s.reanalyseTemplates()
}

// reanalyseTemplates analyses every open template again (configuration
// documents are not templates).
func (s *Server) reanalyseTemplates() {
	for _, d := range s.docs.all() {
		if isConfigDocument(d) {
			continue
		}
		d.mu.Lock()
		d.changed()
		d.mu.Unlock()
		d.sched.kick(false)
	}
}

// fileEvent is one entry of workspace/didChangeWatchedFiles.
type fileEvent struct {
	URI  uri.URI `json:"uri"`
	Type int     `json:"type"`
}

type didChangeWatchedFilesParams struct {
	Changes []fileEvent `json:"changes"`
}

// didChangeWatchedFiles reloads the configuration when a .soc2ls.yaml was
// created, changed or deleted on disk.
func (s *Server) didChangeWatchedFiles(_ context.Context, p *didChangeWatchedFilesParams) error {
	for _, c := range p.Changes {
		if isFileURI(c.URI) && filepath.Base(fileName(c.URI)) == project.FileName {
			s.reloadConfigs("watched file " + string(c.URI))
			return nil
		}
	}
	return nil
}

// watcherRegistration is the client/registerCapability request that asks
// the client to watch configuration files, for clients that support
// registering file watchers dynamically.
func watcherRegistration() map[string]any {
	return map[string]any{"registrations": []map[string]any{{
		"id":     "soc2ls-config-watcher",
		"method": "workspace/didChangeWatchedFiles",
		"registerOptions": map[string]any{
			"watchers": []map[string]any{{"globPattern": "**/" + project.FileName}},
		},
	}}}
}

// configDocumentAnalysed is the scheduler's step for an open configuration
// document: when its text differs from the configuration in use, the
// configuration is reloaded (from the buffer) and the templates analysed
// again, so that a change shows while typing, before the file is saved.
func (s *Server) configDocumentAnalysed(path string, src []byte) {
	s.proj.mu.Lock()
	f := s.proj.known[path]
	s.proj.mu.Unlock()
	if f != nil && bytes.Equal(f.Source, src) {
		return
	}
	s.reloadConfigs("edited "+path, path)
}
