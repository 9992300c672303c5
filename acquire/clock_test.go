package acquire_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
)

// TestClockReleasesWaitersInOrder has many streams wait on one clock at
// interleaved deadlines; each is released at or after its deadline, close
// to it, and a cancelled wait returns its context's error.
func TestClockReleasesWaitersInOrder(t *testing.T) {
	c := acquire.NewClock()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)
	start := time.Now()
	var wg sync.WaitGroup
	late := make([]time.Duration, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := c.NewWaiter()
			for k := range 5 {
				due := start.Add(time.Duration(10*(k+1))*time.Millisecond + time.Duration(i)*300*time.Microsecond)
				require.NoError(t, c.WaitUntil(ctx, w, due))
				late[i] = max(late[i], time.Since(due))
				assert.False(t, time.Now().Before(due))
			}
		}()
	}
	wg.Wait()
	for i, l := range late {
		assert.Less(t, l, 200*time.Millisecond, "stream %d released %v late", i, l)
	}
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer wcancel()
	assert.ErrorIs(t, c.WaitUntil(wctx, c.NewWaiter(), time.Now().Add(time.Hour)), context.DeadlineExceeded)
}
