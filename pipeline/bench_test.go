package pipeline_test

import (
	"context"
	"testing"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/pipeline"
)

// BenchmarkPipelineStep measures one bin through the loop: the simulator's
// bin, sanitising, a Kalman step, the output stage and a sink.
func BenchmarkPipelineStep(b *testing.B) {
	sim, err := acquire.NewSimulator(acquire.SimConfig{Seed: 5})
	if err != nil {
		b.Fatal(err)
	}
	p, err := pipeline.New(sim, fitKalman(b, 96, "h"), pipeline.Options{}, &discard{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Step(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
