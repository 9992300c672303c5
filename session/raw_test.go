package session_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/frontend"
	"github.com/bci-decode/bci-decode/internal/testkit"
	"github.com/bci-decode/bci-decode/session"
)

// TestRecordsRawFrames decodes a continuous source and records its raw
// frames beside the bins; the stored frames equal the source's.
func TestRecordsRawFrames(t *testing.T) {
	nc, js := startServer(t)
	cfg := acquire.BroadbandConfig{Seed: 4, Channels: 8, Duration: 1500 * time.Millisecond}
	sim, err := acquire.NewBroadband(cfg)
	require.NoError(t, err)
	r, err := frontend.Reader(sim, frontend.Options{})
	require.NoError(t, err)
	m := testkit.Kalman(t, acquire.SimConfig{Seed: 1, Channels: 8, Bins: 2000})
	res, err := session.Run(context.Background(), session.Options{
		Session: "raw", Conn: nc, Source: r, Model: m,
		Record: true, Raw: r,
	})
	require.NoError(t, err)
	assert.Equal(t, uint64(75), res.Stats.Bins)
	require.NotNil(t, res.RawRecord)
	assert.Equal(t, uint64(150), res.RawRecord.Recorded, "150 frames of 10 ms")
	assert.Zero(t, res.RawRecord.Gaps)

	ctx := context.Background()
	stream, err := js.Stream(ctx, bus.StreamName("raw"))
	require.NoError(t, err)
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter(bus.RawSubject("raw")))
	require.NoError(t, err)
	assert.Equal(t, uint64(150), info.State.Subjects[bus.RawSubject("raw")])
	first, err := stream.GetMsg(ctx, 1, jetstream.WithGetMsgSubject(bus.RawSubject("raw")))
	require.NoError(t, err)
	var got acquire.Frame
	require.NoError(t, acquire.DecodeFrameMessage(first.Data, &got))
	again, err := acquire.NewBroadband(cfg)
	require.NoError(t, err)
	var want acquire.Frame
	require.NoError(t, again.ReadFrame(context.Background(), &want))
	assert.Equal(t, want, got, "the raw frame, before filtering")
}
