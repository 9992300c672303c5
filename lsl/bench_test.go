package lsl

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
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
// int16 channels at 30 kHz; our inlet (pulling float32 with corrected,
// de-jittered stamps) and liblsl's own ReceiveDataInChunks (pull_chunk with
// post_ALL) read the same stream at the same time. One op is one second
// of data; the metrics are the CPU each receiver spent per second of data,
// their ratio, and our allocations per pulled chunk.
func BenchmarkInletVsLibLSL384x30k(b *testing.B) {
	cfg := testConfig(b)
	ctx := testContext(b, 10*time.Minute)
	// max_buffered 1 s: SendDataInChunks multiplies it by the rate twice,
	// and larger values overflow liblsl's int32 buffer size.
	send := start(b, example(b, "SendDataInChunks"), "bci-bench-30k", "Bench", "30000", "384", "1", "100")
	send.expect(b, "Now sending data", 20*time.Second)
	recv := start(b, example(b, "ReceiveDataInChunks"), "bci-bench-30k", "2")
	infos, err := Resolve(ctx, cfg, "name='bci-bench-30k'", ResolveOptions{Minimum: 1})
	if err != nil {
		b.Fatal(err)
	}
	in, err := OpenInlet(ctx, cfg, infos[0], InletOptions{MaxBuffered: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close(ctx)
	recv.expectContains(b, "samples/sec", 20*time.Second)
	const nch = 384
	data := make([]float32, 1024*nch)
	stamps := make([]int64, 1024)
	pullSecond := func() (chunks int) {
		for got := 0; got < 30000; chunks++ {
			n, err := in.PullFloat32(ctx, data, stamps)
			if err != nil {
				b.Fatal(err)
			}
			got += n
		}
		return chunks
	}
	pullSecond() // warm up
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	theirs0, err := cpuOf(recv.cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	ours0 := cpuSelf()
	chunks := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		chunks += pullSecond()
	}
	b.StopTimer()
	ours := cpuSelf() - ours0
	theirs1, err := cpuOf(recv.cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	runtime.ReadMemStats(&ms1)
	theirs := theirs1 - theirs0
	perSecond := func(d time.Duration) float64 { return d.Seconds() * 1000 / float64(b.N) }
	b.ReportMetric(perSecond(ours), "our-cpu-ms/s-of-data")
	b.ReportMetric(perSecond(theirs), "liblsl-cpu-ms/s-of-data")
	if theirs > 0 {
		b.ReportMetric(ours.Seconds()/theirs.Seconds(), "cpu-ratio-ours/liblsl")
	}
	// process-wide: includes the harness (reading the children's output)
	// and the periodic time probes; TestSteadyStateAllocs isolates the
	// data path
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(chunks), "process-allocs/chunk")
	if st := in.Stats(); st.BadMessages != 0 {
		b.Fatalf("stats: %+v", st)
	}
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
	infos, err := Resolve(ctx, cfg, "name='bci-bench-push'", ResolveOptions{Minimum: 1})
	if err != nil {
		b.Fatal(err)
	}
	in, err := OpenInlet(ctx, cfg, infos[0], InletOptions{MaxBuffered: time.Second})
	if err != nil {
		b.Fatal(err)
	}
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
