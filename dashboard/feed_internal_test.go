package dashboard

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/snn"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestFeedMessageGolden pins the telemetry message the page reads: two
// bins, one of a spiking decoder, features rounded to four digits.
func TestFeedMessageGolden(t *testing.T) {
	shape := acquire.Shape{Channels: 3, BinWidth: 20 * time.Millisecond, Targets: []string{"vel_x", "vel_y"}}
	f, err := NewFeed(nil, nil, FeedOptions{Session: "golden", Shape: shape})
	require.NoError(t, err)
	f.lost.Store(2)
	m, err := snn.NewModel(snn.Config{Kind: snn.LIF, Inputs: 3, Hidden: []int{4, 2}, Outputs: 2}, 1)
	require.NoError(t, err)
	f.gather(&sample{seq: 41, end: 1795500000840000000, step: 4200 * time.Nanosecond, features: []float32{0, 3, 1.234567}, target: []float32{-3.4219, 11.9},
		changed: true, model: network{m}})
	f.gather(&sample{seq: 42, end: 1795500000860000000, step: 61 * time.Microsecond, spiking: true, spikes: 17, energyNJ: 1.23456,
		layers: 2, layerSpikes: [snn.MaxLayers]uint64{12, 5}, features: []float32{2, 0, 1e-7}, target: []float32{0, 0}})
	got := f.appendMessage(nil, f.neuronsDue())
	path := filepath.Join("testdata", "feed.golden.json")
	if *update {
		require.NoError(t, os.WriteFile(path, append(got, '\n'), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got)+"\n")
}

// network is a decoder's networks as the feed sees them.
type network struct{ m *snn.Model }

func (n network) Model() *snn.Model { return n.m }
func (n network) Members() int      { return 1 }
func (n network) Substeps() int     { return 1 }

// TestNeuronsGoOutEveryTenthMessage: a network's neuron parameters go out
// with the first message after it starts decoding and in every tenth
// after that; once a decoder without a network takes over, never.
func TestNeuronsGoOutEveryTenthMessage(t *testing.T) {
	shape := acquire.Shape{Channels: 1, BinWidth: 20 * time.Millisecond, Targets: []string{"vel_x"}}
	f, err := NewFeed(nil, nil, FeedOptions{Session: "neurons", Shape: shape})
	require.NoError(t, err)
	m, err := snn.NewModel(snn.Config{Kind: snn.HIFI, Inputs: 1, Hidden: []int{3}, Outputs: 1}, 1)
	require.NoError(t, err)
	f.gather(&sample{changed: true, model: network{m}, features: []float32{0}, target: []float32{0}})
	var with []int
	for i := range 25 {
		msg := f.appendMessage(nil, f.neuronsDue())
		if strings.Contains(string(msg), `"neurons":{"kind":"hifi","members":1,"sizes":[3]`) {
			with = append(with, i)
		}
	}
	assert.Equal(t, []int{0, 10, 20}, with)

	f.gather(&sample{changed: true, model: nil, features: []float32{0}, target: []float32{0}})
	for range 12 {
		assert.NotContains(t, string(f.appendMessage(nil, f.neuronsDue())), `"neurons":`)
	}
}
