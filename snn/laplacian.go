package snn

import "math"

// laplacian is the graph-Laplacian smoothness term on neuron parameters:
// L = sum over layers and parameters of sum_ij w_ij ((a_i - a_j)/range)^2
// / sum_ij w_ij, with w_ij the symmetrised |recurrent weight| between
// neurons i and j, or, without recurrence, the cosine similarity of their
// absolute input weights. Strongly connected (or similarly driven)
// neurons are pulled towards similar parameters.
type laplacian struct {
	adj [][]float64 // per layer, n×n, zero diagonal
	sum []float64
}

func newLaplacian(m *Model) *laplacian {
	lp := &laplacian{}
	for _, l := range m.layers {
		n := l.n
		adj := make([]float64, n*n)
		if l.r != nil {
			for i := range n {
				for j := range n {
					if i != j {
						adj[i*n+j] = 0.5 * (math.Abs(l.r[i*n+j]) + math.Abs(l.r[j*n+i]))
					}
				}
			}
		} else {
			norms := make([]float64, n)
			for i := range n {
				for _, w := range l.w[i*l.in : (i+1)*l.in] {
					norms[i] += w * w
				}
				norms[i] = math.Sqrt(norms[i]) + 1e-12
			}
			for i := range n {
				wi := l.w[i*l.in : (i+1)*l.in]
				for j := i + 1; j < n; j++ {
					wj := l.w[j*l.in : (j+1)*l.in]
					s := 0.0
					for k := range wi {
						s += math.Abs(wi[k]) * math.Abs(wj[k])
					}
					s /= norms[i] * norms[j]
					adj[i*n+j], adj[j*n+i] = s, s
				}
			}
		}
		total := 0.0
		for _, v := range adj {
			total += v
		}
		lp.adj = append(lp.adj, adj)
		lp.sum = append(lp.sum, math.Max(total, 1e-12))
	}
	return lp
}

// addGrad adds lambda times the term's gradient with respect to the
// per-neuron parameters to g (laid out like Model.A).
func (lp *laplacian) addGrad(m *Model, g []float64, lambda float64) {
	_, na := m.Cfg.sizes()
	gl, _, _ := m.Cfg.views(make([]float64, len(m.W)), g[:na])
	for k, l := range m.layers {
		n := l.n
		adj := lp.adj[k]
		for p := range NumParams {
			if m.Spec.Modes[p] != PerNeuron {
				continue
			}
			scale := 1.0
			if !m.sigmoidParam(Param(p)) {
				r := Ranges[p].Hi - Ranges[p].Lo
				scale = 1 / (r * r)
			}
			a := l.p[p]
			for i := range n {
				s := 0.0
				row := adj[i*n : (i+1)*n]
				for j, w := range row {
					s += w * (a[i] - a[j])
				}
				gl[k].p[p][i] += lambda * 4 * s * scale / lp.sum[k]
			}
		}
	}
}

// value returns the smoothness term (for tests).
func (lp *laplacian) value(m *Model) float64 {
	total := 0.0
	for k, l := range m.layers {
		n := l.n
		v := 0.0
		for p := range NumParams {
			if m.Spec.Modes[p] != PerNeuron {
				continue
			}
			scale := 1.0
			if !m.sigmoidParam(Param(p)) {
				r := Ranges[p].Hi - Ranges[p].Lo
				scale = 1 / (r * r)
			}
			a := l.p[p]
			for i := range n {
				for j := range n {
					d := a[i] - a[j]
					v += lp.adj[k][i*n+j] * d * d * scale
				}
			}
		}
		total += v / lp.sum[k]
	}
	return total
}
