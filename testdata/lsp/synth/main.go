// Command synth writes a synthetic CloudFormation template of at least the
// given size in bytes (analysis/synth) to standard output, for latency
// probes: go run ./testdata/lsp/synth 174000 > /tmp/t170.yaml
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/soc2ls/soc2ls/analysis/synth"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: synth SIZE")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "synth:", err)
		os.Exit(2)
	}
	os.Stdout.Write(synth.YAML(n))
}
