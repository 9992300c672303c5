package bus

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/nats-io/nats.go"
)

// EndpointFlags binds an Endpoint to command-line flags: --nats for an
// external server or cluster, or the embedded server's address, store,
// cluster and access-control flags. Check reads them once parsed.
type EndpointFlags struct {
	Endpoint
	Auth AuthFlags
	// Replicas is the number of copies of recording streams and buckets.
	Replicas int
	// Existing makes a missing data directory an error (commands that read
	// recorded sessions: a typo must not make an empty store).
	Existing      bool
	nkeys, routes string
}

// Bind registers the flags on fs; listen is the embedded server's default
// client address.
func (f *EndpointFlags) Bind(fs *flag.FlagSet, listen string) {
	s := &f.Server
	fs.StringVar(&f.URL, "nats", "", "URL of an external NATS server or cluster (default: start an embedded server)")
	fs.StringVar(&s.Listen, "nats-listen", listen, "client address of the embedded server")
	fs.StringVar(&s.DataDir, "data-dir", DefaultDataDir(), "JetStream store of the embedded server")
	f.Auth.Bind(fs)
	fs.StringVar(&f.nkeys, "nats-nkey-users", "", "embedded server: comma-separated public user NKeys it accepts")
	fs.StringVar(&s.ClusterListen, "cluster-listen", "", "embedded server: join a NATS cluster, listening for routes on host:port")
	fs.StringVar(&s.ClusterName, "cluster-name", "bci", "embedded server: cluster name")
	fs.StringVar(&f.routes, "routes", "", "embedded server: comma-separated nats://host:port cluster addresses of the other nodes")
	fs.StringVar(&s.Name, "server-name", "bci-decode", "embedded server: node name (unique per cluster node)")
	fs.IntVar(&f.Replicas, "replicas", 1, "replicas of recording streams and the model bucket (3 on a 3-node cluster)")
}

// Check reads the parsed flags into the Endpoint and checks them.
func (f *EndpointFlags) Check() error {
	if f.Replicas < 1 || f.Replicas > 5 {
		return fmt.Errorf("--replicas %d: want 1-5", f.Replicas)
	}
	if err := f.Auth.Check(); err != nil {
		return err
	}
	f.Endpoint.Auth = f.Auth.Auth
	f.Server.Auth.NKeyUsers, f.Server.Routes = split(f.nkeys), split(f.routes)
	if err := f.Endpoint.Validate(); err != nil {
		return err
	}
	if f.Existing && f.URL == "" {
		if st, err := os.Stat(f.Server.DataDir); err != nil || !st.IsDir() {
			return fmt.Errorf("--data-dir %s: no such store (give the directory the session was recorded in, or --nats)", f.Server.DataDir)
		}
	}
	return nil
}

// Dial connects as the flags say, noting when a new store is made.
func (f *EndpointFlags) Dial() (*nats.Conn, func(), error) {
	if f.URL == "" {
		if _, err := os.Stat(f.Server.DataDir); errors.Is(err, os.ErrNotExist) {
			f.Log.Info().Str("data_dir", f.Server.DataDir).Msg("creating a new JetStream store")
		}
	}
	return Dial(f.Endpoint)
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// AuthFlags binds Auth to command-line flags. Secrets come from files or
// the environment, never from flags, which anyone on the machine can read
// in the process list.
type AuthFlags struct {
	Auth
	tokenFile, passwordFile string
}

// Bind registers the credential and TLS flags on fs.
func (a *AuthFlags) Bind(fs *flag.FlagSet) {
	fs.StringVar(&a.tokenFile, "nats-token-file", "", "file holding the token (embedded server: required from clients); default: $"+EnvToken)
	fs.StringVar(&a.User, "nats-user", "", "user name (embedded server: required from clients, with the password)")
	fs.StringVar(&a.passwordFile, "nats-password-file", "", "file holding the password of --nats-user; default: $"+EnvPassword)
	fs.StringVar(&a.NKeySeedFile, "nats-nkey", "", "file holding this client's user NKey seed")
	fs.StringVar(&a.CredsFile, "nats-creds", "", "credentials file (servers in operator mode)")
	fs.StringVar(&a.TLSCert, "tls-cert", "", "certificate (embedded server: its server certificate; clients: the client certificate)")
	fs.StringVar(&a.TLSKey, "tls-key", "", "private key of --tls-cert")
	fs.StringVar(&a.TLSCA, "tls-ca", "", "CA that verifies the peer (embedded server: client certificates become mandatory)")
}

// Check reads the secrets and checks that the files named exist.
func (a *AuthFlags) Check() error {
	if err := a.ResolveSecrets(a.tokenFile, a.passwordFile); err != nil {
		return err
	}
	if a.User != "" && a.Password == "" {
		return fmt.Errorf("--nats-user %s needs a password (--nats-password-file or $%s)", a.User, EnvPassword)
	}
	for _, f := range []string{a.NKeySeedFile, a.CredsFile, a.TLSCert, a.TLSKey, a.TLSCA} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			return err
		}
	}
	return nil
}
