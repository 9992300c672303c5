package lsl

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// Kinds of the session events this package publishes, in their "kind"
// field: the events subject carries both.
const (
	KindMarker = "lsl-marker"
	KindClock  = "lsl-clock"
)

// eventPublisher publishes session events through JetStream, so that a
// recording session's stream acknowledges each, and counts what became of
// them. An event no stream acknowledges (the session is not recording)
// still reached live subscribers and is counted as not recorded.
type eventPublisher struct {
	js      jetstream.JetStream
	subject string
	what    string // names the publisher in logs
	log     zerolog.Logger

	published, recorded, unrecorded, errs atomic.Uint64
}

// publish sends v as JSON with the message ID id, which makes a resend
// after a reconnect a duplicate the stream drops.
func (p *eventPublisher) publish(ctx context.Context, v any, id string) {
	p.published.Add(1)
	b, err := json.Marshal(v)
	if err != nil {
		p.errs.Add(1)
		return
	}
	msg := nats.NewMsg(p.subject)
	msg.Data = b
	msg.Header.Set(nats.MsgIdHdr, id)
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err = p.js.PublishMsg(pctx, msg)
	switch {
	case err == nil:
		p.recorded.Add(1)
	case errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse):
		p.unrecorded.Add(1)
	default:
		if n := p.errs.Add(1); n&(n-1) == 0 {
			p.log.Warn().Err(err).Uint64("errors", n).Msgf("%s: event not published", p.what)
		}
	}
}

// EventCounts count a publisher's events.
type EventCounts struct {
	Published   uint64 `json:"published"`
	Recorded    uint64 `json:"recorded"`
	NotRecorded uint64 `json:"not_recorded"`
	Errors      uint64 `json:"errors"`
}

func (p *eventPublisher) counts() EventCounts {
	return EventCounts{Published: p.published.Load(), Recorded: p.recorded.Load(), NotRecorded: p.unrecorded.Load(), Errors: p.errs.Load()}
}
