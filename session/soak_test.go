package session_test

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/dataset"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/session"
)

// latencySub is one subscriber measuring bin end -> intent received, split
// into the first and last thirds of the run to see drift.
type latencySub struct {
	mu                 sync.Mutex
	all, early, late   *hdrhistogram.Histogram
	n                  int
	start, third, last time.Time
}

func newLatencySub(start time.Time, dur time.Duration) *latencySub {
	mk := func() *hdrhistogram.Histogram { return hdrhistogram.New(1, 10_000_000, 3) }
	return &latencySub{all: mk(), early: mk(), late: mk(), start: start, third: start.Add(dur / 3), last: start.Add(2 * dur / 3)}
}

func (l *latencySub) handle(m *nats.Msg) {
	now := time.Now()
	st, err := strconv.ParseInt(m.Header.Get(bus.HeaderSampleTime), 10, 64)
	if err != nil {
		return
	}
	us := max(now.UnixNano()-st, 0) / 1000
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	_ = l.all.RecordValue(us)
	switch {
	case now.Before(l.third):
		_ = l.early.RecordValue(us)
	case now.After(l.last):
		_ = l.late.RecordValue(us)
	}
}

// TestSoak streams 1024 channels of 1 ms bins through the full live path
// (pacing, pipeline, Kalman decoder, publisher, watchdog) to several
// subscribers on loopback, and checks for memory growth, goroutine leaks
// and latency drift. It runs only when BCI_SOAK_DURATION is set (e.g. 60s):
// a minute of real time is too long for every test run.
func TestSoak(t *testing.T) {
	dur, err := time.ParseDuration(os.Getenv("BCI_SOAK_DURATION"))
	if err != nil || dur <= 0 {
		t.Skip("set BCI_SOAK_DURATION (e.g. 60s) to run the soak test")
	}
	const subs = 3
	channels := envInt("BCI_SOAK_CHANNELS", 1024)
	nc, _ := startServer(t)
	calib, err := acquire.NewSimulator(acquire.SimConfig{Seed: 1, Bins: 20000})
	require.NoError(t, err)
	set, err := dataset.Read(context.Background(), calib)
	require.NoError(t, err)
	set, err = set.SelectTargets("vel_x", "vel_y")
	require.NoError(t, err)
	k, err := decoder.FitKalman(context.Background(), set, decoder.KalmanOptions{SteadyState: true})
	require.NoError(t, err)
	info := decoder.ModelInfo{Targets: set.TargetNames, BinWidthNS: 1e6}
	_, hash, err := decoder.Encode(k, info)
	require.NoError(t, err)

	start := time.Now()
	var lats []*latencySub
	for range subs {
		c, err := nats.Connect(nc.ConnectedUrl())
		require.NoError(t, err)
		defer c.Close()
		l := newLatencySub(start, dur)
		_, err = c.Subscribe(bus.IntentSubject("soak"), l.handle)
		require.NoError(t, err)
		require.NoError(t, c.Flush())
		lats = append(lats, l)
	}
	runtime.GC()
	goroutines := runtime.NumGoroutine()
	var heapSamples []uint64
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	stopSampling := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tk := time.NewTicker(dur / 10)
		defer tk.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-tk.C:
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				heapSamples = append(heapSamples, ms.HeapInuse)
			}
		}
	}()
	sim, err := acquire.NewSimulator(acquire.SimConfig{Seed: 2, Channels: channels, BinWidth: 1e6})
	require.NoError(t, err)
	res, err := session.Run(ctx, session.Options{
		Session: "soak", Conn: nc, Source: acquire.Paced(sim, true), Realtime: true,
		Model:    &decoder.Loaded{Decoder: k, Hash: hash, Info: info},
		Watchdog: bus.WatchdogOptions{StaleAfter: 50 * time.Millisecond, HaltAfter: 250 * time.Millisecond},
	})
	require.NoError(t, err)
	close(stopSampling)
	wg.Wait()
	time.Sleep(200 * time.Millisecond) // let subscribers drain

	bins := res.Stats.Bins
	t.Logf("%d bins of %d channels in %v (%.0f bins/s); published %d, dropped %d; watchdog stale %d halted %d",
		bins, channels, res.Elapsed.Round(time.Millisecond), float64(bins)/res.Elapsed.Seconds(), res.Publish.Published, res.Publish.Dropped, res.Watchdog.Stale, res.Watchdog.Halted)
	t.Logf("decode latency (bin end -> published) µs: p50 %.0f p99 %.0f p99.9 %.0f max %.0f",
		res.Publish.Latency.P50, res.Publish.Latency.P99, res.Publish.Latency.P999, res.Publish.Latency.Max)
	for i, l := range lats {
		l.mu.Lock()
		t.Logf("subscriber %d: %d intents; bin end -> received µs p50 %d p99 %d p99.9 %d max %d; p99 first third %d, last third %d",
			i, l.n, l.all.ValueAtQuantile(50), l.all.ValueAtQuantile(99), l.all.ValueAtQuantile(99.9), l.all.Max(),
			l.early.ValueAtQuantile(99), l.late.ValueAtQuantile(99))
		assert.GreaterOrEqual(t, uint64(l.n), res.Publish.Published*99/100, "subscriber %d heard the session", i)
		assert.Less(t, l.late.ValueAtQuantile(99), 2*l.early.ValueAtQuantile(99)+1000, "latency does not drift")
		l.mu.Unlock()
	}
	assert.GreaterOrEqual(t, float64(bins), 0.95*dur.Seconds()*1000, "kept up with 1 kHz bins")
	assert.Zero(t, res.Publish.Dropped)
	if len(heapSamples) >= 4 {
		t.Logf("heap in use (MiB) over the run: first %.1f, last %.1f", float64(heapSamples[1])/(1<<20), float64(heapSamples[len(heapSamples)-1])/(1<<20))
		assert.Less(t, heapSamples[len(heapSamples)-1], heapSamples[1]*2+(32<<20), "no memory growth")
	}
	require.Eventually(t, func() bool { return runtime.NumGoroutine() <= goroutines+2 }, 5*time.Second, 50*time.Millisecond,
		"goroutines leaked: %d before, %d after", goroutines, runtime.NumGoroutine())
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
