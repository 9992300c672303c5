package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/bci-decode/bci-decode/encoder"
	"github.com/bci-decode/bci-decode/signal"
)

// signalFlags configure the signal chain of continuous sources.
type signalFlags struct {
	low, high  float64
	order      int
	notch      float64
	car        string
	k          float64
	refractory time.Duration
	binWidth   time.Duration
	power      bool
}

func (s *signalFlags) register(fs *flag.FlagSet) {
	d := signal.DefaultOptions
	fs.Float64Var(&s.low, "band-low", d.Band[0], "band-pass low cutoff (Hz)")
	fs.Float64Var(&s.high, "band-high", d.Band[1], "band-pass high cutoff (Hz)")
	fs.IntVar(&s.order, "order", d.Order, "Butterworth order (1-10)")
	fs.Float64Var(&s.notch, "notch", 0, "line-noise notch frequency (50 or 60 Hz; 0 for none)")
	fs.StringVar(&s.car, "car", d.CAR, "common reference: mean, median or none")
	fs.Float64Var(&s.k, "k", d.Encoder.K, "threshold at -k times the noise")
	fs.DurationVar(&s.refractory, "refractory", d.Encoder.Refractory, "dead time after a crossing")
	fs.DurationVar(&s.binWidth, "bin-width", d.Encoder.BinWidth, "bin width of continuous sources")
	fs.BoolVar(&s.power, "power", false, "append spike-band power per channel to the crossing counts")
}

func (s *signalFlags) options() (signal.Options, error) {
	if s.order < 1 || s.order > 10 || s.k <= 0 || s.binWidth <= 0 || s.refractory < 0 {
		return signal.Options{}, fmt.Errorf("%w: signal settings out of range (order 1-10, k > 0, positive bin width)", errUsage)
	}
	return signal.Options{
		Band: [2]float64{s.low, s.high}, Order: s.order, Notch: s.notch, CAR: s.car,
		Encoder: encoder.Options{K: s.k, Refractory: s.refractory, BinWidth: s.binWidth, Power: s.power},
	}, nil
}

// defaultSignalFlags returns the flags' defaults without a flag set.
func defaultSignalFlags() signalFlags {
	var s signalFlags
	s.register(flag.NewFlagSet("", flag.ContinueOnError))
	return s
}
