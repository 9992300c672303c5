package shadow_test

import (
	"context"
	"encoding/json"
	"flag"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/internal/testkit"
	"github.com/bci-decode/bci-decode/pipeline"
	"github.com/bci-decode/bci-decode/session"
	"github.com/bci-decode/bci-decode/shadow"
	"github.com/bci-decode/bci-decode/snn"
)

// models fits a Kalman filter and a small HIFI network on the same
// simulated calibration block.
func models(t testing.TB) (kalman, hifi *decoder.Loaded) {
	t.Helper()
	cfg := acquire.SimConfig{Seed: 1, PopulationSeed: 7, Bins: 3000}
	set := testkit.VelocitySet(t, cfg)
	info := decoder.ModelInfo{Targets: set.TargetNames, BinWidthNS: int64(set.BinWidth)}
	k, err := decoder.FitKalman(context.Background(), set, decoder.KalmanOptions{})
	require.NoError(t, err)
	h, _, err := decoder.FitSNN(context.Background(), set, decoder.SNNOptions{Hidden: []int{32}, Seed: 1, Train: snn.TrainOptions{Epochs: 3, Seed: 1}})
	require.NoError(t, err)
	return testkit.Loaded(t, k, info), testkit.Loaded(t, h, info)
}

// collect counts the intents on subject by model hash.
func collect(t *testing.T, nc *nats.Conn, subject string) (counts func() map[string]int) {
	var mu sync.Mutex
	seen := map[string]int{}
	sub, err := nc.Subscribe(subject, func(m *nats.Msg) {
		var in decoder.Intent
		if json.Unmarshal(m.Data, &in) == nil {
			mu.Lock()
			seen[in.Model]++
			mu.Unlock()
		}
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return func() map[string]int {
		require.NoError(t, nc.Flush())
		mu.Lock()
		defer mu.Unlock()
		out := map[string]int{}
		for k, v := range seen {
			out[k] = v
		}
		return out
	}
}

// TestShadowDecodesBesideTheLiveModel runs a session decoded by HIFI with
// a Kalman shadow: every bin's shadow intent goes to the shadow subject and
// none to the live one, and the summary holds both decoders' figures.
func TestShadowDecodesBesideTheLiveModel(t *testing.T) {
	kalman, hifi := models(t)
	nc := testkit.Connect(t, testkit.Server(t, bus.ServerOptions{}).ClientURL())
	live, shadowed := collect(t, nc, bus.IntentSubject("sh")), collect(t, nc, bus.ShadowIntentSubject("sh"))
	sim, err := acquire.NewSimulator(acquire.SimConfig{Seed: 2, PopulationSeed: 7, Bins: 1000})
	require.NoError(t, err)
	res, err := session.Run(context.Background(), session.Options{Session: "sh", Conn: nc, Source: sim, Model: hifi,
		Outputs: []pipeline.Factory{shadow.Factory(kalman)}})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return shadowed()[kalman.Hash] == 1000 && live()[hifi.Hash] == 1000 }, 10*time.Second, 10*time.Millisecond)
	assert.Equal(t, map[string]int{kalman.Hash: 1000}, shadowed(), "the shadow publishes every bin, and only its own intents")
	assert.Equal(t, map[string]int{hifi.Hash: 1000}, live(), "the live subject carries the live model alone")

	rep, ok := res.Headlines["shadow"].(shadow.Report)
	require.True(t, ok, "the summary carries the shadow's report: %#v", res.Outputs)
	assert.Equal(t, uint64(1000), rep.Bins)
	assert.Zero(t, rep.Missed)
	assert.Equal(t, "hifi", rep.Live.Decoder)
	assert.Equal(t, "kalman", rep.Shadow.Decoder)
	require.NotNil(t, rep.Live.R2)
	require.NotNil(t, rep.Shadow.R2)
	assert.InDelta(t, res.Score.R2, *rep.Live.R2, 1e-6, "the shadow scores the live decoder on the same bins as the session")
	assert.Greater(t, *rep.Shadow.R2, 0.5)
	require.NotNil(t, rep.Agreement)
	assert.Greater(t, rep.Agreement.RPerDim[0], 0.5, "two decent decoders of one stream agree")
	require.NotNil(t, rep.Live.SpikesPerStep, "a spiking live decoder reports its spikes")
	assert.Greater(t, *rep.Live.SpikesPerStep, 0.0)
	assert.Nil(t, rep.Shadow.SpikesPerStep)
	require.NotNil(t, rep.Shadow.EnergyNJ)
	assert.Greater(t, rep.Live.StepP50US, 0.0)
	assert.Greater(t, rep.Shadow.StepP50US, 0.0)

	var text strings.Builder
	res.WriteText(&text)
	assert.Contains(t, text.String(), "shadow   kalman")
	assert.Contains(t, text.String(), "live     hifi")
	b, err := json.Marshal(res)
	require.NoError(t, err)
	var j struct {
		Decoder string         `json:"decoder"`
		Shadow  map[string]any `json:"shadow"`
	}
	require.NoError(t, json.Unmarshal(b, &j))
	assert.Equal(t, "hifi", j.Decoder)
	assert.Contains(t, j.Shadow, "live")
	assert.Contains(t, j.Shadow, "agreement")
}

// TestShadowFlag switches a shadow on with --shadow, as run does, and
// refuses a model that does not fit the stream.
func TestShadowFlag(t *testing.T) {
	kalman, hifi := models(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "k.bcim")
	_, err := decoder.Save(path, kalman.Decoder, kalman.Info)
	require.NoError(t, err)
	nc := testkit.Connect(t, testkit.Server(t, bus.ServerOptions{}).ClientURL())
	run := func(args ...string) (session.Result, error) {
		fs := flag.NewFlagSet("run", flag.ContinueOnError)
		f := pipeline.BindFlags(fs).Outputs()
		require.NoError(t, fs.Parse(args))
		sim, err := acquire.NewSimulator(acquire.SimConfig{Seed: 2, PopulationSeed: 7, Bins: 200})
		require.NoError(t, err)
		return session.Run(context.Background(), session.Options{Session: "flag", Conn: nc, Source: sim, Model: hifi, Outputs: f})
	}
	res, err := run("--shadow", path)
	require.NoError(t, err)
	rep, ok := res.Headlines["shadow"].(shadow.Report)
	require.True(t, ok)
	assert.Equal(t, kalman.Hash, rep.Shadow.Model)
	assert.Equal(t, uint64(200), rep.Bins)

	res, err = run()
	require.NoError(t, err)
	assert.NotContains(t, res.Headlines, "shadow", "off without the flag")

	_, err = run("--shadow", filepath.Join(dir, "missing.bcim"))
	require.ErrorContains(t, err, "--shadow")
}

// TestConsumeDoesNotAllocate: what a shadow does on the decoding goroutine
// (note the live step, copy the bin into the ring) allocates nothing, and a
// full ring in a real-time session misses the bin rather than waiting.
func TestConsumeDoesNotAllocate(t *testing.T) {
	kalman, hifi := models(t)
	nc := testkit.Connect(t, testkit.Server(t, bus.ServerOptions{}).ClientURL())
	sim, err := acquire.NewSimulator(acquire.SimConfig{Seed: 2, PopulationSeed: 7})
	require.NoError(t, err)
	p, err := pipeline.New(sim, hifi, pipeline.Options{})
	require.NoError(t, err)
	env := &pipeline.Env{Session: "alloc", Shape: p.Shape(), Model: hifi, Pipeline: p, Realtime: true}
	o, err := shadow.New(env, nc, shadow.Options{Model: kalman, Ring: 300})
	require.NoError(t, err)
	in := decoder.Intent{Values: []float32{1, 2}, Status: decoder.StatusOK}
	b := acquire.Bin{Features: make([]float32, 96), Target: make([]float32, 4), End: int64(20 * time.Millisecond)}
	o.Consume(&in, &b) // the first bin notes the live decoder's cost
	assert.Zero(t, testing.AllocsPerRun(200, func() { o.Consume(&in, &b) }))
	for range 200 { // not started: nothing drains the ring
		o.Consume(&in, &b)
	}
	_, rep := o.Report()
	assert.Equal(t, uint64(1+201+200-300), rep.(shadow.Report).Missed, "AllocsPerRun runs once more than asked")
}

// TestPromoteShadowBySwap swaps a running session to its shadow's model
// hash: the live subject carries the shadow's model from then on, though
// the model was never put in the model store.
func TestPromoteShadowBySwap(t *testing.T) {
	kalman, hifi := models(t)
	nc := testkit.Connect(t, testkit.Server(t, bus.ServerOptions{}).ClientURL())
	live := collect(t, nc, bus.IntentSubject("promo"))
	sim, err := acquire.NewSimulator(acquire.SimConfig{Seed: 2, PopulationSeed: 7, Bins: 150})
	require.NoError(t, err)
	done := make(chan session.Result, 1)
	go func() {
		res, err := session.Run(context.Background(), session.Options{Session: "promo", Conn: nc, Source: acquire.Paced(sim, true), Model: hifi,
			Realtime: true, Control: true, Outputs: []pipeline.Factory{shadow.Factory(kalman)}})
		assert.NoError(t, err)
		done <- res
	}()
	require.Eventually(t, func() bool { return live()[hifi.Hash] > 10 }, 10*time.Second, 10*time.Millisecond)
	var info bus.ControlInfo
	require.NoError(t, bus.Control(context.Background(), nc, "promo", bus.VerbSwap, bus.SwapRequest{Model: kalman.Hash}, &info))
	res := <-done
	assert.Equal(t, uint64(1), res.Stats.Swaps)
	assert.Equal(t, "kalman", res.Decoder)
	// every bin (and any watchdog intent of a stalled machine), once the
	// subscriber has been handed the last of them
	require.Eventually(t, func() bool { seen := live(); return seen[kalman.Hash]+seen[hifi.Hash] >= 150 }, 10*time.Second, 10*time.Millisecond)
	assert.Greater(t, live()[kalman.Hash], 0, "the promoted model publishes on the live subject")
	require.Error(t, bus.Control(context.Background(), nc, "promo", bus.VerbSwap, bus.SwapRequest{Model: "0000"}, &info), "the session has ended")
}
