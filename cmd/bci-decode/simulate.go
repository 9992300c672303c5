package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/frontend"
)

func init() {
	commands["simulate"] = command{summary: "write a simulated binned recording (.bcr)", run: runSimulate}
}

func runSimulate(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("simulate", "simulate --out FILE.bcr [flags]")
	var sf simFlags
	sf.register(fs)
	bin := fs.Duration("bin", acquire.DefaultSimConfig.BinWidth, "bin width")
	out := fs.String("out", "", "output recording (.bcr, required)")
	dur := fs.Duration("duration", 10*time.Minute, "length of the recording")
	var cfg acquire.SimConfig
	if err := parse(ctx, fs, args, 0, required(map[string]*string{"--out": out}), func() (err error) {
		if *dur <= 0 || *dur > 24*time.Hour {
			return fmt.Errorf("--duration %v: want more than 0 and at most 24h", *dur)
		}
		cfg, err = sf.For(*dur, *bin)
		return err
	}); err != nil {
		return err
	}
	src, err := frontend.Open(ctx, "sim", frontend.OpenOptions{Source: acquire.Params{Sim: cfg}, Pace: frontend.PaceFast})
	if err != nil {
		return err
	}
	defer src.Close()
	n, err := acquire.WriteRecording(ctx, *out, src, fmt.Sprintf("simulator task=%s seed=%d population-seed=%d drift=%g", sf.Task, sf.Seed, sf.PopulationSeed, sf.DriftHz))
	if err != nil {
		return err
	}
	sh := src.Shape()
	fmt.Fprintf(stdout, "wrote %d bins of %v (%v, %d channels, targets %v) to %s\n", n, sh.BinWidth, time.Duration(n)*sh.BinWidth, sh.Channels, sh.Targets, *out)
	return nil
}
