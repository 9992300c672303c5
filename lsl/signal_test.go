package lsl

import (
	"encoding/binary"
	"strconv"
	"strings"
)

// The deterministic test signal of testdata/peers/common.hpp, computed
// the same way here so values and stamps compare bit for bit.

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func valbits(i, k, nch uint64) uint64 { return splitmix64(i*nch + k) }

func strval(i, k, nch uint64) string {
	u := valbits(i, k, nch)
	s := "s" + strconv.FormatUint(i, 10) + "-" + strconv.FormatUint(k, 10)
	if u%16 == 3 {
		s += strings.Repeat("x", int(300+u%50))
	}
	if u%8 == 5 {
		s = ""
	}
	return s
}

// stampof is the stamp of sample i in "stamped" mode (explicit roundings
// keep Go from fusing operations that C++ rounds separately).
func stampof(i uint64, rate float64) float64 {
	a := float64(float64(i) / rate)
	b := float64(float64(splitmix64(i)%1000) * 1e-9)
	return float64(1000.0+a) + b
}

// sampleBytesOf returns the little-endian wire bytes of sample i.
func sampleBytesOf(f Format, i uint64, nch int) []byte {
	size := f.Size()
	out := make([]byte, nch*size)
	var tmp [8]byte
	for k := 0; k < nch; k++ {
		binary.LittleEndian.PutUint64(tmp[:], valbits(i, uint64(k), uint64(nch)))
		copy(out[k*size:], tmp[:size])
	}
	return out
}

// dedupedStamps reproduces what receivers compute in "deduced" mode:
// per chunk, the first stamp is the last one's minus (n-1)/rate, the rest
// previous + 1/rate.
func dedupedStamps(count, chunk int, rate float64) []float64 {
	out := make([]float64, 0, count)
	for i0 := 0; i0 < count; i0 += chunk {
		n := min(chunk, count-i0)
		ts := stampof(uint64(i0+n-1), rate)
		s := ts - float64(n-1)/rate
		out = append(out, s)
		for j := 1; j < n; j++ {
			s = s + 1.0/rate
			out = append(out, s)
		}
	}
	return out
}
