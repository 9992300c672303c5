package lsl

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/pipeline"
)

// The --lsl-markers plug-in: the markers of an LSL string stream (task
// events from a stimulus program, say) become the session's events on
// bci.<session>.events, which a recorded session's stream keeps.
func init() {
	pipeline.Register(pipeline.Plugin{Name: "lsl-markers", Flags: func(fs *flag.FlagSet) pipeline.Binding {
		pred := fs.String("lsl-markers", "", "LSL string stream whose markers become session events on bci.<session>.events, kept by --record (a predicate, e.g. type='Markers'; empty: none)")
		return pipeline.Binding{Output: func(_ context.Context, env *pipeline.Env) (pipeline.Output, error) {
			if *pred == "" {
				return nil, nil
			}
			nc, ok := pipeline.Service[*nats.Conn](env)
			if !ok {
				return nil, errors.New("lsl-markers: no NATS connection")
			}
			cfg, err := configFrom(env.Services)
			if err != nil {
				return nil, err
			}
			return NewMarkerRecorder(cfg, nc, MarkerOptions{Predicate: *pred, Session: env.Session, Log: env.Log})
		}}
	}})
}

// MarkerOptions configure a MarkerRecorder.
type MarkerOptions struct {
	// Predicate selects the marker stream (one string stream).
	Predicate string
	// Session names the events subject (bci.<session>.events).
	Session string
	// ResolveTimeout bounds the wait for the stream (default 10 s).
	ResolveTimeout time.Duration
	Log            zerolog.Logger
}

// Event is one marker as the session's events carry it (kind
// "lsl-marker"): the stamp mapped to this machine's clock, and the
// sender's own LSL stamp with the clock offset that mapped it, so a
// recording keeps both clocks.
type Event struct {
	Kind        string   `json:"kind"`
	Time        int64    `json:"time"`
	LSLTime     float64  `json:"lsl_time"`
	ClockOffset float64  `json:"clock_offset"`
	Stream      string   `json:"stream"`
	SourceID    string   `json:"source_id,omitempty"`
	Values      []string `json:"values"`
}

// MarkerRecorder publishes each marker of a string stream as an Event,
// through JetStream so that a recording session's stream acknowledges it.
// It runs on its own goroutine; the decoding loop never sees it. It is a
// pipeline.Output (a sink that ignores intents).
type MarkerRecorder struct {
	cfg    *Config
	opts   MarkerOptions
	events *eventPublisher
	in     atomic.Pointer[Inlet] // set by Start
	cancel context.CancelFunc
	done   chan struct{}
}

// NewMarkerRecorder prepares a recorder; Start finds the marker stream.
func NewMarkerRecorder(cfg *Config, nc *nats.Conn, opts MarkerOptions) (*MarkerRecorder, error) {
	if opts.ResolveTimeout <= 0 {
		opts.ResolveTimeout = 10 * time.Second
	}
	if err := bus.ValidateSession(opts.Session); err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("lsl-markers: %w", err)
	}
	return &MarkerRecorder{cfg: cfg, opts: opts, done: make(chan struct{}),
		events: &eventPublisher{js: js, subject: bus.EventsSubject(opts.Session), what: "lsl-markers", log: opts.Log}}, nil
}

// Consume implements pipeline.Sink: intents are not its business.
func (m *MarkerRecorder) Consume(*decoder.Intent, *acquire.Bin) {}

// Start implements pipeline.Output: it resolves the marker stream (one
// string stream), opens an inlet on it and starts publishing.
func (m *MarkerRecorder) Start(ctx context.Context) error {
	info, err := resolveOne(ctx, m.cfg, m.opts.Predicate, m.opts.ResolveTimeout)
	if err != nil {
		return err
	}
	if info.Format != String {
		return fmt.Errorf("lsl-markers %s: %q is a %v stream, not markers", m.opts.Predicate, info.Name, info.Format)
	}
	in, err := OpenInlet(ctx, m.cfg, info, InletOptions{MaxBuffered: 10 * time.Second, Recover: true, Query: m.opts.Predicate})
	if err != nil {
		return fmt.Errorf("lsl-markers %s: %w", m.opts.Predicate, err)
	}
	m.in.Store(in)
	ctx, m.cancel = context.WithCancel(ctx)
	go m.run(ctx, in)
	return nil
}

func (m *MarkerRecorder) run(ctx context.Context, in *Inlet) {
	defer close(m.done)
	info := in.Info()
	nch := info.ChannelCount
	vals, stamps, remote := make([]string, 64*nch), make([]int64, 64), make([]float64, 64)
	for {
		n, err := in.PullStrings(ctx, vals, stamps, remote)
		if err != nil {
			if ctx.Err() == nil {
				m.opts.Log.Error().Err(err).Str("stream", info.Name).Msg("lsl-markers: the marker stream is lost")
			}
			return
		}
		offset := in.TimeCorrection().Correction
		for i := range n {
			ev := Event{Kind: KindMarker, Time: stamps[i], LSLTime: remote[i], ClockOffset: offset, Stream: info.Name, SourceID: info.SourceID, Values: vals[i*nch : (i+1)*nch]}
			m.events.publish(ctx, &ev, "lsl-"+info.UID+"-"+strconv.FormatInt(ev.Time, 10))
		}
	}
}

// Close implements pipeline.Output: markers after the session's end are
// not its events.
func (m *MarkerRecorder) Close(ctx context.Context) error {
	in := m.in.Load()
	if in == nil {
		return nil // never started
	}
	m.cancel()
	select {
	case <-m.done:
	case <-ctx.Done():
		return fmt.Errorf("lsl-markers: %w", ctx.Err())
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	return in.Close(cctx)
}

// MarkerStats are what the recorder reports.
type MarkerStats struct {
	Stream      string `json:"stream"`
	Markers     uint64 `json:"markers"`
	Recorded    uint64 `json:"recorded"`
	NotRecorded uint64 `json:"not_recorded"`
	Errors      uint64 `json:"errors"`
	Lost        uint64 `json:"lost_samples"`
}

// Report implements pipeline.Reporter.
func (m *MarkerRecorder) Report() (string, any) {
	c := m.events.counts()
	st := MarkerStats{Markers: c.Published, Recorded: c.Recorded, NotRecorded: c.NotRecorded, Errors: c.Errors}
	if in := m.in.Load(); in != nil {
		is := in.Stats()
		st.Stream, st.Lost = in.Info().Name, is.LostSamples+is.DroppedStale
	}
	return "lsl-markers", st
}
