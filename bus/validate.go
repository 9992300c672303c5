package bus

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// Validate reports options that name no server: bad addresses, routes
// without a cluster, an empty store path.
func (o *ServerOptions) Validate() error {
	if err := checkHostPort(o.Listen, true); err != nil {
		return fmt.Errorf("embedded nats: listen address: %w", err)
	}
	if o.DataDir == "" {
		return errors.New("embedded nats: empty data directory")
	}
	if o.ClusterListen != "" {
		if err := checkHostPort(o.ClusterListen, false); err != nil {
			return fmt.Errorf("embedded nats: cluster listen address: %w", err)
		}
	} else if len(o.Routes) > 0 {
		return errors.New("embedded nats: routes need a cluster listen address")
	}
	for _, r := range o.Routes {
		if u, err := url.Parse(r); err != nil || u.Host == "" {
			return fmt.Errorf("embedded nats: route %q is not a nats://host:port URL", r)
		}
	}
	return nil
}

// Validate reports an endpoint that cannot be reached or started.
func (e *Endpoint) Validate() error {
	if e.URL == "" {
		s := e.Server
		s.EnsureDefaults()
		return s.Validate()
	}
	for _, u := range strings.Split(e.URL, ",") {
		p, err := url.Parse(strings.TrimSpace(u))
		if err != nil || p.Host == "" {
			return fmt.Errorf("nats URL %q: want nats://host:port", u)
		}
		switch p.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			return fmt.Errorf("nats URL %q: scheme %q (want nats, tls, ws or wss)", u, p.Scheme)
		}
	}
	return nil
}

// checkHostPort checks a host:port address; port 0 (any free port) is
// allowed when anyPort is set.
func checkHostPort(addr string, anyPort bool) error {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q: %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 || port == 0 && !anyPort {
		return fmt.Errorf("%q: bad port", addr)
	}
	if host != "" && net.ParseIP(host) == nil && !validHostname(host) {
		return fmt.Errorf("%q: bad host", addr)
	}
	return nil
}

func validHostname(h string) bool {
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return len(h) <= 253
}

// Secrets are read from files or the environment rather than from flags,
// which anyone on the machine can read in the process list.
const (
	EnvToken    = "BCI_NATS_TOKEN"
	EnvPassword = "BCI_NATS_PASSWORD"
)

// ResolveSecrets fills the token and password from files (tokenFile,
// passwordFile) or, when those are empty and the fields are too, from the
// environment variables EnvToken and EnvPassword.
func (a *Auth) ResolveSecrets(tokenFile, passwordFile string) error {
	for _, s := range []struct {
		dst       *string
		file, env string
	}{{&a.Token, tokenFile, EnvToken}, {&a.Password, passwordFile, EnvPassword}} {
		switch {
		case s.file != "":
			b, err := os.ReadFile(s.file)
			if err != nil {
				return fmt.Errorf("read secret: %w", err)
			}
			*s.dst = strings.TrimSpace(string(b))
			if *s.dst == "" {
				return fmt.Errorf("secret file %s is empty", s.file)
			}
		case *s.dst == "":
			*s.dst = os.Getenv(s.env)
		}
	}
	return nil
}
