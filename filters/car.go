package filters

import (
	"fmt"
	"slices"

	"github.com/bci-decode/bci-decode/acquire"
)

// CAR is common average referencing: each sample frame has the mean (or
// median) over channels subtracted from every channel, removing signals
// common to the whole array (reference noise, movement artefacts).
type CAR struct {
	median  bool
	scratch []float32
}

// NewCAR returns a mean reference, or a median one (robust to a few
// channels with large artefacts, at a higher cost per sample).
func NewCAR(median bool, channels int) *CAR {
	return &CAR{median: median, scratch: make([]float32, channels)}
}

// Process implements Stage.
func (r *CAR) Process(fr *acquire.Frame) error {
	C := fr.Channels
	if C < 2 {
		return fmt.Errorf("car: frame %d has %d channel(s); a common reference needs at least 2", fr.Seq, C)
	}
	if cap(r.scratch) < C {
		r.scratch = make([]float32, C)
	}
	for s := 0; s+C <= len(fr.Data); s += C {
		row := fr.Data[s : s+C : s+C]
		var ref float32
		if r.median {
			ref = medianOf(row, r.scratch[:C])
		} else {
			ref = float32(sum(row) / float64(C))
		}
		for c := range row {
			row[c] -= ref
		}
	}
	return nil
}

// medianOf returns the median of v, using scratch (same length) so v is
// left untouched.
func medianOf(v, scratch []float32) float32 {
	copy(scratch, v)
	n := len(scratch)
	m := quickselect(scratch, n/2)
	if n%2 == 1 {
		return m
	}
	// the lower middle is the largest of the left part
	return (m + slices.Max(scratch[:n/2])) / 2
}

// quickselect partially sorts a so that a[k] is the k-th smallest and
// returns it.
func quickselect(a []float32, k int) float32 {
	lo, hi := 0, len(a)-1
	for lo < hi {
		// median of three as pivot
		mid := lo + (hi-lo)/2
		if a[mid] < a[lo] {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if a[hi] < a[lo] {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if a[hi] < a[mid] {
			a[hi], a[mid] = a[mid], a[hi]
		}
		p := a[mid]
		i, j := lo, hi
		for i <= j {
			for a[i] < p {
				i++
			}
			for a[j] > p {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return a[k]
		}
	}
	return a[k]
}

// sum adds v in float64 with four independent accumulators, so the adds
// overlap instead of waiting on each other.
func sum(v []float32) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(v); i += 4 {
		q := v[i : i+4 : i+4]
		s0 += float64(q[0])
		s1 += float64(q[1])
		s2 += float64(q[2])
		s3 += float64(q[3])
	}
	for ; i < len(v); i++ {
		s0 += float64(v[i])
	}
	return (s0 + s1) + (s2 + s3)
}
