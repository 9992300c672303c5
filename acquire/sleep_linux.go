package acquire

import (
	"time"

	"golang.org/x/sys/unix"
)

// sleepFine blocks the calling thread for about d in nanosleep, which wakes
// far closer to its deadline than the runtime's timers; the runtime hands
// the thread's P to other goroutines meanwhile.
func sleepFine(d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	_ = unix.Nanosleep(&ts, nil) // EINTR just ends the sleep early; the caller re-checks
}
