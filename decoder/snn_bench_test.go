package decoder_test

import (
	"context"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/snn"
)

// BenchmarkSNNStep measures one decoded bin of a HIFI decoder (96 channels
// -> 128 -> 2, the simulator's shape) with one and two network steps per
// bin, and as an ensemble of three, with the p99 of the step.
func BenchmarkSNNStep(b *testing.B) {
	train, test := simSet(b, 1, 1500), simSet(b, 2, 1000)
	for _, c := range []struct {
		name          string
		sub, ensemble int
	}{{"substeps1", 1, 1}, {"substeps2", 2, 1}, {"ensemble3", 1, 3}} {
		b.Run(c.name, func(b *testing.B) {
			d, _, err := decoder.FitSNN(context.Background(), train, decoder.SNNOptions{Hidden: []int{128}, Seed: 1,
				Substeps: c.sub, Ensemble: c.ensemble, Train: snn.TrainOptions{Epochs: 2, Seed: 1}})
			if err != nil {
				b.Fatal(err)
			}
			benchStep(b, d, test.X)
		})
	}
}

// benchStep steps d over xs in a loop and reports the p99 of a step.
func benchStep(b *testing.B, d decoder.Decoder, xs [][]float32) {
	out := make([]float32, d.Outputs())
	hist := hdrhistogram.New(1, int64(time.Second), 3)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		t0 := time.Now()
		d.Step(xs[i%len(xs)], out)
		_ = hist.RecordValue(max(time.Since(t0).Nanoseconds(), 1))
		i++
	}
	b.ReportMetric(float64(hist.ValueAtQuantile(99)), "p99-ns")
}
