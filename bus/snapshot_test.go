package bus_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/internal/testkit"
)

func TestSnapshotRoundTrip(t *testing.T) {
	m := testkit.Kalman(t, acquire.SimConfig{Seed: 1, Bins: 1000})
	st := m.Decoder.(decoder.StateSaver)
	msg := bus.AppendSnapshot(nil, 41, m.Hash, st)
	s, err := bus.DecodeSnapshot(msg)
	require.NoError(t, err)
	assert.Equal(t, uint64(41), s.Seq)
	assert.Equal(t, m.Hash, s.Model)
	assert.Equal(t, st.AppendState(nil), s.State)
	msg[10] ^= 1
	_, err = bus.DecodeSnapshot(msg)
	assert.ErrorIs(t, err, acquire.ErrFormat)
}

func FuzzDecodeSnapshot(f *testing.F) {
	m := testkit.Kalman(f, acquire.SimConfig{Seed: 1, Bins: 500})
	f.Add(bus.AppendSnapshot(nil, 7, m.Hash, m.Decoder.(decoder.StateSaver)))
	f.Add([]byte("BCIS\x01"))
	f.Fuzz(func(t *testing.T, p []byte) {
		s, err := bus.DecodeSnapshot(p)
		if err != nil {
			return
		}
		// a valid message restores only into a decoder whose state fits
		_ = m.Decoder.(decoder.StateSaver).RestoreState(s.State)
	})
}
