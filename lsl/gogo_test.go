package lsl

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// goPair starts an outlet of the signal's shape and an inlet on it.
func goPair(t *testing.T, name string, f Format, nch int, rate float64, oopts OutletOptions, iopts InletOptions) (*Outlet, *Inlet) {
	t.Helper()
	cfg := testConfig(t)
	ctx := testContext(t, 60*time.Second)
	o := goSignalOutlet(t, cfg, name, f, nch, rate, oopts)
	infos, err := Resolve(ctx, cfg, "name='"+name+"'", ResolveOptions{Minimum: 1})
	if err != nil {
		t.Fatal(err)
	}
	if infos[0].UID != o.Info().UID {
		t.Fatalf("resolved uid %s, outlet %s", infos[0].UID, o.Info().UID)
	}
	in, err := OpenInlet(ctx, cfg, infos[0], iopts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = in.Close(context.Background()) })
	if err := o.WaitForConsumers(ctx); err != nil {
		t.Fatal(err)
	}
	return o, in
}

// receiveSignal pulls count samples and checks values and stamps exactly.
func receiveSignal(t *testing.T, in *Inlet, count int, want []float64) {
	t.Helper()
	ctx := testContext(t, 60*time.Second)
	info := in.Info()
	stamps := make([]int64, 128)
	remote := make([]float64, 128)
	got := 0
	var lastLocal int64
	for got < count {
		var n int
		var err error
		if info.Format == String {
			data := make([]string, 128*info.ChannelCount)
			n, err = in.PullStrings(ctx, data, stamps, remote)
			for j := 0; j < n; j++ {
				for k := 0; k < info.ChannelCount; k++ {
					if w := strval(uint64(got+j), uint64(k), uint64(info.ChannelCount)); data[j*info.ChannelCount+k] != w {
						t.Fatalf("sample %d channel %d: %q, want %q", got+j, k, data[j*info.ChannelCount+k], w)
					}
				}
			}
		} else {
			n, err = pullCompare(ctx, t, in, info.Format, info.ChannelCount, got, stamps, remote)
		}
		if err != nil {
			t.Fatalf("after %d samples: %v (stats %+v)", got, err, in.Stats())
		}
		for j := 0; j < n; j++ {
			if math.Float64bits(remote[j]) != math.Float64bits(want[got+j]) {
				t.Fatalf("sample %d: stamp %v, want %v", got+j, remote[j], want[got+j])
			}
			if stamps[j] < lastLocal {
				t.Fatalf("sample %d: local stamps went backwards", got+j)
			}
			lastLocal = stamps[j]
		}
		got += n
	}
}

// TestGoToGoAllFormats: our outlet to our inlet in every format, stamps
// per sample and deduced.
func TestGoToGoAllFormats(t *testing.T) {
	for _, f := range []Format{Float32, Double64, Int32, Int16, Int8, Int64, String} {
		t.Run(f.String(), func(t *testing.T) {
			t.Parallel()
			rate := 1000.0
			if f == String {
				rate = 0
			}
			const count = 2000
			o, in := goPair(t, "bci-gogo-"+f.String(), f, 6, rate, OutletOptions{MaxBuffered: time.Minute}, InletOptions{MaxBufferedSamples: count})
			want := pushSignal(t, o, 0, count/2, 13, true)
			want = append(want, pushSignal(t, o, count/2, count, 50, false)...)
			receiveSignal(t, in, count, want)
			if st := in.Stats(); st.DroppedStale != 0 || st.BadMessages != 0 || st.Samples != count {
				t.Fatalf("stats: %+v", st)
			}
		})
	}
}

// TestGoToGo384x30k: 384 int16 channels at 30 kHz, pushed in real time in
// 1 ms chunks for one second, all arrive exactly; and three inlets on one
// outlet each get everything.
func TestGoToGo384x30k(t *testing.T) {
	const nch, rate, chunk = 384, 30000.0, 30
	cfg := testConfig(t)
	ctx := testContext(t, 60*time.Second)
	o := goSignalOutlet(t, cfg, "bci-gogo-384", Int16, nch, rate, OutletOptions{MaxBuffered: 5 * time.Second})
	infos, err := Resolve(ctx, cfg, "name='bci-gogo-384'", ResolveOptions{Minimum: 1})
	if err != nil {
		t.Fatal(err)
	}
	const count = 30000
	var inlets []*Inlet
	for i := 0; i < 3; i++ {
		in, err := OpenInlet(ctx, cfg, infos[0], InletOptions{MaxBuffered: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close(ctx)
		inlets = append(inlets, in)
	}
	for o.Stats().Consumers < 3 {
		time.Sleep(10 * time.Millisecond)
	}
	// precompute the signal, then push it in real time
	data := make([]int16, count*nch)
	for i := 0; i < count; i++ {
		decodeValues(data[i*nch:(i+1)*nch], sampleBytesOf(Int16, uint64(i), nch), Int16)
	}
	stamps := make([]float64, count)
	t0 := LocalClock()
	for i := range stamps {
		stamps[i] = float64(t0 + float64(i)/rate)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for _, in := range inlets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]int16, 1024*nch)
			remote := make([]float64, 1024)
			for got := 0; got < count; {
				n, err := Pull(ctx, in, buf, nil, remote)
				if err != nil {
					errs <- err
					return
				}
				for j := 0; j < n; j++ {
					i := got + j
					if remote[j] != stamps[i] || buf[j*nch] != data[i*nch] || buf[j*nch+nch-1] != data[i*nch+nch-1] {
						errs <- fmt.Errorf("sample %d differs", i)
						return
					}
				}
				got += n
			}
		}()
	}
	start := time.Now()
	for i := 0; i < count; i += chunk {
		if err := PushChunkStamped(o, data[i*nch:(i+chunk)*nch], stamps[i:i+chunk]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Until(start.Add(time.Duration(float64(i+chunk) / rate * float64(time.Second)))))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, in := range inlets {
		if st := in.Stats(); st.DroppedStale != 0 || st.Samples != count || st.Gaps != 0 || st.Jumps != 0 {
			t.Fatalf("stats: %+v", st)
		}
	}
}

// TestSlowConsumerLosesOldest: a consumer that stops reading makes the
// outlet drop its oldest samples (counted) without slowing the pusher or
// the other inlet; when it reads again its stream skips ahead.
func TestSlowConsumerLosesOldest(t *testing.T) {
	const nch, rate = 64, 10000.0
	o, fast := goPair(t, "bci-slow", Int16, nch, rate, OutletOptions{MaxBuffered: 100 * time.Millisecond}, InletOptions{MaxBuffered: 10 * time.Second})
	info := o.Info()
	// a raw client that handshakes and then does not read
	conn, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(info.V4DataPort)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(256 << 10) // fixed (no autotuning), and above the loopback MSS
	}
	if _, err := conn.Write(appendFeedRequest(nil, inletRequest{uid: info.UID, format: Int16, maxBuffer: 1 << 20})); err != nil {
		t.Fatal(err)
	}
	for o.Stats().Consumers < 2 {
		time.Sleep(5 * time.Millisecond)
	}
	const count = 100000 // 10 s of data, 12.9 MB: far beyond the socket buffers
	sample := make([]int16, 100*nch)
	var worst time.Duration
	t0 := LocalClock()
	ctx := testContext(t, 60*time.Second)
	got := 0
	buf := make([]int16, 4096*nch)
	for i := 0; i < count; i += 100 {
		begin := time.Now()
		if err := PushChunk(o, sample, t0+float64(i+99)/rate); err != nil {
			t.Fatal(err)
		}
		worst = max(worst, time.Since(begin))
		for got < i {
			n, err := Pull(ctx, fast, buf, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			got += n
		}
	}
	for got < count {
		n, err := Pull(ctx, fast, buf, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		got += n
	}
	if worst > 50*time.Millisecond {
		t.Fatalf("a push took %v with a stalled consumer", worst)
	}
	// the stalled client now reads: handshake, then a stream that skipped
	br := bufio.NewReader(conn)
	if _, err := readFeedResponse(br, info.UID, 2); err != nil {
		t.Fatal(err)
	}
	sr := newSampleReader(br, Int16, nch, rate, 1<<20)
	if err := checkTestPatterns(sr); err != nil {
		t.Fatal(err)
	}
	vals := make([]byte, nch*2)
	prev := math.NaN()
	skipped := false
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for i := 0; ; i++ {
		s, err := sr.readStamp()
		if err != nil {
			break
		}
		if err := sr.readNumeric(vals); err != nil {
			t.Fatal(err)
		}
		if !math.IsNaN(prev) && s-prev > 1.5/rate {
			skipped = true
			break
		}
		prev = s
	}
	st := o.Stats()
	if !skipped || st.Dropped == 0 {
		t.Fatalf("the stalled consumer's stream did not skip (dropped %d)", st.Dropped)
	}
	if fs := fast.Stats(); fs.Samples != count || fs.DroppedStale != 0 {
		t.Fatalf("the other inlet was harmed: %+v", fs)
	}
}

// TestInletDropsStale: an inlet whose consumer falls behind keeps only the
// newest MaxBuffered samples and counts the rest.
func TestInletDropsStale(t *testing.T) {
	o, in := goPair(t, "bci-stale", Float32, 4, 1000, OutletOptions{MaxBuffered: time.Minute}, InletOptions{MaxBufferedSamples: 100})
	want := pushSignal(t, o, 0, 1000, 50, true)
	for in.Stats().Samples < 1000 {
		time.Sleep(5 * time.Millisecond)
	}
	st := in.Stats()
	if st.Buffered != 100 || st.DroppedStale != 900 {
		t.Fatalf("stats: %+v", st)
	}
	ctx := testContext(t, 10*time.Second)
	data := make([]float32, 4*200)
	remote := make([]float64, 200)
	n, err := Pull(ctx, in, data, nil, remote)
	if err != nil || n != 100 || remote[0] != want[900] || remote[99] != want[999] {
		t.Fatalf("pulled %d (%v): first %v want %v", n, err, remote[0], want[900])
	}
}

// TestOutletCloseFlushes: Close sends everything pushed before it, and a
// closed outlet refuses pushes.
func TestOutletCloseFlushes(t *testing.T) {
	o, in := goPair(t, "bci-flush", Double64, 3, 100, OutletOptions{MaxBuffered: time.Minute}, InletOptions{MaxBufferedSamples: 5000})
	want := pushSignal(t, o, 0, 3000, 100, true)
	if err := o.Close(testContext(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	receiveSignal(t, in, 3000, want)
	if err := o.PushFloat32(make([]float32, 3), 0); err == nil {
		t.Fatal("push after Close succeeded")
	}
}
