package closedloop_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/closedloop"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/replay"
	"github.com/bci-decode/bci-decode/session"
)

// TestRecalibrationStudy measures one recalibration round over seeds, for
// Kalman and HIFI, with a fresh calibration and a stale one (baselines
// moved by 20 Hz sd since), retraining on the recorded block labelled
// three ways: ReFIT as published, ReFIT with the cursor seen 120 ms late
// (FIT), and the simulated user's true intention (which no lab has: the
// labels' upper bound). It prints mean ± sd of the block metrics. With
// BCI_CLOSEDLOOP_FROM_LIVE=1 every retraining starts from the live model
// (fine-tuning the spiking networks). Opt-in,
// as it trains 40 spiking networks:
//
//	BCI_CLOSEDLOOP_STUDY=5 go test ./closedloop -run RecalibrationStudy -v -timeout 60m
func TestRecalibrationStudy(t *testing.T) {
	seeds := envInt(t, "BCI_CLOSEDLOOP_STUDY")
	if seeds == 0 {
		t.Skip("set BCI_CLOSEDLOOP_STUDY=N to run the recalibration study over N seeds")
	}
	kinds := []string{"kalman", "hifi"}
	if k := os.Getenv("BCI_CLOSEDLOOP_KINDS"); k != "" {
		kinds = strings.Split(k, ",")
	}
	shifts := []float64{0, 20}
	if s := os.Getenv("BCI_CLOSEDLOOP_SHIFTS"); s != "" {
		shifts = nil
		for _, v := range strings.Split(s, ",") {
			var x float64
			_, err := fmt.Sscan(v, &x)
			require.NoError(t, err, "BCI_CLOSEDLOOP_SHIFTS=%q", s)
			shifts = append(shifts, x)
		}
	}
	fromLive := os.Getenv("BCI_CLOSEDLOOP_FROM_LIVE") == "1" // fine-tune the live model
	nc := conn(t)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx := context.Background()
	arms := []string{"before", "ReFIT", "ReFIT+delay", "oracle"}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "decoder\tcalibration\tarm\tsuccess\tacquisition s\tthroughput bps\tpath eff\tdial-in s\tlive R²\t")
	for _, kind := range kinds {
		for _, shift := range shifts {
			res := map[string][]closedloop.Summary{}
			for seed := uint64(1); seed <= uint64(seeds); seed++ {
				cal, err := closedloop.Calibrate(ctx, closedloop.CalibrationOptions{Sim: acquire.SimConfig{Seed: seed, PopulationSeed: seed},
					Kind: kind, ShiftHz: shift, Fit: decoder.FitOptions{Seed: seed}})
				require.NoError(t, err)
				blk := closedloop.Options{Session: session.Options{Conn: nc, Model: cal.Model, Record: true, Overwrite: true}, Trials: recalTrials,
					Task: closedloop.TaskOptions{Seed: seed + 1}, User: closedloop.UserOptions{Seed: seed + 1, Population: cal.Population}}
				name := fmt.Sprintf("study-%s-%g-%d", kind, shift, seed)
				blk.Session.Session = name
				before, err := closedloop.Run(ctx, blk)
				require.NoError(t, err)
				res["before"] = append(res["before"], before.Summary())
				blk.Session.Record = false
				for _, arm := range arms[1:] {
					ro := replay.RetrainOptions{Kind: kind, Fit: decoder.FitOptions{Seed: seed}, FromLive: fromLive}
					switch arm {
					case "ReFIT":
						ro.Read = closedloop.Intention{}.Read
					case "ReFIT+delay":
						ro.Read = closedloop.Intention{Delay: 120 * time.Millisecond}.Read
					}
					rt, err := replay.Retrain(ctx, js, name, ro)
					require.NoError(t, err)
					blk.Session.Model, blk.Session.Session = rt.Loaded, name+"-after"
					after, err := closedloop.Run(ctx, blk)
					require.NoError(t, err)
					res[arm] = append(res[arm], after.Summary())
				}
				line := fmt.Sprintf("%s shift %g seed %d: acquisition s / throughput bps / success", kind, shift, seed)
				for _, arm := range arms {
					m := res[arm][len(res[arm])-1]
					line += fmt.Sprintf("; %s %.3f / %.2f / %.2f", arm, m.AcquisitionTime, m.Throughput, m.SuccessRate)
				}
				t.Log(line)
			}
			for _, arm := range arms {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", kind, map[bool]string{true: "fresh", false: fmt.Sprintf("stale (%g Hz)", shift)}[shift == 0], arm,
					spread(res[arm], func(s closedloop.Summary) float64 { return s.SuccessRate }),
					spread(res[arm], func(s closedloop.Summary) float64 { return s.AcquisitionTime }),
					spread(res[arm], func(s closedloop.Summary) float64 { return s.Throughput }),
					spread(res[arm], func(s closedloop.Summary) float64 { return s.PathEfficiency }),
					spread(res[arm], func(s closedloop.Summary) float64 { return s.DialIn }),
					spread(res[arm], func(s closedloop.Summary) float64 {
						if s.LiveR2 == nil {
							return math.NaN()
						}
						return *s.LiveR2
					}))
			}
			require.NoError(t, tw.Flush())
		}
	}
}

// spread formats the mean ± sample sd of f over the summaries.
func spread(s []closedloop.Summary, f func(closedloop.Summary) float64) string {
	var sum, sq float64
	for _, x := range s {
		sum += f(x)
	}
	mean := sum / float64(len(s))
	for _, x := range s {
		sq += (f(x) - mean) * (f(x) - mean)
	}
	return fmt.Sprintf("%.3f ± %.3f", mean, math.Sqrt(sq/float64(max(len(s)-1, 1))))
}

func envInt(t *testing.T, name string) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return 0
	}
	var n int
	_, err := fmt.Sscan(v, &n)
	require.NoError(t, err, "%s=%q", name, v)
	return n
}
