package placement

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/internal/testkit"
)

// TestResumeWaitsForTheLastBins: when a session is taken over, its last
// intent can be in the recording before the previous owner's recorder has
// got the last bins acknowledged. The takeover waits for them, so the
// decoder's state after the catch-up is the one the previous owner had,
// to the bit.
func TestResumeWaitsForTheLastBins(t *testing.T) {
	ctx := context.Background()
	nc := testkit.Connect(t, testkit.Server(t, bus.ServerOptions{}).ClientURL())
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	model := testkit.Kalman(t, acquire.SimConfig{Seed: 1, Bins: 2000})
	sim, err := acquire.NewSimulator(acquire.SimConfig{Seed: 2, PopulationSeed: 1, Bins: 200})
	require.NoError(t, err)
	const session, last = "takeover", 59
	_, err = bus.EnsureStream(ctx, js, session, bus.SessionInfo{Shape: sim.Shape()}, 1)
	require.NoError(t, err)

	bins := make([]acquire.Bin, last+2)
	for i := range bins {
		require.NoError(t, sim.ReadBin(ctx, &bins[i]))
		bins[i].Features = append([]float32(nil), bins[i].Features...)
	}
	publish := func(subject string, data []byte) {
		_, err := js.Publish(ctx, subject, data)
		require.NoError(t, err)
	}
	for seq := range uint64(last + 1) {
		if seq < last-2 {
			publish(bus.BinsSubject(session), acquire.AppendBinMessage(nil, &bins[seq]))
		}
		in, err := json.Marshal(decoder.Intent{Seq: seq})
		require.NoError(t, err)
		publish(bus.IntentSubject(session), in)
	}
	late := make(chan struct{})
	go func() { // the previous owner's recorder, catching up
		defer close(late)
		time.Sleep(300 * time.Millisecond)
		for seq := last - 2; seq <= last; seq++ {
			publish(bus.BinsSubject(session), acquire.AppendBinMessage(nil, &bins[seq]))
		}
	}()

	w := &Worker{js: js, opts: WorkerOptions{LeaseTTL: 2 * time.Second, Log: zerolog.Nop()}}
	clone := func() decoder.Decoder { return model.Decoder.(decoder.Cloner).Clone() }
	resumed := &decoder.Loaded{Decoder: clone(), Hash: model.Hash, Info: model.Info}
	next, err := w.resume(ctx, Spec{Session: session}, resumed)
	<-late
	require.NoError(t, err)
	require.Equal(t, uint64(last+1), next)

	want := clone()
	want.Reset()
	out := make([]float32, want.Outputs())
	for _, b := range bins[:last+1] {
		want.Step(b.Features, out)
	}
	got := make([]float32, want.Outputs())
	want.Step(bins[last+1].Features, out)
	resumed.Step(bins[last+1].Features, got)
	for i := range out {
		require.Equal(t, math.Float32bits(out[i]), math.Float32bits(got[i]), "output %d after the takeover: %v, the previous owner's state gives %v", i, got, out)
	}
}
