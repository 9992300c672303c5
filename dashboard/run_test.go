package dashboard_test

import (
	"context"
	"encoding/json"
	"flag"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/dashboard"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/internal/testkit"
	"github.com/bci-decode/bci-decode/pipeline"
	"github.com/bci-decode/bci-decode/session"
)

// liveRun is a session decoding a simulated array in real time on an
// embedded NATS server, with the dashboard's feed on and its page served.
type liveRun struct {
	nc    *nats.Conn // the process's own connection (its credentials)
	page  string
	model *decoder.Loaded
	js    jetstream.JetStream
	// intents receives what a controller subscribed to the session gets.
	intents *intentLog
	// sessions is the sessions' context; stop ends them (the page stays).
	sessions context.Context
	stop     func()
	running  sync.WaitGroup
}

// startRun starts the server (requiring auth, when set), the sessions
// (default one, "demo"; the first is the one followed) and the dashboard;
// they stop when the test ends.
func startRun(t *testing.T, auth bus.Auth, sessions ...string) *liveRun {
	t.Helper()
	return dialRun(t, bus.Auth{}, auth, sessions...)
}

// dialRun is startRun with the embedded server's own settings apart from
// the client's (the public NKeys it accepts, where the client has a seed).
func dialRun(t *testing.T, server, client bus.Auth, sessions ...string) *liveRun {
	t.Helper()
	nc, closeBus, err := bus.Dial(bus.Endpoint{Server: bus.ServerOptions{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Auth: server}, Auth: client, Name: t.Name()})
	require.NoError(t, err)
	t.Cleanup(closeBus)
	ws, ok := bus.WebSocketURL(nc)
	require.True(t, ok, "the embedded server listens for WebSocket clients")
	return startRunOn(t, nc, ws, sessions...)
}

// startRunOn is startRun on a connection to a server whose WebSocket
// listener is at ws.
func startRunOn(t *testing.T, nc *nats.Conn, ws string, sessions ...string) *liveRun {
	t.Helper()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	if len(sessions) == 0 {
		sessions = []string{"demo"}
	}

	r := &liveRun{nc: nc, js: js, model: testkit.Kalman(t, acquire.SimConfig{Seed: 1, Bins: 2000}), intents: followIntents(t, nc, sessions[0])}
	ctx, cancel := context.WithCancel(context.Background())
	r.sessions, r.stop = context.WithCancel(ctx)
	ready := make(chan string, 1)
	served := make(chan error, 1)
	go func() {
		served <- dashboard.Serve(ctx, dashboard.Options{Addr: "127.0.0.1:0", NATS: ws, Ready: func(u string) { ready <- u }})
	}()
	t.Cleanup(func() {
		cancel()
		r.running.Wait()
		require.NoError(t, <-served)
	})
	for i, name := range sessions {
		model := r.model
		if i > 0 {
			model = testkit.Kalman(t, acquire.SimConfig{Seed: 1 + uint64(i), PopulationSeed: 1, Bins: 2000}) // a decoder of its own
		}
		sim, err := acquire.NewSimulator(acquire.SimConfig{Seed: 2 + uint64(i), PopulationSeed: 1, Bins: 100_000}) // the model's neurons, new reaches
		require.NoError(t, err)
		r.add(t, name, acquire.Paced(sim, true), model)
	}
	select {
	case r.page = <-ready:
	case err := <-served:
		t.Fatalf("dashboard: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the dashboard did not start")
	}
	return r
}

// add runs a session decoding src in real time, with the feed on, until
// stop or the end of the test.
func (r *liveRun) add(t *testing.T, name string, src pipeline.BinReader, model *decoder.Loaded) {
	r.running.Add(1)
	go func() {
		defer r.running.Done()
		_, err := session.Run(r.sessions, session.Options{Session: name, Conn: r.nc, Source: src, Model: model,
			Realtime: true, Control: true, Watchdog: bus.WatchdogOptions{StaleAfter: 100 * time.Millisecond, HaltAfter: 500 * time.Millisecond},
			Outputs: pluginOutputs(t, "--telemetry")})
		assert.NoError(t, err, "session %s", name)
	}()
}

// pluginOutputs builds the sessions' outputs from the plug-ins' flags, as a
// command does.
func pluginOutputs(t testing.TB, args ...string) []pipeline.Factory {
	t.Helper()
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	b := pipeline.BindFlags(fs)
	require.NoError(t, fs.Parse(args))
	return b.Outputs()
}

// storeModel puts a second model in the store, for a swap.
func (r *liveRun) storeModel(t *testing.T) string {
	t.Helper()
	m := testkit.Kalman(t, acquire.SimConfig{Seed: 7, PopulationSeed: 1, Bins: 1500})
	b, hash, err := decoder.Encode(m.Decoder, m.Info)
	require.NoError(t, err)
	models, err := bus.OpenModels(context.Background(), r.js, 1)
	require.NoError(t, err)
	got, err := models.Put(context.Background(), b)
	require.NoError(t, err)
	require.Equal(t, hash, got)
	return hash
}

// intentLog is what a Go controller subscribed to a session's intents
// received.
type intentLog struct {
	mu  sync.Mutex
	all []decoder.Intent
}

func followIntents(t *testing.T, nc *nats.Conn, session string) *intentLog {
	t.Helper()
	l := &intentLog{}
	sub, err := nc.Subscribe(bus.IntentSubject(session), func(m *nats.Msg) {
		var in decoder.Intent
		if json.Unmarshal(m.Data, &in) != nil || m.Header.Get(bus.HeaderStatus) != string(in.Status) {
			return
		}
		l.mu.Lock()
		l.all = append(l.all, in)
		l.mu.Unlock()
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return l
}

// mark returns the number of intents received so far.
func (l *intentLog) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.all)
}

// waitFor waits until an intent received after mark satisfies ok.
func (l *intentLog) waitFor(t *testing.T, mark int, within time.Duration, ok func(decoder.Intent) bool) decoder.Intent {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		l.mu.Lock()
		for _, in := range l.all[min(mark, len(l.all)):] {
			if ok(in) {
				l.mu.Unlock()
				return in
			}
		}
		l.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no intent as expected within %v", within)
	return decoder.Intent{}
}
