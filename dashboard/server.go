package dashboard

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

//go:embed static
var static embed.FS

// Options configures the dashboard's web server.
type Options struct {
	// Addr is the host:port the page is served on (required; port 0
	// picks a free port). When the port is taken the server says so and
	// serves on a free port of the same host instead: a dashboard must
	// not stop a session from decoding, nor fail unnoticed.
	Addr string
	// NATS is the ws:// URL of the WebSocket listener of the NATS server
	// the page reads (required). The page connects to the server's own
	// /nats, which is proxied there, so it needs one origin and one port.
	NATS string
	// Log receives the page's address and the proxy's errors.
	Log zerolog.Logger
	// Ready, when set, is called with the page's URL once the server
	// listens.
	Ready func(url string)
}

// Validate reports options the server cannot run with.
func (o *Options) Validate() error {
	if _, _, err := net.SplitHostPort(o.Addr); err != nil {
		return fmt.Errorf("dashboard: --http %q: want host:port: %w", o.Addr, err)
	}
	u, err := url.Parse(o.NATS)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return fmt.Errorf("dashboard: NATS WebSocket URL %q: want ws://host:port or wss://host:port", o.NATS)
	}
	return nil
}

// Serve serves the dashboard until ctx ends.
func Serve(ctx context.Context, opts Options) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	l, err := listen(opts.Addr, opts.Log)
	if err != nil {
		return err
	}
	h, err := handler(opts)
	if err != nil {
		l.Close()
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	page := "http://" + l.Addr().String() + "/"
	if host, _, _ := net.SplitHostPort(opts.Addr); !isLoopback(host) {
		opts.Log.Warn().Str("listen", l.Addr().String()).Msg("dashboard: served beyond loopback, and NATS with it: without access control on the server anyone who reaches this address can read and control sessions")
	}
	opts.Log.Info().Str("url", page).Msg("dashboard: open this page in a browser")
	if opts.Ready != nil {
		opts.Ready(page)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return fmt.Errorf("dashboard: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		// Open WebSocket connections are hijacked: Shutdown does not wait
		// for them; Close ends what is left.
		srv.Close()
	}
	<-errc
	return nil
}

// listen listens on addr or, when its port is taken, on a free port of
// the same host.
func listen(addr string, log zerolog.Logger) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err == nil {
		return l, nil
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("dashboard: --http %s: %w", addr, err)
	}
	host, _, _ := net.SplitHostPort(addr)
	l, ferr := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if ferr != nil {
		return nil, fmt.Errorf("dashboard: --http %s: %w (and no free port: %v)", addr, err, ferr)
	}
	log.Warn().Str("asked", addr).Str("serving", l.Addr().String()).Msg("dashboard: port busy; serving on a free port instead")
	return l, nil
}

// handler serves the page's files and the proxy to NATS.
func handler(opts Options) (http.Handler, error) {
	files, err := fs.Sub(static, "static")
	if err != nil {
		return nil, err
	}
	target, _ := url.Parse(opts.NATS) // checked by Validate
	if target.Scheme == "wss" {
		target.Scheme = "https"
	} else {
		target.Scheme = "http"
	}
	host, _, _ := net.SplitHostPort(opts.Addr)
	loopbackOnly := isLoopback(host)
	mux := http.NewServeMux()
	mux.Handle("GET /", http.FileServerFS(files))
	mux.Handle("GET /nats", natsProxy(target, opts.Log))
	return guard(mux, loopbackOnly), nil
}

// natsProxy forwards the page's WebSocket to the NATS server's listener.
// The Origin header, already checked by guard, is dropped: the listener
// lets in only clients that send none (see bus.WebSocketURL).
func natsProxy(target *url.URL, log zerolog.Logger) http.Handler {
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.URL.Path = target.Path
			r.Out.Header.Del("Origin")
			r.Out.Header.Del("Sec-Websocket-Origin")
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			log.Warn().Err(err).Msg("dashboard: cannot reach the NATS WebSocket listener")
			http.Error(w, "NATS server unreachable", http.StatusBadGateway)
		},
	}
}

// guard refuses requests a browser makes on behalf of another site: a
// WebSocket from a page of another origin, and, on a loopback address,
// any request naming a host that is not loopback (DNS rebinding). Every
// response forbids loading anything from elsewhere.
func guard(next http.Handler, loopbackOnly bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if loopbackOnly && !isLoopbackHost(r.Host) {
			http.Error(w, "this dashboard answers on loopback names only", http.StatusMisdirectedRequest)
			return
		}
		if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host && o != "https://"+r.Host {
			http.Error(w, "cross-origin request refused", http.StatusForbidden)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// isLoopbackHost reports whether a Host header (host or host:port) names
// this machine.
func isLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	return isLoopback(strings.Trim(host, "[]"))
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
