package bus_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/internal/testkit"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// TestClusterReplicatesRecordings starts a three-node cluster of embedded
// servers, records bins into an R3 session stream, stops one node, and
// reads every bin back through another.
func TestClusterReplicatesRecordings(t *testing.T) {
	const nodes = 3
	dir := t.TempDir()
	var routes []string
	var listens []string
	for range nodes {
		a := freeAddr(t)
		listens = append(listens, a)
		routes = append(routes, "nats://"+a)
	}
	var servers []*bus.Server
	for i := range nodes {
		servers = append(servers, testkit.Server(t, bus.ServerOptions{
			Name: fmt.Sprintf("n%d", i), DataDir: dir, ClusterListen: listens[i], Routes: routes,
		}))
	}
	nc := testkit.Connect(t, servers[0].ClientURL())
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stream jetstream.Stream
	require.Eventually(t, func() bool { // until the cluster has elected a meta leader
		actx, acancel := context.WithTimeout(ctx, 2*time.Second)
		defer acancel()
		stream, err = bus.EnsureStream(actx, js, "r3", bus.SessionInfo{Shape: acquire.Shape{Channels: 2, BinWidth: 20 * time.Millisecond}}, 3)
		if err != nil {
			t.Log(err)
		}
		return err == nil
	}, 20*time.Second, 200*time.Millisecond, "R3 stream: %v", err)
	assert.Equal(t, 3, stream.CachedInfo().Config.Replicas)
	for i := range 100 {
		_, err := js.Publish(ctx, bus.BinsSubject("r3"), []byte(fmt.Sprint(i)))
		require.NoError(t, err)
	}
	models, err := bus.OpenModels(ctx, js, 3)
	require.NoError(t, err, "an R3 model bucket")
	require.NotNil(t, models)

	// Lose the node the client is on; read from another.
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	require.NoError(t, servers[0].Shutdown(sctx))
	nc2 := testkit.Connect(t, servers[2].ClientURL())
	js2, err := jetstream.New(nc2)
	require.NoError(t, err)
	require.Eventually(t, func() bool { // until the stream has a new leader
		actx, acancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer acancel()
		s, err := js2.Stream(actx, bus.StreamName("r3"))
		if err != nil {
			return false
		}
		info, err := s.Info(actx, jetstream.WithSubjectFilter(bus.BinsSubject("r3")))
		return err == nil && info.State.Subjects[bus.BinsSubject("r3")] == 100
	}, 30*time.Second, 200*time.Millisecond, "all 100 bins readable after losing a node")
}
