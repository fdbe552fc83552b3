package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/soc2ls/soc2ls/analysis/synth"
)

// BenchmarkServeMemory measures what the memory target is about:
// the resident memory of a real `soc2ls serve` process with 20 generated
// 1 MB templates open and analysed (rss-MB), and its peak while they were
// opened (peak-MB). The client is this test, in its own process.
//
//	go test ./cmd/soc2ls -run XXX -bench ServeMemory -benchtime 1x
func BenchmarkServeMemory(b *testing.B) {
	bin := buildBinary(b)
	src := string(synth.YAML(1 << 20))
	text, _ := json.Marshal(src)
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(bin, "serve")
		p := startPeer(b, cmd)
		p.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{},"initializationOptions":{"diagnosticsDelayMs":0}}}`)
		p.await("initialize", response("1"))
		p.send(`{"jsonrpc":"2.0","method":"initialized","params":{}}`)
		for j := range 20 {
			uri := fmt.Sprintf("file:///bench/m%d.yaml", j)
			p.send(fmt.Sprintf(`{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":%q,"languageId":"yaml","version":1,"text":%s}}}`, uri, text))
			p.await("diagnostics of "+uri, func(m map[string]json.RawMessage) bool {
				var params struct {
					URI string `json:"uri"`
				}
				return string(m["method"]) == `"textDocument/publishDiagnostics"` && json.Unmarshal(m["params"], &params) == nil && params.URI == uri
			})
		}
		rss, peak := procMemory(b, cmd.Process.Pid)
		b.ReportMetric(rss, "rss-MB")
		b.ReportMetric(peak, "peak-MB")
		p.send(`{"jsonrpc":"2.0","id":2,"method":"shutdown"}`)
		p.await("shutdown", response("2"))
		p.send(`{"jsonrpc":"2.0","method":"exit"}`)
		exitCode(b, cmd)
	}
}

// procMemory reads a process's resident set and its peak, in MB.
func procMemory(tb testing.TB, pid int) (rss, peak float64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Skip("no /proc: ", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.Atoi(f[1])
		switch f[0] {
		case "VmRSS:":
			rss = float64(kb) / 1024
		case "VmHWM:":
			peak = float64(kb) / 1024
		}
	}
	return rss, peak
}
