package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/frontend"
)

func init() {
	commands["run"] = command{summary: "decode a source with a saved model and publish intents on NATS", run: runRun}
}

func runRun(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("run", "run --model MODEL.bcim [--source SPEC] [flags]")
	var df decodeFlags
	df.register(fs, "live")
	bf, sf, src, lf := &df.bus, &df.sim, &df.src, &df.live
	modelPath := fs.String("model", "", "model file written by train (required)")
	source := fs.String("source", "sim", "input: "+sourceHelp())
	dur := fs.Duration("duration", 30*time.Second, "length of a simulated stream (0: until interrupted)")
	pace := fs.String("pace", "", "realtime or fast (default: realtime for sim and live sources, fast for files)")
	jsonOut := fs.Bool("json", false, "print the summary as one JSON object on the last line")
	if err := parse(ctx, fs, args, 0, df.checks(func() error {
		switch {
		case *modelPath == "":
			return errors.New("--model is required")
		case *dur < 0 || *dur > maxSession:
			return fmt.Errorf("--duration %v: want 0 (until interrupted) to %v", *dur, maxSession)
		case *pace != "" && *pace != string(frontend.PaceRealtime) && *pace != string(frontend.PaceFast):
			return fmt.Errorf("--pace %q: want realtime or fast", *pace)
		}
		return nil
	})...); err != nil {
		return err
	}
	model, err := decoder.Load(*modelPath)
	if err != nil {
		return err
	}
	nc, closeBus, err := bf.connect()
	if err != nil {
		return err
	}
	defer closeBus()
	sf.Seed++ // a different stretch of behaviour than the default recording, same neurons
	s, err := src.open(ctx, *source, sf, *dur, frontend.Pace(*pace), bf.session, nc)
	if err != nil {
		return err
	}
	defer s.Close()
	opts, err := lf.options(s)
	if err != nil {
		return err
	}
	opts.Session, opts.Conn, opts.Model, opts.Replicas = bf.session, nc, model, bf.Replicas
	return lf.run(ctx, opts, *jsonOut, stdout)
}

// sourceHelp describes the source specs this build opens.
func sourceHelp() string {
	return "sim (simulated array), nats (raw frames published live on bci.<session>.raw), " +
		"any registered scheme (" + fmt.Sprint(acquire.Schemes()) + "), or a file (file:PATH or PATH: " + acquire.Formats() + ")"
}
