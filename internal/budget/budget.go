// Package budget bounds the memory one step of the program may ask for,
// from what the machine has, so that absurd input (a table a hundred
// thousand columns wide, a header that lies about its sizes) is refused
// with an error that says so, before the allocation, instead of killing
// the process.
package budget

import (
	"fmt"
	"math"
	"math/bits"
	"runtime/debug"
	"sync"

	"golang.org/x/sys/unix"
)

var (
	once  sync.Once
	limit uint64
)

// Limit is the most bytes one step may ask for: half the machine's physical
// memory, or the Go memory limit (GOMEMLIMIT) when that is lower.
func Limit() uint64 {
	once.Do(func() {
		limit = 8 << 30 // when the machine will not say
		var si unix.Sysinfo_t
		if unix.Sysinfo(&si) == nil {
			limit = uint64(si.Totalram) * uint64(si.Unit) / 2
		}
		if l := debug.SetMemoryLimit(-1); l > 0 && l < math.MaxInt64 && uint64(l) < limit {
			limit = uint64(l)
		}
	})
	return limit
}

// Check reports an error when n items of size bytes would exceed Limit;
// what names the need in the message.
func Check(what string, n, size uint64) error {
	hi, total := bits.Mul64(n, size)
	if hi == 0 && total <= Limit() {
		return nil
	}
	need := "more than 2^64 bytes"
	if hi == 0 {
		need = fmt.Sprintf("%.1f GiB", float64(total)/(1<<30))
	}
	return fmt.Errorf("%s needs %s, more than this machine allows one step (%.1f GiB, half its memory)", what, need, float64(Limit())/(1<<30))
}
