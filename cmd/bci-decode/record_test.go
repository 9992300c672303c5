package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
)

// tunedRecording writes a raw int16 recording (1 µV per bit) of units
// whose firing is cosine-tuned to a smooth 2-D velocity, and the velocity
// as a behaviour table sampled at 100 Hz; it returns the two paths.
func tunedRecording(t *testing.T, dir string, channels int, rate, seconds float64) (raw, beh string) {
	t.Helper()
	vel := func(s float64) (float64, float64) {
		return math.Sin(2 * math.Pi * 0.23 * s), math.Cos(2 * math.Pi * 0.17 * s)
	}
	raw, beh = filepath.Join(dir, "rec.bin"), filepath.Join(dir, "behaviour.csv")
	f, err := os.Create(raw)
	require.NoError(t, err)
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(7, 11))
	wave := []float64{-30, -120, -80, -20, 30, 40, 20, 5}
	pending := make([][]float64, channels) // spike waveform still to add
	buf := make([]byte, 2)
	n := int(rate * seconds)
	for i := range n {
		vx, vy := vel(float64(i) / rate)
		for c := range channels {
			phi := 2 * math.Pi * float64(c) / float64(channels)
			hz := 35 + 30*(math.Cos(phi)*vx+math.Sin(phi)*vy)
			if len(pending[c]) == 0 && rng.Float64() < hz/rate {
				pending[c] = wave
			}
			v := 10 * rng.NormFloat64()
			if len(pending[c]) > 0 {
				v += pending[c][0]
				pending[c] = pending[c][1:]
			}
			binary.LittleEndian.PutUint16(buf, uint16(int16(math.Round(v))))
			_, _ = w.Write(buf)
		}
	}
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())
	b, err := os.Create(beh)
	require.NoError(t, err)
	fmt.Fprintln(b, "time,vel_x,vel_y")
	for k := 0; float64(k)/100 < seconds; k++ {
		vx, vy := vel(float64(k) / 100)
		fmt.Fprintf(b, "%.2f,%.6f,%.6f\n", float64(k)/100, vx, vy)
	}
	require.NoError(t, b.Close())
	return raw, beh
}

// TestRecordRawWithBehaviourThenTrain: a raw recording and a behaviour
// table become a calibration block (.bcr) through the signal chain, its
// bins labelled with the behaviour measured during each; train fits a
// decoder to it that predicts the held-out end of the block.
func TestRecordRawWithBehaviourThenTrain(t *testing.T) {
	dir := t.TempDir()
	raw, beh := tunedRecording(t, dir, 16, 10000, 60)
	bcr, model := filepath.Join(dir, "calib.bcr"), filepath.Join(dir, "m.bcim")
	code, out, stderr := cli(t, "record", "--source", raw, "--raw-channels", "16", "--raw-rate", "10000", "--raw-gain", "1",
		"--band-high", "3000", "--targets", beh, "--out", bcr, "--json")
	require.Equal(t, 0, code, stderr)
	var rec struct {
		Bins     int      `json:"bins"`
		Channels int      `json:"channels"`
		Targets  []string `json:"targets"`
	}
	lastJSON(t, out, &rec)
	assert.Equal(t, 16, rec.Channels)
	assert.Equal(t, []string{"vel_x", "vel_y"}, rec.Targets)
	assert.InDelta(t, 3000, rec.Bins, 60, "60 s of 20 ms bins")
	checkLabels(t, bcr, beh)

	code, out, stderr = cli(t, "train", "--data", bcr, "--out", model, "--json")
	require.Equal(t, 0, code, stderr)
	var tr trainResult
	lastJSON(t, out, &tr)
	require.NotNil(t, tr.R2)
	t.Logf("held-out R² %.3f on %d bins", *tr.R2, tr.TestBins)
	assert.Greater(t, *tr.R2, 0.3, "held-out R² of a decoder fit to the recorded block")
}

// checkLabels reads the recording back and checks each bin's targets
// against the behaviour table: the mean of the samples stamped in the bin.
func checkLabels(t *testing.T, bcr, beh string) {
	t.Helper()
	tab, err := acquire.OpenBehaviour(beh)
	require.NoError(t, err)
	defer tab.Close()
	type sample struct {
		t int64
		v [2]float32
	}
	var samples []sample
	for {
		var s sample
		ts, err := tab.ReadSample(context.Background(), s.v[:])
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		s.t = ts
		samples = append(samples, s)
	}
	r, err := acquire.OpenRecording(bcr)
	require.NoError(t, err)
	defer r.Close()
	var b acquire.Bin
	checked := 0
	for {
		err := r.ReadBin(context.Background(), &b)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		var sum [2]float32
		n := 0
		for _, s := range samples {
			if s.t > b.Start && s.t <= b.End {
				sum[0], sum[1], n = sum[0]+s.v[0], sum[1]+s.v[1], n+1
			}
		}
		// two 100 Hz samples in 20 ms; the table's last sample is alone in
		// the last bin
		require.True(t, n == 2 || n == 1 && b.End == samples[len(samples)-1].t+1e7, "bin %d (%d-%d ns): %d samples", b.Seq, b.Start, b.End, n)
		assert.InDeltaSlice(t, []float32{sum[0] / float32(n), sum[1] / float32(n)}, b.Target, 1e-6, "bin %d", b.Seq)
		checked++
	}
	assert.Greater(t, checked, 2900)
}
