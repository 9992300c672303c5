package handoff

import (
	"context"
	"sync/atomic"
)

// ring is the single-producer, single-consumer hand-over between the
// decoding loop and a goroutine that talks to the network. The producer
// reserves a preallocated slot, fills it and commits; it never blocks unless
// the ring is lossless, and never allocates. The consumer drains committed
// slots in order.
type ring[T any] struct {
	slots []T
	// head is written only by the consumer, tail only by the producer.
	head, tail atomic.Uint64
	wake       chan struct{} // producer -> consumer: slots committed
	space      chan struct{} // consumer -> producer: slots freed
	stopped    chan struct{} // closed when the consumer stops for good
	lossless   bool
}

func newRing[T any](n int, lossless bool) *ring[T] {
	return &ring[T]{
		slots:    make([]T, n),
		wake:     make(chan struct{}, 1),
		space:    make(chan struct{}, 1),
		stopped:  make(chan struct{}),
		lossless: lossless,
	}
}

// reserve returns the next free slot, or nil when the ring is full (a lossy
// ring) or the consumer has stopped. A lossless ring waits for room.
func (r *ring[T]) reserve() *T {
	select {
	case <-r.stopped:
		return nil // nothing would ever take it
	default:
	}
	t := r.tail.Load()
	for t-r.head.Load() >= uint64(len(r.slots)) {
		if !r.lossless {
			return nil
		}
		select {
		case <-r.space:
		case <-r.stopped:
			return nil
		}
	}
	return &r.slots[t%uint64(len(r.slots))]
}

// commit publishes the slot returned by the last reserve.
func (r *ring[T]) commit() {
	r.tail.Add(1)
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// drain hands every committed slot to f, in order, and frees it; it stops
// early when ctx ends (a hard stop leaves the rest).
func (r *ring[T]) drain(ctx context.Context, f func(*T)) {
	for h := r.head.Load(); h < r.tail.Load() && ctx.Err() == nil; h++ {
		f(&r.slots[h%uint64(len(r.slots))])
		r.head.Store(h + 1)
		select {
		case r.space <- struct{}{}:
		default:
		}
	}
}

// pending is the number of committed slots not yet drained.
func (r *ring[T]) pending() uint64 { return r.tail.Load() - r.head.Load() }

// stop marks the consumer as gone: producers stop waiting.
func (r *ring[T]) stop() { close(r.stopped) }
