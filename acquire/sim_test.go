package acquire_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
)

func TestSimulatorDeterministic(t *testing.T) {
	read := func(seed uint64) []acquire.Bin {
		s, err := acquire.NewSimulator(acquire.SimConfig{Seed: seed, Bins: 200})
		require.NoError(t, err)
		bins, err := readAll(s)
		require.NoError(t, err)
		return bins
	}
	assert.Equal(t, read(5), read(5))
	assert.NotEqual(t, read(5), read(6))
}

func TestSimulatorReachKinematics(t *testing.T) {
	for _, task := range []acquire.Task{acquire.TaskCentreOut, acquire.TaskRandomTarget} {
		t.Run(string(task), func(t *testing.T) {
			s, err := acquire.NewSimulator(acquire.SimConfig{Seed: 2, Task: task, Bins: 3000})
			require.NoError(t, err)
			bins, err := readAll(s)
			require.NoError(t, err)
			var peak float64
			px, py := 0.0, 0.0
			for _, b := range bins {
				vx, vy := float64(b.Target[0]), float64(b.Target[1])
				peak = max(peak, math.Hypot(vx, vy))
				// position integrates velocity
				px += vx * 0.02
				py += vy * 0.02
				assert.InDelta(t, px, b.Target[2], 1e-3)
				assert.InDelta(t, py, b.Target[3], 1e-3)
				assert.LessOrEqual(t, math.Hypot(float64(b.Target[2]), float64(b.Target[3])), 10*math.Sqrt2+1e-3)
			}
			// minimum-jerk reaches of 10 cm in 0.5-1 s peak at 1.875·d/T
			assert.Greater(t, peak, 15.0)
			assert.Less(t, peak, 60.0)
			assert.Greater(t, bins[len(bins)-1].Trial, 20)
		})
	}
}

// TestSimulatorTuning checks that a neuron's firing follows the cosine of
// the angle between hand velocity and its preferred direction: the rate
// regressed on velocity explains most of its variance when averaged.
func TestSimulatorTuning(t *testing.T) {
	s, err := acquire.NewSimulator(acquire.SimConfig{Seed: 4, Channels: 4, Bins: 60000})
	require.NoError(t, err)
	bins, err := readAll(s)
	require.NoError(t, err)
	// Mean count when moving fast in each of 8 directions, per neuron.
	for c := range 4 {
		var sum, n [8]float64
		for _, b := range bins {
			vx, vy := float64(b.Target[0]), float64(b.Target[1])
			if math.Hypot(vx, vy) < 15 {
				continue
			}
			k := int(math.Round(math.Atan2(vy, vx)/(math.Pi/4)+8)) % 8
			sum[k] += float64(b.Features[c])
			n[k]++
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for k := range 8 {
			m := sum[k] / n[k]
			lo, hi = min(lo, m), max(hi, m)
		}
		assert.Greater(t, hi-lo, 0.05, "neuron %d is direction tuned", c)
	}
}

func TestSimulatorRejectsBadConfig(t *testing.T) {
	for _, cfg := range []acquire.SimConfig{
		{Channels: -1},
		{Task: "juggling"},
		{BinWidth: 10},
		{BaselineHz: [2]float64{10, 5}},
	} {
		_, err := acquire.NewSimulator(cfg)
		assert.Error(t, err, "%+v", cfg)
	}
}

func TestSimulatorDoesNotAllocate(t *testing.T) {
	s, err := acquire.NewSimulator(acquire.SimConfig{Seed: 1})
	require.NoError(t, err)
	var b acquire.Bin
	require.NoError(t, s.ReadBin(context.Background(), &b))
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _ = s.ReadBin(context.Background(), &b) }))
}

func TestPacedRunsInRealTime(t *testing.T) {
	s, err := acquire.NewSimulator(acquire.SimConfig{Seed: 1, BinWidth: 5e6, Bins: 40})
	require.NoError(t, err)
	start := time.Now()
	p := acquire.Paced(s, true)
	bins, err := readAll(p)
	require.NoError(t, err)
	require.Len(t, bins, 40)
	// 40 bins of 5 ms cannot be delivered in less than 200 ms.
	assert.GreaterOrEqual(t, time.Since(start), 200*time.Millisecond)
	// Rebased times are wall-clock and each bin arrives after it ends.
	assert.InDelta(t, float64(start.UnixNano()), float64(bins[0].Start), float64(50*time.Millisecond))
	assert.Equal(t, int64(5e6), bins[1].Start-bins[0].Start)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s2, _ := acquire.NewSimulator(acquire.SimConfig{Seed: 1, BinWidth: 5e6})
	var b acquire.Bin
	assert.ErrorIs(t, acquire.Paced(s2, true).ReadBin(ctx, &b), context.Canceled)
}
