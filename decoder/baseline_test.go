package decoder_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/eval"
)

func TestBaselinesOnSimulator(t *testing.T) {
	ctx := context.Background()
	train := simSet(t, 1, 15000) // 5 minutes of 20 ms bins
	test := simSet(t, 2, 3000)   // 1 minute, new trials, same neurons
	wiener, err := decoder.FitWiener(ctx, train, decoder.WienerOptions{})
	require.NoError(t, err)
	kalman, err := decoder.FitKalman(ctx, train, decoder.KalmanOptions{})
	require.NoError(t, err)
	steady, err := decoder.FitKalman(ctx, train, decoder.KalmanOptions{SteadyState: true})
	require.NoError(t, err)
	tests := []struct {
		name  string
		d     decoder.Decoder
		minR2 float64
	}{
		{"wiener", wiener, 0.5},
		{"kalman", kalman, 0.6},
		{"kalman-steady", steady, 0.6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := eval.Score(decoder.Predict(tc.d, test), test.Y)
			t.Logf("%s: R2 %v (mean %.3f), r %v", tc.name, sc.R2, sc.MeanR2(), sc.R)
			assert.GreaterOrEqual(t, sc.MeanR2(), tc.minR2)
		})
	}
}
