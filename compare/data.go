package compare

import (
	"context"
	"fmt"
	"time"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/dataset"
	"github.com/bci-decode/bci-decode/frontend"
)

// Data is what a comparison runs on: a recording, or the simulator.
type Data struct {
	// Spec names a recording (see frontend.Open); empty for the simulator.
	Spec string
	// Open says how to read it (the signal chain of continuous sources).
	Open frontend.OpenOptions
	// Sim and SimDuration configure the simulator.
	Sim         acquire.SimConfig
	SimDuration time.Duration
	// TestEvery holds out every TestEvery-th trial of a recording.
	TestEvery int
	// Targets are the targets to decode.
	Targets []string
}

// Split reads the data and splits it into training and test sets: a
// recording by HoldOut, the simulator's last fifth of time held out. It
// fills res's Source and Split.
func (d Data) Split(ctx context.Context, res *Result) (train, test *dataset.Set, err error) {
	if d.Spec == "" {
		cfg, err := d.Sim.For(d.SimDuration, d.Sim.BinWidth)
		if err != nil {
			return nil, nil, err
		}
		set, err := frontend.ReadSet(ctx, "sim", frontend.OpenOptions{Source: acquire.Params{Sim: cfg}}, d.Targets...)
		if err != nil {
			return nil, nil, err
		}
		train, test = set.SplitByTime(0.2)
		res.Source = fmt.Sprintf("sim seed %d, %d channels, %.1f min", cfg.Seed, cfg.Channels, d.SimDuration.Minutes())
		res.Split = "last 20% of the time range held out"
		return train, test, nil
	}
	set, err := frontend.ReadSet(ctx, d.Spec, d.Open, d.Targets...)
	if err != nil {
		return nil, nil, err
	}
	res.Source = d.Spec
	train, test, res.Split = HoldOut(set, d.TestEvery)
	return train, test, nil
}
