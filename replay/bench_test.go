package replay_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/internal/testkit"
	"github.com/bci-decode/bci-decode/replay"
	"github.com/bci-decode/bci-decode/session"
)

// recordSession records bins simulated 20 ms bins, decoded by a Kalman
// filter into an embedded server and returns a JetStream handle to it.
func recordSession(tb testing.TB, name string, bins int) (jetstream.JetStream, *decoder.Loaded) {
	tb.Helper()
	nc := testkit.Connect(tb, testkit.Server(tb, bus.ServerOptions{}).ClientURL())
	model := testkit.Kalman(tb, acquire.SimConfig{Seed: 1, Bins: 3000})
	sim, _ := acquire.NewSimulator(acquire.SimConfig{Seed: 2, Bins: bins})
	_, err := session.Run(context.Background(), session.Options{
		Session: name, Conn: nc, Source: sim,
		Model: model, Record: true,
	})
	if err != nil {
		tb.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	return js, model
}

// BenchmarkReplay replays a recorded 96-channel session of 20 ms bins from
// JetStream through the pipeline; speed_x is how many times faster than
// real time (the budget is 1000x).
func BenchmarkReplay(b *testing.B) {
	const bins = 20000 // 400 s of recording
	js, model := recordSession(b, "bench", bins)
	ctx := context.Background()
	var elapsed time.Duration
	b.ReportAllocs()
	for b.Loop() {
		src, err := replay.Open(ctx, js, "bench", replay.Range{})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		res, err := replay.Run(ctx, src, model, replay.Options{})
		elapsed += time.Since(start)
		src.Close()
		if err != nil {
			b.Fatal(err)
		}
		if res.Stats.Bins != bins {
			b.Fatalf("replayed %d bins, want %d", res.Stats.Bins, bins)
		}
	}
	perRun := elapsed.Seconds() / float64(b.N)
	b.ReportMetric(bins*0.02/perRun, "speed_x")
	b.ReportMetric(bins/perRun, "bins/s")
}
