package acquire_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
)

func int16s(v ...int16) []byte {
	var b bytes.Buffer
	for _, x := range v {
		_ = binary.Write(&b, binary.LittleEndian, x)
	}
	return b.Bytes()
}

func readFrames(src acquire.Source) ([]float32, error) {
	var out []float32
	var f acquire.Frame
	for {
		err := src.ReadFrame(context.Background(), &f)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, f.Data...)
	}
}

func TestRawFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rec.dat")
	samples := []int16{1, -2, 3, 100, -32768, 32767, 0, 5, 6}
	require.NoError(t, os.WriteFile(path, int16s(samples...), 0o644))
	r, err := acquire.OpenRaw(path, acquire.RawOptions{Channels: 3, Rate: 1000, GainUV: 0.5, FrameSamples: 2})
	require.NoError(t, err)
	defer r.Close()
	got, err := readFrames(r)
	require.NoError(t, err)
	want := make([]float32, len(samples))
	for i, s := range samples {
		want[i] = float32(s) * 0.5
	}
	assert.Equal(t, want, got)

	// a truncated last sample frame: whole samples first, then the offset
	require.NoError(t, os.WriteFile(path, int16s(append(samples, 7)...), 0o644))
	r2, err := acquire.OpenRaw(path, acquire.RawOptions{Channels: 3, Rate: 1000, FrameSamples: 2})
	require.NoError(t, err)
	defer r2.Close()
	got, err = readFrames(r2)
	require.ErrorIs(t, err, acquire.ErrFormat)
	assert.Contains(t, err.Error(), "rec.dat: byte 18")
	assert.Contains(t, err.Error(), "file ends inside a sample frame")
	assert.Len(t, got, 9)

	_, err = acquire.OpenRaw(path, acquire.RawOptions{})
	assert.ErrorContains(t, err, "need a channel count")
}

func TestSpikeGLXMeta(t *testing.T) {
	dir := t.TempDir()
	meta := "imSampRate=30000\nnSavedChans=385\nimAiRangeMax=0.6\nimMaxInt=512\n~imroTbl=(0,384)(0 0 0 500 250 1)\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "run_g0_t0.imec0.ap.meta"), []byte(meta), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "run_g0_t0.imec0.ap.bin"), int16s(make([]int16, 385*4)...), 0o644))
	r, err := acquire.OpenRaw(filepath.Join(dir, "run_g0_t0.imec0.ap.bin"), acquire.RawOptions{})
	require.NoError(t, err)
	defer r.Close()
	info := r.Info()
	assert.Equal(t, 385, info.Channels)
	assert.Equal(t, 30000.0, info.Rate)
	m, err := acquire.ParseSpikeGLXMeta(meta, "x.meta")
	require.NoError(t, err)
	assert.InDelta(t, 2.34375, m.GainUV, 1e-9, "0.6 V / 512 / 500 in µV")

	for _, bad := range []string{"nSavedChans=3\n", "imSampRate=30000\n", "nSavedChans=x\nimSampRate=1\n", "garbage\n"} {
		_, err := acquire.ParseSpikeGLXMeta(bad, "bad.meta")
		assert.ErrorIs(t, err, acquire.ErrFormat, bad)
	}
}

func FuzzRaw(f *testing.F) {
	f.Add(int16s(1, 2, 3, 4, 5), 2)
	f.Add([]byte{1}, 1)
	f.Fuzz(func(t *testing.T, data []byte, channels int) {
		if channels < 1 || channels > 64 {
			return
		}
		r, err := acquire.NewRaw(bytes.NewReader(data), "fuzz", acquire.RawOptions{Channels: channels, Rate: 1000, FrameSamples: 3})
		if err != nil {
			t.Fatal(err)
		}
		got, err := readFrames(r)
		if len(got) != len(data)/2/channels*channels {
			t.Fatalf("%d samples from %d bytes of %d channels", len(got), len(data), channels)
		}
		if (len(data)%(2*channels) != 0) != (err != nil) {
			t.Fatalf("error %v for %d bytes of %d channels", err, len(data), channels)
		}
	})
}

func FuzzSpikeGLXMeta(f *testing.F) {
	f.Add("imSampRate=30000\nnSavedChans=385\nimAiRangeMax=0.6\nimMaxInt=512\n")
	f.Fuzz(func(t *testing.T, text string) {
		m, err := acquire.ParseSpikeGLXMeta(text, "fuzz")
		if err == nil && (m.Channels < 1 || !(m.Rate > 0)) {
			t.Fatalf("accepted %+v", m)
		}
	})
}
