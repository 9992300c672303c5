//go:build !linux

package rtsched

import (
	"fmt"
	"runtime"
)

func raise(prio int) (func(), error) {
	return nil, fmt.Errorf("real-time priority %d: not supported on %s", prio, runtime.GOOS)
}
