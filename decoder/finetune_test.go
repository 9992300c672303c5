package decoder_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/eval"
	"github.com/bci-decode/bci-decode/internal/testkit"
	"github.com/bci-decode/bci-decode/snn"
)

// TestFineTuneStartsFromInit trains a network, then continues from it on
// a little new data: training starts where the first run ended (the first
// epoch's validation is far better than a fresh network's), never ends
// worse on validation than its start, and leaves the original untouched.
// A network of another shape is refused.
func TestFineTuneStartsFromInit(t *testing.T) {
	ctx := context.Background()
	first := fitSmallSNN(t, snn.HIFI)
	test := simSet(t, 2, 1000)
	before := decoder.Predict(first, test)

	small := simSet(t, 3, 1000)
	opts := decoder.SNNOptions{Hidden: []int{24}, Seed: 9, Train: snn.TrainOptions{Epochs: 2, Batch: 4, ValBatch: 4, Warmup: 5, Seed: 9}}
	fresh, freshRep, err := decoder.FitSNN(ctx, small, opts)
	require.NoError(t, err)
	opts.Init = first
	tuned, rep, err := decoder.FitSNN(ctx, small, opts)
	require.NoError(t, err)
	require.NotEmpty(t, rep.Epochs)

	assert.Greater(t, rep.Epochs[0].ValR2, freshRep.Epochs[0].ValR2+0.2, "the first epoch starts from the trained network")
	assert.Greater(t, eval.Score(decoder.Predict(tuned, test), test.Y).MeanR2(), eval.Score(decoder.Predict(fresh, test), test.Y).MeanR2(),
		"fine-tuned beats trained afresh on so little data")
	assert.GreaterOrEqual(t, rep.BestValR2, rep.Epochs[0].ValR2-1e-9, "the kept parameters are the best seen, the start included")
	assert.Equal(t, before, decoder.Predict(first, test), "the network started from is not modified")

	wide := testkit.VelocitySet(t, acquire.SimConfig{Seed: 4, PopulationSeed: 7, Bins: 300, Channels: 48})
	opts.Init = first
	_, _, err = decoder.FitSNN(ctx, wide, opts)
	require.ErrorIs(t, err, decoder.ErrShape)
}
