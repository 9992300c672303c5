// Package handoff carries items from the decoding loop to the goroutine of
// an output (a publisher, a recorder, an outlet) without making the loop
// wait or allocate. Every output that talks to the network or a disk is
// built the same way: the loop reserves a preallocated slot, fills it and
// commits; the queue's own goroutine hands committed slots to the output in
// order. Decoding always wins: a full queue is a counted loss, unless the
// queue is lossless (runs that go as fast as possible), which waits.
package handoff

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Consumer is what a queue's goroutine does with the items.
type Consumer[T any] struct {
	// Handle receives each committed item in order. It runs on the queue's
	// goroutine; the item is reused once it returns.
	Handle func(*T)
	// Tick, when Period is positive, runs every Period on the same
	// goroutine (periodic status, say).
	Tick   func()
	Period time.Duration
	// Finish, when set, runs once after the last item when the queue is
	// closed gracefully.
	Finish func()
	// Abandon, when set, runs once instead of Finish when the queue stops
	// because its context ended (a hard stop), with the number of items
	// still queued: the output counts them as lost.
	Abandon func(n uint64)
}

// Queue is a single-producer, single-consumer queue with an owned consumer
// goroutine. The producer is the decoding loop: Reserve and Commit never
// allocate, and never block unless the queue is lossless.
type Queue[T any] struct {
	r       *ring[T]
	c       Consumer[T]
	started bool
	closing chan struct{}
	done    chan struct{}
}

// New returns a queue of size preallocated items.
func New[T any](size int, lossless bool, c Consumer[T]) *Queue[T] {
	return &Queue[T]{r: newRing[T](size, lossless), c: c, closing: make(chan struct{}), done: make(chan struct{})}
}

// Slots exposes the preallocated items, so an output can size their
// buffers once before the queue starts.
func (q *Queue[T]) Slots() []T { return q.r.slots }

// Reserve returns the next free item for the producer to fill, or nil when
// the queue is full (lossy) or its goroutine has stopped. A lossless queue
// waits for room.
func (q *Queue[T]) Reserve() *T { return q.r.reserve() }

// Commit hands the item returned by the last Reserve to the goroutine.
func (q *Queue[T]) Commit() { q.r.commit() }

// Pending is the number of committed items not yet handled.
func (q *Queue[T]) Pending() uint64 { return q.r.pending() }

// Start runs the consumer goroutine until Close, or until ctx ends (a hard
// stop: what is still queued is abandoned). Start is called once.
func (q *Queue[T]) Start(ctx context.Context) error {
	q.started = true
	go q.run(ctx)
	return nil
}

// ErrNotStarted is returned by Close on a queue that never started.
var ErrNotStarted = errors.New("handoff: queue closed before it started")

// Close asks the goroutine to handle what is queued, run Finish and stop,
// and waits for it; it gives up when ctx ends first. Close may be called
// more than once.
func (q *Queue[T]) Close(ctx context.Context) error {
	if !q.started {
		return ErrNotStarted
	}
	select {
	case <-q.closing:
	default:
		close(q.closing)
	}
	select {
	case <-q.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("handoff: close: %d items still queued: %w", q.r.pending(), ctx.Err())
	}
}

func (q *Queue[T]) run(ctx context.Context) {
	defer close(q.done)
	defer q.r.stop()
	var tick <-chan time.Time
	if q.c.Period > 0 && q.c.Tick != nil {
		t := time.NewTicker(q.c.Period)
		defer t.Stop()
		tick = t.C
	}
	for {
		q.r.drain(ctx, q.c.Handle)
		select {
		case <-q.r.wake:
		case <-tick:
			q.c.Tick()
		case <-q.closing:
			q.r.drain(ctx, q.c.Handle)
			if ctx.Err() != nil {
				q.abandon()
			} else if q.c.Finish != nil {
				q.c.Finish()
			}
			return
		case <-ctx.Done():
			q.abandon()
			return
		}
	}
}

// abandon reports what a hard stop leaves behind.
func (q *Queue[T]) abandon() {
	if q.c.Abandon != nil {
		q.c.Abandon(q.r.pending())
	}
}
