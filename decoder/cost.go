package decoder

import (
	"time"

	"github.com/bci-decode/bci-decode/dataset"
	"github.com/bci-decode/bci-decode/snn"
)

// Cost is what decoding one bin costs, counted as NeuroBench counts it:
// the model's footprint, and the effective synaptic operations per step
// (only non-zero activations count), split into multiply-accumulates (a
// real-valued activation times a weight) and accumulates (a binary spike
// adding a weight).
type Cost struct {
	// Params is the number of parameters; FootprintBytes their size as
	// inference holds them.
	Params         int `json:"params"`
	FootprintBytes int `json:"footprint_bytes"`
	// MACs and ACs are effective operations per step; DenseMACs those of a
	// dense network of the same shape (every synapse, every step).
	MACs      float64 `json:"macs_per_step"`
	ACs       float64 `json:"acs_per_step"`
	DenseMACs float64 `json:"dense_macs_per_step"`
	// ActivationSparsity is the share of spiking-neuron activations that
	// were zero, and SpikesPerStep the spikes emitted per step; both nil
	// for decoders without spiking layers.
	ActivationSparsity *float64 `json:"activation_sparsity,omitempty"`
	SpikesPerStep      *float64 `json:"spikes_per_step,omitempty"`
}

// EnergyNJ estimates the synaptic energy of one step in nanojoules, at the
// HIFI paper's 45 nm figures per accumulate and multiply-accumulate.
func (c Cost) EnergyNJ() float64 {
	return (c.ACs*snn.PicojoulePerAC + c.MACs*snn.PicojoulePerMAC) / 1000
}

// DenseEnergyNJ is the energy of one step of a dense network of the same
// shape.
func (c Cost) DenseEnergyNJ() float64 { return c.DenseMACs * snn.PicojoulePerMAC / 1000 }

// Coster is a decoder that reports its cost. Decoders whose cost depends on
// activity count it over the steps since the last ResetCost.
type Coster interface {
	Cost() Cost
	ResetCost()
}

// Cost implements Coster: a Kalman step predicts the state (d² MACs),
// propagates the covariance unless the gain is steady (two d×d products
// and two inversions, about 4d³), computes the innovation through H and
// Q⁻¹H (2md) and updates the state (d²).
func (k *Kalman) Cost() Cost {
	d, m := float64(k.d), float64(k.m)
	macs := 2*m*d + 2*d*d
	if !k.steady {
		macs += 4 * d * d * d
	}
	params := len(k.mx) + len(k.mz) + len(k.a) + len(k.w) + len(k.h) + len(k.qih) + len(k.htqih) + len(k.p0) + len(k.pss)
	return Cost{Params: params, FootprintBytes: 8 * params, MACs: macs, DenseMACs: macs}
}

// ResetCost implements Coster; a Kalman step always costs the same.
func (k *Kalman) ResetCost() {}

// Cost implements Coster: a Wiener step standardises its inputs (in MACs)
// and applies every weight of the lagged window (lags·in·out MACs).
func (w *Wiener) Cost() Cost {
	macs := float64(w.in + w.lags*w.in*w.out)
	params := len(w.w) + len(w.b) + len(w.mu) + len(w.sd)
	return Cost{Params: params, FootprintBytes: 8 * params, MACs: macs, DenseMACs: macs}
}

// ResetCost implements Coster; a Wiener step always costs the same.
func (w *Wiener) ResetCost() {}

// Cost implements Coster from the runtime's operation counts.
func (d *SNN) Cost() Cost {
	a := d.Activity()
	neurons := 0
	for _, n := range d.model.Cfg.Hidden {
		neurons += n * len(d.rts)
	}
	// A decoded step (a bin) is d.sub network steps.
	params, bins, sub := len(d.rts)*(len(d.model.W)+len(d.model.A)), a.Steps/uint64(d.sub), float64(d.sub)
	c := Cost{Params: params, FootprintBytes: 4 * params, MACs: perStep(a.MAC, bins), ACs: perStep(a.AC, bins), DenseMACs: float64(a.DenseMAC) * sub}
	spikes := a.SpikesPerStep() * sub
	c.SpikesPerStep = &spikes
	if neurons > 0 && a.Steps > 0 {
		sparsity := 1 - spikes/sub/float64(neurons)
		c.ActivationSparsity = &sparsity
	}
	return c
}

// ResetCost implements Coster.
func (d *SNN) ResetCost() { d.rt.ResetActivity() }

func perStep(n, steps uint64) float64 {
	if steps == 0 {
		return 0
	}
	return float64(n) / float64(steps)
}

// PredictTimed is Predict that also hands the duration of every step to
// observe (cold-cache steps at segment starts included).
func PredictTimed(d Decoder, s *dataset.Set, observe func(time.Duration)) [][]float32 {
	return predict(d, s, observe)
}

// Training says how the network was trained; nil for a model file that
// does not say.
func (d *SNN) Training() *SNNTraining { return d.meta.Training }

// FitDetails reports what validation chose: the history length in bins
// (and milliseconds), the ridge penalty, and the validation split.
func (w *Wiener) FitDetails() map[string]any {
	d := map[string]any{"lags": w.lags, "ridge": w.ridge}
	if w.meta.HistoryMS > 0 {
		d["history_ms"] = w.meta.HistoryMS
	}
	if w.meta.ValSplit != "" {
		d["val"] = string(w.meta.ValSplit)
	}
	return d
}
