package main

import (
	"fmt"
	"io"
)

func runCheck(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "soc2ls check: not built yet")
	return 2
}

func runRules(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "soc2ls rules: not built yet")
	return 2
}

func runExplain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "soc2ls explain: not built yet")
	return 2
}
