package bus_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/bus"
)

// writePEM writes one PEM block to dir/name and returns the path.
func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
	return p
}

// testPKI makes a CA and a certificate for 127.0.0.1 usable by servers and
// clients; it returns the CA, certificate and key paths.
func testPKI(t *testing.T) (ca, cert, key string) {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bci-decode test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(k)
	require.NoError(t, err)
	return writePEM(t, dir, "ca.pem", "CERTIFICATE", caDER), writePEM(t, dir, "cert.pem", "CERTIFICATE", der), writePEM(t, dir, "key.pem", "EC PRIVATE KEY", kder)
}

// TestAuthRequired starts an embedded server with each kind of access
// control and checks that a client without credentials cannot connect (so
// cannot subscribe to intents), one with wrong credentials neither, and one
// with the right ones receives intents.
func TestAuthRequired(t *testing.T) {
	ca, cert, key := testPKI(t)
	user, err := nkeys.CreateUser()
	require.NoError(t, err)
	seed, err := user.Seed()
	require.NoError(t, err)
	pub, err := user.PublicKey()
	require.NoError(t, err)
	seedFile := filepath.Join(t.TempDir(), "user.nk")
	require.NoError(t, os.WriteFile(seedFile, seed, 0o600))
	other, err := nkeys.CreateUser()
	require.NoError(t, err)
	otherSeed, err := other.Seed()
	require.NoError(t, err)
	otherFile := filepath.Join(t.TempDir(), "other.nk")
	require.NoError(t, os.WriteFile(otherFile, otherSeed, 0o600))

	tests := []struct {
		name   string
		server bus.Auth
		good   bus.Auth
		bad    bus.Auth
	}{
		{"token", bus.Auth{Token: "s3cret"}, bus.Auth{Token: "s3cret"}, bus.Auth{Token: "guess"}},
		{"user-password", bus.Auth{User: "arm", Password: "pw"}, bus.Auth{User: "arm", Password: "pw"}, bus.Auth{User: "arm", Password: "no"}},
		{"nkey", bus.Auth{NKeyUsers: []string{pub}}, bus.Auth{NKeySeedFile: seedFile}, bus.Auth{NKeySeedFile: otherFile}},
		{"tls-client-cert", bus.Auth{TLSCert: cert, TLSKey: key, TLSCA: ca}, bus.Auth{TLSCert: cert, TLSKey: key, TLSCA: ca}, bus.Auth{TLSCA: ca}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := bus.StartServer(bus.ServerOptions{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Auth: tc.server})
			require.NoError(t, err)
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = srv.Shutdown(ctx)
			}()
			url := srv.ClientURL()
			if tc.server.TLSCert != "" {
				url = strings.Replace(url, "nats://", "tls://", 1)
			}
			for name, a := range map[string]bus.Auth{"none": {}, "wrong": tc.bad} {
				if tc.server.TLSCert != "" && name == "none" {
					a.TLSCA = ca // trusts the server, but presents no certificate
				}
				_, err := bus.Connect(url, bus.ConnectOptions{Auth: a, Timeout: 2 * time.Second})
				assert.Error(t, err, "%s credentials must be refused", name)
			}
			nc, err := bus.Connect(url, bus.ConnectOptions{Auth: tc.good, Timeout: 2 * time.Second})
			require.NoError(t, err)
			defer nc.Close()
			sub, err := nc.SubscribeSync(bus.IntentSubject("auth"))
			require.NoError(t, err)
			require.NoError(t, nc.Publish(bus.IntentSubject("auth"), []byte(`{"seq":0}`)))
			_, err = sub.NextMsg(2 * time.Second)
			require.NoError(t, err)
		})
	}
}

func TestAuthConfigErrors(t *testing.T) {
	for _, a := range []bus.Auth{
		{Token: "x", User: "u", Password: "p"},
		{User: "u"},
		{TLSCA: "/nonexistent/ca.pem"},
		{TLSCert: "/nonexistent/cert.pem", TLSKey: "/nonexistent/key.pem"},
	} {
		_, err := bus.StartServer(bus.ServerOptions{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Auth: a})
		assert.Error(t, err, "%+v", a)
	}
}
