package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/bci-decode/bci-decode/acquire"
)

func init() {
	commands["simulate"] = command{summary: "write a simulated binned recording (.bcr)", run: runSimulate}
}

// simFlags configure the binned simulator.
type simFlags struct {
	seed, popSeed uint64
	channels      int
	bin           time.Duration
	task          string
	drift         float64
}

func (s *simFlags) register(fs *flag.FlagSet) {
	fs.Uint64Var(&s.seed, "seed", 1, "seed of the task and spikes")
	fs.Uint64Var(&s.popSeed, "population-seed", 1, "seed of the neurons' tuning (keep it to decode the same array)")
	fs.IntVar(&s.channels, "channels", acquire.DefaultSimConfig.Channels, "number of simulated neurons")
	fs.DurationVar(&s.bin, "bin", time.Duration(acquire.DefaultSimConfig.BinWidth), "bin width")
	fs.StringVar(&s.task, "task", string(acquire.TaskCentreOut), "reach task: centre-out or random-target")
	fs.Float64Var(&s.drift, "drift", 0, "random-walk drift of baseline rates (Hz per sqrt(minute))")
}

func (s *simFlags) config(d time.Duration) acquire.SimConfig {
	bins := 0
	if d > 0 && s.bin > 0 {
		bins = int(d / s.bin)
	}
	return acquire.SimConfig{Seed: s.seed, PopulationSeed: s.popSeed, Channels: s.channels, BinWidth: int64(s.bin),
		Task: acquire.Task(s.task), DriftHz: s.drift, Bins: bins}
}

func runSimulate(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("simulate", "simulate --out FILE.bcr [flags]")
	var sf simFlags
	sf.register(fs)
	out := fs.String("out", "", "output recording (.bcr, required)")
	dur := fs.Duration("duration", 10*time.Minute, "length of the recording")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: --out is required", errUsage)
	}
	if *dur <= 0 {
		return fmt.Errorf("%w: --duration must be positive", errUsage)
	}
	sim, err := acquire.NewSimulator(sf.config(*dur))
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	info := sim.BinnedInfo()
	w, err := acquire.CreateRecording(*out, acquire.RecordingHeader{
		Channels: info.Channels, BinWidthNS: info.BinWidth, ChannelNames: info.ChannelNames, TargetNames: info.TargetNames,
		Source: fmt.Sprintf("simulator task=%s seed=%d population-seed=%d drift=%g", sf.task, sf.seed, sf.popSeed, sf.drift),
	})
	if err != nil {
		return err
	}
	var b acquire.Binned
	n := 0
	for {
		if err := ctx.Err(); err != nil {
			w.Close()
			return err
		}
		err := sim.ReadBinned(&b)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			w.Close()
			return err
		}
		if err := w.Write(&b); err != nil {
			w.Close()
			return err
		}
		n++
	}
	if err := w.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d bins of %v (%v, %d channels, targets %v) to %s\n", n, sf.bin, time.Duration(n)*sf.bin, info.Channels, info.TargetNames, *out)
	return nil
}
