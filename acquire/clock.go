package acquire

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// Clock releases many paced streams from one goroutine. A process that
// runs many sessions would otherwise have every session's pacer spin for
// the last stretch before each of its bins; the Clock waits precisely for
// the earliest deadline only and wakes the streams that are due, each of
// which then decodes on its own goroutine. Run must be running for
// WaitUntil to return; its caller owns it.
type Clock struct {
	mu      sync.Mutex
	waiters deadlines
	wake    chan struct{} // an earlier deadline was registered
}

// NewClock returns a clock; start it with Run.
func NewClock() *Clock { return &Clock{wake: make(chan struct{}, 1)} }

// ClockWaiter is one stream's registration with a Clock; reuse it for
// every wait of that stream so waiting does not allocate.
type ClockWaiter struct {
	at    time.Time
	ready chan struct{}
	index int
}

// NewWaiter returns a waiter for one stream.
func (c *Clock) NewWaiter() *ClockWaiter {
	return &ClockWaiter{ready: make(chan struct{}, 1), index: -1}
}

// WaitUntil returns once the clock has passed t, or ctx's error.
func (c *Clock) WaitUntil(ctx context.Context, w *ClockWaiter, t time.Time) error {
	if !time.Now().Before(t) {
		return nil
	}
	w.at = t
	c.mu.Lock()
	heap.Push(&c.waiters, w)
	first := c.waiters[0] == w
	c.mu.Unlock()
	if first {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		if w.index >= 0 {
			heap.Remove(&c.waiters, w.index)
		}
		c.mu.Unlock()
		select { // a release that raced with the cancellation
		case <-w.ready:
		default:
		}
		return ctx.Err()
	}
}

// Run releases waiters at their deadlines until ctx is done.
func (c *Clock) Run(ctx context.Context) {
	var fine Pacer
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		c.mu.Lock()
		var next time.Time
		if len(c.waiters) > 0 {
			next = c.waiters[0].at
		}
		c.mu.Unlock()
		if next.IsZero() {
			select {
			case <-ctx.Done():
				return
			case <-c.wake:
			}
			continue
		}
		if d := time.Until(next); d > fineWindow {
			// Sleep coarsely, but let an earlier deadline cut in.
			timer.Reset(d - fineWindow)
			select {
			case <-ctx.Done():
				return
			case <-c.wake:
				if !timer.Stop() {
					<-timer.C
				}
				continue
			case <-timer.C:
			}
		}
		if err := fine.WaitUntil(ctx, next); err != nil {
			return
		}
		now := time.Now()
		c.mu.Lock()
		for len(c.waiters) > 0 && !c.waiters[0].at.After(now) {
			w := heap.Pop(&c.waiters).(*ClockWaiter)
			w.ready <- struct{}{}
		}
		c.mu.Unlock()
	}
}

// deadlines is a min-heap of waiters by deadline.
type deadlines []*ClockWaiter

func (d deadlines) Len() int           { return len(d) }
func (d deadlines) Less(i, j int) bool { return d[i].at.Before(d[j].at) }
func (d deadlines) Swap(i, j int) {
	d[i], d[j] = d[j], d[i]
	d[i].index, d[j].index = i, j
}
func (d *deadlines) Push(x any) {
	w := x.(*ClockWaiter)
	w.index = len(*d)
	*d = append(*d, w)
}
func (d *deadlines) Pop() any {
	old := *d
	w := old[len(old)-1]
	old[len(old)-1] = nil
	w.index = -1
	*d = old[:len(old)-1]
	return w
}
