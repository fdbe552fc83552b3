// Command soc2ls checks AWS CloudFormation templates for SOC 2 compliance
// gaps, from the command line (`soc2ls check`) or as a language server
// (`soc2ls serve`).
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// command is one subcommand: its name, a one-line summary and its entry
// point, which returns the process exit code.
type command struct {
	name    string
	summary string
	run     func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"check", "check templates and report SOC 2 findings (text, json, sarif, github, junit)", runCheck},
		{"report", "write the SOC 2 evidence report of templates (html, markdown, json)", runReport},
		{"serve", "run the language server over stdio", runServe},
		{"rules", "list the rules (text, json, markdown)", runRules},
		{"config", "write a commented .soc2ls.yaml (config init)", runConfig},
		{"explain", "explain a rule (SOC2-CT-001) or a criterion (CC6.1)", runExplain},
		{"version", "print the version", runVersion},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run dispatches to a subcommand; it is main without the process, for tests.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "--help", "help":
		usage(stdout)
		return 0
	case "-v", "--version":
		return runVersion(nil, stdin, stdout, stderr)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdin, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "soc2ls: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "soc2ls: SOC 2 checks for AWS CloudFormation templates, in your editor and in CI.")
	fmt.Fprintln(w, "\nUsage: soc2ls <command> [flags] [arguments]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'soc2ls <command> -h' for the flags of a command.")
}

func runVersion(_ []string, _ io.Reader, stdout, _ io.Writer) int {
	fmt.Fprintln(stdout, "soc2ls", toolVersion())
	return 0
}

// toolVersion is the version set at link time or, in a build without one
// (`go install github.com/soc2ls/soc2ls/cmd/soc2ls@v1.2.0`, or a local build
// that the go command stamps from version control), the module version
// recorded in the binary.
func toolVersion() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return version
}
