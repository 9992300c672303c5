package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/bci-decode/bci-decode/frontend"
	"github.com/bci-decode/bci-decode/snn"
)

func init() {
	commands["bench"] = command{summary: "measure a stage's speed on this machine (--stage signal|snn)", run: runBench}
}

// benchStages maps --stage values to their benchmarks.
var benchStages = map[string]func(ctx context.Context, args []string, stdout io.Writer) error{
	"signal": benchSignal,
	"snn":    benchSNN,
}

func runBench(ctx context.Context, args []string, stdout io.Writer) error {
	names := make([]string, 0, len(benchStages))
	for n := range benchStages {
		names = append(names, n)
	}
	sort.Strings(names)
	stage, rest := splitStage(args)
	if stage == "" {
		if len(rest) > 0 && (rest[0] == "--help" || rest[0] == "-h") {
			fmt.Fprintf(helpOutput, "usage: bci-decode bench --stage %s [flags]\n\nRun 'bci-decode bench --stage NAME --help' for a stage's flags.\n", strings.Join(names, "|"))
			return nil
		}
		return usageError(fmt.Errorf("--stage is required (%s)", strings.Join(names, ", ")))
	}
	run, ok := benchStages[stage]
	if !ok {
		return usageError(fmt.Errorf("unknown stage %q (have %s)", stage, strings.Join(names, ", ")))
	}
	return run(ctx, rest, stdout)
}

// splitStage takes --stage out of args.
func splitStage(args []string) (stage string, rest []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case (a == "--stage" || a == "-stage") && i+1 < len(args):
			stage = args[i+1]
			i++
		case strings.HasPrefix(a, "--stage=") || strings.HasPrefix(a, "-stage="):
			stage = a[strings.Index(a, "=")+1:]
		default:
			rest = append(rest, a)
		}
	}
	return stage, rest
}

func benchSignal(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("bench --stage signal", "bench --stage signal [--channels 384 --rate 30000 --duration 10s] [--json]")
	channels := fs.Int("channels", 384, "channels")
	rate := fs.Float64("rate", 30000, "sampling rate (Hz)")
	dur := fs.Duration("duration", 10*time.Second, "seconds of signal to process (after a 1 s calibration)")
	var src sourceFlags
	src.register(fs)
	jsonOut := fs.Bool("json", false, "print the result as one JSON object on the last line")
	if err := parse(ctx, fs, args, 0, src.check, func() error {
		if *channels < 1 || *channels > 1<<14 || !(*rate >= 1000 && *rate <= 200000) || *dur <= 0 || *dur > time.Hour {
			return errors.New("--channels 1-16384, --rate 1000-200000 Hz, --duration up to 1h")
		}
		return nil
	}); err != nil {
		return err
	}
	chain := src.Chain
	res, err := frontend.BenchChain(ctx, frontend.ChainBench{Channels: *channels, Rate: *rate, Duration: *dur, Chain: chain})
	if err != nil {
		return err
	}
	if *jsonOut {
		return writeJSONLine(stdout, res)
	}
	res.WriteText(stdout, chain)
	return nil
}

func benchSNN(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("bench --stage snn", "bench --stage snn [--inputs N --hidden N --outputs N --activity P] [--json]")
	o := snn.StepBench{Config: snn.Config{ReadoutBeta: 0.7}}
	fs.IntVar(&o.Config.Inputs, "inputs", 192, "input channels")
	fs.IntVar(&o.Config.Outputs, "outputs", 2, "readout outputs")
	hidden := fs.Int("hidden", 256, "spiking layer size")
	fs.Float64Var(&o.Activity, "activity", 0.1, "probability that an input channel carries a spike in a step (0: no input)")
	kind := fs.String("kind", "hifi", "neuron kind")
	fs.BoolVar(&o.Config.Recurrent, "recurrent", true, "recurrent synapses")
	fs.IntVar(&o.Steps, "steps", 50000, "steps to time")
	fs.IntVar(&o.ColdEvery, "cold-every", 100, "flush the caches before every N-th step (0: never)")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed of weights and input")
	jsonOut := fs.Bool("json", false, "print the summary as one JSON object on the last line")
	if err := parse(ctx, fs, args, 0, func() error {
		if o.Config.Inputs < 1 || o.Config.Inputs > 1<<16 || o.Config.Outputs < 1 || o.Config.Outputs > 1<<10 || *hidden < 1 || *hidden > 1<<14 {
			return errors.New("--inputs 1-65536, --outputs 1-1024, --hidden 1-16384")
		}
		if !(o.Activity >= 0 && o.Activity <= 1) || o.Steps < 100 || o.Steps > 1e8 || o.ColdEvery < 0 || o.ColdEvery > o.Steps {
			return errors.New("--activity 0-1, --steps 100-1e8, --cold-every 0 to --steps")
		}
		return nil
	}); err != nil {
		return err
	}
	o.Config.Kind, o.Config.Hidden = snn.Kind(*kind), []int{*hidden}
	res, err := snn.BenchStep(ctx, o)
	if err != nil {
		return usageError(err)
	}
	res.WriteText(stdout, o)
	if *jsonOut {
		return writeJSONLine(stdout, res)
	}
	return nil
}
