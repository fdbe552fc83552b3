package main

import (
	"fmt"
	"io"
)

// runServe starts the language server. (Issue 4 replaces this.)
func runServe(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "soc2ls serve: the language server is not built yet")
	return 2
}
