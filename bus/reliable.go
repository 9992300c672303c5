package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// storer stores messages in JetStream asynchronously and does not give up
// on them lightly: a message whose acknowledgement fails or times out (a
// node of a cluster died, the stream is electing a leader) is sent again,
// with its message id so the stream keeps it once, until it is stored or
// giveUp has passed since it was first sent. Only then is it a gap. It is
// used by one goroutine.
type storer struct {
	js       jetstream.JetStream
	window   int
	giveUp   time.Duration
	resend   time.Duration // after which an unresolved attempt is sent again
	inflight []sent
	retry    []sent
	stored   func()
	gap      func(what string, err error)
}

// sent is a message and its latest attempt.
type sent struct {
	msg       *nats.Msg
	fut       jetstream.PubAckFuture
	first, at time.Time
	tries     int
	lastErr   error // why the latest attempt failed, for the report
}

// send stores m (which must carry a message id); it never blocks for long.
func (s *storer) send(m *nats.Msg) {
	s.poll()
	s.attempt(sent{msg: m, first: time.Now()})
}

func (s *storer) attempt(x sent) {
	if len(s.inflight) >= s.window {
		s.retry = append(s.retry, x) // the window is full: later
		return
	}
	fut, err := s.js.PublishMsgAsync(x.msg)
	if err != nil {
		s.failed(x, err)
		return
	}
	x.fut, x.at = fut, time.Now()
	x.tries++
	s.inflight = append(s.inflight, x)
}

// failed sends x again later, or gives it up as a gap once giveUp passed.
func (s *storer) failed(x sent, err error) {
	x.lastErr = err
	if time.Since(x.first) > s.giveUp {
		s.gap("not stored in time", err)
		return
	}
	s.retry = append(s.retry, x)
}

// poll collects the acknowledgements that came, and sends again what
// failed or waits for room.
func (s *storer) poll() {
	keep := s.inflight[:0]
	for _, x := range s.inflight {
		select {
		case <-x.fut.Ok():
			s.stored()
		case err := <-x.fut.Err():
			s.failed(x, err)
		default:
			if time.Since(x.at) > s.resend {
				// A future that never resolves (a publish retried inside
				// the client across a leader election can be lost) must
				// not hold the message forever.
				s.failed(x, errors.New("no acknowledgement"))
				continue
			}
			keep = append(keep, x)
		}
	}
	clear(s.inflight[len(keep):])
	s.inflight = keep
	retry := s.retry
	s.retry = nil
	for _, x := range retry {
		s.attempt(x)
	}
}

// pending is the number of messages not yet stored or given up.
func (s *storer) pending() int { return len(s.inflight) + len(s.retry) }

// drain waits until every message is stored or given up, or ctx ends; what
// is left then is counted as gaps.
func (s *storer) drain(ctx context.Context) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for s.pending() > 0 {
		select {
		case <-ctx.Done():
			n, why := s.pending(), s.oldest()
			for range n {
				s.gap("not acknowledged before the recorder closed", ctx.Err())
			}
			s.inflight, s.retry = nil, nil
			return fmt.Errorf("%d messages still unacknowledged when the recorder closed (%s), counted as gaps: %w", n, why, ctx.Err())
		case <-t.C:
			s.poll()
		}
	}
	return nil
}

// oldest describes the oldest message still pending: how long ago it was
// first sent, how often, and why its latest attempt failed.
func (s *storer) oldest() string {
	var o *sent
	for _, l := range [][]sent{s.inflight, s.retry} {
		for i := range l {
			if o == nil || l[i].first.Before(o.first) {
				o = &l[i]
			}
		}
	}
	if o == nil {
		return "none pending"
	}
	why := "no answer yet"
	if o.lastErr != nil {
		why = o.lastErr.Error()
	}
	return fmt.Sprintf("oldest first sent %v ago, %d attempts, last: %s", time.Since(o.first).Round(time.Millisecond), o.tries, why)
}
