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
	// z1, z2 hold the two state values of each section for every channel:
	// z1[k*channels+c]. Section-major layout lets the inner loop run over
	// independent channels, which the CPU overlaps.
	z1, z2 []float64
	x      []float64 // one sample frame in float64
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
	return &IIR{sos: sos, channels: channels,
		z1: make([]float64, len(sos)*channels), z2: make([]float64, len(sos)*channels), x: make([]float64, channels)}, nil
}

// Reset clears the filter state.
func (f *IIR) Reset() {
	clear(f.z1)
	clear(f.z2)
}

// Process implements Stage.
func (f *IIR) Process(fr *acquire.Frame) error {
	if fr.Channels != f.channels {
		return fmt.Errorf("filter: frame %d has %d channels, the filter %d", fr.Seq, fr.Channels, f.channels)
	}
	C := f.channels
	x := f.x[:C]
	for s := 0; s+C <= len(fr.Data); s += C {
		row := fr.Data[s : s+C : s+C]
		for c, v := range row {
			x[c] = float64(v)
		}
		for k, sec := range f.sos {
			b0, b1, b2, a1, a2 := sec[0], sec[1], sec[2], sec[4], sec[5]
			z1 := f.z1[k*C : k*C+C : k*C+C]
			z2 := f.z2[k*C : k*C+C : k*C+C]
			for c, v := range x {
				y := b0*v + z1[c]
				z1[c] = b1*v - a1*y + z2[c]
				z2[c] = b2*v - a2*y
				x[c] = y
			}
		}
		for c, v := range x {
			row[c] = float32(v)
		}
	}
	return nil
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
