package acquire_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/bci-decode/bci-decode/acquire"
)

// TestRawRefusesFramesBeyondTheMachine asks the raw reader for frames of a
// size each within its limits but together beyond the machine's memory:
// it refuses before allocating, saying what it would have needed.
func TestRawRefusesFramesBeyondTheMachine(t *testing.T) {
	for _, tc := range []struct {
		channels, samples int
		ok                bool
	}{
		{65536, 1 << 20, false}, // 384 GiB a frame
		{384, 1 << 10, true},
	} {
		_, err := acquire.NewRaw(strings.NewReader(""), "x.dat", acquire.RawOptions{Channels: tc.channels, Rate: 30000, FrameSamples: tc.samples})
		if tc.ok {
			assert.NoError(t, err, "%d x %d", tc.channels, tc.samples)
			continue
		}
		assert.ErrorContains(t, err, "more than this machine allows", "%d x %d", tc.channels, tc.samples)
		assert.ErrorContains(t, err, "x.dat: frames of", "%d x %d", tc.channels, tc.samples)
	}
}
