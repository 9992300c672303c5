package snn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// StepBench configures BenchStep.
type StepBench struct {
	// Config is the network to time (random weights from Seed).
	Config Config
	// Activity is the probability that an input channel carries a spike
	// in a step.
	Activity float64
	// Steps is how many steps are timed; ColdEvery flushes the caches
	// before every ColdEvery-th step (0: never), and those cold steps
	// count, as they do live.
	Steps, ColdEvery int
	Seed             uint64
}

// StepBenchResult is what BenchStep measured.
type StepBenchResult struct {
	P50US         float64 `json:"step_p50_us"`
	P99US         float64 `json:"step_p99_us"`
	P999US        float64 `json:"step_p999_us"`
	MaxUS         float64 `json:"step_max_us"`
	MeanUS        float64 `json:"step_mean_us"`
	AllocsPerStep float64 `json:"allocs_per_step"`
	SpikesPerStep float64 `json:"spikes_per_step"`
	EnergyNJ      float64 `json:"energy_nj_per_step"`
	DenseEnergyNJ float64 `json:"dense_ann_energy_nj_per_step"`
	DenseP50US    float64 `json:"dense_step_p50_us"`
	DenseP99US    float64 `json:"dense_step_p99_us"`
	DenseMeanUS   float64 `json:"dense_step_mean_us"`
	// DenseRatio is the dense baseline's median step time over the
	// event-driven one (how many times faster event-driven is).
	DenseRatio float64 `json:"dense_ratio_p50"`
}

// BenchStep times the real-time step of a network on random binary input,
// and the same network as dense matrix-vector products, on the calling
// goroutine's locked OS thread: latency percentiles, allocations and
// energy per step.
func BenchStep(ctx context.Context, o StepBench) (StepBenchResult, error) {
	if o.Activity < 0 || o.Activity > 1 || o.Steps < 100 || o.ColdEvery < 0 {
		return StepBenchResult{}, errors.New("snn bench: activity must be in [0, 1], steps at least 100, cold-every non-negative")
	}
	m, err := NewModel(o.Config, o.Seed)
	if err != nil {
		return StepBenchResult{}, err
	}
	norm := Identity(o.Config.Inputs, o.Config.Outputs)
	rt, err := m.Compile(norm)
	if err != nil {
		return StepBenchResult{}, err
	}
	dense, err := NewDense(m, norm)
	if err != nil {
		return StepBenchResult{}, err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ins := spikeInputs(o)
	hs, allocs, err := timeSteps(ctx, o, ins, rt.Step)
	if err != nil {
		return StepBenchResult{}, err
	}
	act := rt.Activity()
	hd, _, err := timeSteps(ctx, o, ins, dense.Step)
	if err != nil {
		return StepBenchResult{}, err
	}
	us := func(h *hdrhistogram.Histogram, q float64) float64 { return float64(h.ValueAtQuantile(q)) / 1e3 }
	res := StepBenchResult{P50US: us(hs, 50), P99US: us(hs, 99), P999US: us(hs, 99.9), MaxUS: float64(hs.Max()) / 1e3, MeanUS: hs.Mean() / 1e3,
		AllocsPerStep: allocs, SpikesPerStep: act.SpikesPerStep(), EnergyNJ: act.EnergyPerStepNJ(), DenseEnergyNJ: act.DenseEnergyPerStepNJ(),
		DenseP50US: us(hd, 50), DenseP99US: us(hd, 99), DenseMeanUS: hd.Mean() / 1e3}
	if res.P50US > 0 {
		res.DenseRatio = res.DenseP50US / res.P50US
	}
	return res, nil
}

// spikeInputs draws a pool of binary input vectors.
func spikeInputs(o StepBench) [][]float32 {
	rng := rand.New(rand.NewPCG(o.Seed, 7))
	ins := make([][]float32, 4096)
	for i := range ins {
		ins[i] = make([]float32, o.Config.Inputs)
		for j := range ins[i] {
			if rng.Float64() < o.Activity {
				ins[i][j] = 1
			}
		}
	}
	return ins
}

// timeSteps times every step and counts allocations per step.
func timeSteps(ctx context.Context, o StepBench, ins [][]float32, step func(in, out []float32)) (*hdrhistogram.Histogram, float64, error) {
	out := make([]float32, o.Config.Outputs)
	flush := make([]byte, 8<<20)
	h := hdrhistogram.New(1, int64(time.Second), 3)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range o.Steps {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, 0, err
			}
		}
		if o.ColdEvery > 0 && i%o.ColdEvery == 0 {
			for k := 0; k < len(flush); k += 64 {
				flush[k]++
			}
		}
		in := ins[i%len(ins)]
		t0 := time.Now()
		step(in, out)
		_ = h.RecordValue(max(time.Since(t0).Nanoseconds(), 1))
	}
	runtime.ReadMemStats(&after)
	return h, float64(after.Mallocs-before.Mallocs) / float64(o.Steps), nil
}

// WriteText prints the result of o for a person.
func (r StepBenchResult) WriteText(w io.Writer, o StepBench) {
	c := o.Config
	fmt.Fprintf(w, "snn step %s %d -> %v -> %d (recurrent %v), %.0f%% input activity, %d steps, caches flushed every %d steps\n",
		c.Kind, c.Inputs, c.Hidden, c.Outputs, c.Recurrent, 100*o.Activity, o.Steps, o.ColdEvery)
	fmt.Fprintf(w, "  event-driven  p50 %.2f µs  p99 %.2f µs  p99.9 %.2f µs  max %.2f µs  mean %.2f µs  allocs/step %.3f\n",
		r.P50US, r.P99US, r.P999US, r.MaxUS, r.MeanUS, r.AllocsPerStep)
	fmt.Fprintf(w, "  dense mat-vec p50 %.2f µs  p99 %.2f µs  mean %.2f µs  (event-driven is %.1fx faster at the median)\n",
		r.DenseP50US, r.DenseP99US, r.DenseMeanUS, r.DenseRatio)
	fmt.Fprintf(w, "  %.1f spikes/step, %.2f nJ/step estimated (dense ANN of the same shape: %.1f nJ/step)\n", r.SpikesPerStep, r.EnergyNJ, r.DenseEnergyNJ)
}
