package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkCheckDirectory measures `soc2ls check --fail-on none DIR` in
// process, on GOMAXPROCS workers, over every template of testdata (the rule
// tests and the examples: a few hundred small real-world-shaped templates),
// or over the directory in SOC2LS_BENCH_DIR (for example a clone of
// aws-cloudformation-templates). It reports templates per second.
func BenchmarkCheckDirectory(b *testing.B) {
	dir := os.Getenv("SOC2LS_BENCH_DIR")
	if dir == "" {
		dir = "../../testdata"
	}
	n := 0
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && isTemplateName(d.Name()) {
			n++
		}
		return nil
	})
	if n == 0 {
		b.Skipf("no templates under %s", dir)
	}
	b.ReportAllocs()
	for b.Loop() {
		var stderr strings.Builder
		if code := runCheck([]string{"--fail-on", "none", dir}, nil, io.Discard, &stderr); code != 0 {
			b.Fatalf("check exited %d: %s", code, stderr.String())
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
}
