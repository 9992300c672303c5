//go:build !amd64

package filters

// useAVX2 is false where there is no vector kernel.
var useAVX2 = false

// symPairVector has no vector kernel on this architecture.
func (f *IIR) symPairVector(x []float64, k int) int { return 0 }
