package lsl

import (
	"sync"
)

// sendBuffer holds the most recent samples of an outlet in a preallocated
// ring that every consumer (TCP feed) reads with its own cursor. Pushing
// never waits for a consumer: a consumer that falls further behind than its
// limit skips the oldest samples (and counts them), so one slow inlet
// neither stalls the pusher nor delays the other inlets, and steady-state
// pushes allocate nothing.
type sendBuffer struct {
	mu          sync.Mutex
	format      Format
	nch         int
	sampleBytes int
	capacity    uint64
	data        []byte    // numeric values, little-endian, capacity*sampleBytes
	strs        []string  // string values, capacity*nch
	stamps      []float64 // capacity
	head        uint64    // number of samples ever pushed
	closed      bool
	consumers   []*consumer
	droppedGone uint64 // dropped by consumers that have left
	// consumerAdded is closed and replaced whenever a consumer arrives.
	consumerAdded chan struct{}
}

// consumer is one feed's view of the send buffer.
type consumer struct {
	wake    chan struct{} // capacity 1: "there may be new samples"
	cursor  uint64        // next sample to send
	limit   uint64        // how many samples it may lag before dropping
	dropped uint64        // samples skipped because it lagged (under mu)
}

func newSendBuffer(f Format, nch int, capacity int) *sendBuffer {
	b := &sendBuffer{format: f, nch: nch, sampleBytes: f.Size() * nch, capacity: uint64(capacity), stamps: make([]float64, capacity), consumerAdded: make(chan struct{})}
	if f == String {
		b.strs = make([]string, capacity*nch)
	} else {
		b.data = make([]byte, capacity*b.sampleBytes)
	}
	return b
}

// slot returns the ring index of sample seq.
func (b *sendBuffer) slot(seq uint64) int { return int(seq % b.capacity) }

// notifyLocked wakes every consumer without blocking.
func (b *sendBuffer) notifyLocked() {
	for _, c := range b.consumers {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}

// addConsumer registers a feed that starts at the newest sample.
func (b *sendBuffer) addConsumer(limit int) *consumer {
	c := &consumer{wake: make(chan struct{}, 1), limit: min(uint64(max(limit, 1)), b.capacity)}
	b.mu.Lock()
	c.cursor = b.head
	b.consumers = append(b.consumers, c)
	close(b.consumerAdded)
	b.consumerAdded = make(chan struct{})
	b.mu.Unlock()
	return c
}

func (b *sendBuffer) removeConsumer(c *consumer) {
	b.mu.Lock()
	for i, x := range b.consumers {
		if x == c {
			b.droppedGone += c.dropped
			b.consumers = append(b.consumers[:i], b.consumers[i+1:]...)
			break
		}
	}
	b.mu.Unlock()
}

// fill appends up to maxBytes worth of encoded samples for consumer c to
// dst. lastStamp is the previous stamp sent on this feed (NaN before the
// first), used to send the "deduced" tag when a stamp is exactly the
// previous one plus 1/rate, which the receiver then reconstructs exactly.
// It returns the new buffer, the new lastStamp, whether the buffer was
// closed and everything was sent (done).
func (b *sendBuffer) fill(c *consumer, dst []byte, maxBytes int, lastStamp, rate float64) ([]byte, float64, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if lag := b.head - c.cursor; lag > c.limit {
		c.dropped += lag - c.limit
		c.cursor = b.head - c.limit
	}
	step := 0.0
	if rate != 0 {
		step = 1.0 / rate
	}
	for c.cursor < b.head && len(dst) < maxBytes {
		i := b.slot(c.cursor)
		stamp := b.stamps[i]
		dst = appendStamp(dst, stamp == lastStamp+step, stamp)
		lastStamp = stamp
		if b.format == String {
			dst = appendStrings(dst, b.strs[i*b.nch:(i+1)*b.nch])
		} else {
			dst = append(dst, b.data[i*b.sampleBytes:(i+1)*b.sampleBytes]...)
		}
		c.cursor++
	}
	return dst, lastStamp, b.closed && c.cursor == b.head
}

func (b *sendBuffer) close() {
	b.mu.Lock()
	b.closed = true
	b.notifyLocked()
	b.mu.Unlock()
}

// stats returns the number of consumers and the samples dropped for
// consumers that lagged, current ones included.
func (b *sendBuffer) stats() (consumers int, pushed uint64, dropped uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	dropped = b.droppedGone
	for _, c := range b.consumers {
		dropped += c.dropped
	}
	return len(b.consumers), b.head, dropped
}
