package replay

import (
	"context"
	"fmt"
	"time"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/pipeline"
)

// Options configures Run.
type Options struct {
	// Output must equal the live run's output options for a bit-identical
	// replay.
	Output decoder.OutputOptions
	// Follow gives the model that decoded each bin live (by seq), read from
	// the recorded intents; Run swaps models where the live run did. Nil
	// decodes every bin with the initial model.
	Follow map[uint64]string
	// Models resolves a model hash named in Follow.
	Models func(ctx context.Context, hash string) (*decoder.Loaded, error)
	// Sinks receive every replayed intent, after Run's own collector.
	Sinks []pipeline.Sink
}

// Result is what a replay produced.
type Result struct {
	Intents []decoder.Intent
	// Targets holds each bin's recorded targets, aligned with Intents.
	Targets [][]float32
	Stats   pipeline.Stats
	// Elapsed is the wall time of the replay.
	Elapsed time.Duration
}

// collector keeps a copy of every intent and its bin's targets.
type collector struct{ res *Result }

func (c collector) Consume(in *decoder.Intent, b *acquire.Bin) {
	var cp decoder.Intent
	cp.CopyFrom(in)
	c.res.Intents = append(c.res.Intents, cp)
	c.res.Targets = append(c.res.Targets, append([]float32(nil), b.Target...))
}

// follower swaps the pipeline's model where the live run swapped, before
// the bin that the new model decoded live.
type follower struct {
	src    pipeline.BinReader
	p      *pipeline.Pipeline
	follow map[uint64]string
	models func(ctx context.Context, hash string) (*decoder.Loaded, error)
	cur    string
}

func (f *follower) Shape() acquire.Shape { return f.src.Shape() }

func (f *follower) ReadBin(ctx context.Context, b *acquire.Bin) error {
	if err := f.src.ReadBin(ctx, b); err != nil {
		return err
	}
	want, ok := f.follow[b.Seq]
	if !ok || want == f.cur {
		return nil
	}
	m, err := f.models(ctx, want)
	if err != nil {
		return fmt.Errorf("bin %d was decoded live by model %.12s: %w", b.Seq, want, err)
	}
	if err := f.p.Swap(m); err != nil {
		return fmt.Errorf("bin %d: %w", b.Seq, err)
	}
	f.cur = want
	return nil
}

// Run decodes src with the live pipeline loop, as fast as src delivers,
// starting from a fresh copy of model.
func Run(ctx context.Context, src pipeline.BinReader, model *decoder.Loaded, opts Options) (*Result, error) {
	res := &Result{}
	sinks := append([]pipeline.Sink{collector{res}}, opts.Sinks...)
	var reader pipeline.BinReader = src
	f := &follower{src: src, follow: opts.Follow, models: opts.Models, cur: model.Hash}
	if opts.Follow != nil {
		if opts.Models == nil {
			return nil, fmt.Errorf("replay: following live swaps needs a model store")
		}
		reader = f
	}
	model.Reset()
	p, err := pipeline.New(reader, model, pipeline.Options{Output: opts.Output}, sinks...)
	if err != nil {
		return nil, err
	}
	f.p = p
	start := time.Now()
	err = p.Run(ctx)
	res.Elapsed = time.Since(start)
	res.Stats = p.Stats()
	if err != nil {
		return res, fmt.Errorf("replay: %w", err)
	}
	return res, nil
}
