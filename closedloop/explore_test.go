package closedloop_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/closedloop"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/session"
)

func TestExplore(t *testing.T) {
	if os.Getenv("EXPLORE") == "" {
		t.Skip()
	}
	nc := conn(t)
	kind := os.Getenv("KIND")
	cal, _ := time.ParseDuration(os.Getenv("CAL"))
	delay, _ := time.ParseDuration(os.Getenv("DELAY"))
	n, _ := strconv.Atoi(os.Getenv("N"))
	seeds, _ := strconv.Atoi(os.Getenv("SEEDS"))
	for _, ds := range strings.Split(os.Getenv("DRIFT"), ",") {
		drift, _ := strconv.ParseFloat(ds, 64)
		for seed := uint64(1); seed <= uint64(seeds); seed++ {
			r, err := closedloop.Recalibrate(context.Background(), closedloop.RecalibrationOptions{
				Calibration: closedloop.CalibrationOptions{Sim: acquire.SimConfig{Seed: seed, PopulationSeed: seed, DriftHz: drift}, Duration: cal, Kind: kind, Fit: decoder.FitOptions{Seed: seed}},
				Block:       closedloop.Options{Session: session.Options{Conn: nc}, Trials: n, Task: closedloop.TaskOptions{Seed: seed}, User: closedloop.UserOptions{Seed: seed}},
				Intention:   closedloop.Intention{Delay: delay},
			})
			require.NoError(t, err)
			b, a := r.Before.Metrics, r.After.Metrics
			t.Logf("%s cal %v drift %v n %d delay %v seed %d: before succ %.2f acq %.3f tp %.2f eff %.2f R2 %.3f | after succ %.2f acq %.3f tp %.2f eff %.2f R2 %.3f | retrain heldout %.3f live %.3f",
				kind, cal, drift, n, delay, seed, b.SuccessRate, b.AcquisitionTime, b.Throughput, b.PathEfficiency, *r.Before.Summary().LiveR2,
				a.SuccessRate, a.AcquisitionTime, a.Throughput, a.PathEfficiency, *r.After.Summary().LiveR2, r.Retrained.NewR2, *r.Retrained.LiveR2)
		}
	}
}
