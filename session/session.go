// Package session runs one live decoding session: the pipeline loop with its
// intent publisher, optionally recording the session in JetStream and
// serving the control verbs (swap, pause, resume, info) on NATS. It owns
// every goroutine it starts and stops them in two phases: graceful (drain,
// flush, wait for acks) and then, when the context ends, at once.
package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/pipeline"
)

// Options configures a session.
type Options struct {
	// Session names the subjects and the recording stream (required).
	Session string
	// Conn is the NATS connection to publish on (required).
	Conn *nats.Conn
	// Source delivers bins of Channels features each, BinWidth ns wide,
	// with Targets (names of the bins' behavioural targets, if any).
	Source   pipeline.BinReader
	Channels int
	BinWidth int64
	Targets  []string
	// Model decodes from the first bin.
	Model *decoder.Loaded
	// Output shapes intents.
	Output decoder.OutputOptions
	// Lossless makes publishing wait for room rather than drop; for runs
	// that go as fast as possible.
	Lossless bool
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
	// Watchdog, when its StaleAfter is set, publishes stale and then halted
	// intents while input is missing (live sources only).
	Watchdog WatchdogOptions
	// Sinks receive every intent after the publisher and recorder.
	Sinks []pipeline.Sink
	// Log receives the session's events.
	Log zerolog.Logger
}

// Result summarises a finished session.
type Result struct {
	Stats   pipeline.Stats
	Publish bus.Summary
	Record  *bus.RecordingStats
	// RawRecord counts recorded raw frames (Options.Raw).
	RawRecord *bus.RecordingStats
	Watchdog  WatchdogStats
	Elapsed   time.Duration
}

// ErrRecorded is returned when Record would overwrite a recording.
var ErrRecorded = bus.ErrRecorded

// live is the running session as the control service sees it.
type live struct {
	opts   Options
	p      *pipeline.Pipeline
	models *bus.Models
	rec    *bus.Recorder
	raw    *bus.Recorder
	snap   *bus.Recorder
}

// Run decodes the source to its end (or until ctx is done) and returns the
// summary. Errors in setting up (stream, store, service) are returned before
// any bin is read.
func Run(ctx context.Context, opts Options) (Result, error) {
	if err := bus.ValidateSession(opts.Session); err != nil {
		return Result{}, err
	}
	if opts.Model.Inputs() != opts.Channels {
		return Result{}, fmt.Errorf("session %s: model expects %d channels, source delivers %d: %w", opts.Session, opts.Model.Inputs(), opts.Channels, decoder.ErrShape)
	}
	l := &live{opts: opts}
	var js jetstream.JetStream
	if opts.Record || opts.Control {
		var err error
		if js, err = jetstream.New(opts.Conn); err != nil {
			return Result{}, fmt.Errorf("session %s: %w", opts.Session, err)
		}
		if l.models, err = bus.OpenModels(ctx, js, opts.Replicas); err != nil {
			if opts.Record {
				return Result{}, fmt.Errorf("session %s: %w (is JetStream enabled on the server?)", opts.Session, err)
			}
			// Control without JetStream still pauses, resumes and
			// reports; only swaps need the model store.
			opts.Log.Warn().Err(err).Msg("no model store: control will refuse swaps")
			l.models = nil
		}
	}
	if opts.Record {
		if err := l.prepareRecording(ctx, js); err != nil {
			return Result{}, err
		}
	}

	pub, err := bus.NewPublisher(opts.Conn, bus.PublisherOptions{
		Session: opts.Session, Lossless: opts.Lossless, Log: opts.Log,
		Stats: func() pipeline.Stats { return l.p.Stats() },
	})
	if err != nil {
		return Result{}, err
	}
	sinks := []pipeline.Sink{pub}
	if opts.Record {
		if l.rec, err = bus.NewRecorder(opts.Conn, bus.RecorderOptions{Session: opts.Session, Lossless: opts.Lossless, Log: opts.Log, MsgIDPrefix: opts.MsgIDPrefix}); err != nil {
			return Result{}, err
		}
		sinks = append(sinks, l.rec)
		if _, ok := opts.Model.Decoder.(decoder.StateSaver); ok && opts.SnapshotEvery > 0 {
			if l.snap, err = bus.NewSnapshotRecorder(opts.Conn, bus.RecorderOptions{Session: opts.Session, Log: opts.Log}); err != nil {
				return Result{}, err
			}
			sinks = append(sinks, newSnapshotter(l, opts.SnapshotEvery))
		}
		if opts.Raw != nil {
			if l.raw, err = bus.NewFrameRecorder(opts.Conn, bus.RecorderOptions{Session: opts.Session, Lossless: opts.Lossless, Log: opts.Log}); err != nil {
				return Result{}, err
			}
			opts.Raw.Tap(l.raw.RecordFrame)
		}
	}
	var wd *watchdog
	if w := opts.Watchdog; w.StaleAfter > 0 {
		if w.HaltAfter < w.StaleAfter {
			w.HaltAfter = w.StaleAfter
		}
		if w.Period <= 0 {
			w.Period = time.Duration(opts.BinWidth)
		}
		if w.Period <= 0 {
			w.Period = w.StaleAfter / 2
		}
		wd = &watchdog{opts: w, nc: opts.Conn, subj: bus.IntentSubject(opts.Session), outputs: opts.Model.Outputs(),
			log: opts.Log, model: func() string { return l.p.Model() }}
		sinks = append(sinks, wd)
	}
	sinks = append(sinks, opts.Sinks...)
	l.p, err = pipeline.New(opts.Source, opts.Channels, opts.Model.Decoder, opts.Model.Hash,
		pipeline.Options{Output: opts.Output, Process: opts.Process, Takeover: opts.Takeover}, sinks...)
	if err != nil {
		return Result{}, err
	}
	if opts.Control {
		svc, err := bus.StartControl(opts.Conn, opts.Session, l, opts.Log)
		if err != nil {
			return Result{}, err
		}
		defer func() { _ = svc.Stop() }()
	}

	start := time.Now()
	pub.Start(ctx)
	if l.rec != nil {
		l.rec.Start(ctx)
	}
	if l.raw != nil {
		l.raw.Start(ctx)
	}
	if l.snap != nil {
		l.snap.Start(ctx)
	}
	wdCtx, stopWatchdog := context.WithCancel(ctx)
	wdDone := make(chan struct{})
	if wd != nil {
		go func() {
			defer close(wdDone)
			wd.run(wdCtx)
		}()
	} else {
		close(wdDone)
	}
	runErr := l.p.Run(ctx)
	stopWatchdog()
	<-wdDone

	// Graceful phase: drain and flush, bounded even when ctx is done.
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	res := Result{Stats: l.p.Stats()}
	var closeErrs []error
	if res.Publish, err = pub.Close(closeCtx); err != nil {
		closeErrs = append(closeErrs, err)
	}
	if l.rec != nil {
		st, err := l.rec.Close(closeCtx)
		res.Record = &st
		if err != nil {
			closeErrs = append(closeErrs, err)
		}
	}
	if l.raw != nil {
		st, err := l.raw.Close(closeCtx)
		res.RawRecord = &st
		if err != nil {
			closeErrs = append(closeErrs, err)
		}
	}
	if l.snap != nil {
		if _, err := l.snap.Close(closeCtx); err != nil {
			closeErrs = append(closeErrs, err)
		}
	}
	if wd != nil {
		res.Watchdog = wd.stats()
	}
	res.Elapsed = time.Since(start)
	if runErr != nil && ctx.Err() == nil {
		return res, runErr
	}
	return res, errors.Join(closeErrs...)
}

func (l *live) prepareRecording(ctx context.Context, js jetstream.JetStream) error {
	o := l.opts
	info := bus.SessionInfo{Channels: o.Channels, BinWidth: o.BinWidth, Targets: o.Targets, Output: o.Output}
	if o.Append {
		if _, err := bus.EnsureStream(ctx, js, o.Session, info, o.Replicas); err != nil {
			return err
		}
	} else if _, err := bus.PrepareRecording(ctx, js, o.Session, info, o.Replicas, o.Overwrite); err != nil {
		return err
	}
	b, hash, err := decoder.Encode(o.Model.Decoder, o.Model.Info)
	if err != nil {
		return err
	}
	if hash != o.Model.Hash {
		return fmt.Errorf("session %s: model re-encodes to %.12s, not its hash %.12s", o.Session, hash, o.Model.Hash)
	}
	if _, err := l.models.Put(ctx, b); err != nil {
		return err
	}
	return nil
}

// Swap implements bus.Controller.
func (l *live) Swap(ctx context.Context, hash string) error {
	if l.models == nil {
		return errors.New("model swaps need JetStream")
	}
	m, err := l.models.Get(ctx, hash)
	if err != nil {
		return err
	}
	if w := m.Info.BinWidthNS; w != 0 && l.opts.BinWidth != 0 && w != l.opts.BinWidth {
		return fmt.Errorf("model %.12s was trained on %v bins, the session has %v bins: %w", hash, time.Duration(w), time.Duration(l.opts.BinWidth), decoder.ErrShape)
	}
	return l.p.Swap(m.Decoder, m.Hash)
}

// SetPaused implements bus.Controller.
func (l *live) SetPaused(paused bool) { l.p.SetPaused(paused) }

// Info implements bus.Controller.
func (l *live) Info() bus.ControlInfo {
	info := bus.ControlInfo{Session: l.opts.Session, Decoder: l.opts.Model.Kind(), Model: l.p.Model(), Paused: l.p.Paused(), Stats: l.p.Stats()}
	if l.rec != nil {
		st := l.rec.Stats()
		info.Record = &st
	}
	return info
}
