package lsl

import (
	"math"
	"testing"
	"time"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/frontend"
	"github.com/bci-decode/bci-decode/internal/testkit"
	"github.com/bci-decode/bci-decode/session"
)

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
	ended := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	st := sourceStats(t, res).ClockEvents
	if st == nil || st.Recorded < 1 || st.Recorded != st.Published || st.Errors != 0 {
		t.Fatalf("clock events in the summary %+v, want at least one, all recorded", st)
	}
	events := recordedEvents[ClockEvent](t, ctx, nc, res.Session, int(st.Recorded)+1) // and the last, at Close
	for i, ev := range events {
		local := FromUnixNano(ev.Time)
		if ev.Kind != KindClock || ev.Stream != "bci-clk-neural" || !(ev.RTT > 0) || math.Abs(ev.LSLTime-local) > 1e-3 ||
			math.Abs(ev.LSLTime+ev.ClockOffset-local) > 1e-6 || i > 0 && ev.Time <= events[i-1].Time {
			t.Fatalf("clock event %d: %+v (this machine's LSL clock %.6f)", i, ev, local)
		}
	}
	t.Logf("%d clock readings; the last: offset %.1f µs, rtt %.1f µs", len(events), events[len(events)-1].ClockOffset*1e6, events[len(events)-1].RTT*1e6)
	if last := events[len(events)-1]; last.Time < ended.UnixNano() {
		t.Fatalf("the last clock reading (%d) is from before the session ended (%d)", last.Time, ended.UnixNano())
	}
}
