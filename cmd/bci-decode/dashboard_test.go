package main

import (
	"bufio"
	"encoding/json"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/internal/browser"
	"github.com/bci-decode/bci-decode/internal/testkit"
)

// dashboardURL waits for a command's log to say where its dashboard is.
func dashboardURL(t *testing.T, stderr *testkit.SyncBuffer) string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute) // the command calibrates first
	for time.Now().Before(deadline) {
		sc := bufio.NewScanner(strings.NewReader(stderr.String()))
		for sc.Scan() {
			var line struct{ URL, Message string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && strings.HasPrefix(line.Message, "dashboard: open") {
				return line.URL
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no dashboard URL in the log:\n%s", stderr.String())
	return ""
}

// TestDemoServesItsDashboard: the demo serves the dashboard by default (on
// 127.0.0.1:8080, or a free port when that one is taken), says where, and
// the page follows the demo's session, its HIFI decoder (spikes per layer,
// and how far each neuron parameter spread in training) and its Kalman
// shadow; run has the flag, off by default.
func TestDemoServesItsDashboard(t *testing.T) {
	code, help, _ := cli(t, "demo", "--help")
	require.Equal(t, 0, code)
	assert.Contains(t, help, `(default "127.0.0.1:8080")`)
	for _, cmd := range []string{"run", "closedloop", "worker"} {
		code, help, _ = cli(t, cmd, "--help")
		require.Equal(t, 0, code)
		assert.Contains(t, help, "-http string", cmd)
	}

	browser.Path(t) // skip before starting anything without chromium
	cmd, _, stderr := spawn(t, "demo", "--duration", "2m", "--calibration", "1m", "--nats-listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	u := dashboardURL(t, stderr)
	assert.True(t, strings.HasPrefix(u, "http://127.0.0.1:"), u)
	p := browser.Open(t, u)
	p.WaitText("session", "t === 'demo'")
	first := p.WaitText("intent-seq", "/^[0-9]+$/.test(t)")
	p.WaitText("intent-seq", "+t > "+first)
	p.WaitText("decoder", "t === 'hifi'")
	p.WaitText("shadow", "/^kalman [0-9a-f]{12}, R² [-0-9.]+, agreement R² [-0-9.]+$/.test(t)") // the demo's Kalman shadow
	p.WaitText("snn-note", "/^[0-9]+ spikes \\(layer 1: [0-9]+, layer 2: [0-9]+\\), [0-9.]+ nJ in the last step$/.test(t)")
	p.WaitText("neurons-note", "t.startsWith('hifi: 64 + 64 neurons')")
	for _, cell := range []string{"neuron-tau-1", "neuron-gamma-2", "neuron-uth-2"} { // HIFI's learned spread
		p.WaitText(cell, "/^[0-9.e-]+ ± [0-9.e-]+$/.test(t) && !/± 0(\\.0*)?$/.test(t)")
	}
	if browser.Screenshots() { // with ten seconds of traces drawn
		p.WaitText("intent-seq", "+t > 600")
	}
	p.Screenshot(filepath.Join("..", "..", "docs", "dashboard-open-loop.png"))
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	require.NoError(t, cmd.Wait(), stderr.String())
}

// TestClosedLoopDashboard: in closed loop the page draws the cursor and its
// target from bci.<session>.cursor.
func TestClosedLoopDashboard(t *testing.T) {
	browser.Path(t)
	cmd, _, stderr := spawn(t, "closedloop", "--pace", "realtime", "--trials", "200", "--calibration", "1m", "--session", "cl",
		"--nats-listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--http", "127.0.0.1:0")
	p := browser.Open(t, dashboardURL(t, stderr))
	p.WaitText("session", "t === 'cl'")
	p.Poll("!document.getElementById('cursor-panel').hidden")
	p.WaitText("trial", "/^trial [0-9]+/.test(t)")
	if browser.Screenshots() { // a few trials drawn
		p.WaitText("trial", "+t.split(' ')[1] >= 4")
		p.WaitText("intent-seq", "+t > 600")
	}
	p.Screenshot(filepath.Join("..", "..", "docs", "dashboard-closed-loop.png"))
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	_ = cmd.Wait() // an interrupted block reports what it did, or why not
}
