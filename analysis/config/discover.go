package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// Loader finds and parses the configuration files that apply to templates.
// A template's configuration is the nearest FileName in its directory or
// above, searching up to the root of the repository it is in (the first
// directory holding .git) or the file system root. Results are cached by
// directory and by file; Invalidate forgets them. A Loader is safe for
// concurrent use.
type Loader struct {
	// Known reports whether a rule id exists; see Parse.
	Known func(id string) bool
	// ReadFile reads a configuration file; nil means os.ReadFile. The
	// language server reads open documents from the editor's buffer.
	ReadFile func(path string) ([]byte, error)

	mu    sync.Mutex
	dirs  map[string]string // absolute directory -> its config file, "" for none
	files map[string]*File  // absolute config path -> parsed
	stats int               // file system lookups made, for tests of the cache
}

// ReadDisk reads a configuration file from the file system: the default of
// Loader.ReadFile, and the fallback of readers that prefer an editor's
// buffer. Configuration files are the only files soc2ls reads on its own.
func ReadDisk(path string) ([]byte, error) { return os.ReadFile(path) }

// Find returns the absolute path of the configuration file that applies to
// files in dir, or "" when there is none.
func (l *Loader) Find(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.dirs == nil {
		l.dirs = map[string]string{}
	}
	var visited []string
	found := ""
	for d := abs; ; {
		if c, ok := l.dirs[d]; ok {
			found = c
			break
		}
		visited = append(visited, d)
		l.stats++
		cand := filepath.Join(d, FileName)
		if fi, err := os.Stat(cand); err == nil && !fi.IsDir() {
			found = cand
			break
		}
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			break // the repository root: configuration above it is not the project's
		}
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	for _, d := range visited {
		l.dirs[d] = found
	}
	return found
}

// Load returns the parsed configuration file at path (cached). The error is
// an I/O error; problems in the file's content are in File.Errors.
func (l *Loader) Load(path string) (*File, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	f, ok := l.files[abs]
	l.mu.Unlock()
	if ok {
		return f, nil
	}
	read := l.ReadFile
	if read == nil {
		read = ReadDisk
	}
	src, err := read(abs)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, err
	}
	f = Parse(abs, src, l.Known)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.files == nil {
		l.files = map[string]*File{}
	}
	if cached, ok := l.files[abs]; ok {
		return cached, nil // another goroutine parsed it first: one File per path
	}
	l.files[abs] = f
	return f, nil
}

// ForDir returns the configuration that applies to files in dir: nil, nil
// when there is none.
func (l *Loader) ForDir(dir string) (*File, error) {
	p := l.Find(dir)
	if p == "" {
		return nil, nil
	}
	return l.Load(p)
}

// Invalidate forgets every cached lookup and parsed file, after a
// configuration file was created, changed or deleted.
func (l *Loader) Invalidate() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dirs = nil
	l.files = nil
}
