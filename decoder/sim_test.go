package decoder_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/dataset"
)

// simSet simulates bins of the default task and keeps the velocity targets.
func simSet(t testing.TB, seed uint64, bins int) *dataset.Set {
	t.Helper()
	sim, err := acquire.NewSimulator(acquire.SimConfig{Seed: seed, PopulationSeed: 7, Bins: bins})
	require.NoError(t, err)
	s, err := dataset.Read(sim)
	require.NoError(t, err)
	s, err = s.SelectTargets("vel_x", "vel_y")
	require.NoError(t, err)
	return s
}
