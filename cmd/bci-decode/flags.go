package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog/log"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/dataset"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/frontend"
	"github.com/bci-decode/bci-decode/internal/rtsched"
	"github.com/bci-decode/bci-decode/pipeline"
	"github.com/bci-decode/bci-decode/report"
	"github.com/bci-decode/bci-decode/session"
)

// busFlags select the NATS server (see bus.EndpointFlags) and name the
// session.
type busFlags struct {
	bus.EndpointFlags
	session string
}

// register adds the flags; session and listen are the command's defaults.
func (b *busFlags) register(fs *flag.FlagSet, session, listen string) {
	b.Bind(fs, listen)
	fs.StringVar(&b.session, "session", session, "session name: the <session> token of bci.<session>.* subjects")
}

// check checks the flags before anything is started.
func (b *busFlags) check() error {
	if b.session != "" {
		if err := bus.ValidateSession(b.session); err != nil {
			return fmt.Errorf("--session: %w", err)
		}
	}
	return b.Check()
}

// connect returns a client connection and a function that closes it and
// stops the embedded server, if one was started.
func (b *busFlags) connect() (*nats.Conn, func(), error) {
	b.Name, b.Log = "bci-decode "+b.session, log.Logger
	return b.Dial()
}

// decodeFlags are the flags of the commands that decode a source live
// (demo, run): the bus, the simulator, the source and the live options.
type decodeFlags struct {
	bus  busFlags
	sim  simFlags
	src  sourceFlags
	live liveFlags
}

// register adds them to fs, session naming the default session.
func (f *decodeFlags) register(fs *flag.FlagSet, session string) {
	f.bus.register(fs, session, bus.DefaultListen)
	f.sim.register(fs)
	f.src.register(fs)
	f.live.register(fs)
}

// checks returns their checks, then more, in the order parse runs them.
func (f *decodeFlags) checks(more ...func() error) []func() error {
	return append([]func() error{f.bus.check, f.sim.check, f.src.check, f.live.check}, more...)
}

// liveFlags are the flags of commands that decode live: recording, control,
// the watchdog, the output limits, and the output plug-ins' own flags.
type liveFlags struct {
	record, overwrite, recordRaw, control bool
	staleAfter, haltAfter                 time.Duration
	limit                                 float64
	integrate                             bool
	priority                              int
	plugins                               pipeline.Bound
}

func (l *liveFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&l.record, "record", false, "record the session (bins, intents, model) in JetStream stream BCI_<session> for replay and retraining")
	fs.BoolVar(&l.overwrite, "overwrite", false, "with --record, replace an earlier recording of the same session")
	fs.BoolVar(&l.recordRaw, "record-raw", false, "with --record and a continuous source, record the raw frames too (bci.<session>.raw)")
	fs.BoolVar(&l.control, "control", true, "serve bci.<session>.control.{swap,pause,resume,info}")
	fs.DurationVar(&l.staleAfter, "stale-after", 100*time.Millisecond, "real-time input missing this long: publish stale intents that mean stop (0: no watchdog)")
	fs.DurationVar(&l.haltAfter, "halt-after", 500*time.Millisecond, "real-time input missing this long: publish halted intents that mean stop")
	fs.Float64Var(&l.limit, "limit", 0, "clamp every published value to ±limit (0: no clamp)")
	fs.BoolVar(&l.integrate, "integrate", false, "publish integrated velocity as position intents")
	fs.IntVar(&l.priority, "rt-priority", 0, fmt.Sprintf("real-time runs: decode on a SCHED_FIFO thread of this priority, 1-%d, so that nothing else on the machine delays a bin (needs root or CAP_SYS_NICE; 0: off)", rtsched.MaxPriority))
	l.plugins = pipeline.BindFlags(fs)
}

// options returns the session settings the flags give for a stream.
func (l *liveFlags) options(s *frontend.Stream) (session.Options, error) {
	o := l.sessionOptions(s.Realtime)
	o.Source = s
	if l.recordRaw {
		if !l.record || !s.Continuous() {
			return o, usageError(fmt.Errorf("--record-raw needs --record and a continuous source (raw, EDF or BDF file)"))
		}
		o.Raw = s
	}
	return o, nil
}

// sessionOptions returns the session settings the flags give, without a
// source, for a stream that is real time or not.
func (l *liveFlags) sessionOptions(realtime bool) session.Options {
	o := session.Options{Realtime: realtime, Record: l.record, Overwrite: l.overwrite, Control: l.control, Owner: processID(),
		Output: decoder.OutputOptions{Limit: float32(l.limit), Integrate: l.integrate}, Outputs: l.plugins.Outputs(), Priority: l.priority, Log: log.Logger}
	if realtime {
		o.Watchdog = bus.WatchdogOptions{StaleAfter: l.staleAfter, HaltAfter: l.haltAfter}
	}
	return o
}

// priorityIfPermitted keeps a default real-time priority only where this
// process may have it, and says so otherwise: a newcomer without root
// still gets a running demo.
func (l *liveFlags) priorityIfPermitted() {
	if err := rtsched.Permitted(l.priority); err != nil {
		log.Warn().Err(err).Msg("decoding at normal priority: a busy machine may delay bins")
		l.priority = 0
	}
}

// given reports whether the command line set the flag name.
func given(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// check checks the flags before anything is started.
func (l *liveFlags) check() error {
	out := decoder.OutputOptions{Limit: float32(l.limit), Integrate: l.integrate}
	if err := out.Validate(); err != nil {
		return err
	}
	if err := rtsched.Check(l.priority); err != nil {
		return fmt.Errorf("--rt-priority: %w", err)
	}
	w := bus.WatchdogOptions{StaleAfter: l.staleAfter, HaltAfter: l.haltAfter}
	return w.Validate()
}

// simFlags configure the simulator (see acquire.SimConfig.Bind).
type simFlags struct{ acquire.SimConfig }

func (s *simFlags) register(fs *flag.FlagSet) { s.Bind(fs) }

// check checks the flags before anything is started (the bin width is the
// source flags').
func (s *simFlags) check() error {
	_, err := s.For(0, acquire.DefaultSimConfig.BinWidth)
	return err
}

// sourceFlags select and shape the input (see frontend.Flags).
type sourceFlags struct{ frontend.Flags }

func (f *sourceFlags) register(fs *flag.FlagSet) { f.Bind(fs) }

func (f *sourceFlags) check() error { return f.Check() }

// open opens the source spec as a stream of bins, with the simulator's
// settings from sim (for d of stream) and services for sources that need
// them (the NATS connection).
func (f *sourceFlags) open(ctx context.Context, spec string, sim *simFlags, d time.Duration, pace frontend.Pace, session string, services ...any) (*frontend.Stream, error) {
	var cfg acquire.SimConfig
	if sim != nil {
		var err error
		if cfg, err = sim.For(d, f.BinWidth()); err != nil {
			return nil, usageError(err)
		}
	}
	return frontend.Open(ctx, spec, f.Options(session, cfg, pace, services...))
}

// readSet reads a recording spec names, through the signal chain when it
// is continuous, into a dataset keeping targets.
func (f *sourceFlags) readSet(ctx context.Context, spec string, targets []string) (*dataset.Set, error) {
	return frontend.ReadSet(ctx, spec, f.Options("", acquire.SimConfig{}, frontend.PaceFast), targets...)
}

// fitFlags select a decoder kind and how to train it.
type fitFlags struct {
	kind   string
	seed   uint64
	epochs int
	tuning func(*decoder.FitOptions) error
}

func (f *fitFlags) register(fs *flag.FlagSet, kind string) {
	fs.StringVar(&f.kind, "decoder", kind, "decoder kind to train: "+strings.Join(decoder.Trainable(), ", "))
	fs.Uint64Var(&f.seed, "seed", 1, "training seed")
	f.registerShared(fs)
}

// registerShared adds the flags every trainer shares, for commands whose
// --seed means something else.
func (f *fitFlags) registerShared(fs *flag.FlagSet) {
	fs.IntVar(&f.epochs, "epochs", 0, "training epochs of iterative decoders (0: the decoder's default)")
	f.tuning = decoder.BindFitFlags(fs)
}

// check checks the flags before anything is started.
func (f *fitFlags) check() error {
	if f.epochs < 0 || f.epochs > 100000 {
		return fmt.Errorf("--epochs %d: want 0 (the decoder's default) to 100000", f.epochs)
	}
	var o decoder.FitOptions
	if err := f.tuning(&o); err != nil {
		return err
	}
	if f.kind == "" {
		return nil // a command that names its kinds otherwise (eval)
	}
	return decoder.CheckTrainable(f.kind)
}

// options returns the training settings, with a progress bar on stderr
// unless quiet; done ends the bar.
func (f *fitFlags) options(quiet bool) (o decoder.FitOptions, done func()) {
	o = decoder.FitOptions{Seed: f.seed, Epochs: f.epochs}
	_ = f.tuning(&o) // checked by check
	done = func() {}
	if !quiet {
		o.Progress, done = report.Progress(os.Stderr)
	}
	return o, done
}

// targetList is a comma-separated list flag.
type targetList []string

func (t *targetList) String() string { return strings.Join(*t, ",") }

func (t *targetList) Set(s string) error {
	*t = nil
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*t = append(*t, p)
		}
	}
	if len(*t) == 0 {
		return fmt.Errorf("empty list")
	}
	return nil
}

// jetStream connects as connect does and returns a JetStream context.
func (b *busFlags) jetStream(opts ...jetstream.JetStreamOpt) (jetstream.JetStream, func(), error) {
	nc, closeBus, err := b.connect()
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(nc, opts...)
	if err != nil {
		closeBus()
		return nil, nil, err
	}
	return js, closeBus, nil
}

// modelFromStore loads a model by hash from the bci-models store.
func modelFromStore(ctx context.Context, js jetstream.JetStream, hash string) (*decoder.Loaded, error) {
	models, err := bus.OpenModels(ctx, js, 1)
	if err != nil {
		return nil, err
	}
	return models.Get(ctx, hash)
}

// processID names this process in leases and logs: host and pid.
func processID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}
