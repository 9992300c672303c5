package encoder

import "golang.org/x/sys/cpu"

// useAVX2 selects the vector detector; tests turn it off to compare it
// with the portable loop.
var useAVX2 = cpu.X86.HasAVX2

//go:noescape
func detectAVX2(row, thr *float32, dead *int32, counts *float32, armed *int32, n int, refr int32)

// detectVector runs the detector on the channels it can take eight at a
// time and returns how many it did.
func detectVector(row, thr []float32, dead []int32, counts []float32, armed []int32, refr int32) int {
	n := len(row) &^ 7
	if !useAVX2 || n == 0 || len(thr) < n || len(dead) < n || len(counts) < n || len(armed) < n {
		return 0
	}
	detectAVX2(&row[0], &thr[0], &dead[0], &counts[0], &armed[0], n, refr)
	return n
}
