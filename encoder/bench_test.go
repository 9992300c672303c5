package encoder_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/encoder"
)

// BenchmarkEncoder runs detection and binning on 10 ms frames of 384
// channels at 30 kHz, after calibration.
func BenchmarkEncoder(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	fr := acquire.Frame{Channels: 384, Rate: 30000, Data: make([]float32, 384*300)}
	for i := range fr.Data {
		fr.Data[i] = float32(r.NormFloat64() * 10)
	}
	enc, err := encoder.NewEncoder(384, 30000, encoder.Options{Calibration: 10 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	var bin acquire.Bin
	for range 3 {
		_ = enc.Process(&fr)
		for enc.Next(&bin) {
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = enc.Process(&fr)
		for enc.Next(&bin) {
		}
	}
	b.ReportMetric(0.01*float64(b.N)/b.Elapsed().Seconds(), "realtime_x")
}
