package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/soc2ls/soc2ls/lsp"
)

// runServe runs the language server over stdin/stdout until the client
// sends exit; it returns the exit code the protocol prescribes (0 after
// shutdown, 1 without). Logs go to stderr or --logfile, never stdout.
func runServe(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("serve", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Bool("stdio", true, "speak LSP over stdin and stdout (the only transport; accepted for editors that pass it)")
	logfile := fset.String("logfile", "", "append logs to `file` instead of standard error")
	logLevel := fset.String("log-level", "info", "log `level`: debug, info, warn or error (the logLevel setting changes it later)")
	showVersion := fset.Bool("version", false, "print the version and exit")
	fset.Usage = func() {
		fmt.Fprint(fset.Output(), `Usage: soc2ls serve [--stdio] [--log-level LEVEL] [--logfile FILE]

Runs the soc2ls language server over standard input and output, for VS Code,
Neovim and any other LSP client. Settings come from initializationOptions and
workspace/didChangeConfiguration (see docs/lsp.md).

Flags:
`)
		fset.PrintDefaults()
	}
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, "soc2ls", toolVersion())
		return 0
	}
	if fset.NArg() > 0 {
		return usageError(stderr, "serve", "unexpected arguments: %s", strings.Join(fset.Args(), " "))
	}
	level, err := zap.ParseAtomicLevel(strings.ToLower(*logLevel))
	if err != nil {
		return usageError(stderr, "serve", "unknown --log-level %q (want debug, info, warn or error)", *logLevel)
	}
	var sink io.Writer = stderr
	if *logfile != "" {
		f, err := os.OpenFile(*logfile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			fmt.Fprintln(stderr, "soc2ls serve:", describe(*logfile, err))
			return 2
		}
		defer f.Close()
		sink = f
	}
	enc := zap.NewDevelopmentEncoderConfig()
	enc.EncodeLevel = zapcore.CapitalLevelEncoder
	logger := zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.AddSync(sink), level))
	defer logger.Sync()

	srv := lsp.NewServer(lsp.Options{Rules: ruleSet(), Logger: logger, Level: &level, Version: toolVersion()})
	logger.Info("soc2ls language server started", zap.String("version", toolVersion()), zap.Int("pid", os.Getpid()))
	code, err := srv.Serve(context.Background(), stdio{stdin, stdout})
	if err != nil {
		logger.Warn("connection ended", zap.Error(err))
	}
	// main exits the process with this code at once: after exit the
	// protocol reader may still be blocked on stdin (see lsp.Server.Serve).
	return code
}

// stdio joins standard input and output into the stream the server reads
// and writes. Closing it closes neither: the process exits instead.
type stdio struct {
	io.Reader
	io.Writer
}

func (stdio) Close() error { return nil }
