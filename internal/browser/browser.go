// Package browser runs Debian's chromium, headless, for the tests that
// drive the dashboard in a real browser (through chromedp). Tests skip
// when chromium is not installed, and fail instead when
// BCI_REQUIRE_CHROMIUM=1 (CI installs it).
package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color/palette"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// EnvRequire makes a missing chromium a test failure.
const EnvRequire = "BCI_REQUIRE_CHROMIUM"

// Path returns chromium's executable, or skips (fails, with EnvRequire
// set) the test when there is none.
func Path(tb testing.TB) string {
	tb.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv(EnvRequire) == "1" {
		tb.Fatalf("chromium is not installed and %s=1 (apt-get install -y chromium)", EnvRequire)
	}
	tb.Skipf("chromium is not installed (apt-get install -y chromium; set %s=1 to fail instead)", EnvRequire)
	return ""
}

// New starts a headless chromium with a window of w×h CSS pixels and
// returns a chromedp context for one tab; the browser stops when the test
// ends. Every call of the test's actions should be bounded by a deadline
// of the caller's (chromedp waits forever otherwise).
func New(tb testing.TB, w, h int) context.Context {
	tb.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(Path(tb)),
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoSandbox, // CI runs as root, where chromium's sandbox cannot start
		chromedp.WindowSize(w, h),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("force-device-scale-factor", "1"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	// Start the browser now, so a broken install fails here. The first
	// call's context is the browser's life: it takes no deadline.
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		tb.Fatalf("start chromium: %v", err)
	}
	tb.Cleanup(func() { cancel(); cancelAlloc() })
	return ctx
}

// Wait bounds every wait of a Page: generous, as the machine running the
// tests may be loaded.
const Wait = 30 * time.Second

// Page is a tab of a headless chromium on one URL, with the queries the
// dashboard's tests make by data-testid. Its methods fail the test on error.
type Page struct {
	tb  testing.TB
	ctx context.Context
}

// Open starts a browser (see New) with a 1400×900 window on url.
func Open(tb testing.TB, url string) *Page {
	tb.Helper()
	p := &Page{tb: tb, ctx: New(tb, 1400, 900)}
	p.Do(chromedp.Navigate(url))
	return p
}

// Context is the page's chromedp context, for other actions.
func (p *Page) Context() context.Context { return p.ctx }

// Do runs actions, bounded by Wait.
func (p *Page) Do(actions ...chromedp.Action[chromedp.Void]) {
	p.tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, Wait)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.tb.Fatalf("browser: %v", err)
	}
}

// Text is the text of the element with the test id.
func (p *Page) Text(id string) string {
	p.tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, Wait)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf("document.querySelector('[data-testid=%q]').textContent", id)))
	if err != nil {
		p.tb.Fatalf("browser: text of %s: %v", id, err)
	}
	return s
}

// WaitText waits until the text of the element with the test id satisfies
// a JavaScript predicate of t, and returns the text.
func (p *Page) WaitText(id, predicate string) string {
	p.tb.Helper()
	// An array, truthy even when the text is empty.
	js := fmt.Sprintf("(t => (%s) ? [t] : null)(document.querySelector('[data-testid=%q]').textContent)", predicate, id)
	v := p.Poll(js)
	var s []string
	if err := json.Unmarshal(v, &s); err != nil || len(s) != 1 {
		p.tb.Fatalf("browser: %s: %s", id, v)
	}
	return s[0]
}

// Poll waits until a JavaScript expression is truthy, and returns its
// value as JSON.
func (p *Page) Poll(expression string) json.RawMessage {
	p.tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, Wait+5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Poll[json.RawMessage](expression, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(Wait)))
	if err != nil {
		p.tb.Fatalf("browser: waiting for %s: %v", expression, err)
	}
	return v
}

// Click clicks the element with the test id.
func (p *Page) Click(id string) {
	p.tb.Helper()
	p.Do(chromedp.Click(ByTestID(id)))
}

// ByTestID selects the element with the test id.
func ByTestID(id string) chromedp.CSS { return chromedp.CSS(fmt.Sprintf("[data-testid=%q]", id)) }

// EnvScreenshots makes Screenshot write its files.
const EnvScreenshots = "BCI_SCREENSHOTS"

// Screenshots reports whether the tests are asked for screenshots.
func Screenshots() bool { return os.Getenv(EnvScreenshots) == "1" }

// Screenshot writes the page as a PNG to path when Screenshots is set (the
// README's pictures come from real runs this way).
func (p *Page) Screenshot(path string) {
	p.tb.Helper()
	if !Screenshots() {
		return
	}
	ctx, cancel := context.WithTimeout(p.ctx, Wait)
	defer cancel()
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err == nil {
		shot, err = shrink(shot)
	}
	if err == nil {
		if err = os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
			err = os.WriteFile(path, shot, 0o644)
		}
	}
	if err != nil {
		p.tb.Fatalf("browser: screenshot: %v", err)
	}
}

// shrink re-encodes a screenshot with 256 colours, best compressed: a
// third of the size, for pictures committed to the repository.
func shrink(shot []byte) ([]byte, error) {
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		return nil, err
	}
	p := image.NewPaletted(img.Bounds(), palette.Plan9)
	draw.Draw(p, p.Rect, img, img.Bounds().Min, draw.Src)
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&b, p); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
