//go:build !linux

package rtsched

import (
	"errors"
	"fmt"
	"runtime"
)

func raise(prio int) (func(), error) {
	return nil, fmt.Errorf("real-time priority %d: not supported on %s", prio, runtime.GOOS)
}

func policy() (uint32, uint32, error) { return 0, 0, errors.New("not supported") }
