package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/bci-decode/bci-decode/lsl"
)

// The lsl package also registers the lsl: source scheme and the --lsl-out
// output plug-in of demo, run and worker.
func init() {
	commands["lsl"] = command{summary: "Lab Streaming Layer: 'lsl list' shows the streams visible now", run: runLSL}
}

func runLSL(ctx context.Context, args []string, stdout io.Writer) error {
	switch {
	case len(args) > 0 && args[0] == "list":
		args = args[1:]
	case len(args) == 0 || args[0] != "-h" && args[0] != "--help" && args[0] != "-help":
		return usageError(fmt.Errorf("want 'lsl list [--wait D] [--json]'"))
	}
	fs := newFlags("lsl list", "lsl list [--wait D] [--json]  (configured as liblsl is: LSLAPICFG, lsl_api.cfg)")
	wait := fs.Duration("wait", time.Second, "how long to listen for streams' answers (1ms-1m)")
	jsonOut := fs.Bool("json", false, "print the streams as one JSON object")
	if err := parse(ctx, fs, args, 0, func() error {
		if *wait < time.Millisecond || *wait > time.Minute {
			return fmt.Errorf("--wait %v: want 1ms to 1m", *wait)
		}
		return nil
	}); err != nil {
		return err
	}
	cfg, err := lsl.LoadConfig()
	if err != nil {
		return err
	}
	streams, err := lsl.List(ctx, cfg, *wait)
	if err != nil {
		return err
	}
	if *jsonOut {
		return writeJSONLine(stdout, struct {
			Streams []lsl.Listed `json:"streams"`
		}{streams})
	}
	return lsl.WriteList(stdout, streams)
}
