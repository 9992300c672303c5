package shadow_test

import (
	"context"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/internal/testkit"
	"github.com/bci-decode/bci-decode/pipeline"
	"github.com/bci-decode/bci-decode/shadow"
)

// BenchmarkLiveStep measures one bin of the live loop (the simulator's bin,
// a HIFI step, the output stage, the publisher's hand-off) without a
// shadow and with a Kalman or a HIFI shadow, in a real-time session. On
// the decoding goroutine a shadow only copies the bin into its ring; its
// decoding competes for the cores, which is what the p99 shows. The loop
// runs far faster than real time, so a shadow as slow as the live decoder
// misses bins (missed/op), as it would never do at 50 bins a second.
func BenchmarkLiveStep(b *testing.B) {
	kalman, hifi := models(b)
	nc := testkit.Connect(b, testkit.Server(b, bus.ServerOptions{}).ClientURL())
	for _, c := range []struct {
		name   string
		shadow *decoder.Loaded
	}{{"no-shadow", nil}, {"kalman-shadow", kalman}, {"hifi-shadow", hifi}} {
		b.Run(c.name, func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			sim, err := acquire.NewSimulator(acquire.SimConfig{Seed: 3, PopulationSeed: 7})
			if err != nil {
				b.Fatal(err)
			}
			live := *hifi
			live.Decoder = hifi.Decoder.(decoder.Cloner).Clone()
			p, err := pipeline.New(sim, &live, pipeline.Options{})
			if err != nil {
				b.Fatal(err)
			}
			pub, err := bus.NewPublisher(nc, bus.PublisherOptions{Session: "bench", StatusInterval: -1})
			if err != nil {
				b.Fatal(err)
			}
			outs := []pipeline.Output{pub}
			if c.shadow != nil {
				env := &pipeline.Env{Session: "bench", Shape: p.Shape(), Model: &live, Pipeline: p, Realtime: true, Services: []any{nc}}
				o, err := shadow.Factory(c.shadow)(ctx, env)
				if err != nil {
					b.Fatal(err)
				}
				outs = append(outs, o)
			}
			for _, o := range outs {
				if err := o.Start(ctx); err != nil {
					b.Fatal(err)
				}
				p.AddSink(o)
			}
			hist := hdrhistogram.New(1, int64(time.Second), 3)
			b.ReportAllocs()
			for b.Loop() {
				t0 := time.Now()
				if err := p.Step(ctx); err != nil {
					b.Fatal(err)
				}
				_ = hist.RecordValue(max(time.Since(t0).Nanoseconds(), 1))
			}
			b.StopTimer()
			b.ReportMetric(float64(hist.ValueAtQuantile(99)), "p99-ns")
			for i := len(outs) - 1; i >= 0; i-- {
				_ = outs[i].Close(ctx)
			}
			if len(outs) > 1 {
				_, rep := outs[1].(pipeline.Reporter).Report()
				r := rep.(shadow.Report)
				b.ReportMetric(float64(r.Missed)/float64(r.Missed+r.Bins), "missed/op")
			}
		})
	}
}
