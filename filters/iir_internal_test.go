package filters

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bci-decode/bci-decode/acquire"
)

// TestVectorKernelIsBitIdentical runs the same stream through the vector
// and portable kernels: every output sample must have the same bits, so a
// replay on a machine without AVX2 reproduces a live run that had it.
func TestVectorKernelIsBitIdentical(t *testing.T) {
	if !useAVX2 {
		t.Skip("no vector kernel on this machine")
	}
	sos, err := Butterworth("bandpass", 4, 30000, 300, 6000)
	if err != nil {
		t.Fatal(err)
	}
	for _, channels := range []int{1, 7, 384} {
		r := rand.New(rand.NewPCG(uint64(channels), 9))
		data := make([]float32, channels*3000)
		for i := range data {
			data[i] = float32(r.NormFloat64() * 40)
		}
		run := func(vector bool) []float32 {
			useAVX2 = vector
			defer func() { useAVX2 = true }()
			f, err := NewIIR(sos, channels)
			if err != nil {
				t.Fatal(err)
			}
			fr := acquire.Frame{Channels: channels, Data: append([]float32(nil), data...)}
			if err := f.Process(&fr); err != nil {
				t.Fatal(err)
			}
			return fr.Data
		}
		a, b := run(true), run(false)
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				t.Fatalf("%d channels: sample %d differs: %v vs %v", channels, i, a[i], b[i])
			}
		}
	}
}
