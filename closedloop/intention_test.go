package closedloop

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/bci-decode/bci-decode/decoder"
)

func TestRefit(t *testing.T) {
	target := [2]float64{10, 0}
	// decoded 5 cm/s straight up from the centre: turned toward the target, same speed
	v := Refit([2]float64{0, 5}, [2]float64{}, target, 2)
	assert.InDelta(t, 5, v[0], 1e-12)
	assert.InDelta(t, 0, v[1], 1e-12)
	// from (10, -6) the target is straight up
	v = Refit([2]float64{-3, 4}, [2]float64{10, -6}, target, 2)
	assert.InDelta(t, 0, v[0], 1e-12)
	assert.InDelta(t, 5, v[1], 1e-12)
	// on the target: hold still, whatever was decoded
	assert.Equal(t, [2]float64{}, Refit([2]float64{7, 7}, [2]float64{9, 1}, target, 2))
	// nothing decoded: nothing intended
	assert.Equal(t, [2]float64{}, Refit([2]float64{}, [2]float64{}, target, 2))
}

func TestLabellerAlignsBySeq(t *testing.T) {
	ok := func(seq uint64, vx, vy float32) decoder.Intent {
		return decoder.Intent{Seq: seq, Kind: decoder.KindVelocity, Values: []float32{vx, vy}, Status: decoder.StatusOK}
	}
	target := [2]float64{10, 0}
	state := func(seq uint64, x float64, trial int) CursorState {
		return CursorState{Seq: seq, Pos: [2]float64{x, 3}, Target: target, Radius: 2, Trial: trial, State: PhaseReaching}
	}
	intents := []decoder.Intent{ok(0, 0, 4), ok(1, 0, 4), ok(2, 0, 4), ok(3, 0, 4),
		{Seq: 3, Kind: decoder.KindVelocity, Values: []float32{0, 0}, Status: decoder.StatusStale}, // a watchdog repeat
		{Seq: 4, Kind: decoder.KindVelocity, Values: []float32{0, 0}, Status: decoder.StatusHalted}}
	states := []CursorState{state(0, 1, 0), state(1, 2, 0), state(2, 7, 1), state(3, 10, 1), state(3, 10, 1), state(4, 10, 1)}

	l := newLabeller(intents, states, 0)
	v, trial, good := l.label(0)
	assert.True(t, good)
	assert.Equal(t, 0, trial)
	assert.Equal(t, Refit([2]float64{0, 4}, [2]float64{}, target, 2), v, "bin 0 starts from the centre")
	v, _, _ = l.label(2)
	assert.Equal(t, Refit([2]float64{0, 4}, [2]float64{2, 3}, target, 2), v, "bin 2 starts where intent 1 left the cursor")
	v, trial, good = l.label(3)
	assert.True(t, good, "the decoded intent counts, not the watchdog's repeat")
	assert.Equal(t, 1, trial)
	assert.InDelta(t, 4, math.Hypot(v[0], v[1]), 1e-12)
	_, _, good = l.label(4)
	assert.False(t, good, "halted intents carry no intention")
	_, _, good = l.label(5)
	assert.False(t, good, "no intent recorded")

	delayed := newLabeller(intents, states, 1)
	v, _, _ = delayed.label(3)
	assert.Equal(t, Refit([2]float64{0, 4}, [2]float64{2, 3}, target, 2), v, "seen one bin late: where intent 1 left it")
	v, _, _ = delayed.label(1)
	assert.Equal(t, Refit([2]float64{0, 4}, [2]float64{}, target, 2), v)
}
