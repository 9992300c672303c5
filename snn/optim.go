package snn

import (
	"fmt"
	"math"
)

// Optimizer names a first-order update rule.
type Optimizer string

// Optimizers.
const (
	// Adam with beta1 0.9, beta2 0.999, eps 1e-8.
	Adam Optimizer = "adam"
	// SGDMomentum is stochastic gradient descent with momentum 0.9.
	SGDMomentum Optimizer = "sgd"
)

// optimState is one parameter vector's optimiser state.
type optimState struct {
	kind Optimizer
	m, v []float64
	t    int
}

func newOptim(kind Optimizer, n int) (*optimState, error) {
	switch kind {
	case "":
		kind = Adam
	case Adam, SGDMomentum:
	default:
		return nil, fmt.Errorf("snn: unknown optimizer %q (want %q or %q)", kind, Adam, SGDMomentum)
	}
	return &optimState{kind: kind, m: make([]float64, n), v: make([]float64, n)}, nil
}

// step applies one update of params by grad with learning rate lr.
func (o *optimState) step(params, grad []float64, lr float64) {
	o.t++
	switch o.kind {
	case SGDMomentum:
		for i, g := range grad {
			o.m[i] = 0.9*o.m[i] + g
			params[i] -= lr * o.m[i]
		}
	default:
		const b1, b2, eps = 0.9, 0.999, 1e-8
		c1 := 1 - math.Pow(b1, float64(o.t))
		c2 := 1 - math.Pow(b2, float64(o.t))
		for i, g := range grad {
			o.m[i] = b1*o.m[i] + (1-b1)*g
			o.v[i] = b2*o.v[i] + (1-b2)*g*g
			params[i] -= lr * (o.m[i] / c1) / (math.Sqrt(o.v[i]/c2) + eps)
		}
	}
}

// clipNorm scales g so its Euclidean norm is at most max (no-op for
// max <= 0) and returns the norm before clipping.
func clipNorm(g []float64, max float64) float64 {
	s := 0.0
	for _, v := range g {
		s += v * v
	}
	n := math.Sqrt(s)
	if max > 0 && n > max {
		f := max / n
		for i := range g {
			g[i] *= f
		}
	}
	return n
}
