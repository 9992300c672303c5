package decoder_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/dataset"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/eval"
	"github.com/bci-decode/bci-decode/internal/shareddata"
	"github.com/bci-decode/bci-decode/snn"
)

// TestHIFIOnChewieBeatsRidgeReference trains a HIFI decoder on the real
// macaque M1 recording with every 5th trial held out, and requires it to
// beat the ridge-regression reference of the issue (velocity R² 0.635).
func TestHIFIOnChewieBeatsRidgeReference(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("trains on the real recording (skipped in -short and -race runs)")
	}
	path := shareddata.Path(t, "data", "chewie_m1", "chewie_20131003_bin100ms_all.csv")
	tab, err := acquire.OpenTable(path, acquire.TableOptions{})
	require.NoError(t, err)
	defer tab.Close()
	set, err := dataset.Read(context.Background(), tab)
	require.NoError(t, err)
	set, err = set.SelectTargets("vel_x", "vel_y")
	require.NoError(t, err)
	train, test := set.SplitByTrial(5)
	d, _, err := decoder.FitSNN(context.Background(), train, decoder.SNNOptions{Kind: snn.HIFI, Seed: 1, Train: snn.TrainOptions{Seed: 1, Epochs: 40}})
	require.NoError(t, err)
	r2 := eval.Score(decoder.Predict(d, test), test.Y).MeanR2()
	t.Logf("HIFI velocity R² on held-out trials: %.3f", r2)
	require.Greater(t, r2, 0.635)
}
