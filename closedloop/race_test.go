//go:build race

package closedloop_test

// raceEnabled reports whether the race detector is on; tests that train
// spiking networks skip under it.
const raceEnabled = true
