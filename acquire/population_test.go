package acquire

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPopulationIsTheSimulators: a Population of the simulator's settings,
// driven by the simulator's hand velocities from the same random stream,
// fires exactly the simulator's spikes, drift included: a closed-loop user
// built on it drives the very neurons a decoder was calibrated on.
func TestPopulationIsTheSimulators(t *testing.T) {
	cfg := SimConfig{Seed: 4, PopulationSeed: 9, Bins: 500, DriftHz: 5}
	sim, err := NewSimulator(cfg)
	require.NoError(t, err)
	pop, err := NewPopulation(cfg)
	require.NoError(t, err)
	assert.Equal(t, sim.Shape().ChannelNames, pop.ChannelNames())
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x7370696b)) // the simulator's spike stream
	var b Bin
	out := make([]float32, pop.Channels())
	for range cfg.Bins {
		require.NoError(t, sim.ReadBin(context.Background(), &b))
		pop.Fire(rng, float64(b.Target[0]), float64(b.Target[1]), out)
		require.Equal(t, b.Features, out, "bin %d", b.Seq)
	}
	assert.Equal(t, pop.base, sim.Population().base, "the same drifted baselines")
}

func TestPopulationShift(t *testing.T) {
	pop, err := NewPopulation(SimConfig{Seed: 2})
	require.NoError(t, err)
	before := append([]float64(nil), pop.base...)
	pop.Shift(rand.New(rand.NewPCG(1, 2)), 20)
	moved := 0
	for i, b := range pop.base {
		assert.GreaterOrEqual(t, b, 0.0, "rates stay non-negative")
		if b != before[i] {
			moved++
		}
	}
	assert.Greater(t, moved, len(before)*3/4)

	_, err = NewPopulation(SimConfig{PeakSpeed: -1})
	assert.Error(t, err)
}
