package decoder

import (
	"context"
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/bci-decode/bci-decode/dataset"
	"github.com/bci-decode/bci-decode/snn"
)

// snnFamily names the spiking networks' shared training settings in
// FitOptions.Tuning.
const snnFamily = "snn"

var snnDocs = map[string]string{
	string(snn.HIFI):             "HIFI spiking network: heterogeneous self-inhibiting neurons, bi-level training",
	string(snn.HIFIHomogeneous):  "HIFI ablation: one shared value per neuron parameter and layer",
	string(snn.HIFINoInhibition): "HIFI ablation: self-inhibition fixed at 0",
	string(snn.LIF):              "LIF spiking network (fixed shared leak and threshold)",
	string(snn.PLIF):             "PLIF spiking network (learned leak per layer)",
	string(snn.ALIF):             "ALIF spiking network (adaptive threshold, Bellec et al.)",
}

func snnPlugin(kind string) Plugin {
	return Plugin{Kind: kind, Doc: snnDocs[kind], Load: loadSNN, Family: snnFamily, Flags: bindSNNFlags,
		Fit: func(ctx context.Context, train *dataset.Set, o FitOptions) (Decoder, error) {
			opts, _ := o.Tuning[snnFamily].(SNNOptions)
			opts.Kind = snn.Kind(kind)
			if in, ok := o.Init.(*SNN); ok && in.model.Cfg.Kind == opts.Kind {
				opts.Init = in
			}
			d, _, err := FitSNN(ctx, train, opts.with(o))
			return d, err
		}}
}

// with applies the settings every kind understands to o.
func (o SNNOptions) with(f FitOptions) SNNOptions {
	o.Seed, o.Train.Seed = f.Seed, f.Seed
	if f.Epochs != 0 {
		o.Train.Epochs = f.Epochs
	}
	if f.Progress != nil {
		kind := string(o.Kind)
		o.Train.Progress = func(e snn.EpochReport) {
			f.Progress(Epoch{Kind: kind, Epoch: e.Epoch, Epochs: e.Epochs,
				Metrics: map[string]float64{"train_loss": e.TrainLoss, "val_loss": e.ValLoss, "val_r2": e.ValR2}})
		}
	}
	return o
}

// bindSNNFlags registers the spiking networks' training flags on fs.
func bindSNNFlags(fs *flag.FlagSet) func() (any, error) {
	var o SNNOptions
	var hidden intList
	fs.Var(&hidden, "hidden", "spiking layer sizes, comma-separated (default: two layers of 128)")
	fs.Float64Var(&o.ReadoutBeta, "readout-beta", 0, "readout leak of the spiking networks (0: a 50 ms time constant; negative: none)")
	schedule := fs.String("schedule", "", "neuron-parameter schedule of the spiking networks: bilevel (default), interval or joint")
	fs.Float64Var(&o.Train.LRW, "lr", 0, "weight learning rate of the spiking networks (0: default)")
	fs.Float64Var(&o.Train.LRA, "lr-neuron", 0, "neuron-parameter learning rate (0: default)")
	fs.IntVar(&o.Train.SeqLen, "seq-len", 0, "training sequence length in bins (0: default 50)")
	fs.IntVar(&o.Train.Batch, "batch", 0, "sequences per weight step (0: default, about 32 steps per epoch)")
	fs.IntVar(&o.Ensemble, "ensemble", 0, "spiking networks trained from different seeds whose readouts are averaged (0: default, one)")
	fs.IntVar(&o.Substeps, "substeps", 0, "network steps per bin of the spiking networks (0: default, one)")
	fs.BoolVar(&o.Net.Detached, "detached", false, "detached-membrane gradients instead of full BPTT")
	fs.BoolVar(&o.Net.SoftReset, "soft-reset", false, "subtract the threshold after a spike (the 2024 code) instead of resetting to ure")
	fs.BoolVar(&o.Net.Sigmoid, "sigmoid", false, "sigmoid reparameterisation of learned decay and threshold (the 2024 code) instead of clamping")
	return func() (any, error) {
		o.Hidden = []int(hidden)
		o.Train.Schedule = snn.Schedule(*schedule)
		return o, o.checkTuning()
	}
}

// checkTuning reports training settings that mean nothing; zero means the
// trainer's default throughout.
func (o SNNOptions) checkTuning() error {
	t := o.Train
	switch {
	case !(t.LRW >= 0 && t.LRW <= 10) || !(t.LRA >= 0 && t.LRA <= 1):
		return fmt.Errorf("snn: learning rates %v (weights, 0-10) and %v (neuron parameters, 0-1)", t.LRW, t.LRA)
	case !(o.ReadoutBeta < 1) || math.IsNaN(o.ReadoutBeta):
		return fmt.Errorf("snn: readout leak %v: want less than 1 (0: default, negative: none)", o.ReadoutBeta)
	case t.SeqLen < 0 || t.SeqLen > 10000 || t.Batch < 0 || t.Batch > 4096:
		return fmt.Errorf("snn: sequence length %d (0-10000) and batch %d (0-4096)", t.SeqLen, t.Batch)
	case o.Ensemble < 0 || o.Ensemble > maxMembers || o.Substeps < 0 || o.Substeps > maxSubsteps:
		return fmt.Errorf("snn: ensemble of %d (0-%d) and %d steps per bin (0-%d)", o.Ensemble, maxMembers, o.Substeps, maxSubsteps)
	}
	switch t.Schedule {
	case "", snn.BiLevel, snn.Interval, snn.Joint:
		return nil
	}
	return fmt.Errorf("snn: schedule %q: want bilevel, interval or joint", t.Schedule)
}

// intList is a flag holding a comma-separated list of positive integers.
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
		if err != nil || n < 1 || n > 1<<14 {
			return fmt.Errorf("%q is not a layer size (1-16384)", p)
		}
		*l = append(*l, n)
	}
	return nil
}
