package bus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/rs/zerolog"
)

// ServerOptions configures the embedded NATS server. Zero fields take the
// defaults filled in by EnsureDefaults.
type ServerOptions struct {
	// Listen is the client address, host:port. Port 0 picks a free port.
	// Default 127.0.0.1:4222: loopback unless told otherwise.
	Listen string
	// DataDir holds the JetStream store. Default DefaultDataDir().
	DataDir string
	// Name is the server name (default "bci-decode").
	Name string
	// Auth, when set, is required from every client.
	Auth Auth
	// ClusterListen, when set (host:port), makes the server a node of a
	// NATS cluster named ClusterName (default "bci") that routes to Routes
	// (nats://host:port of the other nodes' cluster listeners). JetStream
	// then replicates streams across the nodes; Name must differ per node.
	ClusterListen string
	ClusterName   string
	Routes        []string
	// ReadyTimeout bounds the wait for the server to accept clients
	// (default 10 s).
	ReadyTimeout time.Duration
	// Log receives the server's warnings (an exposed server without
	// access control, say).
	Log zerolog.Logger
}

// DefaultListen is the embedded server's default client address.
const DefaultListen = "127.0.0.1:4222"

// DefaultDataDir is where the embedded server keeps JetStream data by
// default: $XDG_DATA_HOME/bci-decode, or ~/.local/share/bci-decode.
func DefaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "bci-decode")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "bci-decode")
	}
	return filepath.Join(os.TempDir(), "bci-decode")
}

// EnsureDefaults fills the zero fields of o with their defaults.
func (o *ServerOptions) EnsureDefaults() {
	if o.Listen == "" {
		o.Listen = DefaultListen
	}
	if o.DataDir == "" {
		o.DataDir = DefaultDataDir()
	}
	if o.Name == "" {
		o.Name = "bci-decode"
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 10 * time.Second
	}
}

// Server is an embedded NATS server with JetStream enabled.
type Server struct {
	ns *server.Server
	ws bool // listens for WebSocket clients
}

// StartServer starts an embedded server and waits until it accepts clients.
func StartServer(opts ServerOptions) (*Server, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	host, portStr, err := net.SplitHostPort(opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: listen address %q: %w", opts.Listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("embedded nats: listen address %q: bad port", opts.Listen)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	if !isLoopback(host) && !opts.Auth.protects() {
		opts.Log.Warn().Str("listen", opts.Listen).Msg("the embedded NATS server listens beyond loopback without access control: anyone on the network can read and control sessions (give --nats-token-file, --nats-user or --tls-ca)")
	}
	if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("embedded nats: data dir: %w", err)
	}
	// Fail fast with a clear message when the port is taken, instead of
	// the server's own retry loop and log.
	if port != server.RANDOM_PORT {
		l, err := net.Listen("tcp", opts.Listen)
		if err != nil {
			return nil, fmt.Errorf("embedded nats: cannot listen on %s (use --nats-listen with a free port, or --nats to use a running server): %w", opts.Listen, err)
		}
		l.Close()
	}
	so := &server.Options{
		ServerName: opts.Name,
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   opts.DataDir,
		NoLog:      true,
		NoSigs:     true,
		MaxPayload: 8 << 20,
	}
	if err := opts.Auth.serverOptions(so); err != nil {
		return nil, err
	}
	websocketOptions(so, opts.Auth)
	if opts.ClusterListen != "" {
		if err := clusterOptions(so, opts); err != nil {
			return nil, err
		}
	} else if len(opts.Routes) > 0 {
		return nil, fmt.Errorf("embedded nats: routes need a cluster listen address")
	}
	ns, err := server.NewServer(so)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(opts.ReadyTimeout) {
		ns.Shutdown()
		return nil, fmt.Errorf("embedded nats: not ready for connections on %s after %v", opts.Listen, opts.ReadyTimeout)
	}
	return &Server{ns: ns, ws: so.Websocket.Port != 0}, nil
}

// ClientURL is the URL clients connect to.
func (s *Server) ClientURL() string { return s.ns.ClientURL() }

// Addr is the address the server listens on for clients.
func (s *Server) Addr() string {
	if a, ok := s.ns.Addr().(*net.TCPAddr); ok {
		return a.String()
	}
	return ""
}

// Shutdown stops the server, closing client connections and flushing the
// JetStream store, and waits for it to finish or for ctx to be done. When ctx
// ends first the server goes on stopping in the background.
func (s *Server) Shutdown(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return errors.New("embedded nats: shutdown did not finish in time")
	}
}

// clusterOptions configures the server as one node of a cluster.
func clusterOptions(so *server.Options, opts ServerOptions) error {
	host, portStr, err := net.SplitHostPort(opts.ClusterListen)
	if err != nil {
		return fmt.Errorf("embedded nats: cluster listen address %q: %w", opts.ClusterListen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 1 || port > 65535 {
		return fmt.Errorf("embedded nats: cluster listen address %q: bad port", opts.ClusterListen)
	}
	name := opts.ClusterName
	if name == "" {
		name = "bci"
	}
	if !isLoopback(host) {
		opts.Log.Warn().Str("cluster_listen", opts.ClusterListen).Msg("the embedded NATS server's cluster port listens beyond loopback and routes carry no credentials: any host that reaches it can join the cluster and read every session (keep it on a private network or behind a firewall)")
	}
	so.Cluster = server.ClusterOpts{Name: name, Host: host, Port: port}
	for _, r := range opts.Routes {
		u, err := url.Parse(r)
		if err != nil || u.Host == "" {
			return fmt.Errorf("embedded nats: route %q is not a nats://host:port URL", r)
		}
		so.Routes = append(so.Routes, u)
	}
	// Each node keeps its own store below the data directory, so nodes can
	// share one directory on one machine.
	so.StoreDir = filepath.Join(opts.DataDir, so.ServerName)
	return nil
}

// isLoopback reports whether host only reaches this machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
