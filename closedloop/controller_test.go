package closedloop_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/closedloop"
	"github.com/bci-decode/bci-decode/decoder"
)

// TestControllerAppliesIntents publishes intents over NATS as a decoder
// would and checks the cursor states the controller answers with: ok
// velocities move the cursor by v·dt, stale and halted intents stop it
// where it is, position intents set it, the workspace confines it, and
// each state names the intent's seq, time and status.
func TestControllerAppliesIntents(t *testing.T) {
	nc := conn(t)
	const session = "ctl"
	ctl, err := closedloop.NewController(nc, closedloop.ControllerOptions{Session: session, BinWidth: 20 * time.Millisecond,
		Task: closedloop.TaskOptions{Timeout: time.Minute}})
	require.NoError(t, err)
	require.NoError(t, ctl.Start(context.Background()))
	defer ctl.Close(context.Background())
	states, err := nc.SubscribeSync(bus.CursorSubject(session))
	require.NoError(t, err)
	require.NoError(t, nc.Flush())

	send := func(in decoder.Intent) closedloop.CursorState {
		t.Helper()
		in.SampleTime = int64(in.Seq)*20e6 + 1
		require.NoError(t, nc.Publish(bus.IntentSubject(session), in.AppendJSON(nil)))
		m, err := states.NextMsg(5 * time.Second)
		require.NoError(t, err)
		var st closedloop.CursorState
		require.NoError(t, json.Unmarshal(m.Data, &st))
		assert.Equal(t, in.Seq, st.Seq)
		assert.Equal(t, in.SampleTime, st.Time)
		assert.Equal(t, in.Status, st.Status)
		return st
	}
	vel := func(seq uint64, vx, vy float32, s decoder.Status) decoder.Intent {
		return decoder.Intent{Seq: seq, Kind: decoder.KindVelocity, Values: []float32{vx, vy}, Status: s}
	}

	st := send(vel(0, 50, -25, decoder.StatusOK))
	assert.InDeltaSlice(t, []float64{1, -0.5}, st.Pos[:], 1e-9, "50 cm/s for 20 ms is 1 cm")
	assert.InDeltaSlice(t, []float64{50, -25}, st.Vel[:], 1e-9)
	assert.Equal(t, 0, st.Trial)
	assert.Equal(t, closedloop.PhaseReaching, st.State)
	assert.Equal(t, 2.0, st.Radius)

	for i, s := range []decoder.Status{decoder.StatusHalted, decoder.StatusStale} {
		halted := vel(uint64(1+i), 0, 0, s)
		halted.Values = []float32{80, 80} // a stop means stop, whatever the values
		st = send(halted)
		assert.InDeltaSlice(t, []float64{1, -0.5}, st.Pos[:], 1e-9, "a %s intent stops the cursor", s)
		assert.Equal(t, [2]float64{}, st.Vel)
	}

	st = send(vel(3, 50, 0, decoder.StatusOK))
	assert.InDeltaSlice(t, []float64{2, -0.5}, st.Pos[:], 1e-9, "ok intents move it again")

	st = send(decoder.Intent{Seq: 4, Kind: decoder.KindPosition, Values: []float32{-3, 4}, Status: decoder.StatusOK})
	assert.Equal(t, [2]float64{-3, 4}, st.Pos, "a position intent sets the position")
	assert.InDeltaSlice(t, []float64{-250, 225}, st.Vel[:], 1e-9)

	st = send(vel(5, 1e6, 0, decoder.StatusOK))
	assert.Equal(t, [2]float64{15, 4}, st.Pos, "the workspace (1.5 × radius) confines the cursor")

	require.NoError(t, nc.Publish(bus.IntentSubject(session), []byte("not json")))
	require.NoError(t, nc.Publish(bus.IntentSubject(session), (&decoder.Intent{Seq: 6, Kind: decoder.KindClass, Values: []float32{1}}).AppendJSON(nil)))
	st = send(vel(7, 0, 0, decoder.StatusOK))
	assert.Equal(t, [2]float64{15, 4}, st.Pos)
	_, err = states.NextMsg(50 * time.Millisecond)
	assert.ErrorIs(t, err, nats.ErrTimeout, "one state per usable intent")

	require.NoError(t, ctl.WaitApplied(context.Background(), 7))
	require.NoError(t, ctl.Close(context.Background()))
	assert.Equal(t, closedloop.ControllerStats{Applied: 7, Moving: 5, Ignored: 2, Published: 7}, ctl.Stats())
}
