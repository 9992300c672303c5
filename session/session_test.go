package session_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/internal/testkit"
	"github.com/bci-decode/bci-decode/replay"
	"github.com/bci-decode/bci-decode/session"
)

func startServer(t *testing.T) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc := testkit.Connect(t, testkit.Server(t, bus.ServerOptions{}).ClientURL())
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	return nc, js
}

// model fits a decoder of kind on simulated calibration data, labelled as
// trained on bins of width ns.
func model(t *testing.T, kind string, seed uint64, width time.Duration) *decoder.Loaded {
	t.Helper()
	set := testkit.VelocitySet(t, acquire.SimConfig{Seed: seed, Bins: 3000})
	var d decoder.Decoder
	var err error
	switch kind {
	case "kalman":
		d, err = decoder.FitKalman(context.Background(), set, decoder.KalmanOptions{})
	default:
		d, err = decoder.FitWiener(context.Background(), set, decoder.WienerOptions{Lags: 5, Ridge: 1})
	}
	require.NoError(t, err)
	return testkit.Loaded(t, d, decoder.ModelInfo{Targets: set.TargetNames, BinWidthNS: int64(width)})
}

func simSource(t *testing.T, seed uint64, bins int, paced bool) acquire.BinSource {
	t.Helper()
	cfg := acquire.SimConfig{Seed: seed, Bins: bins}
	if paced {
		cfg.BinWidth = 5 * time.Millisecond
	}
	sim, err := acquire.NewSimulator(cfg)
	require.NoError(t, err)
	if paced {
		return acquire.Paced(sim, true)
	}
	return sim
}

// replaySession replays a recorded session following its live swaps.
func replaySession(t *testing.T, js jetstream.JetStream, name string) (*replay.Result, []decoder.Intent) {
	t.Helper()
	ctx := context.Background()
	live, err := replay.RecordedIntents(ctx, js, name)
	require.NoError(t, err)
	require.NotEmpty(t, live)
	models, err := bus.OpenModels(ctx, js, 1)
	require.NoError(t, err)
	first, err := models.Get(ctx, live[0].Model)
	require.NoError(t, err)
	src, err := replay.Open(ctx, js, name, replay.Range{})
	require.NoError(t, err)
	defer src.Close()
	follow := map[uint64]string{}
	for _, in := range live {
		follow[in.Seq] = in.Model
	}
	res, err := replay.Run(ctx, src, first, replay.Options{
		Output: src.Info().Output, Follow: follow, Models: models.Get,
	})
	require.NoError(t, err)
	return res, live
}

func TestRecordAndReplayBitForBit(t *testing.T) {
	nc, js := startServer(t)
	m := model(t, "kalman", 1, 20e6)
	const bins = 3000
	res, err := session.Run(context.Background(), session.Options{
		Session: "rec", Conn: nc, Source: simSource(t, 2, bins, false),
		Model: m, Record: true,
		Output: decoder.OutputOptions{Limit: 40},
	})
	require.NoError(t, err)
	require.NotNil(t, res.Record)
	assert.Equal(t, uint64(bins), res.Record.Recorded)
	assert.Zero(t, res.Record.Gaps)

	rep, live := replaySession(t, js, "rec")
	require.Len(t, live, bins, "every live intent was recorded")
	diff := replay.Compare(live, rep.Intents)
	assert.True(t, diff.Identical, diff.Mismatch)
	assert.Equal(t, bins, diff.Compared)

	// A second recording under the same name is refused, not mixed in.
	_, err = session.Run(context.Background(), session.Options{
		Session: "rec", Conn: nc, Source: simSource(t, 3, 10, false), Model: m, Record: true,
	})
	assert.ErrorIs(t, err, session.ErrRecorded)
}

func TestSwapMidStream(t *testing.T) {
	nc, js := startServer(t)
	ctx := context.Background()
	a, b := model(t, "kalman", 1, 5e6), model(t, "wiener", 4, 5e6)
	models, err := bus.OpenModels(ctx, js, 1)
	require.NoError(t, err)
	bb, _, err := decoder.Encode(b.Decoder, b.Info)
	require.NoError(t, err)
	hashB, err := models.Put(ctx, bb)
	require.NoError(t, err)
	require.Equal(t, b.Hash, hashB)
	small := model32(t)
	sb, _, err := decoder.Encode(small.Decoder, small.Info)
	require.NoError(t, err)
	hashSmall, err := models.Put(ctx, sb)
	require.NoError(t, err)

	sub, err := nc.SubscribeSync(bus.IntentSubject("swap"))
	require.NoError(t, err)
	const bins = 300 // 1.5 s at 5 ms bins
	var wg sync.WaitGroup
	var res session.Result
	var runErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		res, runErr = session.Run(ctx, session.Options{
			Session: "swap", Conn: nc, Source: simSource(t, 2, bins, true), Realtime: true,
			Model: a, Record: true, Control: true,
		})
	}()
	// wait until decoding is under way
	first, err := sub.NextMsg(5 * time.Second)
	require.NoError(t, err)
	var in decoder.Intent
	require.NoError(t, json.Unmarshal(first.Data, &in))
	assert.Equal(t, a.Hash, in.Model)

	// bad requests change nothing
	var info bus.ControlInfo
	err = bus.Control(ctx, nc, "swap", bus.VerbSwap, bus.SwapRequest{Model: "feedface"}, &info)
	assert.ErrorIs(t, err, bus.ErrControl)
	assert.ErrorContains(t, err, "no such model")
	err = bus.Control(ctx, nc, "swap", bus.VerbSwap, bus.SwapRequest{Model: hashSmall}, &info)
	assert.ErrorContains(t, err, "shape mismatch")
	m, err := nc.Request(bus.ControlSubject("swap", bus.VerbSwap), []byte("{not json"), time.Second)
	require.NoError(t, err)
	assert.Equal(t, "400", m.Header.Get("Nats-Service-Error-Code"))
	require.NoError(t, bus.Control(ctx, nc, "swap", bus.VerbInfo, nil, &info))
	assert.Equal(t, a.Hash, info.Model)

	require.NoError(t, bus.Control(ctx, nc, "swap", bus.VerbSwap, bus.SwapRequest{Model: hashB}, &info))
	assert.Equal(t, hashB, info.Model)
	assert.Equal(t, "wiener", info.Decoder, "info names the kind of the model swapped in")
	require.NoError(t, bus.Control(ctx, nc, "swap", bus.VerbInfo, nil, &info))
	assert.Equal(t, "wiener", info.Decoder)
	wg.Wait()
	require.NoError(t, runErr)
	assert.Equal(t, uint64(1), res.Stats.Swaps)
	assert.Equal(t, "wiener", res.Decoder, "the summary names the kind that decoded last")

	var seqs []uint64
	var modelAt []string
	seqs = append(seqs, in.Seq)
	modelAt = append(modelAt, in.Model)
	for {
		msg, err := sub.NextMsg(500 * time.Millisecond)
		if err != nil {
			break
		}
		var x decoder.Intent
		require.NoError(t, json.Unmarshal(msg.Data, &x))
		seqs = append(seqs, x.Seq)
		modelAt = append(modelAt, x.Model)
	}
	require.Len(t, seqs, bins)
	swapAt := -1
	for i := range seqs {
		require.Equal(t, uint64(i), seqs[i], "consecutive, no duplicate")
		if modelAt[i] == hashB && swapAt < 0 {
			swapAt = i
		}
		if swapAt >= 0 {
			assert.Equal(t, hashB, modelAt[i], "new model from the swap bin onwards")
		} else {
			assert.Equal(t, a.Hash, modelAt[i])
		}
	}
	require.Greater(t, swapAt, 0)
	require.Less(t, swapAt, bins)

	// the replay follows the swap and reproduces the run
	rep, live := replaySession(t, js, "swap")
	diff := replay.Compare(live, rep.Intents)
	assert.True(t, diff.Identical, diff.Mismatch)
}

func model32(t *testing.T) *decoder.Loaded {
	return testkit.Kalman(t, acquire.SimConfig{Seed: 1, Channels: 32, Bins: 1000})
}

func seqOfMsg(p []byte) (uint64, bool) { return acquire.BinMessageSeq(p) }
