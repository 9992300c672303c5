package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rs/zerolog/log"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/encoder"
	"github.com/bci-decode/bci-decode/pipeline"
)

func init() {
	commands["run"] = command{summary: "decode a source with a saved model and publish intents on NATS", run: runRun}
}

// sourceSpec is a parsed --source flag.
type sourceSpec struct {
	sim  bool
	path string
}

func parseSource(s string) (sourceSpec, error) {
	switch {
	case s == "sim":
		return sourceSpec{sim: true}, nil
	case strings.HasPrefix(s, "file:") && len(s) > len("file:"):
		return sourceSpec{path: strings.TrimPrefix(s, "file:")}, nil
	}
	return sourceSpec{}, fmt.Errorf("%w: --source %q: want sim or file:PATH", errUsage, s)
}

// openedSource is a bin stream ready for the pipeline.
type openedSource struct {
	reader   pipeline.BinReader
	channels int
	binWidth int64
	targets  []string
	close    func() error
}

// openSource opens the --source stream. Simulated and paced streams run in
// real time; others as fast as possible.
func openSource(ctx context.Context, spec sourceSpec, sf simFlags, dur time.Duration, realtime bool, rebin int) (openedSource, error) {
	var src acquire.BinnedSource
	closer := func() error { return nil }
	if spec.sim {
		sim, err := acquire.NewSimulator(sf.config(dur))
		if err != nil {
			return openedSource{}, fmt.Errorf("%w: %v", errUsage, err)
		}
		src = sim
	} else {
		s, c, err := openBinned(spec.path, rebin)
		if err != nil {
			return openedSource{}, err
		}
		src, closer = s, c.Close
	}
	if realtime {
		src = acquire.PacedBinned(ctx, src, spec.sim)
	}
	info := src.BinnedInfo()
	return openedSource{reader: encoder.NewBinnedReader(src), channels: info.Channels, binWidth: info.BinWidth, targets: info.TargetNames, close: closer}, nil
}

func runRun(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("run", "run --model MODEL.bcim [--source sim|file:PATH] [flags]")
	var bf busFlags
	bf.register(fs, "live", bus.DefaultListen)
	var sf simFlags
	sf.register(fs)
	var lf liveFlags
	lf.register(fs)
	modelPath := fs.String("model", "", "model file written by train (required)")
	source := fs.String("source", "sim", "input: sim (simulated array, real time) or file:PATH (recorded: "+binnedFormats()+")")
	dur := fs.Duration("duration", 30*time.Second, "length of a simulated stream (0: until interrupted)")
	pace := fs.String("pace", "", "realtime or fast (default: realtime for sim, fast for files)")
	rebin := fs.Int("rebin", 1, "merge this many source bins into one (tables)")
	limit := fs.Float64("limit", 0, "clamp every published value to ±limit (0: no clamp)")
	integrate := fs.Bool("integrate", false, "publish integrated velocity as position intents")
	jsonOut := fs.Bool("json", false, "print the summary as one JSON object on the last line")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *modelPath == "" {
		return fmt.Errorf("%w: --model is required", errUsage)
	}
	spec, err := parseSource(*source)
	if err != nil {
		return err
	}
	realtime := spec.sim
	switch *pace {
	case "":
	case "realtime":
		realtime = true
	case "fast":
		realtime = false
	default:
		return fmt.Errorf("%w: --pace %q: want realtime or fast", errUsage, *pace)
	}
	if spec.sim {
		sf.seed++ // a different stretch of behaviour than the default recording, same neurons
	}
	model, err := decoder.Load(*modelPath)
	if err != nil {
		return err
	}
	src, err := openSource(ctx, spec, sf, *dur, realtime, *rebin)
	if err != nil {
		return err
	}
	defer src.close()
	if src.channels != model.Inputs() {
		return fmt.Errorf("%s expects %d channels per bin, source %s delivers %d: %w", *modelPath, model.Inputs(), *source, src.channels, decoder.ErrShape)
	}
	if w := model.Info.BinWidthNS; w != 0 && w != src.binWidth {
		return fmt.Errorf("%s was trained on %v bins, source %s delivers %v bins: %w", *modelPath, time.Duration(w), *source, time.Duration(src.binWidth), decoder.ErrShape)
	}
	nc, closeBus, err := bf.connect()
	if err != nil {
		return err
	}
	defer closeBus()
	res, err := (&stream{
		src: src.reader, channels: src.channels, targets: src.targets, model: model, nc: nc, session: bf.session,
		lossless: !realtime, output: decoder.OutputOptions{Limit: float32(*limit), Integrate: *integrate}, binWidth: src.binWidth,
		record: lf.record, overwrite: lf.overwrite, control: lf.control, watchdog: lf.watchdog(realtime),
	}).run(ctx)
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		log.Info().Msg("interrupted; summary of what was decoded")
	}
	if *jsonOut {
		return writeJSONLine(stdout, res)
	}
	res.print(stdout)
	return nil
}
