package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/decoder"
)

func TestEvalOnSimulator(t *testing.T) {
	plot := filepath.Join(t.TempDir(), "eval.png")
	code, stdout, stderr := cli(t, "eval", "--source", "sim", "--seed", "3", "--sim-minutes", "1", "--hidden", "16",
		"--epochs", "2", "--decoders", "hifi,lif,kalman", "--json", "--plot", plot)
	require.Equal(t, 0, code, stderr)
	var res struct {
		TestBins int `json:"test_bins"`
		Decoders []struct {
			Name     string   `json:"name"`
			R2       float64  `json:"r2"`
			P99      float64  `json:"step_p99_us"`
			Energy   float64  `json:"energy_nj_per_step"`
			Spikes   *float64 `json:"spikes_per_step"`
			R2PerDim []float64
		} `json:"decoders"`
	}
	lastJSON(t, stdout, &res)
	require.Len(t, res.Decoders, 3)
	assert.InDelta(t, 600, res.TestBins, 150, "about the last 20% of 3000 bins, cut at a trial boundary")
	for _, d := range res.Decoders {
		assert.Positive(t, d.P99, d.Name)
		assert.Positive(t, d.Energy, d.Name)
		assert.Equal(t, d.Name != "kalman", d.Spikes != nil, d.Name)
	}
	assert.Greater(t, res.Decoders[2].R2, 0.5, "kalman on the simulator")
	st, err := os.Stat(plot)
	require.NoError(t, err)
	assert.Positive(t, st.Size())
}

func TestEvalRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"eval", "--decoders", "nope"},
		{"eval", "--source", "tape"},
		{"eval", "--source", "data"},
		{"eval", "--data", "x.csv", "--test-every", "1"},
	} {
		code, _, _ := cli(t, args...)
		assert.Equal(t, 2, code, "%v", args)
	}
}

func TestTrainSpikingDecoderWritesLoadableModel(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "sim.bcr")
	code, _, stderr := cli(t, "simulate", "--out", rec, "--duration", "40s", "--seed", "2")
	require.Equal(t, 0, code, stderr)
	model := filepath.Join(dir, "hifi.bcim")
	code, stdout, stderr := cli(t, "train", "--decoder", "hifi", "--data", rec, "--out", model, "--epochs", "2", "--json")
	require.Equal(t, 0, code, stderr)
	var res struct {
		R2 *float64 `json:"r2"`
	}
	lastJSON(t, stdout, &res)
	require.NotNil(t, res.R2)
	l, err := decoder.Load(model)
	require.NoError(t, err)
	assert.Equal(t, "hifi", l.Kind())
}

func TestEvalOverSeeds(t *testing.T) {
	code, stdout, stderr := cli(t, "eval", "--source", "sim", "--seed", "3", "--sim-minutes", "1", "--hidden", "8",
		"--epochs", "1", "--decoders", "lif,kalman", "--seeds", "2", "--json")
	require.Equal(t, 0, code, stderr)
	var res struct {
		Decoders []struct {
			Name    string    `json:"name"`
			R2      float64   `json:"r2"`
			R2Seeds []float64 `json:"r2_seeds"`
		} `json:"decoders"`
		Verdict string `json:"verdict"`
	}
	lastJSON(t, stdout, &res)
	require.Len(t, res.Decoders, 2)
	for _, d := range res.Decoders {
		require.Len(t, d.R2Seeds, 2, d.Name)
		assert.InDelta(t, (d.R2Seeds[0]+d.R2Seeds[1])/2, d.R2, 1e-9, d.Name)
	}
	assert.Contains(t, res.Verdict, "over 2 seeds")
	assert.Contains(t, stdout, "R² (2 seeds)")

	code, _, _ = cli(t, "eval", "--seeds", "0")
	assert.Equal(t, 2, code, "--seeds 0 is refused")
}
