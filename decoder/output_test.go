package decoder_test

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/decoder"
)

func TestOutput(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	tests := []struct {
		name   string
		opts   decoder.OutputOptions
		raw    [][]float32
		want   [][]float32
		status []decoder.Status
	}{
		{"pass through", decoder.OutputOptions{}, [][]float32{{1, -2}}, [][]float32{{1, -2}}, []decoder.Status{"ok"}},
		{"clamped", decoder.OutputOptions{Limit: 5}, [][]float32{{7, -9}}, [][]float32{{5, -5}}, []decoder.Status{"ok"}},
		{"nan halts with zeros", decoder.OutputOptions{}, [][]float32{{nan, 1}, {inf, 1}, {1, 1}}, [][]float32{{0, 0}, {0, 0}, {1, 1}}, []decoder.Status{"halted", "halted", "ok"}},
		{"integrated", decoder.OutputOptions{Integrate: true}, [][]float32{{10, 0}, {10, -10}}, [][]float32{{1, 0}, {2, -1}}, []decoder.Status{"ok", "ok"}},
		{"integral does not wind up", decoder.OutputOptions{Integrate: true, Limit: 1.5}, [][]float32{{10, 0}, {10, 0}, {10, 0}, {-10, 0}}, [][]float32{{1, 0}, {1.5, 0}, {1.5, 0}, {0.5, 0}}, []decoder.Status{"ok", "ok", "ok", "ok"}},
		{"a fault holds the position", decoder.OutputOptions{Integrate: true}, [][]float32{{10, -10}, {nan, 1}, {10, 0}}, [][]float32{{1, -1}, {1, -1}, {2, -1}}, []decoder.Status{"ok", "halted", "ok"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := decoder.NewOutput(2, tc.opts)
			in := decoder.Intent{Values: make([]float32, 0, 2)}
			for i, raw := range tc.raw {
				o.Fill(&in, raw, 100*time.Millisecond, false)
				assert.InDeltaSlice(t, tc.want[i], in.Values, 1e-6, "step %d", i)
				assert.Equal(t, tc.status[i], in.Status, "step %d", i)
			}
		})
	}
	o := decoder.NewOutput(1, decoder.OutputOptions{})
	o.Fill(&decoder.Intent{}, []float32{nan}, 20*time.Millisecond, false)
	assert.Equal(t, uint64(1), o.Faults())
}

// TestOutputHold checks what paused (held) intents carry: zero velocity,
// or the position already reached, which does not move while held.
func TestOutputHold(t *testing.T) {
	vel := decoder.NewOutput(2, decoder.OutputOptions{})
	in := decoder.Intent{}
	vel.Fill(&in, []float32{3, -4}, 100*time.Millisecond, true)
	assert.Equal(t, decoder.StatusHalted, in.Status)
	assert.Equal(t, decoder.KindVelocity, in.Kind)
	assert.Equal(t, []float32{0, 0}, in.Values)

	pos := decoder.NewOutput(2, decoder.OutputOptions{Integrate: true})
	pos.Fill(&in, []float32{10, 20}, 100*time.Millisecond, false)
	assert.Equal(t, []float32{1, 2}, in.Values)
	for range 3 {
		pos.Fill(&in, []float32{10, 20}, 100*time.Millisecond, true)
		assert.Equal(t, decoder.StatusHalted, in.Status)
		assert.Equal(t, decoder.KindPosition, in.Kind)
		assert.Equal(t, []float32{1, 2}, in.Values, "a held position stays where it was")
	}
	pos.Fill(&in, []float32{10, 20}, 100*time.Millisecond, false)
	assert.Equal(t, decoder.StatusOK, in.Status)
	assert.InDeltaSlice(t, []float32{2, 4}, in.Values, 1e-6, "integration resumes from the held position")
}

func TestIntentAppendJSONMatchesEncodingJSON(t *testing.T) {
	for _, in := range []decoder.Intent{
		{Seq: 1, SampleTime: 1795500000840000000, DecodeTime: 1795500000840008000, Kind: decoder.KindVelocity, Values: []float32{-3.42, 11.9}, Model: "abc", Status: decoder.StatusOK},
		{Kind: decoder.KindClass, Values: []float32{}, Class: 3, Confidence: 0.75, Model: `we"ird\`, Status: decoder.StatusHalted},
		{Values: []float32{1e-30, 3.4e38, 0}},
		{Seq: 7, Values: []float32{1}, Status: decoder.StatusOK, Process: "worker-2", Takeover: true},
	} {
		var got decoder.Intent
		require.NoError(t, json.Unmarshal(in.AppendJSON(nil), &got), string(in.AppendJSON(nil)))
		want := in
		if want.Values == nil {
			want.Values = []float32{}
		}
		if got.Values == nil {
			got.Values = []float32{}
		}
		assert.Equal(t, want, got)
	}
	// non-finite values never make invalid JSON
	bad := decoder.Intent{Values: []float32{float32(math.NaN()), float32(math.Inf(-1))}}
	assert.True(t, json.Valid(bad.AppendJSON(nil)))
}
