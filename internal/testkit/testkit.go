// Package testkit holds the fixtures that tests across packages share: an
// embedded NATS server on a free loopback port, client connections, and
// decoders fitted on simulated calibration data.
package testkit

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/dataset"
	"github.com/bci-decode/bci-decode/decoder"
)

// Server starts an embedded NATS server (JetStream in a temporary
// directory) on a free loopback port and stops it when the test ends.
func Server(tb testing.TB, opts bus.ServerOptions) *bus.Server {
	tb.Helper()
	opts.Listen = "127.0.0.1:0"
	if opts.DataDir == "" {
		opts.DataDir = tb.TempDir()
	}
	srv, err := bus.StartServer(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return srv
}

// Connect opens a client connection that closes when the test ends.
func Connect(tb testing.TB, url string) *nats.Conn {
	tb.Helper()
	nc, err := bus.Connect(url, bus.ConnectOptions{Name: tb.Name()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	return nc
}

// VelocitySet simulates cfg and keeps the velocity targets.
func VelocitySet(tb testing.TB, cfg acquire.SimConfig) *dataset.Set {
	tb.Helper()
	sim, err := acquire.NewSimulator(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	set, err := dataset.Read(context.Background(), sim)
	if err != nil {
		tb.Fatal(err)
	}
	if set, err = set.SelectTargets("vel_x", "vel_y"); err != nil {
		tb.Fatal(err)
	}
	return set
}

// Kalman fits a Kalman filter on simulated calibration data and returns it
// as a loaded model with its content hash.
func Kalman(tb testing.TB, cfg acquire.SimConfig) *decoder.Loaded {
	tb.Helper()
	set := VelocitySet(tb, cfg)
	k, err := decoder.FitKalman(context.Background(), set, decoder.KalmanOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	return Loaded(tb, k, decoder.ModelInfo{Targets: set.TargetNames, BinWidthNS: int64(set.BinWidth)})
}

// Loaded wraps a fitted decoder with its content hash, as a model file
// would load it.
func Loaded(tb testing.TB, d decoder.Decoder, info decoder.ModelInfo) *decoder.Loaded {
	tb.Helper()
	_, hash, err := decoder.Encode(d, info)
	if err != nil {
		tb.Fatal(err)
	}
	return &decoder.Loaded{Decoder: d, Hash: hash, Info: info}
}
