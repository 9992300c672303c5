package closedloop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/report"
	"github.com/bci-decode/bci-decode/session"
)

// Options configures one closed-loop block.
type Options struct {
	// Session configures the decoding session the loop runs through
	// (Session, Conn and Model are required; recording, control, output
	// limits, the watchdog and output plug-ins as for any live session).
	// Run sets its Source (the user) and Realtime.
	Session session.Options
	// Task is the cursor task; User the simulated user (its Population is
	// required; Run sets its Session, BinWidth and Trials).
	Task TaskOptions
	User UserOptions
	// Trials is the number of trials in the block (default 32).
	Trials int
	// Realtime paces the loop at one bin per bin width, as a live array
	// would; otherwise it runs as fast as it can. Results are the same.
	Realtime bool
	// Settle bounds the wait, after the last bin, for the controller to
	// apply the last intent (default 10 s).
	Settle time.Duration
}

// EnsureDefaults fills the zero fields of o.
func (o *Options) EnsureDefaults() {
	if o.Trials == 0 {
		o.Trials = 32
	}
	if o.Settle == 0 {
		o.Settle = 10 * time.Second
	}
	if o.Session.Model != nil && o.User.BinWidth == 0 {
		o.User.BinWidth = o.Session.Model.Info.BinWidth()
	}
	o.User.Session, o.User.Trials = o.Session.Session, o.Trials
	o.Task.EnsureDefaults()
	o.User.EnsureDefaults()
}

// Validate reports settings that make no block.
func (o *Options) Validate() error {
	switch {
	case o.Session.Conn == nil || o.Session.Model == nil:
		return errors.New("closed loop: a connection and a model are required")
	case o.Trials < 1 || o.Trials > 1_000_000:
		return fmt.Errorf("closed loop: %d trials (want 1 to 1000000)", o.Trials)
	case o.Settle < 0:
		return fmt.Errorf("closed loop: settle time %v", o.Settle)
	}
	if err := o.Task.Validate(); err != nil {
		return err
	}
	return o.User.Validate()
}

// Result is a closed-loop block: its trials, their metrics, and the
// decoding session that ran it.
type Result struct {
	Metrics Metrics
	Trials  []Trial
	Cursor  ControllerStats
	Session session.Result
	// SimSeconds is the simulated time the block spanned.
	SimSeconds float64
}

// RealtimeFactor is simulated time over the wall time the block took.
func (r *Result) RealtimeFactor() float64 {
	if r.Session.Elapsed <= 0 {
		return 0
	}
	return r.SimSeconds / r.Session.Elapsed.Seconds()
}

// Run runs one closed-loop block: it starts a cursor controller and a
// simulated user on the session's connection and decodes the user's bins
// in a live session until the user has seen Trials trials end. The model's
// decoder starts from its reset state, so a block does not depend on what
// the model decoded before.
func Run(ctx context.Context, o Options) (*Result, error) {
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	so := o.Session
	so.Model.Reset()
	ctl, err := NewController(so.Conn, ControllerOptions{Session: so.Session, Task: o.Task, BinWidth: o.User.BinWidth, Log: so.Log})
	if err != nil {
		return nil, err
	}
	if err := ctl.Start(ctx); err != nil {
		return nil, err
	}
	defer func() { _ = ctl.Close(context.Background()) }() // closed and checked below; this covers early returns
	if !o.Realtime {
		o.User.StartTime = time.Now().UnixNano()
	}
	user, err := NewUser(so.Conn, o.User)
	if err != nil {
		return nil, err
	}
	defer func() { _ = user.Close() }()
	so.Source, so.Realtime = user, o.Realtime
	if o.Realtime {
		so.Source = acquire.Paced(user, true)
	}
	res, err := session.Run(ctx, so)
	if err != nil {
		return nil, err
	}
	if n := res.Stats.Bins; n > 0 {
		wctx, cancel := context.WithTimeout(ctx, o.Settle)
		err := ctl.WaitApplied(wctx, n-1)
		cancel()
		if err != nil && ctx.Err() == nil {
			so.Log.Warn().Err(err).Msg("the last intents never reached the cursor controller")
		}
	}
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.Settle)
	defer cancel()
	if err := ctl.Close(closeCtx); err != nil {
		return nil, err
	}
	trials := ctl.Trials()
	trials = trials[:min(len(trials), o.Trials)]
	if len(trials) < o.Trials {
		so.Log.Warn().Int("trials", len(trials)).Int("asked", o.Trials).Msg("the block ended early; scoring the trials it completed")
	}
	return &Result{Metrics: Score(trials), Trials: trials, Cursor: ctl.Stats(), Session: res,
		SimSeconds: float64(res.Stats.Bins) * o.User.BinWidth.Seconds()}, nil
}

// Summary is a block's headline figures, the object --json prints last.
type Summary struct {
	Decoder string `json:"decoder"`
	Model   string `json:"model"`
	Session string `json:"session"`
	Metrics
	// LiveR2 scores the decoded velocity against the velocity the user
	// intended.
	LiveR2    *float64        `json:"live_r2,omitempty"`
	Bins      uint64          `json:"bins"`
	RealtimeX float64         `json:"realtime_x"`
	Cursor    ControllerStats `json:"cursor"`
}

// Summary returns the block's headline figures.
func (r *Result) Summary() Summary {
	s := Summary{Decoder: r.Session.Decoder, Model: r.Session.Model, Session: r.Session.Session, Metrics: r.Metrics,
		Bins: r.Session.Stats.Bins, RealtimeX: r.RealtimeFactor(), Cursor: r.Cursor}
	if r.Session.Score != nil {
		s.LiveR2 = &r.Session.Score.R2
	}
	return s
}

// MarshalJSON writes the summary.
func (r *Result) MarshalJSON() ([]byte, error) { return json.Marshal(r.Summary()) }

// WriteText prints the block's figures for a person.
func (r *Result) WriteText(w io.Writer) {
	s := r.Summary()
	fmt.Fprintf(w, "closed loop, session %s: %s (model %.12s), %d bins (%.0f s simulated, %.0fx real time); intents on %s, cursor on %s\n",
		s.Session, s.Decoder, s.Model, s.Bins, r.SimSeconds, s.RealtimeX, bus.IntentSubject(s.Session), bus.CursorSubject(s.Session))
	m := s.Metrics
	fmt.Fprintf(w, "success %d/%d (%.0f%%); acquisition %.2f ± %.2f s; path efficiency %.2f; dial-in %.2f s; throughput %.2f bits/s\n",
		m.Successes, m.Trials, 100*m.SuccessRate, m.AcquisitionTime, m.AcquisitionSD, m.PathEfficiency, m.DialIn, m.Throughput)
	if s.LiveR2 != nil {
		fmt.Fprintf(w, "decoded vs intended velocity: R² %.3f\n", *s.LiveR2)
	}
}

// Plot draws the block's cursor paths, coloured by outcome, to a PNG file.
func (r *Result) Plot(path string) error {
	trials := make([]report.CursorTrial, len(r.Trials))
	for i, t := range r.Trials {
		trials[i] = report.CursorTrial{Start: t.Start, Path: t.Path, Target: t.Target, Radius: t.Radius, Success: t.Succeeded()}
	}
	m := r.Metrics
	title := fmt.Sprintf("closed loop, %s: %d/%d acquired, %.2f s, %.2f bits/s", r.Session.Decoder, m.Successes, m.Trials, m.AcquisitionTime, m.Throughput)
	return report.CursorPaths(path, title, trials)
}
