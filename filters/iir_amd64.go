package filters

import "golang.org/x/sys/cpu"

// useAVX2 selects the vector kernel for pairs of symmetric sections; tests
// turn it off to compare with the portable code.
var useAVX2 = cpu.X86.HasAVX2

//go:noescape
func symPairAVX2(x, za1, za2, zb1, zb2 *float64, n int, c *[6]float64)

// symPairVector runs sections k and k+1 on the channels it can take four
// at a time and returns how many it did.
func (f *IIR) symPairVector(x []float64, k int) int {
	n := len(x) &^ 3
	if !useAVX2 || n == 0 {
		return 0
	}
	a, b := &f.norm[k], &f.norm[k+1]
	c := [6]float64{a[1], a[4], a[5], b[1], b[4], b[5]}
	symPairAVX2(&x[0], &f.z1[k][0], &f.z2[k][0], &f.z1[k+1][0], &f.z2[k+1][0], n, &c)
	return n
}
