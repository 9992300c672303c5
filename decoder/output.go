package decoder

import (
	"math"
	"sync/atomic"
)

// OutputOptions configures the stage that turns decoder outputs into
// intents.
type OutputOptions struct {
	// Kind is the intent kind (default KindVelocity).
	Kind Kind
	// Limit clamps every published value to [-Limit, Limit]; 0 means no
	// limit.
	Limit float32
	// Integrate publishes the running integral of the decoded values
	// (velocity -> position) with Kind KindPosition.
	Integrate bool
}

// Output turns decoder outputs into intents: it stamps sequence, times and
// model, keeps every value finite and within limits, and optionally
// integrates velocity into position. A non-finite decoder output is never
// published: the intent carries zeros with StatusHalted and the fault is
// counted. Output is used by one goroutine.
type Output struct {
	opts   OutputOptions
	pos    []float64
	faults atomic.Uint64
}

// NewOutput returns an output stage for dim-dimensional decoder outputs.
func NewOutput(dim int, opts OutputOptions) *Output {
	if opts.Kind == "" {
		opts.Kind = KindVelocity
	}
	if opts.Integrate {
		opts.Kind = KindPosition
	}
	return &Output{opts: opts, pos: make([]float64, dim)}
}

// Faults counts decoder outputs that were not finite. It may be called from
// any goroutine.
func (o *Output) Faults() uint64 { return o.faults.Load() }

// Reset clears the integrated position.
func (o *Output) Reset() { clear(o.pos) }

// Fill writes one intent from raw decoder outputs, reusing in.Values when it
// has the capacity (it then does not allocate). widthSec is the bin width in seconds, used to integrate.
// It reports false when raw held a non-finite value.
func (o *Output) Fill(in *Intent, raw []float32, widthSec float64) bool {
	in.Kind = o.opts.Kind
	in.Status = StatusOK
	if cap(in.Values) < len(raw) {
		in.Values = make([]float32, len(raw))
	}
	in.Values = in.Values[:len(raw)]
	ok := true
	for _, v := range raw {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			ok = false
		}
	}
	if !ok {
		o.faults.Add(1)
		clear(in.Values)
		in.Status = StatusHalted
		return false
	}
	for i, v := range raw {
		if o.opts.Integrate {
			o.pos[i] += float64(v) * widthSec
			if l := float64(o.opts.Limit); l > 0 {
				// Clamp the integral too, so it cannot wind up past the
				// limit and stick there.
				o.pos[i] = min(max(o.pos[i], -l), l)
			}
			v = float32(o.pos[i])
		}
		if l := o.opts.Limit; l > 0 {
			v = min(max(v, -l), l)
		}
		in.Values[i] = v
	}
	return true
}
