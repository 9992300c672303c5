package decoder

import (
	"fmt"
	"math"
	"sync/atomic"
	"time"
)

// OutputOptions configures the stage that turns decoder outputs into
// intents.
type OutputOptions struct {
	// Kind is the intent kind (default KindVelocity; KindPosition when
	// Integrate is set).
	Kind Kind
	// Limit clamps every published value to [-Limit, Limit]; 0 means no
	// limit.
	Limit float32
	// Integrate publishes the running integral of the decoded values
	// (velocity -> position) with Kind KindPosition.
	Integrate bool
}

// EnsureDefaults fills the zero fields of o with their defaults.
func (o *OutputOptions) EnsureDefaults() {
	switch {
	case o.Integrate:
		o.Kind = KindPosition
	case o.Kind == "":
		o.Kind = KindVelocity
	}
}

// Validate reports options that mean nothing.
func (o *OutputOptions) Validate() error {
	if !(o.Limit >= 0 && o.Limit <= 1e6) {
		return fmt.Errorf("output limit %v: want 0 (no limit) to 1e6", o.Limit)
	}
	switch o.Kind {
	case "", KindVelocity, KindPosition, KindClass:
	default:
		return fmt.Errorf("output kind %q: want velocity, position or class", o.Kind)
	}
	return nil
}

// Hold turns in into an intent a controller can safely act on while
// decoding cannot be trusted (input missing, decoding paused, a decoder
// fault): it gets the status and values that mean "stop". For velocities
// that is zero; for positions it is the position already held in Values,
// since zero would mean "go to the origin". Every stale and halted intent
// is made by Hold.
func Hold(in *Intent, s Status) {
	in.Status = s
	if in.Kind != KindPosition {
		clear(in.Values)
	}
}

// Output turns decoder outputs into intents: it keeps every value finite
// and within limits, and optionally integrates velocity into position. A
// non-finite decoder output is never published: the intent holds (see
// Hold) with StatusHalted and the fault is counted. Output is used by one
// goroutine.
type Output struct {
	opts   OutputOptions
	pos    []float64
	faults atomic.Uint64
}

// NewOutput returns an output stage for dim-dimensional decoder outputs.
func NewOutput(dim int, opts OutputOptions) *Output {
	opts.EnsureDefaults()
	return &Output{opts: opts, pos: make([]float64, dim)}
}

// Kind is the kind of the intents the stage fills.
func (o *Output) Kind() Kind { return o.opts.Kind }

// Faults counts decoder outputs that were not finite. It may be called from
// any goroutine.
func (o *Output) Faults() uint64 { return o.faults.Load() }

// Reset clears the integrated position.
func (o *Output) Reset() { clear(o.pos) }

// Fill writes one intent from raw decoder outputs over a bin of the given
// width, reusing in.Values when it has the capacity (it then does not
// allocate). With hold set (decoding paused) the intent holds instead, and
// an integrated position does not move. Fill reports false when raw held a
// non-finite value.
func (o *Output) Fill(in *Intent, raw []float32, width time.Duration, hold bool) bool {
	in.Kind = o.opts.Kind
	in.Status = StatusOK
	if cap(in.Values) < len(raw) {
		in.Values = make([]float32, len(raw))
	}
	in.Values = in.Values[:len(raw)]
	ok := finite(raw)
	if !ok {
		o.faults.Add(1)
	}
	if ok && !hold && o.opts.Integrate {
		o.integrate(raw, width.Seconds())
	}
	for i, v := range raw {
		if o.opts.Integrate {
			v = float32(o.pos[i])
		}
		in.Values[i] = o.clamp(v)
	}
	if !ok || hold {
		Hold(in, StatusHalted)
	}
	return ok
}

func (o *Output) integrate(raw []float32, sec float64) {
	for i, v := range raw {
		o.pos[i] += float64(v) * sec
		if l := float64(o.opts.Limit); l > 0 {
			// Clamp the integral too, so it cannot wind up past the
			// limit and stick there.
			o.pos[i] = min(max(o.pos[i], -l), l)
		}
	}
}

func (o *Output) clamp(v float32) float32 {
	if l := o.opts.Limit; l > 0 {
		return min(max(v, -l), l)
	}
	return v
}

func finite(v []float32) bool {
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
	}
	return true
}
