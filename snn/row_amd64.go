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
