package decoder_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/dataset"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/snn"
)

// TestSNNValidationSplitFollowsTheData checks that spiking training
// validates on interleaved whole trials when the data has trials, and on
// the end of the session by time when it is continuous, and says which.
func TestSNNValidationSplitFollowsTheData(t *testing.T) {
	trials := simSet(t, 1, 4000)
	require.Greater(t, len(trials.Segments()), 30, "the simulator's reaches are trials")
	continuous := *trials
	continuous.Trial = make([]int, trials.Len())
	for i := range continuous.Trial {
		continuous.Trial[i] = -1
	}
	opts := decoder.SNNOptions{Hidden: []int{8}, Seed: 1, Train: snn.TrainOptions{Epochs: 1, Seed: 1}}
	for _, c := range []struct {
		name  string
		set   *dataset.Set
		force dataset.ValSplit
		want  dataset.ValSplit
	}{
		{"trials", trials, "", dataset.ValTrials},
		{"continuous", &continuous, "", dataset.ValTime},
		{"trials forced by time", trials, dataset.ValTime, dataset.ValTime},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := opts
			o.ValSplit = c.force
			d, _, err := decoder.FitSNN(context.Background(), c.set, o)
			require.NoError(t, err)
			tr := d.Training()
			require.NotNil(t, tr)
			assert.Equal(t, c.want, tr.ValSplit)
			assert.InDelta(t, 0.1, float64(tr.ValBins)/float64(c.set.Len()), 0.03)
		})
	}
	_, _, err := decoder.FitSNN(context.Background(), trials, decoder.SNNOptions{ValSplit: "shuffled"})
	require.Error(t, err)
}
