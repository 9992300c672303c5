package dashboard_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/internal/browser"
)

// viewerConfig is a nats-server configuration with a decoder user that may
// do anything and a viewer that may only read session demo: it publishes
// nothing, so it cannot send control requests. The narrow viewer may not
// read the session's events either (credentials from before the page drew
// markers).
const viewerConfig = `
listen: %q
jetstream { store_dir: %q }
websocket { host: "127.0.0.1", port: %d, no_tls: true, same_origin: true }
authorization {
  users: [
    { user: decoder, password: decoder-pass }
    { user: viewer, password: viewer-pass, permissions: {
        publish: { deny: ">" }
        subscribe: { allow: ["bci.demo.intent", "bci.demo.status", "bci.demo.telemetry", "bci.demo.cursor", "bci.demo.events"] } } }
    { user: narrow, password: narrow-pass, permissions: {
        publish: { deny: ">" }
        subscribe: { allow: ["bci.demo.intent", "bci.demo.status", "bci.demo.telemetry", "bci.demo.cursor"] } } }
  ]
}
`

func freeAddr(t *testing.T) *net.TCPAddr {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr)
}

// TestPageGetsOnlyWhatItsCredentialsAllow runs a session on Debian's
// nats-server (the page reaching its WebSocket listener, as --http-nats-ws
// sets) with a viewer that may read the session but not control it: the
// page follows the session, and its pause is refused and changes nothing;
// asking for every session it gets none. A viewer that may not read the
// events still follows the session, and the page says it has no markers.
func TestPageGetsOnlyWhatItsCredentialsAllow(t *testing.T) {
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if os.Getenv("BCI_REQUIRE_NATS_SERVER") == "1" {
			t.Fatal("nats-server is not installed but BCI_REQUIRE_NATS_SERVER=1")
		}
		t.Skip("nats-server is not installed (apt-get install nats-server)")
	}
	browser.Path(t)
	client, ws := freeAddr(t), freeAddr(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "server.conf")
	require.NoError(t, os.WriteFile(conf, fmt.Appendf(nil, viewerConfig, client.String(), filepath.Join(dir, "js"), ws.Port), 0o600))
	srv := exec.Command(bin, "-c", conf)
	require.NoError(t, srv.Start())
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
	var nc = func() *nats.Conn {
		var c *nats.Conn
		require.Eventually(t, func() bool {
			var err error
			c, err = bus.Connect("nats://"+client.String(), bus.ConnectOptions{Auth: bus.Auth{User: "decoder", Password: "decoder-pass"}})
			return err == nil
		}, 10*time.Second, 50*time.Millisecond, "nats-server did not start")
		t.Cleanup(c.Close)
		return c
	}()
	r := startRunOn(t, nc, fmt.Sprintf("ws://127.0.0.1:%d", ws.Port), "demo", "other")

	p := browser.Open(t, r.page+"?session=demo")
	p.WaitText("conn", "t.includes('credentials')")
	p.Do(chromedp.SendKeys(browser.ByTestID("cred-user"), "viewer"), chromedp.SendKeys(browser.ByTestID("cred-password"), "viewer-pass"))
	p.Click("connect")
	p.WaitText("conn", "t === 'connected'")
	first := seq(t, p)
	p.WaitText("intent-seq", fmt.Sprintf("+t > %d", first))
	p.WaitText("intent-status", "t === 'ok'")

	mark := r.intents.mark()
	p.Click("pause")
	p.WaitText("control-result", "t.startsWith('pause failed')")
	p.WaitText("nats-note", "t === 'server refused: permissions violation'")
	r.intents.waitFor(t, mark+50, intentWait, func(decoder.Intent) bool { return true }) // a second of intents after the click
	r.intents.mu.Lock()
	for _, in := range r.intents.all[mark:] {
		assert.Equal(t, decoder.StatusOK, in.Status, "a viewer cannot pause the session")
	}
	r.intents.mu.Unlock()
	assert.Equal(t, "ok", p.Text("intent-status"))

	// Without ?session= the page asks for every session's subjects, which
	// the viewer may not read: it is refused them and shows nothing,
	// neither demo's intents nor other's.
	all := browser.Open(t, r.page)
	all.Do(chromedp.SendKeys(browser.ByTestID("cred-user"), "viewer"), chromedp.SendKeys(browser.ByTestID("cred-password"), "viewer-pass"))
	all.Click("connect")
	all.WaitText("nats-note", "t === 'server refused: permissions violation'")
	mark = r.intents.mark()
	r.intents.waitFor(t, mark+25, intentWait, func(decoder.Intent) bool { return true })
	assert.Equal(t, "—", all.Text("intent-seq"))
	all.Poll(`!document.querySelector('[data-testid="session-other"]')`)

	narrow := browser.Open(t, r.page+"?session=demo")
	narrow.Do(chromedp.SendKeys(browser.ByTestID("cred-user"), "narrow"), chromedp.SendKeys(browser.ByTestID("cred-password"), "narrow-pass"))
	narrow.Click("connect")
	narrow.WaitText("markers-note", "t === 'no markers: these credentials may not read bci.demo.events'")
	first = seq(t, narrow)
	narrow.WaitText("intent-seq", fmt.Sprintf("+t > %d", first))
	assert.Equal(t, "connected", narrow.Text("conn"))
}
