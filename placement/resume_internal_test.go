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

// TestResumeFillsTheBinsTheRecordingLacks: a session's previous owner
// published intents up to seq 59 but got bins only up to 56 acknowledged
// before it died (its last bins were in flight). The takeover makes bins
// 57-59 again from the session's simulator: the decoder's state is the
// one the previous owner had, to the bit, and the recording holds every
// bin once, even when some of the old owner's bins arrive after all.
func TestResumeFillsTheBinsTheRecordingLacks(t *testing.T) {
	ctx := context.Background()
	nc := testkit.Connect(t, testkit.Server(t, bus.ServerOptions{}).ClientURL())
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	model := testkit.Kalman(t, acquire.SimConfig{Seed: 1, Bins: 2000})
	spec := Spec{Session: "takeover", Model: model.Hash, Channels: 96, BinWidthNS: 20e6, Seed: 2, PopulationSeed: 1, EpochNS: 1795500000000000000, Replicas: 1}
	sim, err := spec.simulator(0)
	require.NoError(t, err)
	_, err = bus.EnsureStream(ctx, js, spec.Session, bus.SessionInfo{Shape: sim.Shape()}, 1)
	require.NoError(t, err)
	const next, recorded = 60, 57
	bins := make([]acquire.Bin, next+1)
	for i := range bins {
		require.NoError(t, sim.ReadBin(ctx, &bins[i]))
		bins[i].Features = append([]float32(nil), bins[i].Features...)
	}
	w := &Worker{js: js, opts: WorkerOptions{ID: "new", LeaseTTL: 2 * time.Second, Log: zerolog.Nop()}}
	oldOwner := func(seqs ...int) {
		for _, i := range seqs {
			require.NoError(t, w.recordBin(ctx, spec, &bins[i]))
		}
	}
	for i := range recorded {
		oldOwner(i)
	}
	for seq := range uint64(next) {
		in, err := json.Marshal(decoder.Intent{Seq: seq, Process: "old"})
		require.NoError(t, err)
		_, err = js.Publish(ctx, bus.IntentSubject(spec.Session), in)
		require.NoError(t, err)
	}

	resumed := &decoder.Loaded{Decoder: clone(model), Hash: model.Hash, Info: model.Info}
	got, _, err := w.resume(ctx, spec, resumed)
	require.NoError(t, err)
	require.Equal(t, uint64(next), got)
	oldOwner(recorded, next-1) // two of the old owner's bins, late

	want := clone(model)
	want.Reset()
	out := make([]float32, want.Outputs())
	for _, b := range bins[:next] {
		want.Step(b.Features, out)
	}
	gout := make([]float32, want.Outputs())
	want.Step(bins[next].Features, out)
	resumed.Step(bins[next].Features, gout)
	for i := range out {
		assert.Equal(t, math.Float32bits(out[i]), math.Float32bits(gout[i]), "output %d after the takeover: %v, the previous owner's state gives %v", i, gout, out)
	}

	stream, err := js.Stream(ctx, bus.StreamName(spec.Session))
	require.NoError(t, err)
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter(bus.BinsSubject(spec.Session)))
	require.NoError(t, err)
	assert.Equal(t, uint64(next), info.State.Subjects[bus.BinsSubject(spec.Session)], "every bin once")
	have, err := recordedSeqs(ctx, stream, spec.Session, 1, 0, next)
	require.NoError(t, err)
	assert.Len(t, have, next)
	for _, i := range []int{recorded, next - 1} {
		m, err := stream.GetMsg(ctx, seqOf(t, stream, spec.Session, uint64(i)))
		require.NoError(t, err)
		assert.Equal(t, acquire.AppendBinMessage(nil, &bins[i]), m.Data, "bin %d as the previous owner made it", i)
	}
}

func clone(m *decoder.Loaded) decoder.Decoder { return m.Decoder.(decoder.Cloner).Clone() }

// seqOf returns the stream sequence of a session's recorded bin.
func seqOf(t *testing.T, stream jetstream.Stream, session string, bin uint64) uint64 {
	t.Helper()
	r, err := bus.ReadSubject(context.Background(), stream, bus.BinsSubject(session), 1)
	require.NoError(t, err)
	defer r.Close()
	for {
		m, err := r.Next(context.Background())
		require.NoError(t, err, "bin %d is not recorded", bin)
		if seq, ok := acquire.BinMessageSeq(m.Data()); ok && seq == bin {
			meta, err := m.Metadata()
			require.NoError(t, err)
			return meta.Sequence.Stream
		}
	}
}
