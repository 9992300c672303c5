package session_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/encoder"
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

func (s *stallingSource) ReadBin(ctx context.Context, b *encoder.Bin) error {
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
		Session: "wd", Conn: nc, Source: src, Channels: 96, BinWidth: 5e6, Model: m,
		Watchdog: session.WatchdogOptions{StaleAfter: 50 * time.Millisecond, HaltAfter: 200 * time.Millisecond, Period: 20 * time.Millisecond},
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
