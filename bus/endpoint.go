package bus

import (
	"context"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// Endpoint says where a process finds its NATS server: an external server
// or cluster at URL, or, when URL is empty, an embedded server it starts
// itself with Server's options. The code that uses the connection is the
// same either way.
type Endpoint struct {
	URL    string
	Server ServerOptions
	// Auth is presented by the client (and required by an embedded
	// server).
	Auth Auth
	// Name identifies the client to the server.
	Name string
	Log  zerolog.Logger
}

// Dial connects to the endpoint, starting the embedded server first when
// there is no URL. close closes the connection and stops the embedded
// server.
func Dial(e Endpoint) (nc *nats.Conn, close func(), err error) {
	url := e.URL
	var srv *Server
	if url == "" {
		e.Server.Auth = mergeAuth(e.Server.Auth, e.Auth)
		e.Server.Log = e.Log
		if srv, err = StartServer(e.Server); err != nil {
			return nil, nil, err
		}
		url = srv.ClientURL()
		e.Log.Info().Str("url", url).Str("data_dir", e.Server.DataDir).Msg("embedded NATS server started")
	}
	nc, err = Connect(url, ConnectOptions{Name: e.Name, Auth: e.Auth, Log: e.Log})
	if err != nil {
		if srv != nil {
			srv.shutdown(e.Log)
		}
		return nil, nil, err
	}
	if srv != nil && srv.WebSocketURL() != "" {
		websockets.Store(nc, srv.WebSocketURL())
	}
	return nc, func() {
		websockets.Delete(nc)
		nc.Close()
		if srv != nil {
			srv.shutdown(e.Log)
		}
	}, nil
}

// mergeAuth adds to an embedded server's access control the credentials
// its own client presents (the server requires what the client shows).
func mergeAuth(server, client Auth) Auth {
	nkeys := server.NKeyUsers
	server = client
	server.NKeyUsers = nkeys
	return server
}

// shutdown stops the server within 10 s, logging a failure.
func (s *Server) shutdown(log zerolog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		log.Warn().Err(err).Msg("embedded NATS server shutdown")
	}
}
