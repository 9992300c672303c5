package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog/log"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/closedloop"
	"github.com/bci-decode/bci-decode/compare"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/frontend"
	"github.com/bci-decode/bci-decode/report"
)

func init() {
	commands["eval"] = command{summary: "train and test every decoder on the same split and print one comparison table", run: runEval}
}

// evalDefaultDecoders is the comparison set of eval.
var evalDefaultDecoders = []string{"hifi", "hifi-homog", "hifi-gamma0", "lif", "plif", "alif", "kalman", "wiener"}

// evalFlags are eval's own flags.
type evalFlags struct {
	src        sourceFlags
	sim        simFlags
	fit        fitFlags
	source     string
	data       string
	testEvery  int
	simMinutes float64
	decoders   targetList
	targets    targetList
	jsonOut    bool
	plot       string
	closedLoop int
	seeds      int
}

func (f *evalFlags) register(fs *flag.FlagSet) {
	f.src.register(fs)
	f.sim.register(fs)
	f.fit.registerShared(fs)
	fs.StringVar(&f.source, "source", "", "input: sim (the default without --data) or data")
	fs.StringVar(&f.data, "data", "", "recording to evaluate on (binned, or continuous through the signal chain)")
	fs.IntVar(&f.testEvery, "test-every", 5, "recorded data: every N-th trial is the test set")
	fs.Float64Var(&f.simMinutes, "sim-minutes", 10, "simulator: minutes of data (the last 20% is the test range)")
	f.decoders = targetList(evalDefaultDecoders)
	fs.Var(&f.decoders, "decoders", "comma-separated decoders to compare")
	fs.BoolVar(&f.jsonOut, "json", false, "print the summary as one JSON object on the last line")
	fs.StringVar(&f.plot, "plot", "", "draw decoded against true trajectories of the test set to this PNG")
	fs.IntVar(&f.closedLoop, "closed-loop", 0, "simulator: also steer a cursor with every decoder for this many trials, a simulated user closing the loop, and add the figures to the table (0: offline only)")
	fs.IntVar(&f.seeds, "seeds", 1, "train every decoder from this many seeds (--seed, --seed+1, ...) and report R² as mean ± spread, with whether the best decoder's lead exceeds the spread")
	f.targets = targetList{"vel_x", "vel_y"}
	fs.Var(&f.targets, "targets", "comma-separated targets to decode")
}

// check checks eval's own flags.
func (f *evalFlags) check() error {
	for _, k := range f.decoders {
		if err := decoder.CheckTrainable(k); err != nil {
			return err
		}
	}
	if f.source == "" {
		f.source = "sim"
		if f.data != "" {
			f.source = "data"
		}
	}
	switch {
	case f.source != "sim" && f.source != "data":
		return fmt.Errorf("unknown --source %q (sim or data)", f.source)
	case f.source == "data" && f.data == "":
		return errors.New("--source data needs --data")
	case f.testEvery < 2 || f.testEvery > 1000:
		return fmt.Errorf("--test-every %d: want 2-1000", f.testEvery)
	case !(f.simMinutes > 0 && f.simMinutes <= 24*60):
		return fmt.Errorf("--sim-minutes %v: want more than 0 and at most a day", f.simMinutes)
	case f.seeds < 1 || f.seeds > 100:
		return fmt.Errorf("--seeds %d: want 1-100", f.seeds)
	case f.closedLoop < 0 || f.closedLoop > 100000:
		return fmt.Errorf("--closed-loop %d: want 0 (none) to 100000 trials", f.closedLoop)
	case f.closedLoop > 0 && (f.source != "sim" || f.targets.String() != "vel_x,vel_y"):
		return errors.New("--closed-loop needs the simulator's neurons and velocity targets (--source sim, --targets vel_x,vel_y)")
	}
	return nil
}

func runEval(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("eval", "eval [--source sim --seed N | --data FILE] [flags]")
	var f evalFlags
	f.register(fs)
	if err := parse(ctx, fs, args, 0, f.src.check, f.sim.check, f.fit.check, f.check); err != nil {
		return err
	}
	f.fit.seed = f.sim.Seed
	fit, done := f.fit.options(f.jsonOut)
	var res compare.Result
	train, test, err := f.comparison().Split(ctx, &res)
	if err != nil {
		return err
	}
	log.Info().Str("source", res.Source).Int("train_bins", train.Len()).Int("test_bins", test.Len()).Msg("eval")
	co := compare.Options{Kinds: f.decoders, Fit: fit, Seeds: f.seeds, OnRow: func(r compare.Row) {
		log.Info().Str("decoder", r.Name).Float64("r2", r.R2).Float64("r2_sd", r.R2SD).Float64("train_s", r.TrainSeconds).Any("closed_loop", r.ClosedLoop).Msg("evaluated")
	}}
	if f.closedLoop > 0 {
		ev, err := f.closedLoopEvaluator()
		if err != nil {
			return err
		}
		defer ev.Close()
		co.ClosedLoop, co.ClosedLoopColumns = ev.Measure, closedloop.Columns
	}
	out, err := compare.Run(ctx, train, test, co)
	done()
	if err != nil {
		return err
	}
	out.Source, out.Split = res.Source, res.Split
	if f.plot != "" {
		if err := report.Paths(f.plot, test, f.decoders, out.Predictions, out.Source); err != nil {
			return err
		}
	}
	if err := out.WriteTable(stdout); err != nil {
		return err
	}
	if f.jsonOut {
		return writeJSONLine(stdout, out)
	}
	return nil
}

// comparison is what the flags say to compare on.
func (f *evalFlags) comparison() compare.Data {
	d := compare.Data{Open: f.src.Options("", acquire.SimConfig{}, frontend.PaceFast), Sim: f.sim.SimConfig,
		SimDuration: time.Duration(f.simMinutes * float64(time.Minute)), TestEvery: f.testEvery, Targets: f.targets}
	d.Sim.BinWidth = f.src.BinWidth()
	if f.source == "data" {
		d.Spec = f.data
	}
	return d
}

// closedLoopEvaluator runs closed-loop blocks on the simulated neurons eval
// trains on.
func (f *evalFlags) closedLoopEvaluator() (*closedloop.Evaluator, error) {
	cfg, err := f.sim.For(0, f.src.BinWidth())
	if err != nil {
		return nil, err
	}
	return closedloop.NewEvaluator(closedloop.EvaluatorOptions{Sim: cfg, Block: closedloop.Options{Trials: f.closedLoop,
		Task: closedloop.TaskOptions{Kind: cfg.Task}}, Log: log.Logger})
}
