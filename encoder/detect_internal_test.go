package encoder

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/bci-decode/bci-decode/acquire"
)

// TestVectorDetectorMatchesPortable runs the same stream through the
// vector and portable detectors; counts, refractory and arming state must
// agree exactly, NaN samples included.
func TestVectorDetectorMatchesPortable(t *testing.T) {
	if !useAVX2 {
		t.Skip("no vector kernel on this machine")
	}
	for _, channels := range []int{8, 13, 384} {
		r := rand.New(rand.NewPCG(uint64(channels), 3))
		frames := make([]acquire.Frame, 40)
		for i := range frames {
			frames[i] = acquire.Frame{Seq: uint64(i), Channels: channels, Rate: 30000, Data: make([]float32, channels*300)}
			for j := range frames[i].Data {
				v := r.NormFloat64() * 10
				if r.IntN(500) == 0 {
					v = -80 // spikes
				}
				frames[i].Data[j] = float32(v)
			}
			if i > 20 {
				frames[i].Data[7] = float32(math.NaN()) // after calibration
			}
		}
		run := func(vector bool) ([]float32, []int32, []int32, []acquire.Bin) {
			useAVX2 = vector
			defer func() { useAVX2 = true }()
			enc, err := NewEncoder(channels, 30000, Options{Calibration: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			var bins []acquire.Bin
			for i := range frames {
				fr := frames[i]
				fr.Data = slices.Clone(fr.Data)
				if err := enc.Process(&fr); err != nil {
					t.Fatal(err)
				}
				var b acquire.Bin
				for enc.Next(&b) {
					var cp acquire.Bin
					cp.CopyFrom(&b)
					bins = append(bins, cp)
				}
			}
			return slices.Clone(enc.counts), slices.Clone(enc.dead), slices.Clone(enc.armed), bins
		}
		c1, d1, a1, b1 := run(true)
		c2, d2, a2, b2 := run(false)
		if !slices.Equal(c1, c2) || !slices.Equal(d1, d2) || !slices.Equal(a1, a2) {
			t.Fatalf("%d channels: detector state differs", channels)
		}
		if len(b1) != len(b2) {
			t.Fatalf("%d channels: %d vs %d bins", channels, len(b1), len(b2))
		}
		total := float32(0)
		for i := range b1 {
			if !slices.Equal(b1[i].Features, b2[i].Features) {
				t.Fatalf("%d channels: bin %d differs", channels, i)
			}
			for _, v := range b1[i].Features {
				total += v
			}
		}
		if total == 0 {
			t.Fatalf("%d channels: no crossings at all", channels)
		}
	}
}
