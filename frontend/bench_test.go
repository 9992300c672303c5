package frontend_test

import (
	"context"
	"testing"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/encoder"
	"github.com/bci-decode/bci-decode/frontend"
)

func newLoop(tb testing.TB, channels int, seconds float64) *acquire.Looped {
	tb.Helper()
	sim, err := acquire.NewBroadband(acquire.BroadbandConfig{Seed: 1, Channels: channels})
	if err != nil {
		tb.Fatal(err)
	}
	l, err := acquire.Loop(context.Background(), sim, int(seconds*100)) // 10 ms frames
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

// BenchmarkChain384 runs the default chain (band-pass, CAR, detection,
// binning) on 384 channels at 30 kHz in 10 ms frames, on one goroutine.
// realtime_x is seconds of signal per second of CPU: the budget is 20x.
func BenchmarkChain384(b *testing.B) {
	for _, tc := range []struct {
		name string
		opts frontend.Options
	}{
		{"default", frontend.Options{}},
		{"notch+median-car+power", frontend.Options{Notch: 60, CAR: "median", Encoder: encoder.Options{Power: true}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			src := newLoop(b, 384, 1)
			r, err := frontend.Reader(src, tc.opts)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			var bin acquire.Bin
			// warm up past calibration so detection runs
			for range 60 {
				if err := r.ReadBin(ctx, &bin); err != nil {
					b.Fatal(err)
				}
			}
			frames0 := src.Frames()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := r.ReadBin(ctx, &bin); err != nil { // one 20 ms bin = two frames
					b.Fatal(err)
				}
			}
			b.StopTimer()
			signalSec := float64(src.Frames()-frames0) * 0.01
			b.ReportMetric(signalSec/b.Elapsed().Seconds(), "realtime_x")
		})
	}
}
