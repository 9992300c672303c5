package frontend

import (
	"fmt"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/encoder"
	"github.com/bci-decode/bci-decode/filters"
)

// Options configures the signal chain. Zero fields take the defaults of
// DefaultOptions.
type Options struct {
	// Band is the band-pass in Hz (default 300-6000).
	Band [2]float64
	// Order is the Butterworth order (default 4).
	Order int
	// Notch is the line frequency to notch out (50 or 60 Hz); 0 for none.
	Notch float64
	// CAR selects the common reference: "mean" (default), "median" or
	// "none".
	CAR string
	// Encoder configures detection and binning (k, refractory, bin width,
	// spike-band power).
	Encoder encoder.Options
}

// DefaultOptions is the default chain: 300-6000 Hz band-pass of order 4,
// mean common reference, threshold at -4.5 sigma, 1 ms refractory, 20 ms
// bins.
var DefaultOptions = Options{Band: [2]float64{300, 6000}, Order: 4, CAR: "mean", Encoder: encoder.DefaultOptions}

// EnsureDefaults fills the zero fields of o with DefaultOptions'.
func (o *Options) EnsureDefaults() {
	d := DefaultOptions
	if o.Band == [2]float64{} {
		o.Band = d.Band
	}
	if o.Order == 0 {
		o.Order = d.Order
	}
	if o.CAR == "" {
		o.CAR = d.CAR
	}
	o.Encoder.EnsureDefaults()
}

// Validate reports settings that mean nothing, whatever the sampling rate
// (filters check their cutoffs against the rate when they are built).
func (o *Options) Validate() error {
	switch {
	case o.Order < 1 || o.Order > 10:
		return fmt.Errorf("signal chain: Butterworth order %d: want 1-10", o.Order)
	case !(o.Band[0] > 0 && o.Band[0] < o.Band[1] && o.Band[1] <= 1e6):
		return fmt.Errorf("signal chain: band %v-%v Hz: want 0 < low < high <= 1 MHz", o.Band[0], o.Band[1])
	case o.Notch < 0 || o.Notch != 0 && o.Notch != 50 && o.Notch != 60:
		return fmt.Errorf("signal chain: notch %v Hz: want 0 (none), 50 or 60", o.Notch)
	}
	switch o.CAR {
	case "mean", "median", "none":
	default:
		return fmt.Errorf("signal chain: common reference %q: want mean, median or none", o.CAR)
	}
	return o.Encoder.Validate()
}

// Chain builds the conditioning stages for a stream of channels at rate Hz.
func Chain(opts Options, channels int, rate float64) (filters.Chain, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	var chain filters.Chain
	if opts.Notch > 0 {
		sos, err := filters.Notch(opts.Notch, 30, rate)
		if err != nil {
			return nil, err
		}
		n, err := filters.NewIIR(sos, channels)
		if err != nil {
			return nil, err
		}
		chain = append(chain, n)
	}
	sos, err := filters.Butterworth("bandpass", opts.Order, rate, opts.Band[0], opts.Band[1])
	if err != nil {
		return nil, err
	}
	bp, err := filters.NewIIR(sos, channels)
	if err != nil {
		return nil, err
	}
	chain = append(chain, bp)
	if opts.CAR != "none" && channels > 1 {
		chain = append(chain, filters.NewCAR(opts.CAR == "median", channels))
	}
	return chain, nil
}

// Reader builds the whole chain over a continuous source: filtered,
// detected and binned.
func Reader(src acquire.Source, opts Options) (*encoder.FrameReader, error) {
	info := src.Info()
	chain, err := Chain(opts, info.Channels, info.Rate)
	if err != nil {
		return nil, err
	}
	enc, err := encoder.NewEncoder(info.Channels, info.Rate, opts.Encoder)
	if err != nil {
		return nil, err
	}
	return encoder.NewFrameReader(src, chain, enc)
}
