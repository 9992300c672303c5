package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog/log"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/frontend"
)

func init() {
	commands["record"] = command{summary: "record a calibration block (.bcr): a stream or file through the signal chain, labelled with behaviour", run: runRecord}
}

func runRecord(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("record", "record --source SPEC [--targets SPEC] --out FILE.bcr [flags]")
	var src sourceFlags
	src.register(fs)
	var o frontend.RecordOptions
	fs.StringVar(&o.Source, "source", "", "neural input (required): "+sourceHelp())
	fs.StringVar(&o.Targets, "targets", "", "behaviour labelling the bins, aligned by time: lsl:PREDICATE (a second LSL stream) or a CSV table (time in seconds, then one column per value); empty: the source's own targets")
	fs.StringVar(&o.Out, "out", "", "recording to write (.bcr, required)")
	fs.DurationVar(&o.Duration, "duration", 0, "length of a live recording (0: until the stream ends or the command is interrupted; files are read to their end)")
	jsonOut := fs.Bool("json", false, "print the summary as one JSON object on the last line")
	if err := parse(ctx, fs, args, 0, src.check, required(map[string]*string{"--source": &o.Source, "--out": &o.Out}), func() error {
		if o.Duration < 0 || o.Duration > maxSession {
			return fmt.Errorf("--duration %v: want 0 (until the stream ends) to %v", o.Duration, maxSession)
		}
		return o.Validate()
	}); err != nil {
		return err
	}
	o.Open = src.Options("", acquire.SimConfig{}, frontend.PaceAuto)
	log.Info().Str("source", o.Source).Str("targets", o.Targets).Str("out", o.Out).Msg("recording")
	res, err := frontend.Record(ctx, o)
	if err != nil {
		return err
	}
	if *jsonOut {
		return writeJSONLine(stdout, res)
	}
	fmt.Fprintf(stdout, "wrote %d bins of %v ms (%v, %d channels, targets %v) to %s\n", res.Bins, res.BinMS,
		time.Duration(float64(res.Bins)*res.BinMS*1e6), res.Channels, res.Targets, res.Path)
	return nil
}
