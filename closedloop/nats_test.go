package closedloop_test

import (
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/closedloop"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/internal/testkit"
)

// observer follows a session's intents and cursor states from a
// connection of its own, as a dashboard would.
type observer struct {
	mu      sync.Mutex
	intents []decoder.Intent
	states  []closedloop.CursorState
	seen    chan uint64 // seqs of intents, as they come
}

func observe(t *testing.T, url, session string) *observer {
	t.Helper()
	nc := testkit.Connect(t, url)
	o := &observer{seen: make(chan uint64, 1<<16)}
	_, err := nc.Subscribe(bus.IntentSubject(session), func(m *nats.Msg) {
		var in decoder.Intent
		require.NoError(t, json.Unmarshal(m.Data, &in))
		assert.Equal(t, strconv.FormatUint(in.Seq, 10), m.Header.Get(bus.HeaderSeq))
		o.mu.Lock()
		o.intents = append(o.intents, in)
		o.mu.Unlock()
		o.seen <- in.Seq
	})
	require.NoError(t, err)
	_, err = nc.Subscribe(bus.CursorSubject(session), func(m *nats.Msg) {
		var st closedloop.CursorState
		require.NoError(t, json.Unmarshal(m.Data, &st))
		o.mu.Lock()
		o.states = append(o.states, st)
		o.mu.Unlock()
	})
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	return o
}

// TestLoopRunsOverNATS runs a real-time block with a Kalman filter and,
// from another connection, pauses the decoder for a while: every bin's
// intent and the cursor state answering it cross NATS in order, seq for
// seq; the cursor integrates the ok intents, and the halted intents of the
// pause stop it.
func TestLoopRunsOverNATS(t *testing.T) {
	srv := testkit.Server(t, bus.ServerOptions{})
	nc := testkit.Connect(t, srv.ClientURL())
	const session = "overnats"
	obs := observe(t, srv.ClientURL(), session)
	cal := calibrate(t, "kalman", calibSeed, 5*time.Minute, false)

	control := testkit.Connect(t, srv.ClientURL())
	paused := make(chan error, 1)
	go func() {
		for seq := uint64(0); seq < 40; {
			select {
			case seq = <-obs.seen:
			case <-time.After(10 * time.Second):
				paused <- errors.New("intent 40 never came")
				return
			}
		}
		if _, err := control.Request(bus.ControlSubject(session, bus.VerbPause), nil, 2*time.Second); err != nil {
			paused <- err
			return
		}
		time.Sleep(300 * time.Millisecond)
		_, err := control.Request(bus.ControlSubject(session, bus.VerbResume), nil, 2*time.Second)
		paused <- err
	}()
	start := time.Now()
	res := block(t, nc, session, cal.Model, cal.Population, blockSeed, 3, func(o *closedloop.Options) {
		o.Realtime, o.Session.Control = true, true
	})
	require.NoError(t, <-paused)
	require.Eventually(t, func() bool {
		obs.mu.Lock()
		defer obs.mu.Unlock()
		return len(obs.states) == int(res.Session.Stats.Bins)
	}, 5*time.Second, 10*time.Millisecond)

	obs.mu.Lock()
	defer obs.mu.Unlock()
	n := int(res.Session.Stats.Bins)
	require.Len(t, obs.intents, n, "one intent per bin")
	halted := 0
	var prev [2]float64
	for i, st := range obs.states {
		in := obs.intents[i]
		require.Equal(t, uint64(i), in.Seq, "intents in order")
		require.Equal(t, uint64(i), st.Seq, "one cursor state per intent, in order")
		assert.Equal(t, in.SampleTime, st.Time)
		assert.WithinDuration(t, start, time.Unix(0, st.Time), time.Minute, "real time: bins carry wall-clock times")
		require.Equal(t, in.Status, st.Status)
		if in.Status == decoder.StatusHalted {
			halted++
			assert.Equal(t, prev, st.Pos, "a halted intent stops the cursor (seq %d)", i)
			assert.Equal(t, [2]float64{}, st.Vel)
		} else {
			for d := range 2 {
				assert.InDelta(t, prev[d]+float64(in.Values[d])*0.02, st.Pos[d], 1e-4, "the cursor integrates velocity (seq %d)", i)
			}
		}
		prev = st.Pos
	}
	assert.Greater(t, halted, 5, "the pause was seen")
	assert.Equal(t, uint64(n), res.Cursor.Applied)
}

// TestPaceDoesNotChangeResults: the loop is lock-step, so a real-time
// block and one run as fast as possible give the same trials.
func TestPaceDoesNotChangeResults(t *testing.T) {
	nc := conn(t)
	cal := calibrate(t, "kalman", calibSeed, 5*time.Minute, false)
	fast := block(t, nc, "fast", cal.Model, population(t), blockSeed, 2, nil)
	slow := block(t, nc, "slow", cal.Model, population(t), blockSeed, 2, func(o *closedloop.Options) { o.Realtime = true })
	require.Len(t, fast.Trials, 2)
	assert.Equal(t, fast.Trials, slow.Trials)
	assert.Greater(t, fast.RealtimeFactor(), 10*slow.RealtimeFactor())
	assert.InDelta(t, 1, slow.RealtimeFactor(), 0.1)
}
