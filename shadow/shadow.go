// Package shadow decodes a live session's bins with a second model beside
// the live one, the safe way to compare and roll out models: the shadow's
// intents go to bci.<session>.shadow.intent, never to the subject a
// controller acts on, and both decoders' live figures (R² against the
// stream's targets, agreement between the two, step latency, spikes and
// energy per step) are reported side by side in status messages and the
// summary. A shadow is promoted by swapping the session to its model
// (bci-decode swap --model-file FILE, or --model HASH).
//
// The shadow never delays the live intent: the session hands it each bin
// after the live intent has gone to the publisher, it copies the bin into
// a ring slot (no allocation, no lock held by anyone else for long) and
// its own goroutine decodes it. When the ring is full the shadow misses
// the bin and counts it; the live decoder never waits.
package shadow

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/nats-io/nats.go"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/eval"
	"github.com/bci-decode/bci-decode/pipeline"
	"github.com/bci-decode/bci-decode/snn"
)

// Options configures a shadow.
type Options struct {
	// Model is the shadow's model (required); it must fit the stream and
	// decode as many outputs as the live model.
	Model *decoder.Loaded
	// Ring is the number of bins that may wait for the shadow (default
	// 256).
	Ring int
}

// EnsureDefaults fills the zero fields of o with their defaults.
func (o *Options) EnsureDefaults() {
	if o.Ring <= 0 {
		o.Ring = 256
	}
}

// Validate reports options that cannot make a shadow.
func (o *Options) Validate() error {
	switch {
	case o.Model == nil:
		return errors.New("shadow: a model is required")
	case o.Ring > 1<<20:
		return fmt.Errorf("shadow: ring of %d bins (at most %d)", o.Ring, 1<<20)
	}
	return nil
}

// slot is one bin waiting for the shadow, with the live decoder's values.
type slot struct {
	seq        uint64
	sampleTime int64
	width      time.Duration
	features   []float32
	truth      []float32 // the bin's targets in output order; nil when unscored
	scored     bool      // truth holds this bin's targets
	live       []float32
	liveOK     bool // the live intent was StatusOK
}

// Output is a shadow decoder fed by a session (a pipeline.Output).
type Output struct {
	env   *pipeline.Env
	model *decoder.Loaded
	spare decoder.Decoder // an untouched copy of the model, for promotion
	out   *decoder.Output
	pub   *bus.Publisher
	idx   []int // stream target of each output; nil when the stream has not all of them

	slots       []slot
	free, ready chan int
	done        chan struct{}
	closeOnce   sync.Once
	raw         []float32
	intent      decoder.Intent

	mu      sync.Mutex // guards everything below, read by Report
	live    side
	shadow  side
	agree   *eval.Live
	decoded uint64
	dropped uint64
	liveDec decoder.Decoder // seen last on the decoding goroutine
}

// side is what one decoder's figures are made from.
type side struct {
	steps *hdrhistogram.Histogram // step durations, ns
	score *eval.Live              // against the stream's targets
	act   *snn.Activity           // a spiking decoder's counts, since base
	base  snn.Activity
	sub   int           // its network steps per bin
	cost  *decoder.Cost // a decoder whose cost does not depend on activity
}

func newSide(dim int) side {
	return side{steps: hdrhistogram.New(1, int64(time.Second), 3), score: eval.NewLive(dim)}
}

// New builds a shadow of the session env describes, publishing on nc.
func New(env *pipeline.Env, nc *nats.Conn, opts Options) (*Output, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	m := opts.Model
	if err := m.Fits(env.Shape); err != nil {
		return nil, fmt.Errorf("shadow: %w", err)
	}
	if env.Model != nil && m.Outputs() != env.Model.Outputs() {
		return nil, fmt.Errorf("shadow: the shadow decodes %d outputs, the live model %d: %w", m.Outputs(), env.Model.Outputs(), decoder.ErrShape)
	}
	pub, err := bus.NewPublisher(nc, bus.PublisherOptions{Session: env.Session, Subject: bus.ShadowIntentSubject(env.Session),
		Lossless: !env.Realtime, StatusInterval: -1, Log: env.Log})
	if err != nil {
		return nil, fmt.Errorf("shadow: %w", err)
	}
	dim := m.Outputs()
	o := &Output{env: env, model: m, out: decoder.NewOutput(dim, env.Output), pub: pub,
		slots: make([]slot, opts.Ring), free: make(chan int, opts.Ring), ready: make(chan int, opts.Ring), done: make(chan struct{}),
		raw: make([]float32, dim), live: newSide(dim), shadow: newSide(dim), agree: eval.NewLive(dim)}
	if idx, ok := env.Shape.TargetIndex(m.Info.Targets); ok && !env.Output.Integrate {
		o.idx = idx
	}
	for i := range o.slots {
		s := &o.slots[i]
		s.features, s.live = make([]float32, 0, env.Shape.Channels), make([]float32, 0, dim)
		if o.idx != nil {
			s.truth = make([]float32, dim)
		}
		o.free <- i
	}
	o.intent.Values = make([]float32, 0, dim)
	o.intent.Model = m.Hash
	if c, ok := m.Decoder.(decoder.Cloner); ok {
		o.spare = c.Clone()
	}
	return o, nil
}

// Promote returns a fresh copy of the shadow's model when hash is its
// content hash (nil otherwise), for the session to swap the live loop to:
// a shadow is promoted by swapping to its hash, whether or not the model
// is in the model store. The shadow goes on decoding its own copy.
func (o *Output) Promote(hash string) *decoder.Loaded {
	if hash != o.model.Hash || o.spare == nil {
		return nil
	}
	m := *o.model
	m.Decoder = o.spare.(decoder.Cloner).Clone()
	return &m
}

// Start implements pipeline.Output: it starts the shadow's publisher and
// decoding goroutine, which stop at Close or when ctx ends.
func (o *Output) Start(ctx context.Context) error {
	if err := o.pub.Start(ctx); err != nil {
		return fmt.Errorf("shadow: %w", err)
	}
	go o.loop(ctx)
	return nil
}

// Close implements pipeline.Output: it decodes the bins still in the ring,
// then closes the publisher.
func (o *Output) Close(ctx context.Context) error {
	o.closeOnce.Do(func() { close(o.ready) })
	select {
	case <-o.done:
	case <-ctx.Done():
		return fmt.Errorf("shadow: %d bins not decoded: %w", len(o.ready), ctx.Err())
	}
	return o.pub.Close(ctx)
}

// Consume implements pipeline.Sink, on the decoding goroutine: it notes the
// live decoder's step and copies the bin into a free slot. When there is
// none, a real-time session's shadow misses the bin (counted); a run that
// goes as fast as possible waits for one.
func (o *Output) Consume(in *decoder.Intent, b *acquire.Bin) {
	o.noteLive()
	var i int
	select {
	case i = <-o.free:
	default:
		if o.env.Realtime {
			o.mu.Lock()
			o.dropped++
			o.mu.Unlock()
			return
		}
		i = <-o.free // as fast as possible: wait rather than lose
	}
	s := &o.slots[i]
	s.seq, s.sampleTime, s.width = in.Seq, in.SampleTime, b.Width()
	s.features = append(s.features[:0], b.Features...)
	s.live = append(s.live[:0], in.Values...)
	s.liveOK = in.Status == decoder.StatusOK
	s.scored = s.truth != nil && len(b.Target) > 0
	if s.scored {
		for k, j := range o.idx {
			s.truth[k] = b.Target[j]
		}
	}
	o.ready <- i
}

// noteLive records the live decoder's step time and activity.
func (o *Output) noteLive() {
	p := o.env.Pipeline
	o.mu.Lock()
	defer o.mu.Unlock()
	_ = o.live.steps.RecordValue(max(p.LastStep().Nanoseconds(), 1))
	d := p.Decoder()
	if d != o.liveDec { // the first bin, or after a swap
		o.liveDec = d
		o.live.reset(d)
	}
	o.live.note(d)
}

// loop decodes the bins of the ring until it is closed and drained, or
// ctx ends.
func (o *Output) loop(ctx context.Context) {
	defer close(o.done)
	o.shadow.reset(o.model.Decoder)
	for {
		select {
		case i, ok := <-o.ready:
			if !ok {
				return
			}
			o.decode(&o.slots[i])
			o.free <- i
		case <-ctx.Done():
			return
		}
	}
}

// decode steps the shadow on one bin, publishes its intent and scores both
// decoders.
func (o *Output) decode(s *slot) {
	o.mu.Lock()
	defer o.mu.Unlock()
	t0 := time.Now()
	o.model.Step(s.features, o.raw)
	_ = o.shadow.steps.RecordValue(max(time.Since(t0).Nanoseconds(), 1))
	in := &o.intent
	in.Seq, in.SampleTime = s.seq, s.sampleTime
	if !o.out.Fill(in, o.raw, s.width, false) {
		o.model.Reset() // non-finite output: start afresh, as the live loop does
	}
	in.DecodeTime = time.Now().UnixNano()
	o.pub.Consume(in, nil)
	o.decoded++
	o.shadow.note(o.model.Decoder)
	ok := in.Status == decoder.StatusOK
	if ok && s.liveOK && len(s.live) == len(in.Values) {
		o.agree.Add(in.Values, s.live)
	}
	if s.scored && s.liveOK {
		o.live.score.Add(s.live, s.truth)
	}
	if s.scored && ok {
		o.shadow.score.Add(in.Values, s.truth)
	}
}

// reset makes the side describe decoder d from now on.
func (sd *side) reset(d decoder.Decoder) {
	sd.act, sd.cost = nil, nil
	if a, ok := d.(activity); ok {
		sd.act, sd.base, sd.sub = new(snn.Activity), a.Activity(), a.Substeps()
		*sd.act = sd.base
		return
	}
	if c, ok := d.(decoder.Coster); ok {
		cost := c.Cost()
		sd.cost = &cost
	}
}

// note copies a spiking decoder's counts; it does not allocate.
func (sd *side) note(d decoder.Decoder) {
	if a, ok := d.(activity); ok && sd.act != nil {
		*sd.act = a.Activity()
	}
}

// activity is a decoder that counts its spikes and synaptic operations.
type activity interface {
	Activity() snn.Activity
	Substeps() int
}
