package snn

import "math"

// LossKind selects the training objective.
type LossKind string

// Losses.
const (
	// SmoothL1 (Huber with delta 1) on standardised targets: velocity
	// regression, as in the reference BCI code.
	SmoothL1 LossKind = "smooth-l1"
	// CrossEntropy on the softmax of the readout; the target's first
	// column holds the class index.
	CrossEntropy LossKind = "cross-entropy"
)

// Loss is a training objective over one sequence.
type Loss struct {
	Kind LossKind
	// PosWeight adds, for SmoothL1, a smooth-L1 loss on position: the
	// running sum of predicted against true standardised velocity, scaled
	// by PosScale (default 0.1), weighted by PosWeight.
	PosWeight, PosScale float64
}

// eval returns the loss of readout y against target over steps, counting
// steps from burn on, divided by norm, and writes dL/dy into gy (zero
// during burn-in).
func (l Loss) eval(y, target []float64, steps, out, burn int, norm float64, gy []float64) float64 {
	clear(gy[:steps*out])
	total := 0.0
	switch l.Kind {
	case CrossEntropy:
		for t := burn; t < steps; t++ {
			row := y[t*out : (t+1)*out]
			mx := math.Inf(-1)
			for _, v := range row {
				mx = math.Max(mx, v)
			}
			z := 0.0
			for _, v := range row {
				z += math.Exp(v - mx)
			}
			c := int(target[t*out])
			if c < 0 || c >= out {
				continue
			}
			total += -(row[c] - mx - math.Log(z))
			g := gy[t*out : (t+1)*out]
			for o, v := range row {
				g[o] = math.Exp(v-mx) / z / norm
			}
			g[c] -= 1 / norm
		}
	default:
		for i := burn * out; i < steps*out; i++ {
			d := y[i] - target[i]
			total += huber(d)
			gy[i] = huberGrad(d) / norm
		}
		if l.PosWeight > 0 {
			scale := l.PosScale
			if scale == 0 {
				scale = 0.1
			}
			for o := range out {
				p, q := 0.0, 0.0
				// forward: positions; backward: reverse cumulative sums.
				gp := make([]float64, steps)
				for t := burn; t < steps; t++ {
					p += scale * y[t*out+o]
					q += scale * target[t*out+o]
					total += l.PosWeight * huber(p-q)
					gp[t] = l.PosWeight * huberGrad(p-q) / norm
				}
				acc := 0.0
				for t := steps - 1; t >= burn; t-- {
					acc += gp[t]
					gy[t*out+o] += scale * acc
				}
			}
		}
	}
	return total / norm
}

func huber(d float64) float64 {
	if a := math.Abs(d); a >= 1 {
		return a - 0.5
	}
	return 0.5 * d * d
}

func huberGrad(d float64) float64 { return math.Max(-1, math.Min(1, d)) }
