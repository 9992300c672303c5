package snn

import "golang.org/x/sys/cpu"

// useAVX2 selects the vector kernels for weight-row accumulation; tests
// turn it off to compare with the portable loops.
var useAVX2 = cpu.X86.HasAVX2

//go:noescape
func addRowAVX2(dst, row *float32, n int)

//go:noescape
func axpyRowAVX2(x float32, dst, row *float32, n int)

// addRowVector adds the first multiple of 16 elements of row to dst with
// AVX2 and returns how many it did (0 without AVX2).
func addRowVector(dst, row []float32) int {
	n := len(row) &^ 15
	if !useAVX2 || n == 0 {
		return 0
	}
	addRowAVX2(&dst[0], &row[0], n)
	return n
}

// axpyRowVector adds x times the first multiple of 16 elements of row to
// dst with AVX2 and returns how many it did (0 without AVX2).
func axpyRowVector(x float32, dst, row []float32) int {
	n := len(row) &^ 15
	if !useAVX2 || n == 0 {
		return 0
	}
	axpyRowAVX2(x, &dst[0], &row[0], n)
	return n
}

//go:noescape
func neuronStepAVX2(u, omt, tu, c, cur, uth *float32, mask *uint8, n int)

// neuronVector advances the first multiple of 8 neurons of a
// non-adaptive layer with AVX2, writing one spike bit per neuron into
// mask, and returns how many it did (0 without AVX2).
func neuronVector(u, omt, tu, c, cur, uth []float32, mask []uint8) int {
	n := len(u) &^ 7
	if !useAVX2 || n == 0 {
		return 0
	}
	_ = omt[n-1]
	_ = tu[n-1]
	_ = c[n-1]
	_ = cur[n-1]
	_ = uth[n-1]
	_ = mask[n/8-1]
	neuronStepAVX2(&u[0], &omt[0], &tu[0], &c[0], &cur[0], &uth[0], &mask[0], n)
	return n
}
