//go:build !amd64

package encoder

// useAVX2 is false where there is no vector kernel.
var useAVX2 = false

// detectVector has no vector kernel on this architecture.
func detectVector(row, thr []float32, dead []int32, counts []float32, armed []int32, refr int32) int {
	return 0
}
