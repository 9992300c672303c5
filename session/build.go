package session

import (
	"context"

	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/pipeline"
)

// build makes the pipeline and the session's outputs, in the order they
// are fed: the publisher first, so a live intent is on its way before
// anything else looks at it.
func build(ctx context.Context, opts Options, js *setup) (*live, error) {
	l := &live{opts: opts, js: js}
	var err error
	l.p, err = pipeline.New(opts.Source, opts.Model, pipeline.Options{Output: opts.Output, Process: opts.Process, Takeover: opts.Takeover, Priority: opts.priority()})
	if err != nil {
		return nil, err
	}
	for _, add := range []func(context.Context) error{l.addPublisher, l.addRecorders, l.addWatchdog, l.addPlugins} {
		if err := add(ctx); err != nil {
			return nil, err
		}
	}
	for _, o := range l.outputs {
		l.p.AddSink(o)
	}
	if !opts.Output.Integrate { // positions are not comparable with velocity targets
		if l.score = newScorer(opts.Model.Info.Targets, l.p.Shape()); l.score != nil {
			l.p.AddSink(l.score)
		}
	}
	for _, s := range opts.Sinks {
		l.p.AddSink(s)
	}
	return l, nil
}

func (l *live) addPublisher(context.Context) error {
	o := l.opts
	pub, err := bus.NewPublisher(o.Conn, bus.PublisherOptions{Session: o.Session, Lossless: !o.Realtime, Log: o.Log, Status: l.status})
	if err != nil {
		return err
	}
	l.pub = pub
	l.outputs = append(l.outputs, pub)
	return nil
}

// addRecorders adds the recorders of bins, decoder checkpoints and raw
// frames that Record asks for.
func (l *live) addRecorders(context.Context) error {
	o := l.opts
	if !o.Record {
		return nil
	}
	ro := bus.RecorderOptions{Session: o.Session, Lossless: !o.Realtime, Log: o.Log, MsgIDPrefix: o.MsgIDPrefix, Ready: l.js.ready}
	var err error
	if l.rec, err = bus.NewRecorder(o.Conn, ro); err != nil {
		return err
	}
	l.outputs = append(l.outputs, l.rec)
	if _, ok := o.Model.Decoder.(decoder.StateSaver); ok && o.SnapshotEvery > 0 {
		snap, err := bus.NewSnapshotRecorder(o.Conn, bus.RecorderOptions{Session: o.Session, Log: o.Log, Ready: l.js.ready})
		if err != nil {
			return err
		}
		l.outputs = append(l.outputs, newSnapshotter(l.p, snap, o.SnapshotEvery))
	}
	if o.Raw != nil {
		ro.MsgIDPrefix = ""
		if l.raw, err = bus.NewFrameRecorder(o.Conn, ro); err != nil {
			return err
		}
		o.Raw.Tap(l.raw.RecordFrame)
		l.outputs = append(l.outputs, l.raw)
	}
	return nil
}

func (l *live) addWatchdog(context.Context) error {
	o := l.opts
	if !o.Realtime || o.Watchdog.StaleAfter <= 0 {
		return nil
	}
	w := o.Watchdog
	w.EnsureDefaults(l.p.Shape().BinWidth)
	tmpl := decoder.Intent{Kind: o.Output.Kind, Process: o.Process, Takeover: o.Takeover}
	model := func() string { h, _ := l.p.Model(); return h }
	wd, err := bus.NewWatchdog(o.Conn, o.Session, tmpl, o.Model.Outputs(), model, w, o.Log)
	if err != nil {
		return err
	}
	l.wd = wd
	l.outputs = append(l.outputs, wd)
	return nil
}

// addPlugins builds the outputs of the session's plug-in factories.
func (l *live) addPlugins(ctx context.Context) error {
	o := l.opts
	env := &pipeline.Env{Session: o.Session, Shape: l.p.Shape(), Model: o.Model, Output: o.Output, Realtime: o.Realtime,
		Pipeline: l.p, Source: o.Source, Log: o.Log, Services: append([]any{o.Conn}, o.Services...)}
	for _, f := range o.Outputs {
		out, err := f(ctx, env)
		if err != nil {
			return err
		}
		if out != nil {
			l.outputs = append(l.outputs, out)
		}
	}
	return nil
}

// priority is the decoding thread's real-time priority: only live streams
// have deadlines to keep.
func (o *Options) priority() int {
	if !o.Realtime {
		return 0
	}
	return o.Priority
}
