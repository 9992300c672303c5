package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog/log"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/eval"
)

func init() {
	commands["train"] = command{summary: "fit a decoder to a recording and save it as a model file", run: runTrain}
}

type trainResult struct {
	Decoder   string    `json:"decoder"`
	Model     string    `json:"model"`
	Path      string    `json:"path"`
	TrainBins int       `json:"train_bins"`
	TestBins  int       `json:"test_bins"`
	R2        *float64  `json:"r2,omitempty"`
	R2PerDim  []float64 `json:"r2_per_dim,omitempty"`
	Seconds   float64   `json:"train_s"`
}

func runTrain(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("train", "train --data FILE --out MODEL.bcim [flags]")
	var src sourceFlags
	src.register(fs)
	var ff fitFlags
	ff.register(fs, "kalman")
	data := fs.String("data", "", "recording to train on: a binned file ("+acquire.Formats()+"), through the signal chain if continuous (required)")
	out := fs.String("out", "", "model file to write (required)")
	holdout := fs.Float64("holdout", 0.2, "fraction of the recording, at its end, held out to report R² (0 trains on everything)")
	jsonOut := fs.Bool("json", false, "print the summary as one JSON object on the last line")
	targets := targetList{"vel_x", "vel_y"}
	fs.Var(&targets, "targets", "comma-separated targets to decode")
	if err := parse(ctx, fs, args, 0, src.check, ff.check, required(map[string]*string{"--data": data, "--out": out}), func() error {
		if !(*holdout >= 0 && *holdout < 1) {
			return fmt.Errorf("--holdout %v: want 0 to less than 1", *holdout)
		}
		return nil
	}); err != nil {
		return err
	}
	fit, done := ff.options(*jsonOut)
	set, err := src.readSet(ctx, *data, targets)
	if err != nil {
		return err
	}
	train, test := set, set
	if *holdout > 0 {
		train, test = set.SplitByTime(*holdout)
	}
	log.Info().Str("decoder", ff.kind).Int("train_bins", train.Len()).Int("test_bins", test.Len()).Msg("training")
	start := time.Now()
	m, err := decoder.Train(ctx, ff.kind, train, fit, decoder.ModelInfo{Targets: targets, TrainedOn: *data, TrainedAt: time.Now().UTC().Format(time.RFC3339)})
	done()
	if err != nil {
		return fmt.Errorf("%s: %w", *data, err)
	}
	res := trainResult{Decoder: ff.kind, Path: *out, TrainBins: train.Len(), Seconds: time.Since(start).Seconds()}
	if *holdout > 0 {
		sc := eval.Score(decoder.Predict(m, test), test.Y)
		r2 := sc.MeanR2()
		res.TestBins, res.R2, res.R2PerDim = test.Len(), &r2, sc.R2
		m.Info.Metrics = map[string]float64{"holdout_r2": r2}
		for i, t := range targets {
			m.Info.Metrics["holdout_r2_"+t] = sc.R2[i]
		}
	}
	if res.Model, err = decoder.Save(*out, m.Decoder, m.Info); err != nil {
		return err
	}
	if *jsonOut {
		return writeJSONLine(stdout, res)
	}
	fmt.Fprintf(stdout, "trained %s on %d bins in %.1fs; model %s written to %s\n", ff.kind, res.TrainBins, res.Seconds, res.Model, *out)
	if res.R2 != nil {
		fmt.Fprintf(stdout, "held-out R² %.3f (per target %v: %.3f) on the last %d bins\n", *res.R2, []string(targets), res.R2PerDim, res.TestBins)
	}
	return nil
}
