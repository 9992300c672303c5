package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/bci-decode/bci-decode/dataset"
	"github.com/bci-decode/bci-decode/decoder"
)

// fitOptions are the training settings shared by every decoder kind.
type fitOptions struct {
	Seed uint64
	// Epochs bounds iterative training (spiking networks); 0 is the
	// trainer's default.
	Epochs int
	// Progress receives a human-readable progress display; nil for none.
	Progress io.Writer
	// OnEpoch, when set, receives each epoch's figures (e.g. "train_loss",
	// "val_r2") from iterative trainers, for learning curves.
	OnEpoch func(epoch int, metrics map[string]float64)
}

// fitFunc fits one decoder kind to a training set.
type fitFunc func(ctx context.Context, train *dataset.Set, opts fitOptions) (decoder.Decoder, error)

// fitters maps decoder kinds to their training functions. The baselines are
// registered here; other files add their kinds in init functions.
var fitters = map[string]fitFunc{
	"kalman": func(ctx context.Context, train *dataset.Set, _ fitOptions) (decoder.Decoder, error) {
		return decoder.FitKalman(ctx, train, decoder.KalmanOptions{})
	},
	"wiener": func(ctx context.Context, train *dataset.Set, _ fitOptions) (decoder.Decoder, error) {
		return decoder.FitWiener(ctx, train, decoder.WienerOptions{})
	},
}

// fitterNames lists the trainable decoder kinds, sorted.
func fitterNames() []string {
	out := make([]string, 0, len(fitters))
	for k := range fitters {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// fit trains a decoder of the given kind.
func fit(ctx context.Context, kind string, train *dataset.Set, opts fitOptions) (decoder.Decoder, error) {
	f, ok := fitters[kind]
	if !ok {
		return nil, fmt.Errorf("%w: unknown decoder %q (have %s)", errUsage, kind, strings.Join(fitterNames(), ", "))
	}
	return f(ctx, train, opts)
}

// targetList is a comma-separated list flag.
type targetList []string

func (t *targetList) String() string { return strings.Join(*t, ",") }

func (t *targetList) Set(s string) error {
	*t = nil
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*t = append(*t, p)
		}
	}
	if len(*t) == 0 {
		return fmt.Errorf("empty list")
	}
	return nil
}

var _ flag.Value = (*targetList)(nil)
