package dashboard_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/dashboard"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/internal/browser"
	"github.com/bci-decode/bci-decode/internal/testkit"
	"github.com/bci-decode/bci-decode/pipeline"
	"github.com/bci-decode/bci-decode/session"
)

// latencyLog keeps every intent's decode latency (bin end -> intent), on
// the decoding goroutine, in a slice sized up front.
type latencyLog struct {
	seq []uint64
	us  []float64
	n   atomic.Int64
}

func (l *latencyLog) Consume(in *decoder.Intent, _ *acquire.Bin) {
	i := l.n.Load()
	if int(i) == len(l.us) {
		return
	}
	l.seq[i], l.us[i] = in.Seq, float64(in.DecodeTime-in.SampleTime)/1e3
	l.n.Store(i + 1)
}

// BenchmarkDecodeLatencyWithPage decodes one live session (10 ms bins, twice
// the demo's rate, with the telemetry feed on) and alternates, in the same
// run, between no page and one dashboard page open in chromium, in short
// stretches so that a change in the machine's load falls on both; it
// reports decode latency p99 (bin end -> intent) of each condition and
// their ratio.
//
// It runs twice: with the default scheduling, and with the decoding thread
// at real-time priority 10 (--rt-priority 10), which keeps a page drawn on
// the same two cores from delaying any bin.
func BenchmarkDecodeLatencyWithPage(b *testing.B) {
	b.Run("default", func(b *testing.B) { benchLatencyWithPage(b, 0) })
	b.Run("rt-priority-10", func(b *testing.B) { benchLatencyWithPage(b, 10) })
}

func benchLatencyWithPage(b *testing.B, prio int) {
	const (
		width   = 10 * time.Millisecond
		stretch = 300 // bins per stretch (3 s)
		settle  = 50  // bins left out after each switch
		rounds  = 10
	)
	ctx := browser.New(b, 1400, 900)
	nc, closeBus, err := bus.Dial(bus.Endpoint{Server: bus.ServerOptions{Listen: "127.0.0.1:0", DataDir: b.TempDir()}})
	if err != nil {
		b.Fatal(err)
	}
	defer closeBus()
	ws, _ := bus.WebSocketURL(nc)
	model := testkit.Kalman(b, acquire.SimConfig{Seed: 1, Bins: 3000, BinWidth: width})
	for range b.N {
		total := (2*rounds + 1) * stretch // a stretch to spare for slow switches
		log := &latencyLog{seq: make([]uint64, total), us: make([]float64, total)}
		sctx, cancel := context.WithCancel(context.Background())
		ready, served := make(chan string, 1), make(chan error, 1)
		go func() {
			served <- dashboard.Serve(sctx, dashboard.Options{Addr: "127.0.0.1:0", NATS: ws, Ready: func(u string) { ready <- u }})
		}()
		page := <-ready
		sim, err := acquire.NewSimulator(acquire.SimConfig{Seed: 2, PopulationSeed: 1, Bins: total, BinWidth: width})
		if err != nil {
			b.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := session.Run(sctx, session.Options{Session: "bench", Conn: nc, Source: acquire.Paced(sim, true), Model: model, Realtime: true,
				Priority: prio, Control: true, Outputs: pluginOutputs(b, "--telemetry"), Sinks: []pipeline.Sink{log}})
			done <- err
		}()
		// Switch at bin boundaries, remembered by seq: odd stretches with
		// the page open.
		starts := make([]uint64, 2*rounds)
		var ticks [2]int // chromium's CPU time without and with the page
		for i := range starts {
			url := "about:blank"
			if i%2 == 1 {
				url = page
			}
			navigate(b, ctx, url)
			starts[i] = uint64(log.n.Load())
			t0 := chromiumTicks()
			waitBins(b, log, int64(starts[i])+stretch, done)
			ticks[i%2] += used(t0, chromiumTicks())
		}
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			b.Fatal(err)
		}
		<-served
		off, on := split(log, starts, stretch, settle)
		b.ReportMetric(p99(off), "p99-µs-no-page")
		b.ReportMetric(p99(on), "p99-µs-page")
		b.ReportMetric(p99(on)/p99(off), "ratio")
		b.ReportMetric(p50(off), "p50-µs-no-page")
		b.ReportMetric(p50(on), "p50-µs-page")
		b.ReportMetric(float64(len(on)), "bins-page")
		span := float64(rounds*stretch) * width.Seconds() * 100 // clock ticks of one core
		b.ReportMetric(100*float64(ticks[1])/span, "chromium-%core-page")
		b.ReportMetric(100*float64(ticks[0])/span, "chromium-%core-blank")
	}
	navigate(b, ctx, "about:blank")
}

func navigate(b *testing.B, ctx context.Context, url string) {
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(c, chromedp.Navigate(url)); err != nil {
		b.Fatal(err)
	}
}

func waitBins(b *testing.B, l *latencyLog, n int64, done chan error) {
	for l.n.Load() < n {
		select {
		case err := <-done:
			b.Fatalf("the session ended early: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// split returns the latencies of the stretches without and with the page,
// leaving out those just after each switch.
func split(l *latencyLog, starts []uint64, stretch, settle int) (off, on []float64) {
	n := int(l.n.Load())
	for i, s := range starts {
		for j := int(s) + settle; j < int(s)+stretch && j < n; j++ {
			if i%2 == 1 {
				on = append(on, l.us[j])
			} else {
				off = append(off, l.us[j])
			}
		}
	}
	return off, on
}

func p99(v []float64) float64 { return quantile(v, 99) }

func p50(v []float64) float64 { return quantile(v, 50) }

func quantile(v []float64, pct int) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)*pct/100]
}

// chromiumTicks is the CPU time each of chromium's processes has used, in
// clock ticks (1/100 s on Linux), by pid.
func chromiumTicks() map[string]int {
	out, _ := exec.Command("pgrep", "chromium").Output()
	ticks := map[string]int{}
	for _, pid := range strings.Fields(string(out)) {
		b, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndex(s, ")")+1:])
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.Atoi(f[11]) // utime, field 14
		k, _ := strconv.Atoi(f[12]) // stime, field 15
		ticks[pid] = u + k
	}
	return ticks
}

// used is the CPU time chromium used between two readings (processes that
// ended in between are left out: a tab's renderer, for its last moments).
func used(before, after map[string]int) int {
	n := 0
	for pid, t := range after {
		n += t - before[pid]
	}
	return n
}
