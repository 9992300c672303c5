package snn

// workspace holds the backward pass's per-layer buffers and the gradient
// of one worker.
type workspace struct {
	tp   *tape
	grad *Model // gradient, same layout as the model
	gy   []float64
	// per layer: gradient arriving at o[t] from above, carries to t-1
	goExt, cu, co, ca, coNew, gcur [][]float64
}

func (m *Model) newWorkspace(steps int) *workspace {
	g, _ := newEmpty(m.Cfg)
	ws := &workspace{tp: m.newTape(steps), grad: g, gy: make([]float64, steps*m.Cfg.Outputs)}
	for _, l := range m.layers {
		for _, p := range []*[][]float64{&ws.goExt, &ws.cu, &ws.co, &ws.ca, &ws.coNew, &ws.gcur} {
			*p = append(*p, make([]float64, l.n))
		}
	}
	return ws
}

// backward accumulates into ws.grad the gradient of the loss whose
// derivative with respect to the readout y[t] is gy (steps×Outputs; it is
// overwritten), for the forward pass recorded in ws.tp on input x. Neuron
// parameter gradients are with respect to effective values; finishGrad
// maps them to raw values and applies the parameter modes.
func (m *Model) backward(ws *workspace, x []float64, gy []float64) {
	tp := ws.tp
	steps := tp.t
	out := m.Cfg.Outputs
	beta := m.Cfg.ReadoutBeta
	g := ws.grad
	nl := len(m.layers)
	for k := range m.layers {
		clear(ws.cu[k])
		clear(ws.co[k])
		clear(ws.ca[k])
	}
	last := m.layers[nl-1].n
	for t := steps - 1; t >= 0; t-- {
		gyt := gy[t*out : (t+1)*out]
		if t < steps-1 && beta != 0 {
			axpy(beta, gy[(t+1)*out:(t+2)*out], gyt)
		}
		top := &tp.ls[nl-1]
		otop := top.o[t*last : (t+1)*last]
		ge := ws.goExt[nl-1]
		clear(ge)
		for o, v := range gyt {
			g.bout[o] += v
			if v == 0 {
				continue
			}
			wr := m.wout[o*last : (o+1)*last]
			gw := g.wout[o*last : (o+1)*last]
			if !tp.smooth {
				for _, j := range top.active[t] {
					gw[j] += v
				}
			} else {
				axpy(v, otop, gw)
			}
			axpy(v, wr, ge)
		}
		for k := nl - 1; k >= 0; k-- {
			var input []float64
			var inActive []int32
			if k == 0 {
				input = x[t*m.Cfg.Inputs : (t+1)*m.Cfg.Inputs]
			} else {
				below := &tp.ls[k-1]
				input = below.o[t*below.n : (t+1)*below.n]
				if !tp.smooth {
					inActive = below.active[t]
				}
			}
			m.backLayer(ws, k, t, input, inActive)
		}
	}
}

// backLayer propagates step t of layer k.
func (m *Model) backLayer(ws *workspace, k, t int, input []float64, inActive []int32) {
	l := &m.layers[k]
	gl := &ws.grad.layers[k]
	lt := &ws.tp.ls[k]
	n, in := l.n, l.in
	sp := m.Spec
	soft := m.Cfg.SoftReset
	tau, c, gamma, ure, uth := lt.eff[Tau], lt.eff[Gain], lt.eff[Gamma], lt.eff[Ureset], lt.eff[Uth]
	gTau, gC, gGamma, gUre, gUth := gl.p[Tau], gl.p[Gain], gl.p[Gamma], gl.p[Ureset], gl.p[Uth]
	ge, cu, co, ca, coNew, gcur := ws.goExt[k], ws.cu[k], ws.co[k], ws.ca[k], ws.coNew[k], ws.gcur[k]
	base := t * n
	var uprev, oprev []float64
	if t > 0 {
		uprev = lt.u[base-n : base]
		oprev = lt.o[base-n : base]
	}
	for i := range n {
		var up, op float64
		if t > 0 {
			up, op = uprev[i], oprev[i]
		}
		gout := ge[i] + co[i]
		sg := m.surr.grad(lt.u[base+i] - lt.th[base+i])
		gu := gout*sg + cu[i]
		gth := -gout * sg
		gUth[i] += gth
		ga := ca[i] + sp.BetaA*gth
		gpre := gu * rectifySlope(lt.pre[base+i])
		ut := lt.ut[base+i]
		gTau[i] += gpre * (ure[i] - ut)
		gC[i] += gpre * (lt.cur[base+i] - gamma[i]*op)
		gGamma[i] -= gpre * c[i] * op
		gUre[i] += gpre * tau[i]
		gut := gpre * (1 - tau[i])
		gcur[i] = gpre * c[i]
		gr := -gpre * c[i] * gamma[i]
		if soft {
			gr -= gut * uth[i]
			gUth[i] -= gut * op
			cu[i] = gut
		} else {
			gr += gut * (ure[i] - up)
			gUre[i] += gut * op
			cu[i] = gut * (1 - op)
		}
		if sp.Adaptive {
			gr += ga * (1 - sp.Rho)
			ca[i] = ga * sp.Rho
		}
		coNew[i] = gr
	}
	// Synapses: weights, biases, the input gradient and recurrence.
	var below []float64
	if k > 0 {
		below = ws.goExt[k-1]
		clear(below)
	}
	var prevActive []int32
	if t > 0 {
		prevActive = lt.active[t-1]
	}
	for i, v := range gcur[:n] {
		gl.b[i] += v
		if v == 0 {
			continue
		}
		gw := gl.w[i*in : (i+1)*in]
		if inActive != nil {
			for _, j := range inActive {
				gw[j] += v
			}
		} else {
			axpy(v, input, gw)
		}
		if below != nil {
			axpy(v, l.w[i*in:(i+1)*in], below)
		}
		if l.r != nil && t > 0 {
			gr := gl.r[i*n : (i+1)*n]
			if !ws.tp.smooth {
				for _, j := range prevActive {
					gr[j] += v
				}
			} else {
				axpy(v, oprev, gr)
			}
			if !m.Cfg.Detached {
				axpy(v, l.r[i*n:(i+1)*n], coNew)
			}
		}
	}
	if m.Cfg.Detached {
		clear(cu)
		clear(ca)
		clear(co)
		return
	}
	copy(co, coNew)
}

// finishGrad maps accumulated effective-parameter gradients in g to raw
// parameters: chain rule through the sigmoid, zero for fixed parameters
// and the layer sum, broadcast, for shared ones.
func (m *Model) finishGrad(g *Model) {
	for k, l := range g.layers {
		for p := range NumParams {
			v := l.p[p]
			switch m.Spec.Modes[p] {
			case Fixed:
				clear(v)
				continue
			case Shared:
				s := 0.0
				for _, x := range v {
					s += x
				}
				for i := range v {
					v[i] = s
				}
			}
			if m.sigmoidParam(Param(p)) {
				r := Ranges[p]
				for i := range v {
					s := sigmoid(m.layers[k].p[p][i])
					v[i] *= (r.Hi - r.Lo) * s * (1 - s)
				}
			}
		}
	}
}
