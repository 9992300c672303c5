package signal_test

import (
	"context"
	"testing"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/encoder"
	"github.com/bci-decode/bci-decode/signal"
)

// loop replays pregenerated frames forever, copying each into the caller's
// buffer as a source would.
type loop struct {
	info   acquire.Info
	frames []acquire.Frame
	i      int
	seq    uint64
}

func (l *loop) Info() acquire.Info { return l.info }

func (l *loop) ReadFrame(f *acquire.Frame) error {
	src := &l.frames[l.i%len(l.frames)]
	f.Seq, f.Rate, f.Channels = l.seq, src.Rate, src.Channels
	f.Time = int64(l.seq) * 10e6
	f.Data = append(f.Data[:0], src.Data...)
	l.i++
	l.seq++
	return nil
}

func newLoop(tb testing.TB, channels int, seconds float64) *loop {
	tb.Helper()
	sim, err := acquire.NewBroadband(acquire.BroadbandConfig{Seed: 1, Channels: channels})
	if err != nil {
		tb.Fatal(err)
	}
	l := &loop{info: sim.Info()}
	for range int(seconds * 100) { // 10 ms frames
		var f acquire.Frame
		if err := sim.ReadFrame(&f); err != nil {
			tb.Fatal(err)
		}
		l.frames = append(l.frames, f)
	}
	return l
}

// BenchmarkChain384 runs the default chain (band-pass, CAR, detection,
// binning) on 384 channels at 30 kHz in 10 ms frames, on one goroutine.
// realtime_x is seconds of signal per second of CPU: the budget is 20x.
func BenchmarkChain384(b *testing.B) {
	for _, tc := range []struct {
		name string
		opts signal.Options
	}{
		{"default", signal.Options{}},
		{"notch+median-car+power", signal.Options{Notch: 60, CAR: "median", Encoder: encoder.Options{Power: true}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			src := newLoop(b, 384, 1)
			r, err := signal.Reader(src, tc.opts)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			var bin encoder.Bin
			// warm up past calibration so detection runs
			for range 60 {
				if err := r.ReadBin(ctx, &bin); err != nil {
					b.Fatal(err)
				}
			}
			frames0 := src.seq
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := r.ReadBin(ctx, &bin); err != nil { // one 20 ms bin = two frames
					b.Fatal(err)
				}
			}
			b.StopTimer()
			signalSec := float64(src.seq-frames0) * 0.01
			b.ReportMetric(signalSec/b.Elapsed().Seconds(), "realtime_x")
		})
	}
}
