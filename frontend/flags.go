package frontend

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/bci-decode/bci-decode/acquire"
)

// Flags binds the settings of opening a source to command-line flags: file
// details, the bin width, and the signal chain of continuous sources.
type Flags struct {
	// Source and Chain hold the flags' values once fs is parsed.
	Source acquire.Params
	Chain  Options
}

// Bind registers the flags on fs.
func (f *Flags) Bind(fs *flag.FlagSet) {
	d := DefaultOptions
	c, e, r := &f.Chain, &f.Chain.Encoder, &f.Source.Raw
	fs.StringVar(&f.Source.Format, "format", "", "format of file sources: "+acquire.Formats()+" (default: from the extension)")
	fs.IntVar(&f.Source.Rebin, "rebin", 1, "merge this many rows of a binned table into one bin")
	fs.IntVar(&r.Channels, "raw-channels", 0, "channels of a raw int16 file (0: from a SpikeGLX .meta sidecar)")
	fs.Float64Var(&r.Rate, "raw-rate", 0, "sampling rate of a raw int16 file in Hz (0: from a SpikeGLX .meta sidecar)")
	fs.Float64Var(&r.GainUV, "raw-gain", 0, "µV per bit of a raw int16 file (0: from the sidecar, else 0.195)")
	fs.DurationVar(&e.BinWidth, "bin", d.Encoder.BinWidth, "bin width: of the simulator, and of continuous sources' signal chain")
	fs.Float64Var(&c.Band[0], "band-low", d.Band[0], "band-pass low cutoff of continuous sources (Hz)")
	fs.Float64Var(&c.Band[1], "band-high", d.Band[1], "band-pass high cutoff of continuous sources (Hz)")
	fs.IntVar(&c.Order, "order", d.Order, "Butterworth order (1-10)")
	fs.Float64Var(&c.Notch, "notch", 0, "line-noise notch frequency (50 or 60 Hz; 0 for none)")
	fs.StringVar(&c.CAR, "car", d.CAR, "common reference: mean, median or none")
	fs.Float64Var(&e.K, "k", d.Encoder.K, "threshold at -k times the noise")
	fs.DurationVar(&e.Refractory, "refractory", d.Encoder.Refractory, "dead time after a crossing (0: none)")
	fs.BoolVar(&e.Power, "power", false, "append spike-band power per channel to the crossing counts")
	e.Calibration, e.Track = d.Encoder.Calibration, d.Encoder.Track
}

// Check checks the parsed flags.
func (f *Flags) Check() error {
	if err := f.Chain.Validate(); err != nil {
		return err
	}
	p, r := f.Source, f.Source.Raw
	switch {
	case p.Format != "" && !acquire.HasFormat(p.Format):
		return fmt.Errorf("--format %q: want one of %s", p.Format, acquire.Formats())
	case p.Rebin < 1 || p.Rebin > 1<<16:
		return fmt.Errorf("--rebin %d: want 1-65536", p.Rebin)
	case r.Channels < 0 || r.Channels > 1<<16 || !(r.Rate >= 0 && r.Rate <= 1e6) || !(r.GainUV >= 0 && r.GainUV < 1e6):
		return errors.New("--raw-channels (0-65536), --raw-rate (0-1e6 Hz) and --raw-gain (0-1e6 µV) out of range (0: from the sidecar)")
	}
	return nil
}

// BinWidth is the bin width the flags give.
func (f *Flags) BinWidth() time.Duration { return f.Chain.Encoder.BinWidth }

// Options returns the settings of opening a source for session, with the
// simulator's settings sim (its bin width the flags') and the services a
// source may need (the NATS connection).
func (f *Flags) Options(session string, sim acquire.SimConfig, pace Pace, services ...any) OpenOptions {
	p := f.Source
	p.Session, p.Services, p.Sim = session, services, sim
	if p.Sim.BinWidth == 0 {
		p.Sim.BinWidth = f.BinWidth()
	}
	return OpenOptions{Source: p, Chain: f.Chain, Pace: pace}
}
