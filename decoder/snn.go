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
	// Hidden lists the spiking layer sizes (default two layers of 128: a
	// second layer raised held-out R² on chewie_m1 from 0.727 to 0.780 and
	// on the simulator from 0.836 to 0.876, see the README).
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
	// Ensemble is the number of networks trained from different seeds whose
	// readouts are averaged (default 1). Each member is event-driven as a
	// single network is; cost and footprint add up.
	Ensemble int
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
// standardisation of its training data folded in, or an ensemble of them
// whose readouts are averaged.
type SNN struct {
	model   *snn.Model // the first member
	norm    snn.Norm
	rt      *snn.Runtime
	members []*snn.Model
	rts     []*snn.Runtime
	tmp     []float32 // a member's output, for ensembles
	sub     int       // network steps per bin
	meta    snnMeta
	snap    snn.State // reused by AppendState
}

// snnMeta is the JSON metadata of an SNN model file.
type snnMeta struct {
	Net      snn.Config   `json:"net"`
	Members  int          `json:"members,omitempty"`  // networks averaged; 0 means 1
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
	// Members is the ensemble's size; the figures above are its first
	// member's, but Seconds, which is the whole training time.
	Members int `json:"members,omitempty"`
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
// rest. The report is the first ensemble member's.
func FitSNN(ctx context.Context, train *dataset.Set, opts SNNOptions) (*SNN, *snn.TrainReport, error) {
	if err := checkSet(train); err != nil {
		return nil, nil, fmt.Errorf("snn: %w", err)
	}
	if err := opts.ensureDefaults(train.BinWidth); err != nil {
		return nil, nil, err
	}
	fit, val, split := validationSplit(train, opts.ValFrac, opts.ValSplit)
	if fit.Len() < 2 || val.Len() < 2 {
		return nil, nil, fmt.Errorf("snn: %d training bins are too few for a validation split", train.Len())
	}
	cfg, norm, err := opts.start(fit)
	if err != nil {
		return nil, nil, err
	}
	fd, vd := toData(fit, norm, opts.Substeps), toData(val, norm, opts.Substeps)
	start := time.Now()
	var models []*snn.Model
	var first *snn.TrainReport
	for i := range opts.Ensemble {
		m, rep, err := fitMember(ctx, cfg, fd, vd, opts, i)
		if err != nil {
			return nil, rep, err
		}
		models = append(models, m)
		if i == 0 {
			first = rep
		}
	}
	d, err := newSNN(models, norm, opts.Substeps)
	if err != nil {
		return nil, first, err
	}
	d.meta.Training = &SNNTraining{Schedule: first.Schedule, Epochs: len(first.Epochs), BestEpoch: first.BestEpoch,
		Seconds: time.Since(start).Seconds(), TrainBins: fit.Len(), ValBins: val.Len(), Seed: opts.Train.Seed, ValSplit: split}
	if r2 := first.BestValR2; !math.IsNaN(r2) && !math.IsInf(r2, 0) {
		d.meta.Training.ValR2 = &r2
	}
	if opts.Ensemble > 1 {
		d.meta.Training.Members = opts.Ensemble
	}
	return d, first, nil
}

// memberSeedStride separates the seeds of ensemble members, so ensembles
// of neighbouring seeds share no member.
const memberSeedStride = 0x9e3779b9

// fitMember trains the i-th ensemble member, from seeds of its own.
func fitMember(ctx context.Context, cfg snn.Config, fit, val *snn.Data, opts SNNOptions, i int) (*snn.Model, *snn.TrainReport, error) {
	off := uint64(i) * memberSeedStride
	var m *snn.Model
	if opts.Init != nil {
		m = opts.Init.members[i].Clone()
	} else {
		var err error
		if m, err = snn.NewModel(cfg, opts.Seed+off); err != nil {
			return nil, nil, err
		}
	}
	to := opts.Train
	to.Seed += off
	to.SeqLen, to.Burn = to.SeqLen*opts.Substeps, to.Burn*opts.Substeps
	if p, n := to.Progress, opts.Ensemble; p != nil && n > 1 {
		to.Progress = func(e snn.EpochReport) {
			e.Epoch, e.Epochs = i*e.Epochs+e.Epoch, n*e.Epochs
			p(e)
		}
	}
	rep, err := snn.Train(ctx, m, fit, val, to)
	return m, rep, err
}

// ensureDefaults fills the zero fields of o for data of the given bin
// width and checks the result.
func (o *SNNOptions) ensureDefaults(bin time.Duration) error {
	if o.Kind == "" {
		o.Kind = snn.HIFI
	}
	if len(o.Hidden) == 0 {
		o.Hidden = []int{128, 128}
	}
	if o.ValFrac == 0 {
		o.ValFrac = 0.1
	}
	switch {
	case o.ReadoutBeta == 0 && bin > 0:
		o.ReadoutBeta = math.Exp(-float64(bin) / 50e6)
	case o.ReadoutBeta == 0:
		o.ReadoutBeta = 0.5
	case o.ReadoutBeta < 0:
		o.ReadoutBeta = 0
	}
	if o.Substeps < 0 || o.Ensemble < 0 {
		return fmt.Errorf("snn: %d steps per bin and an ensemble of %d: want positive values (0: default)", o.Substeps, o.Ensemble)
	}
	o.Substeps, o.Ensemble = max(o.Substeps, 1), max(o.Ensemble, 1)
	if o.Train.SeqLen == 0 {
		o.Train.SeqLen = 50
	}
	if o.Train.Burn == 0 {
		o.Train.Burn = 10
	}
	switch {
	case o.Substeps > maxSubsteps:
		return fmt.Errorf("snn: %d steps per bin: want 1-%d", o.Substeps, maxSubsteps)
	case o.Ensemble > maxMembers:
		return fmt.Errorf("snn: ensemble of %d: want 1-%d networks", o.Ensemble, maxMembers)
	case !(o.ValFrac > 0 && o.ValFrac < 1):
		return fmt.Errorf("snn: validation fraction %v outside (0, 1)", o.ValFrac)
	case o.ValSplit != "" && o.ValSplit != dataset.ValTime:
		return fmt.Errorf("snn: validation split %q: want empty (chosen from the data) or %q", o.ValSplit, dataset.ValTime)
	}
	return nil
}

// start returns the architecture and data scaling training starts from:
// opts.Init's, whose members are then fine-tuned one for one, or those the
// options and fit's shape give.
func (opts *SNNOptions) start(fit *dataset.Set) (snn.Config, snn.Norm, error) {
	if in := opts.Init; in != nil {
		c := in.model.Cfg
		if c.Inputs != fit.Inputs() || c.Outputs != fit.Outputs() {
			return c, snn.Norm{}, fmt.Errorf("snn: the network to start from maps %d inputs to %d outputs, the data %d to %d: %w",
				c.Inputs, c.Outputs, fit.Inputs(), fit.Outputs(), ErrShape)
		}
		opts.Kind, opts.Substeps, opts.Ensemble = c.Kind, max(in.sub, 1), len(in.members)
		return c, in.norm, nil
	}
	cfg := opts.Net
	cfg.Kind, cfg.Inputs, cfg.Hidden, cfg.Outputs = opts.Kind, fit.Inputs(), opts.Hidden, fit.Outputs()
	cfg.Recurrent, cfg.ReadoutBeta = !opts.NoRecurrence, math.Pow(opts.ReadoutBeta, 1/float64(opts.Substeps))
	return cfg, normOf(fit), nil
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

// maxSubsteps bounds the network steps per bin, maxMembers an ensemble.
const (
	maxSubsteps = 16
	maxMembers  = 64
)

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

// newSNN compiles the members (one network, or an ensemble of networks of
// one architecture) with the standardisation folded in.
func newSNN(members []*snn.Model, norm snn.Norm, sub int) (*SNN, error) {
	d := &SNN{model: members[0], norm: norm, members: members, sub: max(sub, 1), meta: snnMeta{Net: members[0].Cfg}}
	for _, m := range members {
		if !sameArchitecture(m.Cfg, d.model.Cfg) {
			return nil, fmt.Errorf("%w: ensemble members of different architectures", snn.ErrConfig)
		}
		rt, err := m.Compile(norm)
		if err != nil {
			return nil, err
		}
		d.rts = append(d.rts, rt)
	}
	d.rt = d.rts[0]
	d.tmp = make([]float32, d.rt.Outputs())
	if sub > 1 {
		d.meta.Substeps = sub
	}
	if len(members) > 1 {
		d.meta.Members = len(members)
	}
	return d, nil
}

func sameArchitecture(a, b snn.Config) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// Kind implements Decoder: the neuron kind ("hifi", "lif", ...).
func (d *SNN) Kind() string { return string(d.model.Cfg.Kind) }

// Inputs implements Decoder.
func (d *SNN) Inputs() int { return d.rt.Inputs() }

// Outputs implements Decoder.
func (d *SNN) Outputs() int { return d.rt.Outputs() }

// Step implements Decoder: the network steps Substeps times on the bin's
// features; an ensemble's outputs are the mean of its members'. It does
// not allocate.
func (d *SNN) Step(features, out []float32) {
	for range d.sub {
		d.rt.Step(features, out)
	}
	if len(d.rts) == 1 {
		return
	}
	for _, rt := range d.rts[1:] {
		for range d.sub {
			rt.Step(features, d.tmp)
		}
		for k, v := range d.tmp {
			out[k] += v
		}
	}
	scale := 1 / float32(len(d.rts))
	for k := range out {
		out[k] *= scale
	}
}

// Members is the number of networks whose outputs are averaged.
func (d *SNN) Members() int { return len(d.rts) }

// Substeps is the number of network steps per bin.
func (d *SNN) Substeps() int { return d.sub }

// Reset implements Decoder.
func (d *SNN) Reset() {
	for _, rt := range d.rts {
		rt.Reset()
	}
}

// Model returns the trained network parameters (an ensemble's first
// member's).
func (d *SNN) Model() *snn.Model { return d.model }

// Runtime returns the compiled network (for activity counts and
// snapshots; an ensemble's first member).
func (d *SNN) Runtime() *snn.Runtime { return d.rt }

// Activity returns the spikes and synaptic operations counted since the
// last ResetActivity, summed over an ensemble's members (Steps are one
// member's).
func (d *SNN) Activity() snn.Activity {
	a := d.rt.Activity()
	for _, rt := range d.rts[1:] {
		a = a.Add(rt.Activity())
	}
	return a
}

// ResetActivity zeroes the operation counters.
func (d *SNN) ResetActivity() {
	for _, rt := range d.rts {
		rt.ResetActivity()
	}
}

// Clone implements Cloner: the copy shares nothing mutable.
func (d *SNN) Clone() Decoder {
	ms := make([]*snn.Model, len(d.members))
	for i, m := range d.members {
		ms[i] = m.Clone()
	}
	c, err := newSNN(ms, d.norm, d.sub)
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
	for _, m := range d.members {
		w.Float64s(m.W)
		w.Float64s(m.A)
	}
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
	if md.Substeps < 0 || md.Substeps > maxSubsteps || md.Members < 0 || md.Members > maxMembers {
		return nil, fmt.Errorf("%w: %d steps per bin, %d members", modelfile.ErrCorrupt, md.Substeps, md.Members)
	}
	r := modelfile.NewReader(payload)
	var members []*snn.Model
	for range max(md.Members, 1) {
		wv, av := r.Float64s(), r.Float64s() // a short payload fails FromParams, or r.Err below
		m, err := snn.FromParams(md.Net, wv, av)
		if err != nil {
			return nil, corrupt(err)
		}
		members = append(members, m)
	}
	norm := snn.Norm{InMu: r.Float64s(), InSd: r.Float64s(), OutMu: r.Float64s(), OutSd: r.Float64s()}
	if err := r.Err(); err != nil {
		return nil, err
	}
	d, err := newSNN(members, norm, md.Substeps)
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
