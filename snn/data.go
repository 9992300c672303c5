package snn

import (
	"fmt"
	"math"
)

// Data is a set of standardised sequences for training: X holds Inputs
// values per bin and Y Outputs values per bin, both flat; Segments are
// [start, end) bin ranges of contiguous recording (trials) within which
// the network's state carries over.
type Data struct {
	Inputs, Outputs int
	X, Y            []float64
	Segments        [][2]int
}

// Len is the number of bins.
func (d *Data) Len() int {
	if d.Inputs == 0 {
		return 0
	}
	return len(d.X) / d.Inputs
}

// validate checks sizes and finiteness.
func (d *Data) validate(cfg Config) error {
	n := d.Len()
	switch {
	case d.Inputs != cfg.Inputs || d.Outputs != cfg.Outputs:
		return fmt.Errorf("%w: data has %d inputs and %d outputs, network %d and %d", ErrConfig, d.Inputs, d.Outputs, cfg.Inputs, cfg.Outputs)
	case n == 0 || len(d.Y) != n*d.Outputs:
		return fmt.Errorf("snn: data has %d input values and %d targets for %d bins", len(d.X), len(d.Y), n)
	case len(d.Segments) == 0:
		return fmt.Errorf("snn: data has %d bins but no segments", n)
	}
	for _, g := range d.Segments {
		if g[0] < 0 || g[1] > n || g[0] >= g[1] {
			return fmt.Errorf("snn: segment %v outside [0, %d)", g, n)
		}
	}
	for _, v := range [][]float64{d.X, d.Y} {
		for i, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("snn: non-finite value %v at %d", x, i)
			}
		}
	}
	return nil
}

// chunk is a training sequence: bins [start, start+n), the first burn of
// which only warm the state up and are not scored.
type chunk struct{ start, n, burn int }

// chunks cuts every segment into sequences of at most seqLen scored bins;
// a sequence that does not start at its segment's start is preceded by up
// to burn warm-up bins.
func (d *Data) chunks(seqLen, burn int) []chunk {
	var out []chunk
	for _, g := range d.Segments {
		for s := g[0]; s < g[1]; s += seqLen {
			e := min(s+seqLen, g[1])
			b := min(burn, s-g[0])
			out = append(out, chunk{start: s - b, n: e - s + b, burn: b})
		}
	}
	return out
}
