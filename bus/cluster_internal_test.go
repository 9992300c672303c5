package bus

import (
	"bytes"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/rs/zerolog"
)

// TestExposedClusterPortWarns: routes carry no credentials, so a cluster
// port beyond loopback is warned about, even with client access control;
// on loopback it is not. (Only the server's options are built.)
func TestExposedClusterPortWarns(t *testing.T) {
	for listen, warn := range map[string]bool{"0.0.0.0:6222": true, ":6222": true, "127.0.0.1:6222": false, "localhost:6222": false} {
		var logs bytes.Buffer
		opts := ServerOptions{Name: "n1", ClusterListen: listen, Auth: Auth{Token: "s3cret"}, DataDir: t.TempDir(), Log: zerolog.New(&logs)}
		if err := clusterOptions(&server.Options{}, opts); err != nil {
			t.Fatalf("%s: %v", listen, err)
		}
		if got := strings.Contains(logs.String(), "cluster port listens beyond loopback"); got != warn {
			t.Errorf("%s: warned %v, want %v (%s)", listen, got, warn, logs.String())
		}
	}
}
