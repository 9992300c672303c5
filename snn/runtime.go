package snn

import (
	"fmt"
	"math"
	"math/bits"
)

// Norm holds the input standardisation and target scaling a model was
// trained with: the network sees (x-InMu)/InSd and predicts
// (y-OutMu)/OutSd.
type Norm struct {
	InMu, InSd   []float64
	OutMu, OutSd []float64
}

// Identity returns a normalisation that changes nothing.
func Identity(inputs, outputs int) Norm {
	n := Norm{InMu: make([]float64, inputs), InSd: make([]float64, inputs), OutMu: make([]float64, outputs), OutSd: make([]float64, outputs)}
	for i := range n.InSd {
		n.InSd[i] = 1
	}
	for i := range n.OutSd {
		n.OutSd[i] = 1
	}
	return n
}

// check validates the normalisation against a configuration.
func (n Norm) check(cfg Config) error {
	if len(n.InMu) != cfg.Inputs || len(n.InSd) != cfg.Inputs || len(n.OutMu) != cfg.Outputs || len(n.OutSd) != cfg.Outputs {
		return fmt.Errorf("%w: normalisation sizes %d/%d/%d/%d for %d inputs and %d outputs", ErrConfig,
			len(n.InMu), len(n.InSd), len(n.OutMu), len(n.OutSd), cfg.Inputs, cfg.Outputs)
	}
	for _, v := range [][]float64{n.InMu, n.InSd, n.OutMu, n.OutSd} {
		for _, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("%w: non-finite normalisation value", ErrConfig)
			}
		}
	}
	for _, v := range [][]float64{n.InSd, n.OutSd} {
		for _, x := range v {
			if x == 0 {
				return fmt.Errorf("%w: zero standard deviation in normalisation", ErrConfig)
			}
		}
	}
	return nil
}

// rtLayer is one spiking layer in inference form. Weights are stored by
// presynaptic neuron (wT[j*n:(j+1)*n] are input j's synapses onto all n
// neurons) so that an input event adds one contiguous row.
type rtLayer struct {
	in, n      int
	wT, b, rT  []float32
	omt, tu    []float32 // 1-tau, tau*ure
	c, gamma   []float32
	ure, uth   []float32
	u, o, a    []float32
	cur        []float32
	spikes     []int32 // indices spiking at the current step
	mask       []uint8 // spike bits of the vector kernel
	prevSpikes []int32
	rho, betaA float32
	adaptive   bool
	soft       bool
}

// Runtime is a compiled network for real-time inference in float32: Step
// advances every layer by one bin from preallocated state, without
// allocating. A Runtime is not safe for concurrent use; compile one per
// stream.
type Runtime struct {
	cfg     Config
	layers  []rtLayer
	woutT   []float32 // hidden×outputs
	bout    []float32
	beta    float32
	y       []float32
	outMu   []float32
	outSd   []float32
	act     Activity
	denseOp uint64
}

// Compile builds the inference form of m with normalisation norm folded
// into the first layer's weights and biases, so raw (sparse) inputs can be
// accumulated event by event.
func (m *Model) Compile(norm Norm) (*Runtime, error) {
	if err := norm.check(m.Cfg); err != nil {
		return nil, err
	}
	r := &Runtime{cfg: m.Cfg, beta: float32(m.Cfg.ReadoutBeta)}
	for k, l := range m.layers {
		rl := rtLayer{in: l.in, n: l.n, adaptive: m.Spec.Adaptive, rho: float32(m.Spec.Rho), betaA: float32(m.Spec.BetaA), soft: m.Cfg.SoftReset}
		rl.wT = make([]float32, l.in*l.n)
		rl.b = make([]float32, l.n)
		for i := range l.n {
			b := l.b[i]
			for j := range l.in {
				w := l.w[i*l.in+j]
				if k == 0 {
					w /= norm.InSd[j]
					b -= w * norm.InMu[j]
				}
				rl.wT[j*l.n+i] = float32(w)
			}
			rl.b[i] = float32(b)
		}
		if l.r != nil {
			rl.rT = make([]float32, l.n*l.n)
			for i := range l.n {
				for j := range l.n {
					rl.rT[j*l.n+i] = float32(l.r[i*l.n+j])
				}
			}
		}
		for _, p := range []*[]float32{&rl.omt, &rl.tu, &rl.c, &rl.gamma, &rl.ure, &rl.uth, &rl.u, &rl.o, &rl.a, &rl.cur} {
			*p = make([]float32, l.n)
		}
		for i := range l.n {
			tau, ure := m.Effective(k, Tau, i), m.Effective(k, Ureset, i)
			rl.omt[i], rl.tu[i] = float32(1-tau), float32(tau*ure)
			rl.c[i], rl.gamma[i] = float32(m.Effective(k, Gain, i)), float32(m.Effective(k, Gamma, i))
			rl.ure[i], rl.uth[i] = float32(ure), float32(m.Effective(k, Uth, i))
		}
		rl.spikes = make([]int32, 0, l.n)
		rl.mask = make([]uint8, (l.n+7)/8)
		rl.prevSpikes = make([]int32, 0, l.n)
		r.layers = append(r.layers, rl)
		r.denseOp += uint64(l.in * l.n)
		if l.r != nil {
			r.denseOp += uint64(l.n * l.n)
		}
	}
	last := m.layers[len(m.layers)-1].n
	out := m.Cfg.Outputs
	r.woutT = make([]float32, last*out)
	for o := range out {
		for j := range last {
			r.woutT[j*out+o] = float32(m.wout[o*last+j])
		}
	}
	r.denseOp += uint64(last * out)
	r.bout = make([]float32, out)
	r.outMu, r.outSd = make([]float32, out), make([]float32, out)
	for o := range out {
		r.bout[o] = float32(m.bout[o])
		r.outMu[o], r.outSd[o] = float32(norm.OutMu[o]), float32(norm.OutSd[o])
	}
	r.y = make([]float32, out)
	return r, nil
}

// Inputs is the number of input features per step.
func (r *Runtime) Inputs() int { return r.cfg.Inputs }

// Outputs is the number of decoded values per step.
func (r *Runtime) Outputs() int { return r.cfg.Outputs }

// Config returns the network architecture.
func (r *Runtime) Config() Config { return r.cfg }

// Reset clears membranes, spikes, adaptation and the readout.
func (r *Runtime) Reset() {
	for k := range r.layers {
		l := &r.layers[k]
		clear(l.u)
		clear(l.o)
		clear(l.a)
		l.spikes = l.spikes[:0]
		l.prevSpikes = l.prevSpikes[:0]
	}
	clear(r.y)
}

// Step advances the network by one bin: in has Inputs() raw features, out
// receives Outputs() decoded values in target units. Zero inputs cost
// nothing, inputs equal to 1 add one weight row (accumulates), other
// inputs scale one (multiply-accumulates). Step does not allocate.
func (r *Runtime) Step(in, out []float32) {
	l0 := &r.layers[0]
	copy(l0.cur, l0.b)
	n := l0.n
	cur := l0.cur[:n]
	for j, x := range in[:l0.in] {
		if x == 0 {
			continue
		}
		row := l0.wT[j*n : (j+1)*n : (j+1)*n]
		if x == 1 {
			r.act.AC += uint64(n)
			addRow(cur, row)
		} else {
			r.act.MAC += uint64(n)
			axpyRow(x, cur, row)
		}
	}
	for k := range r.layers {
		l := &r.layers[k]
		if k > 0 {
			below := &r.layers[k-1]
			copy(l.cur, l.b)
			cur := l.cur[:l.n]
			for _, j := range below.spikes {
				addRow(cur, l.wT[int(j)*l.n:(int(j)+1)*l.n:(int(j)+1)*l.n])
			}
			r.act.AC += uint64(len(below.spikes) * l.n)
		}
		r.act.AC += l.update()
		r.act.Spikes += uint64(len(l.spikes))
		r.act.LayerSpikes[k] += uint64(len(l.spikes))
	}
	top := &r.layers[len(r.layers)-1]
	no := len(r.y)
	for o := range r.y {
		r.y[o] = r.beta*r.y[o] + r.bout[o]
	}
	for _, j := range top.spikes {
		row := r.woutT[int(j)*no : (int(j)+1)*no]
		for o, w := range row {
			r.y[o] += w
		}
	}
	r.act.AC += uint64(len(top.spikes) * no)
	for o, v := range r.y {
		out[o] = v*r.outSd[o] + r.outMu[o]
	}
	r.act.Steps++
}

// update adds recurrent input from last step's spikes, advances the
// neurons and records the new spikes. It returns the accumulates spent on
// recurrence.
func (l *rtLayer) update() uint64 {
	n := l.n
	cur := l.cur[:n]
	var ops uint64
	if l.rT != nil {
		for _, j := range l.spikes {
			addRow(cur, l.rT[int(j)*n:(int(j)+1)*n:(int(j)+1)*n])
		}
		ops = uint64(len(l.spikes) * n)
	}
	u, o, a := l.u[:n], l.o[:n], l.a[:n]
	omt, tu, c, gamma, ure, uth := l.omt[:n], l.tu[:n], l.c[:n], l.gamma[:n], l.ure[:n], l.uth[:n]
	// Neurons that spiked last step: reset, self-inhibition and the
	// adaptation trace are applied here, so the dense loop below needs no
	// branch on the previous spike.
	for _, j := range l.spikes {
		if l.soft {
			u[j] -= uth[j]
		} else {
			u[j] = ure[j]
		}
		cur[j] -= gamma[j]
		o[j] = 0
	}
	if l.adaptive {
		for i := range a {
			a[i] *= l.rho
		}
		for _, j := range l.spikes {
			a[j] += 1 - l.rho
		}
	}
	l.prevSpikes, l.spikes = l.spikes, l.prevSpikes[:0]
	buf := l.spikes[:n]
	k, i0 := 0, 0
	if !l.adaptive {
		i0 = neuronVector(u, omt, tu, c, cur, uth, l.mask)
		for b, bitsSet := range l.mask[:i0/8] {
			for bitsSet != 0 {
				buf[k] = int32(b*8 + bits.TrailingZeros8(bitsSet))
				k++
				bitsSet &= bitsSet - 1
			}
		}
	}
	for i := i0; i < n; i++ {
		pre := omt[i]*u[i] + tu[i] + c[i]*cur[i]
		pre = max(pre, leak*pre)
		u[i] = pre
		th := uth[i]
		if l.adaptive {
			th += l.betaA * a[i]
		}
		buf[k] = int32(i)
		if pre >= th {
			k++
		}
	}
	l.spikes = buf[:k]
	for _, j := range l.spikes {
		o[j] = 1
	}
	return ops
}

// addRow adds row to dst (an accumulate per synapse).
func addRow(dst, row []float32) {
	dst = dst[:len(row)]
	i := addRowVector(dst, row)
	for ; i+4 <= len(row); i += 4 {
		d := dst[i : i+4 : i+4]
		w := row[i : i+4 : i+4]
		d[0] += w[0]
		d[1] += w[1]
		d[2] += w[2]
		d[3] += w[3]
	}
	for ; i < len(row); i++ {
		dst[i] += row[i]
	}
}

// axpyRow adds x*row to dst (a multiply-accumulate per synapse).
func axpyRow(x float32, dst, row []float32) {
	dst = dst[:len(row)]
	for i := axpyRowVector(x, dst, row); i < len(row); i++ {
		dst[i] += x * row[i]
	}
}
