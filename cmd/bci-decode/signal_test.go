package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bci-decode/bci-decode/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// waitFor polls buf until it contains s.
func waitFor(t *testing.T, buf *testkit.SyncBuffer, s string, within time.Duration) {
	t.Helper()
	require.Eventually(t, func() bool { return strings.Contains(buf.String(), s) }, within, 10*time.Millisecond, "waiting for %q", s)
}

// TestStopsOnSignalInEveryPhase sends SIGTERM to commands in each phase of
// their work (calibrating, training, decoding, recording) and checks that
// each stops within a second; decoding phases print their summary first.
func TestStopsOnSignalInEveryPhase(t *testing.T) {
	dir := t.TempDir()
	rec, model := simulatedModel(t, dir, "--duration", "3m")
	phases := []struct {
		name    string
		args    []string
		marker  string // in stderr once the phase is under way
		summary bool
	}{
		{"calibrating and training HIFI", []string{"demo", "--decoder", "hifi", "--calibration", "5m", "--epochs", "50"}, "fitting decoder", false},
		{"training", []string{"train", "--data", rec, "--out", filepath.Join(dir, "h.bcim"), "--decoder", "hifi", "--epochs", "50"}, "training", false},
		{"decoding", []string{"demo", "--calibration", "30s", "--duration", "60s", "--json"}, "decoding live", true},
		{"recording", []string{"run", "--model", model, "--duration", "60s", "--record", "--json"}, `"message":"decoding"`, true},
	}
	for _, ph := range phases {
		t.Run(ph.name, func(t *testing.T) {
			args := append(ph.args, "--nats-listen", "127.0.0.1:0", "--data-dir", t.TempDir())
			if ph.args[0] == "train" {
				args = ph.args
			}
			cmd, stdout, stderr := spawn(t, args...)
			waitFor(t, stderr, ph.marker, 30*time.Second)
			time.Sleep(300 * time.Millisecond) // well inside the phase
			sent := time.Now()
			require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
			_ = cmd.Wait()
			took := time.Since(sent)
			t.Logf("%s: stopped %v after SIGTERM, exit %d", ph.name, took.Round(time.Millisecond), cmd.ProcessState.ExitCode())
			assert.Less(t, took, time.Second, "stops within a second")
			if ph.summary {
				assert.Equal(t, 0, cmd.ProcessState.ExitCode(), stderr.String())
				lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
				var sum map[string]any
				require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &sum), "summary printed: %q", stdout.String())
				assert.Positive(t, sum["bins"])
			} else {
				assert.Equal(t, 130, cmd.ProcessState.ExitCode(), stderr.String())
				assert.Contains(t, stderr.String(), "interrupted")
			}
		})
	}
}

// TestInterruptedReplayPrintsWhatItReplayed replays a recorded session in
// real time and interrupts it: the command stops at once, says what it
// replayed (without comparing part of the run with the whole), and exits
// as interrupted.
func TestInterruptedReplayPrintsWhatItReplayed(t *testing.T) {
	dir := t.TempDir()
	rec, model := simulatedModel(t, dir, "--duration", "1m")
	store := filepath.Join(dir, "js")
	code, _, stderr := cli(t, "run", "--model", model, "--source", "file:"+rec, "--record", "--session", "r", "--nats-listen", "127.0.0.1:0", "--data-dir", store)
	require.Equal(t, 0, code, stderr)

	cmd, stdout, errb := spawn(t, "replay", "--session", "r", "--data-dir", store, "--pace", "realtime", "--compare", "--json")
	waitFor(t, errb, "replaying", 30*time.Second)
	time.Sleep(time.Second)
	sent := time.Now()
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	_ = cmd.Wait()
	assert.Less(t, time.Since(sent), time.Second, "stops within a second")
	assert.Equal(t, 130, cmd.ProcessState.ExitCode(), errb.String())
	var sum struct {
		Bins      uint64 `json:"bins"`
		Identical *bool  `json:"identical"`
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &sum), "summary printed: %q", stdout.String())
	assert.Positive(t, sum.Bins, "the bins replayed before the signal")
	assert.Less(t, sum.Bins, uint64(3000), "interrupted, not finished")
	assert.Nil(t, sum.Identical, "a part of the run is not compared with the whole")
}
