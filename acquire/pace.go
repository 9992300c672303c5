package acquire

import (
	"context"
	"time"
)

// Runtime timers on the VMs we run on overshoot by 90-500 µs at the median
// and up to milliseconds at p99, and spinning with runtime.Gosched starves
// the network poller (NATS deliveries then wait milliseconds). So a Pacer
// sleeps on a runtime timer until fineWindow before the deadline, then in a
// blocking nanosleep (where the platform has one; ~35 µs late at the
// median) until spinWindow before it, and spins without yielding for the
// last stretch. Only the decoding goroutine's thread is held, for a few
// hundred microseconds per bin (1.5% of a core at 20 ms bins).
const (
	fineWindow = 2 * time.Millisecond
	spinWindow = 300 * time.Microsecond
)

// Pacer waits for wall-clock deadlines against the monotonic clock. It
// reuses one timer, so waiting does not allocate. A Pacer is not safe for
// concurrent use.
type Pacer struct {
	timer *time.Timer
}

// WaitUntil returns once time.Now() is at or past t, or ctx's error if ctx is
// done first.
func (p *Pacer) WaitUntil(ctx context.Context, t time.Time) error {
	for {
		d := time.Until(t)
		if d <= 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d <= spinWindow {
			continue // spin: the deadline is microseconds away
		}
		if d <= fineWindow {
			sleepFine(d - spinWindow)
			continue
		}
		if p.timer == nil {
			p.timer = time.NewTimer(d - fineWindow)
		} else {
			p.timer.Reset(d - fineWindow)
		}
		select {
		case <-ctx.Done():
			p.timer.Stop()
			return ctx.Err()
		case <-p.timer.C:
		}
	}
}

// Paced hands out src's bins no earlier than real time: bin i is released
// when as much wall time has passed since the first read as recording time
// separates bin i's end from bin 0's start. With rebase set, bin times are
// rewritten to wall-clock Unix nanoseconds, as a live array would stamp
// them; otherwise they keep the source's times (a replay at recorded pace
// then gives the same intents as a fast one).
func Paced(src BinSource, rebase bool) BinSource {
	return &paced{src: src, rebase: rebase}
}

type paced struct {
	src    BinSource
	rebase bool
	pacer  Pacer
	epoch  time.Time
	first  int64 // source Start of the first bin
}

func (p *paced) Shape() Shape { return p.src.Shape() }

func (p *paced) ReadBin(ctx context.Context, b *Bin) error {
	if err := p.src.ReadBin(ctx, b); err != nil {
		return err
	}
	if p.epoch.IsZero() {
		p.epoch, p.first = time.Now(), b.Start
	}
	due := p.epoch.Add(time.Duration(b.End - p.first))
	if p.rebase {
		off := p.epoch.UnixNano() - p.first
		b.Start += off
		b.End += off
	}
	return p.pacer.WaitUntil(ctx, due)
}

// PacedWallClock hands out src's bins no earlier than their End, read as
// Unix nanoseconds: a stream whose bin times are wall-clock times (a
// session resumed by another process keeps its original schedule). Bins
// whose time has passed come at once, so a late reader catches up. The
// streams of one process share clock, which must be running.
func PacedWallClock(src BinSource, clock *Clock) BinSource {
	return &wallPaced{src: src, clock: clock, w: clock.NewWaiter()}
}

type wallPaced struct {
	src   BinSource
	clock *Clock
	w     *ClockWaiter
}

func (p *wallPaced) Shape() Shape { return p.src.Shape() }

func (p *wallPaced) ReadBin(ctx context.Context, b *Bin) error {
	if err := p.src.ReadBin(ctx, b); err != nil {
		return err
	}
	return p.clock.WaitUntil(ctx, p.w, time.Unix(0, b.End))
}
