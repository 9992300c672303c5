// Package eval scores decoders: R² and Pearson correlation per output
// dimension for continuous kinematics, accuracy and balanced accuracy for
// classes. Tests, the eval command and replay reports all score through this
// package so that every figure is computed the same way.
package eval

import (
	"math"
	"slices"
)

// Regression holds per-dimension scores of a continuous decoder.
type Regression struct {
	// R2 is the coefficient of determination, 1 - SSres/SStot, per dimension.
	R2 []float64 `json:"r2"`
	// R is Pearson's correlation coefficient per dimension.
	R []float64 `json:"r"`
	// N is the number of samples scored.
	N int `json:"n"`
}

// Defined reports whether every dimension has a finite R² and r (false when
// a target has no variance or there are fewer than two samples).
func (r Regression) Defined() bool {
	for i := range r.R2 {
		if math.IsNaN(r.R2[i]) || math.IsNaN(r.R[i]) || math.IsInf(r.R[i], 0) {
			return false
		}
	}
	return len(r.R2) > 0
}

// MeanR2 is the mean of R2 over dimensions.
func (r Regression) MeanR2() float64 { return mean(r.R2) }

// MeanDefinedR2 is the mean of R2 over the dimensions that have one, NaN
// when none has. Validation scores it so that an output held constant in
// the validation split (a target that never moves there) neither poisons
// the mean nor shows its rounding noise as a huge negative R².
func (r Regression) MeanDefinedR2() float64 {
	return mean(slices.DeleteFunc(slices.Clone(r.R2), math.IsNaN))
}

// MeanR is the mean of R over dimensions.
func (r Regression) MeanR() float64 { return mean(r.R) }

func mean(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// Accumulator scores a stream of predictions without keeping them, so a live
// run can report R² without allocating per bin.
type Accumulator struct {
	n                           int
	sy, syy, sp, spp, spy, sres []float64
}

// NewAccumulator returns an accumulator for dim-dimensional outputs.
func NewAccumulator(dim int) *Accumulator {
	return &Accumulator{
		sy: make([]float64, dim), syy: make([]float64, dim),
		sp: make([]float64, dim), spp: make([]float64, dim),
		spy: make([]float64, dim), sres: make([]float64, dim),
	}
}

// Add scores one prediction against its truth; both have the accumulator's
// dimension. Pairs with a non-finite value are skipped.
func (a *Accumulator) Add(pred, truth []float32) {
	for d := range a.sy {
		p, y := float64(pred[d]), float64(truth[d])
		if math.IsNaN(p) || math.IsInf(p, 0) || math.IsNaN(y) || math.IsInf(y, 0) {
			return
		}
	}
	a.n++
	for d := range a.sy {
		p, y := float64(pred[d]), float64(truth[d])
		a.sy[d] += y
		a.syy[d] += y * y
		a.sp[d] += p
		a.spp[d] += p * p
		a.spy[d] += p * y
		a.sres[d] += (y - p) * (y - p)
	}
}

// Result returns the scores so far.
func (a *Accumulator) Result() Regression {
	out := Regression{R2: make([]float64, len(a.sy)), R: make([]float64, len(a.sy)), N: a.n}
	n := float64(a.n)
	for d := range a.sy {
		sst := a.syy[d] - a.sy[d]*a.sy[d]/n
		out.R2[d] = 1 - a.sres[d]/sst
		if sst/n <= 1e-12*(1+(a.syy[d]+a.spp[d])/n) {
			// A target without variance (up to rounding) has no R²;
			// dividing by its rounding noise would give huge values.
			out.R2[d] = math.NaN()
		}
		cov := a.spy[d] - a.sp[d]*a.sy[d]/n
		vp := a.spp[d] - a.sp[d]*a.sp[d]/n
		out.R[d] = cov / math.Sqrt(vp*sst)
		if a.n < 2 {
			out.R2[d], out.R[d] = math.NaN(), math.NaN()
		}
	}
	return out
}

// Score computes per-dimension R² and r of predictions against truths, both
// indexed [sample][dimension].
func Score(pred, truth [][]float32) Regression {
	if len(truth) == 0 {
		return Regression{}
	}
	a := NewAccumulator(len(truth[0]))
	for i := range truth {
		a.Add(pred[i], truth[i])
	}
	return a.Result()
}

// Classification holds scores of a discrete decoder.
type Classification struct {
	Accuracy         float64 `json:"accuracy"`
	BalancedAccuracy float64 `json:"balanced_accuracy"`
	N                int     `json:"n"`
}

// Classes scores predicted against true class labels over k classes.
// Balanced accuracy is the mean of per-class recall over classes present in
// truth.
func Classes(pred, truth []int, k int) Classification {
	hit := make([]int, k)
	tot := make([]int, k)
	correct := 0
	for i, t := range truth {
		if t < 0 || t >= k {
			continue
		}
		tot[t]++
		if pred[i] == t {
			hit[t]++
			correct++
		}
	}
	var rec float64
	present := 0
	for c := range k {
		if tot[c] > 0 {
			rec += float64(hit[c]) / float64(tot[c])
			present++
		}
	}
	out := Classification{N: len(truth)}
	if len(truth) > 0 {
		out.Accuracy = float64(correct) / float64(len(truth))
	}
	if present > 0 {
		out.BalancedAccuracy = rec / float64(present)
	}
	return out
}
