package filters_test

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/filters"
)

// frames splits n samples of c channels into frames of varying size.
func frames(data []float32, c int, sizes []int) []acquire.Frame {
	var out []acquire.Frame
	for s, i := 0, 0; s < len(data)/c; i++ {
		n := min(sizes[i%len(sizes)], len(data)/c-s)
		out = append(out, acquire.Frame{Seq: uint64(i), Channels: c, Rate: 30000, Data: append([]float32(nil), data[s*c:(s+n)*c]...)})
		s += n
	}
	return out
}

func TestIIRStreamsLikeResponse(t *testing.T) {
	sos, err := filters.Butterworth("bandpass", 4, 30000, 300, 6000)
	require.NoError(t, err)
	const C, N = 5, 3000
	r := rand.New(rand.NewPCG(1, 1))
	data := make([]float32, C*N)
	for i := range data {
		data[i] = float32(r.NormFloat64() * 50)
	}
	f, err := filters.NewIIR(sos, C)
	require.NoError(t, err)
	var out []float32
	for _, fr := range frames(data, C, []int{1, 7, 300, 64}) {
		require.NoError(t, f.Process(&fr))
		out = append(out, fr.Data...)
	}
	for c := range C {
		x := make([]float64, N)
		for s := range N {
			x[s] = float64(data[s*C+c])
		}
		want := sos.Response(x)
		for s := range N {
			assert.InDelta(t, want[s], out[s*C+c], 1e-3, "channel %d sample %d", c, s)
		}
	}
	fr := acquire.Frame{Channels: 4, Data: make([]float32, 8)}
	assert.Error(t, f.Process(&fr), "channel mismatch")
}

func TestNotch(t *testing.T) {
	sos, err := filters.Notch(60, 30, 30000)
	require.NoError(t, err)
	assert.Less(t, sos.Gain(60, 30000), 1e-6)
	assert.InDelta(t, 1, sos.Gain(1000, 30000), 1e-3)
	assert.InDelta(t, math.Sqrt(0.5), sos.Gain(61, 30000), 0.01, "-3 dB one Hz away at Q 30")
	_, err = filters.Notch(20000, 30, 30000)
	assert.Error(t, err)
}

func TestCAR(t *testing.T) {
	row := []float32{1, 2, 3, 100}
	for _, tc := range []struct {
		median bool
		ref    float32
	}{{false, 26.5}, {true, 2.5}} {
		fr := acquire.Frame{Channels: 4, Data: append(append([]float32(nil), row...), row...)}
		require.NoError(t, filters.NewCAR(tc.median, 4).Process(&fr))
		for i, v := range fr.Data {
			assert.InDelta(t, row[i%4]-tc.ref, v, 1e-5)
		}
	}
	// odd channel count and a random median check
	r := rand.New(rand.NewPCG(2, 2))
	v := make([]float32, 101)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	sorted := append([]float32(nil), v...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	fr := acquire.Frame{Channels: 101, Data: append([]float32(nil), v...)}
	require.NoError(t, filters.NewCAR(true, 101).Process(&fr))
	assert.InDelta(t, v[0]-sorted[50], fr.Data[0], 1e-6)
	one := acquire.Frame{Channels: 1, Data: []float32{1}}
	assert.Error(t, filters.NewCAR(false, 1).Process(&one))
}

func TestChainDoesNotAllocate(t *testing.T) {
	sos, err := filters.Butterworth("bandpass", 4, 30000, 300, 6000)
	require.NoError(t, err)
	iir, err := filters.NewIIR(sos, 64)
	require.NoError(t, err)
	notch, _ := filters.Notch(60, 30, 30000)
	nf, err := filters.NewIIR(notch, 64)
	require.NoError(t, err)
	gains := make(filters.Gain, 64)
	for i := range gains {
		gains[i] = 0.195
	}
	chain := filters.Chain{gains, nf, iir, filters.NewCAR(true, 64)}
	fr := acquire.Frame{Channels: 64, Data: make([]float32, 64*300)}
	assert.Zero(t, testing.AllocsPerRun(50, func() { _ = chain.Process(&fr) }))
}
