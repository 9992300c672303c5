package bus_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/frontend"
)

// publishFrames plays a DAQ bridge: it publishes n simulated frames on the
// raw subject, skipping seq skip, with one malformed message, then the end
// marker.
func publishFrames(t *testing.T, nc *nats.Conn, session string, n int, skip uint64, reshape bool) {
	t.Helper()
	sim, err := acquire.NewBroadband(acquire.BroadbandConfig{Seed: 5, Channels: 8})
	require.NoError(t, err)
	var f acquire.Frame
	for i := range n {
		require.NoError(t, sim.ReadFrame(context.Background(), &f))
		if f.Seq == skip {
			continue
		}
		if reshape && i == n/2 {
			f.Channels, f.Data = 4, f.Data[:4*300]
		}
		require.NoError(t, nc.Publish(bus.RawSubject(session), acquire.AppendFrameMessage(nil, &f)))
		if i == 10 {
			require.NoError(t, nc.Publish(bus.RawSubject(session), []byte("not a frame")))
		}
		if i%20 == 0 {
			require.NoError(t, nc.Flush())
		}
	}
	end := nats.NewMsg(bus.RawSubject(session))
	end.Header.Set(bus.HeaderEnd, "1")
	require.NoError(t, nc.PublishMsg(end))
	require.NoError(t, nc.Flush())
}

// waitForListener returns once something subscribes to subject: before,
// a request fails at once with no responders; after, it times out (the raw
// source never replies, and counts the probe as a bad message).
func waitForListener(t *testing.T, nc *nats.Conn, subject string) {
	for range 500 {
		_, err := nc.Request(subject, []byte("probe"), 20*time.Millisecond)
		if errors.Is(err, nats.ErrTimeout) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Error("nobody subscribed to " + subject)
}

func TestRawSourceIngestsFrames(t *testing.T) {
	srv := startServer(t)
	sub, pub := connect(t, srv.ClientURL()), connect(t, srv.ClientURL())
	ctx := context.Background()
	done := make(chan struct{})
	go func() {
		defer close(done)
		waitForListener(t, pub, bus.RawSubject("daq"))
		publishFrames(t, pub, "daq", 200, 50, false)
	}()
	src, err := bus.NewRawSource(ctx, sub, "daq", 0, 5*time.Second)
	require.NoError(t, err)
	defer src.Close()
	assert.Equal(t, acquire.Info{Channels: 8, Rate: 30000, Units: "uV"}, src.Info())
	r, err := frontend.Reader(src, frontend.Options{})
	require.NoError(t, err)
	var b acquire.Bin
	bins := 0
	for {
		err := r.ReadBin(ctx, &b)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		bins++
	}
	<-done
	assert.Equal(t, 99, bins, "199 frames of 10 ms make 99 whole 20 ms bins")
	assert.Equal(t, uint64(1), src.Missing(), "the skipped frame")
	assert.Equal(t, uint64(2), src.Bad(), "the probe and the malformed message")
	assert.Zero(t, src.Dropped())
}

func TestRawSourceRejectsShapeChange(t *testing.T) {
	srv := startServer(t)
	sub, pub := connect(t, srv.ClientURL()), connect(t, srv.ClientURL())
	go func() {
		waitForListener(t, pub, bus.RawSubject("shape"))
		publishFrames(t, pub, "shape", 20, 1000, true)
	}()
	src, err := bus.NewRawSource(context.Background(), sub, "shape", 0, 5*time.Second)
	require.NoError(t, err)
	defer src.Close()
	var f acquire.Frame
	var last error
	for range 25 {
		if last = src.ReadFrame(context.Background(), &f); last != nil {
			break
		}
	}
	require.ErrorIs(t, last, bus.ErrRawShape)
	assert.Contains(t, last.Error(), "frame 10 has 4 channels")

	_, err = bus.NewRawSource(context.Background(), sub, "silent", 0, 200*time.Millisecond)
	assert.ErrorContains(t, err, "no frame on bci.silent.raw within 200ms")
}
