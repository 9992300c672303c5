// Package encoder turns conditioned continuous signals into decoder
// timesteps: threshold crossings, spike-band power and fixed-width bins
// aligned to sample index, so that live and replayed runs give the same bins.
package encoder
