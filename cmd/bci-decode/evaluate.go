package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/rs/zerolog/log"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/dataset"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/eval"
	"github.com/bci-decode/bci-decode/snn"
)

func init() {
	commands["eval"] = command{summary: "train and test every decoder on the same split and print one comparison table", run: runEval}
}

// evalDefaultDecoders is the comparison set of eval.
var evalDefaultDecoders = []string{"hifi", "hifi-homog", "hifi-gamma0", "lif", "plif", "alif", "kalman", "wiener"}

// evalEntry is one decoder's row of the eval table.
type evalEntry struct {
	Name          string    `json:"name"`
	R2            float64   `json:"r2"`
	R2PerDim      []float64 `json:"r2_per_dim"`
	R             float64   `json:"r"`
	RPerDim       []float64 `json:"r_per_dim"`
	SpikesPerStep *float64  `json:"spikes_per_step,omitempty"`
	// EnergyNJ is the synaptic energy estimate per step: counted ACs and
	// MACs for spiking networks, the multiply-accumulates of one step for
	// the linear decoders.
	EnergyNJ      float64 `json:"energy_nj_per_step"`
	DenseEnergyNJ float64 `json:"dense_ann_energy_nj_per_step,omitempty"`
	StepP50US     float64 `json:"step_p50_us"`
	StepP99US     float64 `json:"step_p99_us"`
	TrainSeconds  float64 `json:"train_s"`
	Epochs        int     `json:"epochs,omitempty"`
	// NeuronParams summarises the learned neuron-level parameters of the
	// first spiking layer (effective values).
	NeuronParams map[string]paramSummary `json:"neuron_params,omitempty"`
	ValR2        float64                 `json:"val_r2,omitempty"`
}

// evalResult is eval's JSON summary.
type evalResult struct {
	Source    string      `json:"source"`
	Split     string      `json:"split"`
	TrainBins int         `json:"train_bins"`
	TestBins  int         `json:"test_bins"`
	Targets   []string    `json:"targets"`
	Decoders  []evalEntry `json:"decoders"`
}

func runEval(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("eval", "eval [--source sim --seed N | --data FILE] [flags]")
	source := fs.String("source", "", "input: sim (the default without --data) or data")
	data := fs.String("data", "", "recorded binned table or recording to evaluate on")
	rebin := fs.Int("rebin", 1, "merge this many source bins into one")
	testEvery := fs.Int("test-every", 5, "recorded data: every N-th trial is the test set")
	seed := fs.Uint64("seed", 1, "simulator and training seed")
	simMinutes := fs.Float64("sim-minutes", 10, "simulator: minutes of data (the last 20% is the test range)")
	channels := fs.Int("channels", acquire.DefaultSimConfig.Channels, "simulator: number of neurons")
	epochs := fs.Int("epochs", 0, "training epochs of the spiking networks (0: default 30)")
	var hidden intList = intList{128}
	fs.Var(&hidden, "hidden", "spiking layer sizes, comma-separated")
	beta := fs.Float64("readout-beta", 0, "readout leak of the spiking networks (0: default, a 50 ms time constant; negative: none)")
	schedule := fs.String("schedule", "", "neuron-parameter schedule: bilevel (default), interval or joint")
	lrw := fs.Float64("lr", 0, "weight learning rate (0: default)")
	lra := fs.Float64("lr-neuron", 0, "neuron-parameter learning rate (0: default)")
	seqLen := fs.Int("seq-len", 0, "training sequence length in bins (0: default 50)")
	batch := fs.Int("batch", 0, "sequences per weight step (0: default, about 32 steps per epoch)")
	detached := fs.Bool("detached", false, "detached-membrane gradients instead of full BPTT")
	softReset := fs.Bool("soft-reset", false, "subtract the threshold after a spike (the 2024 code) instead of resetting to ure")
	sigmoidP := fs.Bool("sigmoid", false, "sigmoid reparameterisation of learned decay and threshold (the 2024 code) instead of clamping")
	decList := targetList(evalDefaultDecoders)
	fs.Var(&decList, "decoders", "comma-separated decoders to compare")
	jsonOut := fs.Bool("json", false, "print the summary as one JSON object on the last line")
	plotPath := fs.String("plot", "", "draw decoded against true trajectories of the test set to this PNG")
	targets := targetList{"vel_x", "vel_y"}
	fs.Var(&targets, "targets", "comma-separated targets to decode")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *source == "" {
		*source = "sim"
		if *data != "" {
			*source = "data"
		}
	}
	for _, d := range decList {
		if _, ok := fitters[d]; !ok {
			return fmt.Errorf("%w: unknown decoder %q (have %s)", errUsage, d, strings.Join(fitterNames(), ", "))
		}
	}
	var train, test *dataset.Set
	res := evalResult{Targets: targets}
	switch *source {
	case "sim":
		if *simMinutes <= 0 {
			return fmt.Errorf("%w: --sim-minutes must be positive", errUsage)
		}
		cfg := acquire.SimConfig{Seed: *seed, Channels: *channels}
		cfg = fillSim(cfg)
		cfg.Bins = int(*simMinutes * 60e9 / float64(cfg.BinWidth))
		sim, err := acquire.NewSimulator(cfg)
		if err != nil {
			return err
		}
		set, err := dataset.Read(sim)
		if err != nil {
			return err
		}
		if set, err = set.SelectTargets(targets...); err != nil {
			return err
		}
		train, test = set.SplitByTime(0.2)
		res.Source = fmt.Sprintf("sim seed %d, %d channels, %.1f min", *seed, *channels, *simMinutes)
		res.Split = "last 20% of the time range held out"
	case "data":
		if *data == "" {
			return fmt.Errorf("%w: --source data needs --data", errUsage)
		}
		if *testEvery < 2 {
			return fmt.Errorf("%w: --test-every must be at least 2", errUsage)
		}
		set, err := loadSet(*data, *rebin, targets)
		if err != nil {
			return err
		}
		res.Source = *data
		if segs := len(set.Segments()); segs < *testEvery {
			// Too few trials (e.g. a single-trial file): hold out the
			// same share of the recording by time instead.
			train, test = set.SplitByTime(1 / float64(*testEvery))
			res.Split = fmt.Sprintf("%d trial(s), so the last 1/%d of the time range held out", segs, *testEvery)
		} else {
			train, test = set.SplitByTrial(*testEvery)
			res.Split = fmt.Sprintf("every %d-th trial held out", *testEvery)
		}
	default:
		return fmt.Errorf("%w: unknown --source %q (sim or data)", errUsage, *source)
	}
	if train.Len() == 0 || test.Len() == 0 {
		return fmt.Errorf("split left %d training and %d test bins", train.Len(), test.Len())
	}
	res.TrainBins, res.TestBins = train.Len(), test.Len()
	log.Info().Str("source", res.Source).Int("train_bins", train.Len()).Int("test_bins", test.Len()).Msg("eval")
	so := snnTrainOptions{Seed: *seed, Epochs: *epochs, Hidden: hidden, ReadoutBeta: *beta, Schedule: *schedule, LRW: *lrw, LRA: *lra,
		Detached: *detached, SoftReset: *softReset, Sigmoid: *sigmoidP, SeqLen: *seqLen, Batch: *batch}
	var progress io.Writer
	if !*jsonOut {
		progress = os.Stderr
	}
	preds := map[string][][]float32{}
	for _, name := range decList {
		if err := ctx.Err(); err != nil {
			return err
		}
		e, pred, err := evalOne(ctx, name, train, test, so, progress)
		if err != nil {
			return err
		}
		preds[name] = pred
		res.Decoders = append(res.Decoders, e)
	}
	if *plotPath != "" {
		if err := plotEval(*plotPath, test, decList, preds, res.Source); err != nil {
			return err
		}
	}
	printEvalTable(stdout, res)
	if *jsonOut {
		return writeJSONLine(stdout, res)
	}
	return nil
}

// fillSim applies the simulator defaults eval reports.
func fillSim(c acquire.SimConfig) acquire.SimConfig {
	if c.BinWidth == 0 {
		c.BinWidth = acquire.DefaultSimConfig.BinWidth
	}
	return c
}

// evalOne trains one decoder on train and scores it on test.
func evalOne(ctx context.Context, name string, train, test *dataset.Set, so snnTrainOptions, progress io.Writer) (evalEntry, [][]float32, error) {
	e := evalEntry{Name: name}
	start := time.Now()
	var dec decoder.Decoder
	var snnDec *decoder.SNN
	if isSNN(name) {
		d, rep, err := trainSNN(ctx, name, train, so, progress, nil)
		if err != nil {
			return e, nil, err
		}
		dec, snnDec = d, d
		e.Epochs, e.ValR2 = len(rep.Epochs), finite(rep.BestValR2)
	} else {
		d, err := fit(ctx, name, train, fitOptions{Seed: so.Seed, Epochs: so.Epochs, Progress: progress})
		if err != nil {
			return e, nil, fmt.Errorf("train %s: %w", name, err)
		}
		dec = d
	}
	e.TrainSeconds = time.Since(start).Seconds()
	if snnDec != nil {
		snnDec.ResetActivity()
	}
	pred, hist := predictTimed(dec, test)
	sc := eval.Score(pred, test.Y)
	e.R2, e.R2PerDim, e.R, e.RPerDim = finite(sc.MeanR2()), finiteAll(sc.R2), finite(sc.MeanR()), finiteAll(sc.R)
	e.StepP50US = float64(hist.ValueAtQuantile(50)) / 1e3
	e.StepP99US = float64(hist.ValueAtQuantile(99)) / 1e3
	if snnDec != nil {
		a := snnDec.Activity()
		s := a.SpikesPerStep()
		e.SpikesPerStep = &s
		e.EnergyNJ, e.DenseEnergyNJ = a.EnergyPerStepNJ(), a.DenseEnergyPerStepNJ()
		e.NeuronParams = map[string]paramSummary{}
		for p := range snn.NumParams {
			e.NeuronParams[snn.ParamNames[p]] = summarise(snnDec.Model().NeuronParams(0, p))
		}
	} else {
		e.EnergyNJ = float64(linearMACs(name, dec)) * 4.6 / 1000
	}
	log.Info().Str("decoder", name).Float64("r2", e.R2).Float64("train_s", e.TrainSeconds).Msg("evaluated")
	return e, pred, nil
}

// paramSummary describes the spread of one neuron parameter over a layer.
type paramSummary struct {
	Mean float64 `json:"mean"`
	SD   float64 `json:"sd"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

func summarise(v []float64) paramSummary {
	s := paramSummary{Min: math.Inf(1), Max: math.Inf(-1)}
	for _, x := range v {
		s.Mean += x
		s.Min, s.Max = math.Min(s.Min, x), math.Max(s.Max, x)
	}
	s.Mean /= float64(len(v))
	for _, x := range v {
		s.SD += (x - s.Mean) * (x - s.Mean)
	}
	s.SD = math.Sqrt(s.SD / float64(len(v)))
	return s
}

func isSNN(name string) bool {
	for _, k := range decoder.SNNKinds {
		if k == name {
			return true
		}
	}
	return false
}

// linearMACs estimates the multiply-accumulates of one step of a linear
// decoder: the Wiener filter's default 5 lags times inputs times outputs;
// the Kalman filter's observation update (inputs × state, state =
// position and velocity per output) and state prediction.
func linearMACs(name string, d decoder.Decoder) int {
	in, out := d.Inputs(), d.Outputs()
	if name == "wiener" {
		return 5 * in * out
	}
	state := 2 * out
	return 2*in*state + state*state
}

// predictTimed runs d over every test segment from a reset state, timing
// each Step (cold-cache steps at segment starts included).
func predictTimed(d decoder.Decoder, s *dataset.Set) ([][]float32, *hdrhistogram.Histogram) {
	h := hdrhistogram.New(1, int64(time.Second), 3)
	out := make([][]float32, s.Len())
	flat := make([]float32, s.Len()*d.Outputs())
	for _, g := range s.Segments() {
		d.Reset()
		for t := g[0]; t < g[1]; t++ {
			out[t] = flat[t*d.Outputs() : (t+1)*d.Outputs()]
			t0 := time.Now()
			d.Step(s.X[t], out[t])
			_ = h.RecordValue(max(time.Since(t0).Nanoseconds(), 1))
		}
	}
	return out, h
}

func printEvalTable(w io.Writer, r evalResult) {
	fmt.Fprintf(w, "%s, %s: %d training bins, %d test bins\n", r.Source, r.Split, r.TrainBins, r.TestBins)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "decoder\tR²"
	for _, t := range r.Targets {
		head += "\tR² " + t
	}
	for _, t := range r.Targets {
		head += "\tr " + t
	}
	head += "\tspikes/step\tnJ/step\tdense ANN nJ/step\tp50 µs\tp99 µs\ttrain s"
	fmt.Fprintln(tw, head)
	for _, e := range r.Decoders {
		row := fmt.Sprintf("%s\t%.3f", e.Name, e.R2)
		for _, v := range e.R2PerDim {
			row += fmt.Sprintf("\t%.3f", v)
		}
		for _, v := range e.RPerDim {
			row += fmt.Sprintf("\t%.3f", v)
		}
		sp, dense := "-", "-"
		if e.SpikesPerStep != nil {
			sp = fmt.Sprintf("%.1f", *e.SpikesPerStep)
			dense = fmt.Sprintf("%.1f", e.DenseEnergyNJ)
		}
		row += fmt.Sprintf("\t%s\t%.2f\t%s\t%.2f\t%.2f\t%.1f", sp, e.EnergyNJ, dense, e.StepP50US, e.StepP99US, e.TrainSeconds)
		fmt.Fprintln(tw, row)
	}
	tw.Flush()
}

// finiteAll applies finite to every element.
func finiteAll(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = finite(x)
	}
	return out
}

// finite replaces NaN by 0 so a summary always encodes.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}
