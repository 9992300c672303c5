package decoder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/bci-decode/bci-decode/dataset"
	"github.com/bci-decode/bci-decode/modelfile"
	"github.com/bci-decode/bci-decode/snn"
)

// SNNOptions configure FitSNN. Zero fields take defaults.
type SNNOptions struct {
	// Kind is the neuron model (default snn.HIFI).
	Kind snn.Kind
	// Hidden lists the spiking layer sizes (default one layer of 128).
	Hidden []int
	// NoRecurrence drops the recurrent synapses (on by default).
	NoRecurrence bool
	// ReadoutBeta is the readout leak; 0 takes the default, a readout
	// time constant of 50 ms (exp(-bin width / 50 ms): 0.67 for 20 ms
	// bins, 0.14 for 100 ms bins; 0.5 when the bin width is unknown), and
	// a negative value gives a memoryless readout.
	ReadoutBeta float64
	// ValFrac is the share of the training set used as the validation
	// split of bi-level training and early stopping (default 0.1): whole
	// trials interleaved across the set for trial-structured data, the end
	// of the set by time for continuous sessions (dataset.SplitValidation).
	ValFrac float64
	// Substeps is the number of network steps per bin (default 1): each
	// bin's features are presented Substeps times, the readout leaks
	// ReadoutBeta^(1/Substeps) per step, and its value after the bin's last
	// step is the output. Training scores every step.
	Substeps int
	// ValSplit forces dataset.ValTime on trial-structured data (for
	// comparison); empty chooses as above.
	ValSplit dataset.ValSplit
	// Net overrides further architecture options (surrogate, soft reset,
	// sigmoid reparameterisation, detached gradients); its sizes, kind,
	// recurrence and readout leak are set from the fields above.
	Net snn.Config
	// Train configures the optimisation (epochs, schedule, rates, seed,
	// progress callback).
	Train snn.TrainOptions
	// Seed draws the initial weights.
	Seed uint64
	// Init, when set, is a trained network to start from instead of drawn
	// weights: training continues from its parameters, with its input and
	// output scaling, on the new data (fine-tuning, as recalibration from
	// a short recorded block wants). Its kind and shape override Kind,
	// Hidden, recurrence, Substeps and the readout leak.
	Init *SNN
}

// SNN is a spiking-network decoder: a compiled snn.Runtime with the
// standardisation of its training data folded in.
type SNN struct {
	model *snn.Model
	norm  snn.Norm
	rt    *snn.Runtime
	sub   int // network steps per bin
	meta  snnMeta
	snap  snn.State // reused by AppendState
}

// snnMeta is the JSON metadata of an SNN model file.
type snnMeta struct {
	Net      snn.Config   `json:"net"`
	Substeps int          `json:"substeps,omitempty"` // network steps per bin; 0 means 1
	Training *SNNTraining `json:"training,omitempty"`
}

// SNNTraining records how a spiking model was trained.
type SNNTraining struct {
	Schedule  snn.Schedule `json:"schedule"`
	Epochs    int          `json:"epochs"`
	BestEpoch int          `json:"best_epoch"`
	ValR2     *float64     `json:"val_r2,omitempty"` // nil when undefined

	Seconds   float64 `json:"train_s"`
	TrainBins int     `json:"train_bins"`
	ValBins   int     `json:"val_bins"`
	Seed      uint64  `json:"seed"`
	// ValSplit says how the validation bins were chosen.
	ValSplit dataset.ValSplit `json:"val_split,omitempty"`
}

// SNNKinds are the decoder kinds backed by spiking networks.
var SNNKinds = []string{string(snn.HIFI), string(snn.HIFIHomogeneous), string(snn.HIFINoInhibition), string(snn.LIF), string(snn.PLIF), string(snn.ALIF)}

func init() {
	for _, k := range SNNKinds {
		Register(snnPlugin(k))
	}
}

// FitSNN trains a spiking-network decoder on train. ValFrac of train
// (interleaved trials, or the end by time for a continuous session; see
// SNNOptions.ValFrac) is the validation split for the neuron-level
// parameters and early stopping; standardisation statistics come from the
// rest.
func FitSNN(ctx context.Context, train *dataset.Set, opts SNNOptions) (*SNN, *snn.TrainReport, error) {
	if err := checkSet(train); err != nil {
		return nil, nil, fmt.Errorf("snn: %w", err)
	}
	if opts.Kind == "" {
		opts.Kind = snn.HIFI
	}
	if len(opts.Hidden) == 0 {
		opts.Hidden = []int{128}
	}
	if opts.ValFrac == 0 {
		opts.ValFrac = 0.1
	}
	switch {
	case opts.ReadoutBeta == 0 && train.BinWidth > 0:
		opts.ReadoutBeta = math.Exp(-float64(train.BinWidth) / 50e6)
	case opts.ReadoutBeta == 0:
		opts.ReadoutBeta = 0.5
	case opts.ReadoutBeta < 0:
		opts.ReadoutBeta = 0
	}
	if opts.Substeps == 0 {
		opts.Substeps = 1
	}
	if opts.Substeps < 1 || opts.Substeps > maxSubsteps {
		return nil, nil, fmt.Errorf("snn: %d steps per bin: want 1-%d", opts.Substeps, maxSubsteps)
	}
	if !(opts.ValFrac > 0 && opts.ValFrac < 1) {
		return nil, nil, fmt.Errorf("snn: validation fraction %v outside (0, 1)", opts.ValFrac)
	}
	if opts.ValSplit != "" && opts.ValSplit != dataset.ValTime {
		return nil, nil, fmt.Errorf("snn: validation split %q: want empty (chosen from the data) or %q", opts.ValSplit, dataset.ValTime)
	}
	fit, val, split := validationSplit(train, opts.ValFrac, opts.ValSplit)
	if fit.Len() < 2 || val.Len() < 2 {
		return nil, nil, fmt.Errorf("snn: %d training bins are too few for a validation split", train.Len())
	}
	m, norm, err := opts.initial(fit)
	if err != nil {
		return nil, nil, err
	}
	start := time.Now()
	to := opts.Train
	if to.SeqLen == 0 {
		to.SeqLen = 50
	}
	if to.Burn == 0 {
		to.Burn = 10
	}
	to.SeqLen, to.Burn = to.SeqLen*opts.Substeps, to.Burn*opts.Substeps
	rep, err := snn.Train(ctx, m, toData(fit, norm, opts.Substeps), toData(val, norm, opts.Substeps), to)
	if err != nil {
		return nil, rep, err
	}
	d, err := newSNN(m, norm, opts.Substeps)
	if err != nil {
		return nil, rep, err
	}
	d.meta.Training = &SNNTraining{Schedule: rep.Schedule, Epochs: len(rep.Epochs), BestEpoch: rep.BestEpoch,
		Seconds: time.Since(start).Seconds(), TrainBins: fit.Len(), ValBins: val.Len(), Seed: opts.Train.Seed, ValSplit: split}
	if r2 := rep.BestValR2; !math.IsNaN(r2) && !math.IsInf(r2, 0) {
		d.meta.Training.ValR2 = &r2
	}
	return d, rep, nil
}

// initial returns the network training starts from and the scaling of
// its data: a copy of opts.Init, or a network drawn for fit's shape.
func (opts *SNNOptions) initial(fit *dataset.Set) (*snn.Model, snn.Norm, error) {
	if in := opts.Init; in != nil {
		if c := in.model.Cfg; c.Inputs != fit.Inputs() || c.Outputs != fit.Outputs() {
			return nil, snn.Norm{}, fmt.Errorf("snn: the network to start from maps %d inputs to %d outputs, the data %d to %d: %w",
				c.Inputs, c.Outputs, fit.Inputs(), fit.Outputs(), ErrShape)
		}
		opts.Kind, opts.Substeps = in.model.Cfg.Kind, max(in.sub, 1)
		return in.model.Clone(), in.norm, nil
	}
	cfg := opts.Net
	cfg.Kind, cfg.Inputs, cfg.Hidden, cfg.Outputs = opts.Kind, fit.Inputs(), opts.Hidden, fit.Outputs()
	cfg.Recurrent, cfg.ReadoutBeta = !opts.NoRecurrence, math.Pow(opts.ReadoutBeta, 1/float64(opts.Substeps))
	m, err := snn.NewModel(cfg, opts.Seed)
	return m, normOf(fit), err
}

// validationSplit holds out frac of train for model selection, by
// dataset.SplitValidation unless force asks for the time split.
func validationSplit(train *dataset.Set, frac float64, force dataset.ValSplit) (fit, val *dataset.Set, split dataset.ValSplit) {
	if force == dataset.ValTime {
		fit, val = train.SplitByTime(frac)
		return fit, val, dataset.ValTime
	}
	return train.SplitValidation(frac)
}

// normOf returns the feature standardisation and target scaling of s.
func normOf(s *dataset.Set) snn.Norm {
	mu, sd := featureStats(s)
	n := snn.Norm{InMu: mu, InSd: sd, OutMu: make([]float64, s.Outputs()), OutSd: make([]float64, s.Outputs())}
	t := &dataset.Set{X: s.Y, Y: s.Y, Trial: s.Trial}
	n.OutMu, n.OutSd = featureStats(t)
	return n
}

// maxSubsteps bounds the network steps per bin.
const maxSubsteps = 16

// toData standardises s into the flat layout snn.Train uses, every bin
// repeated for each of its sub steps.
func toData(s *dataset.Set, n snn.Norm, sub int) *snn.Data {
	in, out := s.Inputs(), s.Outputs()
	d := &snn.Data{Inputs: in, Outputs: out, X: make([]float64, s.Len()*sub*in), Y: make([]float64, s.Len()*sub*out)}
	for _, g := range s.Segments() {
		d.Segments = append(d.Segments, [2]int{g[0] * sub, g[1] * sub})
	}
	for t := range s.X {
		for k := range sub {
			r := t*sub + k
			for i, v := range s.X[t] {
				d.X[r*in+i] = (float64(v) - n.InMu[i]) / n.InSd[i]
			}
			for o, v := range s.Y[t] {
				d.Y[r*out+o] = (float64(v) - n.OutMu[o]) / n.OutSd[o]
			}
		}
	}
	return d
}

func newSNN(m *snn.Model, norm snn.Norm, sub int) (*SNN, error) {
	rt, err := m.Compile(norm)
	if err != nil {
		return nil, err
	}
	meta := snnMeta{Net: m.Cfg}
	if sub > 1 {
		meta.Substeps = sub
	}
	return &SNN{model: m, norm: norm, rt: rt, sub: max(sub, 1), meta: meta}, nil
}

// Kind implements Decoder: the neuron kind ("hifi", "lif", ...).
func (d *SNN) Kind() string { return string(d.model.Cfg.Kind) }

// Inputs implements Decoder.
func (d *SNN) Inputs() int { return d.rt.Inputs() }

// Outputs implements Decoder.
func (d *SNN) Outputs() int { return d.rt.Outputs() }

// Step implements Decoder: the network steps Substeps times on the bin's
// features. It does not allocate.
func (d *SNN) Step(features, out []float32) {
	for range d.sub {
		d.rt.Step(features, out)
	}
}

// Substeps is the number of network steps per bin.
func (d *SNN) Substeps() int { return d.sub }

// Reset implements Decoder.
func (d *SNN) Reset() { d.rt.Reset() }

// Model returns the trained network parameters.
func (d *SNN) Model() *snn.Model { return d.model }

// Runtime returns the compiled network (for activity counts and
// snapshots).
func (d *SNN) Runtime() *snn.Runtime { return d.rt }

// Activity returns the spikes and synaptic operations counted since the
// last ResetActivity.
func (d *SNN) Activity() snn.Activity { return d.rt.Activity() }

// ResetActivity zeroes the operation counters.
func (d *SNN) ResetActivity() { d.rt.ResetActivity() }

// Clone implements Cloner: the copy shares nothing mutable.
func (d *SNN) Clone() Decoder {
	c, err := newSNN(d.model.Clone(), d.norm, d.sub)
	if err != nil {
		// d's model and normalisation compiled once, so they compile again.
		return d
	}
	c.meta = d.meta
	return c
}

// MarshalModel implements Marshaler: the architecture and training
// metadata as JSON, the parameters and normalisation as the payload.
func (d *SNN) MarshalModel() (any, []byte, error) {
	var w modelfile.Writer
	w.Float64s(d.model.W)
	w.Float64s(d.model.A)
	w.Float64s(d.norm.InMu)
	w.Float64s(d.norm.InSd)
	w.Float64s(d.norm.OutMu)
	w.Float64s(d.norm.OutSd)
	return d.meta, w.Buf, nil
}

// loadSNN rebuilds an SNN decoder from its model-file content.
func loadSNN(meta json.RawMessage, payload []byte) (Decoder, error) {
	var md snnMeta
	if err := json.Unmarshal(meta, &md); err != nil {
		return nil, fmt.Errorf("%w: snn metadata: %w", modelfile.ErrCorrupt, err)
	}
	r := modelfile.NewReader(payload)
	wv, av := r.Float64s(), r.Float64s()
	norm := snn.Norm{InMu: r.Float64s(), InSd: r.Float64s(), OutMu: r.Float64s(), OutSd: r.Float64s()}
	if err := r.Err(); err != nil {
		return nil, err
	}
	m, err := snn.FromParams(md.Net, wv, av)
	if err != nil {
		return nil, corrupt(err)
	}
	if md.Substeps < 0 || md.Substeps > maxSubsteps {
		return nil, fmt.Errorf("%w: %d steps per bin", modelfile.ErrCorrupt, md.Substeps)
	}
	d, err := newSNN(m, norm, md.Substeps)
	if err != nil {
		return nil, corrupt(err)
	}
	d.meta.Training = md.Training
	return d, nil
}

// corrupt marks architecture errors of a loaded file as corruption.
func corrupt(err error) error {
	if errors.Is(err, modelfile.ErrCorrupt) {
		return err
	}
	return fmt.Errorf("%w: %w", modelfile.ErrCorrupt, err)
}
