package closedloop_test

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/closedloop"
	"github.com/bci-decode/bci-decode/decoder"
)

func population(t testing.TB) *acquire.Population {
	t.Helper()
	p, err := acquire.NewPopulation(acquire.SimConfig{Seed: 1})
	require.NoError(t, err)
	return p
}

// TestUserReactsAfterDelay plays the cursor controller: the cursor sits
// left of the target, then jumps past it at intent 50. The user's intended
// velocity (each bin's target) turns around exactly when the jump becomes
// visible through its delay, not before.
func TestUserReactsAfterDelay(t *testing.T) {
	nc := conn(t)
	for _, delay := range []time.Duration{-1, 60 * time.Millisecond, 120 * time.Millisecond, 130 * time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) {
			session := fmt.Sprintf("delay%d", delay.Milliseconds())
			u, err := closedloop.NewUser(nc, closedloop.UserOptions{Session: session, Population: population(t), Delay: delay, Stall: 5 * time.Second})
			require.NoError(t, err)
			defer u.Close()
			const jump = 50
			var b acquire.Bin
			flip := -1
			for j := range 100 {
				require.NoError(t, u.ReadBin(context.Background(), &b))
				require.Equal(t, uint64(j), b.Seq)
				if j > 0 && b.Target[0] < 0 && flip < 0 {
					flip = j
				}
				// the controller's answer to intent j
				st := closedloop.CursorState{Seq: uint64(j), Pos: [2]float64{-5, 0}, Target: [2]float64{0, 0}, Radius: 2,
					State: closedloop.PhaseReaching, Status: decoder.StatusOK}
				if j >= jump {
					st.Pos = [2]float64{5, 0}
				}
				require.NoError(t, nc.Publish(bus.CursorSubject(session), st.AppendJSON(nil)))
			}
			lag := int(max(delay, 0) / (20 * time.Millisecond))
			assert.Equal(t, jump+lag+1, flip, "bin j sees the state of intent j-1-%d", lag)
		})
	}
}

// TestUserWaitsForTheCursor: a user whose cursor controller is silent
// fails with a clear error after its stall timeout instead of running
// open loop.
func TestUserWaitsForTheCursor(t *testing.T) {
	nc := conn(t)
	u, err := closedloop.NewUser(nc, closedloop.UserOptions{Session: "silent", Population: population(t), Delay: 20 * time.Millisecond, Stall: 300 * time.Millisecond})
	require.NoError(t, err)
	defer u.Close()
	var b acquire.Bin
	require.NoError(t, u.ReadBin(context.Background(), &b), "bin 0 and 1 see nothing yet")
	require.NoError(t, u.ReadBin(context.Background(), &b))
	assert.Equal(t, [2]float32{0, 0}, [2]float32(b.Target), "a user who sees nothing rests")
	start := time.Now()
	err = u.ReadBin(context.Background(), &b)
	assert.ErrorContains(t, err, "no cursor state for intent 0")
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, u.ReadBin(ctx, &b), context.Canceled)
}

// TestUserEndsAfterTrials: the stream ends once the user has seen the
// requested number of trials end.
func TestUserEndsAfterTrials(t *testing.T) {
	nc := conn(t)
	u, err := closedloop.NewUser(nc, closedloop.UserOptions{Session: "ends", Population: population(t), Delay: 120 * time.Millisecond, Trials: 2})
	require.NoError(t, err)
	defer u.Close()
	var b acquire.Bin
	phase := func(j int) closedloop.Phase {
		if j == 10 || j == 20 {
			return closedloop.PhaseSuccess
		}
		return closedloop.PhaseReaching
	}
	for j := 0; ; j++ {
		err := u.ReadBin(context.Background(), &b)
		if err == io.EOF {
			// the second trial ended with intent 20, seen by the user at bin 21+6
			assert.Equal(t, 27, j)
			return
		}
		require.NoError(t, err)
		require.Less(t, j, 100)
		st := closedloop.CursorState{Seq: uint64(j), Trial: j / 11, State: phase(j), Radius: 2, Status: decoder.StatusOK}
		require.NoError(t, nc.Publish(bus.CursorSubject("ends"), st.AppendJSON(nil)))
	}
}
