package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog/log"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/dataset"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/encoder"
)

func init() {
	commands["demo"] = command{summary: "simulate, calibrate and decode live on an embedded NATS server (the main job)", run: runDemo}
}

func runDemo(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("demo", "demo [flags]")
	var bf busFlags
	bf.register(fs, "demo", bus.DefaultListen)
	var sf simFlags
	sf.register(fs)
	var lf liveFlags
	lf.register(fs)
	dur := fs.Duration("duration", 30*time.Second, "length of the live decoding run")
	calib := fs.Duration("calibration", 5*time.Minute, "length of the simulated calibration block the decoder is fit on")
	kind := fs.String("decoder", "kalman", "decoder to calibrate: kalman or wiener")
	jsonOut := fs.Bool("json", false, "print the summary as one JSON object on the last line")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dur <= 0 || *calib < time.Second {
		return fmt.Errorf("%w: --duration must be positive and --calibration at least 1s", errUsage)
	}
	if _, ok := fitters[*kind]; !ok {
		return fmt.Errorf("%w: unknown decoder %q", errUsage, *kind)
	}
	nc, closeBus, err := bf.connect()
	if err != nil {
		return err
	}
	defer closeBus()

	// Calibration: the array's neurons during a block of reaches.
	sim, err := acquire.NewSimulator(sf.config(*calib))
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	set, err := dataset.Read(sim)
	if err != nil {
		return err
	}
	if set, err = set.SelectTargets("vel_x", "vel_y"); err != nil {
		return err
	}
	log.Info().Str("decoder", *kind).Int("bins", set.Len()).Dur("calibration", *calib).Msg("fitting decoder on calibration block")
	dec, err := fit(ctx, *kind, set, fitOptions{Seed: sf.seed})
	if err != nil {
		return fmt.Errorf("calibrate: %w", err)
	}
	info := decoder.ModelInfo{Targets: set.TargetNames, BinWidthNS: set.BinWidth, TrainedOn: "simulated calibration block"}
	_, hash, err := decoder.Encode(dec, info)
	if err != nil {
		return err
	}

	// Live: the same neurons, new reaches, one bin every bin width.
	live := sf
	live.seed++
	liveSim, err := acquire.NewSimulator(live.config(*dur))
	if err != nil {
		return err
	}
	log.Info().Str("subscribe", fmt.Sprintf("nats sub '%s' --server %s", bus.IntentSubject(bf.session), nc.ConnectedUrlRedacted())).
		Dur("duration", *dur).Msg("decoding live simulated stream in real time")
	res, err := (&stream{
		src:      encoder.NewBinnedReader(acquire.PacedBinned(ctx, liveSim, true)),
		channels: sf.channels, targets: liveSim.BinnedInfo().TargetNames,
		model: &decoder.Loaded{Decoder: dec, Hash: hash, Info: info}, nc: nc, session: bf.session, binWidth: int64(sf.bin),
		record: lf.record, overwrite: lf.overwrite, control: lf.control, replicas: bf.replicas, watchdog: lf.watchdog(true),
	}).run(ctx)
	if err != nil {
		return err
	}
	if *jsonOut {
		return writeJSONLine(stdout, res)
	}
	res.print(stdout)
	return nil
}
