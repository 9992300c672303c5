package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog/log"

	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/dataset"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/frontend"
	"github.com/bci-decode/bci-decode/pipeline"
	"github.com/bci-decode/bci-decode/session"
	"github.com/bci-decode/bci-decode/shadow"
)

func init() {
	commands["demo"] = command{summary: "simulate, calibrate and decode live on an embedded NATS server (the main job)", run: runDemo}
}

func runDemo(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("demo", "demo [flags]")
	var df decodeFlags
	df.register(fs, "demo")
	bf, sf, src, lf := &df.bus, &df.sim, &df.src, &df.live
	serveDashboard(fs)
	var ff fitFlags
	fs.StringVar(&ff.kind, "decoder", "hifi", "decoder to calibrate and decode live with")
	ff.registerShared(fs)
	demoDefaults(fs)
	shadowKind := fs.String("shadow-decoder", "kalman", "decoder fit on the same calibration block that decodes every bin beside the live one, on bci.<session>.shadow.intent (none: no shadow; --shadow FILE replaces it)")
	dur := fs.Duration("duration", 30*time.Second, "length of the live decoding run")
	calib := fs.Duration("calibration", 5*time.Minute, "length of the simulated calibration block the decoder is fit on")
	jsonOut := fs.Bool("json", false, "print the summary as one JSON object on the last line")
	if err := parse(ctx, fs, args, 0, df.checks(ff.check, func() error {
		if *shadowKind != "none" {
			if err := decoder.CheckTrainable(*shadowKind); err != nil {
				return fmt.Errorf("--shadow-decoder: %w", err)
			}
		}
		if *dur <= 0 || *dur > 24*time.Hour || *calib < time.Second || *calib > 24*time.Hour {
			return fmt.Errorf("--duration %v and --calibration %v: want 1s to 24h", *dur, *calib)
		}
		return nil
	})...); err != nil {
		return err
	}
	if !given(fs, "rt-priority") {
		lf.priorityIfPermitted()
	}
	ff.seed = sf.Seed
	fit, done := ff.options(*jsonOut)
	nc, closeBus, err := bf.connect()
	if err != nil {
		return err
	}
	defer closeBus()

	// Calibration: the array's neurons during a block of reaches.
	calibSrc, err := src.open(ctx, "sim", sf, *calib, frontend.PaceFast, bf.session)
	if err != nil {
		return err
	}
	set, err := readCalibration(ctx, calibSrc)
	if err != nil {
		return err
	}
	log.Info().Str("decoder", ff.kind).Int("bins", set.Len()).Stringer("calibration", *calib).Msg("fitting decoder on calibration block")
	model, err := decoder.Train(ctx, ff.kind, set, fit, decoder.ModelInfo{TrainedOn: "simulated calibration block"})
	done()
	if err != nil {
		return fmt.Errorf("calibrate: %w", err)
	}
	shadowOut, err := demoShadow(ctx, fs, *shadowKind, set, ff.seed)
	if err != nil {
		return err
	}

	// Live: the same neurons, new reaches, one bin every bin width.
	sf.Seed++
	live, err := src.open(ctx, "sim", sf, *dur, frontend.PaceRealtime, bf.session)
	if err != nil {
		return err
	}
	defer live.Close()
	opts, err := lf.options(live)
	if err != nil {
		return err
	}
	opts.Session, opts.Conn, opts.Model = bf.session, nc, model
	if shadowOut != nil {
		opts.Outputs = append(opts.Outputs, shadowOut)
	}
	log.Info().Str("subscribe", fmt.Sprintf("nats sub '%s' --server %s", bus.IntentSubject(bf.session), nc.ConnectedUrlRedacted())).
		Stringer("duration", *dur).Msg("decoding live simulated stream in real time")
	return lf.run(ctx, opts, *jsonOut, stdout)
}

// demoEpochs and demoHidden keep the demo's HIFI calibration to about ten
// seconds of training on two cores (see the README's measurements); the
// flags still override them.
const (
	demoEpochs = "8"
	demoHidden = "64,64"
)

// demoShadow fits the demo's shadow decoder of kind on the calibration
// block, unless kind is none or --shadow names a model file instead.
func demoShadow(ctx context.Context, fs *flag.FlagSet, kind string, set *dataset.Set, seed uint64) (pipeline.Factory, error) {
	if f := fs.Lookup("shadow"); kind == "none" || (f != nil && f.Value.String() != "") {
		return nil, nil
	}
	sm, err := decoder.Train(ctx, kind, set, decoder.FitOptions{Seed: seed}, decoder.ModelInfo{TrainedOn: "simulated calibration block"})
	if err != nil {
		return nil, fmt.Errorf("calibrate the shadow: %w", err)
	}
	return shadow.Factory(sm), nil
}

// demoPriority is the demo's real-time priority: its dashboard draws on
// the same machine, and a page must not delay a bin (see the README's
// dashboard measurements).
const demoPriority = "10"

// demoDefaults sets the demo's own defaults of shared flags: its small
// network and its real-time priority.
func demoDefaults(fs *flag.FlagSet) {
	for name, v := range map[string]string{"epochs": demoEpochs, "hidden": demoHidden, "rt-priority": demoPriority} {
		if f := fs.Lookup(name); f != nil {
			_ = f.Value.Set(v)
			f.DefValue = v
		}
	}
}

// readCalibration reads a calibration block into a velocity training set.
func readCalibration(ctx context.Context, s *frontend.Stream) (*dataset.Set, error) {
	defer s.Close()
	set, err := dataset.Read(ctx, s)
	if err != nil {
		return nil, err
	}
	return set.SelectTargets("vel_x", "vel_y")
}

// run decodes a session, with the plug-ins' process-wide parts around it,
// and prints its summary.
func (l *liveFlags) run(ctx context.Context, opts session.Options, jsonOut bool, stdout io.Writer) (err error) {
	stop := l.plugins.Serve(ctx, opts.Conn)
	defer func() {
		if serr := stop(); err == nil {
			err = serr
		}
	}()
	log.Info().Str("session", opts.Session).Str("subject", bus.IntentSubject(opts.Session)).
		Str("decoder", opts.Model.Kind()).Str("model", opts.Model.Hash).Bool("record", opts.Record).Msg("decoding")
	res, err := session.Run(ctx, opts)
	if res.Session == "" { // nothing decoded: the session never started
		return err
	}
	if ctx.Err() != nil {
		log.Info().Msg("interrupted; summary of what was decoded")
	}
	// A session that decoded prints its summary even when closing its
	// outputs failed (a recording left unacknowledged): that is when the
	// counts matter most.
	if werr := writeResult(stdout, jsonOut, res); werr != nil {
		return werr
	}
	return err
}
