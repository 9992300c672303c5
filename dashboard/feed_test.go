package dashboard_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/dashboard"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/encoder"
	"github.com/bci-decode/bci-decode/frontend"
	"github.com/bci-decode/bci-decode/internal/testkit"
	"github.com/bci-decode/bci-decode/pipeline"
	"github.com/bci-decode/bci-decode/session"
	"github.com/bci-decode/bci-decode/snn"
)

// feedMessage is a telemetry message as the page reads it.
type feedMessage struct {
	Session  string   `json:"session"`
	BinUS    int64    `json:"bin_us"`
	Channels int      `json:"channels"`
	Targets  []string `json:"targets"`
	Lost     uint64   `json:"lost"`
	Skipped  uint64   `json:"skipped"`
	Neurons  *struct {
		Kind    string                  `json:"kind"`
		Members int                     `json:"members"`
		Sizes   []int                   `json:"sizes"`
		Names   []string                `json:"names"`
		Params  map[string][]snn.Spread `json:"params"`
	} `json:"neurons"`
	Bins []struct {
		Seq         uint64    `json:"seq"`
		End         int64     `json:"end"`
		StepNS      int64     `json:"step_ns"`
		Spikes      *uint64   `json:"spikes"`
		LayerSpikes []uint64  `json:"layer_spikes"`
		EnergyNJ    *float64  `json:"energy_nj"`
		Features    []float32 `json:"features"`
		Target      []float32 `json:"target"`
		Noise       []float32 `json:"noise_uv"`
		Thr         []float32 `json:"threshold_uv"`
	} `json:"bins"`
}

// collect subscribes to a session's feed.
func collect(t *testing.T, nc *nats.Conn, session string) chan feedMessage {
	t.Helper()
	out := make(chan feedMessage, 1024)
	sub, err := nc.Subscribe(bus.TelemetrySubject(session), func(m *nats.Msg) {
		var f feedMessage
		if assert.NoError(t, json.Unmarshal(m.Data, &f), "%s", m.Data) {
			out <- f
		}
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return out
}

// TestFeedCarriesEveryBin decodes a simulated recording through a
// pipeline with the feed as a sink and checks that the messages carry
// every bin, its features and true targets, and the decoder's step time.
func TestFeedCarriesEveryBin(t *testing.T) {
	nc := testkit.Connect(t, testkit.Server(t, bus.ServerOptions{}).ClientURL())
	msgs := collect(t, nc, "feed")
	const bins = 300
	sim, err := acquire.NewSimulator(acquire.SimConfig{Seed: 3, PopulationSeed: 1, Bins: bins})
	require.NoError(t, err)
	want, err := acquire.NewSimulator(acquire.SimConfig{Seed: 3, PopulationSeed: 1, Bins: bins})
	require.NoError(t, err)
	model := testkit.Kalman(t, acquire.SimConfig{Seed: 1, Bins: 1000})
	p, err := pipeline.New(sim, model, pipeline.Options{})
	require.NoError(t, err)
	// A buffer for every bin: the pipeline runs as fast as it can here.
	f, err := dashboard.NewFeed(nc, p, dashboard.FeedOptions{Session: "feed", Shape: sim.Shape(), Buffer: bins, MaxPerMessage: bins, Period: 10 * time.Millisecond})
	require.NoError(t, err)
	p.AddSink(f)
	ctx := context.Background()
	require.NoError(t, f.Start(ctx))
	require.NoError(t, p.Run(ctx))
	require.NoError(t, f.Close(ctx))
	require.NoError(t, nc.Flush())

	var b acquire.Bin
	seen := 0
	for seen < bins {
		var m feedMessage
		select {
		case m = <-msgs:
		case <-time.After(10 * time.Second):
			t.Fatalf("%d bins of %d reached the feed's subscriber", seen, bins)
		}
		assert.Equal(t, "feed", m.Session)
		assert.Equal(t, int64(20_000), m.BinUS)
		assert.Equal(t, 96, m.Channels)
		assert.Contains(t, m.Targets, "vel_x")
		for _, got := range m.Bins {
			require.NoError(t, want.ReadBin(ctx, &b))
			require.Equal(t, b.Seq, got.Seq, "in order, none missing")
			assert.Equal(t, b.End, got.End)
			assert.InDeltaSlice(t, b.Features, got.Features, 1e-3*maxAbs(b.Features)+1e-6)
			assert.InDeltaSlice(t, b.Target, got.Target, 1e-3*maxAbs(b.Target)+1e-6)
			assert.Positive(t, got.StepNS)
			assert.Nil(t, got.Spikes, "a Kalman filter has no spikes")
			seen++
		}
	}
	assert.Equal(t, dashboard.FeedStats{Bins: bins, Messages: f.Stats().Messages}, f.Stats())
}

func maxAbs(v []float32) float64 {
	m := 0.0
	for _, x := range v {
		m = max(m, float64(max(x, -x)))
	}
	return m
}

// TestFeedCountsSpikes: with a spiking network decoding, each bin carries
// the spikes (per layer) and synaptic energy of its own step, which add up
// to the network's totals; the first message describes the network's
// neurons, each parameter's spread in each layer.
func TestFeedCountsSpikes(t *testing.T) {
	nc := testkit.Connect(t, testkit.Server(t, bus.ServerOptions{}).ClientURL())
	msgs := collect(t, nc, "spiking")
	set := testkit.VelocitySet(t, acquire.SimConfig{Seed: 1, Bins: 600})
	d, _, err := decoder.FitSNN(context.Background(), set, decoder.SNNOptions{Hidden: []int{16, 8}, Seed: 1, Train: snn.TrainOptions{Epochs: 1}})
	require.NoError(t, err)
	model := testkit.Loaded(t, d, decoder.ModelInfo{Targets: set.TargetNames, BinWidthNS: int64(set.BinWidth)})
	const bins = 100
	sim, err := acquire.NewSimulator(acquire.SimConfig{Seed: 2, PopulationSeed: 1, Bins: bins})
	require.NoError(t, err)
	p, err := pipeline.New(sim, model, pipeline.Options{})
	require.NoError(t, err)
	f, err := dashboard.NewFeed(nc, p, dashboard.FeedOptions{Session: "spiking", Shape: sim.Shape(), Buffer: bins, MaxPerMessage: bins})
	require.NoError(t, err)
	p.AddSink(f)
	d.ResetActivity()
	ctx := context.Background()
	require.NoError(t, f.Start(ctx))
	require.NoError(t, p.Run(ctx))
	require.NoError(t, f.Close(ctx))
	require.NoError(t, nc.Flush())

	var spikes uint64
	var layers [2]uint64
	var energy float64
	for n := 0; n < bins; {
		select {
		case m := <-msgs:
			if n == 0 {
				checkNeurons(t, m, d.Model())
			}
			for _, b := range m.Bins {
				require.NotNil(t, b.Spikes)
				require.NotNil(t, b.EnergyNJ)
				require.Len(t, b.LayerSpikes, 2)
				assert.Equal(t, *b.Spikes, b.LayerSpikes[0]+b.LayerSpikes[1], "the layers' spikes add up to the step's")
				spikes += *b.Spikes
				layers[0] += b.LayerSpikes[0]
				layers[1] += b.LayerSpikes[1]
				energy += *b.EnergyNJ
				n++
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%d bins of %d reached the subscriber", n, bins)
		}
	}
	a := d.Activity()
	assert.Equal(t, a.Spikes, spikes)
	assert.Equal(t, a.LayerSpikes[:2], layers[:])
	assert.Positive(t, layers[0])
	assert.Positive(t, layers[1])
	assert.InEpsilon(t, a.EnergyPerStepNJ()*float64(a.Steps), energy, 0.01)
}

// TestFeedCountsOnlyTheBinAfterASwap: a network swapped in after it has
// decoded elsewhere (a promoted shadow) counts its spikes from its own
// start. The first bin it decodes live carries no count rather than all
// those spikes as one step's; from the next bin on, each carries its own.
// A fresh network's first bin is counted, with two network steps per bin
// as with one.
func TestFeedCountsOnlyTheBinAfterASwap(t *testing.T) {
	nc := testkit.Connect(t, testkit.Server(t, bus.ServerOptions{}).ClientURL())
	msgs := collect(t, nc, "swap")
	set := testkit.VelocitySet(t, acquire.SimConfig{Seed: 1, Bins: 600})
	info := decoder.ModelInfo{Targets: set.TargetNames, BinWidthNS: int64(set.BinWidth)}
	var models [2]*decoder.Loaded
	var nets [2]*decoder.SNN
	for i := range models {
		d, _, err := decoder.FitSNN(context.Background(), set, decoder.SNNOptions{Hidden: []int{16}, Seed: uint64(i + 1), Substeps: 2 - i, Train: snn.TrainOptions{Epochs: 1}})
		require.NoError(t, err)
		nets[i], models[i] = d, testkit.Loaded(t, d, info)
	}
	const before, after = 10, 10
	sim, err := acquire.NewSimulator(acquire.SimConfig{Seed: 2, PopulationSeed: 1, Bins: before + after})
	require.NoError(t, err)
	p, err := pipeline.New(sim, models[0], pipeline.Options{})
	require.NoError(t, err)
	f, err := dashboard.NewFeed(nc, p, dashboard.FeedOptions{Session: "swap", Shape: sim.Shape(), Buffer: 64, MaxPerMessage: 64})
	require.NoError(t, err)
	p.AddSink(f)
	in, out := make([]float32, sim.Shape().Channels), make([]float32, len(set.TargetNames))
	for range 50 { // the second network decodes elsewhere first
		nets[1].Step(in, out)
	}
	ctx := context.Background()
	require.NoError(t, f.Start(ctx))
	var atSwap snn.Activity
	for i := range before + after {
		if i == before {
			require.NoError(t, p.Swap(models[1]))
		}
		require.NoError(t, p.Step(ctx))
		if i == before {
			atSwap = nets[1].Activity()
		}
	}
	require.NoError(t, f.Close(ctx))
	require.NoError(t, nc.Flush())

	var spikes uint64
	for n := 0; n < before+after; {
		select {
		case m := <-msgs:
			for _, b := range m.Bins {
				switch {
				case b.Seq == 0:
					assert.NotNil(t, b.Spikes, "the first bin of a fresh network with two steps per bin")
				case b.Seq == before:
					assert.Nil(t, b.Spikes, "the first bin after the swap")
				case b.Seq > before:
					require.NotNil(t, b.Spikes, "bin %d", b.Seq)
					spikes += *b.Spikes
				}
				n++
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%d bins of %d reached the subscriber", n, before+after)
		}
	}
	assert.Equal(t, uint64(50+1), atSwap.Steps, "the swapped-in network had decoded before")
	assert.Equal(t, nets[1].Activity().Spikes-atSwap.Spikes, spikes, "the bins after the first carry the network's spikes since")
}

// checkNeurons checks a message's description of m's neurons against m.
func checkNeurons(t *testing.T, msg feedMessage, m *snn.Model) {
	t.Helper()
	require.NotNil(t, msg.Neurons, "the first message describes the network")
	nv := msg.Neurons
	assert.Equal(t, string(m.Cfg.Kind), nv.Kind)
	assert.Equal(t, 1, nv.Members)
	assert.Equal(t, m.Cfg.Hidden, nv.Sizes)
	assert.Equal(t, snn.ParamNames[:], nv.Names)
	for p, name := range snn.ParamNames {
		require.Len(t, nv.Params[name], m.Layers(), name)
		for l, sp := range nv.Params[name] {
			assert.Equal(t, m.Spread(l, snn.Param(p)), sp, "%s, layer %d", name, l)
			n := 0
			for _, c := range sp.Hist {
				n += c
			}
			assert.Equal(t, m.Cfg.Hidden[l], n, "every neuron of layer %d in the %s histogram", l, name)
		}
	}
}

// TestFeedNeverWaitsNorAllocates: the decoding goroutine's side of the
// feed allocates nothing, and a full ring loses bins (counted) rather than
// making the loop wait.
func TestFeedNeverWaitsNorAllocates(t *testing.T) {
	nc := testkit.Connect(t, testkit.Server(t, bus.ServerOptions{}).ClientURL())
	shape := acquire.Shape{Channels: 96, BinWidth: 20 * time.Millisecond, Targets: []string{"vel_x", "vel_y"}}
	chain, err := encoder.NewEncoder(96, 30000, encoder.Options{})
	require.NoError(t, err)
	f, err := dashboard.NewFeed(nc, nil, dashboard.FeedOptions{Session: "alloc", Shape: shape, Buffer: 8, Period: time.Hour, Chain: chain, ChainEvery: 1})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, f.Start(ctx))
	bin := acquire.Bin{Features: make([]float32, 96), Target: []float32{1, 2}}
	in := decoder.Intent{Values: []float32{0, 0}}
	allocs := testing.AllocsPerRun(1000, func() {
		bin.Seq++
		f.Consume(&in, &bin)
	})
	assert.Zero(t, allocs)
	spiking := spikingTimer(t)
	g, err := dashboard.NewFeed(nc, spiking, dashboard.FeedOptions{Session: "alloc", Shape: spiking.shape, Buffer: 8, Period: time.Hour})
	require.NoError(t, err)
	require.NoError(t, g.Start(ctx))
	out := make([]float32, 2)
	sbin := acquire.Bin{Features: make([]float32, spiking.shape.Channels), Target: []float32{1, 2}}
	g.Consume(&in, &sbin) // the first bin of a network describes it
	allocs = testing.AllocsPerRun(1000, func() {
		sbin.Seq++
		spiking.d.Step(sbin.Features, out)
		g.Consume(&in, &sbin)
	})
	assert.Zero(t, allocs, "counting spikes per layer and watching for another network")
	require.NoError(t, g.Close(context.Background()))
	cancel() // the hard stop: nothing more is published
	require.NoError(t, f.Close(context.Background()))
	st := f.Stats()
	assert.Positive(t, st.Lost+st.Skipped, "a feed that cannot keep up loses bins and counts them")
}

// TestFeedCarriesTheSignalChain: for a continuous source, the session's
// feed (built by the plug-in) carries the spike detector's noise estimates
// and thresholds every 25 bins, zero until calibration ends, then the
// thresholds at -K·σ.
func TestFeedCarriesTheSignalChain(t *testing.T) {
	nc := testkit.Connect(t, testkit.Server(t, bus.ServerOptions{}).ClientURL())
	msgs := collect(t, nc, "chain")
	sim, err := acquire.NewBroadband(acquire.BroadbandConfig{Seed: 4, Channels: 8, Duration: 2 * time.Second})
	require.NoError(t, err)
	r, err := frontend.Reader(sim, frontend.Options{})
	require.NoError(t, err)
	m := testkit.Kalman(t, acquire.SimConfig{Seed: 1, Channels: 8, Bins: 2000})
	_, err = session.Run(context.Background(), session.Options{Session: "chain", Conn: nc, Source: r, Model: m, Outputs: pluginOutputs(t, "--telemetry")})
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	var zero, calibrated int
	for done := false; !done; {
		select {
		case msg := <-msgs:
			for _, b := range msg.Bins {
				if b.Noise == nil {
					continue
				}
				assert.Zero(t, b.Seq%25, "every 25 bins")
				require.Len(t, b.Noise, 8)
				require.Len(t, b.Thr, 8)
				if b.Noise[0] == 0 {
					zero++
					continue
				}
				calibrated++
				for c := range b.Noise {
					assert.Positive(t, b.Noise[c])
					assert.InEpsilon(t, -4.5*b.Noise[c], b.Thr[c], 0.01, "channel %d", c)
				}
			}
		case <-time.After(2 * time.Second):
			done = true
		}
	}
	assert.Positive(t, zero, "before calibration ends")
	assert.Positive(t, calibrated, "after")
}

// stepTimer is the pipeline's side of a StepTimer, for a decoder stepped
// by the test itself.
type stepTimer struct {
	d     *decoder.SNN
	shape acquire.Shape
}

func (s stepTimer) LastStep() time.Duration  { return time.Microsecond }
func (s stepTimer) Decoder() decoder.Decoder { return s.d }

func spikingTimer(t *testing.T) stepTimer {
	set := testkit.VelocitySet(t, acquire.SimConfig{Seed: 1, Bins: 300})
	d, _, err := decoder.FitSNN(context.Background(), set, decoder.SNNOptions{Hidden: []int{16, 8}, Seed: 1, Train: snn.TrainOptions{Epochs: 1}})
	require.NoError(t, err)
	return stepTimer{d: d, shape: acquire.Shape{Channels: set.Inputs(), BinWidth: set.BinWidth, Targets: set.TargetNames}}
}
