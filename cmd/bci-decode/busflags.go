package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog/log"

	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/session"
)

// busFlags select the NATS server: an external one with --nats, otherwise
// an embedded one started in this process.
type busFlags struct {
	url     string
	listen  string
	dataDir string
	auth    bus.Auth
	nkeys   string
	session string
	// cluster mode of the embedded server
	clusterListen, clusterName, routes, serverName string
	replicas                                       int
}

// liveFlags are the flags of commands that decode live: recording and
// control.
type liveFlags struct {
	record, overwrite, control bool
	recordRaw                  bool
	staleAfter, haltAfter      time.Duration
}

func (l *liveFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&l.record, "record", false, "record the session (bins, intents, model) in JetStream stream BCI_<session> for replay and retraining")
	fs.BoolVar(&l.overwrite, "overwrite", false, "with --record, replace an earlier recording of the same session")
	fs.BoolVar(&l.recordRaw, "record-raw", false, "with --record and a continuous source, record the raw frames too (bci.<session>.raw)")
	fs.BoolVar(&l.control, "control", true, "serve bci.<session>.control.{swap,pause,resume,info}")
	fs.DurationVar(&l.staleAfter, "stale-after", 100*time.Millisecond, "real-time input missing this long: publish stale intents with zero velocity (0: no watchdog)")
	fs.DurationVar(&l.haltAfter, "halt-after", 500*time.Millisecond, "real-time input missing this long: publish halted intents with zero velocity")
}

// watchdog returns the watchdog settings for a real-time run.
func (l *liveFlags) watchdog(realtime bool) session.WatchdogOptions {
	if !realtime {
		return session.WatchdogOptions{}
	}
	return session.WatchdogOptions{StaleAfter: l.staleAfter, HaltAfter: l.haltAfter}
}

// register adds the flags; session and listen are the command's defaults.
func (b *busFlags) register(fs *flag.FlagSet, session, listen string) {
	fs.StringVar(&b.url, "nats", "", "URL of an external NATS server or cluster (default: start an embedded server)")
	fs.StringVar(&b.listen, "nats-listen", listen, "client address of the embedded server")
	fs.StringVar(&b.dataDir, "data-dir", bus.DefaultDataDir(), "JetStream store of the embedded server")
	registerAuth(fs, &b.auth)
	fs.StringVar(&b.nkeys, "nats-nkey-users", "", "embedded server: comma-separated public user NKeys it accepts")
	fs.StringVar(&b.session, "session", session, "session name: the <session> token of bci.<session>.* subjects")
	fs.StringVar(&b.clusterListen, "cluster-listen", "", "embedded server: join a NATS cluster, listening for routes on host:port")
	fs.StringVar(&b.clusterName, "cluster-name", "bci", "embedded server: cluster name")
	fs.StringVar(&b.routes, "routes", "", "embedded server: comma-separated nats://host:port cluster addresses of the other nodes")
	fs.StringVar(&b.serverName, "server-name", "bci-decode", "embedded server: node name (unique per cluster node)")
	fs.IntVar(&b.replicas, "replicas", 1, "replicas of recording streams and the model bucket (3 on a 3-node cluster)")
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
		srvAuth := b.auth
		if b.nkeys != "" {
			srvAuth.NKeyUsers = strings.Split(b.nkeys, ",")
		}
		var routes []string
		if b.routes != "" {
			routes = strings.Split(b.routes, ",")
		}
		srv, err = bus.StartServer(bus.ServerOptions{Listen: b.listen, DataDir: b.dataDir, Auth: srvAuth,
			Name: b.serverName, ClusterListen: b.clusterListen, ClusterName: b.clusterName, Routes: routes})
		if err != nil {
			return nil, nil, err
		}
		url = srv.ClientURL()
		log.Info().Str("url", url).Str("data_dir", b.dataDir).Msg("embedded NATS server started")
	}
	nc, err := bus.Connect(url, bus.ConnectOptions{Name: "bci-decode " + b.session, Auth: b.auth, Log: log.Logger})
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

// registerAuth adds the credential and TLS flags shared by servers and
// clients.
func registerAuth(fs *flag.FlagSet, a *bus.Auth) {
	fs.StringVar(&a.Token, "nats-token", "", "token (embedded server: required from clients)")
	fs.StringVar(&a.User, "nats-user", "", "user name (embedded server: required from clients, with --nats-password)")
	fs.StringVar(&a.Password, "nats-password", "", "password for --nats-user")
	fs.StringVar(&a.NKeySeedFile, "nats-nkey", "", "file holding this client's user NKey seed")
	fs.StringVar(&a.CredsFile, "nats-creds", "", "credentials file (servers in operator mode)")
	fs.StringVar(&a.TLSCert, "tls-cert", "", "certificate (embedded server: its server certificate; clients: the client certificate)")
	fs.StringVar(&a.TLSKey, "tls-key", "", "private key of --tls-cert")
	fs.StringVar(&a.TLSCA, "tls-ca", "", "CA that verifies the peer (embedded server: client certificates become mandatory)")
}

func shutdown(srv *bus.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn().Err(err).Msg("embedded NATS server shutdown")
	}
}
