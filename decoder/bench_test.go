package decoder_test

import (
	"context"
	"testing"

	"github.com/bci-decode/bci-decode/decoder"
)

// BenchmarkStep measures one decode step of each baseline on 96 channels
// with 2 outputs, the demo's shape.
func BenchmarkStep(b *testing.B) {
	ctx := context.Background()
	train := simSet(b, 1, 5000)
	test := simSet(b, 2, 1000)
	kalman, err := decoder.FitKalman(ctx, train, decoder.KalmanOptions{})
	if err != nil {
		b.Fatal(err)
	}
	steady, err := decoder.FitKalman(ctx, train, decoder.KalmanOptions{SteadyState: true})
	if err != nil {
		b.Fatal(err)
	}
	wiener, err := decoder.FitWiener(ctx, train, decoder.WienerOptions{Lags: 5, Ridge: 1})
	if err != nil {
		b.Fatal(err)
	}
	for _, d := range []struct {
		name string
		dec  decoder.Decoder
	}{{"kalman", kalman}, {"kalman-steady", steady}, {"wiener-5lags", wiener}} {
		b.Run(d.name, func(b *testing.B) {
			out := make([]float32, d.dec.Outputs())
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				d.dec.Step(test.X[i%len(test.X)], out)
				i++
			}
		})
	}
}
