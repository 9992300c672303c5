package dashboard_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/internal/browser"
)

// Generous bounds: the machine running the tests may be loaded.
const (
	pageWait   = 30 * time.Second
	intentWait = 15 * time.Second
)

// EnvScreenshots makes the browser tests write their screenshots into the
// repository's docs/ directory, for the README.
const EnvScreenshots = "BCI_SCREENSHOTS"

// page is a browser tab on the dashboard.
type page struct {
	t   *testing.T
	ctx context.Context
}

func openPage(t *testing.T, url string) *page {
	t.Helper()
	p := &page{t: t, ctx: browser.New(t, 1400, 900)}
	p.do(chromedp.Navigate(url))
	return p
}

// do runs actions, bounded.
func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, pageWait+5*time.Second)
	defer cancel()
	require.NoError(p.t, chromedp.Do(ctx, actions...))
}

// text is the text of the element with the test id.
func (p *page) text(id string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, pageWait)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf("document.querySelector('[data-testid=%q]').textContent", id)))
	require.NoError(p.t, err)
	return s
}

// waitText waits until the element's text satisfies a JavaScript predicate
// of t, and returns the text.
func (p *page) waitText(id, predicate string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, pageWait+5*time.Second)
	defer cancel()
	// An array, truthy even when the text is empty.
	js := fmt.Sprintf("(t => (%s) ? [t] : null)(document.querySelector('[data-testid=%q]').textContent)", predicate, id)
	s, err := chromedp.Run(ctx, chromedp.Poll[[]string](js, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(pageWait)))
	require.NoError(p.t, err, "waiting for %s to satisfy %s; it shows %q", id, predicate, p.text(id))
	return s[0]
}

func (p *page) click(id string) {
	p.t.Helper()
	p.do(chromedp.Click(chromedp.CSS(fmt.Sprintf("[data-testid=%q]", id))))
}

// screenshot writes the page to docs/name when EnvScreenshots is set.
func (p *page) screenshot(name string) {
	p.t.Helper()
	if os.Getenv(EnvScreenshots) != "1" {
		return
	}
	ctx, cancel := context.WithTimeout(p.ctx, pageWait)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(p.t, err)
	require.NoError(p.t, os.MkdirAll(filepath.Join("..", "docs"), 0o755))
	require.NoError(p.t, os.WriteFile(filepath.Join("..", "docs", name), png, 0o644))
}

func (p *page) seq() uint64 {
	p.t.Helper()
	n, err := strconv.ParseUint(p.waitText("intent-seq", "/^[0-9]+$/.test(t)"), 10, 64)
	require.NoError(p.t, err)
	return n
}

// TestPageFollowsAndControlsASession opens the dashboard of a live session
// in chromium: the seq shown increases, latency figures appear; pausing
// from the page makes the banner say halted and the intents a controller
// receives say halted; resuming brings ok back; a swap from the page
// changes the model hash shown and the model the intents name.
func TestPageFollowsAndControlsASession(t *testing.T) {
	r := startRun(t, bus.Auth{})
	p := openPage(t, r.page)

	first := p.seq()
	require.Eventually(t, func() bool { return p.seq() > first }, pageWait, 100*time.Millisecond, "the seq shown increases")
	p.waitText("latency-p99", `/^[0-9.]+ (µs|ms|s)$/.test(t)`)
	p.waitText("page-p99", `/^[0-9.]+ (µs|ms|s)$/.test(t)`)
	p.waitText("step-p99", `/^[0-9.]+ (µs|ms|s)$/.test(t)`)
	p.waitText("model", fmt.Sprintf("t === %q", r.model.Hash[:12]))
	p.waitText("intent-status", "t === 'ok'")
	p.waitText("watchdog", "t.startsWith('ok')")
	if os.Getenv(EnvScreenshots) == "1" { // with ten seconds of traces drawn
		p.waitText("intent-seq", fmt.Sprintf("+t > %d", first+600))
	}
	p.screenshot("dashboard-open-loop.png")

	mark := r.intents.mark()
	p.click("pause")
	p.waitText("intent-status", "t === 'halted'")
	p.waitText("banner", "t.startsWith('HALTED')")
	halted := r.intents.waitFor(t, mark, intentWait, func(in decoder.Intent) bool { return in.Status == decoder.StatusHalted })
	assert.Equal(t, []float32{0, 0}, halted.Values, "halted intents mean stop")

	mark = r.intents.mark()
	p.click("resume")
	p.waitText("intent-status", "t === 'ok'")
	p.waitText("banner", "t === ''")
	r.intents.waitFor(t, mark, intentWait, func(in decoder.Intent) bool { return in.Status == decoder.StatusOK })

	next := r.storeModel(t)
	p.do(chromedp.Focus(chromedp.CSS(`[data-testid="swap-model"]`)))
	ctx, cancel := context.WithTimeout(p.ctx, pageWait)
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf("[...document.querySelector('[data-testid=\"swap-model\"]').options].some(o => o.value === %q)", next),
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(pageWait)))
	cancel()
	require.NoError(t, err, "the page lists the stored model")
	mark = r.intents.mark()
	p.do(chromedp.SetValue(chromedp.CSS(`[data-testid="swap-model"]`), next))
	p.click("swap")
	p.waitText("model", fmt.Sprintf("t === %q", next[:12]))
	p.waitText("swaps", "t === '1'")
	r.intents.waitFor(t, mark, intentWait, func(in decoder.Intent) bool { return in.Model == next })
	assert.Empty(t, p.text("banner"))
}

// TestPageNeedsCredentials: with access control on, a page that presents
// none, or wrong ones, gets nothing, while a controller with the token
// gets intents; with the token typed into the page it follows the session.
func TestPageNeedsCredentials(t *testing.T) {
	const token = "page-test-token-7f3a"
	r := startRun(t, bus.Auth{Token: token})
	p := openPage(t, r.page)

	p.waitText("conn", "t.includes('credentials')")
	mark := r.intents.mark()
	r.intents.waitFor(t, mark, intentWait, func(in decoder.Intent) bool { return in.Seq > 0 }) // there is something to get
	mark = r.intents.mark()
	r.intents.waitFor(t, mark+25, intentWait, func(decoder.Intent) bool { return true }) // half a second more of it
	assert.Equal(t, "—", p.text("intent-seq"), "an unauthenticated page shows no intent")
	assert.Equal(t, "—", p.text("model"))

	p.do(chromedp.SendKeys(chromedp.CSS(`[data-testid="cred-token"]`), "wrong"))
	p.click("connect")
	p.waitText("conn", "t.includes('credentials')")
	time.Sleep(500 * time.Millisecond)
	assert.Equal(t, "—", p.text("intent-seq"), "a wrong token gets nothing either")

	p.do(chromedp.SetValue(chromedp.CSS(`[data-testid="cred-token"]`), token))
	p.click("connect")
	p.waitText("conn", "t === 'connected'")
	first := p.seq()
	require.Eventually(t, func() bool { return p.seq() > first }, pageWait, 100*time.Millisecond)
}
