package snn

// Energy per operation, as in the HIFI paper's code (45 nm figures).
const (
	// PicojoulePerAC is the energy of one synaptic accumulate.
	PicojoulePerAC = 0.9
	// PicojoulePerMAC is the energy of one multiply-accumulate.
	PicojoulePerMAC = 4.6
)

// Activity counts what a Runtime did since its last ResetActivity.
type Activity struct {
	// Steps is the number of Step calls.
	Steps uint64 `json:"steps"`
	// Spikes is the number of spikes emitted by all hidden layers.
	Spikes uint64 `json:"spikes"`
	// AC counts synaptic accumulates: one per binary input or spike per
	// fan-out synapse.
	AC uint64 `json:"ac"`
	// MAC counts multiply-accumulates for non-binary inputs.
	MAC uint64 `json:"mac"`
	// DenseMAC is the multiply-accumulates per step of a dense ANN of
	// the same shape (every synapse every step).
	DenseMAC uint64 `json:"dense_mac_per_step"`
	// Layers is the number of hidden layers and LayerSpikes splits Spikes
	// among them, input side first. An array, not a slice, so that a
	// reading is a copy the decoding goroutine makes without allocating.
	Layers      int               `json:"-"`
	LayerSpikes [MaxLayers]uint64 `json:"-"`
}

// Activity returns the operation counts since the last ResetActivity.
func (r *Runtime) Activity() Activity {
	a := r.act
	a.DenseMAC = r.denseOp
	a.Layers = len(r.layers)
	return a
}

// ResetActivity zeroes the operation counters.
func (r *Runtime) ResetActivity() { r.act = Activity{} }

func (a Activity) per(v uint64) float64 {
	if a.Steps == 0 {
		return 0
	}
	return float64(v) / float64(a.Steps)
}

// Since returns what the runtime counted after then, an earlier reading of
// the same counters; when they restarted in between (a reset, a model
// swap), it is a itself.
func (a Activity) Since(then Activity) Activity {
	if a.Steps < then.Steps || a.Spikes < then.Spikes || a.AC < then.AC || a.MAC < then.MAC || a.Layers != then.Layers {
		return a
	}
	for l := range a.Layers {
		if a.LayerSpikes[l] < then.LayerSpikes[l] {
			return a
		}
	}
	d := Activity{Steps: a.Steps - then.Steps, Spikes: a.Spikes - then.Spikes, AC: a.AC - then.AC, MAC: a.MAC - then.MAC, DenseMAC: a.DenseMAC, Layers: a.Layers}
	for l := range a.Layers {
		d.LayerSpikes[l] = a.LayerSpikes[l] - then.LayerSpikes[l]
	}
	return d
}

// Add returns the sum of two readings: an ensemble's members' counts.
// Steps stay a's, since the members step together.
func (a Activity) Add(b Activity) Activity {
	a.Spikes, a.AC, a.MAC, a.DenseMAC = a.Spikes+b.Spikes, a.AC+b.AC, a.MAC+b.MAC, a.DenseMAC+b.DenseMAC
	a.Layers = max(a.Layers, b.Layers)
	for l := range b.Layers {
		a.LayerSpikes[l] += b.LayerSpikes[l]
	}
	return a
}

// EnergyNJ is the estimated synaptic energy of every counted operation, in
// nanojoules.
func (a Activity) EnergyNJ() float64 {
	return (float64(a.AC)*PicojoulePerAC + float64(a.MAC)*PicojoulePerMAC) / 1000
}

// SpikesPerStep is the mean number of hidden-layer spikes per step.
func (a Activity) SpikesPerStep() float64 { return a.per(a.Spikes) }

// EnergyPerStepNJ is the estimated synaptic energy per step in nanojoules.
func (a Activity) EnergyPerStepNJ() float64 {
	return (a.per(a.AC)*PicojoulePerAC + a.per(a.MAC)*PicojoulePerMAC) / 1000
}

// DenseEnergyPerStepNJ is the energy per step of a dense ANN of the same
// shape, all multiply-accumulates, in nanojoules.
func (a Activity) DenseEnergyPerStepNJ() float64 {
	return float64(a.DenseMAC) * PicojoulePerMAC / 1000
}
