package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBenchSNNStage(t *testing.T) {
	code, stdout, stderr := cli(t, "bench", "--stage", "snn", "--inputs", "32", "--hidden", "48", "--activity", "0.2", "--steps", "2000", "--json")
	require.Equal(t, 0, code, stderr)
	var res map[string]any
	lastJSON(t, stdout, &res)
	for _, k := range []string{"step_p50_us", "step_p99_us", "allocs_per_step", "dense_ratio_p50", "spikes_per_step"} {
		assert.Contains(t, res, k)
	}
	assert.Zero(t, res["allocs_per_step"])
	assert.Greater(t, res["step_p99_us"], 0.0)
	code, _, _ = cli(t, "bench", "--stage", "snn", "--activity", "2")
	assert.Equal(t, 2, code)
}
