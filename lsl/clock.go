package lsl

import (
	"math"
	"time"

	"golang.org/x/sys/unix"
)

// LSL's local clock is the machine's monotonic clock in seconds (liblsl
// reads std::chrono::steady_clock, CLOCK_MONOTONIC on Linux), so every
// process on a machine shares it and stamps from liblsl programs on the
// same machine need no correction. Reading CLOCK_MONOTONIC through a
// system call on every sample would be slow; instead the clock is read once
// and then advanced with Go's own monotonic time, which is the same
// kernel clock read through the vDSO.
var clockBase = newClockAnchor()

type clockAnchor struct {
	start     time.Time // carries Go's monotonic reading
	monoNs    int64     // CLOCK_MONOTONIC at start
	unixNs    int64     // wall clock at start
	available bool
}

func newClockAnchor() clockAnchor {
	var ts unix.Timespec
	t0 := time.Now()
	err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	t1 := time.Now()
	mid := t0.Add(t1.Sub(t0) / 2)
	a := clockAnchor{start: mid, unixNs: mid.UnixNano(), available: err == nil}
	if err == nil {
		a.monoNs = ts.Nano()
	}
	return a
}

// LocalClockNs returns this process's LSL local clock in nanoseconds.
func LocalClockNs() int64 {
	return clockBase.monoNs + int64(time.Since(clockBase.start))
}

// LocalClock returns the LSL local clock in seconds: the value liblsl's
// lsl_local_clock() returns in any process on this machine, and the clock
// outlet timestamps are given in.
func LocalClock() float64 {
	ns := LocalClockNs()
	// Like liblsl: whole seconds and the remainder separately, so the
	// conversion keeps nanosecond resolution for large uptimes.
	return float64(ns/1e9) + float64(ns%1e9)/1e9
}

// ToUnixNano maps a time on the LSL local clock (seconds) to Unix time in
// nanoseconds on this machine's wall clock, as it stood when the process
// started (later wall-clock steps, e.g. by NTP, do not bend the mapping, so
// mapped stamps stay as smooth as the monotonic clock).
func ToUnixNano(lslSeconds float64) int64 {
	if math.IsNaN(lslSeconds) || math.IsInf(lslSeconds, 0) {
		return 0
	}
	whole := math.Floor(lslSeconds)
	frac := lslSeconds - whole
	ns := int64(whole)*1e9 + int64(math.Round(frac*1e9))
	return clockBase.unixNs + (ns - clockBase.monoNs)
}

// FromUnixNano is the inverse of ToUnixNano: Unix nanoseconds to the LSL
// local clock in seconds.
func FromUnixNano(unixNs int64) float64 {
	ns := unixNs - clockBase.unixNs + clockBase.monoNs
	return float64(ns/1e9) + float64(ns%1e9)/1e9
}
