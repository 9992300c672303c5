package decoder_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/eval"
	"github.com/bci-decode/bci-decode/snn"
)

// TestHIFIOnChewieBeatsRidgeReference trains a HIFI decoder on the real
// macaque M1 recording with every 5th trial held out, and requires it to
// beat the ridge-regression reference of the issue (velocity R² 0.635) and
// the Wiener filter whose history and penalty are chosen by validation.
func TestHIFIOnChewieBeatsRidgeReference(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("trains on the real recording (skipped in -short and -race runs)")
	}
	train, test := chewieSplit(t)
	d, _, err := decoder.FitSNN(context.Background(), train, decoder.SNNOptions{Kind: snn.HIFI, Seed: 1, Train: snn.TrainOptions{Seed: 1, Epochs: 40}})
	require.NoError(t, err)
	r2 := eval.Score(decoder.Predict(d, test), test.Y).MeanR2()
	w, err := decoder.FitWiener(context.Background(), train, decoder.WienerOptions{})
	require.NoError(t, err)
	wr2 := eval.Score(decoder.Predict(w, test), test.Y).MeanR2()
	t.Logf("velocity R² on held-out trials: HIFI %.3f, Wiener (%d lags) %.3f", r2, w.Lags(), wr2)
	require.Greater(t, r2, 0.635)
	require.Greater(t, r2, wr2+0.03)
}
