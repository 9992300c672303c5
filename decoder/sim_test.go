package decoder_test

import (
	"testing"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/dataset"
	"github.com/bci-decode/bci-decode/internal/testkit"
)

// simSet simulates bins of the default task and keeps the velocity targets.
func simSet(t testing.TB, seed uint64, bins int) *dataset.Set {
	return testkit.VelocitySet(t, acquire.SimConfig{Seed: seed, PopulationSeed: 7, Bins: bins})
}
