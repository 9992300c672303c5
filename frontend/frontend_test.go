package frontend_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/encoder"
	"github.com/bci-decode/bci-decode/frontend"
)

func TestChainOptions(t *testing.T) {
	tests := []struct {
		name   string
		opts   frontend.Options
		stages int
		ok     bool
	}{
		{"defaults: band-pass and mean CAR", frontend.Options{}, 2, true},
		{"notch and median", frontend.Options{Notch: 60, CAR: "median"}, 3, true},
		{"no reference", frontend.Options{CAR: "none"}, 1, true},
		{"bad reference", frontend.Options{CAR: "mode"}, 0, false},
		{"band above Nyquist", frontend.Options{Band: [2]float64{300, 20000}}, 0, false},
		{"bad notch", frontend.Options{Notch: 16000}, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			chain, err := frontend.Chain(tc.opts, 8, 30000)
			if !tc.ok {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Len(t, chain, tc.stages)
		})
	}
}

func TestReaderBinsBroadband(t *testing.T) {
	sim, err := acquire.NewBroadband(acquire.BroadbandConfig{Seed: 2, Channels: 8, Duration: 3 * time.Second})
	require.NoError(t, err)
	r, err := frontend.Reader(sim, frontend.Options{Encoder: encoder.Options{BinWidth: 50 * time.Millisecond, Power: true}})
	require.NoError(t, err)
	var b acquire.Bin
	n := 0
	var counts float32
	for r.ReadBin(context.Background(), &b) == nil {
		require.Len(t, b.Features, 16, "counts then power")
		assert.Equal(t, int64(50e6), b.End-b.Start)
		if n >= 20 { // after the 1 s calibration
			for _, c := range b.Features[:8] {
				counts += c
			}
			for _, p := range b.Features[8:] {
				assert.Positive(t, p, "spike-band power")
			}
		}
		n++
	}
	assert.Equal(t, 60, n)
	// 8 units at 5-30 Hz for 2 s
	assert.InDelta(t, 8*17.5*2, counts, 8*12.5*2)
	assert.Equal(t, 50*time.Millisecond, r.Shape().BinWidth)
	assert.Equal(t, 16, r.Shape().Channels)
}
