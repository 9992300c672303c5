package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/frontend"
	"github.com/bci-decode/bci-decode/internal/shareddata"
	"github.com/bci-decode/bci-decode/internal/testkit"
	"github.com/bci-decode/bci-decode/replay"
	"github.com/bci-decode/bci-decode/shadow"
)

// TestMain lets a test run the command in a child process (see spawn), for
// tests that need two commands running at once.
func TestMain(m *testing.M) {
	if os.Getenv("BCI_DECODE_MAIN") == "1" {
		os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// spawn starts the command line in a child process of the test binary.
func spawn(t *testing.T, args ...string) (*exec.Cmd, *testkit.SyncBuffer, *testkit.SyncBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	// Under the race detector a process sleeps a second at exit by default;
	// the tests time how fast commands stop, so the child does not.
	cmd.Env = append(os.Environ(), "BCI_DECODE_MAIN=1", "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	var out, errb testkit.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd, &out, &errb
}

// cli runs the command line in-process and returns exit code, stdout and
// stderr.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := realMain(args, &out, &errb)
	return code, out.String(), errb.String()
}

// lastJSON decodes the last line of stdout.
func lastJSON(t *testing.T, stdout string, v any) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), v), "last line: %q", lines[len(lines)-1])
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// runSummary is what run and demo print with --json.
type runSummary struct {
	Decoder   string              `json:"decoder"`
	Shadow    *shadow.Report      `json:"shadow"`
	Bins      uint64              `json:"bins"`
	Intents   uint64              `json:"intents"`
	R2        *float64            `json:"r2"`
	Latency   bus.LatencyReport   `json:"latency_us"`
	RawRecord *bus.RecordingStats `json:"raw_recording"`
}

func TestHelpForEveryCommand(t *testing.T) {
	for name := range commands {
		t.Run(name, func(t *testing.T) {
			code, stdout, _ := cli(t, name, "--help")
			assert.Equal(t, 0, code)
			assert.Contains(t, stdout, "usage: bci-decode "+name, "help goes to stdout, so `help | less` works")
		})
	}
	code, stdout, _ := cli(t, "help")
	assert.Equal(t, 0, code)
	assert.Contains(t, stdout, "commands:")
	code, _, stderr := cli(t, "frobnicate")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, `unknown command "frobnicate"`)
}

// TestDemoWithSubscriber runs the demo and, as a second program would,
// subscribes to its intents on the --nats-listen port.
func TestDemoWithSubscriber(t *testing.T) {
	addr := freePort(t)
	var wg sync.WaitGroup
	var code int
	var stdout, stderr string
	wg.Add(1)
	go func() {
		defer wg.Done()
		code, stdout, stderr = cli(t, "demo", "--duration", "3s", "--calibration", "60s", "--nats-listen", addr,
			"--data-dir", t.TempDir(), "--session", "sub-test", "--json")
	}()
	nc := connectWhenUp(t, addr)
	msgs, shadowMsgs := make(chan *nats.Msg, 1000), make(chan *nats.Msg, 1000)
	_, err := nc.ChanSubscribe("bci.sub-test.intent", msgs)
	require.NoError(t, err)
	_, err = nc.ChanSubscribe("bci.sub-test.shadow.intent", shadowMsgs)
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	wg.Wait()
	require.Equal(t, 0, code, stderr)

	var res runSummary
	lastJSON(t, stdout, &res)
	assert.Equal(t, uint64(150), res.Intents)
	assert.Greater(t, res.Latency.Count, int64(0))
	// HIFI decodes live, a Kalman filter in its shadow
	assert.Equal(t, "hifi", res.Decoder)
	require.NotNil(t, res.Shadow)
	assert.Equal(t, "kalman", res.Shadow.Shadow.Decoder)
	assert.Equal(t, "hifi", res.Shadow.Live.Decoder)
	assert.Greater(t, res.Shadow.Live.StepP50US, 0.0)
	assert.NotNil(t, res.Shadow.Live.SpikesPerStep)
	assert.Equal(t, res.Shadow.Bins+res.Shadow.Missed, uint64(150))
	assert.Eventually(t, func() bool { return int(res.Shadow.Publish.Published) == len(shadowMsgs) }, 5*time.Second, 10*time.Millisecond,
		"the shadow's intents are on its own subject")

	var seqs []uint64
	for len(msgs) > 0 {
		m := <-msgs
		var in decoder.Intent
		require.NoError(t, json.Unmarshal(m.Data, &in))
		require.Len(t, in.Values, 2)
		assert.NotEmpty(t, m.Header.Get("Bci-Seq"))
		if in.Status != decoder.StatusOK {
			// a loaded machine can stall the stream long enough for the
			// watchdog; its intents are zero and repeat a seq
			assert.Equal(t, []float32{0, 0}, in.Values)
			continue
		}
		seqs = append(seqs, in.Seq)
	}
	require.NotEmpty(t, seqs)
	for i := 1; i < len(seqs); i++ {
		require.Equal(t, seqs[i-1]+1, seqs[i], "consecutive seq")
	}
	assert.Equal(t, uint64(149), seqs[len(seqs)-1])
}

// TestSimulateTrainRun goes through the three steps one at a time.
func TestSimulateTrainRun(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "calib.bcr")
	code, out, stderr := cli(t, "simulate", "--out", rec, "--duration", "3m")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "wrote 9000 bins")

	for _, kind := range []string{"kalman", "wiener"} {
		t.Run(kind, func(t *testing.T) {
			model := filepath.Join(dir, kind+".bcim")
			code, out, stderr := cli(t, "train", "--data", rec, "--decoder", kind, "--out", model, "--json")
			require.Equal(t, 0, code, stderr)
			var tr trainResult
			lastJSON(t, out, &tr)
			require.NotNil(t, tr.R2)
			assert.Greater(t, *tr.R2, 0.6)
			loaded, err := decoder.Load(model)
			require.NoError(t, err)
			assert.Equal(t, tr.Model, loaded.Hash)
			assert.Equal(t, []string{"vel_x", "vel_y"}, loaded.Info.Targets)

			// decode a different simulated recording of the same array, as fast as possible
			test := filepath.Join(dir, kind+"-test.bcr")
			code, _, stderr = cli(t, "simulate", "--out", test, "--duration", "1m", "--seed", "9")
			require.Equal(t, 0, code, stderr)
			code, out, stderr = cli(t, "run", "--model", model, "--source", "file:"+test, "--nats-listen", "127.0.0.1:0",
				"--data-dir", t.TempDir(), "--json")
			require.Equal(t, 0, code, stderr)
			var res runSummary
			lastJSON(t, out, &res)
			assert.Equal(t, uint64(3000), res.Intents)
			require.NotNil(t, res.R2)
			assert.Greater(t, *res.R2, 0.6)
		})
	}
}

func TestBadInputExitsWithOneLineError(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "r.bcr")
	code, _, stderr := cli(t, "simulate", "--out", rec, "--duration", "20s", "--channels", "32")
	require.Equal(t, 0, code, stderr)
	model := filepath.Join(dir, "m.bcim")
	code, _, stderr = cli(t, "train", "--data", rec, "--out", model, "--holdout", "0")
	require.Equal(t, 0, code, stderr)
	data, err := os.ReadFile(rec)
	require.NoError(t, err)
	truncated := filepath.Join(dir, "truncated.bcr")
	require.NoError(t, os.WriteFile(truncated, data[:len(data)-10], 0o644))
	mdata, err := os.ReadFile(model)
	require.NoError(t, err)
	corrupt := filepath.Join(dir, "corrupt.bcim")
	mdata[len(mdata)/2] ^= 1
	require.NoError(t, os.WriteFile(corrupt, mdata, 0o644))
	other := filepath.Join(dir, "96.bcr")
	code, _, stderr = cli(t, "simulate", "--out", other, "--duration", "10s")
	require.Equal(t, 0, code, stderr)

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"truncated recording", []string{"train", "--data", truncated, "--out", filepath.Join(dir, "x.bcim")}, "truncated record"},
		{"corrupt model", []string{"run", "--model", corrupt, "--source", "file:" + rec, "--nats-listen", "127.0.0.1:0", "--data-dir", dir}, "SHA-256 mismatch"},
		{"channel mismatch", []string{"run", "--model", model, "--source", "file:" + other, "--nats-listen", "127.0.0.1:0", "--data-dir", dir}, "expects 32 features per bin"},
		{"unreachable nats", []string{"run", "--model", model, "--source", "file:" + rec, "--nats", "nats://127.0.0.1:1"}, "nats server unreachable"},
		{"not a model", []string{"run", "--model", rec, "--source", "file:" + rec, "--nats-listen", "127.0.0.1:0", "--data-dir", dir}, "bad magic"},
		{"unknown format", []string{"train", "--data", filepath.Join(dir, "x.xyz"), "--out", filepath.Join(dir, "x.bcim")}, "no file format reads"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := cli(t, tc.args...)
			assert.NotEqual(t, 0, code)
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			last := lines[len(lines)-1]
			assert.Contains(t, last, tc.want)
			assert.True(t, strings.HasPrefix(last, "bci-decode "+tc.args[0]+": "), last)
		})
	}
}

func TestDemoPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	code, _, stderr := cli(t, "demo", "--nats-listen", l.Addr().String(), "--data-dir", t.TempDir())
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "cannot listen on "+l.Addr().String())
	_ = context.Background()
}

// TestDemoRecordThenReplay records a demo session, then replays it from the
// same store after the demo has exited.
func TestDemoRecordThenReplay(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := cli(t, "demo", "--duration", "2s", "--calibration", "60s", "--record", "--session", "rr",
		"--nats-listen", "127.0.0.1:0", "--data-dir", dir)
	require.Equal(t, 0, code, stderr)
	plot := filepath.Join(dir, "replay.png")
	code, out, stderr := cli(t, "replay", "--session", "rr", "--data-dir", dir, "--compare", "--plot", plot, "--json")
	require.Equal(t, 0, code, stderr)
	var res replay.Summary
	lastJSON(t, out, &res)
	require.NotNil(t, res.Identical)
	assert.True(t, *res.Identical, res.Mismatch)
	assert.Equal(t, uint64(100), res.Bins)
	assert.Equal(t, 100, res.Intents)
	assert.Greater(t, res.SpeedX, 1.0)
	_, err := os.Stat(plot)
	assert.NoError(t, err)

	// recording the same session again is refused unless asked
	code, _, stderr = cli(t, "demo", "--duration", "1s", "--calibration", "10s", "--record", "--session", "rr",
		"--nats-listen", "127.0.0.1:0", "--data-dir", dir)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "session already recorded")

	code, _, stderr = cli(t, "replay", "--session", "nope", "--data-dir", dir)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, `no recorded session "nope"`)
}

// TestRetrainAfterDrift decodes a session whose neurons drifted away from
// the calibration, retrains on the recording, and checks the new model beats
// the one that was live, on held-out bins at the end of the session.
func TestRetrainAfterDrift(t *testing.T) {
	dir := t.TempDir()
	calib, model := filepath.Join(dir, "calib.bcr"), filepath.Join(dir, "a.bcim")
	code, _, stderr := cli(t, "simulate", "--out", calib, "--duration", "3m")
	require.Equal(t, 0, code, stderr)
	code, _, stderr = cli(t, "train", "--data", calib, "--out", model)
	require.Equal(t, 0, code, stderr)
	store := filepath.Join(dir, "js")
	code, _, stderr = cli(t, "run", "--model", model, "--source", "sim", "--duration", "4m", "--pace", "fast", "--drift", "20",
		"--record", "--session", "drift", "--data-dir", store, "--nats-listen", "127.0.0.1:0")
	require.Equal(t, 0, code, stderr)
	newModel := filepath.Join(dir, "b.bcim")
	code, out, stderr := cli(t, "retrain", "--session", "drift", "--decoder", "kalman", "--data-dir", store, "--out", newModel, "--json")
	require.Equal(t, 0, code, stderr)
	var res replay.Retrained
	lastJSON(t, out, &res)
	require.NotNil(t, res.LiveR2)
	t.Logf("held-out R²: retrained %.3f, live %.3f, kalman %.3f", res.NewR2, *res.LiveR2, res.KalmanR2)
	assert.Greater(t, res.NewR2, *res.LiveR2+0.3)
	assert.Greater(t, res.NewR2, 0.5)
	loaded, err := decoder.Load(newModel)
	require.NoError(t, err)
	assert.Equal(t, res.Model, loaded.Hash)
}

// TestSwapCommand swaps a running session's model from the command line.
func TestSwapCommand(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "r.bcr")
	code, _, stderr := cli(t, "simulate", "--out", rec, "--duration", "60s")
	require.Equal(t, 0, code, stderr)
	a, b := filepath.Join(dir, "a.bcim"), filepath.Join(dir, "b.bcim")
	code, _, stderr = cli(t, "train", "--data", rec, "--out", a, "--decoder", "kalman")
	require.Equal(t, 0, code, stderr)
	code, _, stderr = cli(t, "train", "--data", rec, "--out", b, "--decoder", "wiener")
	require.Equal(t, 0, code, stderr)
	bm, err := decoder.Load(b)
	require.NoError(t, err)

	addr := freePort(t)
	run, runOut, runErr := spawn(t, "run", "--model", a, "--source", "sim", "--duration", "3s", "--session", "sw",
		"--nats-listen", addr, "--data-dir", filepath.Join(dir, "js"), "--json")
	url := "nats://" + addr
	require.Eventually(t, func() bool {
		c, _, _ := cli(t, "control", "--nats", url, "--session", "sw", "info")
		return c == 0
	}, 10*time.Second, 50*time.Millisecond)
	code, out, stderr := cli(t, "swap", "--nats", url, "--session", "sw", "--model-file", b)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, bm.Hash)
	code, _, stderr = cli(t, "swap", "--nats", url, "--session", "sw", "--model", "0000")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "no such model")
	code, out, _ = cli(t, "control", "--nats", url, "--session", "sw", "info")
	require.Equal(t, 0, code)
	var info struct {
		Model string `json:"model"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &info))
	assert.Equal(t, bm.Hash, info.Model)
	require.NoError(t, run.Wait(), runErr.String())
	var res runSummary
	lastJSON(t, runOut.String(), &res)
	assert.Equal(t, uint64(150), res.Bins)
}

// TestRunContinuousFiles decodes continuous recordings through the signal
// chain: a real EDF+ file and a raw int16 file.
func TestRunContinuousFiles(t *testing.T) {
	dir := t.TempDir()
	_, model := simulatedModel(t, dir, "--duration", "60s", "--channels", "64", "--bin", "25ms")

	edf := shareddata.Path(t, "data", "eegmmidb_s001", "S001R03.edf")
	code, out, stderr := cli(t, "run", "--model", model, "--source", "file:"+edf, "--band-low", "1", "--band-high", "40",
		"--bin", "25ms", "--record", "--record-raw", "--session", "eeg", "--nats-listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--json")
	require.Equal(t, 0, code, stderr)
	var res runSummary
	lastJSON(t, out, &res)
	assert.Equal(t, uint64(125*160/4), res.Bins, "125 s at 160 Hz in bins of 4 samples")
	assert.Equal(t, res.Bins, res.Intents)
	require.NotNil(t, res.RawRecord)
	assert.Equal(t, uint64(125), res.RawRecord.Recorded, "one raw frame per EDF record")

	raw := filepath.Join(dir, "x.dat")
	sim, err := acquire.NewBroadband(acquire.BroadbandConfig{Seed: 1, Channels: 64, Duration: 3 * time.Second})
	require.NoError(t, err)
	var buf bytes.Buffer
	var f acquire.Frame
	for sim.ReadFrame(context.Background(), &f) == nil {
		for _, v := range f.Data {
			_ = binary.Write(&buf, binary.LittleEndian, int16(v/0.195))
		}
	}
	require.NoError(t, os.WriteFile(raw, buf.Bytes(), 0o644))
	code, out, stderr = cli(t, "run", "--model", model, "--source", "file:"+raw, "--raw-channels", "64", "--raw-rate", "30000",
		"--bin", "25ms", "--nats-listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--json")
	require.Equal(t, 0, code, stderr)
	lastJSON(t, out, &res)
	assert.Equal(t, uint64(120), res.Bins)

	code, _, stderr = cli(t, "run", "--model", model, "--source", "file:"+raw, "--nats-listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "need a channel count")
}

// TestBenchSignal runs the bench in a process of its own: allocations are
// counted process-wide, and in this test binary other tests' goroutines
// (servers shutting down, say) would be counted with the chain's.
func TestBenchSignal(t *testing.T) {
	cmd, out, errb := spawn(t, "bench", "--stage", "signal", "--channels", "16", "--duration", "1s", "--json")
	require.NoError(t, cmd.Wait(), errb.String())
	var res frontend.ChainBenchResult
	lastJSON(t, out.String(), &res)
	assert.Greater(t, res.RealtimeFactor, 1.0)
	assert.Zero(t, res.AllocsPerFrame)
	code, _, _ := cli(t, "bench", "--stage", "nope")
	assert.Equal(t, 2, code)
}

// TestExportImport moves a recorded session to a file and back into
// another session, then replays the imported one.
func TestExportImport(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "js")
	code, _, stderr := cli(t, "demo", "--duration", "2s", "--calibration", "60s", "--record", "--session", "ex",
		"--nats-listen", "127.0.0.1:0", "--data-dir", store)
	require.Equal(t, 0, code, stderr)
	file := filepath.Join(dir, "ex.bcr")
	code, out, stderr := cli(t, "export", "--session", "ex", "--out", file, "--data-dir", store)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "exported 100 bins")
	r, err := acquire.OpenRecording(file)
	require.NoError(t, err)
	bins, err := readAllBinned(r)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	require.Len(t, bins, 100)

	code, out, stderr = cli(t, "import", "--file", file, "--session", "im", "--data-dir", store)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "imported 100 bins")
	code, _, stderr = cli(t, "import", "--file", file, "--session", "im", "--data-dir", store)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "session already recorded")

	model := filepath.Join(dir, "m.bcim")
	code, _, stderr = cli(t, "train", "--data", file, "--out", model, "--holdout", "0")
	require.Equal(t, 0, code, stderr)
	code, out, stderr = cli(t, "replay", "--session", "im", "--data-dir", store, "--model-file", model, "--json")
	require.Equal(t, 0, code, stderr)
	var res replay.Summary
	lastJSON(t, out, &res)
	assert.Equal(t, uint64(100), res.Bins)
}

func readAllBinned(src acquire.BinSource) ([]acquire.Bin, error) {
	var out []acquire.Bin
	for {
		var b acquire.Bin
		err := src.ReadBin(context.Background(), &b)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, b)
	}
}

// TestRunIngestsRawFramesFromNATS plays a DAQ bridge that publishes raw
// frames on bci.<session>.raw while `run --source nats` decodes them.
func TestRunIngestsRawFramesFromNATS(t *testing.T) {
	dir := t.TempDir()
	_, model := simulatedModel(t, dir, "--duration", "60s", "--channels", "8")

	run, out, errb, nc := runOnRawFrames(t, model, dir, "daq", "--record")
	sim, err := acquire.NewBroadband(acquire.BroadbandConfig{Seed: 5, Channels: 8})
	require.NoError(t, err)
	var f acquire.Frame
	for range 200 {
		require.NoError(t, sim.ReadFrame(context.Background(), &f))
		require.NoError(t, nc.Publish("bci.daq.raw", acquire.AppendFrameMessage(nil, &f)))
		time.Sleep(time.Millisecond)
	}
	end := nats.NewMsg("bci.daq.raw")
	end.Header.Set("Bci-End", "1")
	require.NoError(t, nc.PublishMsg(end))
	require.NoError(t, nc.Flush())
	require.NoError(t, run.Wait(), errb.String())
	var res runSummary
	lastJSON(t, out.String(), &res)
	assert.Equal(t, uint64(100), res.Bins, "200 frames of 10 ms")
	assert.Equal(t, res.Bins, res.Intents)
}

// TestWorkersShareAndFailOver runs two worker processes on one server,
// declares a session, kills the worker that decodes it, and watches the
// other take it over.
func TestWorkersShareAndFailOver(t *testing.T) {
	dir := t.TempDir()
	_, model := simulatedModel(t, dir, "--duration", "60s")
	srv := testkit.Server(t, bus.ServerOptions{})
	url := srv.ClientURL()

	a, _, aerr := spawn(t, "worker", "--id", "a", "--nats", url)
	code, out, stderr := cli(t, "sessions", "add", "--session", "arm", "--model-file", model, "--nats", url)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "session arm declared")
	owner := func() string {
		code, out, _ := cli(t, "sessions", "--nats", url, "--wait", "100ms", "--json")
		if code != 0 {
			return ""
		}
		var res struct {
			Sessions []struct {
				Owner string `json:"owner"`
			} `json:"sessions"`
		}
		if json.Unmarshal([]byte(strings.TrimSpace(out)), &res) != nil || len(res.Sessions) != 1 {
			return ""
		}
		return res.Sessions[0].Owner
	}
	require.Eventually(t, func() bool { return owner() == "a" }, 15*time.Second, 100*time.Millisecond, "%v", aerr)
	_, _, berr := spawn(t, "worker", "--id", "b", "--nats", url)
	time.Sleep(500 * time.Millisecond)
	assert.Equal(t, "a", owner(), "a keeps its session while it lives")
	require.NoError(t, a.Process.Kill())
	_ = a.Wait()
	require.Eventually(t, func() bool { return owner() == "b" }, 10*time.Second, 100*time.Millisecond, "%v", berr)
	code, out, _ = cli(t, "sessions", "--nats", url)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "arm")
	assert.Contains(t, out, "1 live workers: b (1)")
}

// TestRunIngestAfterPause plays a bridge that stops for 1.5 s, losing the
// frames of the pause and five more: intents after the pause carry the
// frames' own times (they do not lag by the pause), and the summary reports
// the lost frames and the time jump.
func TestRunIngestAfterPause(t *testing.T) {
	dir := t.TempDir()
	_, model := simulatedModel(t, dir, "--duration", "60s", "--channels", "8")

	run, out, errb, nc := runOnRawFrames(t, model, dir, "pause")
	var lag []time.Duration
	var mu sync.Mutex
	_, err := nc.Subscribe("bci.pause.intent", func(m *nats.Msg) {
		var in decoder.Intent
		if json.Unmarshal(m.Data, &in) == nil && in.Status == decoder.StatusOK {
			mu.Lock()
			lag = append(lag, time.Since(time.Unix(0, in.SampleTime)))
			mu.Unlock()
		}
	})
	require.NoError(t, err)
	sim, err := acquire.NewBroadband(acquire.BroadbandConfig{Seed: 5, Channels: 8})
	require.NoError(t, err)
	var f acquire.Frame
	seq := uint64(0)
	start := time.Now()
	at := func(seq uint64) time.Time { return start.Add(time.Duration(seq) * 10 * time.Millisecond) }
	send := func(n int) { // in real time, stamped by the amplifier's clock
		for range n {
			require.NoError(t, sim.ReadFrame(context.Background(), &f))
			time.Sleep(time.Until(at(seq + 1)))
			f.Seq, f.Time = seq, at(seq).UnixNano()
			seq++
			require.NoError(t, nc.Publish("bci.pause.raw", acquire.AppendFrameMessage(nil, &f)))
		}
	}
	send(150)
	time.Sleep(1500 * time.Millisecond)
	seq += 150 + 5 // the amplifier went on; the bridge lost 1.5 s and five frames
	send(100)
	end := nats.NewMsg("bci.pause.raw")
	end.Header.Set("Bci-End", "1")
	require.NoError(t, nc.PublishMsg(end))
	require.NoError(t, nc.Flush())
	require.NoError(t, run.Wait(), errb.String())
	var res struct {
		Source struct {
			Source struct {
				Missing uint64 `json:"frames_missing"`
			} `json:"source"`
			TimeJumps int64 `json:"time_jumps"`
		} `json:"source"`
	}
	lastJSON(t, out.String(), &res)
	assert.Equal(t, uint64(155), res.Source.Source.Missing, "the lost frames are reported")
	assert.Equal(t, int64(1), res.Source.TimeJumps, "the pause is reported")
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, lag)
	late := 0
	for _, l := range lag[len(lag)-40:] { // well after the pause
		if l > 300*time.Millisecond {
			late++
		}
	}
	assert.Zero(t, late, "intents after the pause are not as old as the pause")
}

// TestWideTableIsRefusedNotFatal trains on a table 100,000 features wide:
// the linear decoders would need hundreds of GiB, and say so in a one-line
// error, instead of the process dying out of memory.
func TestWideTableIsRefusedNotFatal(t *testing.T) {
	const cols, rows = 100000, 40
	var b strings.Builder
	b.WriteString("vel_x,vel_y")
	for c := range cols {
		fmt.Fprintf(&b, ",unit_%06d", c)
	}
	b.WriteString("\n")
	for r := range rows {
		fmt.Fprintf(&b, "%d,%d", r%3, r%5)
		for c := range cols {
			b.WriteString(",")
			b.WriteString(strconv.Itoa((r + c) % 2))
		}
		b.WriteString("\n")
	}
	path := filepath.Join(t.TempDir(), "wide.csv")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	for _, kind := range []string{"kalman", "wiener"} {
		code, _, stderr := cli(t, "train", "--data", path, "--decoder", kind, "--out", filepath.Join(t.TempDir(), "m.bcim"), "--holdout", "0")
		assert.Equal(t, 1, code, kind)
		last := lastLine(stderr)
		assert.Contains(t, last, "100000 features", kind)
		assert.Contains(t, last, "more than this machine allows", kind)
	}
}

// TestSecondDecoderOfASessionIsRefused starts a decoder of a session and a
// second one on the same server: the second is refused, naming the first;
// only the holder of the session's lease decodes it.
func TestSecondDecoderOfASessionIsRefused(t *testing.T) {
	dir := t.TempDir()
	_, model := simulatedModel(t, dir, "--duration", "60s")
	addr := freePort(t)
	first, _, ferr := spawn(t, "run", "--model", model, "--session", "dup", "--duration", "20s", "--record",
		"--nats-listen", addr, "--data-dir", filepath.Join(dir, "js"))
	require.Eventually(t, func() bool { // the first decoder holds the session once it answers control
		c, _, _ := cli(t, "control", "--nats", "nats://"+addr, "--session", "dup", "info")
		return c == 0
	}, 20*time.Second, 50*time.Millisecond, "%s", ferr)
	code, _, stderr := cli(t, "run", "--model", model, "--session", "dup", "--duration", "2s", "--record", "--overwrite", "--nats", "nats://"+addr)
	assert.Equal(t, 1, code)
	last := lastLine(stderr)
	assert.Contains(t, last, "session is decoded by another process")
	assert.Contains(t, last, fmt.Sprintf("-%d", first.Process.Pid), "names the holder")
	require.NoError(t, first.Process.Signal(syscall.SIGTERM))
	require.NoError(t, first.Wait())
}

// simulatedModel simulates a recording in dir with the given simulate
// flags and fits a Kalman filter to it, returning both files.
func simulatedModel(t *testing.T, dir string, simulate ...string) (rec, model string) {
	t.Helper()
	rec, model = filepath.Join(dir, "r.bcr"), filepath.Join(dir, "m.bcim")
	code, _, stderr := cli(t, append([]string{"simulate", "--out", rec}, simulate...)...)
	require.Equal(t, 0, code, stderr)
	code, _, stderr = cli(t, "train", "--data", rec, "--decoder", "kalman", "--out", model)
	require.Equal(t, 0, code, stderr)
	return rec, model
}

// runOnRawFrames starts run decoding raw frames published on
// bci.<session>.raw (--source nats) with its own embedded server, and
// returns once the decoder listens, with a connection to that server.
func runOnRawFrames(t *testing.T, model, dir, session string, extra ...string) (*exec.Cmd, *testkit.SyncBuffer, *testkit.SyncBuffer, *nats.Conn) {
	t.Helper()
	addr := freePort(t)
	args := append([]string{"run", "--model", model, "--source", "nats", "--session", session,
		"--nats-listen", addr, "--data-dir", filepath.Join(dir, "js"), "--json"}, extra...)
	run, out, errb := spawn(t, args...)
	nc := connectWhenUp(t, addr)
	// Wait until the decoder listens: a request to the raw subject fails at
	// once with no responders before, and times out (the source never
	// replies; it counts the probe as a bad frame) after.
	require.Eventually(t, func() bool {
		_, err := nc.Request(bus.RawSubject(session), []byte("probe"), 50*time.Millisecond)
		return errors.Is(err, nats.ErrTimeout)
	}, 10*time.Second, 20*time.Millisecond)
	return run, out, errb, nc
}

// connectWhenUp connects to the server a spawned command starts on addr,
// once it accepts clients.
func connectWhenUp(t *testing.T, addr string) *nats.Conn {
	t.Helper()
	var nc *nats.Conn
	require.Eventually(t, func() bool {
		var err error
		nc, err = nats.Connect("nats://"+addr, nats.Timeout(200*time.Millisecond))
		return err == nil
	}, 10*time.Second, 20*time.Millisecond)
	t.Cleanup(nc.Close)
	return nc
}
