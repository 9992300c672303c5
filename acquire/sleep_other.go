//go:build !linux

package acquire

import "time"

// sleepFine sleeps for about d; without a finer primitive it is time.Sleep.
func sleepFine(d time.Duration) { time.Sleep(d) }
