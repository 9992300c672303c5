package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog/log"

	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/dataset"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/eval"
	"github.com/bci-decode/bci-decode/replay"
	"github.com/bci-decode/bci-decode/report"
)

func init() {
	commands["retrain"] = command{summary: "retrain a decoder on a recorded session and store it for a hot swap", run: runRetrain}
}

type retrainResult struct {
	Session   string    `json:"session"`
	Decoder   string    `json:"decoder"`
	Model     string    `json:"model"`
	TrainBins int       `json:"train_bins"`
	TestBins  int       `json:"test_bins"`
	NewR2     float64   `json:"new_r2"`
	NewR2Dim  []float64 `json:"new_r2_per_dim"`
	LiveModel string    `json:"live_model,omitempty"`
	LiveR2    *float64  `json:"live_r2,omitempty"`
	KalmanR2  float64   `json:"kalman_r2"`
	Seconds   float64   `json:"train_s"`
	File      string    `json:"file,omitempty"`
}

func runRetrain(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("retrain", "retrain --session S [--data-dir DIR | --nats URL] [flags]")
	var bf busFlags
	bf.register(fs, "", "127.0.0.1:0")
	kind := fs.String("decoder", defaultRetrainDecoder(), "decoder to train: "+strings.Join(fitterNames(), ", "))
	testFrac := fs.Float64("test-frac", 0.2, "fraction of the session, at its end, held out for the report")
	out := fs.String("out", "", "also write the new model to this file")
	plotPath := fs.String("plot", "", "draw the learning curves to this PNG (iterative decoders)")
	seed := fs.Uint64("seed", 1, "training seed")
	epochs := fs.Int("epochs", 0, "training epochs (0: the decoder's default)")
	jsonOut := fs.Bool("json", false, "print the summary as one JSON object on the last line")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if bf.session == "" {
		return fmt.Errorf("%w: --session is required", errUsage)
	}
	if *testFrac <= 0 || *testFrac >= 0.9 {
		return fmt.Errorf("%w: --test-frac must be in (0, 0.9)", errUsage)
	}
	if _, ok := fitters[*kind]; !ok {
		return fmt.Errorf("%w: unknown decoder %q (have %s)", errUsage, *kind, strings.Join(fitterNames(), ", "))
	}
	nc, closeBus, err := bf.connect()
	if err != nil {
		return err
	}
	defer closeBus()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	models, err := bus.OpenModels(ctx, js, 1)
	if err != nil {
		return err
	}
	set, _, err := replay.ReadSet(ctx, js, bf.session)
	if err != nil {
		return err
	}
	// The live model says which targets the decoder serves; default to
	// velocity.
	targets := []string{"vel_x", "vel_y"}
	var live *decoder.Loaded
	if intents, err := replay.RecordedIntents(ctx, js, bf.session); err == nil && len(intents) > 0 {
		if live, err = models.Get(ctx, intents[len(intents)-1].Model); err != nil {
			log.Warn().Err(err).Msg("the live model is not in the store; reporting without it")
		} else if len(live.Info.Targets) > 0 {
			targets = live.Info.Targets
		}
	}
	if set, err = set.SelectTargets(targets...); err != nil {
		return err
	}
	train, test := set.SplitByTime(*testFrac)
	if train.Len() < 10 || test.Len() < 2 {
		return fmt.Errorf("session %q has %d bins: too few to retrain and test", bf.session, set.Len())
	}
	log.Info().Str("decoder", *kind).Int("train_bins", train.Len()).Int("test_bins", test.Len()).Msg("retraining on the recorded session")

	curves := map[string][]float64{}
	var progress io.Writer
	if !*jsonOut {
		progress = os.Stderr
	}
	start := time.Now()
	dec, err := fit(ctx, *kind, train, fitOptions{Seed: *seed, Epochs: *epochs, Progress: progress,
		OnEpoch: func(_ int, m map[string]float64) {
			for k, v := range m {
				curves[k] = append(curves[k], v)
			}
		}})
	if err != nil {
		return fmt.Errorf("retrain %s: %w", *kind, err)
	}
	res := retrainResult{Session: bf.session, Decoder: *kind, TrainBins: train.Len(), TestBins: test.Len(), Seconds: time.Since(start).Seconds(), File: *out}
	sc := scoreOn(dec, test)
	res.NewR2, res.NewR2Dim = sc.MeanR2(), sc.R2
	if live != nil {
		r := scoreOn(live.Decoder, test).MeanR2()
		res.LiveModel, res.LiveR2 = live.Hash, &r
	}
	kalman, err := decoder.FitKalman(ctx, train, decoder.KalmanOptions{})
	if err != nil {
		return fmt.Errorf("kalman baseline: %w", err)
	}
	res.KalmanR2 = scoreOn(kalman, test).MeanR2()

	info := decoder.ModelInfo{Targets: targets, BinWidthNS: set.BinWidth, TrainedOn: "session " + bf.session,
		TrainedAt: time.Now().UTC().Format(time.RFC3339), Metrics: map[string]float64{"holdout_r2": res.NewR2}}
	b, _, err := decoder.Encode(dec, info)
	if err != nil {
		return err
	}
	if res.Model, err = models.Put(ctx, b); err != nil {
		return err
	}
	if *out != "" {
		if _, err := decoder.Save(*out, dec, info); err != nil {
			return err
		}
	}
	if *plotPath != "" {
		if len(curves) == 0 {
			return fmt.Errorf("plot: the %s decoder is fit in closed form and has no learning curve", *kind)
		}
		if err := report.Curves(*plotPath, "retraining "+*kind+" on "+bf.session, "epoch", "", curves); err != nil {
			return err
		}
	}
	if *jsonOut {
		return writeJSONLine(stdout, res)
	}
	fmt.Fprintf(stdout, "retrained %s on %d bins of session %s in %.1fs; held-out R² on the last %d bins:\n", *kind, res.TrainBins, bf.session, res.Seconds, res.TestBins)
	fmt.Fprintf(stdout, "  new model     %.3f %.3f\n", res.NewR2, res.NewR2Dim)
	if res.LiveR2 != nil {
		fmt.Fprintf(stdout, "  live model    %.3f (%.12s)\n", *res.LiveR2, res.LiveModel)
	}
	fmt.Fprintf(stdout, "  kalman        %.3f\n", res.KalmanR2)
	fmt.Fprintf(stdout, "stored as %s in bucket %s; swap it in with: bci-decode swap --session %s --model %s\n", res.Model, bus.ModelBucket, bf.session, res.Model)
	return nil
}

// defaultRetrainDecoder prefers the HIFI network where this build has it.
func defaultRetrainDecoder() string {
	if _, ok := fitters["hifi"]; ok {
		return "hifi"
	}
	return "kalman"
}

func scoreOn(d decoder.Decoder, s *dataset.Set) eval.Regression {
	return eval.Score(decoder.Predict(d, s), s.Y)
}
