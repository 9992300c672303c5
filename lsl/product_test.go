package lsl

import (
	"context"
	"errors"
	"flag"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/dashboard"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/frontend"
	"github.com/bci-decode/bci-decode/internal/browser"
	"github.com/bci-decode/bci-decode/internal/testkit"
	"github.com/bci-decode/bci-decode/pipeline"
	"github.com/bci-decode/bci-decode/session"
)

// The product's side of LSL: liblsl streams decoded by a session through
// the lsl: source scheme, and a session's intents sent to liblsl through
// the --lsl-out plug-in.

// natsConn starts an embedded NATS server on loopback for a session.
func natsConn(t testing.TB) *nats.Conn {
	t.Helper()
	return testkit.Connect(t, testkit.Server(t, bus.ServerOptions{}).ClientURL())
}

// openStream opens spec as the command line would, with the test's
// loopback configuration as the process's LSL service.
func openStream(t testing.TB, ctx context.Context, spec, sess string, chain frontend.Options) *frontend.Stream {
	t.Helper()
	s, err := frontend.Open(ctx, spec, frontend.OpenOptions{Source: acquire.Params{Session: sess, Services: []any{testConfig(t)}}, Chain: chain})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// intentLog keeps every intent a session decodes.
type intentLog struct {
	mu      sync.Mutex
	intents []decoder.Intent
}

func (l *intentLog) Consume(in *decoder.Intent, _ *acquire.Bin) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var c decoder.Intent
	c.CopyFrom(in)
	l.intents = append(l.intents, c)
}

// runFor decodes s in real time until d has passed or until ctx ends.
func runFor(t testing.TB, ctx context.Context, d time.Duration, opts session.Options) session.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if opts.Conn == nil {
		opts.Conn = natsConn(t)
	}
	opts.Realtime, opts.Log = true, testLogger(t)
	res, err := session.Run(ctx, opts)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		t.Fatalf("session: %v", err)
	}
	return res
}

// sourceStats is the lsl source's report inside a stream's report.
func sourceStats(t testing.TB, res session.Result) SourceStats {
	t.Helper()
	st, ok := res.Source.(frontend.StreamStats)
	if !ok {
		t.Fatalf("source report %T, want frontend.StreamStats", res.Source)
	}
	s, ok := st.Source.(SourceStats)
	if !ok {
		t.Fatalf("lsl report %T, want SourceStats", st.Source)
	}
	return s
}

// TestSourceLibLSLChunksThroughSignalChain: liblsl's SendDataInChunks
// (32 int16 channels at 30 kHz, 10 ms chunks) is opened as lsl:name='...',
// goes through the signal chain and is decoded by a session; the lsl
// counters are in the session's summary.
func TestSourceLibLSLChunksThroughSignalChain(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	send := start(t, example(t, "SendDataInChunks"), "bci-src-chunks", "Neural", "30000", "32", "1", "100")
	send.expect(t, "Now sending data", 20*time.Second)
	s := openStream(t, ctx, "lsl:name='bci-src-chunks'", "lslchunks", frontend.Options{})
	if !s.Continuous() {
		t.Fatal("a 30 kHz stream must go through the signal chain")
	}
	if sh := s.Shape(); sh.Channels != 32 || sh.BinWidth != 20*time.Millisecond || sh.ChannelNames[5] != "Chan-5" {
		t.Fatalf("shape %+v", sh)
	}
	model := testkit.Kalman(t, acquire.SimConfig{Channels: 32, Bins: 2000, Seed: 1})
	res := runFor(t, ctx, 4*time.Second, session.Options{Session: "lslchunks", Source: s, Model: model})
	if res.Stats.Bins < 50 || res.Publish.Published < 50 {
		t.Fatalf("decoded %d bins, published %d intents in 4 s, want >= 50", res.Stats.Bins, res.Publish.Published)
	}
	st := sourceStats(t, res)
	if st.Stream != "bci-src-chunks" || st.Samples < 30000 || !st.Connected || st.BadMessages != 0 || st.Jumps != 0 {
		t.Fatalf("lsl report %+v", st)
	}
	if st.NewestAgeMS < 0 || st.NewestAgeMS > 2000 {
		t.Fatalf("newest sample %v ms old", st.NewestAgeMS)
	}
}

// TestSourceBinnedToLSLOut: liblsl's SendData at 50 Hz (one sample per
// 20 ms bin) is binned counts and goes straight to the decoder; the
// session's --lsl-out outlet is read by liblsl (pull_sample), which
// receives every intent's values, its bin's end as the stamp, and the
// status channel, exactly.
func TestSourceBinnedToLSLOut(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	send := start(t, example(t, "SendData"), "bci-src-bins", "Spikes", "96", "50")
	send.expect(t, "Now sending data", 20*time.Second)
	s := openStream(t, ctx, "lsl:type='Spikes' and name='bci-src-bins'", "lslbins", frontend.Options{})
	if s.Continuous() || s.Shape().BinWidth != 20*time.Millisecond || s.Shape().Channels != 96 {
		t.Fatalf("a 50 Hz stream at 20 ms bins is binned: continuous %v, shape %+v", s.Continuous(), s.Shape())
	}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	outputs := pipeline.BindFlags(fs).Outputs()
	if err := fs.Parse([]string{"--lsl-out"}); err != nil {
		t.Fatal(err)
	}
	const want = 60
	recv := start(t, peerProgram(t, "lslrecv"), "name='bci-lslbins-intent'", strconv.Itoa(want), "20")
	var log intentLog
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan session.Result, 1)
	go func() {
		done <- runFor(t, runCtx, time.Minute, session.Options{Session: "lslbins", Source: s, Model: testkit.Kalman(t, acquire.SimConfig{Bins: 2000}),
			Outputs: outputs, Services: []any{testConfig(t)}, Sinks: []pipeline.Sink{&log}})
	}()
	info := recv.expect(t, "I ", 30*time.Second)
	labels := recv.expect(t, "L", 10*time.Second)
	recv.expect(t, "T ", 30*time.Second)
	stop()
	res := <-done
	if !strings.HasPrefix(info, "I bci-lslbins-intent|Control|3|0x1.9p+5|bci-decode/lslbins|") || labels != "L vel_x vel_y status" {
		t.Fatalf("liblsl sees %q, labels %q", info, labels)
	}
	checkReceived(t, recv.allOutput(), log.intents, want)
	out, ok := res.Outputs["lsl-out"].(IntentOutletStats)
	if !ok || out.Sent < want || out.Dropped != 0 || out.Errors != 0 {
		t.Fatalf("lsl-out report %+v", res.Outputs["lsl-out"])
	}
	if st := sourceStats(t, res); st.Samples < want || st.BadMessages != 0 {
		t.Fatalf("lsl report %+v", st)
	}
}

// checkReceived matches each sample liblsl printed ("S stamp bits...")
// with the intent stamped with the same bin end: values bit for bit, the
// status channel, in order.
func checkReceived(t *testing.T, lines []string, intents []decoder.Intent, want int) {
	t.Helper()
	byStamp := map[float64]decoder.Intent{}
	for _, in := range intents {
		byStamp[FromUnixNano(in.SampleTime)] = in
	}
	got, last := 0, math.Inf(-1)
	for _, line := range lines {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "S" {
			continue
		}
		stamp, err := strconv.ParseFloat(f[1], 64)
		if err != nil || len(f) != 5 {
			t.Fatalf("bad line %q", line)
		}
		in, ok := byStamp[stamp]
		if !ok || stamp <= last {
			t.Fatalf("sample %d stamped %v: no intent with that bin end (or out of order)", got, stamp)
		}
		last = stamp
		for k, h := range f[2:] {
			bits, _ := strconv.ParseUint(h, 16, 32)
			v := math.Float32frombits(uint32(bits))
			switch {
			case k < 2 && math.Float32bits(in.Values[k]) != uint32(bits):
				t.Fatalf("intent %d value %d: liblsl got %v, decoded %v", in.Seq, k, v, in.Values[k])
			case k == 2 && v != statusCode(in.Status):
				t.Fatalf("intent %d: status channel %v for %s", in.Seq, v, in.Status)
			}
		}
		got++
	}
	if got != want {
		t.Fatalf("liblsl printed %d samples, want %d", got, want)
	}
}

// TestListShowsLibLSLStreams: the streams of liblsl's SendData and
// SendStringMarkers appear in the listing with their metadata.
func TestListShowsLibLSLStreams(t *testing.T) {
	ctx := testContext(t, time.Minute)
	start(t, example(t, "SendData"), "bci-list-eeg", "EEG", "8", "250").expect(t, "Now sending data", 20*time.Second)
	start(t, example(t, "SendStringMarkers"), "bci-list-markers")
	var got []Listed
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var err error
		if got, err = List(ctx, testConfig(t), time.Second); err != nil {
			t.Fatal(err)
		}
		if len(got) >= 2 {
			break
		}
	}
	byName := map[string]Listed{}
	for _, s := range got {
		byName[s.Name] = s
	}
	eeg, mk := byName["bci-list-eeg"], byName["bci-list-markers"]
	if eeg.Type != "EEG" || eeg.Channels != 8 || eeg.Rate != 250 || eeg.Format != "float32" || eeg.SourceID != "bci-list-eegEEG" || eeg.Host == "" || eeg.UID == "" {
		t.Fatalf("EEG stream listed as %+v (all: %+v)", eeg, got)
	}
	if mk.Type != "Markers" || mk.Channels != 1 || mk.Rate != 0 || mk.Format != "string" || mk.SourceID != "id23443" {
		t.Fatalf("marker stream listed as %+v", mk)
	}
	var b strings.Builder
	if err := WriteList(&b, got); err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(b.String(), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			rows[f[0]] = strings.Join(f, " ")
		}
	}
	for name, want := range map[string]string{
		"NAME":             "NAME TYPE CHANNELS RATE FORMAT SOURCE ID HOST",
		"bci-list-eeg":     "bci-list-eeg EEG 8 250 Hz float32 bci-list-eegEEG " + eeg.Host,
		"bci-list-markers": "bci-list-markers Markers 1 irregular string id23443 " + mk.Host,
	} {
		if rows[name] != want {
			t.Fatalf("table row %q, want %q:\n%s", rows[name], want, b.String())
		}
	}
}

// TestSourceRefusesWhatItCannotDecode: a marker stream, no match, and an
// empty predicate are clear errors.
func TestSourceRefusesWhatItCannotDecode(t *testing.T) {
	ctx := testContext(t, time.Minute)
	cfg := testConfig(t)
	start(t, example(t, "SendStringMarkers"), "bci-src-markers")
	for pred, want := range map[string]string{
		"name='bci-src-markers'": "string (marker) stream",
		"name='bci-nothing'":     "no stream matches",
		"  ":                     "want lsl:PREDICATE",
	} {
		_, err := OpenSource(ctx, cfg, pred, SourceOptions{ResolveTimeout: 5 * time.Second})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", pred, err, want)
		}
	}
}

// testLogger sends a session's logs to the test's log.
func testLogger(t testing.TB) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)
}

// TestProductPathsDoNotAllocate: handing an intent to --lsl-out and
// reading a continuous frame or a bin from the lsl: source allocate
// nothing in steady state.
func TestProductPathsDoNotAllocate(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	ctx := testContext(t, time.Minute)
	cfg := testConfig(t)
	out, err := NewIntentOutlet(cfg, IntentOutletOptions{Session: "allocs", Values: 2, BinWidth: 20 * time.Millisecond, Buffer: 4096})
	if err != nil {
		t.Fatal(err)
	}
	if err := out.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer out.Close(ctx)
	in := decoder.Intent{Values: []float32{1, 2}, Status: decoder.StatusOK, SampleTime: time.Now().UnixNano()}
	if a := testing.AllocsPerRun(1000, func() { in.SampleTime += 2e7; out.Consume(&in, nil) }); a != 0 {
		t.Fatalf("--lsl-out: %.2f allocations per intent, want 0", a)
	}

	for _, tc := range []struct {
		name string
		rate float64
	}{{"frames", 30000}, {"bins", 50}} {
		o := goSignalOutlet(t, cfg, "bci-allocs-"+tc.name, Int16, 64, tc.rate, OutletOptions{})
		src, err := OpenSource(ctx, cfg, "name='bci-allocs-"+tc.name+"'", SourceOptions{BinWidth: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		data := make([]int16, 64)
		var f acquire.Frame
		var b acquire.Bin
		read := func() {
			if err := PushChunk(o, data, 0); err != nil {
				t.Fatal(err)
			}
			if src.Binned() {
				err = src.Bins().ReadBin(ctx, &b)
			} else {
				err = src.Frames().ReadFrame(ctx, &f)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		for range 100 {
			read()
		}
		if a := testing.AllocsPerRun(500, read); a != 0 {
			t.Fatalf("%s: %.2f allocations per read, want 0", tc.name, a)
		}
	}
}

// TestDashboardShowsTheLSLSource: the dashboard of a session decoding
// liblsl's SendData, open in chromium in the test's loopback-only
// namespace, names the stream and shows its samples, losses and clock
// offset, from the session's status messages.
func TestDashboardShowsTheLSLSource(t *testing.T) {
	browser.Path(t)
	ctx := testContext(t, 2*time.Minute)
	start(t, example(t, "SendData"), "bci-dash-neural", "Spikes", "96", "50").expect(t, "Now sending data", 20*time.Second)
	nc, closeBus, err := bus.Dial(bus.Endpoint{Server: bus.ServerOptions{Listen: "127.0.0.1:0", DataDir: t.TempDir()}, Name: t.Name()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeBus)
	ws, ok := bus.WebSocketURL(nc)
	if !ok {
		t.Fatal("the embedded server has no WebSocket listener")
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	ready, served := make(chan string, 1), make(chan error, 1)
	go func() {
		served <- dashboard.Serve(sctx, dashboard.Options{Addr: "127.0.0.1:0", NATS: ws, Ready: func(u string) { ready <- u }})
	}()
	s := openStream(t, ctx, "lsl:name='bci-dash-neural'", "lsldash", frontend.Options{})
	ran := make(chan error, 1)
	go func() {
		_, err := session.Run(sctx, session.Options{Session: "lsldash", Source: s, Model: testkit.Kalman(t, acquire.SimConfig{Bins: 2000}),
			Conn: nc, Realtime: true, Log: testLogger(t)})
		ran <- err
	}()
	var page string
	select {
	case page = <-ready:
	case <-ctx.Done():
		t.Fatal("the dashboard did not start")
	}
	p := browser.Open(t, page+"?session=lsldash")
	p.WaitText("source", `t.startsWith('LSL "bci-dash-neural": ') && / [0-9]+ samples, [0-9]+ lost, clock offset -?[0-9.]+ ms \(rtt [0-9.]+ ms\)$/.test(t)`)
	stop()
	if err := <-ran; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("session: %v", err)
	}
	if err := <-served; err != nil {
		t.Fatalf("dashboard: %v", err)
	}
}
