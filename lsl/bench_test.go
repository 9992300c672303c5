package lsl

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/frontend"
	"github.com/bci-decode/bci-decode/internal/testkit"
	"github.com/bci-decode/bci-decode/pipeline"
)

// cpuSelf is this process's user+system CPU time.
func cpuSelf() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuOf is a running child's user+system CPU time from /proc.
func cpuOf(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64) // utime, field 14
	st, _ := strconv.ParseInt(f[12], 10, 64) // stime, field 15
	const ticks = 100                        // USER_HZ on Linux
	return time.Duration((ut + st) * int64(time.Second) / ticks), nil
}

// BenchmarkInletVsLibLSL384x30k: liblsl's SendDataInChunks publishes 384
// int16 channels at 30 kHz in 10 ms chunks, each stamped with liblsl's
// clock as it is pushed; liblsl's own ReceiveDataInChunks (pull_chunk with
// post_ALL) and one of ours read the same stream at the same time, ours on
// one core (GOMAXPROCS 1). One op is one second of data; the metrics are
// the CPU each receiver spent per second of data, their ratio, the
// real-time factor that leaves on one core (seconds of data per second of
// CPU), and allocations per pulled chunk or decoded bin.
//
//   - inlet: our inlet pulls float32 with corrected, de-jittered stamps.
//   - chain: the lsl: source feeds the signal chain (band-pass, common
//     reference, threshold crossings in 20 ms bins) and a Kalman decoder,
//     as run --source lsl:... does; it also reports the latency from
//     liblsl's push of the chunk completing a bin to its decoded intent.
func BenchmarkInletVsLibLSL384x30k(b *testing.B) {
	cfg := testConfig(b)
	ctx := testContext(b, 20*time.Minute)
	// max_buffered 1 s: SendDataInChunks multiplies it by the rate twice,
	// and larger values overflow liblsl's int32 buffer size.
	send := start(b, example(b, "SendDataInChunks"), "bci-bench-30k", "Bench", "30000", "384", "1", "100")
	send.expect(b, "Now sending data", 20*time.Second)
	recv := start(b, example(b, "ReceiveDataInChunks"), "bci-bench-30k", "2")
	recv.expectContains(b, "samples/sec", 20*time.Second)
	oneCore := func(b *testing.B) {
		prev := runtime.GOMAXPROCS(1)
		b.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	}
	b.Run("inlet", func(b *testing.B) {
		oneCore(b)
		in := openByName(b, ctx, cfg, "bci-bench-30k")
		defer in.Close(ctx)
		pullSecond := inletSecond(b, ctx, in)
		pullSecond() // warm up
		m := startMeter(b, recv)
		chunks := 0
		for i := 0; i < b.N; i++ {
			chunks += pullSecond()
		}
		m.stop(b, chunks, "chunk")
		if st := in.Stats(); st.BadMessages != 0 {
			b.Fatalf("stats: %+v", st)
		}
	})
	b.Run("chain", func(b *testing.B) {
		oneCore(b)
		benchChain(b, ctx, cfg, recv)
	})
}

// openByName resolves a stream by name and opens an inlet buffering 1 s.
func openByName(b *testing.B, ctx context.Context, cfg *Config, name string) *Inlet {
	infos, err := Resolve(ctx, cfg, "name='"+name+"'", ResolveOptions{Minimum: 1})
	if err != nil {
		b.Fatal(err)
	}
	in, err := OpenInlet(ctx, cfg, infos[0], InletOptions{MaxBuffered: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	return in
}

// inletSecond returns a function pulling one second of the 384-channel
// stream, returning the number of pulls.
func inletSecond(b *testing.B, ctx context.Context, in *Inlet) func() int {
	const nch = 384
	data := make([]float32, 1024*nch)
	stamps := make([]int64, 1024)
	return func() (chunks int) {
		for got := 0; got < 30000; chunks++ {
			n, err := in.PullFloat32(ctx, data, stamps)
			if err != nil {
				b.Fatal(err)
			}
			got += n
		}
		return chunks
	}
}

// benchChain decodes the stream as run --source lsl:... does, one second
// of data (50 bins) per op.
func benchChain(b *testing.B, ctx context.Context, cfg *Config, recv *proc) {
	src, err := OpenSource(ctx, cfg, "name='bci-bench-30k'", SourceOptions{BinWidth: 20 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	frames := &chunkEnds{FrameSource: src.Frames()}
	r, err := frontend.Reader(frames, frontend.Options{})
	if err != nil {
		b.Fatal(err)
	}
	model := chainModel(b)
	lat := latencies{frames: frames}
	p, err := pipeline.New(r, model, pipeline.Options{}, &lat)
	if err != nil {
		b.Fatal(err)
	}
	step := func(n int) {
		for range n {
			if err := p.Step(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	step(100) // past the chain's one-second calibration
	lat.reset(b.N * 50)
	m := startMeter(b, recv)
	step(b.N * 50)
	m.stop(b, b.N*50, "bin")
	lat.report(b)
	// A sender starved of CPU (two cores for it, liblsl's receiver and
	// us) produces late samples stamped on time: the inlet counts them as
	// gaps and jumps, reported here, not passed on.
	st := src.in.Stats()
	if st.BadMessages != 0 {
		b.Fatalf("stats: %+v", st)
	}
	b.ReportMetric(float64(st.LostSamples)/float64(st.Samples+st.LostSamples), "lost-fraction")
	b.ReportMetric(float64(st.Jumps), "jumps")
}

var (
	chainModelOnce sync.Once
	chainModelVal  *decoder.Loaded
)

// chainModel is a Kalman filter for 384 channels of 20 ms bins.
func chainModel(b *testing.B) *decoder.Loaded {
	chainModelOnce.Do(func() { chainModelVal = testkit.Kalman(b, acquire.SimConfig{Channels: 384, Bins: 3000, Seed: 1}) })
	return chainModelVal
}

// chunkEnds remembers the stamp of the last sample of each frame: the
// time liblsl pushed the chunk that brought it (SendDataInChunks stamps
// each chunk's last sample with its clock as it pushes it), mapped to ours.
type chunkEnds struct {
	*FrameSource
	ends [256]int64
	n    int
}

func (c *chunkEnds) ReadFrame(ctx context.Context, f *acquire.Frame) error {
	if err := c.FrameSource.ReadFrame(ctx, f); err != nil {
		return err
	}
	c.ends[c.n%len(c.ends)] = c.stamps[f.Samples()-1]
	c.n++
	return nil
}

// pushOf returns the push time of the chunk that completed a bin ending
// at end: the first recent frame whose last sample is the bin's last or
// later.
func (c *chunkEnds) pushOf(end int64, period int64) (int64, bool) {
	for i := max(c.n-len(c.ends), 0); i < c.n; i++ {
		if t := c.ends[i%len(c.ends)]; t >= end-period-period/2 {
			return t, true
		}
	}
	return 0, false
}

// latencies keeps, without allocating, each intent's latency: from
// liblsl's push of the chunk that completed the intent's bin to the end of
// its decoding (push-to-intent), and from the bin's end, which may lie
// inside that chunk (bin-end-to-intent, what the session's summary
// reports).
type latencies struct {
	frames        *chunkEnds
	push, fromEnd []float64
}

func (l *latencies) reset(n int) {
	l.push, l.fromEnd = make([]float64, 0, n), make([]float64, 0, n)
}

// Consume implements pipeline.Sink.
func (l *latencies) Consume(in *decoder.Intent, _ *acquire.Bin) {
	if len(l.fromEnd) == cap(l.fromEnd) {
		return
	}
	l.fromEnd = append(l.fromEnd, float64(in.DecodeTime-in.SampleTime)/1e3)
	if t, ok := l.frames.pushOf(in.SampleTime, int64(time.Second)/30000); ok {
		l.push = append(l.push, float64(in.DecodeTime-t)/1e3)
	}
}

func (l *latencies) report(b *testing.B) {
	for _, m := range []struct {
		name string
		us   []float64
	}{{"push-to-intent", l.push}, {"bin-end-to-intent", l.fromEnd}} {
		if len(m.us) == 0 {
			continue
		}
		slices.Sort(m.us)
		b.ReportMetric(m.us[len(m.us)/2], m.name+"-p50-µs")
		b.ReportMetric(m.us[len(m.us)*99/100], m.name+"-p99-µs")
	}
}

// meter measures our CPU and a liblsl receiver's over a benchmark's timed
// part.
type meter struct {
	recv           *proc
	ours0, theirs0 time.Duration
	ms0            runtime.MemStats
}

func startMeter(b *testing.B, recv *proc) *meter {
	m := &meter{recv: recv}
	runtime.ReadMemStats(&m.ms0)
	var err error
	if m.theirs0, err = cpuOf(recv.cmd.Process.Pid); err != nil {
		b.Fatal(err)
	}
	m.ours0 = cpuSelf()
	b.ResetTimer()
	return m
}

// stop reports the metrics; n units (chunks, bins) were handled.
func (m *meter) stop(b *testing.B, n int, unit string) {
	b.StopTimer()
	ours := cpuSelf() - m.ours0
	theirs1, err := cpuOf(m.recv.cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	var ms1 runtime.MemStats
	runtime.ReadMemStats(&ms1)
	theirs := theirs1 - m.theirs0
	perSecond := func(d time.Duration) float64 { return d.Seconds() * 1000 / float64(b.N) }
	b.ReportMetric(perSecond(ours), "our-cpu-ms/s-of-data")
	b.ReportMetric(perSecond(theirs), "liblsl-cpu-ms/s-of-data")
	if theirs > 0 {
		b.ReportMetric(ours.Seconds()/theirs.Seconds(), "cpu-ratio-ours/liblsl")
	}
	if ours > 0 {
		b.ReportMetric(float64(b.N)/ours.Seconds(), "realtime-x-one-core")
	}
	// process-wide: includes the harness (reading the children's output)
	// and the periodic time probes; TestSteadyStateAllocs isolates the
	// data path
	b.ReportMetric(float64(ms1.Mallocs-m.ms0.Mallocs)/float64(n), "process-allocs/"+unit)
}

// BenchmarkLatencyLibLSLToGo: liblsl pushes single samples (64 int16
// channels, 1 kHz) stamped with its local clock; our inlet pulls them as
// they come. The latency of each sample is our clock at the pull minus its
// stamp (same machine, same clock).
func BenchmarkLatencyLibLSLToGo(b *testing.B) {
	cfg := testConfig(b)
	ctx := testContext(b, 10*time.Minute)
	bin := peerProgram(b, "lslpace")
	var lat []float64
	for i := 0; i < b.N; i++ {
		name := "bci-bench-lat-" + strconv.Itoa(i)
		p := start(b, bin, name, "64", "1000", "2")
		p.expect(b, "ready", 20*time.Second)
		infos, err := Resolve(ctx, cfg, "name='"+name+"'", ResolveOptions{Minimum: 1})
		if err != nil {
			b.Fatal(err)
		}
		in, err := OpenInlet(ctx, cfg, infos[0], InletOptions{})
		if err != nil {
			b.Fatal(err)
		}
		data := make([]int16, 64*16)
		remote := make([]float64, 16)
		for got := 0; got < 2000; {
			n, err := Pull(ctx, in, data, nil, remote)
			if err != nil {
				b.Fatal(err)
			}
			now := LocalClock()
			for j := 0; j < n; j++ {
				lat = append(lat, now-remote[j])
			}
			got += n
		}
		in.Close(ctx)
		p.kill()
	}
	slices.Sort(lat)
	b.ReportMetric(lat[len(lat)/2]*1e6, "p50-µs")
	b.ReportMetric(lat[len(lat)*99/100]*1e6, "p99-µs")
}

// BenchmarkOutletPush: pushing 384 int16 channels in 30-sample chunks
// (1 ms at 30 kHz) with one of our inlets connected.
func BenchmarkOutletPush(b *testing.B) {
	const nch, chunk = 384, 30
	cfg := testConfig(b)
	ctx := testContext(b, 5*time.Minute)
	o := goSignalOutlet(b, cfg, "bci-bench-push", Int16, nch, 30000, OutletOptions{MaxBuffered: 2 * time.Second})
	in := openByName(b, ctx, cfg, "bci-bench-push")
	defer in.Close(ctx)
	done := make(chan struct{})
	go func() { // drain
		defer close(done)
		buf := make([]int16, 4096*nch)
		for {
			if _, err := Pull(ctx, in, buf, nil, nil); err != nil {
				return
			}
		}
	}()
	data := make([]int16, chunk*nch)
	b.SetBytes(int64(len(data) * 2))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := PushChunk(o, data, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*chunk)/b.Elapsed().Seconds(), "samples/s")
	in.Close(context.Background())
	<-done
}

// TestSteadyStateAllocs proves the claim the benchmarks report: pushing a
// chunk, sending it, receiving it and pulling it allocates nothing, in
// this process (outlet feed and inlet reader goroutines included).
func TestSteadyStateAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	const nch, chunk = 384, 30
	cfg := testConfig(t)
	ctx := testContext(t, 60*time.Second)
	o := goSignalOutlet(t, cfg, "bci-allocs", Int16, nch, 30000, OutletOptions{MaxBuffered: time.Second})
	infos, err := Resolve(ctx, cfg, "name='bci-allocs'", ResolveOptions{Minimum: 1})
	if err != nil {
		t.Fatal(err)
	}
	// time refreshes every 50 ms, so rounds of probes fall inside the
	// measurement too
	cfg2 := *cfg
	cfg2.TimeUpdateInterval = 50 * time.Millisecond
	in, err := OpenInlet(ctx, &cfg2, infos[0], InletOptions{MaxBuffered: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close(ctx)
	data := make([]int16, chunk*nch)
	out := make([]float32, chunk*nch)
	stamps := make([]int64, chunk)
	cycle := func() {
		if err := PushChunk(o, data, 0); err != nil {
			t.Fatal(err)
		}
		for got := 0; got < chunk; {
			n, err := in.PullFloat32(ctx, out[got*nch:], stamps[got:])
			if err != nil {
				t.Fatal(err)
			}
			got += n
		}
	}
	for i := 0; i < 200; i++ { // warm up buffers and timers
		cycle()
	}
	if a := testing.AllocsPerRun(500, cycle); a != 0 {
		t.Fatalf("%.2f allocations per pushed and pulled chunk, want 0", a)
	}
}
