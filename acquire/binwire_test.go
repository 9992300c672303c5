package acquire_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
)

func TestBinMessageRoundTrip(t *testing.T) {
	in := acquire.Bin{Seq: 7, Start: 100, End: 120, Trial: 3, Features: []float32{1, 0, 2.5}, Target: []float32{-1, 4}}
	msg := acquire.AppendBinMessage(nil, &in)
	var out acquire.Bin
	require.NoError(t, acquire.DecodeBinMessage(msg, &out))
	assert.Equal(t, in, out)

	none := acquire.Bin{Seq: 1, Start: 0, End: 5, Trial: -1, Features: []float32{3}, Target: []float32{}}
	require.NoError(t, acquire.DecodeBinMessage(acquire.AppendBinMessage(nil, &none), &out))
	assert.Equal(t, none, out)

	allocs := testing.AllocsPerRun(100, func() { _ = acquire.DecodeBinMessage(msg, &out) })
	assert.Zero(t, allocs)
}

func TestBinMessageErrors(t *testing.T) {
	in := acquire.Bin{Seq: 7, Features: []float32{1, 2}, Target: []float32{3}}
	good := acquire.AppendBinMessage(nil, &in)
	damaged := append([]byte(nil), good...)
	damaged[20] ^= 4
	for name, tc := range map[string]struct {
		msg  []byte
		want string
	}{
		"empty":     {nil, "not a bin message"},
		"json":      {[]byte(`{"seq":1}`), "not a bin message"},
		"version":   {append(append([]byte("BCIB"), 2), good[5:]...), "version 2"},
		"truncated": {good[:len(good)-1], "record is"},
		"damaged":   {damaged, "checksum"},
	} {
		t.Run(name, func(t *testing.T) {
			var out acquire.Bin
			err := acquire.DecodeBinMessage(tc.msg, &out)
			require.ErrorIs(t, err, acquire.ErrFormat)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func FuzzDecodeBinMessage(f *testing.F) {
	in := acquire.Bin{Seq: 7, Start: 1, End: 2, Features: []float32{1, 2}, Target: []float32{3}}
	f.Add(acquire.AppendBinMessage(nil, &in))
	f.Add([]byte("BCIB\x01\xff\xff\xff\xff\x00\x00"))
	f.Fuzz(func(t *testing.T, p []byte) {
		var b acquire.Bin
		if err := acquire.DecodeBinMessage(p, &b); err != nil {
			return
		}
		again := acquire.AppendBinMessage(nil, &b)
		if string(again) != string(p) {
			t.Fatalf("decoded message does not re-encode to itself")
		}
	})
}
