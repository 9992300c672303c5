package acquire_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
)

func TestFrameMessageRoundTrip(t *testing.T) {
	in := acquire.Frame{Seq: 9, Time: 1234, Rate: 30000, Channels: 3, Data: []float32{1, -2, 3.5, 4, 5, 6}}
	msg := acquire.AppendFrameMessage(nil, &in)
	assert.Len(t, msg, acquire.FrameMessageSize(&in))
	var out acquire.Frame
	require.NoError(t, acquire.DecodeFrameMessage(msg, &out))
	assert.Equal(t, in, out)
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = acquire.DecodeFrameMessage(msg, &out) }))

	damaged := append([]byte(nil), msg...)
	damaged[40] ^= 1
	for name, p := range map[string][]byte{
		"empty": nil, "bins": []byte("BCIB\x01"), "truncated": msg[:len(msg)-3], "damaged": damaged,
		"version": append([]byte("BCIF\x02"), msg[5:]...),
	} {
		assert.ErrorIs(t, acquire.DecodeFrameMessage(p, &out), acquire.ErrFormat, name)
	}
}

func FuzzDecodeFrameMessage(f *testing.F) {
	in := acquire.Frame{Seq: 1, Time: 2, Rate: 1000, Channels: 2, Data: []float32{1, 2, 3, 4}}
	f.Add(acquire.AppendFrameMessage(nil, &in))
	f.Add([]byte("BCIF\x01\x00\xff\xff\xff\xff\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, p []byte) {
		var fr acquire.Frame
		if err := acquire.DecodeFrameMessage(p, &fr); err != nil {
			return
		}
		if string(acquire.AppendFrameMessage(nil, &fr)) != string(p) {
			t.Fatal("a decoded frame does not re-encode to its message")
		}
	})
}
