package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog/log"

	"github.com/bci-decode/bci-decode/bus"
)

// busFlags select the NATS server: an external one with --nats, otherwise
// an embedded one started in this process.
type busFlags struct {
	url     string
	listen  string
	dataDir string
	token   string
	session string
}

// liveFlags are the flags of commands that decode live: recording and
// control.
type liveFlags struct {
	record, overwrite, control bool
}

func (l *liveFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&l.record, "record", false, "record the session (bins, intents, model) in JetStream stream BCI_<session> for replay and retraining")
	fs.BoolVar(&l.overwrite, "overwrite", false, "with --record, replace an earlier recording of the same session")
	fs.BoolVar(&l.control, "control", true, "serve bci.<session>.control.{swap,pause,resume,info}")
}

// register adds the flags; session and listen are the command's defaults.
func (b *busFlags) register(fs *flag.FlagSet, session, listen string) {
	fs.StringVar(&b.url, "nats", "", "URL of an external NATS server or cluster (default: start an embedded server)")
	fs.StringVar(&b.listen, "nats-listen", listen, "client address of the embedded server")
	fs.StringVar(&b.dataDir, "data-dir", bus.DefaultDataDir(), "JetStream store of the embedded server")
	fs.StringVar(&b.token, "nats-token", "", "token required by the server (embedded: required from clients)")
	fs.StringVar(&b.session, "session", session, "session name: the <session> token of bci.<session>.* subjects")
}

// connect returns a client connection and a function that closes it and
// stops the embedded server, if one was started.
func (b *busFlags) connect() (*nats.Conn, func(), error) {
	if err := bus.ValidateSession(b.session); err != nil {
		return nil, nil, fmt.Errorf("%w: --session: %v", errUsage, err)
	}
	url := b.url
	var srv *bus.Server
	if url == "" {
		var err error
		srv, err = bus.StartServer(bus.ServerOptions{Listen: b.listen, DataDir: b.dataDir, Token: b.token})
		if err != nil {
			return nil, nil, err
		}
		url = srv.ClientURL()
		log.Info().Str("url", url).Str("data_dir", b.dataDir).Msg("embedded NATS server started")
	}
	nc, err := bus.Connect(url, bus.ConnectOptions{Name: "bci-decode " + b.session, Token: b.token, Log: log.Logger})
	if err != nil {
		if srv != nil {
			shutdown(srv)
		}
		return nil, nil, err
	}
	return nc, func() {
		nc.Close()
		if srv != nil {
			shutdown(srv)
		}
	}, nil
}

func shutdown(srv *bus.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn().Err(err).Msg("embedded NATS server shutdown")
	}
}
