package acquire

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"
)

// BroadbandConfig configures the broadband simulator. Zero fields take the
// defaults filled in by EnsureDefaults.
type BroadbandConfig struct {
	Seed     uint64
	Channels int     // default 32
	Rate     float64 // Hz, default 30000
	// FrameSamples is the number of samples per channel in a frame
	// (default 300, 10 ms at 30 kHz).
	FrameSamples int
	// Duration limits the stream; 0 is unbounded.
	Duration time.Duration
	// FiringHz bounds each unit's mean rate, drawn uniformly (default 5-30).
	FiringHz [2]float64
	// AmplitudeUV bounds each unit's trough amplitude in µV (default 100-150:
	// after the 300-6000 Hz band-pass the trough is 5.7-8.5 times the noise,
	// the usual range of well-isolated units).
	AmplitudeUV [2]float64
	// ThermalUV is the white noise standard deviation (default 8 µV);
	// PinkUV the standard deviation of the 1/f-like background (default 20
	// µV, mostly below the spike band); LineUV the amplitude of line
	// interference at LineHz (default 30 µV at 60 Hz), common to all
	// channels.
	ThermalUV, PinkUV, LineUV, LineHz float64
	// KeepTruth records every spike's channel and trough sample.
	KeepTruth bool
}

// EnsureDefaults fills the zero fields of c with their defaults.
func (c *BroadbandConfig) EnsureDefaults() {
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Channels == 0 {
		c.Channels = 32
	}
	if c.Rate == 0 {
		c.Rate = 30000
	}
	if c.FrameSamples == 0 {
		c.FrameSamples = int(c.Rate / 100)
	}
	if c.FiringHz == [2]float64{} {
		c.FiringHz = [2]float64{5, 30}
	}
	if c.AmplitudeUV == [2]float64{} {
		c.AmplitudeUV = [2]float64{100, 150}
	}
	if c.ThermalUV == 0 {
		c.ThermalUV = 8
	}
	if c.PinkUV == 0 {
		c.PinkUV = 20
	}
	if c.LineUV == 0 {
		c.LineUV = 30
	}
	if c.LineHz == 0 {
		c.LineHz = 60
	}
}

// Spike is one simulated spike: its channel and the sample of its trough.
type Spike struct {
	Channel int
	Sample  int64
}

// Broadband simulates extracellular recordings: one unit per channel firing
// as a Poisson process with a 2 ms refractory period, each spike a biphasic
// waveform (a sharp trough, then a slower positive peak), over thermal and
// 1/f-like background noise and line interference. It implements Source
// and is deterministic for its seed.
type Broadband struct {
	cfg      BroadbandConfig
	rng      *rand.Rand
	template []float32 // unit-amplitude waveform
	trough   int       // template index of the trough
	rate     []float64 // per channel, spikes per sample
	amp      []float32
	next     []int64      // sample of each channel's next spike start
	pending  []float32    // per channel ring of template samples still to add
	pink     [][3]float64 // per channel AR(1) states
	pinkA    [3]float64
	pinkG    [3]float64
	n        int64 // samples emitted
	limit    int64
	seq      uint64
	truth    []Spike
}

// NewBroadband builds a broadband simulator.
func NewBroadband(cfg BroadbandConfig) (*Broadband, error) {
	cfg.EnsureDefaults()
	if cfg.Channels < 1 || cfg.Channels > MaxChannels || cfg.Rate < 1000 || cfg.Rate > 1e6 || cfg.FrameSamples < 1 || cfg.FrameSamples > 1<<20 {
		return nil, fmt.Errorf("broadband simulator: %d channels at %v Hz, %d samples per frame", cfg.Channels, cfg.Rate, cfg.FrameSamples)
	}
	b := &Broadband{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x62726f61))}
	// Waveform: trough at 0.4 ms (width 0.15 ms), repolarisation peak at 0.7 ms
	// (width 0.25 ms, 0.3 of the trough).
	L := int(math.Ceil(2.2e-3 * cfg.Rate))
	b.template = make([]float32, L)
	for i := range L {
		t := float64(i) / cfg.Rate
		v := -math.Exp(-sq((t-0.4e-3)/0.15e-3)) + 0.3*math.Exp(-sq((t-0.7e-3)/0.25e-3))
		b.template[i] = float32(v)
	}
	b.trough = int(math.Round(0.4e-3 * cfg.Rate))
	C := cfg.Channels
	b.rate, b.amp, b.next = make([]float64, C), make([]float32, C), make([]int64, C)
	b.pending = make([]float32, C*L)
	b.pink = make([][3]float64, C)
	for c := range C {
		b.rate[c] = uniform(b.rng, cfg.FiringHz) / cfg.Rate
		b.amp[c] = float32(uniform(b.rng, cfg.AmplitudeUV))
		b.next[c] = b.interval(c)
	}
	// Three AR(1) processes with corners at 2, 20 and 200 Hz sum to an
	// approximately 1/f spectrum below a few hundred Hz.
	for i, fc := range []float64{2, 20, 200} {
		a := math.Exp(-2 * math.Pi * fc / cfg.Rate)
		b.pinkA[i] = a
		// stationary std of each component equal; total PinkUV
		b.pinkG[i] = cfg.PinkUV / math.Sqrt(3) * math.Sqrt(1-a*a)
	}
	if cfg.Duration > 0 {
		b.limit = int64(cfg.Duration.Seconds() * cfg.Rate)
	}
	return b, nil
}

func sq(x float64) float64 { return x * x }

// interval draws the samples to the next spike: exponential with a 2 ms
// refractory floor.
func (b *Broadband) interval(c int) int64 {
	refr := 2e-3 * b.cfg.Rate
	return int64(refr + b.rng.ExpFloat64()/b.rate[c])
}

// Info implements Source.
func (b *Broadband) Info() Info {
	names := make([]string, b.cfg.Channels)
	for i := range names {
		names[i] = fmt.Sprintf("bb%03d", i)
	}
	return Info{Channels: b.cfg.Channels, Rate: b.cfg.Rate, Units: "uV", ChannelNames: names}
}

// Truth returns the spikes emitted so far (KeepTruth only).
func (b *Broadband) Truth() []Spike { return b.truth }

// ReadFrame implements Source.
func (b *Broadband) ReadFrame(ctx context.Context, f *Frame) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if b.limit > 0 && b.n >= b.limit {
		return io.EOF
	}
	S := b.cfg.FrameSamples
	if b.limit > 0 {
		S = int(min(int64(S), b.limit-b.n))
	}
	C, L := b.cfg.Channels, len(b.template)
	f.Seq, f.Rate, f.Channels = b.seq, b.cfg.Rate, C
	f.Time = int64(math.Round(float64(b.n) / b.cfg.Rate * 1e9))
	f.Data = resize(f.Data, S*C)
	w := 2 * math.Pi * b.cfg.LineHz / b.cfg.Rate
	for s := range S {
		n := b.n + int64(s)
		line := float32(b.cfg.LineUV * math.Sin(w*float64(n)))
		slot := int(n % int64(L))
		row := f.Data[s*C : (s+1)*C]
		for c := range C {
			if n == b.next[c] {
				for i, v := range b.template {
					b.pending[c*L+(slot+i)%L] += b.amp[c] * v
				}
				if b.cfg.KeepTruth {
					b.truth = append(b.truth, Spike{Channel: c, Sample: n + int64(b.trough)})
				}
				b.next[c] = n + b.interval(c)
			}
			p := &b.pink[c]
			var pink float64
			for i := range p {
				p[i] = b.pinkA[i]*p[i] + b.pinkG[i]*b.rng.NormFloat64()
				pink += p[i]
			}
			v := float32(b.cfg.ThermalUV*b.rng.NormFloat64()+pink) + line + b.pending[c*L+slot]
			b.pending[c*L+slot] = 0
			row[c] = v
		}
	}
	b.n += int64(S)
	b.seq++
	return nil
}
