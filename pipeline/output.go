package pipeline

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"sync"

	"github.com/rs/zerolog"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/decoder"
)

// Output is a sink with a life cycle: anything that consumes the decoded
// intents or their bins (the publisher, recorders, the watchdog, an LSL
// outlet, a dashboard feed). A session builds its outputs, starts them all,
// runs the loop, and closes them in reverse order.
type Output interface {
	Sink
	// Start launches the output's goroutines, if it has any. They run
	// until Close, or stop at once, abandoning what they hold, when ctx
	// ends (the hard stop).
	Start(ctx context.Context) error
	// Close finishes what the output holds (publish, flush, wait for
	// acknowledgements) and stops it, giving up when ctx ends (the
	// graceful stop, bounded). After the hard stop, Close may be called
	// again: it then returns once the output has stopped, with its counts
	// final.
	Close(ctx context.Context) error
}

// Reporter is an output that counts what it did, for status messages and
// summaries. Report may be called from any goroutine.
type Reporter interface {
	// Report names the output and returns its counters (JSON-encodable).
	Report() (name string, stats any)
}

// Headliner is a Reporter whose report heads a session's summary: it
// goes at the summary's top level under the report's name, and its
// WriteText, when it has one, prints it in the text summary (the shadow
// decoder's figures beside the live decoder's). Its name must not be one
// of the summary's own keys.
type Headliner interface {
	Reporter
	Headline()
}

// Env is what a session tells the outputs it builds.
type Env struct {
	// Session names the session (the <session> token of its subjects).
	Session string
	// Shape describes the bins; Model is the model decoding at start.
	Shape acquire.Shape
	Model *decoder.Loaded
	// Output is how intents are shaped (their kind, limits).
	Output decoder.OutputOptions
	// Realtime is set for live streams, which must never wait for an
	// output; runs that go as fast as possible may wait instead of losing.
	Realtime bool
	// Pipeline is the loop the outputs will be fed by, and Source what it
	// reads (a signal chain, say, for outputs that show its state).
	Pipeline *Pipeline
	Source   BinReader
	Log      zerolog.Logger
	// Services are the process's shared dependencies (its NATS
	// connection, say), found by type with Service.
	Services []any
}

// Service returns the first service of type T in env.
func Service[T any](env *Env) (T, bool) {
	for _, s := range env.Services {
		if t, ok := s.(T); ok {
			return t, true
		}
	}
	var zero T
	return zero, false
}

// Factory builds an output for a session; a nil Output means the output is
// off for this session.
type Factory func(ctx context.Context, env *Env) (Output, error)

// Plugin is an output the command line can switch on. A new output is one
// file that registers a Plugin in an init function: its flags appear on
// every command that decodes live, and sessions build it from them.
type Plugin struct {
	// Name identifies the plug-in (unique).
	Name string
	// Flags registers the plug-in's flags on fs and returns its binding,
	// which reads their values once fs is parsed.
	Flags func(fs *flag.FlagSet) Binding
}

// Binding is a plug-in bound to its flags.
type Binding struct {
	// Output builds the plug-in's output for each session (nil: none).
	Output Factory
	// Serve, when set, runs for as long as the command does, around all
	// its sessions (a web server, say), and returns when ctx ends. It is
	// given the process's services (its NATS connection).
	Serve func(ctx context.Context, services []any) error
}

var (
	pluginsMu sync.Mutex
	plugins   = map[string]Plugin{}
)

// Register makes an output plug-in available. It is meant for init
// functions; registering a name twice panics, as that is a programming
// error.
func Register(p Plugin) {
	pluginsMu.Lock()
	defer pluginsMu.Unlock()
	if _, dup := plugins[p.Name]; dup || p.Flags == nil {
		panic(fmt.Sprintf("pipeline: Register(%q): duplicate name or no Flags", p.Name))
	}
	plugins[p.Name] = p
}

// Plugins returns the registered output plug-ins, sorted by name.
func Plugins() []Plugin {
	pluginsMu.Lock()
	defer pluginsMu.Unlock()
	out := make([]Plugin, 0, len(plugins))
	for _, p := range plugins {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Bound is every plug-in bound to a command's flags.
type Bound []Binding

// BindFlags registers every plug-in's flags on fs.
func BindFlags(fs *flag.FlagSet) Bound {
	ps := Plugins()
	out := make(Bound, len(ps))
	for i, p := range ps {
		out[i] = p.Flags(fs)
	}
	return out
}

// Outputs returns the plug-ins' output factories, to be given to the
// sessions the command runs.
func (b Bound) Outputs() []Factory {
	var out []Factory
	for _, x := range b {
		if x.Output != nil {
			out = append(out, x.Output)
		}
	}
	return out
}

// Serve runs the plug-ins' process-wide parts until stop is called; stop
// waits for them and returns the first error any of them had.
func (b Bound) Serve(ctx context.Context, services ...any) (stop func() error) {
	ctx, cancel := context.WithCancel(ctx)
	errs := make(chan error, len(b))
	n := 0
	for _, x := range b {
		if x.Serve == nil {
			continue
		}
		n++
		go func(serve func(context.Context, []any) error) { errs <- serve(ctx, services) }(x.Serve)
	}
	return func() error {
		cancel()
		var first error
		for range n {
			if err := <-errs; err != nil && first == nil {
				first = err
			}
		}
		return first
	}
}
