package modelfile_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/modelfile"
)

func encode(t testing.TB) []byte {
	t.Helper()
	var w modelfile.Writer
	w.Int(3)
	w.Float64s([]float64{1.5, -2, 3e-9})
	w.Float32s([]float32{0.25})
	b, _, err := modelfile.Encode("kalman", map[string]int{"inputs": 3}, w.Buf)
	require.NoError(t, err)
	return b
}

func TestRoundTrip(t *testing.T) {
	b := encode(t)
	m, err := modelfile.Decode(b)
	require.NoError(t, err)
	assert.Equal(t, "kalman", m.Kind)
	assert.JSONEq(t, `{"inputs":3}`, string(m.Meta))
	assert.Len(t, m.Hash, 64)
	r := modelfile.NewReader(m.Payload)
	assert.Equal(t, 3, r.Int())
	assert.Equal(t, []float64{1.5, -2, 3e-9}, r.Float64s())
	assert.Equal(t, []float32{0.25}, r.Float32s())
	require.NoError(t, r.Err())

	// The hash is the content: the same model encodes to the same hash,
	// a different one to another.
	_, h1, _ := modelfile.Encode("kalman", map[string]int{"inputs": 3}, m.Payload)
	_, h2, _ := modelfile.Encode("kalman", map[string]int{"inputs": 4}, m.Payload)
	assert.Equal(t, m.Hash, h1)
	assert.NotEqual(t, h1, h2)
}

func TestDecodeErrors(t *testing.T) {
	good := encode(t)
	flipped := bytes.Clone(good)
	flipped[len(flipped)-40] ^= 1 // inside the payload
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "bad magic"},
		{"other file", []byte("PK\x03\x04 zip file"), "bad magic"},
		{"future version", append([]byte("BCIM\x07\x00"), good[6:]...), "unsupported version 7"},
		{"truncated", good[:len(good)-40], "truncated"},
		{"trailing bytes", append(bytes.Clone(good), 0), "unexpected bytes"},
		{"bit flip", flipped, "SHA-256 mismatch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := modelfile.Decode(tc.data)
			require.ErrorIs(t, err, modelfile.ErrCorrupt)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestPayloadReaderErrors(t *testing.T) {
	var w modelfile.Writer
	w.Float64s([]float64{1, 2, 3})
	r := modelfile.NewReader(w.Buf[:20])
	assert.Nil(t, r.Float64s())
	assert.ErrorIs(t, r.Err(), modelfile.ErrCorrupt)

	r = modelfile.NewReader(append(bytes.Clone(w.Buf), 1, 2))
	r.Float64s()
	assert.ErrorContains(t, r.Err(), "trailing bytes")

	var huge modelfile.Writer
	huge.Int(1 << 60) // a length no payload can hold
	r = modelfile.NewReader(huge.Buf)
	assert.Nil(t, r.Float32s())
	assert.ErrorContains(t, r.Err(), "exceeds the payload")
}

func FuzzDecode(f *testing.F) {
	f.Add(encode(f))
	f.Add([]byte("BCIM\x01\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := modelfile.Decode(data)
		if err != nil {
			return
		}
		r := modelfile.NewReader(m.Payload)
		for r.Err() == nil && len(r.Float64s()) > 0 {
		}
	})
}
