package lsl

import (
	"context"
	"encoding/json"
	"flag"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/frontend"
	"github.com/bci-decode/bci-decode/internal/testkit"
	"github.com/bci-decode/bci-decode/pipeline"
	"github.com/bci-decode/bci-decode/session"
)

// TestMarkersRecordedAsEvents: liblsl's SendStringMarkers runs beside a
// recorded session switched on with --lsl-markers; the session's stream
// keeps its markers as events, in the order liblsl sent them, with both
// clocks' stamps.
func TestMarkersRecordedAsEvents(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	start(t, example(t, "SendData"), "bci-mk-neural", "Spikes", "96", "50").expect(t, "Now sending data", 20*time.Second)
	mk := start(t, example(t, "SendStringMarkers"), "bci-mk-markers")
	mk.expect(t, "Now sending markers", 20*time.Second)
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	outputs := pipeline.BindFlags(fs).Outputs()
	if err := fs.Parse([]string{"--lsl-markers", "name='bci-mk-markers'"}); err != nil {
		t.Fatal(err)
	}
	s := openStream(t, ctx, "lsl:name='bci-mk-neural'", "lslmk", frontend.Options{})
	nc := natsConn(t)
	res := runFor(t, ctx, 6*time.Second, session.Options{Session: "lslmk", Source: s, Model: testkit.Kalman(t, acquire.SimConfig{Bins: 2000}),
		Record: true, Outputs: outputs, Services: []any{testConfig(t)}, Conn: nc})
	st, ok := res.Outputs["lsl-markers"].(MarkerStats)
	if !ok || st.Recorded < 3 || st.Recorded != st.Markers || st.Errors != 0 {
		t.Fatalf("lsl-markers report %+v (want at least 3 markers in 6 s, all recorded)", res.Outputs["lsl-markers"])
	}
	events := recordedEvents[Event](t, ctx, nc, res.Session, int(st.Recorded))
	var sent []string
	for _, l := range mk.allOutput() {
		if m, ok := strings.CutPrefix(l, "now sending: "); ok {
			sent = append(sent, m)
		}
	}
	first := -1
	for i := range sent {
		if i+len(events) <= len(sent) && sent[i] == events[0].Values[0] && matches(sent[i:i+len(events)], events) {
			first = i
			break
		}
	}
	if first < 0 {
		t.Fatalf("recorded %+v, not a run of the markers sent %v", events, sent)
	}
	for i, ev := range events {
		mapped := ToUnixNano(ev.LSLTime + ev.ClockOffset)
		if ev.Kind != KindMarker || ev.Stream != "bci-mk-markers" || ev.SourceID != "id23443" || math.Abs(float64(mapped-ev.Time)) > 50e6 || i > 0 && ev.Time <= events[i-1].Time {
			t.Fatalf("event %d: %+v (lsl stamp maps to %d)", i, ev, mapped)
		}
	}
}

// TestClockRecordedAsEvents: a recorded session decoding liblsl's
// SendData through lsl: keeps the stream's clock readings among its
// events, one per clock-offset probe and a last one when the source
// closes, each mapping this machine's clock to the sender's. Sender and
// receiver share a machine here, so the sender's clock is the local LSL
// clock, which the readings must show within a millisecond.
func TestClockRecordedAsEvents(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	start(t, example(t, "SendData"), "bci-clk-neural", "Spikes", "96", "50").expect(t, "Now sending data", 20*time.Second)
	nc := natsConn(t)
	s, err := frontend.Open(ctx, "lsl:name='bci-clk-neural'", frontend.OpenOptions{Source: acquire.Params{Session: "lslclk", Services: []any{testConfig(t), nc}}})
	if err != nil {
		t.Fatal(err)
	}
	res := runFor(t, ctx, 5*time.Second, session.Options{Session: "lslclk", Source: s, Model: testkit.Kalman(t, acquire.SimConfig{Bins: 2000}),
		Record: true, Conn: nc})
	ended := ToUnixNano(LocalClock()) // the readings' clock (and the bins'), not the wall clock, which may have been stepped since
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	st := sourceStats(t, res).ClockEvents
	if st == nil || st.Recorded < 1 || st.Recorded != st.Published || st.Errors != 0 {
		t.Fatalf("clock events in the summary %+v, want at least one, all recorded", st)
	}
	n := eventCount(t, ctx, nc, res.Session) // the summary's, a later tick's and the last, at Close
	if n < int(st.Recorded)+1 {
		t.Fatalf("the recording holds %d clock readings, the summary counted %d and one came at close", n, st.Recorded)
	}
	events := recordedEvents[ClockEvent](t, ctx, nc, res.Session, n)
	for i, ev := range events {
		local := FromUnixNano(ev.Time)
		if ev.Kind != KindClock || ev.Stream != "bci-clk-neural" || !(ev.RTT > 0) || math.Abs(ev.LSLTime-local) > 1e-3 ||
			math.Abs(ev.LSLTime+ev.ClockOffset-local) > 1e-6 || i > 0 && ev.Time <= events[i-1].Time {
			t.Fatalf("clock event %d: %+v (this machine's LSL clock %.6f)", i, ev, local)
		}
	}
	t.Logf("%d clock readings; the last: offset %.1f µs, rtt %.1f µs", len(events), events[len(events)-1].ClockOffset*1e6, events[len(events)-1].RTT*1e6)
	if last := events[len(events)-1]; last.Time < ended {
		t.Fatalf("the last clock reading (%d) is from before the session ended (%d)", last.Time, ended)
	}
}

func matches(sent []string, events []Event) bool {
	for i, ev := range events {
		if len(ev.Values) != 1 || ev.Values[0] != sent[i] {
			return false
		}
	}
	return true
}

// sessionStream opens the stream recording a session.
func sessionStream(t *testing.T, ctx context.Context, nc *nats.Conn, sess string) jetstream.Stream {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(ctx, bus.StreamName(sess))
	if err != nil {
		t.Fatal(err)
	}
	return stream
}

// eventCount is the number of events a session's recording holds.
func eventCount(t *testing.T, ctx context.Context, nc *nats.Conn, sess string) int {
	t.Helper()
	info, err := sessionStream(t, ctx, nc, sess).Info(ctx, jetstream.WithSubjectFilter(bus.EventsSubject(sess)))
	if err != nil {
		t.Fatal(err)
	}
	return int(info.State.Subjects[bus.EventsSubject(sess)])
}

// recordedEvents reads the n events a session's recording kept.
func recordedEvents[T any](t *testing.T, ctx context.Context, nc *nats.Conn, sess string, n int) []T {
	t.Helper()
	c, err := sessionStream(t, ctx, nc, sess).OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{bus.EventsSubject(sess)}})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := c.Fetch(n, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var out []T
	for m := range batch.Messages() {
		var ev T
		if err := json.Unmarshal(m.Data(), &ev); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	if len(out) != n {
		t.Fatalf("the recording holds %d events, want %d", len(out), n)
	}
	return out
}
