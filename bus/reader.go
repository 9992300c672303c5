package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/nats-io/nats.go/jetstream"
)

// Reader reads the messages one subject of a recorded session holds, in
// stream order, from a stream sequence on. It ends (io.EOF) after the last
// message that was there when it was opened, so a reader of a session still
// being recorded sees a consistent prefix of it. Replay, the recorded
// intents and a takeover's catch-up all read a session through it.
type Reader struct {
	stream  string
	subject string
	iter    jetstream.MessagesContext
	total   uint64
	read    uint64
}

// ReadSubject opens a reader of subject in stream s, from stream sequence
// start on (0 or 1: from the first message).
func ReadSubject(ctx context.Context, s jetstream.Stream, subject string, start uint64) (*Reader, error) {
	name := s.CachedInfo().Config.Name
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}}
	if start > 1 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, start
	}
	cons, err := s.OrderedConsumer(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("read %s from stream %s: %w", subject, name, err)
	}
	iter, err := cons.Messages(jetstream.PullMaxMessages(4096))
	if err != nil {
		return nil, fmt.Errorf("read %s from stream %s: %w", subject, name, err)
	}
	ci, err := cons.Info(ctx)
	if err != nil {
		iter.Stop()
		return nil, fmt.Errorf("read %s from stream %s: %w", subject, name, err)
	}
	return &Reader{stream: name, subject: subject, iter: iter, total: ci.Delivered.Consumer + ci.NumPending}, nil
}

// Len is the number of messages the reader delivers in all.
func (r *Reader) Len() uint64 { return r.total }

// Next returns the next message, or io.EOF after the last one.
func (r *Reader) Next(ctx context.Context) (jetstream.Msg, error) {
	if r.read >= r.total {
		return nil, io.EOF
	}
	m, err := r.iter.Next(jetstream.NextContext(ctx))
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		return nil, fmt.Errorf("stream %s: read %s message %d of %d: %w", r.stream, r.subject, r.read+1, r.total, err)
	}
	r.read++
	return m, nil
}

// Where names a message of the reader's stream in errors: the stream and
// the message's sequence.
func (r *Reader) Where(m jetstream.Msg) string {
	if meta, err := m.Metadata(); err == nil {
		return fmt.Sprintf("stream %s message %d", r.stream, meta.Sequence.Stream)
	}
	return "stream " + r.stream
}

// Close releases the consumer.
func (r *Reader) Close() { r.iter.Stop() }

// ReadJSON reads every message one subject of a recorded session holds, in
// order, each a JSON value of T; what names the values in errors
// ("intents", "cursor states").
func ReadJSON[T any](ctx context.Context, js jetstream.JetStream, session, subject, what string) ([]T, error) {
	stream, _, err := OpenSession(ctx, js, session)
	if err != nil {
		return nil, err
	}
	r, err := ReadSubject(ctx, stream, subject, 0)
	if err != nil {
		return nil, fmt.Errorf("recorded %s of %s: %w", what, session, err)
	}
	defer r.Close()
	out := make([]T, 0, r.Len())
	for {
		m, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("recorded %s of %s: %w", what, session, err)
		}
		var v T
		if err := json.Unmarshal(m.Data(), &v); err != nil {
			return out, fmt.Errorf("recorded %s of %s: %s is not one of them: %w", what, session, r.Where(m), err)
		}
		out = append(out, v)
	}
}
