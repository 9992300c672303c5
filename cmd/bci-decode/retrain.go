package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/closedloop"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/replay"
	"github.com/bci-decode/bci-decode/report"
)

func init() {
	commands["retrain"] = command{summary: "retrain a decoder on a recorded session and store it for a hot swap", run: runRetrain}
}

func runRetrain(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("retrain", "retrain --session S [--data-dir DIR | --nats URL] [flags]")
	var bf busFlags
	bf.register(fs, "", "127.0.0.1:0")
	bf.Existing = true
	var ff fitFlags
	ff.register(fs, "hifi")
	testFrac := fs.Float64("test-frac", 0.2, "fraction of the session, at its end, held out for the report")
	out := fs.String("out", "", "also write the new model to this file")
	plotPath := fs.String("plot", "", "draw the learning curves to this PNG (iterative decoders)")
	jsonOut := fs.Bool("json", false, "print the summary as one JSON object on the last line")
	intention := fs.Bool("intention", false, "closed-loop sessions: label the bins with the user's intention inferred as in ReFIT (decoded velocity turned toward the target, zero on it), not the recorded targets")
	var in closedloop.Intention
	fs.DurationVar(&in.Delay, "intention-delay", 0, "with --intention: take the cursor where the user saw it this long before each bin (0: ReFIT as published)")
	o := replay.RetrainOptions{}
	fs.BoolVar(&o.FromLive, "from-live", false, "start from the model that was live when it is of --decoder's kind: fine-tune a spiking network on the session instead of training a new one (closed-form kinds start afresh)")
	if err := parse(ctx, fs, args, 0, bf.check, ff.check, func() error { return in.Validate() }, required(map[string]*string{"--session": &bf.session}), func() error {
		o.Kind, o.TestFrac = ff.kind, *testFrac
		return o.Validate()
	}); err != nil {
		return err
	}
	if *intention {
		o.Read, o.Labels = in.Read, in.Labels()
	}
	fit, done := ff.options(*jsonOut)
	curves := map[string][]float64{}
	o.Fit = withCurves(fit, curves)
	js, closeBus, err := bf.jetStream()
	if err != nil {
		return err
	}
	defer closeBus()
	res, err := replay.Retrain(ctx, js, bf.session, o)
	done()
	if err != nil {
		return err
	}
	if *out != "" {
		if _, err := decoder.Save(*out, res.Loaded.Decoder, res.Loaded.Info); err != nil {
			return err
		}
	}
	if *plotPath != "" {
		if len(curves) == 0 {
			return fmt.Errorf("plot: the %s decoder is fit in closed form and has no learning curve", ff.kind)
		}
		if err := report.Curves(*plotPath, "retraining "+ff.kind+" on "+bf.session, "epoch", "", curves); err != nil {
			return err
		}
	}
	if *jsonOut {
		return writeJSONLine(stdout, res)
	}
	writeRetrained(stdout, res)
	return nil
}

// withCurves makes training also append each epoch's figures to curves.
func withCurves(o decoder.FitOptions, curves map[string][]float64) decoder.FitOptions {
	progress := o.Progress
	o.Progress = func(e decoder.Epoch) {
		for _, k := range slices.Sorted(maps.Keys(e.Metrics)) {
			curves[k] = append(curves[k], e.Metrics[k])
		}
		if progress != nil {
			progress(e)
		}
	}
	return o
}

func writeRetrained(w io.Writer, r *replay.Retrained) {
	fmt.Fprintf(w, "retrained %s on %d bins of session %s in %.1fs; held-out R² on the last %d bins:\n", r.Decoder, r.TrainBins, r.Session, r.Seconds, r.TestBins)
	fmt.Fprintf(w, "  new model     %.3f %.3f\n", r.NewR2, r.NewR2Dim)
	if r.LiveR2 != nil {
		fmt.Fprintf(w, "  live model    %.3f (%.12s)\n", *r.LiveR2, r.LiveModel)
	}
	fmt.Fprintf(w, "  kalman        %.3f\n", r.KalmanR2)
	fmt.Fprintf(w, "stored as %s in bucket %s\n", r.Model, bus.ModelBucket)
	if r.Better {
		fmt.Fprintf(w, "swap it in with: bci-decode swap --session %s --model %s\n", r.Session, r.Model)
	} else {
		fmt.Fprintf(w, "it scored below the live model on the held-out bins: keep the live one\n")
	}
}
