package snn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// Config is the architecture of a network.
type Config struct {
	// Kind is the neuron model of the hidden layers.
	Kind Kind `json:"kind"`
	// Inputs, Hidden and Outputs are the layer sizes; Hidden has one entry
	// per spiking layer.
	Inputs  int   `json:"inputs"`
	Hidden  []int `json:"hidden"`
	Outputs int   `json:"outputs"`
	// Recurrent adds synapses from each layer's previous-step spikes.
	Recurrent bool `json:"recurrent"`
	// ReadoutBeta is the leak of the readout integrator in [0, 1).
	ReadoutBeta float64 `json:"readout_beta"`
	// SoftReset subtracts the threshold after a spike (u -= o*uth, the
	// 2024 code) instead of resetting to ure.
	SoftReset bool `json:"soft_reset,omitempty"`
	// Sigmoid reparameterises the learned decay and threshold as
	// lo + (hi-lo)*sigmoid(raw) (the 2024 code) instead of clamping.
	Sigmoid bool `json:"sigmoid,omitempty"`
	// Surrogate and SurrogateWidth select the spike pseudo-derivative.
	Surrogate      Surrogate `json:"surrogate,omitempty"`
	SurrogateWidth float64   `json:"surrogate_width,omitempty"`
	// Detached stops gradients through time in the spiking layers (the
	// 2024 code's detached membrane): u[t-1], o[t-1] and the adaptation
	// trace are constants for step t. The readout's leak is still
	// backpropagated.
	Detached bool `json:"detached,omitempty"`
	// InitGain scales the initial input weights (default 1).
	InitGain float64 `json:"init_gain,omitempty"`
}

// MaxLayers bounds the spiking layers of a network.
const MaxLayers = 16

// ErrConfig is wrapped by errors about invalid architectures.
var ErrConfig = errors.New("invalid network configuration")

// Validate reports whether the configuration describes a buildable
// network.
func (c Config) Validate() error {
	if _, err := SpecOf(c.Kind); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if _, err := newSurrogate(c.Surrogate, c.SurrogateWidth); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	const maxSize = 1 << 16
	if c.Inputs < 1 || c.Outputs < 1 || len(c.Hidden) == 0 || c.Inputs > maxSize || c.Outputs > maxSize || len(c.Hidden) > MaxLayers {
		return fmt.Errorf("%w: sizes %d -> %v -> %d", ErrConfig, c.Inputs, c.Hidden, c.Outputs)
	}
	for _, h := range c.Hidden {
		if h < 1 || h > maxSize {
			return fmt.Errorf("%w: hidden layer of %d neurons", ErrConfig, h)
		}
	}
	if !(c.ReadoutBeta >= 0 && c.ReadoutBeta < 1) {
		return fmt.Errorf("%w: readout beta %v outside [0, 1)", ErrConfig, c.ReadoutBeta)
	}
	return nil
}

// layer is a view of one spiking layer's parameters (or gradients) inside
// the flat vectors of a Model.
type layer struct {
	in, n int
	w     []float64 // n×in, row-major
	b     []float64 // n
	r     []float64 // n×n recurrent, nil without recurrence
	p     [NumParams][]float64
}

// Model is a network's trainable parameters in float64. Weights (W) and
// neuron-level parameters (A) live in two flat vectors so that bi-level
// training can update them separately; the layer views alias them.
type Model struct {
	Cfg  Config
	Spec Spec
	// W holds synaptic weights and biases of every layer and the readout.
	W []float64
	// A holds the neuron-level parameters (raw values: with Config.Sigmoid
	// the decay and threshold are logits).
	A []float64

	layers     []layer
	wout, bout []float64
	surr       surrogate
}

// sizes returns the lengths of W and A for a configuration.
func (c Config) sizes() (nw, na int) {
	in := c.Inputs
	for _, h := range c.Hidden {
		nw += h*in + h
		if c.Recurrent {
			nw += h * h
		}
		na += int(NumParams) * h
		in = h
	}
	nw += c.Outputs*in + c.Outputs
	return nw, na
}

// views slices flat w and a into layer views following cfg.
func (c Config) views(w, a []float64) (ls []layer, wout, bout []float64) {
	take := func(v *[]float64, n int) []float64 {
		s := (*v)[:n:n]
		*v = (*v)[n:]
		return s
	}
	in := c.Inputs
	for _, h := range c.Hidden {
		l := layer{in: in, n: h}
		l.w = take(&w, h*in)
		l.b = take(&w, h)
		if c.Recurrent {
			l.r = take(&w, h*h)
		}
		for p := range NumParams {
			l.p[p] = take(&a, h)
		}
		ls = append(ls, l)
		in = h
	}
	wout = take(&w, c.Outputs*in)
	bout = take(&w, c.Outputs)
	return ls, wout, bout
}

// NewModel builds a model with initial parameters drawn from seed.
func NewModel(cfg Config, seed uint64) (*Model, error) {
	m, err := newEmpty(cfg)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x736e6e))
	gain := cfg.InitGain
	if gain == 0 {
		gain = 1
	}
	for _, l := range m.layers {
		sd := gain / math.Sqrt(float64(l.in))
		for i := range l.w {
			l.w[i] = sd * rng.NormFloat64()
		}
		for i := range l.b {
			l.b[i] = 0.1 * rng.NormFloat64()
		}
		rsd := 0.5 / math.Sqrt(float64(l.n))
		for i := range l.r {
			l.r[i] = rsd * rng.NormFloat64()
		}
		for p := range NumParams {
			v := m.Spec.Init[p]
			if m.sigmoidParam(Param(p)) {
				v = logit((v - Ranges[p].Lo) / (Ranges[p].Hi - Ranges[p].Lo))
			}
			for i := range l.p[p] {
				l.p[p][i] = v
			}
		}
	}
	last := m.layers[len(m.layers)-1].n
	osd := 1 / math.Sqrt(float64(last))
	for i := range m.wout {
		m.wout[i] = osd * rng.NormFloat64()
	}
	return m, nil
}

// newEmpty allocates a zero model for cfg.
func newEmpty(cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	spec, _ := SpecOf(cfg.Kind)
	surr, _ := newSurrogate(cfg.Surrogate, cfg.SurrogateWidth)
	nw, na := cfg.sizes()
	m := &Model{Cfg: cfg, Spec: spec, W: make([]float64, nw), A: make([]float64, na), surr: surr}
	m.layers, m.wout, m.bout = cfg.views(m.W, m.A)
	return m, nil
}

// FromParams rebuilds a model from saved parameter vectors.
func FromParams(cfg Config, w, a []float64) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// Check sizes before allocating, so a hostile architecture cannot ask
	// for more memory than the parameters it came with.
	if nw, na := cfg.sizes(); len(w) != nw || len(a) != na {
		return nil, fmt.Errorf("%w: %d weights and %d neuron parameters, architecture needs %d and %d", ErrConfig, len(w), len(a), nw, na)
	}
	m, err := newEmpty(cfg)
	if err != nil {
		return nil, err
	}
	for _, v := range [][]float64{w, a} {
		for i, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("%w: parameter %d is %v", ErrConfig, i, x)
			}
		}
	}
	copy(m.W, w)
	copy(m.A, a)
	return m, nil
}

// Layers is the number of spiking layers.
func (m *Model) Layers() int { return len(m.layers) }

// Clone returns a deep copy of m.
func (m *Model) Clone() *Model {
	c, _ := FromParams(m.Cfg, m.W, m.A)
	return c
}

// sigmoidParam reports whether parameter p is stored as a logit.
func (m *Model) sigmoidParam(p Param) bool {
	return m.Cfg.Sigmoid && (p == Tau || p == Uth) && m.Spec.Modes[p] != Fixed
}

// Effective returns the effective value of neuron parameter p of neuron i
// in layer l.
func (m *Model) Effective(l int, p Param, i int) float64 {
	v := m.layers[l].p[p][i]
	if m.sigmoidParam(p) {
		r := Ranges[p]
		return r.Lo + (r.Hi-r.Lo)*sigmoid(v)
	}
	return v
}

// Project clamps every learned neuron parameter into its valid range and
// makes shared parameters equal across their layer (their mean).
func (m *Model) Project() {
	for _, l := range m.layers {
		for p := range NumParams {
			mode := m.Spec.Modes[p]
			if mode == Fixed {
				continue
			}
			v := l.p[p]
			if mode == Shared {
				s := 0.0
				for _, x := range v {
					s += x
				}
				s /= float64(len(v))
				for i := range v {
					v[i] = s
				}
			}
			if m.sigmoidParam(Param(p)) {
				for i := range v {
					v[i] = math.Min(math.Max(v[i], -12), 12)
				}
				continue
			}
			r := Ranges[p]
			for i := range v {
				v[i] = math.Min(math.Max(v[i], r.Lo), r.Hi)
			}
		}
	}
}

func logit(p float64) float64 {
	p = math.Min(math.Max(p, 1e-6), 1-1e-6)
	return math.Log(p / (1 - p))
}
