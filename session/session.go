// Package session runs one live decoding session: the pipeline loop and the
// outputs it feeds (the intent publisher, the recorders, the input
// watchdog, and any output plug-in), with the control verbs (swap, pause,
// resume, info) on NATS. A session is built, its outputs are started, the
// loop runs to the end of the source, and the outputs are closed in reverse
// order: gracefully (drain, flush, wait for acknowledgements) within a
// bound, then at once.
package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/internal/rtsched"
	"github.com/bci-decode/bci-decode/pipeline"
)

// Options configures a session.
type Options struct {
	// Session names the subjects and the recording stream (required).
	Session string
	// Conn is the NATS connection to publish on (required).
	Conn *nats.Conn
	// Source delivers the bins; its Shape is checked against Model once.
	Source pipeline.BinReader
	// Model decodes from the first bin.
	Model *decoder.Loaded
	// Output shapes intents.
	Output decoder.OutputOptions
	// Realtime marks a live stream: outputs never make the loop wait
	// (a full buffer is a counted loss) and the watchdog runs. Runs that
	// go as fast as possible leave it off and lose nothing.
	Realtime bool
	// Record keeps the session's bins and intents in the JetStream stream
	// BCI_<session> and its model in the bci-models object store.
	Record bool
	// Overwrite lets Record replace an earlier recording of the session.
	Overwrite bool
	// Replicas is the replica count of the stream and bucket (default 1).
	Replicas int
	// Append records into an existing recording of the session instead of
	// refusing it (a process taking a session over).
	Append bool
	// MsgIDPrefix gives recorded bins JetStream message ids, so bins
	// recorded twice across a takeover are stored once.
	MsgIDPrefix string
	// SnapshotEvery, with Record and a decoder that is a
	// decoder.StateSaver, checkpoints the decoder state on
	// bci.<session>.snapshot every that many bins.
	SnapshotEvery int
	// Process and Takeover are stamped on every intent.
	Process  string
	Takeover bool
	// Raw, when set with Record, is a continuous source whose raw frames
	// are recorded too, on bci.<session>.raw.
	Raw interface {
		Tap(func(*acquire.Frame))
	}
	// Control serves bci.<session>.control.* (needs JetStream for swaps).
	Control bool
	// Watchdog, when its StaleAfter is set in a real-time session,
	// publishes stale and then halted intents while input is missing.
	Watchdog bus.WatchdogOptions
	// Outputs build further outputs (plug-ins) for the session.
	Outputs []pipeline.Factory
	// Sinks receive every intent after the outputs; they have no life
	// cycle (a scorer, say).
	Sinks []pipeline.Sink
	// Services are handed to the outputs' factories (see pipeline.Env);
	// Conn is always among them.
	Services []any
	// Owner, when set, names this process in the session's lease: the
	// session runs only while the process holds it (see bus.Lease), so two
	// processes never decode one session; a session held elsewhere is
	// refused with bus.ErrLeased, and losing the lease stops decoding.
	// Placement workers hold their leases themselves and leave it empty.
	Owner string
	// LeaseTTL is how long the lease outlives a dead owner (default 1 s).
	LeaseTTL time.Duration
	// CloseTimeout bounds the graceful close of the outputs (default 15 s).
	CloseTimeout time.Duration
	// StartupTimeout bounds how long setting up the recording and the
	// model store may retry while JetStream does not answer (default 30
	// s: a cluster that lost a node is back within seconds).
	StartupTimeout time.Duration
	// Priority, in a real-time session, runs the decoding loop's thread at
	// this SCHED_FIFO priority (0: the default policy): a dashboard page
	// or a training job on the same machine then cannot delay a bin.
	Priority int
	// Log receives the session's events.
	Log zerolog.Logger
}

// EnsureDefaults fills the zero fields of o with their defaults.
func (o *Options) EnsureDefaults() {
	o.Replicas = max(o.Replicas, 1)
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = 15 * time.Second
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = time.Second
	}
	if o.StartupTimeout <= 0 {
		o.StartupTimeout = 30 * time.Second
	}
	o.Output.EnsureDefaults()
}

// Validate reports options that cannot make a session.
func (o *Options) Validate() error {
	switch {
	case o.Conn == nil || o.Source == nil || o.Model == nil:
		return errors.New("session: a connection, a source and a model are required")
	case o.Raw != nil && !o.Record:
		return errors.New("session: recording raw frames needs Record")
	case o.SnapshotEvery < 0:
		return fmt.Errorf("session: snapshot every %d bins", o.SnapshotEvery)
	}
	if err := o.Output.Validate(); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	if err := rtsched.Check(o.Priority); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	if err := o.Watchdog.Validate(); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	return bus.ValidateSession(o.Session)
}

// Result summarises a finished session. Its JSON form is the summary the
// commands print with --json.
type Result struct {
	Session string `json:"session"`
	// Decoder and Model name the model decoding at the end (after swaps).
	Decoder string         `json:"decoder"`
	Model   string         `json:"model"`
	Stats   pipeline.Stats `json:"pipeline"`
	Publish bus.Summary    `json:"publish"`
	// Score is the live accuracy against the stream's targets, when the
	// stream has the targets the model decodes.
	Score  *Score              `json:"score,omitempty"`
	Record *bus.RecordingStats `json:"recording,omitempty"`
	// RawRecord counts recorded raw frames (Options.Raw).
	RawRecord *bus.RecordingStats `json:"raw_recording,omitempty"`
	Watchdog  bus.WatchdogStats   `json:"watchdog"`
	// Outputs holds every output's report, by name, but the headlines'.
	Outputs map[string]any `json:"outputs,omitempty"`
	// Headlines holds the reports of the outputs that head the summary
	// (pipeline.Headliner), by name; JSON carries each at the top level.
	Headlines map[string]any `json:"-"`
	// Source holds the source's report (lost frames, time jumps), when it
	// keeps one.
	Source any `json:"source,omitempty"`
	// Setup says whether the session's JetStream side (lease, model store,
	// recording) ever became ready.
	Setup   SetupState    `json:"setup"`
	Elapsed time.Duration `json:"-"`
}

// ErrRecorded is returned when Record would overwrite a recording.
var ErrRecorded = bus.ErrRecorded

// live is a running session.
type live struct {
	opts    Options
	p       *pipeline.Pipeline
	js      *setup
	pub     *bus.Publisher
	rec     *bus.Recorder
	raw     *bus.Recorder
	wd      *bus.Watchdog
	score   *scorer
	outputs []pipeline.Output
}

// Run decodes the source to its end (or until ctx is done) and returns the
// summary. Errors in setting up (stream, store, outputs, service) are
// returned before any bin is read.
func Run(ctx context.Context, opts Options) (Result, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return Result{}, err
	}
	// The session's own context ends with the caller's, or when another
	// process turns out to hold its lease.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	js, err := startSetup(ctx, opts, cancel)
	if err != nil {
		return Result{}, fmt.Errorf("session %s: %w", opts.Session, err)
	}
	defer js.close()
	defer cancel() // before js.close, which waits for the setup's goroutines
	l, err := build(ctx, opts, js)
	if err != nil {
		return Result{}, fmt.Errorf("session %s: %w", opts.Session, err)
	}
	return l.run(ctx)
}

// run starts the outputs, decodes, and closes the outputs.
func (l *live) run(ctx context.Context) (Result, error) {
	// Outputs run on a context of their own, cancelled only once the
	// graceful close has had its time: a stop signal first drains them.
	hardCtx, hardStop := context.WithCancel(context.WithoutCancel(ctx))
	defer hardStop()
	if err := l.startOutputs(hardCtx); err != nil {
		return Result{}, err
	}
	if l.opts.Control {
		svc, err := bus.StartControl(l.opts.Conn, l.opts.Session, l, l.opts.Log)
		if err != nil {
			l.closeOutputs(ctx, len(l.outputs), hardStop)
			return Result{}, err
		}
		defer func() { _ = svc.Stop() }()
	}
	start := time.Now()
	runErr := l.p.Run(ctx)
	closeErr := l.closeOutputs(ctx, len(l.outputs), hardStop)
	res := l.result(time.Since(start))
	if runErr != nil && ctx.Err() == nil {
		return res, runErr
	}
	return res, closeErr
}

// startOutputs starts every output in order; when one fails, those already
// started are closed again.
func (l *live) startOutputs(ctx context.Context) error {
	for i, o := range l.outputs {
		if err := o.Start(ctx); err != nil {
			l.closeOutputs(ctx, i, func() {})
			return fmt.Errorf("session %s: start output %d: %w", l.opts.Session, i, err)
		}
	}
	return nil
}

// closeOutputs closes the first n outputs in reverse order, each
// gracefully within CloseTimeout, then calls hardStop, which ends whatever
// is left; the outputs that did not close in time are closed once more, so
// that what they counted as lost is in their final counts.
func (l *live) closeOutputs(ctx context.Context, n int, hardStop func()) error {
	var errs []error
	var late []pipeline.Output
	for i := n - 1; i >= 0; i-- {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.opts.CloseTimeout)
		if err := l.outputs[i].Close(closeCtx); err != nil {
			errs = append(errs, err)
			late = append(late, l.outputs[i])
		}
		cancel()
	}
	hardStop()
	for _, o := range late {
		settleCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		_ = o.Close(settleCtx) // its error was reported above
		cancel()
	}
	return errors.Join(errs...)
}

func (l *live) result(elapsed time.Duration) Result {
	res := Result{Session: l.opts.Session, Stats: l.p.Stats(), Publish: l.pub.Summary(), Score: l.score.score(), Outputs: l.reports(), Elapsed: elapsed}
	res.Model, res.Decoder = l.p.Model()
	for _, o := range l.outputs {
		if h, ok := o.(pipeline.Headliner); ok {
			name, _ := h.Report()
			if res.Headlines == nil {
				res.Headlines = map[string]any{}
			}
			res.Headlines[name] = res.Outputs[name]
			delete(res.Outputs, name)
		}
	}
	res.Setup = l.js.state()
	if r, ok := l.opts.Source.(pipeline.Reporter); ok {
		_, res.Source = r.Report()
	}
	if l.rec != nil {
		st := l.rec.Stats()
		res.Record = &st
	}
	if l.raw != nil {
		st := l.raw.Stats()
		res.RawRecord = &st
	}
	if l.wd != nil {
		res.Watchdog = l.wd.Stats()
	}
	return res
}

// reports gathers the outputs' reports by name.
func (l *live) reports() map[string]any {
	out := map[string]any{}
	for _, o := range l.outputs {
		if r, ok := o.(pipeline.Reporter); ok {
			name, st := r.Report()
			out[name] = st
		}
	}
	return out
}

// status completes a status message on the publisher's goroutine.
func (l *live) status(st *bus.Status) {
	s := l.p.Stats()
	st.Pipeline = &s
	_, st.Decoder = l.p.Model()
	st.Outputs = l.reports()
	delete(st.Outputs, "publisher") // the status message is the publisher's own report
	if sc := l.score.score(); sc != nil {
		st.Outputs["score"] = sc
	}
	if s := l.js.state(); !s.Ready {
		st.Outputs["setup"] = s
	}
	if r, ok := l.opts.Source.(pipeline.Reporter); ok {
		_, st.Source = r.Report()
	}
}

// Swap implements bus.Controller. The hash of a shadow decoder's model
// promotes the shadow (see package shadow): the live loop swaps to a copy
// of its model, which need not be in the model store.
func (l *live) Swap(ctx context.Context, hash string) error {
	for _, o := range l.outputs {
		if p, ok := o.(promoter); ok {
			if m := p.Promote(hash); m != nil {
				return l.p.Swap(m)
			}
		}
	}
	models := l.js.models.Load()
	if models == nil {
		return errors.New("the model store is not ready (JetStream not answering, or not enabled)")
	}
	m, err := models.Get(ctx, hash)
	if err != nil {
		return err
	}
	return l.p.Swap(m)
}

// promoter is an output holding a model the session can swap to.
type promoter interface {
	Promote(hash string) *decoder.Loaded
}

// SetPaused implements bus.Controller.
func (l *live) SetPaused(paused bool) { l.p.SetPaused(paused) }

// Info implements bus.Controller.
func (l *live) Info() bus.ControlInfo {
	info := bus.ControlInfo{Session: l.opts.Session, Paused: l.p.Paused(), Stats: l.p.Stats()}
	info.Model, info.Decoder = l.p.Model()
	if l.rec != nil {
		st := l.rec.Stats()
		info.Record = &st
	}
	return info
}
