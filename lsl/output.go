package lsl

import (
	"context"
	"flag"
	"fmt"
	"math"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/handoff"
	"github.com/bci-decode/bci-decode/pipeline"
)

// The --lsl-out plug-in: every intent also goes out on an LSL outlet, for
// LSL consumers (BCI2000, OpenViBE, Unity/Unreal, LabRecorder).
func init() {
	pipeline.Register(pipeline.Plugin{Name: "lsl-out", Flags: func(fs *flag.FlagSet) pipeline.Binding {
		on := fs.Bool("lsl-out", false, "also send every intent on an LSL outlet bci-<session>-intent (type Control: one float32 channel per value, then the status: 0 ok, 1 stale, 2 halted)")
		return pipeline.Binding{Output: func(_ context.Context, env *pipeline.Env) (pipeline.Output, error) {
			if !*on {
				return nil, nil
			}
			cfg, err := configFrom(env.Services)
			if err != nil {
				return nil, err
			}
			return NewIntentOutlet(cfg, IntentOutletOptions{Session: env.Session, Values: env.Model.Outputs(), Labels: env.Model.Info.Targets,
				BinWidth: env.Shape.BinWidth, Lossless: !env.Realtime, Log: env.Log})
		}}
	}})
}

// IntentOutletOptions configure an IntentOutlet. EnsureDefaults fills
// them in; Validate checks them.
type IntentOutletOptions struct {
	// Session names the stream: bci-<session>-intent (required).
	Session string
	// Values is the number of values per intent (required); an intent
	// with fewer is padded with NaN, extra ones are left out.
	Values int
	// Labels names the values (default out0, out1, ...).
	Labels []string
	// BinWidth gives the nominal rate, one sample per bin (required).
	BinWidth time.Duration
	// Buffer is the number of intents that may wait for the outlet
	// (default 1024).
	Buffer int
	// Lossless makes Consume wait for room instead of dropping (runs that
	// go as fast as possible); live decoding never waits.
	Lossless bool
	Log      zerolog.Logger
}

// EnsureDefaults fills the zero fields of o.
func (o *IntentOutletOptions) EnsureDefaults() {
	if o.Buffer <= 0 {
		o.Buffer = 1024
	}
}

// Validate reports options no outlet can be made from.
func (o *IntentOutletOptions) Validate() error {
	switch {
	case o.Session == "":
		return fmt.Errorf("lsl-out: no session name")
	case o.Values < 1 || o.Values > maxChannels-1:
		return fmt.Errorf("lsl-out: %d values per intent", o.Values)
	case o.BinWidth <= 0:
		return fmt.Errorf("lsl-out: bin width %v is not positive", o.BinWidth)
	case len(o.Labels) != 0 && len(o.Labels) != o.Values:
		return fmt.Errorf("lsl-out: %d labels for %d values", len(o.Labels), o.Values)
	}
	return nil
}

// intentSample is one queued sample: the values, then the status.
type intentSample struct {
	values []float32
	stamp  float64
}

// IntentOutlet sends intents on an LSL outlet named bci-<session>-intent,
// type Control, at a nominal rate of one sample per bin, each stamped with
// its bin's end on the LSL clock. The decoding loop copies an intent into a
// preallocated slot of a handoff queue (no allocation, no waiting: a full
// queue is a counted drop); the queue's goroutine pushes it. It is a
// pipeline.Output.
type IntentOutlet struct {
	cfg    *Config
	info   StreamInfo
	out    atomic.Pointer[Outlet] // set by Start
	opts   IntentOutletOptions
	q      *handoff.Queue[intentSample]
	status int // index of the status channel

	dropped, sent, errs atomic.Uint64
}

// Status channel values.
const (
	StatusOK     = 0
	StatusStale  = 1
	StatusHalted = 2
)

// NewIntentOutlet prepares the outlet; Start opens it (consumers can find
// it from then on) and begins sending.
func NewIntentOutlet(cfg *Config, opts IntentOutletOptions) (*IntentOutlet, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	info := StreamInfo{Name: "bci-" + opts.Session + "-intent", Type: "Control", ChannelCount: opts.Values + 1,
		NominalRate: 1 / opts.BinWidth.Seconds(), Format: Float32, SourceID: "bci-decode/" + opts.Session}
	chs := make([]Channel, 0, opts.Values+1)
	for i := range opts.Values {
		label := "out" + strconv.Itoa(i)
		if len(opts.Labels) > 0 {
			label = opts.Labels[i]
		}
		chs = append(chs, Channel{Label: label, Type: "Control"})
	}
	info.SetChannels(append(chs, Channel{Label: "status", Unit: "0 ok, 1 stale, 2 halted", Type: "Status"}))
	if err := info.Validate(); err != nil {
		return nil, fmt.Errorf("lsl-out: %w", err)
	}
	o := &IntentOutlet{cfg: cfg, info: info, opts: opts, status: opts.Values}
	o.q = handoff.New(opts.Buffer, opts.Lossless, handoff.Consumer[intentSample]{
		Handle:  o.push,
		Abandon: func(n uint64) { o.dropped.Add(n) },
	})
	slots := o.q.Slots()
	flat := make([]float32, len(slots)*(opts.Values+1))
	for i := range slots {
		slots[i].values = flat[i*(opts.Values+1) : (i+1)*(opts.Values+1) : (i+1)*(opts.Values+1)]
	}
	return o, nil
}

// Name is the stream's name.
func (o *IntentOutlet) Name() string { return o.info.Name }

// Consume implements pipeline.Sink; it never blocks unless Lossless.
func (o *IntentOutlet) Consume(in *decoder.Intent, _ *acquire.Bin) {
	slot := o.q.Reserve()
	if slot == nil {
		if n := o.dropped.Add(1); n&(n-1) == 0 { // log at powers of two
			o.opts.Log.Warn().Uint64("dropped", n).Str("stream", o.Name()).Msg("lsl-out: queue full: dropping intents")
		}
		return
	}
	n := copy(slot.values[:o.status], in.Values)
	for i := n; i < o.status; i++ {
		slot.values[i] = float32(math.NaN())
	}
	slot.values[o.status] = statusCode(in.Status)
	slot.stamp = FromUnixNano(in.SampleTime)
	o.q.Commit()
}

func statusCode(s decoder.Status) float32 {
	switch s {
	case decoder.StatusOK:
		return StatusOK
	case decoder.StatusStale:
		return StatusStale
	}
	return StatusHalted
}

// push runs on the queue's goroutine.
func (o *IntentOutlet) push(s *intentSample) {
	if err := o.out.Load().PushFloat32(s.values, s.stamp); err != nil {
		if n := o.errs.Add(1); n&(n-1) == 0 {
			o.opts.Log.Warn().Err(err).Uint64("errors", n).Str("stream", o.Name()).Msg("lsl-out: push failed")
		}
		return
	}
	o.sent.Add(1)
}

// Start implements pipeline.Output: it opens the outlet and starts
// sending.
func (o *IntentOutlet) Start(ctx context.Context) error {
	out, err := NewOutlet(o.cfg, o.info, OutletOptions{MaxBuffered: 10 * time.Second})
	if err != nil {
		return fmt.Errorf("lsl-out: %w", err)
	}
	o.out.Store(out)
	return o.q.Start(ctx)
}

// Close implements pipeline.Output: it sends what is queued, then closes
// the outlet (its consumers see the stream end).
func (o *IntentOutlet) Close(ctx context.Context) error {
	out := o.out.Load()
	if out == nil {
		return nil // never started
	}
	qerr := o.q.Close(ctx)
	if err := out.Close(ctx); err != nil && qerr == nil {
		qerr = err
	}
	if qerr != nil {
		return fmt.Errorf("lsl-out: %w", qerr)
	}
	return nil
}

// IntentOutletStats are what the outlet reports.
type IntentOutletStats struct {
	Stream    string `json:"stream"`
	Consumers int    `json:"consumers"`
	Sent      uint64 `json:"intents_sent"`
	Dropped   uint64 `json:"intents_dropped"`
	Errors    uint64 `json:"push_errors"`
}

// Report implements pipeline.Reporter.
func (o *IntentOutlet) Report() (string, any) {
	st := IntentOutletStats{Stream: o.Name(), Sent: o.sent.Load(), Dropped: o.dropped.Load(), Errors: o.errs.Load()}
	if out := o.out.Load(); out != nil {
		st.Consumers = out.Stats().Consumers
	}
	return "lsl-out", st
}
