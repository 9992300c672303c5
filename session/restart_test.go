package session_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/replay"
	"github.com/bci-decode/bci-decode/session"
)

// externalServer runs Debian's nats-server binary, as an operator would.
type externalServer struct {
	t    *testing.T
	bin  string
	addr string
	dir  string
	cmd  *exec.Cmd
}

func newExternalServer(t *testing.T) *externalServer {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if os.Getenv("BCI_REQUIRE_NATS_SERVER") == "1" {
			t.Fatal("nats-server is not installed but BCI_REQUIRE_NATS_SERVER=1 (.ci/run installs Debian's nats-server)")
		}
		t.Skip("nats-server binary not found (apt-get install nats-server); .ci/run installs it")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	s := &externalServer{t: t, bin: bin, addr: addr, dir: t.TempDir()}
	s.start()
	t.Cleanup(s.kill)
	return s
}

func (s *externalServer) url() string { return "nats://" + s.addr }

func (s *externalServer) start() {
	host, port, _ := net.SplitHostPort(s.addr)
	s.cmd = exec.Command(s.bin, "-a", host, "-p", port, "-js", "-sd", s.dir)
	require.NoError(s.t, s.cmd.Start())
	require.Eventually(s.t, func() bool {
		c, err := net.DialTimeout("tcp", s.addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 10*time.Second, 20*time.Millisecond, "nats-server did not start")
}

// kill ends the server abruptly, as a crash or a power cut of its host
// process would.
func (s *externalServer) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

// TestSurvivesServerRestart kills the external NATS server mid-session and
// starts it again: decoding never stops, publishing resumes after the
// reconnect, every bin is either recorded or counted as a gap, and what was
// recorded before the crash is still in the stream afterwards.
func TestSurvivesServerRestart(t *testing.T) {
	srv := newExternalServer(t)
	nc, err := bus.Connect(srv.url(), bus.ConnectOptions{Name: "decoder"})
	require.NoError(t, err)
	defer nc.Close()
	// The subscriber reconnects faster than the decoder (10 ms, without jitter, against
	// 250 ms), so it is back before publishing resumes and every intent it
	// misses is one the decoder could not deliver.
	sub, err := nats.Connect(srv.url(), nats.MaxReconnects(-1), nats.ReconnectWait(10*time.Millisecond), nats.ReconnectJitter(0, 0))
	require.NoError(t, err)
	defer sub.Close()
	var mu sync.Mutex
	var got []uint64
	_, err = sub.Subscribe(bus.IntentSubject("crash"), func(m *nats.Msg) {
		if m.Header.Get(bus.HeaderWatchdog) != "" {
			return // watchdog intents repeat a seq
		}
		mu.Lock()
		defer mu.Unlock()
		var seq uint64
		fmt.Sscan(m.Header.Get(bus.HeaderSeq), &seq)
		got = append(got, seq)
	})
	require.NoError(t, err)
	require.NoError(t, sub.Flush())

	const bins = 1200 // 6 s of 5 ms bins, in real time: time to reconnect on a loaded machine
	m := model(t, "kalman", 1, 5e6)
	var res session.Result
	var runErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		res, runErr = session.Run(context.Background(), session.Options{
			Session: "crash", Conn: nc, Source: simSource(t, 2, bins, true), Realtime: true,
			Model: m, Record: true,
		})
	}()
	time.Sleep(time.Second)
	srv.kill()
	time.Sleep(500 * time.Millisecond)
	srv.start()
	<-done
	require.NoError(t, runErr)

	assert.Equal(t, uint64(bins), res.Stats.Bins, "decoding never stopped")
	assert.Equal(t, uint64(bins), res.Publish.Published+res.Publish.Dropped, "every intent published or counted")
	require.NotNil(t, res.Record)
	assert.Equal(t, uint64(bins), res.Record.Recorded+res.Record.Gaps, "every bin recorded or counted as a gap")
	t.Logf("published %d, dropped %d; recorded %d, gaps %d", res.Publish.Published, res.Publish.Dropped, res.Record.Recorded, res.Record.Gaps)

	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) > 0 && got[len(got)-1] == bins-1
	}, 5*time.Second, 20*time.Millisecond, "the subscriber hears the end of the session after the restart")
	mu.Lock()
	heard := map[uint64]bool{}
	for _, s := range got {
		heard[s] = true
	}
	mu.Unlock()
	missed := uint64(bins - len(heard))
	assert.Positive(t, missed, "an outage of half a second loses intents")
	assert.Equal(t, missed, res.Publish.Dropped, "every intent the subscriber missed is counted as dropped, and no other")
	assert.Equal(t, uint64(len(heard)), res.Publish.Published)

	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx := context.Background()
	stream, err := js.Stream(ctx, bus.StreamName("crash"))
	require.NoError(t, err)
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter(bus.BinsSubject("crash")))
	require.NoError(t, err)
	stored := info.State.Subjects[bus.BinsSubject("crash")]
	// A bin whose acknowledgement was lost in the crash is counted as a
	// gap although the server may have stored it: recording is at least
	// what was acknowledged, never more than what was decoded.
	assert.GreaterOrEqual(t, stored, res.Record.Recorded, "every acknowledged bin is in the stream after the restart")
	assert.LessOrEqual(t, stored, uint64(bins))
	first, err := stream.GetMsg(ctx, 1, jetstream.WithGetMsgSubject(bus.BinsSubject("crash")))
	require.NoError(t, err)
	seq, ok := seqOfMsg(first.Data)
	require.True(t, ok)
	assert.Equal(t, uint64(0), seq, "bins from before the crash survived it")

	// The recording reads back on this server (Debian's is 2.9, which
	// keeps no stream metadata): replay, export and retrain work on it.
	src, err := replay.Open(ctx, js, "crash", replay.Range{})
	require.NoError(t, err)
	defer src.Close()
	assert.Equal(t, 96, src.Info().Shape.Channels)
	assert.Equal(t, 5*time.Millisecond, src.Info().Shape.BinWidth)
	set, _, err := replay.ReadSet(ctx, js, "crash")
	require.NoError(t, err)
	assert.Equal(t, int(stored), set.Len())
}
