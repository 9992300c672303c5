package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/handoff"
	"github.com/bci-decode/bci-decode/snn"
)

// FeedOptions configures a Feed.
type FeedOptions struct {
	// Session names the subject, bci.<session>.telemetry (required).
	Session string
	// Shape is the shape of the session's bins (required).
	Shape acquire.Shape
	// Period is how often the bins gathered so far are published (default
	// 100 ms: ten messages a second whatever the bin rate).
	Period time.Duration
	// Buffer is the number of bins that may wait for the feed's goroutine
	// (default 256).
	Buffer int
	// MaxPerMessage bounds the bins one message carries (default 64, 640
	// bins/s at the default period: every bin of a live stream); bins
	// beyond it, from runs faster than real time, are counted as skipped.
	MaxPerMessage int
	// Chain, when set, is the signal chain of a continuous source: its
	// noise estimates and thresholds go out every ChainEvery bins
	// (default 25, twice a second at 20 ms bins).
	Chain      SignalChain
	ChainEvery int
	// Log receives publish errors.
	Log zerolog.Logger
}

// SignalChain is the state of a continuous source's spike detection, per
// channel; encoder.Encoder is one. It is read on the decoding goroutine,
// which feeds it.
type SignalChain interface {
	// Sigma and Thresholds fill dst with the noise estimates and the
	// crossing thresholds (µV).
	Sigma(dst []float32) []float32
	Thresholds(dst []float32) []float32
}

// EnsureDefaults fills the zero fields of o with their defaults.
func (o *FeedOptions) EnsureDefaults() {
	if o.Period == 0 {
		o.Period = 100 * time.Millisecond
	}
	if o.Buffer == 0 {
		o.Buffer = 256
	}
	if o.MaxPerMessage == 0 {
		o.MaxPerMessage = 64
	}
	if o.ChainEvery == 0 {
		o.ChainEvery = 25
	}
}

// Validate reports options a feed cannot run with.
func (o *FeedOptions) Validate() error {
	if err := bus.ValidateSession(o.Session); err != nil {
		return fmt.Errorf("telemetry feed: %w", err)
	}
	if err := o.Shape.Validate(); err != nil {
		return fmt.Errorf("telemetry feed: %w", err)
	}
	if o.Period < time.Millisecond || o.Buffer < 1 || o.MaxPerMessage < 1 || o.ChainEvery < 1 {
		return fmt.Errorf("telemetry feed: period %v, buffer %d, %d bins per message: want ≥ 1 ms and ≥ 1", o.Period, o.Buffer, o.MaxPerMessage)
	}
	return nil
}

// sample is what the feed keeps of one bin.
type sample struct {
	seq      uint64
	end      int64
	step     time.Duration
	spiking  bool
	spikes   uint64
	energyNJ float64
	// layers and layerSpikes split spikes by layer.
	layers      int
	layerSpikes [snn.MaxLayers]uint64
	// changed marks the first bin of another decoder; model is its
	// networks, nil for a decoder without any.
	changed  bool
	model    networkModel
	features []float32
	target   []float32
	// chain is set on the bins that carry the signal chain's state.
	chain      bool
	noise, thr []float32
}

// StepTimer tells how long the decoder took to step the bin being
// consumed, and which decoder it was; pipeline.Pipeline is one. Both are
// called on the decoding goroutine.
type StepTimer interface {
	LastStep() time.Duration
	Decoder() decoder.Decoder
}

// activityCounter is a decoder that counts its spikes and synaptic
// operations (the spiking network).
type activityCounter interface {
	Activity() snn.Activity
}

// networkModel is a decoder built from spiking networks' trained
// parameters: Model is the first of Members (an ensemble's), whose neuron
// parameters the page draws; each bin takes Substeps network steps.
type networkModel interface {
	Model() *snn.Model
	Members() int
	Substeps() int
}

// neuronsEvery makes every neuronsEvery-th message carry the neuron
// parameters, so a page opened later draws them within a second.
const neuronsEvery = 10

// Feed publishes what the dashboard draws of a session that intents do not
// carry: every bin's features (all channels), the true targets when the
// source knows them, the decoder's step time and, for spiking networks,
// spikes and synaptic energy per step. It is a pipeline.Output: the
// decoding goroutine copies each bin into a preallocated ring (no
// allocation, never a wait: a full ring loses the bin and counts it) and
// the feed's goroutine publishes them in batches on
// bci.<session>.telemetry.
type Feed struct {
	nc    *nats.Conn
	opts  FeedOptions
	timer StepTimer
	q     *handoff.Queue[sample]

	last                    snn.Activity // decoding goroutine's
	model                   networkModel // decoding goroutine's
	bins                    uint64       // decoding goroutine's
	lost, skipped, sent     atomic.Uint64
	batch                   []*sample // owned by the feed's goroutine
	pool                    []sample
	buf, head               []byte
	neurons                 []byte // feed goroutine's: the decoder's neuron parameters, JSON
	neuronsIn               int    // feed goroutine's: messages until neurons go out again
	published, publishError atomic.Uint64
}

// NewFeed prepares a feed; timer, when set, supplies step times and
// spiking activity.
func NewFeed(nc *nats.Conn, timer StepTimer, opts FeedOptions) (*Feed, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	f := &Feed{nc: nc, opts: opts, timer: timer}
	f.q = handoff.New(opts.Buffer, false, handoff.Consumer[sample]{Handle: f.gather, Tick: f.publish, Period: opts.Period, Finish: f.publish})
	f.pool = make([]sample, opts.MaxPerMessage)
	f.batch = make([]*sample, 0, opts.MaxPerMessage)
	for _, set := range [][]sample{f.q.Slots(), f.pool} {
		for i := range set {
			set[i].features = make([]float32, 0, opts.Shape.Channels)
			set[i].target = make([]float32, 0, len(opts.Shape.Targets))
			if opts.Chain != nil {
				set[i].noise = make([]float32, 0, opts.Shape.Channels)
				set[i].thr = make([]float32, 0, opts.Shape.Channels)
			}
		}
	}
	f.head = f.appendHead(nil)
	return f, nil
}

// Consume implements pipeline.Sink, on the decoding goroutine.
func (f *Feed) Consume(_ *decoder.Intent, b *acquire.Bin) {
	s := f.q.Reserve()
	if s == nil {
		f.lost.Add(1)
		return
	}
	s.seq, s.end = b.Seq, b.End
	s.spiking, s.chain = false, false
	s.changed, s.model = false, nil
	s.features = append(s.features[:0], b.Features...)
	s.target = append(s.target[:0], b.Target...)
	if f.opts.Chain != nil && f.bins%uint64(f.opts.ChainEvery) == 0 {
		s.chain = true
		s.noise, s.thr = f.opts.Chain.Sigma(s.noise), f.opts.Chain.Thresholds(s.thr)
	}
	f.bins++
	if f.timer != nil {
		s.step = f.timer.LastStep()
		dec := f.timer.Decoder()
		changed := f.noteModel(s, dec)
		if a, ok := dec.(activityCounter); ok {
			f.countActivity(s, a.Activity(), changed)
		}
	}
	f.q.Commit()
}

// noteModel marks the first bin decoded by another network (or by no
// network), so the feed's goroutine describes its neurons, and reports
// whether this is such a bin; that network's activity counts start afresh.
func (f *Feed) noteModel(s *sample, dec decoder.Decoder) bool {
	nm, _ := dec.(networkModel)
	if sameNetwork(nm, f.model) {
		return false
	}
	f.model, f.last = nm, snn.Activity{}
	s.changed, s.model = true, nm
	return true
}

// sameNetwork compares two decoders' networks by their first member,
// which a swap always replaces (comparing the interfaces themselves could
// panic on a decoder type that is not comparable).
func sameNetwork(a, b networkModel) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Model() == b.Model()
}

// countActivity sets the spikes and energy of the last step from the
// decoder's running counts (which restart after a reset). On the first bin
// of another network the counts are the bin's only if they cover its steps
// alone: a network that decoded before (a promoted shadow, a model swapped
// back in) counts from its own start, so that bin carries no count rather
// than many bins' spikes as one.
func (f *Feed) countActivity(s *sample, a snn.Activity, first bool) {
	d := a.Since(f.last)
	f.last = a
	if first && (f.model == nil || d.Steps != uint64(f.model.Substeps())) {
		return
	}
	s.spiking, s.spikes, s.energyNJ = true, d.Spikes, d.EnergyNJ()
	s.layers, s.layerSpikes = d.Layers, d.LayerSpikes
}

// Start implements pipeline.Output.
func (f *Feed) Start(ctx context.Context) error { return f.q.Start(ctx) }

// Close implements pipeline.Output: it publishes what is gathered.
func (f *Feed) Close(ctx context.Context) error {
	if err := f.q.Close(ctx); err != nil {
		return fmt.Errorf("telemetry feed: %w", err)
	}
	return nil
}

// FeedStats counts what a feed did.
type FeedStats struct {
	// Bins counts the bins published; Lost those the full ring lost;
	// Skipped those beyond MaxPerMessage in one period.
	Bins    uint64 `json:"bins"`
	Lost    uint64 `json:"lost"`
	Skipped uint64 `json:"skipped"`
	// Messages and Errors count the messages published and those that
	// failed.
	Messages uint64 `json:"messages"`
	Errors   uint64 `json:"errors"`
}

// Stats returns the feed's counters.
func (f *Feed) Stats() FeedStats {
	return FeedStats{Bins: f.sent.Load(), Lost: f.lost.Load(), Skipped: f.skipped.Load(), Messages: f.published.Load(), Errors: f.publishError.Load()}
}

// Report implements pipeline.Reporter.
func (f *Feed) Report() (string, any) { return "telemetry", f.Stats() }

// gather keeps a copy of the bin for the next message, on the feed's
// goroutine.
func (f *Feed) gather(s *sample) {
	if s.changed {
		f.neurons, f.neuronsIn = appendNeurons(f.neurons[:0], s.model), 0
	}
	n := len(f.batch)
	if n == len(f.pool) {
		f.skipped.Add(1)
		return
	}
	dst := &f.pool[n]
	features, target, noise, thr := dst.features, dst.target, dst.noise, dst.thr
	*dst = *s
	dst.features = append(features[:0], s.features...)
	dst.target = append(target[:0], s.target...)
	dst.noise = append(noise[:0], s.noise...)
	dst.thr = append(thr[:0], s.thr...)
	f.batch = append(f.batch, dst)
}

// publish sends the gathered bins as one message.
func (f *Feed) publish() {
	if len(f.batch) == 0 {
		return
	}
	f.buf = f.appendMessage(f.buf[:0], f.neuronsDue())
	n := uint64(len(f.batch))
	f.batch = f.batch[:0]
	if err := f.nc.Publish(bus.TelemetrySubject(f.opts.Session), f.buf); err != nil {
		if f.publishError.Add(1) == 1 {
			f.opts.Log.Warn().Err(err).Msg("telemetry feed: publish failed; counting failures")
		}
		return
	}
	f.sent.Add(n)
	f.published.Add(1)
}

// neuronsDue says whether the next message carries the neuron
// parameters, and counts it.
func (f *Feed) neuronsDue() bool {
	if len(f.neurons) == 0 {
		return false
	}
	due := f.neuronsIn == 0
	if due {
		f.neuronsIn = neuronsEvery
	}
	f.neuronsIn--
	return due
}

// appendHead writes what every message repeats: the stream's shape.
func (f *Feed) appendHead(dst []byte) []byte {
	sh := f.opts.Shape
	dst = strconv.AppendQuote(append(dst, `{"session":`...), f.opts.Session)
	dst = strconv.AppendInt(append(dst, `,"bin_us":`...), sh.BinWidth.Microseconds(), 10)
	dst = strconv.AppendInt(append(dst, `,"channels":`...), int64(sh.Channels), 10)
	dst = append(dst, `,"targets":[`...)
	for i, t := range sh.Targets {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendQuote(dst, t)
	}
	return append(dst, ']')
}

// appendMessage writes the message of the gathered bins:
//
//	{"session":..,"bin_us":..,"channels":..,"targets":[..],"lost":..,"skipped":..,"neurons":{..},
//	 "bins":[{"seq":..,"end":..,"step_ns":..,"spikes":..,"layer_spikes":[..],"energy_nj":..,
//	          "features":[..],"target":[..],"noise_uv":[..],"threshold_uv":[..]},..]}
//
// neurons (see appendNeurons, when withNeurons) with the first bins of a
// spiking network and in every neuronsEvery-th message after; spikes, layer_spikes (per hidden
// layer) and energy_nj only for spiking decoders, noise_uv and
// threshold_uv only every ChainEvery bins of a continuous source (0: not
// calibrated yet); numbers with four significant digits, enough for a
// screen.
func (f *Feed) appendMessage(dst []byte, withNeurons bool) []byte {
	dst = append(dst, f.head...)
	dst = strconv.AppendUint(append(dst, `,"lost":`...), f.lost.Load(), 10)
	dst = strconv.AppendUint(append(dst, `,"skipped":`...), f.skipped.Load(), 10)
	if withNeurons {
		dst = append(append(dst, `,"neurons":`...), f.neurons...)
	}
	dst = append(dst, `,"bins":[`...)
	for i, s := range f.batch {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendUint(append(dst, `{"seq":`...), s.seq, 10)
		dst = strconv.AppendInt(append(dst, `,"end":`...), s.end, 10)
		dst = strconv.AppendInt(append(dst, `,"step_ns":`...), s.step.Nanoseconds(), 10)
		if s.spiking {
			dst = strconv.AppendUint(append(dst, `,"spikes":`...), s.spikes, 10)
			dst = append(dst, `,"layer_spikes":[`...)
			for l := range s.layers {
				if l > 0 {
					dst = append(dst, ',')
				}
				dst = strconv.AppendUint(dst, s.layerSpikes[l], 10)
			}
			dst = appendFloat(append(dst, `],"energy_nj":`...), s.energyNJ, 64)
		}
		dst = appendFloats(append(dst, `,"features":`...), s.features)
		dst = appendFloats(append(dst, `,"target":`...), s.target)
		if s.chain {
			dst = appendFloats(append(dst, `,"noise_uv":`...), s.noise)
			dst = appendFloats(append(dst, `,"threshold_uv":`...), s.thr)
		}
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

func appendFloats(dst []byte, v []float32) []byte {
	dst = append(dst, '[')
	for i, x := range v {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendFloat(dst, float64(x), 32)
	}
	return append(dst, ']')
}

// appendFloat writes v with four significant digits, or 0 for a value
// JSON cannot hold (the pipeline replaces non-finite features before the
// feed sees them).
func appendFloat(dst []byte, v float64, bits int) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(dst, '0')
	}
	return strconv.AppendFloat(dst, v, 'g', 4, bits)
}

// neuronView is what the page draws of a network's neurons: for each
// parameter (in snn.ParamNames order), its spread in each layer, of the
// first of Members networks (an ensemble's members differ only by seed).
type neuronView struct {
	Kind    snn.Kind                `json:"kind"`
	Members int                     `json:"members"`
	Sizes   []int                   `json:"sizes"`
	Names   []string                `json:"names"`
	Params  map[string][]snn.Spread `json:"params"`
}

// appendNeurons writes nm's neuron view as JSON; nothing for no network.
// It allocates, on the feed's goroutine, once per model.
func appendNeurons(dst []byte, nm networkModel) []byte {
	if nm == nil {
		return dst
	}
	m := nm.Model()
	v := neuronView{Kind: m.Cfg.Kind, Members: nm.Members(), Sizes: m.Cfg.Hidden, Names: snn.ParamNames[:], Params: map[string][]snn.Spread{}}
	for p := range snn.NumParams {
		for l := range m.Layers() {
			v.Params[snn.ParamNames[p]] = append(v.Params[snn.ParamNames[p]], m.Spread(l, p))
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return dst // only non-finite parameters fail, which FromParams refuses
	}
	return append(dst, b...)
}
