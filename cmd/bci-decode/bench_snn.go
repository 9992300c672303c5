package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/bci-decode/bci-decode/snn"
)

func init() {
	benchStages["snn"] = benchSNN
}

// snnBenchResult is the JSON summary of the snn bench stage.
type snnBenchResult struct {
	Stage         string  `json:"stage"`
	Kind          string  `json:"kind"`
	Inputs        int     `json:"inputs"`
	Hidden        []int   `json:"hidden"`
	Outputs       int     `json:"outputs"`
	Recurrent     bool    `json:"recurrent"`
	Activity      float64 `json:"activity"`
	Steps         int     `json:"steps"`
	ColdEvery     int     `json:"cold_every"`
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

// benchSNN measures the real-time step of a spiking network on random
// binary input: per-step latency percentiles (every ColdEvery-th step runs
// after the caches were flushed, and those steps are counted), allocations
// per step, and the same for a dense matrix-vector implementation of the
// same network.
func benchSNN(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("bench --stage snn", "bench --stage snn [--inputs N --hidden N[,N] --outputs N --activity P] [--json]")
	inputs := fs.Int("inputs", 192, "input channels")
	var hidden intList = intList{256}
	fs.Var(&hidden, "hidden", "spiking layer sizes, comma-separated")
	outputs := fs.Int("outputs", 2, "readout outputs")
	activity := fs.Float64("activity", 0.1, "probability that an input channel carries a spike in a step")
	kind := fs.String("kind", "hifi", "neuron kind")
	recurrent := fs.Bool("recurrent", true, "recurrent synapses")
	steps := fs.Int("steps", 50000, "steps to time")
	coldEvery := fs.Int("cold-every", 100, "flush the caches before every N-th step (0: never)")
	seed := fs.Uint64("seed", 1, "seed of weights and input")
	jsonOut := fs.Bool("json", false, "print the summary as one JSON object on the last line")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *activity < 0 || *activity > 1 || *steps < 100 || *coldEvery < 0 {
		return fmt.Errorf("%w: --activity must be in [0, 1], --steps at least 100, --cold-every non-negative", errUsage)
	}
	cfg := snn.Config{Kind: snn.Kind(*kind), Inputs: *inputs, Hidden: hidden, Outputs: *outputs, Recurrent: *recurrent, ReadoutBeta: 0.7}
	m, err := snn.NewModel(cfg, *seed)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	norm := snn.Identity(cfg.Inputs, cfg.Outputs)
	rt, err := m.Compile(norm)
	if err != nil {
		return err
	}
	dense, err := snn.NewDense(m, norm)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(*seed, 7))
	ins := make([][]float32, 4096)
	for i := range ins {
		ins[i] = make([]float32, cfg.Inputs)
		for j := range ins[i] {
			if rng.Float64() < *activity {
				ins[i][j] = 1
			}
		}
	}
	out := make([]float32, cfg.Outputs)
	flush := make([]byte, 8<<20)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	measure := func(step func(in, out []float32)) (*hdrhistogram.Histogram, float64, error) {
		h := hdrhistogram.New(1, int64(time.Second), 3)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range *steps {
			if i%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, 0, err
				}
			}
			if *coldEvery > 0 && i%*coldEvery == 0 {
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
		return h, float64(after.Mallocs-before.Mallocs) / float64(*steps), nil
	}
	hs, allocs, err := measure(rt.Step)
	if err != nil {
		return err
	}
	act := rt.Activity()
	hd, _, err := measure(dense.Step)
	if err != nil {
		return err
	}
	us := func(h *hdrhistogram.Histogram, q float64) float64 { return float64(h.ValueAtQuantile(q)) / 1e3 }
	res := snnBenchResult{Stage: "snn", Kind: *kind, Inputs: cfg.Inputs, Hidden: hidden, Outputs: cfg.Outputs, Recurrent: cfg.Recurrent,
		Activity: *activity, Steps: *steps, ColdEvery: *coldEvery,
		P50US: us(hs, 50), P99US: us(hs, 99), P999US: us(hs, 99.9), MaxUS: float64(hs.Max()) / 1e3, MeanUS: hs.Mean() / 1e3,
		AllocsPerStep: allocs, SpikesPerStep: act.SpikesPerStep(), EnergyNJ: act.EnergyPerStepNJ(), DenseEnergyNJ: act.DenseEnergyPerStepNJ(),
		DenseP50US: us(hd, 50), DenseP99US: us(hd, 99), DenseMeanUS: hd.Mean() / 1e3}
	if res.P50US > 0 {
		res.DenseRatio = res.DenseP50US / res.P50US
	}
	fmt.Fprintf(stdout, "snn step %s %d -> %v -> %d (recurrent %v), %.0f%% input activity, %d steps, caches flushed every %d steps\n",
		*kind, cfg.Inputs, []int(hidden), cfg.Outputs, cfg.Recurrent, 100**activity, *steps, *coldEvery)
	fmt.Fprintf(stdout, "  event-driven  p50 %.2f µs  p99 %.2f µs  p99.9 %.2f µs  max %.2f µs  mean %.2f µs  allocs/step %.3f\n",
		res.P50US, res.P99US, res.P999US, res.MaxUS, res.MeanUS, res.AllocsPerStep)
	fmt.Fprintf(stdout, "  dense mat-vec p50 %.2f µs  p99 %.2f µs  mean %.2f µs  (event-driven is %.1fx faster at the median)\n",
		res.DenseP50US, res.DenseP99US, res.DenseMeanUS, res.DenseRatio)
	fmt.Fprintf(stdout, "  %.1f spikes/step, %.2f nJ/step estimated (dense ANN of the same shape: %.1f nJ/step)\n",
		res.SpikesPerStep, res.EnergyNJ, res.DenseEnergyNJ)
	if *jsonOut {
		return writeJSONLine(stdout, res)
	}
	return nil
}
