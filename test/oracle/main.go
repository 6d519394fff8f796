// Command oracle answers injection cases with Istio's own injector, built from its Go module.
//
// It is a test-time tool: the project's differential tests (`npm run oracle`) feed it JSON lines on
// stdin and compare its answers with the TypeScript engine's. `oracle serve` runs Istio's real
// webhook handler over TLS on 127.0.0.1 for `npm run bench`. See docs/conformance.md.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"istio.io/istio/pkg/log"
)

func main() {
	quietIstioLogs()
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		if err := serve(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "oracle serve:", err)
			os.Exit(1)
		}
		return
	}
	if err := answerLines(); err != nil {
		fmt.Fprintln(os.Stderr, "oracle:", err)
		os.Exit(1)
	}
}

// quietIstioLogs silences Istio's per-request info logs: they would cost more than the injection.
func quietIstioLogs() {
	for _, s := range log.Scopes() {
		s.SetOutputLevel(log.NoneLevel)
	}
}

// answerLines reads one JSON object per line and writes one answer per line, in order.
// A line {"text": {"id": ..., "value": ...}} defines a text later cases name by id, so that the
// large `config` text (it holds the templates) crosses the pipe once, not once per case.
func answerLines() error {
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	o := newOracle()
	for {
		line, err := in.ReadBytes('\n')
		if len(line) > 0 && !(len(line) == 1 && line[0] == '\n') {
			var msg message
			if jerr := json.Unmarshal(line, &msg); jerr != nil {
				if werr := enc.Encode(answer{Error: "oracle: bad input line: " + jerr.Error()}); werr != nil {
					return werr
				}
			} else if msg.Canon != nil {
				if werr := enc.Encode(canonical(msg.Canon)); werr != nil {
					return werr
				}
				if ferr := out.Flush(); ferr != nil {
					return ferr
				}
			} else if msg.YAML != nil {
				if werr := enc.Encode(readYAML(msg.YAML)); werr != nil {
					return werr
				}
				if ferr := out.Flush(); ferr != nil {
					return ferr
				}
			} else if msg.ForgetTexts {
				clear(o.texts)
			} else if msg.Text != nil {
				o.texts[msg.Text.ID] = msg.Text.Value
			} else if msg.Case != nil {
				if werr := enc.Encode(o.answer(msg.Case)); werr != nil {
					return werr
				}
				// The caller waits for each answer before it sends the next case.
				if ferr := out.Flush(); ferr != nil {
					return ferr
				}
			}
		}
		if err != nil {
			return nil // EOF: every case was answered.
		}
	}
}
