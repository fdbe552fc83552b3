// Package editors holds the end-to-end tests of the editor integrations in
// editors/: each starts the real editor with the project's plugin and the
// freshly built soc2ls.
package editors

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// nvimTimeout bounds one Neovim run; the session's own waits are shorter
// (20 s each), so this only fires when Neovim itself hangs. Nothing is timed.
const nvimTimeout = 5 * time.Minute

// nvimTemplate has a hardcoded environment tag (SOC2-TAG-001), a single
// region trail (SOC2-CT-001), a VPC without flow logs (SOC2-VPC-001, turned
// off by the session's settings) and an output the rename must follow.
const nvimTemplate = `AWSTemplateFormatVersion: "2010-09-09"
Description: Payments network and audit trail
Resources:
  PaymentsVPC:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: 10.0.0.0/16
      Tags:
        - Key: environment
          Value: production
  Trail:
    Type: AWS::CloudTrail::Trail
    Properties:
      IsLogging: true
      S3BucketName: audit-logs
      IsMultiRegionTrail: false
Outputs:
  TrailArn:
    Value: !GetAtt Trail.Arn
`

// findNvim returns the Neovim to test: $SOC2LS_NVIM, else nvim on PATH. It
// skips the test when there is none, unless SOC2LS_REQUIRE_NVIM=1 (CI), and
// in -short mode, since it builds the binary.
func findNvim(t *testing.T) string {
	t.Helper()
	required := os.Getenv("SOC2LS_REQUIRE_NVIM") == "1"
	if testing.Short() && !required {
		t.Skip("builds soc2ls and runs Neovim")
	}
	name := os.Getenv("SOC2LS_NVIM")
	if name == "" {
		name = "nvim"
	}
	nvim, err := exec.LookPath(name)
	if err != nil {
		if required {
			t.Fatalf("SOC2LS_REQUIRE_NVIM=1 but %s is not installed (Debian: apt-get install -y neovim): %v", name, err)
		}
		t.Skipf("%s is not installed (Debian: apt-get install -y neovim; SOC2LS_REQUIRE_NVIM=1 makes this a failure)", name)
	}
	return nvim
}

// nvimVersion returns the major and minor version of nvim.
func nvimVersion(t *testing.T, nvim string) (int, int) {
	t.Helper()
	out, err := exec.Command(nvim, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", nvim, err)
	}
	m := regexp.MustCompile(`NVIM v(\d+)\.(\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("%s --version says %q", nvim, out)
	}
	major, _ := strconv.Atoi(string(m[1]))
	minor, _ := strconv.Atoi(string(m[2]))
	return major, minor
}

// buildSoc2ls builds the server into a fresh directory and returns the
// directory, for the editor's PATH.
func buildSoc2ls(t *testing.T) string {
	t.Helper()
	dependOn(t, "nvim", "../testdata/lsp", "../cmd", "../lsp", "../analysis", "../go.mod", "../go.sum")
	dir := t.TempDir()
	out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "soc2ls"), "github.com/soc2ls/soc2ls/cmd/soc2ls").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// dependOn stats every file under paths so that `go test` caches this
// package's result only while they are unchanged: Neovim and `go build` read
// them in other processes, which the test cache does not see.
func dependOn(t *testing.T, paths ...string) {
	t.Helper()
	for _, root := range paths {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				_, err = os.Stat(p)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// runNvim runs nvim headless and clean, with only editors/nvim added to the
// runtimepath, binDir (when not empty) first on PATH and extra environment, and its state,
// cache and config directories in state. It returns what Neovim printed and
// fails the test if Neovim outlives nvimTimeout.
func runNvim(t *testing.T, nvim, binDir, state string, env []string, args ...string) (string, error) {
	t.Helper()
	plugin, err := filepath.Abs("nvim")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), nvimTimeout)
	defer cancel()
	argv := append([]string{"--headless", "--clean", "-u", "NONE", "--cmd", "set rtp^=" + plugin}, args...)
	cmd := exec.CommandContext(ctx, nvim, argv...)
	cmd.WaitDelay = 10 * time.Second
	path := os.Getenv("PATH")
	if binDir != "" {
		path = binDir + string(os.PathListSeparator) + path
	}
	cmd.Env = append(os.Environ(),
		"PATH="+path,
		"XDG_CONFIG_HOME="+filepath.Join(state, "config"),
		"XDG_DATA_HOME="+filepath.Join(state, "data"),
		"XDG_STATE_HOME="+filepath.Join(state, "state"),
		"XDG_CACHE_HOME="+filepath.Join(state, "cache"),
	)
	cmd.Env = append(cmd.Env, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("nvim did not finish within %v and was killed:\n%s\n%s", nvimTimeout, out.String(), lspLog(state))
	}
	return out.String(), err
}

// lspLog returns the end of Neovim's LSP log under state (cache/nvim on
// 0.7, state/nvim from 0.8 on), for failure messages.
func lspLog(state string) string {
	var found []string
	_ = filepath.Walk(state, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Name() == "lsp.log" {
			found = append(found, p)
		}
		return nil
	})
	var b strings.Builder
	for _, p := range found {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		const keep = 20000
		if len(data) > keep {
			data = append([]byte("...\n"), data[len(data)-keep:]...)
		}
		b.WriteString("--- " + p + "\n")
		b.Write(data)
	}
	if b.Len() == 0 {
		return "(no LSP log)"
	}
	return b.String()
}

// TestNeovim is the plugin's end-to-end test in a real editor: headless
// Neovim with editors/nvim, against the freshly built soc2ls, through
// testdata/lsp/nvim-session.lua. The plugin attaches the template, the
// diagnostics arrive (SOC2-TAG-001 on the "production" literal, a rule the
// settings turn off absent), vim.lsp.buf.hover shows the finding with CC8.1,
// the preferred quick fix of the tag writes !Ref Environment and the
// Environment parameter and the next diagnostics no longer flag it, the
// trail's fix goes through vim.lsp.buf.code_action, vim.lsp.buf.rename
// renames the trail, :checkhealth soc2ls reports OK, and the client stops.
// On Neovim 0.11+ it runs a second time through lsp/soc2ls.lua with
// vim.lsp.config and vim.lsp.enable.
func TestNeovim(t *testing.T) {
	nvim := findNvim(t)
	major, minor := nvimVersion(t, nvim)
	binDir := buildSoc2ls(t)
	script, err := filepath.Abs("../testdata/lsp/nvim-session.lua")
	if err != nil {
		t.Fatal(err)
	}
	modes := []string{"setup"}
	if major > 0 || minor >= 11 {
		modes = append(modes, "enable")
	}
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			root := t.TempDir()
			if err := os.Mkdir(filepath.Join(root, ".git"), 0o755); err != nil {
				t.Fatal(err)
			}
			tmpl := filepath.Join(root, "stacks", "app.yaml")
			if err := os.MkdirAll(filepath.Dir(tmpl), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(tmpl, []byte(nvimTemplate), 0o644); err != nil {
				t.Fatal(err)
			}
			state := t.TempDir()
			out, err := runNvim(t, nvim, binDir, state,
				[]string{"TEMPLATE=" + tmpl, "ROOT=" + root, "MODE=" + mode},
				"-c", "luafile "+script)
			if !strings.Contains(out, "\nPASS\n") {
				t.Fatalf("the Neovim session failed (%v):\n%s\n%s", err, out, lspLog(state))
			}
		})
	}
}

// TestNeovimPlugin checks the plugin's own decisions in headless Neovim,
// through testdata/lsp/nvim-plugin.lua: each wrong option is an error that
// names it; the root is the nearest directory with .git or .soc2ls.yaml, else
// the file's; a buffer open before setup() gets attached; one client per
// root, shared by YAML and JSON files; a Kubernetes manifest gets no
// diagnostics; buffers that are not files are left alone; and
// :checkhealth soc2ls reports a rejected setting, a missing command, and
// commands that are not language servers (within its bounded wait).
func TestNeovimPlugin(t *testing.T) {
	nvim := findNvim(t)
	binDir := buildSoc2ls(t)
	script, err := filepath.Abs("../testdata/lsp/nvim-plugin.lua")
	if err != nil {
		t.Fatal(err)
	}
	work, state := t.TempDir(), t.TempDir()
	out, err := runNvim(t, nvim, binDir, state, []string{"WORK=" + work}, "-c", "luafile "+script)
	if !strings.Contains(out, "\nPASS\n") {
		t.Fatalf("the plugin checks failed (%v):\n%s\n%s", err, out, lspLog(state))
	}
}

// TestNeovimHelptags checks that :helptags accepts doc/soc2ls.txt (no
// duplicate tags, no error) and that the tags it yields include the ones the
// README and the health check point to, and every |link| to a soc2ls tag
// resolves.
func TestNeovimHelptags(t *testing.T) {
	nvim := findNvim(t)
	src, err := os.ReadFile(filepath.Join("nvim", "doc", "soc2ls.txt"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "doc")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "soc2ls.txt"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	out, err := runNvim(t, nvim, "", state,
		[]string{"HELPDIR=" + dir},
		"-c", `lua local ok, e = pcall(vim.cmd, "helptags " .. vim.fn.fnameescape(os.getenv("HELPDIR"))); io.stdout:write(ok and "\nHELPTAGS OK\n" or ("\nHELPTAGS FAILED: " .. tostring(e) .. "\n"))`,
		"-c", "qall!")
	if !strings.Contains(out, "\nHELPTAGS OK\n") {
		t.Fatalf(":helptags failed (%v):\n%s", err, out)
	}
	tags, err := os.ReadFile(filepath.Join(dir, "tags"))
	if err != nil {
		t.Fatal(err)
	}
	defined := map[string]bool{}
	for _, line := range strings.Split(string(tags), "\n") {
		if name, _, ok := strings.Cut(line, "\t"); ok {
			defined[name] = true
		}
	}
	for _, want := range []string{"soc2ls", "soc2ls.txt", "soc2ls-setup", "soc2ls-options", ":checkhealth-soc2ls", "soc2ls-lspconfig", "soc2ls-vim.lsp.config"} {
		if !defined[want] {
			t.Errorf("doc/soc2ls.txt defines no *%s* tag", want)
		}
	}
	for _, m := range regexp.MustCompile(`\|([^| \t]*soc2ls[^| \t]*)\|`).FindAllStringSubmatch(string(src), -1) {
		if !defined[m[1]] {
			t.Errorf("doc/soc2ls.txt links to |%s|, which it does not define", m[1])
		}
	}
}
