package closedloop_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/closedloop"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/internal/testkit"
	"github.com/bci-decode/bci-decode/session"
)

// conn starts an embedded server for the test and connects to it.
func conn(t testing.TB) *nats.Conn {
	t.Helper()
	srv := testkit.Server(t, bus.ServerOptions{})
	return testkit.Connect(t, srv.ClientURL())
}

// calibrate fits kind on the default open-loop block of seed.
func calibrate(t testing.TB, kind string, seed uint64, d time.Duration, shuffle bool) *closedloop.Calibrated {
	t.Helper()
	c, err := closedloop.Calibrate(context.Background(), closedloop.CalibrationOptions{
		Sim: acquire.SimConfig{Seed: seed, PopulationSeed: 1}, Duration: d, Kind: kind, Shuffle: shuffle,
		Fit: decoder.FitOptions{Seed: seed}})
	require.NoError(t, err)
	return c
}

// block runs a closed-loop block of n trials with model on session name.
func block(t testing.TB, nc *nats.Conn, name string, model *decoder.Loaded, pop *acquire.Population, seed uint64, n int, mod func(*closedloop.Options)) *closedloop.Result {
	t.Helper()
	o := closedloop.Options{Session: session.Options{Session: name, Conn: nc, Model: model}, Trials: n,
		Task: closedloop.TaskOptions{Seed: seed}, User: closedloop.UserOptions{Population: pop, Seed: seed}}
	if mod != nil {
		mod(&o)
	}
	res, err := closedloop.Run(context.Background(), o)
	require.NoError(t, err)
	return res
}
