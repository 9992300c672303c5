package snn

// layerTape records one layer's forward pass over a sequence: every
// quantity the backward pass needs, indexed [t*n + i].
type layerTape struct {
	n                     int
	cur, ut, pre, u, o, a []float64
	th                    []float64
	eff                   [NumParams][]float64 // effective neuron parameters
	active                [][]int32            // indices of spiking neurons per step
}

// tape records a forward pass over a sequence of up to cap steps.
type tape struct {
	t      int
	smooth bool
	ls     []layerTape
	y      []float64 // t×outputs readout
}

// newTape allocates a tape for sequences of at most steps bins.
func (m *Model) newTape(steps int) *tape {
	tp := &tape{ls: make([]layerTape, len(m.layers)), y: make([]float64, steps*m.Cfg.Outputs)}
	for k, l := range m.layers {
		lt := &tp.ls[k]
		lt.n = l.n
		for _, p := range []*[]float64{&lt.cur, &lt.ut, &lt.pre, &lt.u, &lt.o, &lt.a, &lt.th} {
			*p = make([]float64, steps*l.n)
		}
		for p := range NumParams {
			lt.eff[p] = make([]float64, l.n)
		}
		lt.active = make([][]int32, steps)
		for t := range lt.active {
			lt.active[t] = make([]int32, 0, l.n)
		}
	}
	return tp
}

// forward runs the model over x (steps×Inputs, standardised) and records
// the pass in tp. In smooth mode the spike is the smooth antiderivative of
// the surrogate, so the backward pass is the exact gradient (used by
// gradient checks). With frozen non-nil, every spiking layer takes its
// state at t-1 from frozen instead of its own pass: the objective whose
// exact gradient the detached scheme computes.
func (m *Model) forward(tp *tape, x []float64, steps int, smooth bool, frozen *tape) {
	tp.t, tp.smooth = steps, smooth
	for k := range m.layers {
		m.effective(k, tp.ls[k].eff[:])
	}
	in := m.Cfg.Inputs
	out := m.Cfg.Outputs
	beta := m.Cfg.ReadoutBeta
	for t := range steps {
		input := x[t*in : (t+1)*in]
		var inActive []int32
		for k := range m.layers {
			src := &tp.ls[k]
			if frozen != nil {
				src = &frozen.ls[k]
			}
			m.stepLayer(k, &tp.ls[k], src, t, input, inActive, smooth)
			lt := &tp.ls[k]
			input = lt.o[t*lt.n : (t+1)*lt.n]
			inActive = lt.active[t]
			if smooth {
				inActive = nil
			}
		}
		y := tp.y[t*out : (t+1)*out]
		for o := range out {
			v := m.bout[o]
			if t > 0 {
				v += beta * tp.y[(t-1)*out+o]
			}
			wr := m.wout[o*len(input) : (o+1)*len(input)]
			if inActive != nil {
				for _, j := range inActive {
					v += wr[j]
				}
			} else {
				v += dot(wr, input)
			}
			y[o] = v
		}
	}
}

// effective fills eff with layer k's effective neuron parameters.
func (m *Model) effective(k int, eff [][]float64) {
	for p := range NumParams {
		for i := range eff[p] {
			eff[p][i] = m.Effective(k, Param(p), i)
		}
	}
}

// stepLayer computes step t of layer k into lt, reading the state at t-1
// from prev (lt itself, or a frozen tape). inActive lists the non-zero
// entries of a binary input (nil for dense input).
func (m *Model) stepLayer(k int, lt, prev *layerTape, t int, input []float64, inActive []int32, smooth bool) {
	l := &m.layers[k]
	n, in := l.n, l.in
	sp := m.Spec
	tau, c, gamma, ure, uth := lt.eff[Tau], lt.eff[Gain], lt.eff[Gamma], lt.eff[Ureset], lt.eff[Uth]
	var uprev, oprev, aprev []float64
	var prevActive []int32
	if t > 0 {
		uprev = prev.u[(t-1)*n : t*n]
		oprev = prev.o[(t-1)*n : t*n]
		aprev = prev.a[(t-1)*n : t*n]
		prevActive = prev.active[t-1]
	}
	base := t * n
	act := lt.active[t][:0]
	for i := range n {
		s := l.b[i]
		w := l.w[i*in : (i+1)*in]
		if inActive != nil {
			for _, j := range inActive {
				s += w[j]
			}
		} else {
			s += dot(w, input)
		}
		var up, op, ap float64
		if t > 0 {
			up, op, ap = uprev[i], oprev[i], aprev[i]
			if l.r != nil {
				r := l.r[i*n : (i+1)*n]
				if smooth {
					s += dot(r, oprev)
				} else {
					for _, j := range prevActive {
						s += r[j]
					}
				}
			}
		}
		a := 0.0
		if sp.Adaptive {
			a = sp.Rho*ap + (1-sp.Rho)*op
		}
		var ut float64
		if m.Cfg.SoftReset {
			ut = up - op*uth[i]
		} else {
			ut = up*(1-op) + ure[i]*op
		}
		pre := (1-tau[i])*ut + tau[i]*ure[i] + c[i]*(s-gamma[i]*op)
		u := rectify(pre)
		th := uth[i] + sp.BetaA*a
		var o float64
		if smooth {
			o = m.surr.smooth(u - th)
		} else if u >= th {
			o = 1
			act = append(act, int32(i))
		}
		lt.cur[base+i], lt.ut[base+i], lt.pre[base+i] = s, ut, pre
		lt.u[base+i], lt.o[base+i], lt.a[base+i], lt.th[base+i] = u, o, a, th
	}
	lt.active[t] = act
}

// dot is the inner product of equal-length vectors.
func dot(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}

// axpy adds alpha*x to y.
func axpy(alpha float64, x, y []float64) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}
