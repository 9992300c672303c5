package placement_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/internal/testkit"
	"github.com/bci-decode/bci-decode/placement"
	"github.com/bci-decode/bci-decode/replay"
)

func cluster(t *testing.T, n int) []*bus.Server {
	t.Helper()
	var listens, routes []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		listens = append(listens, l.Addr().String())
		routes = append(routes, "nats://"+l.Addr().String())
		require.NoError(t, l.Close())
	}
	dir := t.TempDir()
	var out []*bus.Server
	for i := range n {
		out = append(out, testkit.Server(t, bus.ServerOptions{Name: fmt.Sprintf("n%d", i), DataDir: dir, ClusterListen: listens[i], Routes: routes}))
	}
	return out
}

type seen struct {
	seq      uint64
	process  string
	takeover bool
	at       time.Time
}

// TestFailover runs three sessions on two decoder processes over a
// three-node cluster, kills the process that owns a session and a server
// node, and checks that every session goes on being decoded, that the
// takeover came within the bound, that intents never repeat a seq, and
// that no recorded bin was lost.
func TestFailover(t *testing.T) {
	// Leases of 2 s: under the race detector on a loaded 2-core machine a
	// process's renewal can stall for a second, and a lease it loses that
	// way is a takeover of its own sessions the test did not plan.
	const ttl = 2 * time.Second
	srv := cluster(t, 3)
	admin := testkit.Connect(t, srv[0].ClientURL())
	js, err := jetstream.New(admin)
	require.NoError(t, err)
	ctx := context.Background()

	var b *placement.Buckets
	require.Eventually(t, func() bool { // until the cluster has a JetStream leader
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		b, err = placement.OpenBuckets(actx, js, ttl, 3)
		return err == nil
	}, 30*time.Second, 200*time.Millisecond)
	models, err := bus.OpenModels(ctx, js, 3)
	require.NoError(t, err)
	m := testkit.Kalman(t, acquire.SimConfig{Seed: 1, Bins: 3000})
	mb, _, err := decoder.Encode(m.Decoder, m.Info)
	require.NoError(t, err)
	_, err = models.Put(ctx, mb)
	require.NoError(t, err)
	epoch := time.Now().UnixNano()
	for i := range 3 {
		require.NoError(t, b.AddSession(ctx, placement.Spec{Session: fmt.Sprintf("s%d", i), Model: m.Hash, Channels: 96,
			BinWidthNS: 20e6, Seed: uint64(10 + i), PopulationSeed: 1, EpochNS: epoch, Replicas: 3, SnapshotEvery: 25}))
	}

	var mu sync.Mutex
	intents := map[string][]seen{}
	_, err = admin.Subscribe("bci.*.intent", func(msg *nats.Msg) {
		var in decoder.Intent
		if json.Unmarshal(msg.Data, &in) != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		intents[msg.Subject] = append(intents[msg.Subject], seen{in.Seq, in.Process, in.Takeover, time.Now()})
	})
	require.NoError(t, err)

	type proc struct {
		w      *placement.Worker
		nc     *nats.Conn
		cancel context.CancelFunc
		done   chan struct{}
	}
	var logs testkit.SyncBuffer // the workers' logs, said when the test fails
	start := func(id string, url string) *proc {
		nc, err := bus.Connect(url, bus.ConnectOptions{Name: id})
		require.NoError(t, err)
		log := zerolog.New(&logs).With().Timestamp().Str("process", id).Logger()
		w, err := placement.NewWorker(ctx, nc, placement.WorkerOptions{ID: id, LeaseTTL: ttl, Replicas: 3, Log: log})
		require.NoError(t, err)
		wctx, cancel := context.WithCancel(ctx)
		p := &proc{w: w, nc: nc, cancel: cancel, done: make(chan struct{})}
		go func() { defer close(p.done); _ = w.Run(wctx) }()
		return p
	}
	a, bp := start("a", srv[0].ClientURL()), start("b", srv[1].ClientURL())
	t.Cleanup(func() { bp.cancel(); <-bp.done; bp.nc.Close() })

	require.Eventually(t, func() bool {
		return len(a.w.Sessions())+len(bp.w.Sessions()) == 3 && len(a.w.Sessions()) > 0 && len(bp.w.Sessions()) > 0
	}, 15*time.Second, 100*time.Millisecond, "sessions spread over both processes")
	time.Sleep(2 * time.Second)
	victims := a.w.Sessions()
	t.Logf("a decodes %v, b decodes %v", victims, bp.w.Sessions())

	// Process a dies: its connection goes first, so it releases nothing.
	a.nc.Close()
	killed := time.Now()
	a.cancel()
	<-a.done
	sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
	require.NoError(t, srv[2].Shutdown(sctx))
	scancel()

	require.Eventually(t, func() bool { return len(bp.w.Sessions()) == 3 }, 10*time.Second, 100*time.Millisecond, "b takes every session")
	time.Sleep(3 * time.Second)

	mu.Lock()
	defer mu.Unlock()
	for i := range 3 {
		subj := fmt.Sprintf("bci.s%d.intent", i)
		got := intents[subj]
		require.NotEmpty(t, got, subj)
		seqs := map[uint64]bool{}
		var lastA, firstTakeover *seen
		for k := range got {
			s := &got[k]
			assert.False(t, seqs[s.seq], "%s: seq %d published twice", subj, s.seq)
			seqs[s.seq] = true
			if s.process == "a" {
				lastA = s
			}
			if s.takeover && firstTakeover == nil {
				firstTakeover = s
			}
		}
		last := got[len(got)-1]
		assert.True(t, last.at.After(killed.Add(2*time.Second)), "%s is still decoded after the kill", subj)
		if lastA != nil {
			require.NotNil(t, firstTakeover, "%s was taken over", subj)
			assert.Equal(t, "b", firstTakeover.process)
			gap := firstTakeover.at.Sub(killed)
			t.Logf("%s: a's last seq %d, b took over at seq %d, %v after the kill", subj, lastA.seq, firstTakeover.seq, gap.Round(time.Millisecond))
			assert.Less(t, gap, 2*ttl+time.Second, "takeover bound")
			assert.Equal(t, lastA.seq+1, firstTakeover.seq, "seq goes on where it stopped")
		}
		all := make([]uint64, 0, len(seqs))
		for s := range seqs {
			all = append(all, s)
		}
		sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
		assert.Equal(t, uint64(len(all)-1), all[len(all)-1]-all[0], "%s: no seq missing", subj)
	}

	// Every bin up to the last decoded is in the R3 stream, once; and the
	// session as published, across the takeover, is exactly what one
	// uninterrupted decoder would have produced from those bins.
	bp.cancel()
	<-bp.done
	for _, name := range victims {
		live, err := replay.RecordedIntents(ctx, js, name)
		require.NoError(t, err)
		src, err := replay.Open(ctx, js, name, replay.Range{})
		require.NoError(t, err)
		fresh, err := decoder.Decode(mb)
		require.NoError(t, err)
		res, err := replay.Run(ctx, src, fresh, replay.Options{})
		src.Close()
		require.NoError(t, err)
		if r := src.Reordering(); r != (replay.Reordering{}) {
			t.Logf("%s: the stream held bins out of seq order: %+v", name, r)
		}
		// Recorded intents are captured core-NATS messages, which a stream
		// busy electing a leader may miss: pair them with the replay by
		// seq, and every pair must be identical.
		paired, replayed, unpaired := pairBySeq(live, res.Intents)
		d := replay.Compare(paired, replayed)
		if !assert.True(t, d.Identical, "%s: %s", name, d.Mismatch) {
			for k := max(0, d.Compared-2); k < min(len(paired), d.Compared+3); k++ {
				t.Logf("%s: live seq %d %v from %s (takeover %v) | replayed seq %d %v", name,
					paired[k].Seq, paired[k].Values, paired[k].Process, paired[k].Takeover, replayed[k].Seq, replayed[k].Values)
			}
			t.Logf("%s: %d live intents to seq %d, %d replayed to seq %d; the workers said:\n%s", name,
				len(live), live[len(live)-1].Seq, len(res.Intents), res.Intents[len(res.Intents)-1].Seq, logs.String())
		}
		assert.Greater(t, d.Compared, 100)
		assert.LessOrEqual(t, unpaired, 5, "%s: recorded intents without a replayed bin of their seq", name)
		if unpaired > 0 {
			t.Logf("%s: %d of %d recorded intents had no replayed twin", name, unpaired, len(live))
		}
	}
	for i := range 3 {
		name := fmt.Sprintf("s%d", i)
		stream, err := js.Stream(ctx, bus.StreamName(name))
		require.NoError(t, err)
		info, err := stream.Info(ctx, jetstream.WithSubjectFilter(bus.BinsSubject(name)))
		require.NoError(t, err)
		lastBin, err := stream.GetLastMsgForSubject(ctx, bus.BinsSubject(name))
		require.NoError(t, err)
		seq, ok := acquire.BinMessageSeq(lastBin.Data)
		require.True(t, ok)
		assert.Equal(t, seq+1, info.State.Subjects[bus.BinsSubject(name)], "%s: bins 0..%d recorded once each", name, seq)
	}
}

// pairBySeq returns the live intents that have a replayed intent of the
// same seq, those replayed intents in the same order, and how many live
// intents had none.
func pairBySeq(live, replayed []decoder.Intent) (l, r []decoder.Intent, unpaired int) {
	bySeq := make(map[uint64]int, len(replayed))
	for i := range replayed {
		bySeq[replayed[i].Seq] = i
	}
	for _, in := range live {
		i, ok := bySeq[in.Seq]
		if !ok {
			unpaired++
			continue
		}
		l, r = append(l, in), append(r, replayed[i])
	}
	return l, r, unpaired
}
