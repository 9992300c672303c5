package snn

import (
	"math"
	"testing"
)

// TestSpread: a layer's parameter summarised over its neurons, with a
// histogram over the valid range whose end bins take values beyond it.
func TestSpread(t *testing.T) {
	m, err := NewModel(Config{Kind: HIFI, Inputs: 2, Hidden: []int{4}, Outputs: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	copy(m.layers[0].p[Tau], []float64{0.1, 0.16, 0.25, 0.4}) // [0.1, 0.3], 12 bins of 1/60
	s := m.Spread(0, Tau)
	mean := (0.1 + 0.16 + 0.25 + 0.4) / 4
	sd := math.Sqrt((sq(0.1-mean) + sq(0.16-mean) + sq(0.25-mean) + sq(0.4-mean)) / 4)
	if math.Abs(s.Mean-mean) > 1e-12 || math.Abs(s.SD-sd) > 1e-12 || s.Min != 0.1 || s.Max != 0.4 || s.Lo != 0.1 || s.Hi != 0.3 {
		t.Fatalf("spread %+v, want mean %v sd %v over [0.1, 0.4]", s, mean, sd)
	}
	want := [SpreadBins]int{0: 1, 3: 1, 9: 1, 11: 1}
	if s.Hist != want {
		t.Fatalf("histogram %v, want %v", s.Hist, want)
	}
}

func sq(x float64) float64 { return x * x }
