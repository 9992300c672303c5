package closedloop_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/closedloop"
)

// The default closed-loop setting: the decoder is calibrated on 5 minutes
// of simulated centre-out reaches (seed 1) and steered by the simulated
// user through 32 trials of the centre-out-and-back task (seed 2).
const (
	calibSeed = 1
	blockSeed = 2
	trials    = 32
)

// TestClosedLoopKalman: a Kalman filter calibrated open loop steers the
// cursor to at least 80% of the targets; the same filter with its weights
// shuffled across channels, a control, acquires fewer than 20%. Two runs
// with the same seeds give the same trials.
func TestClosedLoopKalman(t *testing.T) {
	nc := conn(t)
	cal := calibrate(t, "kalman", calibSeed, 5*time.Minute, false)
	res := block(t, nc, "kalman", cal.Model, cal.Population, blockSeed, trials, nil)
	t.Logf("kalman: %+v", res.Metrics)
	assert.Equal(t, trials, res.Metrics.Trials)
	assert.GreaterOrEqual(t, res.Metrics.SuccessRate, 0.8)
	require.NotNil(t, res.Session.Score, "the live score compares decoded with intended velocity")
	assert.Greater(t, res.Session.Score.R2, 0.5)

	again := block(t, nc, "kalman-again", cal.Model, population(t), blockSeed, trials, nil)
	assert.Equal(t, res.Trials, again.Trials, "the same seeds give the same trials")

	shuffled := calibrate(t, "kalman", calibSeed, 5*time.Minute, true)
	ctl := block(t, nc, "shuffled", shuffled.Model, shuffled.Population, blockSeed, trials, nil)
	t.Logf("shuffled kalman: %+v", ctl.Metrics)
	assert.Equal(t, trials, ctl.Metrics.Trials)
	assert.Less(t, ctl.Metrics.SuccessRate, 0.2)
}

// TestClosedLoopHIFI: the HIFI spiking network calibrated open loop
// acquires at least 80% of the targets, and fewer than 20% with its
// weights shuffled across channels.
func TestClosedLoopHIFI(t *testing.T) {
	if raceEnabled {
		t.Skip("trains a spiking network: too slow under the race detector")
	}
	nc := conn(t)
	cal := calibrate(t, "hifi", calibSeed, 5*time.Minute, false)
	res := block(t, nc, "hifi", cal.Model, cal.Population, blockSeed, trials, nil)
	t.Logf("hifi: %+v", res.Metrics)
	assert.Equal(t, trials, res.Metrics.Trials)
	assert.GreaterOrEqual(t, res.Metrics.SuccessRate, 0.8)

	shuffled := calibrate(t, "hifi", calibSeed, 5*time.Minute, true)
	ctl := block(t, nc, "hifi-shuffled", shuffled.Model, shuffled.Population, blockSeed, trials, nil)
	t.Logf("shuffled hifi: %+v", ctl.Metrics)
	assert.Less(t, ctl.Metrics.SuccessRate, 0.2)
}

// TestClosedLoopRandomTargets: calibrated on random-target reaches, a
// Kalman filter acquires at least 80% of random targets.
func TestClosedLoopRandomTargets(t *testing.T) {
	c, err := closedloop.Calibrate(context.Background(), closedloop.CalibrationOptions{
		Sim: acquire.SimConfig{Seed: calibSeed, PopulationSeed: 1, Task: acquire.TaskRandomTarget}})
	require.NoError(t, err)
	res := block(t, conn(t), "random", c.Model, c.Population, blockSeed, 16, func(o *closedloop.Options) {
		o.Task.Kind = acquire.TaskRandomTarget
	})
	t.Logf("kalman, random targets: %+v", res.Metrics)
	assert.Equal(t, 16, res.Metrics.Trials)
	assert.GreaterOrEqual(t, res.Metrics.SuccessRate, 0.8)
}
