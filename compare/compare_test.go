package compare_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/compare"
	"github.com/bci-decode/bci-decode/dataset"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/internal/testkit"
)

func TestRunMeasuresEveryKind(t *testing.T) {
	set := testkit.VelocitySet(t, acquire.SimConfig{Seed: 3, Bins: 4000})
	train, test := set.SplitByTime(0.2)
	var seen []string
	res, err := compare.Run(context.Background(), train, test, compare.Options{
		Kinds: []string{"kalman", "wiener"}, OnRow: func(r compare.Row) { seen = append(seen, r.Name) },
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"kalman", "wiener"}, seen)
	require.Len(t, res.Rows, 2)
	for _, r := range res.Rows {
		assert.Greater(t, r.R2, 0.5, r.Name)
		assert.Len(t, r.R2PerDim, 2)
		assert.Positive(t, r.Params, r.Name)
		assert.Positive(t, r.FootprintBytes, r.Name)
		assert.Positive(t, r.MACs, r.Name)
		assert.Zero(t, r.ACs, "%s has no spikes", r.Name)
		assert.Nil(t, r.ActivationSparsity)
		assert.InDelta(t, r.MACs*4.6/1000, r.EnergyNJ, 1e-9, "4.6 pJ per multiply-accumulate")
		assert.Positive(t, r.StepP99US)
		assert.Len(t, res.Predictions[r.Name], test.Len())
	}
	assert.Contains(t, res.Rows[1].Details, "lags", "the Wiener filter says which history it chose")
	var buf bytes.Buffer
	require.NoError(t, res.WriteTable(&buf))
	assert.Contains(t, buf.String(), "kalman")
	assert.Contains(t, buf.String(), "MAC/step")

	_, err = compare.Run(context.Background(), train, test, compare.Options{Kinds: []string{"nope"}})
	assert.ErrorIs(t, err, decoder.ErrUnknownKind)
}

func TestHoldOut(t *testing.T) {
	trials := &dataset.Set{}
	for tr := range 10 {
		for range 5 {
			trials.X = append(trials.X, []float32{0})
			trials.Y = append(trials.Y, []float32{0})
			trials.Trial = append(trials.Trial, tr)
		}
	}
	train, test, split := compare.HoldOut(trials, 5)
	assert.Equal(t, 40, train.Len())
	assert.Equal(t, 10, test.Len())
	assert.Equal(t, "every 5-th trial held out", split)

	one := &dataset.Set{X: trials.X, Y: trials.Y, Trial: make([]int, len(trials.X))}
	train, test, split = compare.HoldOut(one, 5)
	assert.Equal(t, 40, train.Len())
	assert.Equal(t, 10, test.Len())
	assert.Equal(t, "the last 1/5 of the time range held out", split)
}

func TestRunOverSeeds(t *testing.T) {
	set := testkit.VelocitySet(t, acquire.SimConfig{Seed: 3, Bins: 3000})
	train, test := set.SplitByTime(0.2)
	fit := decoder.FitOptions{Seed: 4, Epochs: 2, Tuning: map[string]any{"snn": decoder.SNNOptions{Hidden: []int{8}}}}
	res, err := compare.Run(context.Background(), train, test, compare.Options{Kinds: []string{"kalman", "lif"}, Fit: fit, Seeds: 3})
	require.NoError(t, err)
	kalman, lif := res.Rows[0], res.Rows[1]
	for _, r := range res.Rows {
		require.Len(t, r.R2Seeds, 3, r.Name)
		mean := (r.R2Seeds[0] + r.R2Seeds[1] + r.R2Seeds[2]) / 3
		assert.InDelta(t, mean, r.R2, 1e-12, "%s: R² is the mean over seeds", r.Name)
		assert.NotZero(t, r.R2SeedAverage, r.Name)
	}
	assert.True(t, decoder.SeedFree("kalman"))
	assert.False(t, decoder.SeedFree("lif"))
	assert.Zero(t, kalman.R2SD, "a Kalman fit does not depend on the seed")
	assert.Equal(t, kalman.R2, kalman.R2SeedAverage)
	assert.Positive(t, lif.R2SD, "networks from different seeds score differently")
	assert.Contains(t, res.Verdict, "over 3 seeds")

	one, err := compare.Run(context.Background(), train, test, compare.Options{Kinds: []string{"lif"}, Fit: fit})
	require.NoError(t, err)
	assert.InDelta(t, lif.R2Seeds[0], one.Rows[0].R2, 1e-12, "the first seed is Fit.Seed")
	assert.Nil(t, one.Rows[0].R2Seeds)

	var buf bytes.Buffer
	require.NoError(t, res.WriteTable(&buf))
	assert.Contains(t, buf.String(), "R² (3 seeds)")
	assert.Contains(t, buf.String(), res.Verdict)
}
