package decoder_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/snn"
)

// TestSNNEnsembleAndSubsteps trains an ensemble of three HIFI networks
// stepped twice per bin: its output is the mean of its members', it saves,
// loads, clones and checkpoints bit for bit, its step does not allocate,
// and its cost is the members' together.
func TestSNNEnsembleAndSubsteps(t *testing.T) {
	train, test := simSet(t, 1, 1500), simSet(t, 2, 200)
	opts := decoder.SNNOptions{Hidden: []int{16}, Seed: 1, Substeps: 2, Train: snn.TrainOptions{Epochs: 2, Seed: 1}}
	single, _, err := decoder.FitSNN(context.Background(), train, opts)
	require.NoError(t, err)
	opts.Ensemble = 3
	ens, _, err := decoder.FitSNN(context.Background(), train, opts)
	require.NoError(t, err)
	require.Equal(t, 3, ens.Members())
	assert.Equal(t, 2, ens.Substeps())
	assert.Equal(t, 3, ens.Training().Members)
	// members are the single networks of seeds 1, 1+stride, 1+2·stride
	const stride = 0x9e3779b9
	mean := decoder.Predict(single, test)
	for k := uint64(1); k < 3; k++ {
		o := opts
		o.Ensemble, o.Seed, o.Train.Seed = 1, 1+k*stride, 1+k*stride
		m, _, err := decoder.FitSNN(context.Background(), train, o)
		require.NoError(t, err)
		for i, p := range decoder.Predict(m, test) {
			for j := range p {
				mean[i][j] += p[j]
			}
		}
	}
	for i := range mean {
		for j := range mean[i] {
			mean[i][j] *= 1 / float32(3)
		}
	}
	assert.Equal(t, mean, decoder.Predict(ens, test), "the ensemble's output is its members' mean")

	b, _, err := decoder.Encode(ens, decoder.ModelInfo{})
	require.NoError(t, err)
	l, err := decoder.Decode(b)
	require.NoError(t, err)
	want := decoder.Predict(ens, test)
	assert.Equal(t, want, decoder.Predict(l.Decoder, test), "bit-identical after a round trip")
	assert.Equal(t, want, decoder.Predict(ens.Clone(), test))

	// a checkpoint taken mid-stream resumes exactly
	c := ens.Clone().(*decoder.SNN)
	out, a, bb := make([]float32, 2), make([]float32, 2), make([]float32, 2)
	for i := range 20 {
		c.Step(test.X[i], out)
	}
	state := c.AppendState(nil)
	r := ens.Clone().(*decoder.SNN)
	require.NoError(t, r.RestoreState(state))
	for i := 20; i < 40; i++ {
		c.Step(test.X[i], a)
		r.Step(test.X[i], bb)
		require.Equal(t, a, bb)
	}
	require.Error(t, r.RestoreState(state[:len(state)-3]))
	require.Error(t, single.RestoreState(state), "a single network refuses an ensemble's checkpoint")

	ens.ResetCost()
	i := 0
	assert.Zero(t, testing.AllocsPerRun(100, func() { ens.Step(test.X[i%test.Len()], out); i++ }))
	single.ResetCost()
	decoder.Predict(single, test)
	ens.ResetCost()
	decoder.Predict(ens, test)
	sc, ec := single.Cost(), ens.Cost()
	assert.Equal(t, 3*sc.Params, ec.Params)
	assert.Equal(t, 3*sc.DenseMACs, ec.DenseMACs)
	assert.Greater(t, ec.ACs+ec.MACs, 2*(sc.ACs+sc.MACs))

	_, _, err = decoder.FitSNN(context.Background(), train, decoder.SNNOptions{Ensemble: -1})
	require.Error(t, err)
}
