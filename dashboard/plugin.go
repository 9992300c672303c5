package dashboard

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog/log"

	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/encoder"
	"github.com/bci-decode/bci-decode/pipeline"
)

// DemoAddr is where the demo serves its dashboard unless told otherwise.
const DemoAddr = "127.0.0.1:8080"

// The dashboard as an output plug-in: --http serves the page for as long as
// the command runs and makes every session publish its telemetry feed;
// --telemetry publishes the feed alone, for a page served by another
// process.
func init() {
	pipeline.Register(pipeline.Plugin{Name: "dashboard", Flags: func(fs *flag.FlagSet) pipeline.Binding {
		addr := fs.String("http", "", "serve the live dashboard on host:port (loopback unless told otherwise; empty: none)")
		ws := fs.String("http-nats-ws", "", "with --http and --nats: ws:// URL of that server's WebSocket listener, which the page reads (default: the embedded server's own)")
		feed := fs.Bool("telemetry", false, "publish every session's dashboard feed on bci.<session>.telemetry even without --http")
		return pipeline.Binding{
			Output: func(_ context.Context, env *pipeline.Env) (pipeline.Output, error) {
				if *addr == "" && !*feed {
					return nil, nil
				}
				return newSessionFeed(env)
			},
			Serve: func(ctx context.Context, services []any) error {
				if *addr == "" {
					return nil
				}
				opts, err := serveOptions(*addr, *ws, services)
				if err == nil {
					err = Serve(ctx, opts)
				}
				if err != nil {
					// Said now: the command goes on decoding and returns
					// the error only when it ends.
					log.Error().Err(err).Msg("dashboard: not served")
				}
				return err
			},
		}
	}})
}

// newSessionFeed builds the telemetry feed of a session.
func newSessionFeed(env *pipeline.Env) (pipeline.Output, error) {
	nc, ok := pipeline.Service[*nats.Conn](env)
	if !ok {
		return nil, errors.New("dashboard: the session has no NATS connection")
	}
	opts := FeedOptions{Session: env.Session, Shape: env.Shape, Log: env.Log}
	if s, ok := env.Source.(interface{ Encoder() *encoder.Encoder }); ok {
		if e := s.Encoder(); e != nil { // nil: a binned stream
			opts.Chain = e
		}
	}
	return NewFeed(nc, env.Pipeline, opts)
}

// serveOptions finds the WebSocket listener the page reads: the one given,
// or that of the embedded server the process's connection was dialled to.
func serveOptions(addr, ws string, services []any) (Options, error) {
	var nc *nats.Conn
	for _, s := range services {
		if c, ok := s.(*nats.Conn); ok {
			nc = c
			break
		}
	}
	if nc == nil {
		return Options{}, errors.New("dashboard: no NATS connection")
	}
	if ws == "" {
		var ok bool
		if ws, ok = bus.WebSocketURL(nc); !ok {
			return Options{}, fmt.Errorf("dashboard: --http needs a NATS WebSocket listener: the embedded server's (client certificates rule it out), or --http-nats-ws for the server at --nats")
		}
	}
	return Options{Addr: addr, NATS: ws, Log: log.Logger}, nil
}
