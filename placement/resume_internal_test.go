package placement

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/internal/testkit"
)

// TestResumeWaitsForTheLastBins: when a session is taken over, its last
// intent can be in the recording before the previous owner's recorder has
// got the last bins acknowledged. While that owner lives, the takeover
// waits for them, so the decoder's state after the catch-up is the one the
// previous owner had, to the bit. A dead owner's missing bins are not
// waited for: the takeover goes on at once, from an approximate state.
func TestResumeWaitsForTheLastBins(t *testing.T) {
	const ttl = 2 * time.Second
	ctx := context.Background()
	nc := testkit.Connect(t, testkit.Server(t, bus.ServerOptions{}).ClientURL())
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	b, err := OpenBuckets(ctx, js, ttl, 1)
	require.NoError(t, err)
	_, err = b.Workers.Put(ctx, "alive", []byte(`{"id":"alive"}`))
	require.NoError(t, err)
	w := &Worker{js: js, b: b, opts: WorkerOptions{ID: "next", LeaseTTL: ttl, Log: zerolog.Nop()}}
	model := testkit.Kalman(t, acquire.SimConfig{Seed: 1, Bins: 2000})
	for _, tc := range []struct {
		owner string
		exact bool
	}{{"alive", true}, {"dead", false}} {
		t.Run(tc.owner, func(t *testing.T) {
			r := recordTakeover(t, js, "takeover-"+tc.owner, tc.owner)
			resumed := &decoder.Loaded{Decoder: clone(model), Hash: model.Hash, Info: model.Info}
			t0 := time.Now()
			next, err := w.resume(ctx, Spec{Session: r.session}, resumed)
			took := time.Since(t0)
			require.NoError(t, err)
			require.NoError(t, <-r.late)
			require.Equal(t, uint64(len(r.bins)-1), next)
			want, got := r.nextOutputs(clone(model), resumed)
			if tc.exact {
				assert.Equal(t, want, got, "outputs after the takeover against the previous owner's state")
				return
			}
			assert.Less(t, took, ttl/2, "no wait for a dead owner's bins")
			assert.NotEqual(t, want, got, "without its last bins the state is approximate")
		})
	}
}

func clone(m *decoder.Loaded) decoder.Decoder { return m.Decoder.(decoder.Cloner).Clone() }

// takeover is a session's recording as a takeover finds it: every intent
// up to the last, and all bins but the last three, which the previous
// owner's recorder sends 300 ms later.
type takeover struct {
	session string
	bins    []acquire.Bin // the recorded ones and one more
	late    chan error    // the late bins' publishing, once done
}

func recordTakeover(t *testing.T, js jetstream.JetStream, session, owner string) *takeover {
	t.Helper()
	ctx := context.Background()
	sim, err := acquire.NewSimulator(acquire.SimConfig{Seed: 2, PopulationSeed: 1, Bins: 200})
	require.NoError(t, err)
	_, err = bus.EnsureStream(ctx, js, session, bus.SessionInfo{Shape: sim.Shape()}, 1)
	require.NoError(t, err)
	r := &takeover{session: session, bins: make([]acquire.Bin, 61), late: make(chan error, 1)}
	for i := range r.bins {
		require.NoError(t, sim.ReadBin(ctx, &r.bins[i]))
		r.bins[i].Features = append([]float32(nil), r.bins[i].Features...)
	}
	last := len(r.bins) - 2
	publishBins := func(from, to int) error {
		for i := from; i < to; i++ {
			if _, err := js.Publish(ctx, bus.BinsSubject(session), acquire.AppendBinMessage(nil, &r.bins[i])); err != nil {
				return err
			}
		}
		return nil
	}
	require.NoError(t, publishBins(0, last-2))
	for seq := range uint64(last + 1) {
		in, err := json.Marshal(decoder.Intent{Seq: seq, Process: owner})
		require.NoError(t, err)
		_, err = js.Publish(ctx, bus.IntentSubject(session), in)
		require.NoError(t, err)
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		r.late <- publishBins(last-2, last+1)
	}()
	return r
}

// nextOutputs steps want through the recorded bins from a reset and then,
// like got, through the one after them; it returns both outputs' bits.
func (r *takeover) nextOutputs(want, got decoder.Decoder) (w, g []uint32) {
	want.Reset()
	out := make([]float32, want.Outputs())
	for _, b := range r.bins[:len(r.bins)-1] {
		want.Step(b.Features, out)
	}
	next := r.bins[len(r.bins)-1].Features
	gout := make([]float32, got.Outputs())
	want.Step(next, out)
	got.Step(next, gout)
	for i := range out {
		w, g = append(w, math.Float32bits(out[i])), append(g, math.Float32bits(gout[i]))
	}
	return w, g
}
