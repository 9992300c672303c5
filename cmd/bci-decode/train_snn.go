package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/schollz/progressbar/v3"

	"github.com/bci-decode/bci-decode/dataset"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/snn"
)

func init() {
	for _, k := range decoder.SNNKinds {
		kind := k
		fitters[kind] = func(ctx context.Context, train *dataset.Set, o fitOptions) (decoder.Decoder, error) {
			d, _, err := trainSNN(ctx, kind, train, snnTrainOptions{Seed: o.Seed, Epochs: o.Epochs}, o.Progress, o.OnEpoch)
			if err != nil {
				return nil, err
			}
			return d, nil
		}
	}
}

// snnTrainOptions are the command-line settings of spiking-network
// training; zero fields take the defaults of decoder.FitSNN and snn.Train.
type snnTrainOptions struct {
	Seed        uint64
	Epochs      int
	Hidden      []int
	ReadoutBeta float64
	Schedule    string
	LRW, LRA    float64
	Laplacian   float64
	Detached    bool
	SoftReset   bool
	Sigmoid     bool
	SeqLen      int
	Batch       int
}

// trainSNN trains a spiking decoder of the given kind ("hifi", "lif",
// "plif", "alif", "hifi-homog", "hifi-gamma0"). With progress non-nil it
// draws a progress bar with the epoch, losses and validation R²; onEpoch,
// when set, receives each epoch's figures.
func trainSNN(ctx context.Context, kind string, train *dataset.Set, o snnTrainOptions, progress io.Writer, onEpoch func(int, map[string]float64)) (*decoder.SNN, *snn.TrainReport, error) {
	opts := decoder.SNNOptions{
		Kind: snn.Kind(kind), Hidden: o.Hidden, ReadoutBeta: o.ReadoutBeta, Seed: o.Seed,
		Net: snn.Config{Detached: o.Detached, SoftReset: o.SoftReset, Sigmoid: o.Sigmoid},
		Train: snn.TrainOptions{Epochs: o.Epochs, Seed: o.Seed, Schedule: snn.Schedule(o.Schedule), LRW: o.LRW, LRA: o.LRA,
			Laplacian: o.Laplacian, SeqLen: o.SeqLen, Batch: o.Batch},
	}
	var bar *progressbar.ProgressBar
	epochs := opts.Train.Epochs
	if epochs == 0 {
		epochs = 30
		opts.Train.Epochs = epochs
	}
	if progress != nil {
		bar = progressbar.NewOptions(epochs, progressbar.OptionSetWriter(progress), progressbar.OptionSetDescription(kind),
			progressbar.OptionShowCount(), progressbar.OptionSetElapsedTime(true), progressbar.OptionSetPredictTime(true),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(progress) }))
	}
	opts.Train.Progress = func(e snn.EpochReport) {
		if bar != nil {
			bar.Describe(fmt.Sprintf("%s epoch %d/%d loss %.4f val %.4f val R² %.3f", kind, e.Epoch, e.Epochs, e.TrainLoss, e.ValLoss, e.ValR2))
			_ = bar.Set(e.Epoch)
		}
		if onEpoch != nil {
			onEpoch(e.Epoch, map[string]float64{"train_loss": e.TrainLoss, "val_loss": e.ValLoss, "val_r2": e.ValR2})
		}
	}
	d, rep, err := decoder.FitSNN(ctx, train, opts)
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		return nil, rep, fmt.Errorf("train %s: %w", kind, err)
	}
	return d, rep, nil
}

// intList is a comma-separated list of positive integers flag.
type intList []int

// String implements flag.Value.
func (l *intList) String() string {
	s := make([]string, len(*l))
	for i, v := range *l {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ",")
}

// Set implements flag.Value.
func (l *intList) Set(v string) error {
	*l = nil
	for _, p := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 {
			return fmt.Errorf("%q is not a positive integer", p)
		}
		*l = append(*l, n)
	}
	return nil
}
