package frontend

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/bci-decode/bci-decode/acquire"
)

// ChainBench configures BenchChain.
type ChainBench struct {
	Channels int
	Rate     float64
	// Duration is how much signal is timed, after a second of calibration.
	Duration time.Duration
	Chain    Options
}

// ChainBenchResult is what BenchChain measured.
type ChainBenchResult struct {
	Channels       int     `json:"channels"`
	Rate           float64 `json:"rate"`
	SignalSeconds  float64 `json:"signal_s"`
	WallSeconds    float64 `json:"wall_s"`
	RealtimeFactor float64 `json:"realtime_factor"`
	AllocsPerFrame float64 `json:"allocs_per_frame"`
	Frames         int     `json:"frames"`
	Bins           int     `json:"bins"`
}

// BenchChain runs simulated broadband signal through the whole chain
// (filters, reference, detection, binning) on the calling goroutine's
// locked OS thread, the budget being per core, and reports how many times
// faster than real time it went and what it allocated per frame.
func BenchChain(ctx context.Context, o ChainBench) (ChainBenchResult, error) {
	o.Chain.EnsureDefaults()
	if err := o.Chain.Validate(); err != nil {
		return ChainBenchResult{}, err
	}
	sim, err := acquire.NewBroadband(acquire.BroadbandConfig{Seed: 1, Channels: o.Channels, Rate: o.Rate})
	if err != nil {
		return ChainBenchResult{}, err
	}
	src, err := acquire.Loop(ctx, sim, 100) // one second of 10 ms frames
	if err != nil {
		return ChainBenchResult{}, err
	}
	r, err := Reader(src, o.Chain)
	if err != nil {
		return ChainBenchResult{}, err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	width := o.Chain.Encoder.BinWidth
	var b acquire.Bin
	if err := readBins(ctx, r, &b, int(time.Second/width)+10); err != nil { // past calibration
		return ChainBenchResult{}, err
	}
	startFrames, bins := src.Frames(), int(o.Duration/width)
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	start := time.Now()
	if err := readBins(ctx, r, &b, bins); err != nil {
		return ChainBenchResult{}, err
	}
	wall := time.Since(start)
	runtime.ReadMemStats(&ms1)
	frames := int(src.Frames() - startFrames)
	signal := float64(frames) * 0.01
	return ChainBenchResult{Channels: o.Channels, Rate: o.Rate, SignalSeconds: signal, WallSeconds: wall.Seconds(),
		RealtimeFactor: signal / wall.Seconds(), AllocsPerFrame: float64(ms1.Mallocs-ms0.Mallocs) / float64(frames), Frames: frames, Bins: bins}, nil
}

// readBins reads n bins into b, which is reused so that reading allocates
// nothing once b has grown.
func readBins(ctx context.Context, r acquire.BinSource, b *acquire.Bin, n int) error {
	for range n {
		if err := r.ReadBin(ctx, b); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
	}
	return nil
}

// WriteText prints the result for a person.
func (r ChainBenchResult) WriteText(w io.Writer, chain Options) {
	fmt.Fprintf(w, "signal chain, %d channels at %.0f Hz (band-pass %v-%v Hz order %d, CAR %s, k %.1f, %v bins): %.1f s of signal in %.2f s: %.1fx real time, %.2f allocations per frame\n",
		r.Channels, r.Rate, chain.Band[0], chain.Band[1], chain.Order, chain.CAR, chain.Encoder.K, chain.Encoder.BinWidth, r.SignalSeconds, r.WallSeconds, r.RealtimeFactor, r.AllocsPerFrame)
}
