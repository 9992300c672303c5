package acquire

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Population is the simulator's array of cosine-tuned neurons, one per
// channel. Each fires as a Poisson process with rate baseline +
// depth·(v·d)/PeakSpeed (rectified at 0), where v is the velocity the
// population encodes and d the neuron's preferred direction; baselines
// may drift as a random walk. The open-loop Simulator drives it with hand
// velocity; a closed-loop user model drives the same neurons with the
// velocity it intends, so a decoder calibrated on one meets the other.
type Population struct {
	base     []float64 // Hz; drifts
	depth    []float64 // Hz at PeakSpeed along the preferred direction
	pdx, pdy []float64 // unit preferred directions
	peak     float64   // cm/s
	dt       float64   // bin width, s
	drift    float64   // sd of the baseline step per bin, Hz
}

// NewPopulation draws the neurons of cfg from its PopulationSeed (Seed
// when that is 0): the same neurons for every stream with that seed.
func NewPopulation(cfg SimConfig) (*Population, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.BaselineHz[0] < 0 || cfg.BaselineHz[1] < cfg.BaselineHz[0] || cfg.ModulationHz[0] < 0 || cfg.ModulationHz[1] < cfg.ModulationHz[0] {
		return nil, fmt.Errorf("simulator: invalid rate ranges baseline %v modulation %v", cfg.BaselineHz, cfg.ModulationHz)
	}
	if !(cfg.PeakSpeed > 0) {
		return nil, fmt.Errorf("simulator: peak speed %v cm/s (want > 0)", cfg.PeakSpeed)
	}
	r := rand.New(rand.NewPCG(cfg.PopulationSeed, 0x6e657572))
	n := cfg.Channels
	p := &Population{base: make([]float64, n), depth: make([]float64, n), pdx: make([]float64, n), pdy: make([]float64, n),
		peak: cfg.PeakSpeed, dt: cfg.BinWidth.Seconds()}
	for i := range n {
		p.base[i] = uniform(r, cfg.BaselineHz)
		p.depth[i] = uniform(r, cfg.ModulationHz)
		th := 2 * math.Pi * r.Float64()
		p.pdx[i], p.pdy[i] = math.Cos(th), math.Sin(th)
	}
	if cfg.DriftHz > 0 {
		p.drift = cfg.DriftHz * math.Sqrt(p.dt/60)
	}
	return p, nil
}

func uniform(r *rand.Rand, lohi [2]float64) float64 {
	return lohi[0] + (lohi[1]-lohi[0])*r.Float64()
}

// Channels is the number of neurons.
func (p *Population) Channels() int { return len(p.base) }

// ChannelNames names the neurons as the simulator's streams do.
func (p *Population) ChannelNames() []string {
	names := make([]string, len(p.base))
	for i := range names {
		names[i] = fmt.Sprintf("sim%03d", i)
	}
	return names
}

// Fire draws one bin of spike counts into out (one per neuron) for the
// velocity (vx, vy) in cm/s, taking the baselines' drift step first. All
// randomness comes from r, so a stream is reproducible from its seed. It
// does not allocate.
func (p *Population) Fire(r *rand.Rand, vx, vy float64, out []float32) {
	for i := range out {
		if p.drift > 0 {
			p.base[i] = math.Max(0, p.base[i]+p.drift*r.NormFloat64())
		}
		rate := p.base[i] + p.depth[i]*(vx*p.pdx[i]+vy*p.pdy[i])/p.peak
		out[i] = float32(poisson(r, math.Max(rate, 0)*p.dt))
	}
}

// Shift moves every neuron's baseline by a normal step of standard
// deviation sd Hz (rectified at 0), drawn from r: the change in baseline
// firing between two recording sessions (a day apart, say), beside the
// slow drift within one.
func (p *Population) Shift(r *rand.Rand, sd float64) {
	for i := range p.base {
		p.base[i] = math.Max(0, p.base[i]+sd*r.NormFloat64())
	}
}
