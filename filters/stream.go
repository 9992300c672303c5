package filters

import (
	"fmt"
	"math"

	"github.com/bci-decode/bci-decode/acquire"
)

// Stage conditions a frame in place. Stages keep per-channel state and are
// used by one goroutine.
type Stage interface {
	Process(f *acquire.Frame) error
}

// IIR runs an SOS cascade causally on every channel of a stream, in direct
// form II transposed with float64 state.
type IIR struct {
	sos      SOS
	channels int
	// z1[k], z2[k] hold the two state values of section k for every
	// channel. Each pass over a sample frame runs up to two sections
	// across all channels: the channels are independent, so the CPU
	// overlaps their arithmetic, and the state streams through memory in
	// order.
	z1, z2 [][]float64
	x      []float64 // the frame's samples between passes
	// sym is set when every section's numerator is symmetric (b2 = b0, as
	// for Butterworth band-pass and band-stop designs): the sections then
	// run with b0 factored out into gain, saving two multiplies each.
	sym  bool
	norm SOS // sections with b0 = b2 = 1
	gain float64
}

// NewIIR returns a streaming filter for channels channels.
func NewIIR(sos SOS, channels int) (*IIR, error) {
	if len(sos) == 0 || channels < 1 {
		return nil, fmt.Errorf("%w: %d sections for %d channels", ErrDesign, len(sos), channels)
	}
	for i, s := range sos {
		if s[3] != 1 {
			return nil, fmt.Errorf("%w: section %d has a0 = %v, want 1", ErrDesign, i, s[3])
		}
	}
	f := &IIR{sos: sos, channels: channels, x: make([]float64, channels), sym: len(sos)%2 == 0, gain: 1}
	for _, sec := range sos {
		if sec[0] == 0 || sec[2] != sec[0] {
			f.sym = false
		}
	}
	if f.sym {
		for _, sec := range sos {
			f.gain *= sec[0]
			f.norm = append(f.norm, Section{1, sec[1] / sec[0], 1, 1, sec[4], sec[5]})
		}
	}
	for range sos {
		f.z1 = append(f.z1, make([]float64, channels))
		f.z2 = append(f.z2, make([]float64, channels))
	}
	return f, nil
}

// Reset clears the filter state.
func (f *IIR) Reset() {
	for k := range f.z1 {
		clear(f.z1[k])
		clear(f.z2[k])
	}
}

// Process implements Stage.
func (f *IIR) Process(fr *acquire.Frame) error {
	if fr.Channels != f.channels {
		return fmt.Errorf("filter: frame %d has %d channels, the filter %d", fr.Seq, fr.Channels, f.channels)
	}
	C, K := f.channels, len(f.sos)
	x := f.x[:C]
	for s := 0; s+C <= len(fr.Data); s += C {
		row := fr.Data[s : s+C : s+C]
		if f.sym {
			for c, v := range row {
				x[c] = float64(v)
			}
			for k := 0; k < K; k += 2 {
				done := f.symPairVector(x, k)
				f.symPair(x[done:], k, done)
			}
			for c, v := range x {
				row[c] = float32(f.gain * v)
			}
			continue
		}
		for c, v := range row {
			x[c] = float64(v)
		}
		k := 0
		for ; k+1 < K; k += 2 {
			f.pair(x, k)
		}
		if k < K {
			f.single(x, k)
		}
		for c, v := range x {
			row[c] = float32(v)
		}
	}
	return nil
}

// symPair runs symmetric sections k and k+1 over the channels from "from"
// on (x holds them) for one sample frame.
func (f *IIR) symPair(x []float64, k, from int) {
	a, b := &f.norm[k], &f.norm[k+1]
	a1, a4, a5 := a[1], a[4], a[5]
	b1, b4, b5 := b[1], b[4], b[5]
	za1, za2 := f.z1[k][from:from+len(x)], f.z2[k][from:from+len(x)]
	zb1, zb2 := f.z1[k+1][from:from+len(x)], f.z2[k+1][from:from+len(x)]
	for c, v := range x {
		y := v + za1[c]
		za1[c] = a1*v - a4*y + za2[c]
		za2[c] = v - a5*y
		w := y + zb1[c]
		zb1[c] = b1*y - b4*w + zb2[c]
		zb2[c] = y - b5*w
		x[c] = w
	}
}

// pair runs sections k and k+1 over every channel of one sample frame.
func (f *IIR) pair(x []float64, k int) {
	a, b := &f.sos[k], &f.sos[k+1]
	a0, a1, a2, a4, a5 := a[0], a[1], a[2], a[4], a[5]
	b0, b1, b2, b4, b5 := b[0], b[1], b[2], b[4], b[5]
	za1, za2 := f.z1[k][:len(x)], f.z2[k][:len(x)]
	zb1, zb2 := f.z1[k+1][:len(x)], f.z2[k+1][:len(x)]
	for c, v := range x {
		y := a0*v + za1[c]
		za1[c] = a1*v - a4*y + za2[c]
		za2[c] = a2*v - a5*y
		w := b0*y + zb1[c]
		zb1[c] = b1*y - b4*w + zb2[c]
		zb2[c] = b2*y - b5*w
		x[c] = w
	}
}

// single runs section k over every channel of one sample frame.
func (f *IIR) single(x []float64, k int) {
	a := &f.sos[k]
	a0, a1, a2, a4, a5 := a[0], a[1], a[2], a[4], a[5]
	z1, z2 := f.z1[k][:len(x)], f.z2[k][:len(x)]
	for c, v := range x {
		y := a0*v + z1[c]
		z1[c] = a1*v - a4*y + z2[c]
		z2[c] = a2*v - a5*y
		x[c] = y
	}
}

// Notch designs a second-order notch at f0 Hz with quality factor q (the
// centre frequency over the -3 dB bandwidth), as SciPy's iirnotch does.
func Notch(f0, q, fs float64) (SOS, error) {
	if !(f0 > 0 && f0 < fs/2) || !(q > 0) {
		return nil, fmt.Errorf("%w: notch at %v Hz with Q %v for fs %v Hz", ErrDesign, f0, q, fs)
	}
	w0 := 2 * math.Pi * f0 / fs
	bw := w0 / q
	g := 1 / (1 + math.Tan(bw/2))
	c := math.Cos(w0)
	return SOS{{g, -2 * g * c, g, 1, -2 * g * c, 2*g - 1}}, nil
}

// Gain multiplies each channel by its own gain (e.g. µV per bit, or zero
// for a dead channel).
type Gain []float32

// Process implements Stage.
func (g Gain) Process(fr *acquire.Frame) error {
	if fr.Channels != len(g) {
		return fmt.Errorf("gain: frame %d has %d channels, %d gains", fr.Seq, fr.Channels, len(g))
	}
	C := len(g)
	for s := 0; s+C <= len(fr.Data); s += C {
		row := fr.Data[s : s+C : s+C]
		for c := range row {
			row[c] *= g[c]
		}
	}
	return nil
}

// Chain applies stages in order.
type Chain []Stage

// Process implements Stage.
func (ch Chain) Process(fr *acquire.Frame) error {
	for _, s := range ch {
		if err := s.Process(fr); err != nil {
			return err
		}
	}
	return nil
}
