//go:build linux

package rtsched

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestRaiseAndRestore raises the test's thread to SCHED_FIFO and back; it
// needs root (or CAP_SYS_NICE), as CI has.
func TestRaiseAndRestore(t *testing.T) {
	restore, err := Raise(10)
	if errors.Is(err, unix.EPERM) && os.Getenv("CI") == "" {
		t.Skip("not permitted here (needs root or CAP_SYS_NICE)")
	}
	if err != nil {
		t.Fatal(err)
	}
	pol, prio, err := policy()
	if err != nil || pol != unix.SCHED_FIFO || prio != 10 {
		t.Fatalf("after Raise(10): policy %d priority %d (%v), want SCHED_FIFO 10", pol, prio, err)
	}
	restore()
	pol, prio, err = policy()
	if err != nil || pol != unix.SCHED_NORMAL || prio != 0 {
		t.Fatalf("after restore: policy %d priority %d (%v), want SCHED_NORMAL", pol, prio, err)
	}
}

func TestCheck(t *testing.T) {
	for _, p := range []int{-1, MaxPriority + 1, 1000} {
		if Check(p) == nil {
			t.Errorf("Check(%d) accepted", p)
		}
	}
	if Check(0) != nil || Check(MaxPriority) != nil {
		t.Error("Check refused a valid priority")
	}
}

func TestPermitted(t *testing.T) {
	if err := Permitted(0); err != nil {
		t.Fatalf("Permitted(0) = %v: nothing to permit", err)
	}
	err := Permitted(10)
	if errors.Is(err, unix.EPERM) && os.Getenv("CI") == "" {
		t.Skip("not permitted here (needs root or CAP_SYS_NICE)")
	}
	if err != nil {
		t.Fatal(err)
	}
	if pol, _, _ := policy(); pol != unix.SCHED_NORMAL {
		t.Fatalf("the caller's thread changed policy to %d", pol)
	}
}
