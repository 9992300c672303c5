package placement_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/internal/testkit"
	"github.com/bci-decode/bci-decode/placement"
)

// TestCapacity measures how many 96-channel, 20 ms-bin sessions one worker
// sustains, recording each in JetStream, with bin end -> intent received
// latency percentiles. It runs only with BCI_CAPACITY set to a list of
// session counts (e.g. "25 50 100"); run it with GOMAXPROCS=1 for the
// one-core figure (the embedded server then shares that core).
func TestCapacity(t *testing.T) {
	counts := os.Getenv("BCI_CAPACITY")
	if counts == "" {
		t.Skip("set BCI_CAPACITY (e.g. \"25 50 100\") to measure capacity")
	}
	var ns []int
	for _, f := range splitFields(counts) {
		n, err := strconv.Atoi(f)
		require.NoError(t, err)
		ns = append(ns, n)
	}
	m := testkit.Kalman(t, acquire.SimConfig{Seed: 1, Bins: 3000})
	mb, _, err := decoder.Encode(m.Decoder, m.Info)
	require.NoError(t, err)
	for _, n := range ns {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			srv := testkit.Server(t, bus.ServerOptions{})
			nc := testkit.Connect(t, srv.ClientURL())
			js, err := jetstream.New(nc)
			require.NoError(t, err)
			ctx := context.Background()
			models, err := bus.OpenModels(ctx, js, 1)
			require.NoError(t, err)
			_, err = models.Put(ctx, mb)
			require.NoError(t, err)
			w, err := placement.NewWorker(ctx, testkit.Connect(t, srv.ClientURL()), placement.WorkerOptions{ID: "w", LeaseTTL: 2 * time.Second})
			require.NoError(t, err)
			b, err := placement.OpenBuckets(ctx, js, 2*time.Second, 1)
			require.NoError(t, err)
			epoch := time.Now().UnixNano()
			for i := range n {
				// Sessions started at different times have their bin
				// boundaries spread over the bin width.
				offset := int64(i) * 20e6 / int64(n)
				require.NoError(t, b.AddSession(ctx, placement.Spec{Session: fmt.Sprintf("c%d", i), Model: m.Hash, Channels: 96,
					BinWidthNS: 20e6, Seed: uint64(i + 1), PopulationSeed: 1, EpochNS: epoch + offset, SnapshotEvery: 50}))
			}
			wctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); _ = w.Run(wctx) }()
			defer func() { cancel(); <-done }()
			require.Eventually(t, func() bool { return len(w.Sessions()) == n }, time.Duration(n)*time.Second, 50*time.Millisecond)
			time.Sleep(2 * time.Second) // catch-up of late starters settles
			hist := hdrhistogram.New(1, 10_000_000, 3)
			var mu sync.Mutex
			sub := testkit.Connect(t, srv.ClientURL())
			_, err = sub.Subscribe("bci.*.intent", func(msg *nats.Msg) {
				st, err := strconv.ParseInt(msg.Header.Get(bus.HeaderSampleTime), 10, 64)
				if err != nil {
					return
				}
				mu.Lock()
				_ = hist.RecordValue(max(time.Now().UnixNano()-st, 0) / 1000)
				mu.Unlock()
			})
			require.NoError(t, err)
			time.Sleep(5 * time.Second)
			mu.Lock()
			defer mu.Unlock()
			t.Logf("GOMAXPROCS %d, %d sessions (%d bins/s): %d intents in 5 s; bin end -> received µs p50 %d p99 %d p99.9 %d max %d",
				runtime.GOMAXPROCS(0), n, n*50, hist.TotalCount(), hist.ValueAtQuantile(50), hist.ValueAtQuantile(99), hist.ValueAtQuantile(99.9), hist.Max())
		})
	}
}

func splitFields(s string) []string {
	var out []string
	cur := ""
	for _, r := range s + " " {
		if r == ' ' || r == ',' {
			if cur != "" {
				out = append(out, cur)
			}
			cur = ""
			continue
		}
		cur += string(r)
	}
	return out
}
