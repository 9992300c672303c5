package lsl

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Tests against liblsl's own example programs.

// pushLoop pushes one sample of values k+0.5 every 1/rate until stop.
func pushLoop(t testing.TB, o *Outlet, rate float64, stop <-chan struct{}) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		info := o.Info()
		tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
		defer tick.Stop()
		f32 := make([]float32, info.ChannelCount)
		i16 := make([]int16, info.ChannelCount)
		for k := range f32 {
			f32[k] = float32(k) + 0.5
			i16[k] = int16(k)
		}
		begin := time.Now()
		pushed := 0
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			// catch up on ticks a loaded machine dropped
			for due := int(time.Since(begin).Seconds() * rate); pushed < due; pushed++ {
				var err error
				if info.Format == Int16 {
					err = Push(o, i16, 0)
				} else {
					err = o.PushFloat32(f32, 0)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	return done
}

// TestLibLSLExamplesReadGoOutlet: ReceiveData, ReceiveDataInChunks and
// GetTimeCorrection, unmodified liblsl examples, use our outlet.
func TestLibLSLExamplesReadGoOutlet(t *testing.T) {
	cfg := testConfig(t)
	t.Run("ReceiveData", func(t *testing.T) {
		t.Parallel()
		o := goSignalOutlet(t, cfg, "bci-ex-recv", Float32, 8, 100, OutletOptions{})
		stop := make(chan struct{})
		defer func() { close(stop) }()
		pushLoop(t, o, 100, stop)
		p := start(t, example(t, "ReceiveData"), "name", "bci-ex-recv", "2")
		p.expect(t, "Now pulling samples", 20*time.Second)
		if err := p.wait(t, 20*time.Second); err != nil {
			t.Fatalf("ReceiveData: %v\n%s", err, p.output(30))
		}
		want := "0.5 1.5 2.5 3.5 4.5 5.5 6.5 7.5"
		lines := 0
		seen := false
		for _, l := range p.allOutput() {
			if seen && strings.TrimSpace(l) != "" {
				if strings.TrimSpace(l) != want {
					t.Fatalf("ReceiveData printed %q, want %q", l, want)
				}
				lines++
			}
			seen = seen || strings.HasPrefix(l, "Now pulling samples")
		}
		if lines < 20 {
			t.Fatalf("ReceiveData printed %d samples:\n%s", lines, p.output(40))
		}
	})
	t.Run("ReceiveDataInChunks", func(t *testing.T) {
		t.Parallel()
		o := goSignalOutlet(t, cfg, "bci-ex-chunks", Int16, 4, 1000, OutletOptions{})
		stop := make(chan struct{})
		defer func() { close(stop) }()
		pushLoop(t, o, 1000, stop)
		p := start(t, example(t, "ReceiveDataInChunks"), "bci-ex-chunks")
		p.expectContains(t, "samples/sec", 20*time.Second)
		line := p.expectContains(t, "samples/sec", 5*time.Second)
		rate, err := strconv.ParseFloat(strings.Fields(line)[0], 64)
		if err != nil || rate < 700 || rate > 1200 {
			t.Fatalf("ReceiveDataInChunks reports %q for our 1000 Hz outlet", line)
		}
	})
	t.Run("GetTimeCorrection", func(t *testing.T) {
		t.Parallel()
		goSignalOutlet(t, cfg, "bci-ex-time", Float32, 1, 10, OutletOptions{})
		p := start(t, example(t, "GetTimeCorrection"), "name", "bci-ex-time")
		p.expect(t, "Press [Enter]", 20*time.Second)
		for i := 0; i < 2; i++ {
			line := p.expect(t, "", 10*time.Second)
			v, err := strconv.ParseFloat(strings.TrimSpace(line), 64)
			if err != nil || math.Abs(v) > 0.005 {
				t.Fatalf("GetTimeCorrection printed %q", line)
			}
			if _, err := p.stdin.Write([]byte("\n")); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestGoReadsLibLSLExamples: our resolver and inlet against SendData,
// SendStringMarkers and GetAllStreams.
func TestGoReadsLibLSLExamples(t *testing.T) {
	cfg := testConfig(t)
	ctx := testContext(t, 60*time.Second)
	send := start(t, example(t, "SendData"), "bci-ex-eeg", "EEG", "9", "200")
	markers := start(t, example(t, "SendStringMarkers"), "bci-ex-markers")
	send.expect(t, "Now sending data", 20*time.Second)
	markers.expect(t, "Now sending markers", 20*time.Second)
	own := goSignalOutlet(t, cfg, "bci-ex-own", Float32, 2, 10, OutletOptions{})

	t.Run("ResolveAll", func(t *testing.T) {
		all, err := ResolveAll(ctx, cfg, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]StreamInfo{}
		for _, s := range all {
			byName[s.Name] = s
		}
		eeg, ok1 := byName["bci-ex-eeg"]
		mk, ok2 := byName["bci-ex-markers"]
		_, ok3 := byName["bci-ex-own"]
		if !ok1 || !ok2 || !ok3 {
			t.Fatalf("ResolveAll found %v", all)
		}
		if eeg.Type != "EEG" || eeg.ChannelCount != 9 || eeg.Format != Float32 || eeg.NominalRate != 200 || eeg.SourceID != "bci-ex-eegEEG" || eeg.Version != 110 {
			t.Fatalf("SendData's stream: %+v", eeg)
		}
		if mk.Type != "Markers" || mk.ChannelCount != 1 || mk.Format != String || mk.NominalRate != 0 || mk.SourceID != "id23443" {
			t.Fatalf("SendStringMarkers' stream: %+v", mk)
		}
	})
	t.Run("GetAllStreams", func(t *testing.T) {
		p := start(t, example(t, "GetAllStreams"))
		p.expect(t, "\t<name>bci-ex-own</name>", 20*time.Second)
		_ = own
	})
	t.Run("SendData", func(t *testing.T) {
		infos, err := Resolve(ctx, cfg, "type='EEG' and name='bci-ex-eeg'", ResolveOptions{Minimum: 1})
		if err != nil {
			t.Fatal(err)
		}
		in, err := OpenInlet(ctx, cfg, infos[0], InletOptions{MaxBuffered: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close(ctx)
		labels := in.Info().Channels()
		if len(labels) != 9 || labels[0].Label != "C3" || labels[7].Label != "O2" || labels[8].Label != "Chan-9" {
			t.Fatalf("SendData's channels: %+v", labels)
		}
		data := make([]float32, 9*64)
		stamps := make([]int64, 64)
		var counter float32 = -1
		var last int64
		got := 0
		for got < 300 {
			n, err := in.PullFloat32(ctx, data, stamps)
			if err != nil {
				t.Fatal(err)
			}
			for j := 0; j < n; j++ {
				c := data[j*9+8] // SendData's sample counter
				if counter >= 0 && c != counter+1 {
					t.Fatalf("counter channel went from %v to %v", counter, c)
				}
				counter = c
				if stamps[j] < last {
					t.Fatalf("stamps went backwards")
				}
				last = stamps[j]
			}
			got += n
		}
		if age := time.Since(time.Unix(0, last)); age < -50*time.Millisecond || age > 500*time.Millisecond {
			t.Fatalf("newest stamp maps to %v ago", age)
		}
		if st := in.Stats(); st.NewestAge < 0 || st.NewestAge > time.Second || st.Jumps != 0 || st.BadMessages != 0 {
			t.Fatalf("stats: %+v", st)
		}
	})
	t.Run("SendStringMarkers", func(t *testing.T) {
		infos, err := Resolve(ctx, cfg, "type='Markers' and name='bci-ex-markers'", ResolveOptions{Minimum: 1})
		if err != nil {
			t.Fatal(err)
		}
		in, err := OpenInlet(ctx, cfg, infos[0], InletOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close(ctx)
		var got []string
		vals := make([]string, 8)
		for len(got) < 4 {
			n, err := in.PullStrings(ctx, vals, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, vals[:n]...)
		}
		time.Sleep(100 * time.Millisecond)
		var sent []string
		for _, l := range markers.allOutput() {
			if m, ok := strings.CutPrefix(l, "now sending: "); ok {
				sent = append(sent, m)
			}
		}
		// what we received is a contiguous run of what was sent
		for s := 0; s+len(got) <= len(sent); s++ {
			if strings.Join(sent[s:s+len(got)], "|") == strings.Join(got, "|") {
				return
			}
		}
		t.Fatalf("received markers %q are not a run of the sent ones %q", got, sent)
	})
}

// TestRecoverAfterOutletRestart: the liblsl outlet is killed and started
// again; the inlet finds it by source id, reconnects, goes on delivering,
// and the counters show the reconnect and the samples lost in between.
func TestRecoverAfterOutletRestart(t *testing.T) {
	cfg := testConfig(t)
	ctx := testContext(t, 60*time.Second)
	args := []string{"bci-recover", "Rec", "9", "200"}
	p := start(t, example(t, "SendData"), args...)
	p.expect(t, "Now sending data", 20*time.Second)
	infos, err := Resolve(ctx, cfg, "name='bci-recover'", ResolveOptions{Minimum: 1})
	if err != nil {
		t.Fatal(err)
	}
	in, err := OpenInlet(ctx, cfg, infos[0], InletOptions{MaxBuffered: 10 * time.Second, Recover: true})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close(ctx)
	data := make([]float32, 9*100)
	stamps := make([]int64, 100)
	remote := make([]float64, 100)
	pull := func(atLeast int) (first, last float64, lastLocal int64) {
		got := 0
		first = math.NaN()
		for got < atLeast {
			n, err := Pull(ctx, in, data, stamps, remote)
			if err != nil {
				t.Fatalf("pull: %v (stats %+v)", err, in.Stats())
			}
			if math.IsNaN(first) {
				first = remote[0]
			}
			for j := 0; j < n; j++ {
				if stamps[j] < lastLocal {
					t.Fatalf("local stamps went backwards across the restart")
				}
				lastLocal = stamps[j]
			}
			last = remote[n-1]
			got += n
		}
		return first, last, lastLocal
	}
	_, before, _ := pull(200)
	// drain what is buffered, then restart the outlet
	p.kill()
	for in.Stats().Buffered > 0 {
		_, before, _ = pull(in.Stats().Buffered)
	}
	time.Sleep(time.Second)
	uid := in.Info().UID
	p2 := start(t, example(t, "SendData"), args...)
	p2.expect(t, "Now sending data", 20*time.Second)
	after, _, _ := pull(300)
	st := in.Stats()
	if st.Reconnects != 1 || st.Gaps < 1 || !st.Connected || in.Info().UID == uid {
		t.Fatalf("after the restart: %+v (uid %s -> %s)", st, uid, in.Info().UID)
	}
	lost := math.Round((after-before)*200) - 1
	if lost < 150 || math.Abs(float64(st.LostSamples)-lost) > 3 {
		t.Fatalf("the stamps skip %v samples (%.3f s) across the restart; LostSamples = %d", lost, after-before, st.LostSamples)
	}
	if st.BadMessages != 0 || st.Jumps != 0 {
		t.Fatalf("stats: %+v", st)
	}
}

// TestRecoverRefusesChangedStream: the outlet comes back with another
// channel count under the same source id; the inlet refuses it with a
// clear error.
func TestRecoverRefusesChangedStream(t *testing.T) {
	cfg := testConfig(t)
	ctx := testContext(t, 60*time.Second)
	p := start(t, example(t, "SendData"), "bci-changed", "Chg", "9", "100")
	p.expect(t, "Now sending data", 20*time.Second)
	infos, err := Resolve(ctx, cfg, "name='bci-changed'", ResolveOptions{Minimum: 1})
	if err != nil {
		t.Fatal(err)
	}
	in, err := OpenInlet(ctx, cfg, infos[0], InletOptions{Recover: true})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close(ctx)
	data := make([]float32, 9*10)
	if _, err := in.PullFloat32(ctx, data, nil); err != nil {
		t.Fatal(err)
	}
	p.kill()
	p2 := start(t, example(t, "SendData"), "bci-changed", "Chg", "16", "100")
	p2.expect(t, "Now sending data", 20*time.Second)
	for {
		_, err := in.PullFloat32(ctx, data, nil)
		if err == nil {
			continue
		}
		if !errors.Is(err, ErrStreamChanged) || !strings.Contains(err.Error(), "16 float32 channels") || !strings.Contains(err.Error(), "was 9") {
			t.Fatalf("pull after the stream changed: %v", err)
		}
		break
	}
	if st := in.Stats(); st.Reconnects != 0 || st.BadMessages != 1 {
		t.Fatalf("stats: %+v", st)
	}
}
