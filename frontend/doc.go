// Package frontend assembles the signal chain of continuous recordings:
// per-channel gain, optional line-noise notch, Butterworth band-pass and
// common average reference (package filters), then threshold crossings and
// bins (package encoder), from one Options struct with the defaults filled
// in one place. The command line, tests and benchmarks build the chain the
// same way through it.
package frontend
