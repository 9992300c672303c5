package snn

import (
	"fmt"
	"math"
)

// Kind selects the neuron model of every hidden layer.
type Kind string

// Neuron kinds. The HIFI ablations keep HIFI's equations and change which
// neuron-level parameters are learned.
const (
	// HIFI learns tau, C, gamma, ure and uth per neuron.
	HIFI Kind = "hifi"
	// HIFIHomogeneous learns one shared value of each neuron parameter per
	// layer: the ablation that isolates heterogeneity.
	HIFIHomogeneous Kind = "hifi-homog"
	// HIFINoInhibition is HIFI with gamma fixed at 0: the ablation that
	// isolates self-inhibition.
	HIFINoInhibition Kind = "hifi-gamma0"
	// LIF is a leaky integrate-and-fire neuron with fixed, shared tau and
	// threshold and no self-inhibition.
	LIF Kind = "lif"
	// PLIF is LIF with a learned decay shared per layer (Fang et al. 2021).
	PLIF Kind = "plif"
	// ALIF is LIF with an adaptive threshold th[t] = uth + beta_a*a[t],
	// a[t] = rho*a[t-1] + (1-rho)*o[t-1] (Bellec et al. 2020).
	ALIF Kind = "alif"
)

// Kinds lists every neuron kind.
var Kinds = []Kind{HIFI, HIFIHomogeneous, HIFINoInhibition, LIF, PLIF, ALIF}

// Param indexes the neuron-level (biophysical) parameters.
type Param int

// Neuron-level parameters, in storage order.
const (
	Tau    Param = iota // leak rate
	Gain                // input gain C
	Gamma               // self-inhibition (autapse) strength
	Ureset              // reset potential ure
	Uth                 // firing threshold
	NumParams
)

// ParamNames names the neuron parameters in storage order.
var ParamNames = [NumParams]string{"tau", "C", "gamma", "ure", "uth"}

// Range is a parameter's initial value and valid interval.
type Range struct{ Init, Lo, Hi float64 }

// Ranges are the 2022 reference code's initial values and valid ranges;
// learned values are projected (clamped) into them after every update.
var Ranges = [NumParams]Range{
	Tau:    {0.2, 0.1, 0.3},
	Gain:   {0.9, 0.8, 1.0},
	Gamma:  {0.05, 0.025, 0.075},
	Ureset: {0, -0.5, 0.5},
	Uth:    {1, 0.5, 1.5},
}

// Mode says how a neuron parameter is learned.
type Mode int

// Parameter modes.
const (
	// Fixed parameters keep their initial value and get no gradient.
	Fixed Mode = iota
	// Shared parameters have one learned value per layer.
	Shared
	// PerNeuron parameters are learned for each neuron (heterogeneity).
	PerNeuron
)

// Spec describes a neuron kind: how each parameter is learned, its fixed
// value where it is not, and threshold adaptation.
type Spec struct {
	Modes [NumParams]Mode
	// Init is the initial (or fixed) value of each parameter.
	Init [NumParams]float64
	// Adaptive enables the ALIF threshold adaptation with decay Rho and
	// strength BetaA.
	Adaptive   bool
	Rho, BetaA float64
}

// SpecOf returns the neuron specification of a kind.
func SpecOf(k Kind) (Spec, error) {
	var s Spec
	for p := range NumParams {
		s.Init[p] = Ranges[p].Init
	}
	all := func(m Mode) {
		for p := range NumParams {
			s.Modes[p] = m
		}
	}
	switch k {
	case HIFI:
		all(PerNeuron)
	case HIFIHomogeneous:
		all(Shared)
	case HIFINoInhibition:
		all(PerNeuron)
		s.Modes[Gamma], s.Init[Gamma] = Fixed, 0
	case LIF:
		all(Fixed)
		s.Init[Gamma] = 0
	case PLIF:
		all(Fixed)
		s.Init[Gamma] = 0
		s.Modes[Tau] = Shared
	case ALIF:
		all(Fixed)
		s.Init[Gamma] = 0
		s.Adaptive, s.Rho, s.BetaA = true, 0.9, 1.8
	default:
		return s, fmt.Errorf("snn: unknown neuron kind %q (want one of %v)", k, Kinds)
	}
	return s, nil
}

// Surrogate selects the pseudo-derivative used for the Heaviside spike.
type Surrogate string

// Surrogate gradients of H(x), x = u - th.
const (
	// SurrTanh is 1 - tanh^2(x), the 2022 reference code's choice.
	SurrTanh Surrogate = "tanh"
	// SurrRect is 1/w on |x| < w/2 (the 2024 code's rectangle).
	SurrRect Surrogate = "rect"
	// SurrFastSigmoid is 1/(1 + k|x|)^2 with k = 1/w.
	SurrFastSigmoid Surrogate = "fast-sigmoid"
)

// surrogate holds the pseudo-derivative and, for gradient checks, the
// smooth spike function whose true derivative it is.
type surrogate struct {
	kind Surrogate
	w    float64
}

func newSurrogate(kind Surrogate, w float64) (surrogate, error) {
	if kind == "" {
		kind = SurrTanh
	}
	if w <= 0 {
		w = 1
	}
	switch kind {
	case SurrTanh, SurrRect, SurrFastSigmoid:
		return surrogate{kind: kind, w: w}, nil
	}
	return surrogate{}, fmt.Errorf("snn: unknown surrogate %q", kind)
}

// grad is dH/dx as the backward pass uses it.
func (s surrogate) grad(x float64) float64 {
	switch s.kind {
	case SurrRect:
		if math.Abs(x) < s.w/2 {
			return 1 / s.w
		}
		return 0
	case SurrFastSigmoid:
		d := 1 + math.Abs(x)/s.w
		return 1 / (d * d)
	default:
		t := math.Tanh(x)
		return 1 - t*t
	}
}

// smooth is an antiderivative of grad that is 0 at -inf: the spike
// function of the smooth mode used by gradient checks.
func (s surrogate) smooth(x float64) float64 {
	switch s.kind {
	case SurrRect:
		return math.Min(math.Max((x+s.w/2)/s.w, 0), 1)
	case SurrFastSigmoid:
		return x/(1+math.Abs(x)/s.w) + s.w
	default:
		return 1 + math.Tanh(x)
	}
}

// leak is the rectifier g and its slope.
const leak = 0.1

func rectify(x float64) float64 {
	if x > 0 {
		return x
	}
	return leak * x
}

func rectifySlope(x float64) float64 {
	if x > 0 {
		return 1
	}
	return leak
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
