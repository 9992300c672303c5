package session_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/pipeline"
	"github.com/bci-decode/bci-decode/session"
)

// stallingSource goes quiet for a while after a number of bins, as an
// amplifier that drops out would.
type stallingSource struct {
	src   pipeline.BinReader
	after uint64
	quiet time.Duration
	done  bool
}

func (s *stallingSource) Shape() acquire.Shape { return s.src.Shape() }

func (s *stallingSource) ReadBin(ctx context.Context, b *acquire.Bin) error {
	if err := s.src.ReadBin(ctx, b); err != nil {
		return err
	}
	if b.Seq == s.after && !s.done {
		s.done = true
		select {
		case <-time.After(s.quiet):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func TestWatchdogStaleThenHaltedThenRecovers(t *testing.T) {
	nc, _ := startServer(t)
	m := model(t, "kalman", 1, 5e6)
	sub, err := nc.SubscribeSync(bus.IntentSubject("wd"))
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	src := &stallingSource{src: simSource(t, 2, 80, true), after: 40, quiet: 500 * time.Millisecond}
	res, err := session.Run(context.Background(), session.Options{
		Session: "wd", Conn: nc, Source: src, Model: m, Realtime: true,
		Watchdog: bus.WatchdogOptions{StaleAfter: 50 * time.Millisecond, HaltAfter: 200 * time.Millisecond, Period: 20 * time.Millisecond},
	})
	require.NoError(t, err)
	assert.Positive(t, res.Watchdog.Stale)
	assert.Positive(t, res.Watchdog.Halted)

	// Bin 40 is held back by the stall, so the sequence is:
	// ok (0-39) ... stale ... halted ... ok (40-79).
	var phases []decoder.Status
	okCount := 0
	for {
		msg, err := sub.NextMsg(time.Second)
		if err != nil {
			break
		}
		var in decoder.Intent
		require.NoError(t, json.Unmarshal(msg.Data, &in))
		if in.Status == decoder.StatusOK {
			okCount++
		} else {
			assert.Equal(t, []float32{0, 0}, in.Values, "a %s intent carries zero velocity", in.Status)
			assert.Equal(t, uint64(39), in.Seq, "it repeats the last decoded seq")
		}
		if len(phases) == 0 || phases[len(phases)-1] != in.Status {
			phases = append(phases, in.Status)
		}
	}
	assert.Equal(t, []decoder.Status{decoder.StatusOK, decoder.StatusStale, decoder.StatusHalted, decoder.StatusOK}, phases)
	assert.Equal(t, 80, okCount)
}

// TestWatchdogHoldsPositionWhenIntegrating checks the watchdog in position
// mode: its stale and halted intents say "position" and hold the last
// position published, since zero there would mean "go to the origin".
func TestWatchdogHoldsPositionWhenIntegrating(t *testing.T) {
	nc, _ := startServer(t)
	m := model(t, "kalman", 1, 5*time.Millisecond)
	sub, err := nc.SubscribeSync(bus.IntentSubject("wdpos"))
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	src := &stallingSource{src: simSource(t, 2, 80, true), after: 40, quiet: 400 * time.Millisecond}
	_, err = session.Run(context.Background(), session.Options{
		Session: "wdpos", Conn: nc, Source: src, Model: m, Realtime: true, Process: "p1",
		Output:   decoder.OutputOptions{Integrate: true},
		Watchdog: bus.WatchdogOptions{StaleAfter: 50 * time.Millisecond, HaltAfter: 200 * time.Millisecond, Period: 20 * time.Millisecond},
	})
	require.NoError(t, err)
	var last []float32
	held := map[decoder.Status]int{}
	for {
		msg, err := sub.NextMsg(time.Second)
		if err != nil {
			break
		}
		var in decoder.Intent
		require.NoError(t, json.Unmarshal(msg.Data, &in))
		assert.Equal(t, decoder.KindPosition, in.Kind)
		assert.Equal(t, "p1", in.Process, "watchdog intents are stamped like the session's")
		if in.Status == decoder.StatusOK {
			last = in.Values
			continue
		}
		held[in.Status]++
		require.NotNil(t, last)
		assert.Equal(t, last, in.Values, "a %s intent holds the last position", in.Status)
		assert.NotEqual(t, []float32{0, 0}, in.Values)
	}
	assert.Positive(t, held[decoder.StatusStale])
	assert.Positive(t, held[decoder.StatusHalted])
}
