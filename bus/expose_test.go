package bus_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/bus"
)

// TestExposedServerWarns starts the embedded server on addresses beyond
// loopback, with and without access control: only an exposed server
// without it is warned about. (The servers listen a moment; nothing is
// sent to them.)
func TestExposedServerWarns(t *testing.T) {
	tests := []struct {
		listen string
		auth   bus.Auth
		warn   bool
	}{
		{"0.0.0.0:0", bus.Auth{}, true},
		{":0", bus.Auth{}, true},
		{"0.0.0.0:0", bus.Auth{Token: "s3cret"}, false},
		{"0.0.0.0:0", bus.Auth{User: "arm", Password: "pw"}, false},
		{"127.0.0.1:0", bus.Auth{}, false},
		{"localhost:0", bus.Auth{}, false},
	}
	for _, tc := range tests {
		var logs bytes.Buffer
		srv, err := bus.StartServer(bus.ServerOptions{Listen: tc.listen, DataDir: t.TempDir(), Auth: tc.auth, Log: zerolog.New(&logs)})
		require.NoError(t, err, tc.listen)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		require.NoError(t, srv.Shutdown(ctx))
		cancel()
		if tc.warn {
			assert.Contains(t, logs.String(), "listens beyond loopback without access control", "%s %+v", tc.listen, tc.auth)
		} else {
			assert.NotContains(t, logs.String(), "beyond loopback", "%s %+v", tc.listen, tc.auth)
		}
	}
}
