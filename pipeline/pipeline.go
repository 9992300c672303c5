// Package pipeline wires the stages of bci-decode into one loop: read a bin,
// sanitise it, step the decoder, shape the intent and hand it to the sinks.
// Live decoding and replay both run this loop, so replay is the live code
// path rather than a copy of it.
//
// The loop runs on the caller's goroutine and allocates nothing per bin in
// steady state: every buffer is sized at construction from the source's
// channel count and the decoder's outputs.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync/atomic"
	"time"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/internal/rtsched"
)

// BinReader is the pipeline's source of bins: the signal chain for
// continuous sources, or a binned source read directly.
type BinReader interface {
	// Shape describes every bin the reader delivers.
	Shape() acquire.Shape
	// ReadBin fills b with the next bin, reusing its slices, and returns
	// io.EOF at the end of the stream.
	ReadBin(ctx context.Context, b *acquire.Bin) error
}

// Sink receives every decoded intent with the bin it came from. Consume runs
// on the decoding goroutine: it must return quickly, never block on I/O, and
// copy whatever it keeps, since both arguments are reused for the next bin.
type Sink interface {
	Consume(in *decoder.Intent, b *acquire.Bin)
}

// Options configures a Pipeline.
type Options struct {
	// Output shapes decoder outputs into intents.
	Output decoder.OutputOptions
	// Now returns the current time in Unix nanoseconds (default
	// time.Now().UnixNano()); replay sets it to reproduce decode times.
	Now func() int64
	// Process and Takeover are stamped on every intent (see
	// decoder.Intent).
	Process  string
	Takeover bool
	// Priority, when set, runs the loop's OS thread in the real-time
	// scheduling class at this SCHED_FIFO priority (see rtsched), so that
	// nothing else on the machine delays a bin that falls due.
	Priority int
}

// Stats counts what the loop has done. Fields are updated atomically and may
// be read from any goroutine through Pipeline.Stats.
type Stats struct {
	Bins uint64 `json:"bins"`
	// BadFeatures counts non-finite feature values replaced by 0.
	BadFeatures uint64 `json:"bad_features"`
	// Faults counts decoder outputs that were not finite (published as
	// halted intents with zero values).
	Faults uint64 `json:"faults"`
	// Swaps counts decoder swaps that took effect.
	Swaps uint64 `json:"swaps"`
}

// model is a decoder with the content hash of the model it came from.
type model struct {
	dec  decoder.Decoder
	hash string
	kind string
}

// Pipeline is one decoding loop. Run it once; Swap and Stats may be called
// from other goroutines while it runs.
type Pipeline struct {
	src   BinReader
	shape acquire.Shape
	sinks []Sink
	opts  Options
	out   *decoder.Output

	cur     model
	live    atomic.Pointer[model] // cur, for readers on other goroutines
	pending atomic.Pointer[model]

	bin    acquire.Bin
	intent decoder.Intent
	raw    []float32
	step   time.Duration // of the last bin's decoder step

	bins, badFeatures, swaps atomic.Uint64
	paused                   atomic.Bool
}

// EnsureDefaults fills the zero fields of o with their defaults.
func (o *Options) EnsureDefaults() {
	if o.Now == nil {
		o.Now = func() int64 { return time.Now().UnixNano() }
	}
	o.Output.EnsureDefaults()
}

// New builds a pipeline decoding src's bins with m. This is where a
// decoder meets a stream, so this is where their shapes are checked: the
// features per bin and the bin width.
func New(src BinReader, m *decoder.Loaded, opts Options, sinks ...Sink) (*Pipeline, error) {
	shape := src.Shape()
	if err := m.Fits(shape); err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	opts.EnsureDefaults()
	cur := model{dec: m.Decoder, hash: m.Hash, kind: m.Kind()}
	p := &Pipeline{
		src:   src,
		shape: shape,
		sinks: sinks,
		opts:  opts,
		out:   decoder.NewOutput(m.Outputs(), opts.Output),
		cur:   cur,
		raw:   make([]float32, m.Outputs()),
	}
	p.live.Store(&cur)
	p.bin.Features = make([]float32, 0, shape.Channels)
	p.bin.Target = make([]float32, 0, len(shape.Targets))
	p.intent.Values = make([]float32, 0, m.Outputs())
	p.intent.Process, p.intent.Takeover = opts.Process, opts.Takeover
	return p, nil
}

// Shape describes the bins the pipeline decodes.
func (p *Pipeline) Shape() acquire.Shape { return p.shape }

// AddSink makes s receive every intent after the sinks already there. It
// must be called before Run.
func (p *Pipeline) AddSink(s Sink) { p.sinks = append(p.sinks, s) }

// Swap replaces the decoder at the next bin boundary: the bin being decoded
// finishes on the old model, the next one starts on the new. The new model
// must fit the stream and produce as many outputs as the old one.
func (p *Pipeline) Swap(m *decoder.Loaded) error {
	if err := m.Fits(p.shape); err != nil {
		return fmt.Errorf("pipeline: swap: %w", err)
	}
	if m.Outputs() != p.cur.dec.Outputs() {
		return fmt.Errorf("pipeline: swap to a model with %d outputs on a stream decoded into %d: %w", m.Outputs(), p.cur.dec.Outputs(), decoder.ErrShape)
	}
	p.pending.Store(&model{dec: m.Decoder, hash: m.Hash, kind: m.Kind()})
	return nil
}

// SetPaused pauses or resumes the output: while paused every bin is still
// decoded (so the decoder's state stays current and nothing is skipped), but
// its intent carries zero values and StatusHalted.
func (p *Pipeline) SetPaused(paused bool) { p.paused.Store(paused) }

// Paused reports whether the output is paused.
func (p *Pipeline) Paused() bool { return p.paused.Load() }

// Model returns the content hash and kind of the model decoding now (or
// from the next bin, when a swap is pending).
func (p *Pipeline) Model() (hash, kind string) {
	m := p.pending.Load()
	if m == nil {
		m = p.live.Load()
	}
	return m.hash, m.kind
}

// Decoder returns the decoder decoding now. It is for sinks, which run on
// the decoding goroutine; other goroutines must not step or inspect it.
func (p *Pipeline) Decoder() decoder.Decoder { return p.cur.dec }

// LastStep is how long the decoder took to step the bin being handed to
// the sinks. Like Decoder, it is for sinks, on the decoding goroutine.
func (p *Pipeline) LastStep() time.Duration { return p.step }

// Stats returns the loop's counters.
func (p *Pipeline) Stats() Stats {
	return Stats{Bins: p.bins.Load(), BadFeatures: p.badFeatures.Load(), Faults: p.out.Faults(), Swaps: p.swaps.Load()}
}

// Run decodes bins until the source ends (it then returns nil), ctx is
// done, or the source fails.
func (p *Pipeline) Run(ctx context.Context) error {
	if p.opts.Priority > 0 {
		restore, err := rtsched.Raise(p.opts.Priority)
		if err != nil {
			return fmt.Errorf("pipeline: %w", err)
		}
		defer restore()
	}
	for {
		err := p.Step(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Step reads and decodes one bin. It returns io.EOF at the end of the
// source.
func (p *Pipeline) Step(ctx context.Context) error {
	if err := p.src.ReadBin(ctx, &p.bin); err != nil {
		return err
	}
	if len(p.bin.Features) != p.shape.Channels {
		return fmt.Errorf("pipeline: bin %d has %d features, the stream %d: %w", p.bin.Seq, len(p.bin.Features), p.shape.Channels, decoder.ErrShape)
	}
	if m := p.pending.Load(); m != nil {
		// Publish the new model before clearing pending, so Model never
		// reports the old one after a swap was accepted.
		p.cur = *m
		p.live.Store(m)
		p.pending.CompareAndSwap(m, nil)
		p.swaps.Add(1)
	}
	p.sanitise()
	t0 := time.Now()
	p.cur.dec.Step(p.bin.Features, p.raw)
	p.step = time.Since(t0)
	in := &p.intent
	in.Seq = p.bin.Seq
	in.SampleTime = p.bin.End
	in.Model = p.cur.hash
	if !p.out.Fill(in, p.raw, p.bin.Width(), p.paused.Load()) {
		// A decoder that produced NaN has poisoned state; start it afresh.
		p.cur.dec.Reset()
	}
	in.DecodeTime = p.opts.Now()
	for _, s := range p.sinks {
		s.Consume(in, &p.bin)
	}
	p.bins.Add(1)
	return nil
}

// sanitise replaces non-finite features by 0 so they never reach decoder
// state, and counts them.
func (p *Pipeline) sanitise() {
	bad := 0
	for i, v := range p.bin.Features {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			p.bin.Features[i] = 0
			bad++
		}
	}
	if bad > 0 {
		p.badFeatures.Add(uint64(bad))
	}
}
