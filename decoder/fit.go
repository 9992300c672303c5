package decoder

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/bci-decode/bci-decode/dataset"
	"github.com/bci-decode/bci-decode/modelfile"
)

// checkSet rejects training sets a decoder cannot be fit to.
func checkSet(s *dataset.Set) error {
	switch {
	case s.Len() < 10:
		return fmt.Errorf("%d training bins, need at least 10", s.Len())
	case s.Inputs() == 0:
		return errors.New("training bins have no features")
	case s.Outputs() == 0:
		return errors.New("training bins have no targets")
	}
	for i := range s.X {
		if len(s.X[i]) != s.Inputs() || len(s.Y[i]) != s.Outputs() {
			return fmt.Errorf("bin %d has %d features and %d targets, want %d and %d", i, len(s.X[i]), len(s.Y[i]), s.Inputs(), s.Outputs())
		}
		for c, v := range s.X[i] {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("bin %d channel %d: non-finite feature %v", i, c, v)
			}
		}
		for c, v := range s.Y[i] {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("bin %d target %d: non-finite value %v", i, c, v)
			}
		}
	}
	return nil
}

// featureStats returns per-feature means and standard deviations; constant
// features get a deviation of 1 so they standardise to 0.
func featureStats(s *dataset.Set) (mu, sd []float64) {
	in := s.Inputs()
	mu, sd = make([]float64, in), make([]float64, in)
	for _, x := range s.X {
		for i, v := range x {
			mu[i] += float64(v)
		}
	}
	n := float64(s.Len())
	for i := range mu {
		mu[i] /= n
	}
	for _, x := range s.X {
		for i, v := range x {
			d := float64(v) - mu[i]
			sd[i] += d * d
		}
	}
	for i := range sd {
		sd[i] = math.Sqrt(sd[i] / n)
		if sd[i] < 1e-9 {
			sd[i] = 1
		}
	}
	return mu, sd
}

// Predict runs d over every segment of s from a reset state and returns
// one output row per bin.
func Predict(d Decoder, s *dataset.Set) [][]float32 { return predict(d, s, nil) }

func predict(d Decoder, s *dataset.Set, observe func(time.Duration)) [][]float32 {
	out := make([][]float32, s.Len())
	flat := make([]float32, s.Len()*d.Outputs())
	for _, g := range s.Segments() {
		d.Reset()
		for t := g[0]; t < g[1]; t++ {
			out[t] = flat[t*d.Outputs() : (t+1)*d.Outputs()]
			if observe == nil {
				d.Step(s.X[t], out[t])
				continue
			}
			t0 := time.Now()
			d.Step(s.X[t], out[t])
			observe(time.Since(t0))
		}
	}
	return out
}

// checkFinite rejects loaded parameters that are NaN or infinite.
func checkFinite(vs ...[]float64) error {
	for _, v := range vs {
		for i, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("%w: parameter %d is %v", modelfile.ErrCorrupt, i, x)
			}
		}
	}
	return nil
}
