//go:build race

package decoder_test

// raceEnabled reports whether the race detector is on; heavy training
// tests skip under it.
const raceEnabled = true
