package snn

import "math"

// SpreadBins is the number of histogram bins of a Spread.
const SpreadBins = 12

// Spread describes one neuron parameter across a layer: how far the
// neurons have grown apart, which is what heterogeneity means.
type Spread struct {
	// Mean, SD, Min and Max are over the layer's neurons; SD is the
	// population standard deviation (the layer is the whole population).
	Mean float64 `json:"mean"`
	SD   float64 `json:"sd"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
	// Lo and Hi are the parameter's valid range; Hist counts the neurons
	// in each of SpreadBins equal parts of it. A fixed parameter outside
	// the range (LIF's gamma of 0) counts in the nearer end bin.
	Lo   float64         `json:"lo"`
	Hi   float64         `json:"hi"`
	Hist [SpreadBins]int `json:"hist"`
}

// Spread summarises the effective values of parameter p in layer l.
func (m *Model) Spread(l int, p Param) Spread {
	r := Ranges[p]
	s := Spread{Min: math.Inf(1), Max: math.Inf(-1), Lo: r.Lo, Hi: r.Hi}
	var m2 float64 // Welford's running sum of squared deviations
	n := m.layers[l].n
	for i := range n {
		v := m.Effective(l, p, i)
		d := v - s.Mean
		s.Mean += d / float64(i+1)
		m2 += d * (v - s.Mean)
		s.Min, s.Max = math.Min(s.Min, v), math.Max(s.Max, v)
		k := int((v - r.Lo) / (r.Hi - r.Lo) * SpreadBins)
		s.Hist[min(max(k, 0), SpreadBins-1)]++
	}
	s.SD = math.Sqrt(m2 / float64(n))
	return s
}
