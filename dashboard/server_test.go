package dashboard_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/dashboard"
)

// serve runs the dashboard for the test on addr and returns its URL.
func serve(t *testing.T, addr, ws string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready, errc := make(chan string, 1), make(chan error, 1)
	go func() {
		errc <- dashboard.Serve(ctx, dashboard.Options{Addr: addr, NATS: ws, Ready: func(u string) { ready <- u }})
	}()
	t.Cleanup(func() { cancel(); require.NoError(t, <-errc) })
	select {
	case u := <-ready:
		return u
	case err := <-errc:
		t.Fatal(err)
	case <-time.After(10 * time.Second):
		t.Fatal("not serving")
	}
	return ""
}

func dial(t *testing.T, auth bus.Auth) (*nats.Conn, string) {
	t.Helper()
	nc, closeBus, err := bus.Dial(bus.Endpoint{Server: bus.ServerOptions{Listen: "127.0.0.1:0", DataDir: t.TempDir()}, Auth: auth})
	require.NoError(t, err)
	t.Cleanup(closeBus)
	ws, ok := bus.WebSocketURL(nc)
	require.True(t, ok)
	return nc, ws
}

func get(t *testing.T, url string, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestServesTheEmbeddedPage: the page, its script and the vendored client
// come from the binary, with a policy that loads nothing from elsewhere.
func TestServesTheEmbeddedPage(t *testing.T) {
	_, ws := dial(t, bus.Auth{})
	u := serve(t, "127.0.0.1:0", ws)
	for path, want := range map[string]string{"": `data-testid="intent-seq"`, "app.js": "requestAnimationFrame", "vendor/nats.ws/nats.js": "function connect(", "vendor/nats.ws/LICENSE": "Apache License"} {
		code, body := get(t, u+path, nil)
		assert.Equal(t, http.StatusOK, code, path)
		assert.Contains(t, body, want, path)
	}
	res, err := http.Get(u)
	require.NoError(t, err)
	res.Body.Close()
	assert.Contains(t, res.Header.Get("Content-Security-Policy"), "default-src 'self'")
}

// TestBusyPortFallsBack: a taken port does not stop the dashboard; it
// serves on a free port of the same host and says where.
func TestBusyPortFallsBack(t *testing.T) {
	_, ws := dial(t, bus.Auth{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	u := serve(t, l.Addr().String(), ws)
	assert.NotContains(t, u, l.Addr().String())
	assert.True(t, strings.HasPrefix(u, "http://127.0.0.1:"), u)
	code, _ := get(t, u, nil)
	assert.Equal(t, http.StatusOK, code)
}

// TestProxyIsTheOnlyWayInForPages: a NATS client reaches the server through
// the page's /nats with the server's own access control; a browser request
// from another site, or naming a non-loopback host, is refused, and the
// server's WebSocket listener itself refuses browsers.
func TestProxyIsTheOnlyWayInForPages(t *testing.T) {
	const token = "proxy-test-token"
	nc, ws := dial(t, bus.Auth{Token: token})
	u := serve(t, "127.0.0.1:0", ws)
	proxied := "ws://" + strings.TrimPrefix(strings.TrimSuffix(u, "/"), "http://") + "/nats"

	_, err := nats.Connect(proxied, nats.Timeout(5*time.Second))
	require.Error(t, err, "no token, no connection")
	wc, err := nats.Connect(proxied, nats.Token(token), nats.Timeout(5*time.Second))
	require.NoError(t, err)
	defer wc.Close()
	sub, err := wc.SubscribeSync("bci.x.intent")
	require.NoError(t, err)
	require.NoError(t, wc.Flush())
	require.NoError(t, nc.Publish("bci.x.intent", []byte("{}")))
	m, err := sub.NextMsg(5 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, "{}", string(m.Data))

	upgrade := http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"}, "Sec-Websocket-Version": {"13"}, "Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}}
	withOrigin := func(o string) http.Header {
		h := upgrade.Clone()
		h.Set("Origin", o)
		return h
	}
	code, _ := get(t, u+"nats", withOrigin("http://evil.example"))
	assert.Equal(t, http.StatusForbidden, code, "a page of another site")
	code, _ = get(t, u+"nats", withOrigin(strings.TrimSuffix(u, "/")))
	assert.Equal(t, http.StatusSwitchingProtocols, code, "the dashboard's own page")
	code, _ = get(t, strings.Replace(ws, "ws://", "http://", 1), withOrigin(strings.TrimSuffix(u, "/")))
	assert.Equal(t, http.StatusForbidden, code, "the listener itself lets no browser in")

	req, err := http.NewRequest("GET", u, nil)
	require.NoError(t, err)
	req.Host = "rebound.example:8080"
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusMisdirectedRequest, res.StatusCode, "DNS rebinding onto loopback")
}
