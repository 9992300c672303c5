package bus

import (
	"sync"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// The embedded server also listens for NATS over WebSocket, for browser
// pages (the dashboard): on a free loopback port, without TLS (the traffic
// never leaves the machine), with the client port's access control. It
// checks that a browser's Origin is the listener's own host and port,
// which serves no page, so a page of some other site open in a browser on
// this machine cannot connect to it; pages reach it through a proxy on
// their own origin (the dashboard's), which drops the header, as
// non-browser clients send none.
//
// It stays closed when the client port requires client certificates: a
// browser could not present them, and without TLS the WebSocket port
// would let clients in without one.

// websocketOptions opens the WebSocket listener unless a rules it out.
func websocketOptions(so *server.Options, a Auth) {
	if a.TLSCA != "" {
		return
	}
	so.Websocket = server.WebsocketOpts{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoTLS: true, SameOrigin: true}
}

// WebSocketURL is the ws:// URL of the server's WebSocket listener, or ""
// when it has none.
func (s *Server) WebSocketURL() string {
	if !s.ws {
		return ""
	}
	return s.ns.WebsocketURL()
}

// websockets maps the connections Dial made to an embedded server to that
// server's WebSocket URL, so whatever is handed the connection (an output
// plug-in's web server) can offer the same server to browsers.
var websockets sync.Map // *nats.Conn -> string

// WebSocketURL returns the WebSocket URL of the embedded server nc was
// dialled to, if Dial started one that listens for WebSocket clients.
func WebSocketURL(nc *nats.Conn) (string, bool) {
	u, ok := websockets.Load(nc)
	if !ok {
		return "", false
	}
	return u.(string), true
}
