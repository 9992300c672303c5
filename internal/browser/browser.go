// Package browser runs Debian's chromium, headless, for the tests that
// drive the dashboard in a real browser (through chromedp). Tests skip
// when chromium is not installed, and fail instead when
// BCI_REQUIRE_CHROMIUM=1 (CI installs it).
package browser

import (
	"context"
	"os"
	"os/exec"
	"testing"

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
