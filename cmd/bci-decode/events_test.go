package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/internal/testkit"
)

// TestEventsCommand lists a recorded session's events from its store: a
// table, or the events as recorded with --json; a message that is not an
// event is named on stderr and the rest still listed; a session without
// events says so.
func TestEventsCommand(t *testing.T) {
	store := filepath.Join(t.TempDir(), "js")
	func() { // record, then let the server go: the command opens the store itself
		ctx := context.Background()
		srv, err := bus.StartServer(bus.ServerOptions{Listen: "127.0.0.1:0", DataDir: store})
		require.NoError(t, err)
		defer func() {
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			require.NoError(t, srv.Shutdown(sctx))
		}()
		nc := testkit.Connect(t, srv.ClientURL())
		defer nc.Close()
		js, err := jetstream.New(nc)
		require.NoError(t, err)
		shape := acquire.Shape{Channels: 2, BinWidth: 20 * time.Millisecond}
		for _, s := range []string{"ev", "quiet"} {
			_, err = bus.EnsureStream(ctx, js, s, bus.SessionInfo{Shape: shape}, 1)
			require.NoError(t, err)
		}
		for _, data := range []string{
			`{"kind":"lsl-marker","time":1795500000840000000,"stream":"task","values":["go"]}`,
			`garbage`,
			`{"kind":"lsl-clock","time":1795500002000000000,"lsl_time":1236.66,"stream":"neural"}`,
		} {
			_, err := js.Publish(ctx, bus.EventsSubject("ev"), []byte(data))
			require.NoError(t, err)
		}
	}()

	code, out, stderr := cli(t, "events", "--session", "ev", "--data-dir", store)
	require.Equal(t, 0, code, stderr)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3, out)
	assert.Regexp(t, `^2\s+2026-11-24T06:00:00.840000Z\s+lsl-marker\s+task\s+values=\["go"\]$`, lines[1])
	assert.Regexp(t, `^4\s+2026-11-24T06:00:02.000000Z\s+lsl-clock\s+neural\s+lsl_time=1236.66$`, lines[2])
	assert.Contains(t, stderr, `stream BCI_ev message 3 is not a JSON object: \"garbage\"`)

	code, out, stderr = cli(t, "events", "--session", "ev", "--data-dir", store, "--json")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, `{"kind":"lsl-marker","time":1795500000840000000,"stream":"task","values":["go"]}`+"\n"+
		`{"kind":"lsl-clock","time":1795500002000000000,"lsl_time":1236.66,"stream":"neural"}`+"\n", out)

	code, out, stderr = cli(t, "events", "--session", "quiet", "--data-dir", store)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "session quiet recorded no events (0 messages skipped)\n", out)

	code, _, stderr = cli(t, "events", "--session", "nosuch", "--data-dir", store)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "does not exist")
}
