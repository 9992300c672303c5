package acquire_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
)

// writeSimRecording writes n simulated bins to a recording in memory.
func writeSimRecording(t testing.TB, n int) []byte {
	t.Helper()
	sim, err := acquire.NewSimulator(acquire.SimConfig{Seed: 3, Channels: 8, Bins: n})
	require.NoError(t, err)
	info := sim.Shape()
	var buf bytes.Buffer
	w, err := acquire.NewRecordingWriter(&buf, acquire.NewRecordingHeader(info, "test"))
	require.NoError(t, err)
	var b acquire.Bin
	for {
		err := sim.ReadBin(context.Background(), &b)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		require.NoError(t, w.Write(&b))
	}
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func readAll(r acquire.BinSource) ([]acquire.Bin, error) {
	var out []acquire.Bin
	for {
		var b acquire.Bin
		err := r.ReadBin(context.Background(), &b)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, b)
	}
}

func TestRecordingRoundTrip(t *testing.T) {
	data := writeSimRecording(t, 50)
	path := filepath.Join(t.TempDir(), "sim.bcr")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	r, err := acquire.OpenRecording(path)
	require.NoError(t, err)
	defer r.Close()
	got, err := readAll(r)
	require.NoError(t, err)

	sim, err := acquire.NewSimulator(acquire.SimConfig{Seed: 3, Channels: 8, Bins: 50})
	require.NoError(t, err)
	want, err := readAll(sim)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Equal(t, "test", r.Header().Source)
}

func TestRecordingErrors(t *testing.T) {
	good := writeSimRecording(t, 5)
	hdrEnd := len(good) - 5*acquire.RecordSize(8, 4)
	flip := func(off int) []byte {
		b := bytes.Clone(good)
		b[off] ^= 0x40
		return b
	}
	nan := bytes.Clone(good)
	// channel 2 of record 1 becomes NaN, with a matching checksum
	var rec acquire.Bin
	require.NoError(t, acquire.DecodeRecord(good[hdrEnd+acquire.RecordSize(8, 4):hdrEnd+2*acquire.RecordSize(8, 4)], &rec, 8, 4))
	rec.Features[2] = float32(math.NaN())
	copy(nan[hdrEnd+acquire.RecordSize(8, 4):], acquire.AppendRecord(nil, &rec))

	tests := []struct {
		name    string
		data    []byte
		open    bool // the error comes from opening, not reading
		wantErr string
	}{
		{"empty", nil, true, "file too short"},
		{"bad magic", append([]byte("XXXX"), good[4:]...), true, "not a bci-decode recording"},
		{"future version", append(append([]byte("BCIR"), 9, 0), good[6:]...), true, "version 9"},
		{"truncated header", good[:20], true, "header truncated"},
		{"truncated record", good[:len(good)-7], false, "truncated record 4"},
		{"damaged record", flip(hdrEnd + 40), false, "checksum"},
		{"nan sample", nan, false, "record 1 channel 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := acquire.NewRecordingReader(bytes.NewReader(tc.data), "x.bcr")
			if tc.open {
				require.ErrorIs(t, err, acquire.ErrFormat)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.Contains(t, err.Error(), "x.bcr")
				return
			}
			require.NoError(t, err)
			_, err = readAll(r)
			require.ErrorIs(t, err, acquire.ErrFormat)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.Contains(t, err.Error(), "x.bcr: byte ")
		})
	}
}

func FuzzRecording(f *testing.F) {
	f.Add(writeSimRecording(f, 3))
	f.Add([]byte("BCIR\x01\x00\x02\x00\x00\x00{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := acquire.NewRecordingReader(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		info := r.Shape()
		bins, _ := readAll(r)
		for _, b := range bins {
			if len(b.Features) != info.Channels || len(b.Target) != len(info.Targets) {
				t.Fatalf("bin shape %d/%d, header %d/%d", len(b.Features), len(b.Target), info.Channels, len(info.Targets))
			}
		}
	})
}
