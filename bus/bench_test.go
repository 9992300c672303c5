package bus_test

import (
	"context"
	"testing"

	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
)

// BenchmarkPublish measures publishing intents to an embedded server. With
// lossless back-pressure each Consume waits for room, so ns/op is the
// publishing goroutine's cost per intent (JSON, headers, nats.go buffer);
// the decoding loop's own share, Consume, allocates nothing (see
// TestConsumeDoesNotAllocate).
func BenchmarkPublish(b *testing.B) {
	srv := startServer(b)
	nc := connect(b, srv.ClientURL())
	b.Run("intent", func(b *testing.B) {
		pub, err := bus.NewPublisher(nc, bus.PublisherOptions{Session: "bench", Lossless: true, StatusInterval: -1})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		if err := pub.Start(ctx); err != nil {
			b.Fatal(err)
		}
		in := decoder.Intent{Kind: decoder.KindVelocity, Values: []float32{1.25, -3.5}, Model: "0123456789abcdef", Status: decoder.StatusOK}
		b.ReportAllocs()
		for b.Loop() {
			in.Seq++
			pub.Consume(&in, nil)
		}
		b.StopTimer()
		if err := pub.Close(ctx); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(pub.Summary().Dropped)/float64(b.N), "dropped/op")
	})
}
