package dashboard_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/encoder"
	"github.com/bci-decode/bci-decode/frontend"
	"github.com/bci-decode/bci-decode/internal/browser"
	"github.com/bci-decode/bci-decode/internal/testkit"
	"github.com/bci-decode/bci-decode/lsl"
)

const intentWait = 15 * time.Second

// seq waits for the page to show a seq and returns it.
func seq(t *testing.T, p *browser.Page) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(p.WaitText("intent-seq", "/^[0-9]+$/.test(t)"), 10, 64)
	require.NoError(t, err)
	return n
}

// TestPageFollowsAndControlsASession opens the dashboard of a live session
// in chromium: the seq shown increases, latency figures appear; pausing
// from the page makes the banner say halted and the intents a controller
// receives say halted; resuming brings ok back; a swap from the page
// changes the model hash shown and the model the intents name; when the
// session stops publishing, the banner says so.
func TestPageFollowsAndControlsASession(t *testing.T) {
	r := startRun(t, bus.Auth{})
	p := browser.Open(t, r.page)

	first := seq(t, p)
	require.Eventually(t, func() bool { return seq(t, p) > first }, browser.Wait, 100*time.Millisecond, "the seq shown increases")
	p.WaitText("latency-p99", `/^[0-9.]+ (µs|ms|s)$/.test(t)`)
	p.WaitText("page-p99", `/^[0-9.]+ (µs|ms|s)$/.test(t)`)
	p.WaitText("step-p99", `/^[0-9.]+ (µs|ms|s)$/.test(t)`)
	p.WaitText("model", fmt.Sprintf("t === %q", r.model.Hash[:12]))
	p.WaitText("intent-status", "t === 'ok'")
	p.WaitText("watchdog", "t.startsWith('ok')")

	mark := r.intents.mark()
	p.Click("pause")
	p.WaitText("intent-status", "t === 'halted'")
	p.WaitText("banner", "t.startsWith('HALTED')")
	halted := r.intents.waitFor(t, mark, intentWait, func(in decoder.Intent) bool { return in.Status == decoder.StatusHalted })
	assert.Equal(t, []float32{0, 0}, halted.Values, "halted intents mean stop")

	mark = r.intents.mark()
	p.Click("resume")
	p.WaitText("intent-status", "t === 'ok'")
	p.WaitText("banner", "t === ''")
	r.intents.waitFor(t, mark, intentWait, func(in decoder.Intent) bool { return in.Status == decoder.StatusOK })

	next := r.storeModel(t)
	p.Do(chromedp.Focus(browser.ByTestID("swap-model")))
	p.Poll(fmt.Sprintf("[...document.querySelector('[data-testid=\"swap-model\"]').options].some(o => o.value === %q)", next)) // the page lists the stored model
	mark = r.intents.mark()
	p.Do(chromedp.SetValue(browser.ByTestID("swap-model"), next))
	p.Click("swap")
	p.WaitText("model", fmt.Sprintf("t === %q", next[:12]))
	p.WaitText("swaps", "t === '1'")
	r.intents.waitFor(t, mark, intentWait, func(in decoder.Intent) bool { return in.Model == next })
	assert.Empty(t, p.Text("banner"))

	r.stop()
	p.WaitText("banner", "t.startsWith('NO INTENTS')")
}

// TestPageNeedsCredentials: with access control on, a page that presents
// none, or wrong ones, gets nothing, while a controller with the token
// gets intents; with the token typed into the page it follows the session.
func TestPageNeedsCredentials(t *testing.T) {
	const token = "page-test-token-7f3a"
	r := startRun(t, bus.Auth{Token: token})
	p := browser.Open(t, r.page)

	p.WaitText("conn", "t.includes('credentials')")
	mark := r.intents.mark()
	r.intents.waitFor(t, mark, intentWait, func(in decoder.Intent) bool { return in.Seq > 0 }) // there is something to get
	mark = r.intents.mark()
	r.intents.waitFor(t, mark+25, intentWait, func(decoder.Intent) bool { return true }) // half a second more of it
	assert.Equal(t, "—", p.Text("intent-seq"), "an unauthenticated page shows no intent")
	assert.Equal(t, "—", p.Text("model"))

	loginGetsNothing(t, p, "cred-token", "wrong", "a wrong token gets nothing either")
	loginFollows(t, p, "cred-token", token)
}

// loginGetsNothing logs in with value in the login field and checks that
// the server still refuses the page and it shows no intent.
func loginGetsNothing(t *testing.T, p *browser.Page, field, value, why string) {
	t.Helper()
	p.Do(chromedp.SetValue(browser.ByTestID(field), value))
	p.Click("connect")
	p.WaitText("conn", "t.includes('credentials')")
	time.Sleep(500 * time.Millisecond)
	assert.Equal(t, "—", p.Text("intent-seq"), why)
}

// loginFollows logs in with value in the login field and checks that the
// page connects and follows the session.
func loginFollows(t *testing.T, p *browser.Page, field, value string) {
	t.Helper()
	p.Do(chromedp.SetValue(browser.ByTestID(field), value))
	p.Click("connect")
	p.WaitText("conn", "t === 'connected'")
	first := seq(t, p)
	require.Eventually(t, func() bool { return seq(t, p) > first }, browser.Wait, 100*time.Millisecond)
}

// TestPageLogsInWithAnNKey: against a server that accepts NKey users only,
// a malformed seed is refused in the page, another user's seed gets
// nothing, and the user's own seed follows the session.
func TestPageLogsInWithAnNKey(t *testing.T) {
	user, seed := nkeyUser(t)
	_, other := nkeyUser(t)
	seedFile := filepath.Join(t.TempDir(), "user.nk")
	require.NoError(t, os.WriteFile(seedFile, []byte(seed), 0o600))
	r := dialRun(t, bus.Auth{NKeyUsers: []string{user}}, bus.Auth{NKeySeedFile: seedFile})
	p := browser.Open(t, r.page)
	p.WaitText("conn", "t.includes('credentials')")

	p.Do(chromedp.SendKeys(browser.ByTestID("cred-nkey"), "SUNOTASEED"))
	p.Click("connect")
	p.WaitText("login-error", "t.startsWith('not an NKey user seed')")

	loginGetsNothing(t, p, "cred-nkey", other, "another user's seed gets nothing")
	loginFollows(t, p, "cred-nkey", seed)
}

// nkeyUser makes a user NKey: its public key and its seed.
func nkeyUser(t *testing.T) (pub, seed string) {
	t.Helper()
	kp, err := nkeys.CreateUser()
	require.NoError(t, err)
	pub, err = kp.PublicKey()
	require.NoError(t, err)
	s, err := kp.Seed()
	require.NoError(t, err)
	return pub, string(s)
}

// TestPageShowsEverySession: with several sessions on the server (a
// worker's, say) the page lists them all and follows the one chosen.
func TestPageShowsEverySession(t *testing.T) {
	r := startRun(t, bus.Auth{}, "left", "right")
	p := browser.Open(t, r.page)
	p.Poll(`document.querySelector('[data-testid="session-left"]') && document.querySelector('[data-testid="session-right"]')`)
	p.Click("session-right")
	p.WaitText("session", "t === 'right'")
	p.WaitText("model", fmt.Sprintf("/^[0-9a-f]{12}$/.test(t) && t !== %q", r.model.Hash[:12]))
	first := seq(t, p)
	p.WaitText("intent-seq", fmt.Sprintf("+t > %d", first))
	p.Click("session-left")
	p.WaitText("session", "t === 'left'")
	p.WaitText("model", fmt.Sprintf("t === %q", r.model.Hash[:12]))

	// ?session= narrows the page to one session (for credentials that
	// allow only its subjects).
	one := browser.Open(t, r.page+"?session=right")
	one.WaitText("session", "t === 'right'")
	time.Sleep(300 * time.Millisecond)
	one.Poll(`!document.querySelector('[data-testid="session-left"]')`)
}

// TestPageDrawsMarkers: markers on a session's events (as --lsl-markers
// publishes them) are drawn on the decoded output at the bin they fell in
// and named under it; one older than the window is counted but not drawn,
// and a clock reading is not a marker.
func TestPageDrawsMarkers(t *testing.T) {
	r := startRun(t, bus.Auth{})
	p := browser.Open(t, r.page)
	seq(t, p)
	now := time.Now()
	for _, ev := range []any{
		lsl.Event{Kind: lsl.KindMarker, Time: now.Add(-20 * time.Second).UnixNano(), Stream: "task", Values: []string{"long ago"}},
		lsl.ClockEvent{Kind: lsl.KindClock, Time: now.UnixNano(), Stream: "neural"},
		lsl.Event{Kind: lsl.KindMarker, Time: now.Add(-time.Second).UnixNano(), Stream: "task", Values: []string{"trial 1"}},
		lsl.Event{Kind: lsl.KindMarker, Time: now.UnixNano(), Stream: "task", Values: []string{"target", "3"}},
	} {
		b, err := json.Marshal(ev)
		require.NoError(t, err)
		require.NoError(t, r.nc.Publish(bus.EventsSubject("demo"), b))
	}
	p.WaitText("markers-note", `t.startsWith('3 markers; the last, "target 3", ')`)
	p.Poll(`document.getElementById("traces").getAttribute("aria-label") === "decoded output against true, 2 markers shown"`)
}

// chainSource is a continuous source paced in real time that keeps its
// signal chain in view, as frontend.Stream does.
type chainSource struct {
	acquire.BinSource
	enc *encoder.Encoder
}

func (c chainSource) Encoder() *encoder.Encoder { return c.enc }

// TestPageShowsTheSignalChain: for a continuous source the page shows the
// spike detector's noise estimates and thresholds once calibrated.
func TestPageShowsTheSignalChain(t *testing.T) {
	r := startRun(t, bus.Auth{})
	sim, err := acquire.NewBroadband(acquire.BroadbandConfig{Seed: 4, Channels: 8, Duration: time.Minute})
	require.NoError(t, err)
	fr, err := frontend.Reader(sim, frontend.Options{})
	require.NoError(t, err)
	r.add(t, "array", chainSource{acquire.Paced(fr, true), fr.Encoder()}, testkit.Kalman(t, acquire.SimConfig{Seed: 1, Channels: 8, Bins: 2000}))
	p := browser.Open(t, r.page+"?session=array")
	p.WaitText("session", "t === 'array'")
	p.WaitText("chain-note", "/mean σ [0-9.]+ µV/.test(t)")
}
