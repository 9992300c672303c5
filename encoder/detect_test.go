package encoder_test

import (
	"context"
	"errors"
	"io"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/encoder"
	"github.com/bci-decode/bci-decode/filters"
)

// signalChain is the default conditioning: 300-6000 Hz band-pass, order 4,
// then a mean common reference.
func signalChain(t testing.TB, channels int, rate float64) filters.Chain {
	t.Helper()
	sos, err := filters.Butterworth("bandpass", 4, rate, 300, 6000)
	require.NoError(t, err)
	iir, err := filters.NewIIR(sos, channels)
	require.NoError(t, err)
	return filters.Chain{iir, filters.NewCAR(false, channels)}
}

// TestDetectionAccuracy runs simulated broadband data with known spike
// times through the default chain and scores the detector: a detection
// within 0.5 ms of a true trough is a hit, any other is a false detection.
func TestDetectionAccuracy(t *testing.T) {
	const channels = 32
	sim, err := acquire.NewBroadband(acquire.BroadbandConfig{Seed: 3, Channels: channels, Duration: 20 * time.Second, KeepTruth: true})
	require.NoError(t, err)
	type det struct {
		ch int
		n  int64
	}
	var dets []det
	enc, err := encoder.NewEncoder(channels, 30000, encoder.Options{OnCrossing: func(c int, n int64) { dets = append(dets, det{c, n}) }})
	require.NoError(t, err)
	r, err := encoder.NewFrameReader(sim, signalChain(t, channels, 30000), enc)
	require.NoError(t, err)
	var b acquire.Bin
	var total float32
	bins := 0
	for {
		err := r.ReadBin(context.Background(), &b)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		for _, v := range b.Features {
			total += v
		}
		bins++
	}
	assert.Equal(t, 1000, bins, "20 s of 20 ms bins")
	assert.Equal(t, float32(len(dets)), total, "bins count every crossing")

	calib := int64(30000) // the first second calibrates
	tol := int64(15)      // 0.5 ms
	truth := map[int][]int64{}
	for _, s := range sim.Truth() {
		if s.Sample >= calib+tol && s.Sample < 20*30000-tol {
			truth[s.Channel] = append(truth[s.Channel], s.Sample)
		}
	}
	byCh := map[int][]int64{}
	for _, d := range dets {
		byCh[d.ch] = append(byCh[d.ch], d.n)
	}
	hits, nTruth, falses, nDet := 0, 0, 0, 0
	for c := range channels {
		tr, ds := truth[c], byCh[c]
		nTruth += len(tr)
		used := make([]bool, len(tr))
		j := 0
		for _, d := range ds {
			if d < calib+tol || d >= 20*30000-tol {
				continue
			}
			nDet++
			for j < len(tr) && tr[j] < d-tol {
				j++
			}
			matched := false
			for k := j; k < len(tr) && tr[k] <= d+tol; k++ {
				if !used[k] {
					used[k], matched = true, true
					break
				}
			}
			if matched {
				hits++
			} else {
				falses++
			}
		}
	}
	recall := float64(hits) / float64(nTruth)
	falseRate := float64(falses) / float64(nDet)
	t.Logf("%d true spikes, %d detections: %.1f%% found, %.2f%% of detections false", nTruth, nDet, 100*recall, 100*falseRate)
	assert.GreaterOrEqual(t, recall, 0.90)
	assert.Less(t, falseRate, 0.05)

	sigma := enc.Sigma(nil)
	for c, s := range sigma {
		assert.False(t, math.IsNaN(float64(s)))
		assert.Greater(t, s, float32(1), "channel %d noise estimate", c)
	}
}

func TestEncoderBinsAlignToSamples(t *testing.T) {
	// 1000 Hz, 10 ms bins, frames of 7 samples: bins must not depend on
	// how the stream was cut into frames.
	run := func(frame int) []acquire.Bin {
		enc, err := encoder.NewEncoder(2, 1000, encoder.Options{BinWidth: 10 * time.Millisecond, Calibration: 50 * time.Millisecond, Power: true})
		require.NoError(t, err)
		var out []acquire.Bin
		n := 0
		for n < 500 {
			fr := acquire.Frame{Channels: 2, Rate: 1000, Time: 5e9 + int64(n)*1e6}
			for s := 0; s < frame && n < 500; s++ {
				v := float32(math.Sin(float64(n)) * 10)
				if n%37 == 0 {
					v = -100
				}
				fr.Data = append(fr.Data, v, -v)
				n++
			}
			require.NoError(t, enc.Process(&fr))
			var b acquire.Bin
			for enc.Next(&b) {
				var cp acquire.Bin
				cp.CopyFrom(&b)
				out = append(out, cp)
			}
		}
		return out
	}
	a, b := run(7), run(100)
	require.Len(t, a, 50)
	assert.Equal(t, a, b)
	assert.Equal(t, int64(5e9), a[0].Start)
	assert.Equal(t, int64(5e9+10e6), a[0].End)
	assert.Len(t, a[0].Features, 4, "counts then power")
	var counts float32
	for _, x := range a[10:] {
		counts += x.Features[0]
	}
	assert.Positive(t, counts)
}

func TestEncoderRejectsBadInput(t *testing.T) {
	_, err := encoder.NewEncoder(0, 30000, encoder.Options{})
	assert.Error(t, err)
	_, err = encoder.NewEncoder(4, 1000, encoder.Options{BinWidth: time.Microsecond})
	assert.Error(t, err)
	enc, err := encoder.NewEncoder(2, 1000, encoder.Options{})
	require.NoError(t, err)
	err = enc.Process(&acquire.Frame{Channels: 2, Seq: 4, Data: []float32{1, float32(math.NaN())}})
	require.ErrorIs(t, err, encoder.ErrNonFinite)
	assert.Contains(t, err.Error(), "frame 4 sample 0 channel 1")
	assert.Error(t, enc.Process(&acquire.Frame{Channels: 3, Data: []float32{1, 2, 3}}))
}

// TestEncoderReanchorsAfterPause feeds frames that stop for 1.5 s, as a
// bridge that paused would: bins after the pause carry the frames' true
// times instead of lagging by the pause, and the jump is counted.
func TestEncoderReanchorsAfterPause(t *testing.T) {
	enc, err := encoder.NewEncoder(1, 1000, encoder.Options{BinWidth: 10 * time.Millisecond, Calibration: 50 * time.Millisecond})
	require.NoError(t, err)
	var bins []acquire.Bin
	at := int64(7e9)
	for f := range 40 { // frames of 10 samples (10 ms)
		if f == 20 {
			at += int64(1500 * time.Millisecond)
		}
		fr := acquire.Frame{Seq: uint64(f), Channels: 1, Rate: 1000, Time: at, Data: make([]float32, 10)}
		at += int64(10 * time.Millisecond)
		require.NoError(t, enc.Process(&fr))
		var b acquire.Bin
		for enc.Next(&b) {
			var cp acquire.Bin
			cp.CopyFrom(&b)
			bins = append(bins, cp)
		}
	}
	require.Len(t, bins, 40)
	assert.Equal(t, int64(7e9+10e6), bins[0].End)
	assert.Equal(t, int64(7e9+200e6), bins[19].End, "before the pause")
	assert.Equal(t, int64(7e9+1700e6+10e6), bins[20].End, "after the pause, on the frames' clock")
	assert.Equal(t, 10*time.Millisecond, bins[25].Width())
	n, total := enc.Jumps()
	assert.Equal(t, int64(1), n)
	assert.Equal(t, 1500*time.Millisecond, total)

	// Small jitter in frame times is not a jump.
	enc, err = encoder.NewEncoder(1, 1000, encoder.Options{BinWidth: 10 * time.Millisecond})
	require.NoError(t, err)
	for f := range 100 {
		jitter := int64(f%3-1) * int64(3*time.Millisecond)
		require.NoError(t, enc.Process(&acquire.Frame{Channels: 1, Rate: 1000, Time: int64(f)*10e6 + jitter, Data: make([]float32, 10)}))
	}
	n, _ = enc.Jumps()
	assert.Zero(t, n)
}
