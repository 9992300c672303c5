package lsl

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/bci-decode/bci-decode/bus"
)

// ClockEvent is one reading of a source stream's clock, as the session's
// events carry it (kind "lsl-clock"): at Time on this machine's clock, the
// clock a session's bins and intents are stamped in, the outlet's own LSL
// clock read LSLTime. A recording keeps one per new clock-offset estimate,
// as an XDF file keeps ClockOffset chunks, so a bin's time maps back to the
// sender's clock (to align it with what LabRecorder recorded, say):
// LSLTime + (bin time - Time)/1e9 from the reading nearest the bin, or
// interpolated between the two around it.
type ClockEvent struct {
	Kind string `json:"kind"`
	Time int64  `json:"time"`
	// LSLTime is the outlet's clock at Time, in seconds.
	LSLTime float64 `json:"lsl_time"`
	// ClockOffset is the correction in force (local minus outlet LSL
	// clock, seconds); RTT the round trip of its probe, which bounds its
	// error.
	ClockOffset float64 `json:"clock_offset"`
	RTT         float64 `json:"rtt"`
	Stream      string  `json:"stream"`
	SourceID    string  `json:"source_id,omitempty"`
}

// clockRecorder publishes a source's clock readings on its session's
// events subject: each new clock-offset estimate, looked for as often as
// the inlet probes, and a last reading when the source closes, so that
// readings bracket every bin. It runs on its own goroutine, which stop
// waits for.
type clockRecorder struct {
	in     *Inlet
	events *eventPublisher
	every  time.Duration
	cancel context.CancelFunc
	done   chan struct{}
}

// startClockRecorder starts recording in's clock readings for session.
func startClockRecorder(nc *nats.Conn, session string, in *Inlet, every time.Duration, log zerolog.Logger) (*clockRecorder, error) {
	if err := bus.ValidateSession(session); err != nil {
		return nil, fmt.Errorf("lsl clock events: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("lsl clock events: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &clockRecorder{in: in, every: every, cancel: cancel, done: make(chan struct{}),
		events: &eventPublisher{js: js, subject: bus.EventsSubject(session), what: "lsl clock events", log: log}}
	go c.run(ctx)
	return c, nil
}

// run publishes each new estimate. The first goes out one interval after
// the source opened, once the session (and its recording) has started.
func (c *clockRecorder) run(ctx context.Context) {
	defer close(c.done)
	t := time.NewTicker(c.every)
	defer t.Stop()
	var last TimeEstimate
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if est := c.in.TimeCorrection(); est != last {
			last = est
			c.publish(ctx, est)
		}
	}
}

// publish reads the clocks now under est.
func (c *clockRecorder) publish(ctx context.Context, est TimeEstimate) {
	info := c.in.Info()
	local := LocalClock()
	ev := ClockEvent{Kind: KindClock, Time: ToUnixNano(local), LSLTime: local - est.Correction, ClockOffset: est.Correction, RTT: est.RTT,
		Stream: info.Name, SourceID: info.SourceID}
	c.events.publish(ctx, &ev, "lsl-clock-"+info.UID+"-"+strconv.FormatInt(ev.Time, 10))
}

// stop ends the recorder's goroutine.
func (c *clockRecorder) stop() {
	c.cancel()
	<-c.done
}

// publishLast publishes the last reading; the inlet may be closed.
func (c *clockRecorder) publishLast() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c.publish(ctx, c.in.TimeCorrection())
}
