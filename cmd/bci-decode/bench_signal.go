package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/encoder"
	"github.com/bci-decode/bci-decode/signal"
)

func init() { benchStages["signal"] = benchSignal }

type signalBenchResult struct {
	Channels       int     `json:"channels"`
	Rate           float64 `json:"rate"`
	SignalSeconds  float64 `json:"signal_s"`
	WallSeconds    float64 `json:"wall_s"`
	RealtimeFactor float64 `json:"realtime_factor"`
	AllocsPerFrame float64 `json:"allocs_per_frame"`
	Frames         int     `json:"frames"`
	Bins           int     `json:"bins"`
}

// loopSource cycles through pregenerated frames, so the benchmark measures
// the chain and not the simulator.
type loopSource struct {
	info   acquire.Info
	frames []acquire.Frame
	i      int
}

func (l *loopSource) Info() acquire.Info { return l.info }

func (l *loopSource) ReadFrame(f *acquire.Frame) error {
	src := &l.frames[l.i%len(l.frames)]
	f.Seq, f.Rate, f.Channels = uint64(l.i), src.Rate, src.Channels
	f.Time = int64(l.i) * int64(float64(len(src.Data)/src.Channels)/src.Rate*1e9)
	f.Data = append(f.Data[:0], src.Data...)
	l.i++
	return nil
}

func benchSignal(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("bench --stage signal", "bench --stage signal [--channels 384 --rate 30000 --duration 10s] [--json]")
	channels := fs.Int("channels", 384, "channels")
	rate := fs.Float64("rate", 30000, "sampling rate (Hz)")
	dur := fs.Duration("duration", 10*time.Second, "seconds of signal to process (after a 1 s calibration)")
	var sig signalFlags
	sig.register(fs)
	jsonOut := fs.Bool("json", false, "print the result as one JSON object on the last line")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	opts, err := sig.options()
	if err != nil {
		return err
	}
	sim, err := acquire.NewBroadband(acquire.BroadbandConfig{Seed: 1, Channels: *channels, Rate: *rate})
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	src := &loopSource{info: sim.Info()}
	for range 100 { // one second of 10 ms frames
		var f acquire.Frame
		if err := sim.ReadFrame(&f); err != nil {
			return err
		}
		src.frames = append(src.frames, f)
	}
	r, err := signal.Reader(src, opts)
	if err != nil {
		return err
	}
	// One goroutine on one OS thread: the budget is per core.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var b encoder.Bin
	warm := int(time.Second/opts.BinWidth()) + 10 // past calibration
	for range warm {
		if err := r.ReadBin(ctx, &b); err != nil {
			return err
		}
	}
	startFrames := src.i
	bins := int(*dur / opts.BinWidth())
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	start := time.Now()
	for range bins {
		if err := r.ReadBin(ctx, &b); err != nil {
			return err
		}
	}
	wall := time.Since(start)
	runtime.ReadMemStats(&ms1)
	frames := src.i - startFrames
	signalSec := float64(frames) * 0.01
	res := signalBenchResult{Channels: *channels, Rate: *rate, SignalSeconds: signalSec, WallSeconds: wall.Seconds(),
		RealtimeFactor: signalSec / wall.Seconds(), AllocsPerFrame: float64(ms1.Mallocs-ms0.Mallocs) / float64(frames), Frames: frames, Bins: bins}
	if *jsonOut {
		return writeJSONLine(stdout, res)
	}
	fmt.Fprintf(stdout, "signal chain, %d channels at %.0f Hz (band-pass %v-%v Hz order %d, CAR %s, k %.1f, %v bins): %.1f s of signal in %.2f s: %.1fx real time, %.2f allocations per frame\n",
		res.Channels, res.Rate, opts.Band[0], opts.Band[1], opts.Order, opts.CAR, opts.Encoder.K, opts.BinWidth(), res.SignalSeconds, res.WallSeconds, res.RealtimeFactor, res.AllocsPerFrame)
	return nil
}
