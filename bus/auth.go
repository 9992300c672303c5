package bus

import (
	"fmt"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Auth holds credentials and TLS settings, shared by the embedded server
// (which then requires them) and by clients (which present them).
type Auth struct {
	// Token is a shared secret.
	Token string
	// User and Password authenticate by name.
	User, Password string
	// NKeySeedFile holds a user NKey seed (client side); NKeyUsers lists
	// the public user NKeys the embedded server accepts.
	NKeySeedFile string
	NKeyUsers    []string
	// CredsFile is a decentralised-auth credentials file (client side;
	// the server must run in operator mode).
	CredsFile string
	// TLSCert and TLSKey are this side's certificate; TLSCA verifies the
	// peer. On the embedded server a CA makes client certificates
	// mandatory.
	TLSCert, TLSKey, TLSCA string
}

// protects reports whether a server requiring a keeps strangers out.
func (a Auth) protects() bool {
	return a.Token != "" || a.User != "" || len(a.NKeyUsers) > 0 || a.TLSCA != ""
}

// serverOptions applies a to an embedded server's options.
func (a Auth) serverOptions(o *server.Options) error {
	methods := 0
	for _, set := range []bool{a.Token != "", a.User != "", len(a.NKeyUsers) > 0} {
		if set {
			methods++
		}
	}
	if methods > 1 {
		return fmt.Errorf("embedded nats: choose one of token, user/password and nkeys")
	}
	o.Authorization = a.Token
	if a.User != "" {
		if a.Password == "" {
			return fmt.Errorf("embedded nats: user %q needs a password", a.User)
		}
		o.Username, o.Password = a.User, a.Password
	}
	for _, pub := range a.NKeyUsers {
		o.Nkeys = append(o.Nkeys, &server.NkeyUser{Nkey: pub})
	}
	if a.TLSCert != "" || a.TLSKey != "" {
		tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: a.TLSCert, KeyFile: a.TLSKey, CaFile: a.TLSCA, Verify: a.TLSCA != "", Timeout: 2})
		if err != nil {
			return fmt.Errorf("embedded nats: tls: %w", err)
		}
		o.TLSConfig, o.TLSVerify, o.TLSTimeout = tc, a.TLSCA != "", 2
	} else if a.TLSCA != "" {
		return fmt.Errorf("embedded nats: a TLS CA needs a server certificate and key")
	}
	return nil
}

// clientOptions turns a into nats.go options.
func (a Auth) clientOptions() ([]nats.Option, error) {
	var opts []nats.Option
	if a.Token != "" {
		opts = append(opts, nats.Token(a.Token))
	}
	if a.User != "" {
		opts = append(opts, nats.UserInfo(a.User, a.Password))
	}
	if a.NKeySeedFile != "" {
		o, err := nats.NkeyOptionFromSeed(a.NKeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("nkey seed %s: %w", a.NKeySeedFile, err)
		}
		opts = append(opts, o)
	}
	if a.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(a.CredsFile))
	}
	if a.TLSCA != "" {
		opts = append(opts, nats.RootCAs(a.TLSCA))
	}
	if a.TLSCert != "" || a.TLSKey != "" {
		opts = append(opts, nats.ClientCert(a.TLSCert, a.TLSKey))
	}
	return opts, nil
}
