package bus_test

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
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
)

// startServer runs an embedded server for one test.
func startServer(t testing.TB) *bus.Server { return testkit.Server(t, bus.ServerOptions{}) }

func connect(t testing.TB, url string) *nats.Conn { return testkit.Connect(t, url) }

func fitKalman(t testing.TB) *decoder.Loaded {
	return testkit.Kalman(t, acquire.SimConfig{Seed: 1, Bins: 5000})
}

// TestEndToEnd runs the simulator through the pipeline, publishes on an
// embedded server and checks, with a real subscriber, that every intent
// arrives in order with finite values and latency headers.
func TestEndToEnd(t *testing.T) {
	srv := startServer(t)
	const bins = 2000
	sub := connect(t, srv.ClientURL())
	msgs := make(chan *nats.Msg, bins+10)
	s, err := sub.ChanSubscribe(bus.IntentSubject("e2e"), msgs)
	require.NoError(t, err)
	statuses, err := sub.SubscribeSync(bus.StatusSubject("e2e"))
	require.NoError(t, err)
	require.NoError(t, sub.Flush())
	defer s.Unsubscribe()

	pubConn := connect(t, srv.ClientURL())
	sim, err := acquire.NewSimulator(acquire.SimConfig{Seed: 9, Bins: bins})
	require.NoError(t, err)
	var p *pipeline.Pipeline
	pub, err := bus.NewPublisher(pubConn, bus.PublisherOptions{Session: "e2e", Lossless: true, Status: func(st *bus.Status) { s := p.Stats(); st.Pipeline = &s }})
	require.NoError(t, err)
	m := fitKalman(t)
	m.Hash = "model-1"
	p, err = pipeline.New(sim, m, pipeline.Options{}, pub)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, pub.Start(ctx))
	require.NoError(t, p.Run(ctx))
	require.NoError(t, pub.Close(ctx))
	sum := pub.Summary()
	assert.Equal(t, uint64(bins), sum.Published)
	assert.Zero(t, sum.Dropped)

	for i := range bins {
		var m *nats.Msg
		select {
		case m = <-msgs:
		case <-time.After(5 * time.Second):
			t.Fatalf("intent %d did not arrive", i)
		}
		var in decoder.Intent
		require.NoError(t, json.Unmarshal(m.Data, &in), "intent %d: %s", i, m.Data)
		require.Equal(t, uint64(i), in.Seq, "intents arrive in order without gaps")
		assert.Equal(t, strconv.Itoa(i), m.Header.Get(bus.HeaderSeq))
		assert.Equal(t, strconv.FormatInt(in.SampleTime, 10), m.Header.Get(bus.HeaderSampleTime))
		assert.Equal(t, "model-1", in.Model)
		assert.Equal(t, decoder.KindVelocity, in.Kind)
		require.Len(t, in.Values, 2)
		for _, v := range in.Values {
			assert.False(t, math.IsNaN(float64(v)) || math.IsInf(float64(v), 0))
		}
	}
	st, err := statuses.NextMsg(5 * time.Second)
	require.NoError(t, err)
	var status bus.Status
	require.NoError(t, json.Unmarshal(st.Data, &status))
	assert.Equal(t, "e2e", status.Session)
	assert.Equal(t, uint64(bins), status.IntentsPublished)
	require.NotNil(t, status.Pipeline)
	assert.Equal(t, uint64(bins), status.Pipeline.Bins)
}

func TestPublisherDropsWhenFullAndCounts(t *testing.T) {
	srv := startServer(t)
	nc := connect(t, srv.ClientURL())
	pub, err := bus.NewPublisher(nc, bus.PublisherOptions{Session: "drops", Buffer: 8, StatusInterval: -1})
	require.NoError(t, err)
	in := decoder.Intent{Kind: decoder.KindVelocity, Values: []float32{1, 2}, Status: decoder.StatusOK}
	// Not started: nothing drains, so after 8 intents the rest are dropped.
	for i := range 20 {
		in.Seq = uint64(i)
		pub.Consume(&in, nil)
	}
	require.NoError(t, pub.Start(context.Background()))
	require.NoError(t, pub.Close(context.Background()))
	sum := pub.Summary()
	assert.Equal(t, uint64(8), sum.Published)
	assert.Equal(t, uint64(12), sum.Dropped)
}

func TestConsumeDoesNotAllocate(t *testing.T) {
	srv := startServer(t)
	nc := connect(t, srv.ClientURL())
	pub, err := bus.NewPublisher(nc, bus.PublisherOptions{Session: "allocs", StatusInterval: -1})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, pub.Start(ctx))
	in := decoder.Intent{Kind: decoder.KindVelocity, Values: []float32{1, 2}, Model: "m", Status: decoder.StatusOK}
	pub.Consume(&in, nil)
	allocs := testing.AllocsPerRun(1000, func() {
		in.Seq++
		pub.Consume(&in, nil)
	})
	require.NoError(t, pub.Close(ctx))
	assert.Zero(t, allocs)
}

func TestValidateSession(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{{"demo", true}, {"a-b_C9", true}, {"", false}, {"a.b", false}, {"a b", false}, {"*", false}, {">", false}} {
		err := bus.ValidateSession(tc.name)
		if tc.ok {
			assert.NoError(t, err, tc.name)
		} else {
			assert.ErrorIs(t, err, bus.ErrSession, tc.name)
		}
	}
}

func TestConnectUnreachable(t *testing.T) {
	_, err := bus.Connect("nats://127.0.0.1:1", bus.ConnectOptions{Timeout: time.Second})
	require.ErrorIs(t, err, bus.ErrUnreachable)
	assert.Contains(t, err.Error(), "nats://127.0.0.1:1")
}
