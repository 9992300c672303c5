package filters_test

import (
	"math/rand/v2"
	"testing"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/filters"
)

func benchFrame(channels, samples int) acquire.Frame {
	r := rand.New(rand.NewPCG(1, 2))
	fr := acquire.Frame{Channels: channels, Rate: 30000, Data: make([]float32, channels*samples)}
	for i := range fr.Data {
		fr.Data[i] = float32(r.NormFloat64() * 20)
	}
	return fr
}

// BenchmarkStages runs each stage on 10 ms frames of 384 channels at
// 30 kHz; realtime_x is seconds of signal per second.
func BenchmarkStages(b *testing.B) {
	bp, _ := filters.Butterworth("bandpass", 4, 30000, 300, 6000)
	notch, _ := filters.Notch(60, 30, 30000)
	iir, _ := filters.NewIIR(bp, 384)
	nf, _ := filters.NewIIR(notch, 384)
	for _, tc := range []struct {
		name  string
		stage filters.Stage
	}{
		{"bandpass-order4", iir},
		{"notch", nf},
		{"car-mean", filters.NewCAR(false, 384)},
		{"car-median", filters.NewCAR(true, 384)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			fr := benchFrame(384, 300)
			b.ReportAllocs()
			for b.Loop() {
				_ = tc.stage.Process(&fr)
			}
			b.ReportMetric(0.01*float64(b.N)/b.Elapsed().Seconds(), "realtime_x")
		})
	}
}
