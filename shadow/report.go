package shadow

import (
	"fmt"
	"io"

	"github.com/bci-decode/bci-decode/bus"
)

// Report is a shadow's account: both decoders' figures over the bins the
// shadow decoded, side by side, and how closely they agree.
type Report struct {
	Subject string  `json:"subject"`
	Live    Figures `json:"live"`
	Shadow  Figures `json:"shadow"`
	// Agreement scores the shadow's values against the live decoder's,
	// bin by bin (R² and Pearson r per dimension); nil until defined.
	Agreement *Agreement `json:"agreement,omitempty"`
	// Bins were decoded by the shadow; Missed found its ring full.
	Bins    uint64      `json:"bins"`
	Missed  uint64      `json:"missed"`
	Publish bus.Summary `json:"publish"`
}

// Figures describe one decoder over the shadow's bins.
type Figures struct {
	Decoder string `json:"decoder"`
	Model   string `json:"model"`
	// R2 is the mean R² against the stream's targets (nil when the stream
	// has none, or too few bins).
	R2 *float64 `json:"r2,omitempty"`
	// StepP50US and StepP99US are the decoder step's latency.
	StepP50US float64 `json:"step_p50_us"`
	StepP99US float64 `json:"step_p99_us"`
	// SpikesPerStep (spiking decoders) and EnergyNJ are per decoded bin.
	SpikesPerStep *float64 `json:"spikes_per_step,omitempty"`
	EnergyNJ      *float64 `json:"energy_nj_per_step,omitempty"`
}

// Agreement compares two decoders' values.
type Agreement struct {
	R2      float64   `json:"r2"`
	RPerDim []float64 `json:"r_per_dim"`
}

// Headline implements pipeline.Headliner: a session's summary shows both
// decoders side by side.
func (o *Output) Headline() {}

// Report implements pipeline.Reporter.
func (o *Output) Report() (string, any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	hash, kind := o.env.Pipeline.Model()
	r := Report{Subject: bus.ShadowIntentSubject(o.env.Session), Live: o.live.figures(kind, hash),
		Shadow: o.shadow.figures(o.model.Kind(), o.model.Hash), Bins: o.decoded, Missed: o.dropped, Publish: o.pub.Summary()}
	if a := o.agree.Result(); a.Defined() {
		r.Agreement = &Agreement{R2: a.MeanR2(), RPerDim: a.R}
	}
	return "shadow", r
}

func (sd *side) figures(kind, hash string) Figures {
	f := Figures{Decoder: kind, Model: hash}
	if sd.steps.TotalCount() > 0 {
		f.StepP50US = float64(sd.steps.ValueAtQuantile(50)) / 1e3
		f.StepP99US = float64(sd.steps.ValueAtQuantile(99)) / 1e3
	}
	if sc := sd.score.Result(); sc.Defined() {
		r2 := sc.MeanR2()
		f.R2 = &r2
	}
	switch {
	case sd.act != nil:
		a := sd.act.Since(sd.base)
		spikes, energy := a.SpikesPerStep()*float64(sd.sub), a.EnergyPerStepNJ()*float64(sd.sub)
		f.SpikesPerStep, f.EnergyNJ = &spikes, &energy
	case sd.cost != nil:
		energy := sd.cost.EnergyNJ()
		f.EnergyNJ = &energy
	}
	return f
}

// WriteText prints the report for a person, the live decoder beside the
// shadow.
func (r Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "%-8s %-10s %-12s %8s %10s %10s %12s %10s\n", "", "decoder", "model", "R²", "step p50", "step p99", "spikes/step", "nJ/step")
	for _, x := range []struct {
		role string
		f    Figures
	}{{"live", r.Live}, {"shadow", r.Shadow}} {
		fmt.Fprintf(w, "%-8s %-10s %-12.12s %8s %7.1f µs %7.1f µs %12s %10s\n", x.role, x.f.Decoder, x.f.Model, opt(x.f.R2, "%.3f"),
			x.f.StepP50US, x.f.StepP99US, opt(x.f.SpikesPerStep, "%.1f"), opt(x.f.EnergyNJ, "%.2f"))
	}
	agree := "undefined"
	if r.Agreement != nil {
		agree = fmt.Sprintf("R² %.3f, r %.3f", r.Agreement.R2, r.Agreement.RPerDim)
	}
	fmt.Fprintf(w, "shadow: %d bins decoded (%d missed), %d intents on %s; agreement with the live decoder %s\n",
		r.Bins, r.Missed, r.Publish.Published, r.Subject, agree)
}

func opt(v *float64, format string) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf(format, *v)
}
