// Package rtsched puts the calling goroutine's OS thread in the real-time
// scheduling class for as long as it decodes, so that a bin falling due
// preempts everything else the machine runs (a browser drawing the
// dashboard, a training job) instead of waiting for its turn. Linux only;
// elsewhere Raise reports that it cannot.
package rtsched

import "fmt"

// MaxPriority bounds the priorities Raise accepts: SCHED_FIFO's are 1-99,
// and the top of that range belongs to the kernel's own threads.
const MaxPriority = 90

// Check reports a priority Raise would refuse; 0 means "not raised".
func Check(prio int) error {
	if prio < 0 || prio > MaxPriority {
		return fmt.Errorf("real-time priority %d: want 0 (off) to %d", prio, MaxPriority)
	}
	return nil
}

// Raise locks the calling goroutine to its OS thread and gives the thread
// SCHED_FIFO priority prio. The returned function restores the thread's
// policy and unlocks it; the caller must call it from the same goroutine.
// On error nothing changed and the thread is unlocked.
func Raise(prio int) (restore func(), err error) {
	if err := Check(prio); err != nil {
		return nil, err
	}
	return raise(prio)
}

// Permitted reports whether this process may raise a thread to prio, by
// trying it on a thread of its own.
func Permitted(prio int) error {
	if prio == 0 {
		return nil
	}
	done := make(chan error, 1)
	go func() {
		restore, err := Raise(prio)
		if err == nil {
			restore()
		}
		done <- err
	}()
	return <-done
}
