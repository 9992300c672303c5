package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/bus"
)

// TestClusterSurvivesLosingANode runs the README's three-node example:
// three decoders, each with an embedded server that is one node of a NATS
// cluster, each recording its session with three replicas. It kills each
// node in turn (kill -9) at a different moment: while the cluster forms,
// while it decodes, and late; and checks that the survivors decode to the
// end and print their summaries, that every bin is recorded or counted as
// a gap, that every recorded (acknowledged) bin reads back from the
// cluster, and that once the cluster has formed, losing a node costs no
// bin at all. (Losing a node while the cluster forms can leave JetStream
// without a leader for tens of seconds; decoding goes on meanwhile. And the
// survivor that exits last outlives the other's node: its last bins, sent
// when two nodes of three were gone, may be counted as gaps at close.)
func TestClusterSurvivesLosingANode(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a three-node cluster three times")
	}
	dir := t.TempDir()
	rec := filepath.Join(dir, "r.bcr")
	code, _, stderr := cli(t, "simulate", "--out", rec, "--duration", "60s")
	require.Equal(t, 0, code, stderr)
	model := filepath.Join(dir, "m.bcim")
	code, _, stderr = cli(t, "train", "--data", rec, "--out", model)
	require.Equal(t, 0, code, stderr)
	for victim, at := range []time.Duration{3 * time.Second, 12 * time.Second, 22 * time.Second} {
		t.Run(fmt.Sprintf("node%d_after_%v", victim, at), func(t *testing.T) {
			clusterLosesNode(t, model, victim, at)
		})
	}
}

func clusterLosesNode(t *testing.T, model string, victim int, at time.Duration) {
	const nodes, bins = 3, 1500 // 30 s of 20 ms bins
	data := t.TempDir()
	client, routes := make([]string, nodes), make([]string, nodes)
	cluster := make([]string, nodes)
	for i := range nodes {
		client[i], cluster[i] = freePort(t), freePort(t)
		routes[i] = "nats://" + cluster[i]
	}
	type node struct {
		wait           func() error
		stdout, stderr *syncBuffer
	}
	procs := make([]node, nodes)
	recorded := make([]uint64, nodes)
	for i := range nodes {
		cmd, out, errb := spawn(t, "run", "--model", model, "--session", fmt.Sprintf("s%d", i), "--record", "--replicas", "3",
			"--duration", "30s", "--server-name", fmt.Sprintf("n%d", i), "--nats-listen", client[i], "--cluster-listen", cluster[i],
			"--routes", strings.Join(routes, ","), "--data-dir", data, "--json")
		procs[i] = node{wait: cmd.Wait, stdout: out, stderr: errb}
		if i == victim {
			time.AfterFunc(at, func() { _ = cmd.Process.Kill() })
		}
	}
	errs, exited := make([]error, nodes), make([]time.Time, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() { errs[i] = procs[i].wait(); exited[i] = time.Now() })
	}
	wg.Wait()
	last := -1 // the survivor that exited last
	for i := range nodes {
		if i != victim && (last < 0 || exited[i].After(exited[last])) {
			last = i
		}
	}
	for i := range nodes {
		err := errs[i]
		if i == victim {
			continue
		}
		var sum struct {
			Bins      uint64              `json:"bins"`
			Recording *bus.RecordingStats `json:"recording"`
		}
		lines := strings.Split(strings.TrimSpace(procs[i].stdout.String()), "\n")
		require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &sum), "node %d printed its summary: %s", i, tail(procs[i].stderr.String(), 12))
		assert.Equal(t, uint64(bins), sum.Bins, "node %d decoded to the end", i)
		require.NotNil(t, sum.Recording)
		recorded[i] = sum.Recording.Recorded
		assert.Equal(t, uint64(bins), sum.Recording.Recorded+sum.Recording.Gaps, "node %d: every bin recorded or counted", i)
		switch {
		case at >= 10*time.Second && i == last && sum.Recording.Gaps > 0:
			// The other survivor's process has exited and taken its node
			// with it: two of three nodes are gone, an R3 stream has no
			// quorum, and the bins still unacknowledged are counted at
			// close. Nothing may be lost before that.
			errb := procs[i].stderr.String()
			t.Logf("node %d, last to exit: %d bins unacknowledged when the other survivor had left", i, sum.Recording.Gaps)
			assert.LessOrEqual(t, sum.Recording.Gaps, uint64(100), "node %d: only the last bins (2 s) wait for a quorum at the end", i)
			assert.Contains(t, errb, "not acknowledged before the recorder closed", "node %d", i)
			assert.NotContains(t, errb, "not stored in time", "node %d: no gap while decoding", i)
			assert.NotContains(t, errb, "recorder buffer full", "node %d: no gap while decoding", i)
		case at >= 10*time.Second: // the cluster had formed
			assert.NoError(t, err, "node %d: %s", i, tail(procs[i].stderr.String(), 12))
			assert.Zero(t, sum.Recording.Gaps, "node %d: no gap", i)
		case sum.Recording.Gaps > 0:
			t.Logf("node %d: %d gaps while JetStream recovered from losing a node during formation", i, sum.Recording.Gaps)
		}
	}
	checkRecordings(t, data, client, routes, cluster, victim, recorded)
}

// checkRecordings restarts the cluster's surviving nodes' stores as a
// cluster of two (the third node stays dead) and reads every survivor's
// session back: at least the bins it recorded are there.
func checkRecordings(t *testing.T, data string, client, routes, cluster []string, victim int, recorded []uint64) {
	var urls []string
	for i := range client {
		if i == victim {
			continue
		}
		srv, err := bus.StartServer(bus.ServerOptions{Listen: client[i], DataDir: data, Name: fmt.Sprintf("n%d", i),
			ClusterListen: cluster[i], Routes: routes})
		require.NoError(t, err)
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = srv.Shutdown(ctx)
		}()
		urls = append(urls, srv.ClientURL())
	}
	nc, err := bus.Connect(urls[0], bus.ConnectOptions{Name: "check"})
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	for i := range client {
		if i == victim {
			continue
		}
		name := fmt.Sprintf("s%d", i)
		require.Eventually(t, func() bool {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			s, err := js.Stream(ctx, bus.StreamName(name))
			if err != nil {
				return false
			}
			info, err := s.Info(ctx, jetstream.WithSubjectFilter(bus.BinsSubject(name)))
			return err == nil && info.State.Subjects[bus.BinsSubject(name)] >= recorded[i]
		}, 30*time.Second, 200*time.Millisecond, "every recorded bin of %s reads back from the cluster", name)
	}
}

// tail returns the last n lines of s that are not informational logs.
func tail(s string, n int) string {
	var keep []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if !strings.Contains(l, `"level":"info"`) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep[max(0, len(keep)-n):], "\n")
}
