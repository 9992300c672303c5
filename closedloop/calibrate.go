package closedloop

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/dataset"
	"github.com/bci-decode/bci-decode/decoder"
)

// CalibrationOptions configures the open-loop calibration block a decoder
// is fit on before the loop is closed, as labs calibrate: the user's
// neurons are recorded during reaches of known velocity.
type CalibrationOptions struct {
	// Sim is the simulated array and reach task; its Bins come from
	// Duration.
	Sim acquire.SimConfig
	// Duration is the length of the block (default 5 min).
	Duration time.Duration
	// Kind is the decoder kind to fit (default kalman).
	Kind string
	// Fit configures training.
	Fit decoder.FitOptions
	// ShiftHz, when set, moves every neuron's baseline by a normal step of
	// this standard deviation after the block (acquire.Population.Shift):
	// the closed loop then meets the neurons on another day than the one
	// the decoder was calibrated on.
	ShiftHz float64
	// Shuffle permutes the channels the decoder's weights belong to after
	// fitting (a control that must fail in closed loop: the decoder reads
	// every neuron with another neuron's weights).
	Shuffle bool
	// Model, when set, is a decoder calibrated before (a model file): it
	// is used as it is, and no block is simulated; the neurons are Sim's
	// as they are at the start of a stream.
	Model *decoder.Loaded
}

// EnsureDefaults fills the zero fields of o.
func (o *CalibrationOptions) EnsureDefaults() {
	if o.Duration == 0 {
		o.Duration = 5 * time.Minute
	}
	if o.Kind == "" {
		o.Kind = "kalman"
	}
	o.Sim.EnsureDefaults()
	o.Sim.Bins = int(o.Duration / o.Sim.BinWidth)
}

// Validate reports settings that make no calibration.
func (o *CalibrationOptions) Validate() error {
	if o.Duration < time.Second || o.Duration > 24*time.Hour {
		return fmt.Errorf("calibration: %v block (want 1 s to 24 h)", o.Duration)
	}
	if !(o.ShiftHz >= 0 && o.ShiftHz <= 1000) {
		return fmt.Errorf("calibration: baseline shift %v Hz (want 0 to 1000)", o.ShiftHz)
	}
	if o.Model != nil && o.Shuffle {
		return errors.New("calibration: a given model is not fit, so its weights cannot be shuffled")
	}
	if err := o.Sim.Validate(); err != nil {
		return fmt.Errorf("calibration: %w", err)
	}
	return decoder.CheckTrainable(o.Kind)
}

// Calibrated is a decoder fit on an open-loop block, with the neurons in
// the state the block left them for the closed loop to continue with.
type Calibrated struct {
	Model      *decoder.Loaded
	Population *acquire.Population
	// Set is the calibration block (velocity targets); nil for a given
	// model.
	Set *dataset.Set
}

// Calibrate simulates the open-loop block and fits the decoder on it, or
// takes the given model and the neurons it is to meet.
func Calibrate(ctx context.Context, o CalibrationOptions) (*Calibrated, error) {
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Model != nil {
		pop, err := acquire.NewPopulation(o.Sim)
		if err != nil {
			return nil, err
		}
		o.shift(pop)
		return &Calibrated{Model: o.Model, Population: pop}, nil
	}
	sim, err := acquire.NewSimulator(o.Sim)
	if err != nil {
		return nil, err
	}
	set, err := dataset.Read(ctx, sim)
	if err != nil {
		return nil, fmt.Errorf("calibration block: %w", err)
	}
	if set, err = set.SelectTargets("vel_x", "vel_y"); err != nil {
		return nil, err
	}
	train := set
	info := decoder.ModelInfo{TrainedOn: fmt.Sprintf("open-loop calibration block, %v of simulated reaches (seed %d)", o.Duration, o.Sim.Seed)}
	if o.Shuffle {
		train = shuffleChannels(set, o.Sim.Seed)
		info.TrainedOn += ", channels shuffled"
	}
	m, err := decoder.Train(ctx, o.Kind, train, o.Fit, info)
	if err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	pop := sim.Population()
	o.shift(pop)
	return &Calibrated{Model: m, Population: pop, Set: set}, nil
}

// shift moves the neurons' baselines by ShiftHz.
func (o *CalibrationOptions) shift(pop *acquire.Population) {
	if o.ShiftHz > 0 {
		pop.Shift(rand.New(rand.NewPCG(o.Sim.Seed, 0x7368696674)), o.ShiftHz)
	}
}

// shuffleChannels returns s with its feature columns permuted: a decoder
// fit on it has the weights of the decoder fit on s, each moved to another
// channel.
func shuffleChannels(s *dataset.Set, seed uint64) *dataset.Set {
	perm := rand.New(rand.NewPCG(seed, 0x73687566)).Perm(s.Inputs())
	out := *s
	out.X = make([][]float32, len(s.X))
	flat := make([]float32, len(s.X)*len(perm))
	for i, x := range s.X {
		row := flat[i*len(perm) : (i+1)*len(perm) : (i+1)*len(perm)]
		for j, k := range perm {
			row[j] = x[k]
		}
		out.X[i] = row
	}
	return &out
}
