package decoder_test

import (
	"context"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/compare"
	"github.com/bci-decode/bci-decode/dataset"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/frontend"
	"github.com/bci-decode/bci-decode/internal/shareddata"
	"github.com/bci-decode/bci-decode/snn"
)

// studyVariants are the training settings the accuracy study compares,
// each a change from the defaults.
var studyVariants = map[string]func(*decoder.SNNOptions){
	"default":      func(*decoder.SNNOptions) {},
	"time-val":     func(o *decoder.SNNOptions) { o.ValSplit = dataset.ValTime },
	"epochs80":     func(o *decoder.SNNOptions) { o.Train.Epochs, o.Train.Patience = 80, 12 },
	"cosine80":     func(o *decoder.SNNOptions) { o.Train.Epochs, o.Train.Patience, o.Train.Cosine = 80, 80, true },
	"wd":           func(o *decoder.SNNOptions) { o.Train.WeightDecay = 0.05 },
	"sub2":         func(o *decoder.SNNOptions) { o.Substeps = 2 },
	"sub4":         func(o *decoder.SNNOptions) { o.Substeps = 4 },
	"hidden256":    func(o *decoder.SNNOptions) { o.Hidden = []int{256} },
	"hidden512":    func(o *decoder.SNNOptions) { o.Hidden = []int{512} },
	"one-layer":    func(o *decoder.SNNOptions) { o.Hidden = []int{128} },
	"two-layers":   func(o *decoder.SNNOptions) { o.Hidden = []int{128, 128} },
	"two-256":      func(o *decoder.SNNOptions) { o.Hidden = []int{256, 256} },
	"three-layers": func(o *decoder.SNNOptions) { o.Hidden = []int{128, 128, 128} },
	"ens5":         func(o *decoder.SNNOptions) { o.Ensemble = 5 },
	"plif":         func(o *decoder.SNNOptions) { o.Kind = snn.PLIF },
	"readout0":     func(o *decoder.SNNOptions) { o.ReadoutBeta = -1 },
	"no-rec":       func(o *decoder.SNNOptions) { o.NoRecurrence = true },
	"readout200ms": func(o *decoder.SNNOptions) { o.ReadoutBeta = math.Exp(-0.5) },
	"lif":          func(o *decoder.SNNOptions) { o.Kind = snn.LIF },
	"alif":         func(o *decoder.SNNOptions) { o.Kind = snn.ALIF },
	"homog":        func(o *decoder.SNNOptions) { o.Kind = snn.HIFIHomogeneous },
	"gamma0":       func(o *decoder.SNNOptions) { o.Kind = snn.HIFINoInhibition },
	"joint":        func(o *decoder.SNNOptions) { o.Train.Schedule = snn.Joint },
	"interval":     func(o *decoder.SNNOptions) { o.Train.Schedule = snn.Interval },
	"lra10":        func(o *decoder.SNNOptions) { o.Train.LRA = 1e-2 },
	"soft-reset":   func(o *decoder.SNNOptions) { o.Net.SoftReset = true },
	"sigmoid":      func(o *decoder.SNNOptions) { o.Net.Sigmoid = true },
	"fixed":        func(o *decoder.SNNOptions) { o.Train.LRA = 1e-12 }, // neuron parameters stay at their initial values
}

// TestAccuracyStudyChewie trains the variants named in BCI_STUDY
// (comma-separated, "+"-joined to combine) on the chewie recording, every
// 5th trial held out (or the data BCI_STUDY_DATA names), over
// BCI_STUDY_SEEDS seeds (default 5), and logs the mean and spread of
// held-out velocity R², and the R² of the seeds' average (an ensemble at
// the readout), as eval --seeds does. It is a measurement, run by hand.
func TestAccuracyStudyChewie(t *testing.T) {
	names := os.Getenv("BCI_STUDY")
	if names == "" {
		t.Skip("set BCI_STUDY=default,sub2,... to run the accuracy study")
	}
	seeds, _ := strconv.Atoi(os.Getenv("BCI_STUDY_SEEDS"))
	if seeds == 0 {
		seeds = 5
	}
	train, test := studySplit(t)
	for _, name := range strings.Split(names, ",") {
		kind, opts := studyVariant(t, name)
		res, err := compare.Run(context.Background(), train, test, compare.Options{Kinds: []string{kind}, Seeds: seeds,
			Fit: decoder.FitOptions{Seed: 1, Tuning: map[string]any{"snn": opts}}})
		require.NoError(t, err)
		r := res.Rows[0]
		if r.R2Seeds == nil { // one seed
			r.R2Seeds, r.R2SeedAverage = []float64{r.R2}, r.R2
		}
		t.Logf("%-28s R² %.3f ± %.3f (min %.3f max %.3f, %d seeds)  seeds averaged %.3f  train %.1f s/seed %v",
			name, r.R2, r.R2SD, slices.Min(r.R2Seeds), slices.Max(r.R2Seeds), len(r.R2Seeds), r.R2SeedAverage, r.TrainSeconds, r.Details)
	}
}

// studyVariant returns the kind and settings a study name gives: "wiener",
// or variants of studyVariants and "beta=X" (a readout leak) joined by "+".
func studyVariant(t *testing.T, name string) (kind string, opts decoder.SNNOptions) {
	if name == "wiener" {
		return name, opts
	}
	opts.Kind = snn.HIFI
	for _, part := range strings.Split(name, "+") {
		if b, ok := strings.CutPrefix(part, "beta="); ok {
			beta, err := strconv.ParseFloat(b, 64)
			require.NoError(t, err)
			opts.ReadoutBeta = beta
			continue
		}
		v, ok := studyVariants[part]
		require.True(t, ok, "unknown variant %q", part)
		v(&opts)
	}
	return string(opts.Kind), opts
}

// studySplit is the data BCI_STUDY_DATA names: chewie (the default), or
// sim:N, five minutes of the simulator from data seed N with the last
// fifth held out, as eval --source sim --sim-minutes 5 splits it.
func studySplit(t *testing.T) (train, test *dataset.Set) {
	data := os.Getenv("BCI_STUDY_DATA")
	if data == "" || data == "chewie" {
		return chewieSplit(t)
	}
	seed, err := strconv.ParseUint(strings.TrimPrefix(data, "sim:"), 10, 64)
	require.NoError(t, err, "BCI_STUDY_DATA=%q: want chewie or sim:N", data)
	cfg := acquire.DefaultSimConfig
	cfg.Seed, cfg.PopulationSeed = seed, 1
	cfg, err = cfg.For(5*time.Minute, cfg.BinWidth)
	require.NoError(t, err)
	set, err := frontend.ReadSet(context.Background(), "sim", frontend.OpenOptions{Source: acquire.Params{Sim: cfg}}, "vel_x", "vel_y")
	require.NoError(t, err)
	train, test = set.SplitByTime(0.2)
	return train, test
}

func chewieSplit(t *testing.T) (train, test *dataset.Set) {
	path := shareddata.Path(t, "data", "chewie_m1", "chewie_20131003_bin100ms_all.csv")
	tab, err := acquire.OpenTable(path, acquire.TableOptions{})
	require.NoError(t, err)
	defer tab.Close()
	set, err := dataset.Read(context.Background(), tab)
	require.NoError(t, err)
	set, err = set.SelectTargets("vel_x", "vel_y")
	require.NoError(t, err)
	train, test = set.SplitByTrial(5)
	return train, test
}
