package signal

import (
	"fmt"
	"time"

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

func (o Options) withDefaults() Options {
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
	return o
}

// Chain builds the conditioning stages for a stream of channels at rate Hz.
func Chain(opts Options, channels int, rate float64) (filters.Chain, error) {
	opts = opts.withDefaults()
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
	switch opts.CAR {
	case "mean", "median":
		if channels > 1 {
			chain = append(chain, filters.NewCAR(opts.CAR == "median", channels))
		}
	case "none":
	default:
		return nil, fmt.Errorf("signal: common reference %q: want mean, median or none", opts.CAR)
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

// BinWidth is the bin width the options give, for checking a model against
// a stream.
func (o Options) BinWidth() time.Duration {
	if o.Encoder.BinWidth == 0 {
		return encoder.DefaultOptions.BinWidth
	}
	return o.Encoder.BinWidth
}
