package lsp

// DefaultMaxFileSize is the size above which documents are not analysed,
// unless the maxFileSizeMB setting says otherwise: CloudFormation accepts
// templates of 1 MB at most, and the CLI's walk uses the same default.
const DefaultMaxFileSize = 10 << 20

// maxFileSizeMB is the largest maxFileSizeMB setting accepted.
const maxFileSizeMB = 1024

// maxFileSize is the configured size limit in bytes.
func (s *Server) maxFileSize() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.maxSize > 0 {
		return s.cfg.maxSize
	}
	return DefaultMaxFileSize
}
