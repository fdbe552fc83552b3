package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/soc2ls/soc2ls/analysis"
	"github.com/soc2ls/soc2ls/analysis/edit"
	"github.com/soc2ls/soc2ls/analysis/template"
)

// SARIF constants: the schema the output validates against, and the names
// this tool gives to the source root and its fingerprint.
const (
	SARIFSchema     = "https://json.schemastore.org/sarif-2.1.0.json"
	SARIFVersion    = "2.1.0"
	srcRoot         = "%SRCROOT%"
	fingerprintKey  = "soc2lsFinding/v1"
	informationURI  = "https://github.com/soc2ls/soc2ls"
	sarifColumnKind = "utf16CodeUnits"
)

// The subset of SARIF 2.1.0 that soc2ls writes. Optional properties are
// omitted when empty; byte offsets are pointers because 0 is a valid value.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool               sarifTool                   `json:"tool"`
		Invocations        []sarifInvocation           `json:"invocations"`
		OriginalURIBaseIDs map[string]sarifArtifactLoc `json:"originalUriBaseIds,omitempty"`
		Artifacts          []sarifArtifact             `json:"artifacts"`
		Results            []sarifResult               `json:"results"`
		ColumnKind         string                      `json:"columnKind"`
		DefaultEncoding    string                      `json:"defaultEncoding"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version,omitempty"`
		InformationURI string      `json:"informationUri"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string              `json:"id"`
		Name                 string              `json:"name"`
		ShortDescription     sarifMultiformat    `json:"shortDescription"`
		FullDescription      sarifMultiformat    `json:"fullDescription"`
		Help                 sarifMultiformat    `json:"help"`
		HelpURI              string              `json:"helpUri"`
		DefaultConfiguration sarifRuleConfig     `json:"defaultConfiguration"`
		Properties           sarifRuleProperties `json:"properties"`
	}
	sarifMultiformat struct {
		Text     string `json:"text"`
		Markdown string `json:"markdown,omitempty"`
	}
	sarifRuleConfig struct {
		Level string `json:"level"`
	}
	sarifRuleProperties struct {
		Tags []string `json:"tags"`
	}
	sarifInvocation struct {
		ExecutionSuccessful        bool                `json:"executionSuccessful"`
		ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
	}
	sarifNotification struct {
		Level   string       `json:"level"`
		Message sarifMessage `json:"message"`
	}
	sarifMessage struct {
		Text string `json:"text"`
	}
	sarifArtifact struct {
		Location       sarifArtifactLoc `json:"location"`
		Length         int              `json:"length"`
		SourceLanguage string           `json:"sourceLanguage,omitempty"`
	}
	sarifArtifactLoc struct {
		URI         string        `json:"uri,omitempty"`
		URIBaseID   string        `json:"uriBaseId,omitempty"`
		Index       *int          `json:"index,omitempty"`
		Description *sarifMessage `json:"description,omitempty"`
	}
	sarifResult struct {
		RuleID              string             `json:"ruleId"`
		RuleIndex           *int               `json:"ruleIndex,omitempty"`
		Level               string             `json:"level"`
		Message             sarifMessage       `json:"message"`
		Locations           []sarifLocation    `json:"locations"`
		RelatedLocations    []sarifLocation    `json:"relatedLocations,omitempty"`
		PartialFingerprints map[string]string  `json:"partialFingerprints"`
		Fixes               []sarifFix         `json:"fixes,omitempty"`
		Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
		Properties          *sarifResultProps  `json:"properties,omitempty"`
	}
	// sarifSuppression records a documented exception: code-scanning
	// services hide the result but keep it, with its justification.
	sarifSuppression struct {
		Kind          string         `json:"kind"`
		Status        string         `json:"status"`
		Justification string         `json:"justification"`
		Location      *sarifLocation `json:"location,omitempty"`
	}
	sarifResultProps struct {
		Controls []string `json:"controls,omitempty"`
		Possible bool     `json:"possible,omitempty"`
	}
	sarifLocation struct {
		ID               *int                   `json:"id,omitempty"`
		PhysicalLocation sarifPhysicalLocation  `json:"physicalLocation"`
		LogicalLocations []sarifLogicalLocation `json:"logicalLocations,omitempty"`
		Message          *sarifMessage          `json:"message,omitempty"`
	}
	sarifPhysicalLocation struct {
		ArtifactLocation sarifArtifactLoc `json:"artifactLocation"`
		Region           sarifRegion      `json:"region"`
	}
	sarifLogicalLocation struct {
		Name string `json:"name"`
		Kind string `json:"kind"`
	}
	// sarifRegion gives both a text region (lines and UTF-16 columns, per
	// run.columnKind) and the equivalent binary region (byte offsets), which
	// the spec allows when they denote the same bytes: consumers that apply
	// fixes by byte offset need not convert columns back.
	sarifRegion struct {
		StartLine   int  `json:"startLine"`
		StartColumn int  `json:"startColumn"`
		EndLine     int  `json:"endLine"`
		EndColumn   int  `json:"endColumn"`
		ByteOffset  *int `json:"byteOffset,omitempty"`
		ByteLength  *int `json:"byteLength,omitempty"`
	}
	sarifFix struct {
		Description     sarifMessage          `json:"description"`
		ArtifactChanges []sarifArtifactChange `json:"artifactChanges"`
		Properties      *sarifFixProps        `json:"properties,omitempty"`
	}
	sarifFixProps struct {
		Unsafe bool `json:"unsafe"`
	}
	sarifArtifactChange struct {
		ArtifactLocation sarifArtifactLoc   `json:"artifactLocation"`
		Replacements     []sarifReplacement `json:"replacements"`
	}
	sarifReplacement struct {
		DeletedRegion   sarifRegion  `json:"deletedRegion"`
		InsertedContent sarifMessage `json:"insertedContent"` // artifactContent; only its text
	}
)

// SARIF writes the results as a SARIF 2.1.0 log with one run, for GitHub code
// scanning, GitLab and other SARIF consumers. Every rule of info.Rules is
// described in the driver; results carry their SOC 2 criteria as properties,
// their fixes (unsafe ones marked in the fix's properties), and a fingerprint
// that survives edits elsewhere in the file.
func SARIF(w io.Writer, files []FileResult, info Info) error {
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name: "soc2ls", Version: info.ToolVersion, InformationURI: informationURI,
			Rules: make([]sarifRule, 0, len(info.Rules)),
		}},
		Invocations:     []sarifInvocation{{ExecutionSuccessful: len(info.Errors) == 0}},
		Artifacts:       make([]sarifArtifact, 0, len(files)),
		Results:         []sarifResult{},
		ColumnKind:      sarifColumnKind,
		DefaultEncoding: "utf-8",
	}
	if info.SrcRoot != "" {
		run.OriginalURIBaseIDs = map[string]sarifArtifactLoc{srcRoot: {URI: dirURI(info.SrcRoot)}}
	}
	for _, e := range info.Errors {
		run.Invocations[0].ToolExecutionNotifications = append(run.Invocations[0].ToolExecutionNotifications,
			sarifNotification{Level: "error", Message: sarifMessage{Text: e}})
	}
	ruleIndex := map[string]int{}
	for i, r := range info.Rules {
		ruleIndex[r.ID] = i
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRuleOf(r))
	}
	for i, f := range files {
		loc := artifactLocation(f.Path, info.SrcRoot)
		art := sarifArtifact{Location: loc, Length: len(f.Template.Source), SourceLanguage: f.Template.Format.String()}
		run.Artifacts = append(run.Artifacts, art)
		idx := i
		loc.Index = &idx
		seen := map[string]int{}
		for _, fd := range f.Findings {
			run.Results = append(run.Results, sarifResultOf(f.Template, loc, fd, ruleIndex, seen))
		}
		for _, fd := range f.Suppressed {
			res := sarifResultOf(f.Template, loc, fd, ruleIndex, seen)
			at := sarifLocation{PhysicalLocation: sarifPhysicalLocation{ArtifactLocation: loc,
				Region: sarifRegionOf(f.Template.Lines, fd.Suppression.Span.Start, fd.Suppression.Span.End)}}
			res.Suppressions = []sarifSuppression{{Kind: "inSource", Status: "accepted", Justification: fd.Suppression.Reason, Location: &at}}
			run.Results = append(run.Results, res)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(sarifLog{Schema: SARIFSchema, Version: SARIFVersion, Runs: []sarifRun{run}})
}

func sarifRuleOf(r *analysis.Rule) sarifRule {
	doc := strings.TrimSpace(r.Doc)
	first, _, _ := strings.Cut(doc, "\n\n")
	tags := append([]string{}, r.Controls...)
	if !r.Meta {
		// GitHub shows results tagged "security" as security alerts.
		tags = append(tags, "security")
	}
	return sarifRule{
		ID:                   r.ID,
		Name:                 camelCase(r.Title),
		ShortDescription:     sarifMultiformat{Text: r.Title},
		FullDescription:      sarifMultiformat{Text: plain(first), Markdown: first},
		Help:                 sarifMultiformat{Text: plain(doc), Markdown: doc},
		HelpURI:              r.DocURL(),
		DefaultConfiguration: sarifRuleConfig{Level: sarifLevel(r.Severity)},
		Properties:           sarifRuleProperties{Tags: tags},
	}
}

func sarifResultOf(t *template.Template, loc sarifArtifactLoc, fd analysis.Finding, ruleIndex map[string]int, seen map[string]int) sarifResult {
	res := sarifResult{
		RuleID:  fd.RuleID,
		Level:   sarifLevel(fd.Severity),
		Message: sarifMessage{Text: fd.Message},
		Locations: []sarifLocation{{
			PhysicalLocation: sarifPhysicalLocation{ArtifactLocation: loc, Region: sarifRegionOf(t.Lines, fd.Span.Start, fd.Span.End)},
		}},
		PartialFingerprints: map[string]string{fingerprintKey: fingerprint(fd, seen)},
	}
	if i, ok := ruleIndex[fd.RuleID]; ok {
		res.RuleIndex = &i
	}
	if fd.Resource != "" {
		res.Locations[0].LogicalLocations = []sarifLogicalLocation{{Name: fd.Resource, Kind: "resource"}}
	}
	if len(fd.Controls) > 0 || fd.Possible {
		res.Properties = &sarifResultProps{Controls: fd.Controls, Possible: fd.Possible}
	}
	for i, r := range fd.Related {
		id := i + 1
		res.RelatedLocations = append(res.RelatedLocations, sarifLocation{
			ID:               &id,
			PhysicalLocation: sarifPhysicalLocation{ArtifactLocation: loc, Region: sarifRegionOf(t.Lines, r.Span.Start, r.Span.End)},
			Message:          &sarifMessage{Text: r.Message},
		})
	}
	for _, fx := range fd.Fixes {
		// SARIF applies replacements in order, each against the unmodified
		// file: give them sorted and without duplicates.
		edits, err := edit.Normalize(fx.Edits)
		if err != nil || len(edits) == 0 {
			continue
		}
		change := sarifArtifactChange{ArtifactLocation: loc}
		for _, e := range edits {
			change.Replacements = append(change.Replacements, sarifReplacement{
				DeletedRegion:   sarifRegionOf(t.Lines, e.Start, e.End),
				InsertedContent: sarifMessage{Text: e.NewText},
			})
		}
		sf := sarifFix{Description: sarifMessage{Text: fx.Title}, ArtifactChanges: []sarifArtifactChange{change}}
		if fx.Unsafe {
			// Unsafe fixes need a human decision; say so for consumers
			// that offer to apply fixes.
			sf.Properties = &sarifFixProps{Unsafe: true}
		}
		res.Fixes = append(res.Fixes, sf)
	}
	return res
}

func sarifRegionOf(lines *template.Lines, start, end int) sarifRegion {
	s, e := lines.Position(start), lines.Position(end)
	n := e.Offset - s.Offset
	return sarifRegion{
		StartLine: s.Line, StartColumn: s.Column, EndLine: e.Line, EndColumn: e.Column,
		ByteOffset: &s.Offset, ByteLength: &n,
	}
}

// sarifLevel maps severities onto SARIF's three result levels.
func sarifLevel(s analysis.Severity) string {
	switch s {
	case analysis.Error:
		return "error"
	case analysis.Warning:
		return "warning"
	}
	return "note"
}

var lineNumber = regexp.MustCompile(`(?i)\blines? \d+`)

// fingerprint identifies a finding across commits: the rule, the resource and
// the message with line numbers removed, so that editing other parts of the
// file does not make it look new. Identical findings in one file are told
// apart by their order (":2", ":3"), as GitHub does for its own hashes.
func fingerprint(fd analysis.Finding, seen map[string]int) string {
	sum := sha256.Sum256([]byte(fd.RuleID + "\x00" + fd.Resource + "\x00" + lineNumber.ReplaceAllString(fd.Message, "line")))
	h := hex.EncodeToString(sum[:16])
	seen[h]++
	return h + ":" + strconv.Itoa(seen[h])
}

// artifactLocation names a file for SARIF: relative paths stay relative to
// %SRCROOT% (what code-scanning services expect), absolute paths and paths
// that leave the source root become file URIs, and standard input has no URI.
func artifactLocation(path, root string) sarifArtifactLoc {
	if path == StdinPath {
		return sarifArtifactLoc{Description: &sarifMessage{Text: "standard input"}}
	}
	if !filepath.IsAbs(path) {
		slash := filepath.ToSlash(filepath.Clean(path))
		if slash != ".." && !strings.HasPrefix(slash, "../") {
			// url.URL escapes what needs it and guards a first segment that
			// contains a colon from being read as a scheme.
			return sarifArtifactLoc{URI: (&url.URL{Path: slash}).String(), URIBaseID: srcRoot}
		}
		if root == "" {
			return sarifArtifactLoc{URI: (&url.URL{Path: slash}).String()}
		}
		path = filepath.Join(root, path)
	}
	return sarifArtifactLoc{URI: fileURI(path)}
}

func fileURI(abs string) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") { // Windows: C:/x
		p = "/" + p
	}
	return (&url.URL{Scheme: "file", Path: p}).String()
}

// dirURI is the file URI of a directory; SARIF requires base URIs to end
// with a slash.
func dirURI(abs string) string {
	u := fileURI(abs)
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u
}

// camelCase turns a rule title into a SARIF rule name:
// "S3 bucket accepts requests without TLS" -> "S3BucketAcceptsRequestsWithoutTLS".
func camelCase(title string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(title, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		r := []rune(w)
		b.WriteString(string(unicode.ToUpper(r[0])) + string(r[1:]))
	}
	return b.String()
}

// plain strips the Markdown emphasis and code marks of a rule's doc for
// SARIF's plain-text fields.
func plain(md string) string {
	return strings.NewReplacer("**", "", "`", "").Replace(md)
}
