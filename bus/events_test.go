package bus_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestReadEventsSkipsWhatIsNotAnObject records a session's events as the
// LSL plug-ins publish them, an event of a kind this program does not
// know, and two messages that are not JSON objects: the events read back
// in order, the other two are reported with their places, and the table
// (golden file) shows every field of every event.
func TestReadEventsSkipsWhatIsNotAnObject(t *testing.T) {
	ctx := context.Background()
	nc := testkit.Connect(t, testkit.Server(t, bus.ServerOptions{}).ClientURL())
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	const session = "events"
	_, err = bus.EnsureStream(ctx, js, session, bus.SessionInfo{Shape: acquire.Shape{Channels: 2, BinWidth: 20 * time.Millisecond}}, 1)
	require.NoError(t, err)
	for _, data := range []string{
		`{"kind":"lsl-marker","time":1795500000840000000,"lsl_time":1234.5,"clock_offset":-2.5e-05,"stream":"task","source_id":"stim1","values":["trial 1","target 3"]}`,
		`not json`,
		`{"kind":"lsl-clock","time":1795500002000000000,"lsl_time":1236.66,"clock_offset":-2.5e-05,"rtt":5.2e-05,"stream":"neural"}`,
		`[1, 2]`,
		"{\n  \"kind\": \"door\",\n  \"time\": 1795500003000000000,\n  \"state\": {\"open\": true}\n}",
		`{"note":"no kind, no time"}`,
	} {
		_, err := js.Publish(ctx, bus.EventsSubject(session), []byte(data))
		require.NoError(t, err)
	}
	events, bad, err := bus.ReadEvents(ctx, js, session)
	require.NoError(t, err)
	require.Len(t, events, 4)
	require.Len(t, bad, 2)
	assert.Contains(t, bad[0].Error(), `stream BCI_events message 3 is not a JSON object: "not json"`)
	assert.Contains(t, bad[1].Error(), `message 5 is not a JSON object: "[1, 2]"`)
	assert.JSONEq(t, `{"kind":"door","time":1795500003000000000,"state":{"open":true}}`, string(events[2].Data))
	assert.NotContains(t, string(events[2].Data), "\n", "events are kept compact, one per line")

	var got bytes.Buffer
	require.NoError(t, bus.WriteEventTable(&got, events))
	path := filepath.Join("testdata", "events.golden")
	if *update {
		require.NoError(t, os.WriteFile(path, got.Bytes(), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), got.String())
}

// FuzzWriteEventTable: any bytes as an event make a line, never a panic.
func FuzzWriteEventTable(f *testing.F) {
	f.Add([]byte(`{"kind":"lsl-marker","time":1,"values":["a"]}`))
	f.Add([]byte(`{"time":"soon","kind":3}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"kind":"a\nb","stream":"\t"}`))
	f.Add([]byte(`{"a\nb":1,"x\ty":2,"time":"soon"}`))
	f.Add([]byte("{\"x\":\n1}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var b bytes.Buffer
		if err := bus.WriteEventTable(&b, []bus.RecordedEvent{{StreamSeq: 1, Data: data}}); err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(b.Bytes(), []byte("\n")); n != 2 {
			t.Fatalf("%d lines for %q, want the header and one: %q", n, data, b.Bytes())
		}
	})
}
