package snn

import "math"

// SpreadBins is the number of histogram bins of a Spread.
const SpreadBins = 12

// Spread describes one neuron parameter across a layer: how far the
// neurons have grown apart, which is what heterogeneity means.
type Spread struct {
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

// Layers is the number of spiking layers.
func (m *Model) Layers() int { return len(m.layers) }

// Spread summarises the effective values of parameter p in layer l.
func (m *Model) Spread(l int, p Param) Spread {
	r := Ranges[p]
	s := Spread{Min: math.Inf(1), Max: math.Inf(-1), Lo: r.Lo, Hi: r.Hi}
	n := m.layers[l].n
	for i := range n {
		v := m.Effective(l, p, i)
		s.Mean += v
		s.Min, s.Max = math.Min(s.Min, v), math.Max(s.Max, v)
		k := int((v - r.Lo) / (r.Hi - r.Lo) * SpreadBins)
		s.Hist[min(max(k, 0), SpreadBins-1)]++
	}
	s.Mean /= float64(n)
	for i := range n {
		d := m.Effective(l, p, i) - s.Mean
		s.SD += d * d
	}
	s.SD = math.Sqrt(s.SD / float64(n))
	return s
}
