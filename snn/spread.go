package snn

import (
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/stat"
)

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
	s := Spread{Lo: r.Lo, Hi: r.Hi}
	v := make([]float64, m.layers[l].n)
	for i := range v {
		v[i] = m.Effective(l, p, i)
		k := int((v[i] - r.Lo) / (r.Hi - r.Lo) * SpreadBins)
		s.Hist[min(max(k, 0), SpreadBins-1)]++
	}
	s.Mean, s.SD = stat.PopMeanStdDev(v, nil)
	s.Min, s.Max = floats.Min(v), floats.Max(v)
	return s
}
