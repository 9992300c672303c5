package main

import (
	"context"
	"errors"
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
	"github.com/bci-decode/bci-decode/encoder"
	"github.com/bci-decode/bci-decode/frontend"
	"github.com/bci-decode/bci-decode/pipeline"
	"github.com/bci-decode/bci-decode/report"
	"github.com/bci-decode/bci-decode/session"
)

// busFlags select the NATS server: an external one with --nats, otherwise
// an embedded one started in this process.
type busFlags struct {
	url     string
	listen  string
	dataDir string
	auth    authFlags
	nkeys   string
	session string
	// existing makes a missing data directory an error (commands that read
	// recorded sessions: a typo must not make an empty store).
	existing bool
	// cluster mode of the embedded server
	clusterListen, clusterName, routes, serverName string
	replicas                                       int
}

// register adds the flags; session and listen are the command's defaults.
func (b *busFlags) register(fs *flag.FlagSet, session, listen string) {
	fs.StringVar(&b.url, "nats", "", "URL of an external NATS server or cluster (default: start an embedded server)")
	fs.StringVar(&b.listen, "nats-listen", listen, "client address of the embedded server")
	fs.StringVar(&b.dataDir, "data-dir", bus.DefaultDataDir(), "JetStream store of the embedded server")
	b.auth.register(fs)
	fs.StringVar(&b.nkeys, "nats-nkey-users", "", "embedded server: comma-separated public user NKeys it accepts")
	fs.StringVar(&b.session, "session", session, "session name: the <session> token of bci.<session>.* subjects")
	fs.StringVar(&b.clusterListen, "cluster-listen", "", "embedded server: join a NATS cluster, listening for routes on host:port")
	fs.StringVar(&b.clusterName, "cluster-name", "bci", "embedded server: cluster name")
	fs.StringVar(&b.routes, "routes", "", "embedded server: comma-separated nats://host:port cluster addresses of the other nodes")
	fs.StringVar(&b.serverName, "server-name", "bci-decode", "embedded server: node name (unique per cluster node)")
	fs.IntVar(&b.replicas, "replicas", 1, "replicas of recording streams and the model bucket (3 on a 3-node cluster)")
}

// endpoint is where the flags say the server is.
func (b *busFlags) endpoint() bus.Endpoint {
	e := bus.Endpoint{URL: b.url, Auth: b.auth.Auth, Name: "bci-decode " + b.session, Log: log.Logger,
		Server: bus.ServerOptions{Listen: b.listen, DataDir: b.dataDir, Name: b.serverName, ClusterListen: b.clusterListen, ClusterName: b.clusterName}}
	if b.nkeys != "" {
		e.Server.Auth.NKeyUsers = strings.Split(b.nkeys, ",")
	}
	if b.routes != "" {
		e.Server.Routes = strings.Split(b.routes, ",")
	}
	return e
}

// check checks the flags before anything is started.
func (b *busFlags) check() error {
	if b.session != "" {
		if err := bus.ValidateSession(b.session); err != nil {
			return fmt.Errorf("--session: %w", err)
		}
	}
	if b.replicas < 1 || b.replicas > 5 {
		return fmt.Errorf("--replicas %d: want 1-5", b.replicas)
	}
	if err := b.auth.check(); err != nil {
		return err
	}
	e := b.endpoint()
	if err := e.Validate(); err != nil {
		return err
	}
	if b.existing && b.url == "" {
		if st, err := os.Stat(b.dataDir); err != nil || !st.IsDir() {
			return fmt.Errorf("--data-dir %s: no such store (give the directory the session was recorded in, or --nats)", b.dataDir)
		}
	}
	return nil
}

// connect returns a client connection and a function that closes it and
// stops the embedded server, if one was started.
func (b *busFlags) connect() (*nats.Conn, func(), error) {
	if b.url == "" {
		if _, err := os.Stat(b.dataDir); errors.Is(err, os.ErrNotExist) {
			log.Info().Str("data_dir", b.dataDir).Msg("creating a new JetStream store")
		}
	}
	return bus.Dial(b.endpoint())
}

// authFlags are the credential and TLS flags shared by servers and
// clients. Secrets come from files or the environment, never from flags
// that the process list shows.
type authFlags struct {
	bus.Auth
	tokenFile, passwordFile string
}

func (a *authFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.tokenFile, "nats-token-file", "", "file holding the token (embedded server: required from clients); default: $"+bus.EnvToken)
	fs.StringVar(&a.User, "nats-user", "", "user name (embedded server: required from clients, with the password)")
	fs.StringVar(&a.passwordFile, "nats-password-file", "", "file holding the password of --nats-user; default: $"+bus.EnvPassword)
	fs.StringVar(&a.NKeySeedFile, "nats-nkey", "", "file holding this client's user NKey seed")
	fs.StringVar(&a.CredsFile, "nats-creds", "", "credentials file (servers in operator mode)")
	fs.StringVar(&a.TLSCert, "tls-cert", "", "certificate (embedded server: its server certificate; clients: the client certificate)")
	fs.StringVar(&a.TLSKey, "tls-key", "", "private key of --tls-cert")
	fs.StringVar(&a.TLSCA, "tls-ca", "", "CA that verifies the peer (embedded server: client certificates become mandatory)")
}

// check reads the secrets and checks that the files named exist.
func (a *authFlags) check() error {
	if err := a.ResolveSecrets(a.tokenFile, a.passwordFile); err != nil {
		return err
	}
	if a.User != "" && a.Password == "" {
		return fmt.Errorf("--nats-user %s needs a password (--nats-password-file or $%s)", a.User, bus.EnvPassword)
	}
	for _, f := range []string{a.NKeySeedFile, a.CredsFile, a.TLSCert, a.TLSKey, a.TLSCA} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			return err
		}
	}
	return nil
}

// liveFlags are the flags of commands that decode live: recording, control,
// the watchdog, the output limits, and the output plug-ins' own flags.
type liveFlags struct {
	record, overwrite, recordRaw, control bool
	staleAfter, haltAfter                 time.Duration
	limit                                 float64
	integrate                             bool
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
		Output: decoder.OutputOptions{Limit: float32(l.limit), Integrate: l.integrate}, Outputs: l.plugins.Outputs(), Log: log.Logger}
	if realtime {
		o.Watchdog = bus.WatchdogOptions{StaleAfter: l.staleAfter, HaltAfter: l.haltAfter}
	}
	return o
}

// check checks the flags before anything is started.
func (l *liveFlags) check() error {
	out := decoder.OutputOptions{Limit: float32(l.limit), Integrate: l.integrate}
	if err := out.Validate(); err != nil {
		return err
	}
	w := bus.WatchdogOptions{StaleAfter: l.staleAfter, HaltAfter: l.haltAfter}
	return w.Validate()
}

// simFlags configure the binned simulator.
type simFlags struct {
	seed, popSeed uint64
	channels      int
	task          string
	drift         float64
}

func (s *simFlags) register(fs *flag.FlagSet) {
	fs.Uint64Var(&s.seed, "seed", 1, "seed of the task and spikes")
	fs.Uint64Var(&s.popSeed, "population-seed", 1, "seed of the neurons' tuning (keep it to decode the same array)")
	fs.IntVar(&s.channels, "channels", acquire.DefaultSimConfig.Channels, "number of simulated neurons")
	fs.StringVar(&s.task, "task", string(acquire.TaskCentreOut), "reach task: centre-out or random-target")
	fs.Float64Var(&s.drift, "drift", 0, "random-walk drift of baseline rates (Hz per sqrt(minute); 0: none)")
}

// check checks the flags before anything is started (the bin width is the
// source flags').
func (s *simFlags) check() error {
	_, err := s.config(0, acquire.DefaultSimConfig.BinWidth)
	return err
}

// config returns the simulator settings for d of bins of width bin (d 0:
// unbounded), checked.
func (s *simFlags) config(d, bin time.Duration) (acquire.SimConfig, error) {
	c := acquire.SimConfig{Seed: s.seed, PopulationSeed: s.popSeed, Channels: s.channels, BinWidth: bin,
		Task: acquire.Task(s.task), DriftHz: s.drift}
	if d > 0 && bin > 0 {
		c.Bins = int(d / bin)
	}
	if err := c.Validate(); err != nil {
		return c, usageError(err)
	}
	return c, nil
}

// sourceFlags select and shape the input: the source spec, file details,
// the signal chain of continuous sources, and the bin width.
type sourceFlags struct {
	format      string
	rebin       int
	rawChannels int
	rawRate     float64
	rawGain     float64
	bin         time.Duration
	low, high   float64
	order       int
	notch       float64
	car         string
	k           float64
	refractory  time.Duration
	power       bool
}

func (f *sourceFlags) register(fs *flag.FlagSet) {
	d := frontend.DefaultOptions
	fs.StringVar(&f.format, "format", "", "format of file sources: "+acquire.Formats()+" (default: from the extension)")
	fs.IntVar(&f.rebin, "rebin", 1, "merge this many rows of a binned table into one bin")
	fs.IntVar(&f.rawChannels, "raw-channels", 0, "channels of a raw int16 file (0: from a SpikeGLX .meta sidecar)")
	fs.Float64Var(&f.rawRate, "raw-rate", 0, "sampling rate of a raw int16 file in Hz (0: from a SpikeGLX .meta sidecar)")
	fs.Float64Var(&f.rawGain, "raw-gain", 0, "µV per bit of a raw int16 file (0: from the sidecar, else 0.195)")
	fs.DurationVar(&f.bin, "bin", d.Encoder.BinWidth, "bin width: of the simulator, and of continuous sources' signal chain")
	fs.Float64Var(&f.low, "band-low", d.Band[0], "band-pass low cutoff of continuous sources (Hz)")
	fs.Float64Var(&f.high, "band-high", d.Band[1], "band-pass high cutoff of continuous sources (Hz)")
	fs.IntVar(&f.order, "order", d.Order, "Butterworth order (1-10)")
	fs.Float64Var(&f.notch, "notch", 0, "line-noise notch frequency (50 or 60 Hz; 0 for none)")
	fs.StringVar(&f.car, "car", d.CAR, "common reference: mean, median or none")
	fs.Float64Var(&f.k, "k", d.Encoder.K, "threshold at -k times the noise")
	fs.DurationVar(&f.refractory, "refractory", d.Encoder.Refractory, "dead time after a crossing (0: none)")
	fs.BoolVar(&f.power, "power", false, "append spike-band power per channel to the crossing counts")
}

// chain returns the signal chain settings, checked.
func (f *sourceFlags) chain() (frontend.Options, error) {
	o := frontend.Options{Band: [2]float64{f.low, f.high}, Order: f.order, Notch: f.notch, CAR: f.car,
		Encoder: encoder.Options{K: f.k, Refractory: f.refractory, BinWidth: f.bin, Power: f.power}}
	o.Encoder.Calibration, o.Encoder.Track = encoder.DefaultOptions.Calibration, encoder.DefaultOptions.Track
	if err := o.Validate(); err != nil {
		return o, usageError(err)
	}
	return o, nil
}

// open opens the source spec as a stream of bins, with the simulator's
// settings from sim (for d of stream) and services for sources that need
// them (the NATS connection).
func (f *sourceFlags) open(ctx context.Context, spec string, sim *simFlags, d time.Duration, pace frontend.Pace, session string, services ...any) (*frontend.Stream, error) {
	o, err := f.options(session, services...)
	if err != nil {
		return nil, err
	}
	if sim != nil {
		if o.Source.Sim, err = sim.config(d, f.bin); err != nil {
			return nil, err
		}
	}
	o.Pace = pace
	return frontend.Open(ctx, spec, o)
}

// readSet reads a recording spec names, through the signal chain when it
// is continuous, into a dataset keeping targets.
func (f *sourceFlags) readSet(ctx context.Context, spec string, targets []string) (*dataset.Set, error) {
	o, err := f.options("")
	if err != nil {
		return nil, err
	}
	return frontend.ReadSet(ctx, spec, o, targets...)
}

// check checks the flags before anything is started.
func (f *sourceFlags) check() error {
	if _, err := f.chain(); err != nil {
		return err
	}
	switch {
	case f.format != "" && !acquire.HasFormat(f.format):
		return fmt.Errorf("--format %q: want one of %s", f.format, acquire.Formats())
	case f.rebin < 1 || f.rebin > 1<<16:
		return fmt.Errorf("--rebin %d: want 1-65536", f.rebin)
	case f.rawChannels < 0 || f.rawChannels > 1<<16 || !(f.rawRate >= 0 && f.rawRate <= 1e6) || !(f.rawGain >= 0 && f.rawGain < 1e6):
		return errors.New("--raw-channels (0-65536), --raw-rate (0-1e6 Hz) and --raw-gain (0-1e6 µV) out of range (0: from the sidecar)")
	}
	return nil
}

// options returns the settings of opening a source.
func (f *sourceFlags) options(session string, services ...any) (frontend.OpenOptions, error) {
	chain, err := f.chain()
	if err != nil {
		return frontend.OpenOptions{}, err
	}
	return frontend.OpenOptions{Chain: chain, Source: acquire.Params{Session: session, Format: f.format, Rebin: f.rebin, Services: services,
		Raw: acquire.RawOptions{Channels: f.rawChannels, Rate: f.rawRate, GainUV: f.rawGain}}}, nil
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
