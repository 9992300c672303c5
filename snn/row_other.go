//go:build !amd64

package snn

// useAVX2 is false where there is no vector kernel.
var useAVX2 = false

// addRowVector has no vector kernel on this architecture.
func addRowVector(dst, row []float32) int { return 0 }

// axpyRowVector has no vector kernel on this architecture.
func axpyRowVector(x float32, dst, row []float32) int { return 0 }

// neuronVector has no vector kernel on this architecture.
func neuronVector(u, omt, tu, c, cur, uth []float32, mask []uint8) int { return 0 }
