package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckMaxSize: --max-size skips large files found by a walk with a
// warning, and reports a large file named explicitly (or standard input)
// with one SOC2-PARSE-005 finding instead of analysing it.
func TestCheckMaxSize(t *testing.T) {
	fixedRules(t)
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	src := cfnTemplate + "# " + strings.Repeat("x", 2<<20) + "\n" // 2 MB, with a finding
	if err := os.WriteFile(big, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI("", "check", "--max-size", "1", big)
	if r.code != 1 || !strings.Contains(r.stdout, "[SOC2-PARSE-005]") || strings.Contains(r.stdout, "SOC2-CT-001") ||
		!strings.Contains(r.stdout, "not analysed: the document is 2.0 MB, above the 1 MB limit") {
		t.Errorf("explicit large file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runCLI("", "check", "--max-size", "1", dir)
	if !strings.Contains(r.stderr, "big.yaml: skipped, larger than 1 MB (--max-size)") || strings.Contains(r.stdout, "SOC2") {
		t.Errorf("walked large file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(src, "check", "--max-size", "1", "-")
	if !strings.Contains(r.stdout, "[SOC2-PARSE-005]") || !strings.Contains(r.stdout, "above the 1 MB limit") {
		t.Errorf("large standard input: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Raised, the limit lets the file through.
	if r = runCLI("", "check", "--max-size", "3", big); !strings.Contains(r.stdout, "SOC2-CT-001") {
		t.Errorf("--max-size 3: %s%s", r.stdout, r.stderr)
	}
	// --fix never touches a file it did not analyse.
	before, _ := os.Stat(big)
	runCLI("", "check", "--fix", "--max-size", "1", big)
	if after, _ := os.Stat(big); !os.SameFile(before, after) {
		t.Errorf("--fix rewrote a file above the limit")
	}
	for _, bad := range []string{"0", "-1", "x"} {
		if r = runCLI("", "check", "--max-size", bad, big); r.code != 2 {
			t.Errorf("--max-size %s: exit %d, want 2\n%s", bad, r.code, r.stderr)
		}
	}
}

// TestCheckFixReadOnlyDirectory: when the fixed file cannot be written (its
// directory is read-only), check --fix reports a clean error, exits 2, and
// leaves the file and its directory as they were.
func TestCheckFixReadOnlyDirectory(t *testing.T) {
	fixedRules(t)
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "t.yaml")
	if err := os.WriteFile(path, []byte(cfnTemplate), 0o640); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// Root writes to any directory whatever its mode: make it immutable.
		if out, err := exec.Command("chattr", "+i", dir).CombinedOutput(); err != nil {
			t.Skipf("running as root and chattr +i is unavailable: %v %s", err, out)
		}
		t.Cleanup(func() { exec.Command("chattr", "-i", dir).Run() })
	} else {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
	}
	r := runCLI("", "check", "--fix", path)
	if r.code != 2 || !strings.Contains(r.stderr, "soc2ls: "+path+": permission denied") && !strings.Contains(r.stderr, "soc2ls: "+path+": operation not permitted") {
		t.Errorf("exit %d, want 2 with a permission error; stderr:\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine") {
		t.Errorf("not a clean error:\n%s", r.stderr)
	}
	now, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(now, []byte(cfnTemplate)) {
		t.Errorf("the file changed: %v\n%s", err, now)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", fi.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the directory holds %d entries, want only the template", len(entries))
	}
}

// TestCheckWalkStaysInside: a walk never leaves the roots it is given
// (links to directories are not followed, links to files only inside the
// root), terminates on link loops, and --fix writes only what it checked.
func TestCheckWalkStaysInside(t *testing.T) {
	fixedRules(t)
	base := t.TempDir()
	writeTree(t, base, map[string]string{
		"root/in.yaml":        cfnTemplate,
		"outside/t.yaml":      cfnTemplate,
		"outside/deep/u.yaml": cfnTemplate,
	})
	for link, target := range map[string]string{
		"root/outdir":     "../outside",        // a directory outside
		"root/abs":        base + "/outside",   // the same, absolute
		"root/out.yaml":   "../outside/t.yaml", // a file outside
		"root/self":       ".",                 // a loop
		"root/a/b":        "../../root",        // a longer loop
		"root/loop1.yaml": "loop2.yaml",        // a link cycle between files
		"root/loop2.yaml": "loop1.yaml",
	} {
		p := filepath.Join(base, filepath.FromSlash(link))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.Symlink(target, p); err != nil {
			t.Skipf("symlinks unavailable: %v", err)
		}
	}
	outside, _ := os.ReadFile(filepath.Join(base, "outside/t.yaml"))
	t.Chdir(base)
	r := runCLI("", "check", "--fix", "--format", "json", "root")
	if got := jsonPaths(t, []byte(r.stdout)); len(got) != 1 || got[0] != "root/in.yaml" {
		t.Errorf("checked %v, want only root/in.yaml; stderr:\n%s", got, r.stderr)
	}
	if now, _ := os.ReadFile(filepath.Join(base, "outside/t.yaml")); !bytes.Equal(now, outside) {
		t.Errorf("--fix wrote a file outside the root")
	}
	if now, _ := os.ReadFile(filepath.Join(base, "root/in.yaml")); bytes.Equal(now, []byte(cfnTemplate)) {
		t.Errorf("--fix did not fix the file inside the root; stderr:\n%s", r.stderr)
	}
}
