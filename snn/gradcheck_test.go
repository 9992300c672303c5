package snn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// objective runs the smooth forward pass (with the detached scheme's
// frozen states when frozen is non-nil) and returns the loss.
func objective(m *Model, x, target []float64, steps int, loss Loss, frozen *tape) float64 {
	tp := m.newTape(steps)
	m.forward(tp, x, steps, true, frozen)
	gy := make([]float64, steps*m.Cfg.Outputs)
	return loss.eval(tp.y, target, steps, m.Cfg.Outputs, 1, 1, gy)
}

// TestGradientsMatchFiniteDifferences checks the hand-written backward
// pass against central differences for every neuron kind, full BPTT and
// the detached scheme, hard and soft reset and the sigmoid
// reparameterisation. The forward spike is the smooth antiderivative of
// the surrogate, so the backward pass is the exact gradient and any error
// in it shows up here.
func TestGradientsMatchFiniteDifferences(t *testing.T) {
	type variant struct {
		name string
		mod  func(*Config)
		loss Loss
	}
	variants := []variant{
		{"bptt", func(*Config) {}, Loss{Kind: SmoothL1}},
		{"detached", func(c *Config) { c.Detached = true }, Loss{Kind: SmoothL1}},
		{"soft-sigmoid-fastsig", func(c *Config) { c.SoftReset, c.Sigmoid, c.Surrogate = true, true, SurrFastSigmoid }, Loss{Kind: SmoothL1, PosWeight: 0.5}},
		{"two-layers-xent", func(c *Config) { c.Hidden = []int{5, 4} }, Loss{Kind: CrossEntropy}},
	}
	for _, kind := range Kinds {
		for _, v := range variants {
			t.Run(fmt.Sprintf("%s/%s", kind, v.name), func(t *testing.T) {
				cfg := Config{Kind: kind, Inputs: 4, Hidden: []int{6}, Outputs: 3, Recurrent: true, ReadoutBeta: 0.5, InitGain: 3}
				v.mod(&cfg)
				m, err := NewModel(cfg, 3)
				if err != nil {
					t.Fatal(err)
				}
				rng := rand.New(rand.NewPCG(9, 9))
				// Spread the neuron parameters so heterogeneity matters and
				// gamma is well above 0.
				for k := range m.layers {
					for p := range NumParams {
						if m.Spec.Modes[p] == PerNeuron {
							for i := range m.layers[k].p[p] {
								m.layers[k].p[p][i] += 0.3 * (rng.Float64() - 0.5) * (Ranges[p].Hi - Ranges[p].Lo)
							}
						}
					}
				}
				steps := 7
				x := make([]float64, steps*cfg.Inputs)
				for i := range x {
					x[i] = rng.NormFloat64()
				}
				target := make([]float64, steps*cfg.Outputs)
				for i := range target {
					target[i] = rng.NormFloat64()
					if v.loss.Kind == CrossEntropy {
						target[i] = float64(rng.IntN(cfg.Outputs))
					}
				}
				ws := m.newWorkspace(steps)
				m.forward(ws.tp, x, steps, true, nil)
				gy := make([]float64, steps*cfg.Outputs)
				v.loss.eval(ws.tp.y, target, steps, cfg.Outputs, 1, 1, gy)
				m.backward(ws, x, gy)
				m.finishGrad(ws.grad)
				var frozen *tape
				if cfg.Detached {
					frozen = m.newTape(steps)
					m.forward(frozen, x, steps, true, nil)
				}
				check := func(name string, params, grads []float64, modeOf func(int) bool) {
					const h = 1e-6
					nonzero := 0
					for i := range params {
						if !modeOf(i) {
							continue
						}
						old := params[i]
						params[i] = old + h
						lp := objective(m, x, target, steps, v.loss, frozen)
						params[i] = old - h
						lm := objective(m, x, target, steps, v.loss, frozen)
						params[i] = old
						fd := (lp - lm) / (2 * h)
						if math.Abs(fd-grads[i]) > 1e-5+1e-4*math.Abs(fd) {
							t.Errorf("%s[%d]: backward %.8g, finite difference %.8g", name, i, grads[i], fd)
						}
						if math.Abs(fd) > 1e-6 {
							nonzero++
						}
					}
					if nonzero == 0 {
						t.Errorf("%s: every finite difference is zero; the check proves nothing", name)
					}
				}
				check("W", m.W, ws.grad.W, func(int) bool { return true })
				// Neuron parameters: shared ones move together, so perturb
				// them as a layer; fixed ones get no gradient.
				for k := range m.layers {
					for p := range NumParams {
						mode := m.Spec.Modes[p]
						if mode == Fixed {
							for i, gv := range ws.grad.layers[k].p[p] {
								if gv != 0 {
									t.Errorf("fixed %s[%d] has gradient %v", ParamNames[p], i, gv)
								}
							}
							continue
						}
						vals, grads := m.layers[k].p[p], ws.grad.layers[k].p[p]
						if mode == Shared {
							const h = 1e-6
							shift := func(d float64) {
								for i := range vals {
									vals[i] += d
								}
							}
							shift(h)
							lp := objective(m, x, target, steps, v.loss, frozen)
							shift(-2 * h)
							lm := objective(m, x, target, steps, v.loss, frozen)
							shift(h)
							fd := (lp - lm) / (2 * h)
							if math.Abs(fd-grads[0]) > 1e-5+1e-4*math.Abs(fd) {
								t.Errorf("layer %d shared %s: backward %.8g, finite difference %.8g", k, ParamNames[p], grads[0], fd)
							}
							continue
						}
						check(fmt.Sprintf("layer %d %s", k, ParamNames[p]), vals, grads, func(int) bool { return true })
					}
				}
			})
		}
	}
}
