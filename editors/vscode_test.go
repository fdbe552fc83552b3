// Package editors holds the editor integrations; its tests run each
// integration's own test suite as part of `go test ./...`.
package editors

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// requireEditors is the environment variable CI sets to 1: then a missing
// toolchain (npm, node_modules) fails the test instead of skipping it.
const requireEditors = "SOC2LS_REQUIRE_EDITORS"

// TestVSCodeExtension runs `npm test` in editors/vscode: the extension's unit
// tests, the end-to-end tests against the soc2ls binary built here (passed
// as SOC2LS_BIN), and the packaging test that builds and inspects the .vsix.
// It needs `npm ci` to have been run in editors/vscode.
func TestVSCodeExtension(t *testing.T) {
	dir, err := filepath.Abs("vscode")
	if err != nil {
		t.Fatal(err)
	}
	missing := func(why string) {
		t.Helper()
		if os.Getenv(requireEditors) == "1" {
			t.Fatalf("%s is 1 but %s", requireEditors, why)
		}
		t.Skip(why)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		missing("npm is not installed (Debian: apt-get install nodejs npm)")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		missing("editors/vscode/node_modules is missing: run npm ci --prefix editors/vscode")
	}

	bin := filepath.Join(t.TempDir(), "soc2ls")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/soc2ls/soc2ls/cmd/soc2ls").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	cmd := exec.Command(npm, "test")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SOC2LS_BIN="+bin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("npm test in editors/vscode: %v\n%s", err, out)
	}
	if testing.Verbose() {
		t.Logf("%s", out)
	}
}
