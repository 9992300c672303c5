package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog/log"

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
	data := fs.String("data", "", "binned recording to train on: "+binnedFormats()+" (required)")
	rebin := fs.Int("rebin", 1, "merge this many source bins into one (tables)")
	kind := fs.String("decoder", "kalman", "decoder to fit: "+strings.Join(fitterNames(), ", "))
	out := fs.String("out", "", "model file to write (required)")
	holdout := fs.Float64("holdout", 0.2, "fraction of the recording, at its end, held out to report R² (0 trains on everything)")
	seed := fs.Uint64("seed", 1, "training seed (iterative decoders)")
	epochs := fs.Int("epochs", 0, "training epochs for iterative decoders (0: the decoder's default)")
	jsonOut := fs.Bool("json", false, "print the summary as one JSON object on the last line")
	targets := targetList{"vel_x", "vel_y"}
	fs.Var(&targets, "targets", "comma-separated targets to decode")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *data == "" || *out == "" {
		return fmt.Errorf("%w: --data and --out are required", errUsage)
	}
	if *holdout < 0 || *holdout >= 1 {
		return fmt.Errorf("%w: --holdout must be in [0, 1)", errUsage)
	}
	if _, ok := fitters[*kind]; !ok {
		return fmt.Errorf("%w: unknown decoder %q (have %s)", errUsage, *kind, strings.Join(fitterNames(), ", "))
	}
	set, err := loadSet(*data, *rebin, targets)
	if err != nil {
		return err
	}
	train, test := set, set
	if *holdout > 0 {
		train, test = set.SplitByTime(*holdout)
	}
	log.Info().Str("decoder", *kind).Int("train_bins", train.Len()).Int("test_bins", test.Len()).Msg("training")
	start := time.Now()
	var progress io.Writer
	if !*jsonOut {
		progress = os.Stderr
	}
	dec, err := fit(ctx, *kind, train, fitOptions{Seed: *seed, Epochs: *epochs, Progress: progress})
	if err != nil {
		return fmt.Errorf("train %s on %s: %w", *kind, *data, err)
	}
	res := trainResult{Decoder: *kind, Path: *out, TrainBins: train.Len(), Seconds: time.Since(start).Seconds()}
	info := decoder.ModelInfo{Targets: targets, BinWidthNS: set.BinWidth, TrainedOn: *data, TrainedAt: time.Now().UTC().Format(time.RFC3339)}
	if *holdout > 0 {
		sc := eval.Score(decoder.Predict(dec, test), test.Y)
		m := sc.MeanR2()
		res.TestBins, res.R2, res.R2PerDim = test.Len(), &m, sc.R2
		info.Metrics = map[string]float64{"holdout_r2": m}
		for i, t := range targets {
			info.Metrics["holdout_r2_"+t] = sc.R2[i]
		}
	}
	res.Model, err = decoder.Save(*out, dec, info)
	if err != nil {
		return err
	}
	if *jsonOut {
		return writeJSONLine(stdout, res)
	}
	fmt.Fprintf(stdout, "trained %s on %d bins in %.1fs; model %s written to %s\n", *kind, res.TrainBins, res.Seconds, res.Model, *out)
	if res.R2 != nil {
		fmt.Fprintf(stdout, "held-out R² %.3f (per target %v: %.3f) on the last %d bins\n", *res.R2, []string(targets), res.R2PerDim, res.TestBins)
	}
	return nil
}
