package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/replay"
)

// closedLoopSummary is what closedloop prints with --json.
type closedLoopSummary struct {
	Decoder        string   `json:"decoder"`
	Trials         int      `json:"trials"`
	SuccessRate    *float64 `json:"success_rate"`
	Acquisition    *float64 `json:"acquisition_time_s"`
	PathEfficiency *float64 `json:"path_efficiency"`
	DialIn         *float64 `json:"dial_in_s"`
	Throughput     *float64 `json:"throughput_bps"`
}

// TestClosedLoopRecalibrateFromTheCommandLine: a recorded closed-loop
// block, retrained with the inferred intention, and a second block with
// the new model from its file.
func TestClosedLoopRecalibrateFromTheCommandLine(t *testing.T) {
	dir := t.TempDir()
	store, plot, model := filepath.Join(dir, "js"), filepath.Join(dir, "paths.png"), filepath.Join(dir, "refit.bcim")
	bus := []string{"--data-dir", store, "--nats-listen", "127.0.0.1:0"}
	code, out, stderr := cli(t, append([]string{"closedloop", "--trials", "8", "--calibration", "1m", "--record", "--session", "cl1", "--json", "--plot", plot}, bus...)...)
	require.Equal(t, 0, code, stderr)
	var before closedLoopSummary
	lastJSON(t, out, &before)
	assert.Equal(t, "kalman", before.Decoder)
	assert.Equal(t, 8, before.Trials)
	require.NotNil(t, before.SuccessRate)
	require.NotNil(t, before.Acquisition)
	require.NotNil(t, before.PathEfficiency)
	require.NotNil(t, before.DialIn)
	require.NotNil(t, before.Throughput)
	assert.GreaterOrEqual(t, *before.SuccessRate, 0.8)
	st, err := os.Stat(plot)
	require.NoError(t, err)
	assert.Positive(t, st.Size())

	code, out, stderr = cli(t, "retrain", "--session", "cl1", "--decoder", "kalman", "--intention", "--data-dir", store, "--out", model, "--json")
	require.Equal(t, 0, code, stderr)
	var rt replay.Retrained
	lastJSON(t, out, &rt)
	m, err := decoder.Load(model)
	require.NoError(t, err)
	assert.Equal(t, rt.Model, m.Hash)
	assert.Contains(t, m.Info.TrainedOn, "ReFIT")

	code, out, stderr = cli(t, append([]string{"closedloop", "--model", model, "--trials", "8", "--session", "cl2"}, bus...)...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "success 8/8", "the retrained model steers the cursor")

	code, _, stderr = cli(t, append([]string{"closedloop", "--model", model, "--shuffle"}, bus...)...)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "cannot be shuffled")
}

// TestRetrainIntentionNeedsACursor: an open-loop session has no cursor to
// infer an intention from.
func TestRetrainIntentionNeedsACursor(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "js")
	code, _, stderr := cli(t, "demo", "--duration", "2s", "--calibration", "30s", "--record", "--session", "open", "--data-dir", store, "--nats-listen", "127.0.0.1:0")
	require.Equal(t, 0, code, stderr)
	code, _, stderr = cli(t, "retrain", "--session", "open", "--decoder", "kalman", "--intention", "--data-dir", store)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "no cursor states")
}

// TestEvalClosedLoop: eval adds the closed-loop figures of every decoder
// beside its offline R².
func TestEvalClosedLoop(t *testing.T) {
	code, out, stderr := cli(t, "eval", "--source", "sim", "--sim-minutes", "2", "--decoders", "kalman,wiener", "--closed-loop", "4", "--json")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, strings.SplitN(out, "\n", 3)[1], "throughput_bps", "the table has the closed-loop columns")
	var res struct {
		Decoders []struct {
			Name       string             `json:"name"`
			R2         float64            `json:"r2"`
			ClosedLoop map[string]float64 `json:"closed_loop"`
		} `json:"decoders"`
	}
	lastJSON(t, out, &res)
	require.Len(t, res.Decoders, 2)
	for _, d := range res.Decoders {
		assert.Greater(t, d.R2, 0.5, d.Name)
		for _, k := range []string{"success_rate", "acquisition_time_s", "path_efficiency", "dial_in_s", "throughput_bps"} {
			assert.Contains(t, d.ClosedLoop, k, d.Name)
		}
		assert.GreaterOrEqual(t, d.ClosedLoop["success_rate"], 0.75, d.Name)
	}
	code, _, _ = cli(t, "eval", "--data", "x.csv", "--closed-loop", "4")
	assert.Equal(t, 2, code, "closed loop needs the simulator")
}
