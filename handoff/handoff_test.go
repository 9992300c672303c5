package handoff_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/handoff"
)

func TestQueueDeliversInOrderAndFinishes(t *testing.T) {
	var got []int
	finished := false
	q := handoff.New(8, true, handoff.Consumer[int]{
		Handle: func(v *int) { got = append(got, *v) },
		Finish: func() { finished = true },
	})
	require.NoError(t, q.Start(context.Background()))
	for i := range 100 { // lossless: the producer waits for room
		*q.Reserve() = i
		q.Commit()
	}
	require.NoError(t, q.Close(context.Background()))
	require.Len(t, got, 100)
	for i, v := range got {
		assert.Equal(t, i, v)
	}
	assert.True(t, finished)
}

func TestQueueLossyDropsWhenFull(t *testing.T) {
	block := make(chan struct{})
	var handled atomic.Int64
	q := handoff.New(4, false, handoff.Consumer[int]{Handle: func(*int) { <-block; handled.Add(1) }})
	require.NoError(t, q.Start(context.Background()))
	dropped := 0
	for range 20 {
		s := q.Reserve()
		if s == nil {
			dropped++
			continue
		}
		q.Commit()
	}
	assert.GreaterOrEqual(t, dropped, 20-5, "at most the buffer and the item in hand get through")
	close(block)
	require.NoError(t, q.Close(context.Background()))
	assert.Equal(t, int64(20-dropped), handled.Load())
}

func TestQueueHardStopAbandons(t *testing.T) {
	block := make(chan struct{})
	var abandoned atomic.Uint64
	q := handoff.New(8, false, handoff.Consumer[int]{
		Handle:  func(*int) { <-block },
		Abandon: func(n uint64) { abandoned.Store(n) },
	})
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, q.Start(ctx))
	for range 5 {
		q.Reserve()
		q.Commit()
	}
	// The goroutine is stuck in the first item: a graceful close times
	// out, the hard stop abandons what is left.
	cctx, ccancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer ccancel()
	assert.Error(t, q.Close(cctx))
	cancel()
	time.Sleep(10 * time.Millisecond)
	close(block)
	require.Eventually(t, func() bool { return abandoned.Load() == 4 }, 2*time.Second, 5*time.Millisecond)
	assert.Nil(t, q.Reserve(), "a stopped queue takes nothing more")
}

func TestQueueTicks(t *testing.T) {
	var ticks atomic.Int64
	q := handoff.New(1, false, handoff.Consumer[int]{Handle: func(*int) {}, Tick: func() { ticks.Add(1) }, Period: 5 * time.Millisecond})
	require.NoError(t, q.Start(context.Background()))
	require.Eventually(t, func() bool { return ticks.Load() >= 3 }, 2*time.Second, time.Millisecond)
	require.NoError(t, q.Close(context.Background()))
}

func TestReserveCommitDoNotAllocate(t *testing.T) {
	q := handoff.New(64, false, handoff.Consumer[[4]float32]{Handle: func(*[4]float32) {}})
	require.NoError(t, q.Start(context.Background()))
	defer func() { require.NoError(t, q.Close(context.Background())) }()
	allocs := testing.AllocsPerRun(1000, func() {
		if s := q.Reserve(); s != nil {
			s[0] = 1
			q.Commit()
		}
	})
	assert.Zero(t, allocs)
	assert.ErrorIs(t, handoff.New(1, false, handoff.Consumer[int]{}).Close(context.Background()), handoff.ErrNotStarted)
}
