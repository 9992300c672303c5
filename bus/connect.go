package bus

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// ConnectOptions configures a client connection.
type ConnectOptions struct {
	// Name identifies the client to the server.
	Name string
	// Auth holds the credentials and TLS settings to present.
	Auth Auth
	// Timeout bounds the first connection attempt (default 5 s).
	Timeout time.Duration
	// ReconnectBuffer bounds what is buffered while disconnected (bytes,
	// default 8 MiB); beyond it publishes fail and are counted as drops.
	ReconnectBuffer int
	// Log receives connection events; the zero logger discards them.
	Log zerolog.Logger
}

// EnsureDefaults fills the zero fields of o with their defaults.
func (o *ConnectOptions) EnsureDefaults() {
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	if o.ReconnectBuffer == 0 {
		o.ReconnectBuffer = 8 << 20
	}
}

// ErrUnreachable is returned when no server answers at the given URL.
var ErrUnreachable = errors.New("nats server unreachable")

// Connect opens a connection to url. After the first connection succeeds the
// client reconnects on its own, forever, buffering up to ReconnectBuffer.
func Connect(url string, opts ConnectOptions) (*nats.Conn, error) {
	opts.EnsureDefaults()
	log := opts.Log
	nopts := []nats.Option{
		nats.Name(opts.Name),
		nats.Timeout(opts.Timeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectBufSize(opts.ReconnectBuffer),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil { // nil when we closed the connection ourselves
				log.Warn().Err(err).Msg("nats disconnected")
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info().Str("url", nc.ConnectedUrlRedacted()).Msg("nats reconnected")
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			ev := log.Error().Err(err)
			if sub != nil {
				ev = ev.Str("subject", sub.Subject)
			}
			ev.Msg("nats async error")
		}),
	}
	auth, err := opts.Auth.clientOptions()
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", url, err)
	}
	nopts = append(nopts, auth...)
	nc, err := nats.Connect(url, nopts...)
	if err != nil {
		if errors.Is(err, nats.ErrNoServers) {
			return nil, fmt.Errorf("connect to %s: %w: %v", url, ErrUnreachable, err)
		}
		return nil, fmt.Errorf("connect to %s: %w", url, err)
	}
	return nc, nil
}
