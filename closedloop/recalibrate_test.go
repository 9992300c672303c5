package closedloop_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/closedloop"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/session"
)

// recalTrials is the length of the recorded block retraining learns from
// (about two and a half minutes of closed-loop control).
const recalTrials = 128

func recalibrate(t *testing.T, kind string, seed uint64, shiftHz float64, intention closedloop.Intention) *closedloop.Recalibration {
	t.Helper()
	r, err := closedloop.Recalibrate(context.Background(), closedloop.RecalibrationOptions{
		Calibration: closedloop.CalibrationOptions{Sim: acquire.SimConfig{Seed: seed, PopulationSeed: seed}, Kind: kind, ShiftHz: shiftHz,
			Fit: decoder.FitOptions{Seed: seed}},
		Block:     closedloop.Options{Session: session.Options{Conn: conn(t)}, Trials: recalTrials, Task: closedloop.TaskOptions{Seed: seed + 1}, User: closedloop.UserOptions{Seed: seed + 1}},
		Intention: intention,
	})
	require.NoError(t, err)
	return r
}

// TestRecalibrationKalman: one ReFIT round from the recorded closed-loop
// block makes a Kalman filter calibrated open loop faster: its acquisition
// time falls and its throughput rises.
func TestRecalibrationKalman(t *testing.T) {
	r := recalibrate(t, "kalman", calibSeed, 0, closedloop.Intention{})
	b, a := r.Before.Metrics, r.After.Metrics
	t.Logf("kalman before %+v\nafter %+v", b, a)
	assert.Equal(t, recalTrials, a.Trials)
	assert.GreaterOrEqual(t, a.SuccessRate, b.SuccessRate)
	assert.Less(t, a.AcquisitionTime, b.AcquisitionTime)
	assert.Greater(t, a.Throughput, b.Throughput)
	assert.Contains(t, r.Retrained.Loaded.Info.TrainedOn, "ReFIT")
}

// TestRecalibrationStaleHIFI: a HIFI network calibrated on another day
// (every baseline moved by 20 Hz sd since) is faster after one round with
// the intention inferred from the cursor as the user saw it, 120 ms late.
// With a fresh calibration HIFI already steers near the simulated user's
// own limit and a round does not help (see TestRecalibrationStudy, which
// also shows ReFIT as published helping a stale HIFI only where its
// calibration broke down). The study improves 4 of 5 seeds and ties on
// seed 1; this fast check runs seed 3, a typical one.
func TestRecalibrationStaleHIFI(t *testing.T) {
	if raceEnabled {
		t.Skip("trains a spiking network: too slow under the race detector")
	}
	r := recalibrate(t, "hifi", 3, 20, closedloop.Intention{Delay: 120 * time.Millisecond})
	b, a := r.Before.Metrics, r.After.Metrics
	t.Logf("hifi before %+v\nafter %+v", b, a)
	assert.Equal(t, 1.0, a.SuccessRate)
	assert.Less(t, a.AcquisitionTime, b.AcquisitionTime)
	assert.Greater(t, a.Throughput, b.Throughput)
}
