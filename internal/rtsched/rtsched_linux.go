//go:build linux

package rtsched

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

func raise(prio int) (func(), error) {
	runtime.LockOSThread()
	old, err := unix.SchedGetAttr(0, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("real-time priority: read the thread's policy: %w", err)
	}
	attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: uint32(prio)}
	if err := unix.SchedSetAttr(0, &attr, 0); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("real-time priority %d (needs root or CAP_SYS_NICE): %w", prio, err)
	}
	return func() {
		old.Size = unix.SizeofSchedAttr
		if unix.SchedSetAttr(0, old, 0) != nil {
			// The thread keeps its priority: leave it locked, so that it
			// ends with its goroutine instead of serving others.
			return
		}
		runtime.UnlockOSThread()
	}, nil
}

// policy returns the calling thread's scheduling policy and priority.
func policy() (uint32, uint32, error) {
	a, err := unix.SchedGetAttr(0, 0)
	if err != nil {
		return 0, 0, err
	}
	return a.Policy, a.Priority, nil
}
