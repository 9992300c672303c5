package closedloop_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bci-decode/bci-decode/closedloop"
)

var (
	benchModelsMu sync.Mutex
	benchModels   = map[string]*closedloop.Calibrated{}
)

// benchModel calibrates kind once per process: training is not what the
// benchmark measures.
func benchModel(b *testing.B, kind string) *closedloop.Calibrated {
	benchModelsMu.Lock()
	defer benchModelsMu.Unlock()
	if c, ok := benchModels[kind]; ok {
		return c
	}
	c := calibrate(b, kind, calibSeed, 5*time.Minute, false)
	benchModels[kind] = c
	return c
}

// BenchmarkClosedLoop runs closed-loop blocks of 16 trials, 96 channels of
// 20 ms bins, lock-step as fast as the loop goes: the user's bins through
// the session's decoder, intents over NATS to the cursor controller, cursor
// states back over NATS to the user. realtime_x is simulated time over
// wall time (the budget is 100); models are fit before the timer starts.
//
//	go test ./closedloop -run '^$' -bench ClosedLoop -benchmem
func BenchmarkClosedLoop(b *testing.B) {
	for _, kind := range []string{"kalman", "hifi"} {
		b.Run(kind, func(b *testing.B) {
			cal := benchModel(b, kind)
			nc := conn(b)
			b.ReportAllocs()
			b.ResetTimer()
			start, sim, bins := time.Now(), 0.0, uint64(0)
			for i := range b.N {
				res := block(b, nc, fmt.Sprintf("bench-%s-%d", kind, i), cal.Model, cal.Population, blockSeed, 16, nil)
				sim += res.SimSeconds
				bins += res.Session.Stats.Bins
			}
			wall := time.Since(start)
			b.ReportMetric(sim/wall.Seconds(), "realtime_x")
			b.ReportMetric(float64(wall.Microseconds())/float64(bins), "µs/bin")
		})
	}
}
